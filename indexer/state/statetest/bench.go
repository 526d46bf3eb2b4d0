package statetest

import (
	"fmt"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

// BenchCommits is the size of the benchmarks' history.
const BenchCommits = 200_000

// BenchSHA is the id of the i-th commit of the benchmarks' history.
func BenchSHA(i int) string { return fmt.Sprintf("%040x", i+1) }

// BenchHistory is a linear history of n commits, oldest first.
func BenchHistory(n int) []state.Commit {
	cs := make([]state.Commit, 0, n)
	cs = append(cs, state.NewCommit(BenchSHA(0), nil))
	for i := 1; i < n; i++ {
		cs = append(cs, state.NewCommit(BenchSHA(i), []string{BenchSHA(i - 1)}))
	}
	return cs
}

// Bench runs the backends' common benchmarks: a backfill of BenchCommits
// commits in walks of 100 (AdvanceBranch), KnownCommits of a 100-commit
// page, IsAncestor and Unreachable over the whole history, and the
// latency of Enqueue. open is called once per benchmark, with b, and must
// return an empty store.
func Bench(b *testing.B, open func(b *testing.B) Backend) {
	b.Run("AdvanceBranch-200k-in-100", func(b *testing.B) {
		s := open(b)
		hist := BenchHistory(BenchCommits)
		run := 0
		for b.Loop() {
			k := state.RepoKey{Provider: "github", ID: int64(run)}
			run++
			st := state.RepoState{Key: k, Repo: providers.Repo{ID: k.ID, FullName: "acme/big"}, Branches: map[string]string{}}
			for i := 0; i < len(hist); i += 100 {
				st.Branches["main"] = BenchSHA(i + 99)
				st.Commits = i + 100
				if err := s.AdvanceBranch(st, "main", hist[i:i+100]); err != nil {
					b.Fatal(err)
				}
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(BenchCommits/100), "ns/walk")
	})

	b.Run("Graph-200k", func(b *testing.B) {
		s := open(b)
		k := state.RepoKey{Provider: "github", ID: 7}
		hist := BenchHistory(BenchCommits)
		side := state.NewCommit(BenchSHA(BenchCommits), []string{BenchSHA(0)})
		if err := s.AdvanceBranch(state.RepoState{Key: k}, "main", append(hist, side)); err != nil {
			b.Fatal(err)
		}
		head := BenchSHA(BenchCommits - 1)
		page := make([]string, 100)
		for i := range page {
			page[i] = BenchSHA(BenchCommits - 100 + i)
		}
		page[99] = BenchSHA(BenchCommits + 1000) // one unknown
		b.Run("KnownCommits-page-100", func(b *testing.B) {
			for b.Loop() {
				if known, err := s.KnownCommits(k, page); err != nil || len(known) != 99 {
					b.Fatal(len(known), err)
				}
			}
		})
		b.Run("IsAncestor-parent", func(b *testing.B) {
			for b.Loop() {
				if ok, err := s.IsAncestor(k, BenchSHA(BenchCommits-2), []string{head}); err != nil || !ok {
					b.Fatal(ok, err)
				}
			}
		})
		b.Run("IsAncestor-full-history", func(b *testing.B) {
			for b.Loop() {
				if ok, err := s.IsAncestor(k, side.SHA(), []string{head}); err != nil || ok {
					b.Fatal(ok, err)
				}
			}
		})
		b.Run("Unreachable", func(b *testing.B) {
			for b.Loop() {
				if un, err := s.Unreachable(k, []string{head}); err != nil || len(un) != 1 {
					b.Fatal(len(un), err)
				}
			}
		})
		b.Run("SmartPendingReachable-none-pending", func(b *testing.B) {
			for b.Loop() {
				if _, err := s.SmartPendingReachable(k, "main", head, nil, nil); err != nil {
					b.Fatal(err)
				}
			}
		})
		if err := s.AddSmartPending(k, []state.SmartPending{{SHA: side.SHA()}}); err != nil {
			b.Fatal(err)
		}
		b.Run("SmartPendingReachable-stale-fast-forward-100", func(b *testing.B) {
			for b.Loop() {
				if got, err := s.SmartPendingReachable(k, "main", head, []string{BenchSHA(BenchCommits - 101)}, nil); err != nil || len(got) != 0 {
					b.Fatal(got, err)
				}
			}
		})
		b.Run("SmartPendingReachable-stale-full-history", func(b *testing.B) {
			for b.Loop() {
				if got, err := s.SmartPendingReachable(k, "main", head, nil, nil); err != nil || len(got) != 0 {
					b.Fatal(got, err)
				}
			}
		})
	})

	b.Run("Enqueue", func(b *testing.B) {
		s := open(b)
		ev := providers.Event{Kind: providers.EventPush, Repo: providers.Repo{ID: 9, FullName: "a/b"}, Ref: "main", RefType: providers.RefBranch}
		t0 := time.Now()
		i := 0
		for b.Loop() {
			i++
			if _, fresh, err := s.Enqueue(state.Delivery{Provider: "github", ID: fmt.Sprintf("d-%d", i), Event: ev, ReceivedAt: t0}, time.Hour); err != nil || !fresh {
				b.Fatal(fresh, err)
			}
		}
	})
}
