package statetest

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

// The builds-and-deployments state (indexer.CIStore) and the commit
// ranges computed from the stored graph.

func testCIStateRoundTrip(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
	k := state.RepoKey{Provider: "gh", ID: 7}
	if _, ok, err := s.CIState(k); ok || err != nil {
		t.Fatalf("unknown repo: ok %v err %v", ok, err)
	}
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	want := state.CIState{
		Key: k, RunList: providers.ListState{ETags: []string{`"a"`}, Query: "q"}, RunWatermark: at,
		DeployWatermark: at.Add(time.Hour),
		Environments:    map[string]state.EnvCursor{"production": {Successes: []state.EnvDeployment{{ID: 3, SHA: "abc", At: at}}}},
		Workflows:       map[string]state.EnvCursor{"77\x00main": {Successes: []state.EnvDeployment{{ID: 9, SHA: "def", At: at}}}},
	}
	if err := s.PutCI(want, nil); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.CIState(k)
	if err != nil || !ok {
		t.Fatalf("read: ok %v err %v", ok, err)
	}
	if got.RunWatermark != want.RunWatermark || got.RunList.Query != "q" || got.Environments["production"].Successes[0].SHA != "abc" ||
		got.Workflows["77\x00main"].Successes[0].ID != 9 || !got.DeployWatermark.Equal(want.DeployWatermark) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func testCIEntries(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
	k := state.RepoKey{Provider: "gh", ID: 7}
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	b1 := state.CIEntryID{Kind: state.CIBuild, Name: "77", Issue: "ABC-1"}
	d1 := state.CIEntryID{Kind: state.CIDeployment, Name: "production", Issue: "ABC-1"}
	other := state.CIEntryID{Kind: state.CIBuild, Name: "77", Issue: "ABC-2"}
	err := s.PutCI(state.CIState{Key: k}, []state.CIEntry{
		{ID: b1, SourceID: 100, Status: providers.CIFailure, SHA: "a1", CreatedAt: at},
		{ID: d1, SourceID: 5, Status: providers.CISuccess, SHA: "a1", CreatedAt: at},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.CIEntries(k, []state.CIEntryID{b1, d1, other})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[b1].SourceID != 100 || got[b1].Status != providers.CIFailure || got[d1].SourceID != 5 {
		t.Errorf("entries = %+v", got)
	}
	// Replaced in place.
	if err := s.PutCI(state.CIState{Key: k}, []state.CIEntry{{ID: b1, SourceID: 101, Status: providers.CISuccess, CreatedAt: at.Add(time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.CIEntries(k, []state.CIEntryID{b1})
	if got[b1].SourceID != 101 || got[b1].Status != providers.CISuccess {
		t.Errorf("after replace: %+v", got[b1])
	}
	// Another repo's entries are apart.
	if got, _ := s.CIEntries(state.RepoKey{Provider: "gh", ID: 8}, []state.CIEntryID{b1}); len(got) != 0 {
		t.Errorf("other repo sees %+v", got)
	}
}

// ciSHA makes a 40-hex commit id from a short label.
func ciSHA(label string) string { return strings.Repeat(label, 40/len(label)) }

func testCICommitRange(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
	k := state.RepoKey{Provider: "gh", ID: 7}
	// a ← b ← c ← m (merge of c and x), x ← a (side line); y not indexed.
	a, b, c, x, m := ciSHA("a"), ciSHA("b"), ciSHA("c"), ciSHA("e"), ciSHA("f")
	commits := []state.Commit{state.NewCommit(a, nil), state.NewCommit(b, []string{a}), state.NewCommit(c, []string{b}),
		state.NewCommit(x, []string{a}), state.NewCommit(m, []string{c, x})}
	if err := s.AdvanceBranch(state.RepoState{Key: k, Branches: map[string]string{"main": m}}, "main", commits); err != nil {
		t.Fatal(err)
	}
	sorted := func(ss []string) []string { slices.Sort(ss); return ss }
	for _, tc := range []struct {
		name  string
		head  string
		stop  []string
		limit int
		want  []string
		trunc bool
	}{
		{"since b", m, []string{b}, 100, []string{c, x, m}, false},
		{"linear stretch", c, []string{a}, 100, []string{b, c}, false},
		{"linear stretch, limited", c, []string{a}, 1, nil, true},
		{"since the side line", m, []string{x}, 100, []string{b, c, m}, false},
		{"everything", m, nil, 100, []string{a, b, c, x, m}, false},
		{"head reached by stop", b, []string{c}, 100, nil, false},
		{"head not indexed", ciSHA("9"), nil, 100, nil, false},
		{"limited", m, nil, 2, nil, true},
	} {
		got, trunc, err := s.CommitRange(k, tc.head, tc.stop, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if tc.trunc {
			if !trunc || len(got) != tc.limit {
				t.Errorf("%s: %d commits, truncated %v; want %d, truncated", tc.name, len(got), trunc, tc.limit)
			}
			continue
		}
		if trunc || !slices.Equal(sorted(got), sorted(tc.want)) {
			t.Errorf("%s: got %v (truncated %v), want %v", tc.name, got, trunc, tc.want)
		}
	}
}

// testCICommitRangeLine: ranges along a first-parent line, at and around
// the limit, and past the line's root.
func testCICommitRangeLine(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
	k := state.RepoKey{Provider: "gh", ID: 8}
	// 1 ← 2 ← 3 ← 4 ← 5; 6 (a root of its own) is a stop off the line.
	var commits []state.Commit
	for i := 1; i <= 5; i++ {
		var parents []string
		if i > 1 {
			parents = []string{ciSHA(fmt.Sprint(i - 1))}
		}
		commits = append(commits, state.NewCommit(ciSHA(fmt.Sprint(i)), parents))
	}
	commits = append(commits, state.NewCommit(ciSHA("6"), nil))
	if err := s.AdvanceBranch(state.RepoState{Key: k, Branches: map[string]string{"main": ciSHA("5")}}, "main", commits); err != nil {
		t.Fatal(err)
	}
	c := func(is ...int) []string {
		var out []string
		for _, i := range is {
			out = append(out, ciSHA(fmt.Sprint(i)))
		}
		return out
	}
	for _, tc := range []struct {
		name  string
		head  string
		stop  []string
		limit int
		want  []string
		trunc bool
	}{
		{"exactly the limit", ciSHA("5"), c(1), 4, c(5, 4, 3, 2), false},
		{"one over the limit", ciSHA("5"), c(1), 3, nil, true},
		{"head is a stop", ciSHA("5"), c(5), 10, nil, false},
		{"stop off the line", ciSHA("5"), c(6), 10, c(5, 4, 3, 2, 1), false},
		{"two stops", ciSHA("5"), c(6, 3), 10, c(5, 4), false},
	} {
		got, trunc, err := s.CommitRange(k, tc.head, tc.stop, tc.limit)
		if err != nil {
			t.Fatal(err)
		}
		if tc.trunc {
			if !trunc || len(got) != tc.limit {
				t.Errorf("%s: %d commits, truncated %v; want %d, truncated", tc.name, len(got), trunc, tc.limit)
			}
			continue
		}
		if trunc || !slices.Equal(got, tc.want) {
			t.Errorf("%s: got %v (truncated %v), want %v", tc.name, got, trunc, tc.want)
		}
	}
}

func testCIForgetKeepsOthers(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
	k1, k2 := state.RepoKey{Provider: "gh", ID: 1}, state.RepoKey{Provider: "gh", ID: 10}
	id := state.CIEntryID{Kind: state.CIBuild, Name: "w", Issue: "ABC-1"}
	for _, k := range []state.RepoKey{k1, k2} {
		if err := s.PutCI(state.CIState{Key: k}, []state.CIEntry{{ID: id, SourceID: k.ID}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ForgetCI(k1); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.CIState(k1); ok {
		t.Error("forgotten state still there")
	}
	if got, _ := s.CIEntries(k1, []state.CIEntryID{id}); len(got) != 0 {
		t.Errorf("forgotten entries: %+v", got)
	}
	if got, _ := s.CIEntries(k2, []state.CIEntryID{id}); got[id].SourceID != 10 {
		t.Errorf("repo 10 lost its entries: %+v", got)
	}
	if _, ok, _ := s.CIState(k2); !ok {
		t.Error("repo 10 lost its state")
	}
}

// testForgetRepoDropsCI: forgetting a repo (taken out of the
// configuration) drops its CI cursors and entries with its commits, and
// only its own.
func testForgetRepoDropsCI(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
	k1, k2 := state.RepoKey{Provider: "gh", ID: 1}, state.RepoKey{Provider: "gh", ID: 10}
	id := state.CIEntryID{Kind: state.CIDeployment, Name: "production", Issue: "ABC-1"}
	for _, k := range []state.RepoKey{k1, k2} {
		if err := s.PutRepo(state.RepoState{Key: k, Repo: providers.Repo{ID: k.ID, FullName: "acme/r"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.PutCI(state.CIState{Key: k, RunWatermark: time.Unix(100, 0).UTC()}, []state.CIEntry{{ID: id, SourceID: k.ID}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.ForgetRepo(k1); err != nil {
		t.Fatal(err)
	}
	if _, ok, _ := s.CIState(k1); ok {
		t.Error("ForgetRepo kept the repo's CI state")
	}
	if got, _ := s.CIEntries(k1, []state.CIEntryID{id}); len(got) != 0 {
		t.Errorf("ForgetRepo kept the repo's CI entries: %+v", got)
	}
	if _, ok, _ := s.CIState(k2); !ok {
		t.Error("ForgetRepo of repo 1 dropped repo 10's CI state")
	}
	if got, _ := s.CIEntries(k2, []state.CIEntryID{id}); got[id].SourceID != 10 {
		t.Errorf("ForgetRepo of repo 1 dropped repo 10's entries: %+v", got)
	}
}
