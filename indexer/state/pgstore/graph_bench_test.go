package pgstore

import (
	"context"
	"testing"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore/pgtest"
	"github.com/jiralinkd/jiralinkd/indexer/state/statetest"
)

// BenchmarkGraphStrategies compares, on a 200,000-commit history, the two
// ways of answering the commit-graph questions: a recursive query in the
// database (CTE) and loading the repo's stored parents in one query to
// walk them in memory (Mem), and IsAncestor's mix of both (Hybrid: the CTE
// for up to cteWalkLimit commits, then Mem). IsAncestor uses Hybrid,
// Unreachable Mem.
func BenchmarkGraphStrategies(b *testing.B) {
	s := openDSN(b, pgtest.Start(b))
	ctx := context.Background()
	k := state.RepoKey{Provider: "github", ID: 7}
	n := statetest.BenchCommits
	side := state.NewCommit(statetest.BenchSHA(n), []string{statetest.BenchSHA(0)})
	if err := s.AdvanceBranch(state.RepoState{Key: k}, "main", append(statetest.BenchHistory(n), side)); err != nil {
		b.Fatal(err)
	}
	head := statetest.BenchSHA(n - 1)
	near, far := statetest.BenchSHA(n-2), side.SHA()
	for _, tc := range []struct {
		name string
		fn   func(ctx context.Context, q querier, k state.RepoKey, ancestor string, from []string) (bool, error)
	}{{"CTE", isAncestorCTE}, {"Mem", isAncestorMem}, {"Hybrid", isAncestorHybrid}} {
		b.Run("IsAncestor-near-"+tc.name, func(b *testing.B) {
			for b.Loop() {
				if ok, err := tc.fn(ctx, s.pool, k, near, []string{head}); err != nil || !ok {
					b.Fatal(ok, err)
				}
			}
		})
		b.Run("IsAncestor-full-history-"+tc.name, func(b *testing.B) {
			for b.Loop() {
				if ok, err := tc.fn(ctx, s.pool, k, far, []string{head}); err != nil || ok {
					b.Fatal(ok, err)
				}
			}
		})
	}
	for _, tc := range []struct {
		name string
		fn   func(ctx context.Context, q querier, k state.RepoKey, heads []string) ([]string, error)
	}{{"CTE", unreachableCTE}, {"Mem", unreachableMem}} {
		b.Run("Unreachable-"+tc.name, func(b *testing.B) {
			for b.Loop() {
				if un, err := tc.fn(ctx, s.pool, k, []string{head}); err != nil || len(un) != 1 {
					b.Fatal(len(un), err)
				}
			}
		})
	}
	// CommitRange: the usual run or deployment 20 commits after the
	// previous one (the first-parent query), and a range that needs the
	// general walk (a stop commit off the line: the graph is loaded).
	b.Run("CommitRange-linear-20", func(b *testing.B) {
		for b.Loop() {
			if shas, trunc, err := s.CommitRange(k, head, []string{statetest.BenchSHA(n - 21)}, 10000); err != nil || trunc || len(shas) != 20 {
				b.Fatal(len(shas), trunc, err)
			}
		}
	})
	b.Run("CommitRange-general", func(b *testing.B) {
		for b.Loop() {
			if shas, _, err := s.CommitRange(k, head, []string{far}, 10000); err != nil || len(shas) == 0 {
				b.Fatal(len(shas), err)
			}
		}
	})
}
