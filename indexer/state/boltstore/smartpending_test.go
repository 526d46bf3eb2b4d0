package boltstore

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

func pendingSHAs(ps []state.SmartPending) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.SHA
	}
	return out
}

func TestSmartPendingReachable(t *testing.T) {
	s, _ := open(t)
	k := state.RepoKey{Provider: "github", ID: 7}
	sha := func(c byte) string { return fmt.Sprintf("%040x", c) }
	r, a, f1, f2, stale, m := sha(1), sha(2), sha(3), sha(4), sha(5), sha(6)
	at := func(h int) time.Time { return time.Date(2024, 1, 1, h, 0, 0, 0, time.UTC) }
	// r ← a (main); r ← f1 ← f2 (feature); r ← stale; m merges f2 into a.
	st := state.RepoState{Key: k, Branches: map[string]string{"main": a, "feature": f2, "other": stale}}
	err := s.AdvanceBranch(st, "main", []state.Commit{state.NewCommit(r, nil), state.NewCommit(a, []string{r}), state.NewCommit(f1, []string{r}),
		state.NewCommit(f2, []string{f1}), state.NewCommit(stale, []string{r})})
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.SmartPendingReachable(k, "main", m, []string{a}, nil); err != nil || got != nil {
		t.Fatalf("nothing pending: %v, %v", got, err)
	}
	// Recorded newest date first, in two batches; f2 again keeps its record.
	if err := s.AddSmartPending(k, []state.SmartPending{{SHA: f2, Message: "ABC-1 #comment two", When: at(2)}, {SHA: stale, When: at(0)}}); err != nil {
		t.Fatal(err)
	}
	if err := s.AddSmartPending(k, []state.SmartPending{{SHA: f1, Message: "ABC-1 #comment one", When: at(1)}, {SHA: f2, Message: "replaced?", When: at(2)}}); err != nil {
		t.Fatal(err)
	}
	all, err := s.SmartPendingCommits(k)
	if err != nil || !slices.Equal(pendingSHAs(all), []string{stale, f1, f2}) || all[2].Message != "ABC-1 #comment two" {
		t.Fatalf("pending: %+v, %v", all, err)
	}

	merge := []state.Commit{state.NewCommit(m, []string{a, f2})}
	for _, tc := range []struct {
		name   string
		head   string
		stop   []string
		walked []state.Commit
		want   []string
	}{
		{"merge not stored yet", m, []string{a}, merge, []string{f1, f2}},
		{"merge unknown", m, []string{a}, nil, nil},
		{"fast-forward", f2, []string{a}, nil, []string{f1, f2}},
		{"from the middle", f1, nil, nil, []string{f1}},
		{"parents of stop not followed", m, []string{a, f2}, merge, []string{f2}},
		{"unrelated head", a, nil, nil, nil},
		{"all, oldest first", stale, nil, []state.Commit{state.NewCommit(stale, []string{f2})}, []string{stale, f1, f2}},
	} {
		got, err := s.SmartPendingReachable(k, "main", tc.head, tc.stop, tc.walked)
		if err != nil || !slices.Equal(pendingSHAs(got), tc.want) {
			t.Errorf("%s: got %v, %v; want %v", tc.name, pendingSHAs(got), err, tc.want)
		}
	}

	// The commits of an unfinished (checkpointed) walk of the branch count.
	if err := s.CheckpointWalk(st, "main", merge); err != nil {
		t.Fatal(err)
	}
	if got, err := s.SmartPendingReachable(k, "main", m, []string{a}, nil); err != nil || !slices.Equal(pendingSHAs(got), []string{f1, f2}) {
		t.Errorf("checkpointed merge: %v, %v", pendingSHAs(got), err)
	}
	if got, _ := s.SmartPendingReachable(k, "other", m, []string{a}, nil); len(got) != 0 {
		t.Errorf("another branch's unfinished walk counted: %v", pendingSHAs(got))
	}

	if err := s.DropSmartPending(k, []string{f1}); err != nil {
		t.Fatal(err)
	}
	if err := s.ForgetCommits(k, []string{stale}); err != nil {
		t.Fatal(err)
	}
	if all, err := s.SmartPendingCommits(k); err != nil || !slices.Equal(pendingSHAs(all), []string{f2}) {
		t.Errorf("after drop and forget: %v, %v", pendingSHAs(all), err)
	}
	if err := s.ForgetRepo(k); err != nil {
		t.Fatal(err)
	}
	if all, err := s.SmartPendingCommits(k); err != nil || len(all) != 0 {
		t.Errorf("after ForgetRepo: %v, %v", pendingSHAs(all), err)
	}
}

// BenchmarkSmartPendingReachable is the worst case of a push to a
// smart-commit branch: a pending commit that the branch never reaches
// (its pull request was squashed) makes the search read the whole stored
// history of 200,000 commits; without pending commits it reads nothing.
func BenchmarkSmartPendingReachable(b *testing.B) {
	s, err := Open(b.TempDir()+"/state.db", time.Second)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	k := state.RepoKey{Provider: "github", ID: 7}
	const n = 200_000
	sha := func(i int) string { return fmt.Sprintf("%040x", i+1) }
	cs := make([]state.Commit, 0, n+1)
	cs = append(cs, state.NewCommit(sha(0), nil))
	for i := 1; i < n; i++ {
		cs = append(cs, state.NewCommit(sha(i), []string{sha(i - 1)}))
	}
	side := sha(n)
	cs = append(cs, state.NewCommit(side, []string{sha(0)}))
	if err := s.AdvanceBranch(state.RepoState{Key: k}, "main", cs); err != nil {
		b.Fatal(err)
	}
	head := sha(n - 1)
	b.Run("none-pending", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.SmartPendingReachable(k, "main", head, nil, nil); err != nil {
				b.Fatal(err)
			}
		}
	})
	if err := s.AddSmartPending(k, []state.SmartPending{{SHA: side}}); err != nil {
		b.Fatal(err)
	}
	b.Run("stale-pending-full-history", func(b *testing.B) {
		for b.Loop() {
			if got, err := s.SmartPendingReachable(k, "main", head, nil, nil); err != nil || len(got) != 0 {
				b.Fatal(got, err)
			}
		}
	})
	b.Run("stale-pending-fast-forward-100", func(b *testing.B) {
		for b.Loop() {
			if got, err := s.SmartPendingReachable(k, "main", head, []string{sha(n - 101)}, nil); err != nil || len(got) != 0 {
				b.Fatal(got, err)
			}
		}
	})
	b.Run("IsAncestor-full-history", func(b *testing.B) {
		for b.Loop() {
			if _, err := s.IsAncestor(k, side, []string{head}); err != nil {
				b.Fatal(err)
			}
		}
	})
}
