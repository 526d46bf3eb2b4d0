package pgstore

import (
	"slices"
	"testing"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore/pgtest"
	"github.com/jiralinkd/jiralinkd/indexer/state/statetest"
)

// TestLongWalks covers the walks that go past cteWalkLimit commits in the
// database and finish in memory.
func TestLongWalks(t *testing.T) {
	s := openDSN(t, pgtest.Start(t))
	k := state.RepoKey{Provider: "github", ID: 1}
	n := cteWalkLimit + 500
	sha := statetest.BenchSHA
	side := state.NewCommit(sha(n), []string{sha(0)})
	merge := state.NewCommit(sha(n+1), []string{sha(n - 1), sha(n)})
	if err := s.AdvanceBranch(state.RepoState{Key: k}, "main", append(statetest.BenchHistory(n), side)); err != nil {
		t.Fatal(err)
	}
	head := sha(n - 1)
	for _, tc := range []struct {
		anc  string
		from []string
		want bool
	}{{sha(0), []string{head}, true}, {sha(1), []string{head}, true}, {side.SHA(), []string{head}, false}, {head, []string{side.SHA()}, false}} {
		if got, err := s.IsAncestor(k, tc.anc, tc.from); err != nil || got != tc.want {
			t.Errorf("IsAncestor(%s, %v) = %v, %v", tc.anc, tc.from, got, err)
		}
	}
	if un, err := s.Unreachable(k, []string{head}); err != nil || !slices.Equal(un, []string{side.SHA()}) {
		t.Errorf("Unreachable = %v, %v", un, err)
	}
	if err := s.AddSmartPending(k, []state.SmartPending{{SHA: side.SHA()}, {SHA: sha(0)}, {SHA: sha(n - 2)}}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		head   string
		stop   []string
		walked []state.Commit
		want   []string
	}{
		{"whole history", head, nil, nil, []string{sha(0), sha(n - 2)}},
		{"stopped", head, []string{sha(5)}, nil, []string{sha(n - 2)}},
		{"through a merge not stored", merge.SHA(), nil, []state.Commit{merge}, []string{side.SHA(), sha(0), sha(n - 2)}},
		{"merge stopped at its first parent", merge.SHA(), []string{head}, []state.Commit{merge}, []string{side.SHA(), sha(0)}},
	} {
		got, err := s.SmartPendingReachable(k, "main", tc.head, tc.stop, tc.walked)
		var shas []string
		for _, p := range got {
			shas = append(shas, p.SHA)
		}
		slices.Sort(shas)
		want := slices.Sorted(slices.Values(tc.want))
		if err != nil || !slices.Equal(shas, want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, shas, err, want)
		}
	}
}
