package boltstore

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

func open(t *testing.T) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sub", "state.db")
	s, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func TestOpenCreatesPrivateFileAndRefusesSecondOpener(t *testing.T) {
	_, path := open(t)
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v, want 0600", fi.Mode().Perm())
	}
	start := time.Now()
	_, err = Open(path, 100*time.Millisecond)
	if !errors.Is(err, state.ErrLocked) {
		t.Fatalf("second open: want state.ErrLocked, got %v", err)
	}
	if time.Since(start) > 5*time.Second {
		t.Error("second open hung")
	}
	if !strings.Contains(err.Error(), path) {
		t.Errorf("error %q does not name the file", err)
	}
}

func TestRepoStateAndCommitsSurviveReopen(t *testing.T) {
	s, path := open(t)
	k := state.RepoKey{Provider: "github", ID: 42}
	st := state.RepoState{Key: k, Repo: providers.Repo{ID: 42, FullName: "acme/api"}, Branches: map[string]string{"main": "aa"},
		BranchList: providers.ListState{ETags: []string{`"e1"`, `"e2"`}}, Status: state.RepoOK}
	shas := []string{"0123456789abcdef0123456789abcdef01234567", "89abcdef0123456789abcdef0123456789abcdef"}
	if err := s.AdvanceBranch(st, "main", []state.Commit{state.NewCommit(shas[0], nil), state.NewCommit(shas[1], shas[:1])}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2, err := Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	got, ok, err := s2.Repo(k)
	if err != nil || !ok {
		t.Fatalf("repo after reopen: ok=%v err=%v", ok, err)
	}
	if got.Branches["main"] != "aa" || len(got.BranchList.ETags) != 2 || got.Repo.FullName != "acme/api" {
		t.Errorf("repo state not round-tripped: %+v", got)
	}
	known, err := s2.KnownCommits(k, append(shas, "ffffffffffffffffffffffffffffffffffffffff"))
	if err != nil {
		t.Fatal(err)
	}
	if !known[shas[0]] || !known[shas[1]] || len(known) != 2 {
		t.Errorf("known commits = %v", known)
	}
	if other, _ := s2.KnownCommits(state.RepoKey{Provider: "github", ID: 43}, shas); len(other) != 0 {
		t.Errorf("commits leaked across repos: %v", other)
	}
	if n, _ := s2.CommitCount(k); n != 2 {
		t.Errorf("CommitCount = %d", n)
	}
}

func TestLinks(t *testing.T) {
	s, _ := open(t)
	a := state.Link{GlobalID: "jiralinkd/github/1/branch/x", Issue: "P-1"}
	b := state.Link{GlobalID: "jiralinkd/github/1/branch/x", Issue: "P-2"}
	c := state.Link{GlobalID: "jiralinkd/github/1/branch/xy", Issue: "P-1"} // prefix of a's id must not match
	if err := s.PutLinks(map[state.Link]state.LinkRecord{a: {Hash: 1, Info: state.LinkInfo{Kind: "branch", Title: "branch x", Sources: []string{"branch name"}}}, b: {Hash: 2}, c: {Hash: 3}}); err != nil {
		t.Fatal(err)
	}
	h, _ := s.LinkHashes([]state.Link{a, b, c, {GlobalID: "nope", Issue: "P-1"}})
	if h[a] != 1 || h[b] != 2 || h[c] != 3 || len(h) != 3 {
		t.Errorf("hashes = %v", h)
	}
	il, err := s.IssueLinks("P-1")
	if err != nil || len(il) != 2 || il[0].Link != a || il[0].Title != "branch x" || il[0].Sources[0] != "branch name" || il[1].Link != c {
		t.Errorf("IssueLinks(P-1) = %+v (%v)", il, err)
	}
	of, _ := s.LinksOf(a.GlobalID)
	if len(of) != 2 || of[0] != a || of[1] != b {
		t.Errorf("LinksOf = %v", of)
	}
	if err := s.DeleteLinks(of); err != nil {
		t.Fatal(err)
	}
	of, _ = s.LinksOf(a.GlobalID)
	if len(of) != 0 {
		t.Errorf("after delete LinksOf = %v", of)
	}
	if il, _ := s.IssueLinks("P-2"); len(il) != 0 {
		t.Errorf("issue index not cleaned on delete: %+v", il)
	}
	var all []state.Link
	_ = s.AllLinks(func(l state.Link) error { all = append(all, l); return nil })
	if len(all) != 1 || all[0] != c {
		t.Errorf("AllLinks = %v", all)
	}
}

func TestIssueCacheAndDiscovery(t *testing.T) {
	s, _ := open(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := s.PutIssues(map[string]state.IssueStatus{"P-1": {Exists: true, CheckedAt: now}, "P-2": {CheckedAt: now}}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Issues([]string{"P-1", "P-2", "P-3"})
	if !got["P-1"].Exists || got["P-2"].Exists || !got["P-2"].CheckedAt.Equal(now) || len(got) != 2 {
		t.Errorf("issues = %v", got)
	}
	d := state.Discovery{State: providers.ListState{ETags: []string{`"x"`}}, Repos: []providers.Repo{{ID: 7, FullName: "a/b"}}}
	if err := s.PutDiscovery("github", "owner:a", d); err != nil {
		t.Fatal(err)
	}
	back, ok, _ := s.Discovery("github", "owner:a")
	if !ok || back.Repos[0].ID != 7 || back.State.ETags[0] != `"x"` {
		t.Errorf("discovery = %+v ok=%v", back, ok)
	}
	if _, ok, _ := s.Discovery("gitlab", "owner:a"); ok {
		t.Error("discovery leaked across providers")
	}
}

func TestAncestryAndReachability(t *testing.T) {
	s, _ := open(t)
	k := state.RepoKey{Provider: "gh", ID: 1}
	sha := func(c byte) string { return strings.Repeat(string([]byte{c}), 40) }
	// a ← b ← c (main), b ← d (feature), and x (odd non-hex id) on top of d.
	a, b, c, d := sha('a'), sha('b'), sha('c'), sha('d')
	x := "not-a-hex-id"
	commits := []state.Commit{state.NewCommit(a, nil), state.NewCommit(b, []string{a}), state.NewCommit(c, []string{b}), state.NewCommit(d, []string{b}), state.NewCommit(x, []string{d, "weird/parent"})}
	if err := s.AdvanceBranch(state.RepoState{Key: k}, "main", commits); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		anc  string
		from []string
		want bool
	}{{a, []string{c}, true}, {d, []string{c}, false}, {c, []string{d}, false}, {b, []string{x}, true}, {x, []string{x}, true}} {
		if got, err := s.IsAncestor(k, tc.anc, tc.from); err != nil || got != tc.want {
			t.Errorf("IsAncestor(%.6s, %v) = %v, %v", tc.anc, tc.from, got, err)
		}
	}
	un, err := s.Unreachable(k, []string{c})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(un)
	if want := []string{d, x}; !slices.Equal(un, want) {
		t.Errorf("unreachable from main = %v, want %v", un, want)
	}
	if un, _ := s.Unreachable(k, []string{c, x}); len(un) != 0 {
		t.Errorf("unreachable from main+feature = %v", un)
	}
	if err := s.ForgetCommits(k, []string{d, x}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CommitCount(k); n != 3 {
		t.Errorf("%d commits after forgetting 2 of 5", n)
	}
}

// A repo forgotten or reset in the middle of a walk must not leave the
// walk's pending commits behind: a later walk of the same branch would add
// to them and index commits that no longer belong to the repo.
func TestForgetAndResetDropUnfinishedWalks(t *testing.T) {
	for _, op := range []string{"forget", "reset"} {
		t.Run(op, func(t *testing.T) {
			s, _ := open(t)
			k := state.RepoKey{Provider: "github", ID: 7}
			other := state.RepoKey{Provider: "github", ID: 70} // shares the id's decimal prefix
			st := state.RepoState{Key: k, Repo: providers.Repo{ID: 7, FullName: "acme/api"}}
			stale := state.NewCommit("0123456789abcdef0123456789abcdef01234567", nil)
			for _, b := range []string{"main", "feature/x"} {
				if err := s.CheckpointWalk(st, b, []state.Commit{stale}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.CheckpointWalk(state.RepoState{Key: other}, "main", []state.Commit{stale}); err != nil {
				t.Fatal(err)
			}
			var err error
			if op == "forget" {
				err = s.ForgetRepo(k)
			} else {
				err = s.ResetRepo(k, st.Repo)
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, b := range []string{"main", "feature/x"} {
				n := 0
				if err := s.PendingCommits(k, b, func(state.Commit) { n++ }); err != nil {
					t.Fatal(err)
				}
				if n != 0 {
					t.Errorf("%s: %d pending commits of %s survived", op, n, b)
				}
			}
			// A new walk starts from nothing.
			fresh := state.NewCommit("89abcdef0123456789abcdef0123456789abcdef", nil)
			if err := s.CheckpointWalk(st, "main", []state.Commit{fresh}); err != nil {
				t.Fatal(err)
			}
			n := 0
			_ = s.PendingCommits(k, "main", func(state.Commit) { n++ })
			if n != 1 {
				t.Errorf("%s: new walk holds %d pending commits, want 1", op, n)
			}
			// Another repo's walk is untouched.
			n = 0
			_ = s.PendingCommits(other, "main", func(state.Commit) { n++ })
			if n != 1 {
				t.Errorf("%s: repo 70's walk lost its pending commit", op)
			}
		})
	}
}
