package statetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

// Run runs the conformance suite. open opens the backend a test works on:
// the first call within a test returns an empty store; a later call within
// the same test (after the suite closed the previous store) opens the same
// storage again, so the suite checks what survives a restart. open
// registers the cleanup of what it creates; Close may be called twice.
func Run(t *testing.T, open func(t *testing.T) Backend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, func(*testing.T) Backend)
	}{
		{"RepoStateAndCommitsSurviveReopen", testRepoStateAndCommitsSurviveReopen},
		{"Repos", testRepos},
		{"RecordRepoFailure", testRecordRepoFailure},
		{"Links", testLinks},
		{"RepoLinks", testRepoLinks},
		{"IssueCacheAndDiscovery", testIssueCacheAndDiscovery},
		{"AncestryAndReachability", testAncestryAndReachability},
		{"WalkCheckpoints", testWalkCheckpoints},
		{"ForgetAndResetDropUnfinishedWalks", testForgetAndResetDropUnfinishedWalks},
		{"Health", testHealth},
		{"QueueDedupAckAndRestart", testQueueDedupAckAndRestart},
		{"SmartPendingReachable", testSmartPendingReachable},
		{"Ledger", testLedger},
		{"LedgerCountFailed", testLedgerCountFailed},
		{"ConcurrentWriters", testConcurrentWriters},
		{"CIStateRoundTrip", testCIStateRoundTrip},
		{"CIEntries", testCIEntries},
		{"CICommitRange", testCICommitRange},
		{"CICommitRangeLine", testCICommitRangeLine},
		{"CIForgetKeepsOthers", testCIForgetKeepsOthers},
		{"ForgetRepoDropsCI", testForgetRepoDropsCI},
		{"FindingStore", testFindingStore},
		{"FindingsSurviveReopen", testFindingsSurviveReopen},
		{"RouteDropStore", testRouteDropStore},
		{"BackfillProgressRoundTrip", testBackfillProgressRoundTrip},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

func testRepoStateAndCommitsSurviveReopen(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
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
	s2 := open(t)
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
	if _, ok, err := s2.Repo(state.RepoKey{Provider: "github", ID: 43}); ok || err != nil {
		t.Errorf("unknown repo: ok=%v err=%v", ok, err)
	}
}

// testRepos: every field of a repo state round-trips, and Repos orders by
// provider then full name.
func testRepos(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	full := state.RepoState{
		Key: state.RepoKey{Provider: "github", ID: 1}, Repo: providers.Repo{ID: 1, FullName: "zeta/api", DefaultBranch: "main"},
		Branches: map[string]string{"main": "c1"}, Tags: map[string]string{"v1": "c0"},
		Walks:        map[string]state.WalkCheckpoint{"dev": {Head: "h", NextPage: 3, Frontier: []string{"f"}, Boundary: []string{"b"}, Walked: 7}},
		PrunePending: true, SmartCommitsArmed: true, PullWatermark: at, Status: state.RepoFailed, LastError: "boom",
		LastSync: at, LastSuccess: at.Add(-time.Hour), Commits: 10, Links: 3, Failures: 2, FailureKind: "unreachable", Hint: "h", LinkFormat: 2,
	}
	for _, st := range []state.RepoState{
		full,
		{Key: state.RepoKey{Provider: "github", ID: 2}, Repo: providers.Repo{ID: 2, FullName: "acme/web"}},
		{Key: state.RepoKey{Provider: "gitlab", ID: 3}, Repo: providers.Repo{ID: 3, FullName: "acme/lab"}},
	} {
		if err := s.PutRepo(st); err != nil {
			t.Fatal(err)
		}
	}
	got, ok, err := s.Repo(full.Key)
	if err != nil || !ok || !reflect.DeepEqual(got, full) {
		t.Errorf("Repo = %+v, %v, %v; want %+v", got, ok, err, full)
	}
	repos, err := s.Repos()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, r := range repos {
		names = append(names, r.Key.Provider+":"+r.Repo.FullName)
	}
	if want := []string{"github:acme/web", "github:zeta/api", "gitlab:acme/lab"}; !slices.Equal(names, want) {
		t.Errorf("Repos = %v, want %v", names, want)
	}
	// PutRepo replaces.
	full.Status, full.LastError = state.RepoOK, ""
	if err := s.PutRepo(full); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Repo(full.Key); got.Status != state.RepoOK || got.LastError != "" {
		t.Errorf("after replace: %+v", got)
	}
	if repos, _ := s.Repos(); len(repos) != 3 {
		t.Errorf("%d repos after replace", len(repos))
	}
}

func testRecordRepoFailure(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
	k := state.RepoKey{Provider: "github", ID: 5}
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f := state.Failure{System: state.JiraSystem, Err: "jira down", Kind: "unreachable", Hint: "jira.url", At: at}
	// Unknown: added, failed.
	if err := s.RecordRepoFailure(k, providers.Repo{ID: 5, FullName: "a/b"}, f); err != nil {
		t.Fatal(err)
	}
	st, ok, err := s.Repo(k)
	if err != nil || !ok || st.Status != state.RepoFailed || st.Repo.FullName != "a/b" || st.LastError != "jira down" || st.Failures != 1 || !st.LastSync.Equal(at) {
		t.Fatalf("after first failure: %+v ok=%v err=%v", st, ok, err)
	}
	// Known: cursors kept, identity kept, failures counted.
	st.Branches = map[string]string{"main": "c1"}
	if err := s.PutRepo(st); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordRepoFailure(k, providers.Repo{ID: 5, FullName: "renamed/b"}, f); err != nil {
		t.Fatal(err)
	}
	st, _, _ = s.Repo(k)
	if st.Branches["main"] != "c1" || st.Failures != 2 || st.Repo.FullName != "a/b" || st.FailureKind != "unreachable" || st.Hint != "jira.url" {
		t.Errorf("after second failure: %+v", st)
	}
}

func testLinks(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
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
	// A hash above 2^63 round-trips; PutLinks replaces.
	if err := s.PutLinks(map[state.Link]state.LinkRecord{c: {Hash: 1<<64 - 5}}); err != nil {
		t.Fatal(err)
	}
	if h, _ := s.LinkHashes([]state.Link{c}); h[c] != 1<<64-5 {
		t.Errorf("big hash = %d", h[c])
	}
	if err := s.PutLinks(nil); err != nil {
		t.Errorf("PutLinks(nil): %v", err)
	}
	if err := s.DeleteLinks(nil); err != nil {
		t.Errorf("DeleteLinks(nil): %v", err)
	}
}

// testRepoLinks: the records of one repo's links by globalId prefix, in
// globalId then issue order, with their info; fn's error stops the scan.
func testRepoLinks(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
	yes := true
	w := time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)
	recs := map[state.Link]state.LinkRecord{
		{GlobalID: "jiralinkd/github/1/commit/b", Issue: "P-1"}:  {Hash: 11, Info: state.LinkInfo{Kind: "commit", Repo: "github/a/b", URL: "u", Title: "t", Written: w, Summary: "s", Resolved: &yes, Complete: true}},
		{GlobalID: "jiralinkd/github/1/commit/a", Issue: "P-2"}:  {Hash: 12},
		{GlobalID: "jiralinkd/github/1/commit/a", Issue: "P-1"}:  {Hash: 13},
		{GlobalID: "jiralinkd/github/10/commit/a", Issue: "P-1"}: {Hash: 14},
		{GlobalID: "jiralinkd/github/2/commit/a", Issue: "P-1"}:  {Hash: 15},
	}
	if err := s.PutLinks(recs); err != nil {
		t.Fatal(err)
	}
	var got []string
	err := s.RepoLinks("jiralinkd/github/1/", func(l state.Link, r state.LinkRecord) error {
		got = append(got, l.GlobalID+" "+l.Issue)
		if want := recs[l]; !reflect.DeepEqual(r, want) {
			t.Errorf("record of %v = %+v, want %+v", l, r, want)
		}
		return nil
	})
	want := []string{"jiralinkd/github/1/commit/a P-1", "jiralinkd/github/1/commit/a P-2", "jiralinkd/github/1/commit/b P-1"}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("RepoLinks = %v, %v; want %v", got, err, want)
	}
	stop := errors.New("stop")
	n := 0
	if err := s.RepoLinks("jiralinkd/github/1/", func(state.Link, state.LinkRecord) error { n++; return stop }); !errors.Is(err, stop) || n != 1 {
		t.Errorf("RepoLinks with a failing fn: %v after %d", err, n)
	}
	ids, err := s.GlobalIDsWithPrefix("jiralinkd/github/1/")
	if want := []string{"jiralinkd/github/1/commit/a", "jiralinkd/github/1/commit/b"}; err != nil || !slices.Equal(ids, want) {
		t.Errorf("GlobalIDsWithPrefix = %v, %v; want %v", ids, err, want)
	}
	// Prefixes are literal: no pattern characters.
	if ids, _ := s.GlobalIDsWithPrefix("jiralinkd/github/_/"); len(ids) != 0 {
		t.Errorf("prefix with _ matched %v", ids)
	}
	if ids, _ := s.GlobalIDsWithPrefix("jiralinkd/github/%"); len(ids) != 0 {
		t.Errorf("prefix with %% matched %v", ids)
	}
	var all []state.Link
	_ = s.AllLinks(func(l state.Link) error { all = append(all, l); return nil })
	if len(all) != 5 || all[0].GlobalID != "jiralinkd/github/1/commit/a" || all[0].Issue != "P-1" || all[4].GlobalID != "jiralinkd/github/2/commit/a" {
		t.Errorf("AllLinks = %v", all)
	}
}

func testIssueCacheAndDiscovery(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if err := s.PutIssues(map[string]state.IssueStatus{"P-1": {Exists: true, CheckedAt: now}, "P-2": {CheckedAt: now}}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Issues([]string{"P-1", "P-2", "P-3"})
	if !got["P-1"].Exists || got["P-2"].Exists || !got["P-2"].CheckedAt.Equal(now) || len(got) != 2 {
		t.Errorf("issues = %v", got)
	}
	if err := s.PutIssues(map[string]state.IssueStatus{"P-2": {Exists: true, CheckedAt: now.Add(time.Hour)}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Issues([]string{"P-2"}); !got["P-2"].Exists || !got["P-2"].CheckedAt.Equal(now.Add(time.Hour)) {
		t.Errorf("issue not replaced: %v", got)
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

func testAncestryAndReachability(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
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
	if got, err := s.IsAncestor(state.RepoKey{Provider: "gh", ID: 2}, a, []string{c}); err != nil || got {
		t.Errorf("IsAncestor in another repo = %v, %v", got, err)
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
	// Heads that are not indexed are ignored.
	un, _ = s.Unreachable(k, []string{sha('e')})
	if sort.Strings(un); !slices.Equal(un, []string{a, b, c, d, x}) {
		t.Errorf("unreachable from an unknown head = %v", un)
	}
	if err := s.ForgetCommits(k, []string{d, x}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.CommitCount(k); n != 3 {
		t.Errorf("%d commits after forgetting 2 of 5", n)
	}
	if known, _ := s.KnownCommits(k, []string{a, d, x}); len(known) != 1 || !known[a] {
		t.Errorf("known after forget = %v", known)
	}
	if un, err := s.Unreachable(state.RepoKey{Provider: "gh", ID: 2}, []string{c}); err != nil || len(un) != 0 {
		t.Errorf("Unreachable of an unknown repo = %v, %v", un, err)
	}
}

// testWalkCheckpoints: an unfinished walk's commits are pending, not
// indexed, until AdvanceBranch makes them indexed together with the state;
// DiscardWalk drops them; walks of other branches are apart.
func testWalkCheckpoints(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
	k := state.RepoKey{Provider: "github", ID: 9}
	sha := func(i int) string { return fmt.Sprintf("%040x", i) }
	c1, c2, c3, c4 := state.NewCommit(sha(1), nil), state.NewCommit(sha(2), []string{sha(1)}), state.NewCommit(sha(3), []string{sha(2), "odd"}), state.NewCommit(sha(4), []string{sha(3)})
	st := state.RepoState{Key: k, Walks: map[string]state.WalkCheckpoint{"main": {Head: sha(4), NextPage: 2, Frontier: []string{sha(2)}, Walked: 2}}}
	if err := s.CheckpointWalk(st, "main", []state.Commit{c4, c3}); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckpointWalk(st, "main", []state.Commit{c2}); err != nil {
		t.Fatal(err)
	}
	if err := s.CheckpointWalk(st, "dev", []state.Commit{c1}); err != nil {
		t.Fatal(err)
	}
	got, _, _ := s.Repo(k)
	if got.Walks["main"].NextPage != 2 || got.Walks["main"].Head != sha(4) {
		t.Errorf("checkpoint not stored with the commits: %+v", got.Walks)
	}
	pending := func(branch string) []string {
		var out []string
		if err := s.PendingCommits(k, branch, func(c state.Commit) {
			out = append(out, c.SHA()+":"+strings.Join(c.Parents(), ","))
		}); err != nil {
			t.Fatal(err)
		}
		sort.Strings(out)
		return out
	}
	want := []string{sha(2) + ":" + sha(1), sha(3) + ":" + sha(2) + ",odd", sha(4) + ":" + sha(3)}
	if p := pending("main"); !slices.Equal(p, want) {
		t.Errorf("pending main = %v, want %v", p, want)
	}
	if p := pending("dev"); len(p) != 1 {
		t.Errorf("pending dev = %v", p)
	}
	if known, _ := s.KnownCommits(k, []string{sha(2), sha(3), sha(4)}); len(known) != 0 {
		t.Errorf("pending commits indexed before the walk completed: %v", known)
	}
	if err := s.DiscardWalk(k, "dev"); err != nil {
		t.Fatal(err)
	}
	if p := pending("dev"); len(p) != 0 {
		t.Errorf("pending dev after discard = %v", p)
	}
	if err := s.DiscardWalk(k, "never"); err != nil {
		t.Errorf("DiscardWalk of no walk: %v", err)
	}
	st.Walks = nil
	st.Branches = map[string]string{"main": sha(4)}
	if err := s.AdvanceBranch(st, "main", []state.Commit{c1}); err != nil {
		t.Fatal(err)
	}
	if p := pending("main"); len(p) != 0 {
		t.Errorf("pending main after advance = %v", p)
	}
	if known, _ := s.KnownCommits(k, []string{sha(1), sha(2), sha(3), sha(4)}); len(known) != 4 {
		t.Errorf("known after advance = %v", known)
	}
	got, _, _ = s.Repo(k)
	if got.Branches["main"] != sha(4) || len(got.Walks) != 0 {
		t.Errorf("state after advance = %+v", got)
	}
	if ok, _ := s.IsAncestor(k, sha(1), []string{sha(4)}); !ok {
		t.Error("ancestry lost across pending and given commits")
	}
	// Advancing again with commits already indexed is harmless; with none,
	// it stores the state.
	if err := s.AdvanceBranch(st, "main", []state.Commit{c1, c2}); err != nil {
		t.Fatal(err)
	}
	st.Branches["dev"] = sha(1)
	if err := s.AdvanceBranch(st, "dev", nil); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Repo(k); got.Branches["dev"] != sha(1) {
		t.Errorf("state not stored by an empty advance: %+v", got.Branches)
	}
	if n, _ := s.CommitCount(k); n != 4 {
		t.Errorf("CommitCount = %d, want 4", n)
	}
}

// A repo forgotten or reset in the middle of a walk must not leave the
// walk's pending commits behind: a later walk of the same branch would add
// to them and index commits that no longer belong to the repo.
func testForgetAndResetDropUnfinishedWalks(t *testing.T, open func(*testing.T) Backend) {
	for _, op := range []string{"forget", "reset"} {
		t.Run(op, func(t *testing.T) {
			s := open(t)
			k := state.RepoKey{Provider: "github", ID: 7}
			other := state.RepoKey{Provider: "github", ID: 70} // shares the id's decimal prefix
			st := state.RepoState{Key: k, Repo: providers.Repo{ID: 7, FullName: "acme/api"}, Branches: map[string]string{"main": "x"}}
			stale := state.NewCommit("0123456789abcdef0123456789abcdef01234567", nil)
			for _, b := range []string{"main", "feature/x"} {
				if err := s.CheckpointWalk(st, b, []state.Commit{stale}); err != nil {
					t.Fatal(err)
				}
			}
			if err := s.CheckpointWalk(state.RepoState{Key: other}, "main", []state.Commit{stale}); err != nil {
				t.Fatal(err)
			}
			indexed := state.NewCommit("00000000000000000000000000000000000000aa", nil)
			if err := s.AdvanceBranch(st, "dev", []state.Commit{indexed}); err != nil {
				t.Fatal(err)
			}
			if err := s.AdvanceBranch(state.RepoState{Key: other}, "dev", []state.Commit{indexed}); err != nil {
				t.Fatal(err)
			}
			if err := s.AddSmartPending(k, []state.SmartPending{{SHA: indexed.SHA()}}); err != nil {
				t.Fatal(err)
			}
			if err := s.AddSmartPending(other, []state.SmartPending{{SHA: indexed.SHA()}}); err != nil {
				t.Fatal(err)
			}
			l := state.Link{GlobalID: "jiralinkd/github/7/commit/x", Issue: "P-1"}
			if err := s.PutLinks(map[state.Link]state.LinkRecord{l: {Hash: 1}}); err != nil {
				t.Fatal(err)
			}
			var err error
			renamed := providers.Repo{ID: 7, FullName: "acme/renamed"}
			if op == "forget" {
				err = s.ForgetRepo(k)
			} else {
				err = s.ResetRepo(k, renamed)
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
			if n, _ := s.CommitCount(k); n != 0 {
				t.Errorf("%s: %d indexed commits survived", op, n)
			}
			if ps, _ := s.SmartPendingCommits(k); op == "forget" && len(ps) != 0 {
				t.Errorf("%s: pending smart commits survived: %v", op, ps)
			}
			if h, _ := s.LinkHashes([]state.Link{l}); len(h) != 1 {
				t.Errorf("%s: link records dropped", op)
			}
			got, ok, _ := s.Repo(k)
			switch op {
			case "forget":
				if ok {
					t.Errorf("forgotten repo still there: %+v", got)
				}
			case "reset":
				if !ok || got.Repo.FullName != "acme/renamed" || len(got.Branches) != 0 || got.Status != state.RepoPending {
					t.Errorf("reset repo = %+v ok=%v", got, ok)
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
			// Another repo's walk, commits and smart commits are untouched.
			n = 0
			_ = s.PendingCommits(other, "main", func(state.Commit) { n++ })
			if n != 1 {
				t.Errorf("%s: repo 70's walk lost its pending commit", op)
			}
			if n, _ := s.CommitCount(other); n != 1 {
				t.Errorf("%s: repo 70 lost its indexed commit", op)
			}
			if ps, _ := s.SmartPendingCommits(other); len(ps) != 1 {
				t.Errorf("%s: repo 70 lost its pending smart commit", op)
			}
		})
	}
}

func testHealth(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
	if hs, err := s.Health(); err != nil || len(hs) != 0 {
		t.Fatalf("empty health: %v, %v", hs, err)
	}
	at := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	for _, sys := range []string{"gitlab", state.JiraSystem, "github"} {
		if err := s.UpdateHealth(sys, func(h *state.Health) {
			if h.System != sys {
				t.Errorf("fn sees system %q, want %q", h.System, sys)
			}
			h.State, h.LastPass = state.HealthOK, at
		}); err != nil {
			t.Fatal(err)
		}
	}
	rl := &state.RateLimitSeen{Limit: 5000, Remaining: 10, Reset: at.Add(time.Hour), SeenAt: at}
	if err := s.UpdateHealth("github", func(h *state.Health) {
		if h.State != state.HealthOK || !h.LastPass.Equal(at) {
			t.Errorf("fn does not see the stored health: %+v", h)
		}
		h.State, h.LastError, h.Failures, h.Blame, h.RateLimit = state.HealthFailed, "boom", h.Failures+1, state.JiraSystem, rl
		h.LastChecked, h.LastSweep = at.Add(time.Minute), at.Add(-time.Hour)
		h.Feeds = map[string]time.Time{"pushed:acme": at.Add(-time.Second), "pulls:acme": at}
	}); err != nil {
		t.Fatal(err)
	}
	hs, err := s.Health()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, h := range hs {
		names = append(names, h.System)
	}
	if want := []string{state.JiraSystem, "github", "gitlab"}; !slices.Equal(names, want) {
		t.Errorf("Health order = %v, want %v", names, want)
	}
	if gh := hs[1]; gh.State != state.HealthFailed || gh.LastError != "boom" || gh.Failures != 1 || gh.Blame != state.JiraSystem || gh.RateLimit == nil || gh.RateLimit.Remaining != 10 || !gh.RateLimit.Reset.Equal(rl.Reset) {
		t.Errorf("github health = %+v", gh)
	}
	if gh := hs[1]; !gh.LastChecked.Equal(at.Add(time.Minute)) || !gh.LastSweep.Equal(at.Add(-time.Hour)) ||
		len(gh.Feeds) != 2 || !gh.Feeds["pushed:acme"].Equal(at.Add(-time.Second)) || !gh.Feeds["pulls:acme"].Equal(at) {
		t.Errorf("github pass marks = checked %v sweep %v feeds %v", gh.LastChecked, gh.LastSweep, gh.Feeds)
	}
}

func testQueueDedupAckAndRestart(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
	if n, err := s.QueueDepth(); n != 0 || err != nil {
		t.Fatalf("empty depth %d, %v", n, err)
	}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	ev := providers.Event{Kind: providers.EventPush, Repo: providers.Repo{ID: 9, FullName: "a/b"}, Ref: "main", RefType: providers.RefBranch}
	seq1, fresh, err := s.Enqueue(state.Delivery{Provider: "github", ID: "d-1", Event: ev, ReceivedAt: t0}, time.Hour)
	if err != nil || !fresh {
		t.Fatalf("first enqueue: fresh=%v err=%v", fresh, err)
	}
	// A redelivery within the window is acknowledged but not queued.
	if _, fresh, _ := s.Enqueue(state.Delivery{Provider: "github", ID: "d-1", Event: ev, ReceivedAt: t0.Add(time.Minute)}, time.Hour); fresh {
		t.Error("redelivery queued again")
	}
	// The same id from another provider is a different delivery.
	if _, fresh, _ := s.Enqueue(state.Delivery{Provider: "gitlab", ID: "d-1", Event: ev, ReceivedAt: t0}, time.Hour); !fresh {
		t.Error("id of another provider treated as duplicate")
	}
	seq3, _, _ := s.Enqueue(state.Delivery{Provider: "github", ID: "d-2", Event: ev, ReceivedAt: t0}, time.Hour)
	if n, _ := s.QueueDepth(); n != 3 {
		t.Fatalf("depth %d, want 3", n)
	}
	if err := s.Ack(seq1); err != nil {
		t.Fatal(err)
	}

	// Restart: what was accepted and not acked is still there, in order.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := open(t)
	p, err := s2.Pending(10)
	if err != nil || len(p) != 2 || p[0].Provider != "gitlab" || p[1].Seq != seq3 || p[1].Event.Ref != "main" || p[1].Event.Repo.ID != 9 {
		t.Fatalf("pending after restart = %+v (%v)", p, err)
	}
	if !p[0].ReceivedAt.Equal(t0) || p[0].ID != "d-1" {
		t.Errorf("delivery not round-tripped: %+v", p[0])
	}
	if p, _ := s2.Pending(1); len(p) != 1 || p[0].Provider != "gitlab" {
		t.Errorf("Pending(1) = %+v", p)
	}
	// After the retention window the id may be used again; old ids are
	// forgotten.
	if _, fresh, _ := s2.Enqueue(state.Delivery{Provider: "github", ID: "d-1", Event: ev, ReceivedAt: t0.Add(2 * time.Hour)}, time.Hour); !fresh {
		t.Error("id past the retention window still deduplicated")
	}
	n, err := s2.ForgetDeliveries(t0.Add(90*time.Minute), time.Hour)
	if err != nil || n != 2 { // gitlab/d-1 and github/d-2 at t0; github/d-1 renewed at t0+2h
		t.Errorf("forgot %d ids (%v), want 2", n, err)
	}
	// Deliveries without id are never duplicates.
	for range 2 {
		if _, fresh, err := s2.Enqueue(state.Delivery{Provider: "github", Event: ev, ReceivedAt: t0}, time.Hour); !fresh || err != nil {
			t.Errorf("delivery without id: fresh=%v err=%v", fresh, err)
		}
	}
	// Ack of several, and of an unknown seq, is fine; order is by arrival.
	p, _ = s2.Pending(0)
	if len(p) != 5 {
		t.Fatalf("pending = %d, want 5", len(p))
	}
	for i := 1; i < len(p); i++ {
		if p[i].Seq <= p[i-1].Seq {
			t.Errorf("pending not in arrival order: %d after %d", p[i].Seq, p[i-1].Seq)
		}
	}
	if err := s2.Ack(p[0].Seq, p[1].Seq, 1<<40); err != nil {
		t.Fatal(err)
	}
	if n, _ := s2.QueueDepth(); n != 3 {
		t.Errorf("depth after ack = %d, want 3", n)
	}
}

func pendingSHAs(ps []state.SmartPending) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.SHA
	}
	return out
}

func testSmartPendingReachable(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
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
	// Same date: the order they were added in.
	same := state.RepoKey{Provider: "github", ID: 8}
	if err := s.AddSmartPending(same, []state.SmartPending{{SHA: f2, When: at(3)}, {SHA: f1, When: at(3)}, {SHA: r, When: at(3)}}); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.SmartPendingCommits(same); !slices.Equal(pendingSHAs(got), []string{f2, f1, r}) {
		t.Errorf("same date: %v, want the order added", pendingSHAs(got))
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
	if got, _ := s.SmartPendingReachable(k, "main", f2, nil, nil); len(got) == 2 && got[1].Message != "ABC-1 #comment two" {
		t.Errorf("record not returned whole: %+v", got[1])
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
	if got, _ := s.SmartPendingCommits(same); len(got) != 3 {
		t.Errorf("another repo's pending smart commits touched: %v", pendingSHAs(got))
	}
	if err := s.ForgetRepo(k); err != nil {
		t.Fatal(err)
	}
	if all, err := s.SmartPendingCommits(k); err != nil || len(all) != 0 {
		t.Errorf("after ForgetRepo: %v, %v", pendingSHAs(all), err)
	}
}

const (
	ledgerSHA1 = "53a78e36f996c3c4a4ea1e0b6e3d5a0b1c2d3e4f"
	ledgerSHA2 = "0f1e2d3c4b5a69788796a5b4c3d2e1f00112233"
)

func testLedger(t *testing.T, open func(*testing.T) Backend) {
	st := open(t)
	l := st.Ledger()
	t0 := time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)
	rec := func(sha string, i int, issue string, st smartcommit.State, created time.Time) smartcommit.Record {
		return smartcommit.Record{
			ID: smartcommit.CommandID("github", sha, i), Index: i, Issue: issue, Kind: smartcommit.KindComment,
			Command: issue + " #comment x", Text: "x", State: st, Created: created, Updated: created,
			Commit: smartcommit.CommitInfo{Provider: "github", SHA: sha},
		}
	}
	a0 := rec(ledgerSHA1, 0, "ABC-1", smartcommit.StatePending, t0.Add(time.Minute))
	a1 := rec(ledgerSHA1, 1, "ABC-12", smartcommit.StateFailed, t0.Add(time.Minute))
	a10 := rec(ledgerSHA1, 10, "ABC-1", smartcommit.StateDone, t0.Add(time.Minute))
	b0 := rec(ledgerSHA2, 0, "ABC-1", smartcommit.StatePending, t0)
	if err := l.Put(a10, a0, a1, b0); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := l.Get("github/none/0"); ok || err != nil {
		t.Errorf("Get of a missing id: ok=%v err=%v", ok, err)
	}
	got, ok, err := l.Get(a1.ID)
	if !ok || err != nil || !reflect.DeepEqual(got, a1) {
		t.Errorf("Get = %+v, %v, %v", got, ok, err)
	}

	ids := func(rs []smartcommit.Record, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	// Oldest first, then by position in the message (10 after 0).
	if got, want := ids(l.ByIssue("ABC-1")), []string{b0.ID, a0.ID, a10.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("ByIssue(ABC-1) = %q, want %q", got, want)
	}
	if got, want := ids(l.ByIssue("")), []string{b0.ID, a0.ID, a1.ID, a10.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("ByIssue() = %q, want %q", got, want)
	}
	if got, want := ids(l.Pending()), []string{b0.ID, a0.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("Pending = %q, want %q", got, want)
	}

	// A pending record that is done leaves the pending index; it survives
	// a reopen.
	a0.State = smartcommit.StateDone
	if err := l.Put(a0); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := open(t).Ledger()
	if got, want := ids(l2.Pending()), []string{b0.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("Pending after reopen = %q, want %q", got, want)
	}
	if got, ok, _ := l2.Get(a0.ID); !ok || got.State != smartcommit.StateDone {
		t.Errorf("after reopen: %+v", got)
	}
	if err := l2.Put(smartcommit.Record{Issue: "ABC-1"}); err == nil {
		t.Error("record without id stored")
	}
	// All or none: a batch with an invalid record stores nothing.
	c0 := rec(ledgerSHA2, 1, "ABC-2", smartcommit.StatePending, t0)
	if err := l2.Put(c0, smartcommit.Record{Issue: "ABC-2"}); err == nil {
		t.Error("batch with a record without id stored")
	}
	if _, ok, _ := l2.Get(c0.ID); ok {
		t.Error("part of a failed batch stored")
	}
	if err := l2.Put(); err != nil {
		t.Errorf("empty Put: %v", err)
	}
}

func testLedgerCountFailed(t *testing.T, open func(*testing.T) Backend) {
	l := open(t).Ledger()
	if n, err := l.CountFailed(); n != 0 || err != nil {
		t.Fatalf("empty ledger: %d, %v", n, err)
	}
	now := time.Now()
	var recs []smartcommit.Record
	for i, st := range []smartcommit.State{smartcommit.StateFailed, smartcommit.StateDone, smartcommit.StatePending, smartcommit.StateFailed} {
		recs = append(recs, smartcommit.Record{ID: smartcommit.CommandID("github", ledgerSHA1, i), Index: i, Issue: "ABC-1", Kind: smartcommit.KindComment,
			State: st, Created: now, Updated: now, Commit: smartcommit.CommitInfo{Provider: "github", SHA: ledgerSHA1}})
	}
	recs[2].Error = "503 from Jira; will retry" // pending: not failed for good
	if err := l.Put(recs...); err != nil {
		t.Fatal(err)
	}
	if n, err := l.CountFailed(); n != 2 || err != nil {
		t.Errorf("CountFailed = %d, %v; want 2", n, err)
	}
}

// testConcurrentWriters: writers in parallel goroutines (as passes of
// several providers, the webhook handler and the worker are) lose no
// write, and read-modify-write steps are atomic.
func testConcurrentWriters(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
	const workers, rounds = 8, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers*rounds*8+workers*5)
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			k := state.RepoKey{Provider: "github", ID: int64(w)}
			var prev string
			for i := range rounds {
				sha := fmt.Sprintf("%020x%020x", w, i)
				var parents []string
				if prev != "" {
					parents = []string{prev}
				}
				prev = sha
				st := state.RepoState{Key: k, Branches: map[string]string{"main": sha}, Commits: i + 1}
				errs <- s.AdvanceBranch(st, "main", []state.Commit{state.NewCommit(sha, parents)})
				errs <- s.PutLinks(map[state.Link]state.LinkRecord{{GlobalID: fmt.Sprintf("g/%d/%d", w, i), Issue: "P-1"}: {Hash: uint64(i)}})
				errs <- s.UpdateHealth("shared", func(h *state.Health) { h.Failures++ })
				errs <- s.RecordRepoFailure(state.RepoKey{Provider: "gitlab", ID: 1}, providers.Repo{ID: 1}, state.Failure{Err: "x", At: t0})
				_, _, err := s.Enqueue(state.Delivery{Provider: "github", ID: fmt.Sprintf("d-%d", i), ReceivedAt: t0}, time.Hour)
				errs <- err
				errs <- s.Ledger().Put(smartcommit.Record{ID: fmt.Sprintf("r-%d-%d", w, i), Issue: "P-1", State: smartcommit.StateFailed, Created: t0})
				errs <- s.AddSmartPending(state.RepoKey{Provider: "github", ID: 100}, []state.SmartPending{{SHA: sha, When: t0}})
				errs <- s.PutIssues(map[string]state.IssueStatus{"P-1": {Exists: true, CheckedAt: t0}})
			}
		}()
	}
	// Branches of one repo advanced at once, over a shared history given
	// in different orders.
	shared := state.RepoKey{Provider: "github", ID: 200}
	hist := make([]state.Commit, 50)
	for i := range hist {
		var parents []string
		if i > 0 {
			parents = []string{hist[i-1].SHA()}
		}
		hist[i] = state.NewCommit(fmt.Sprintf("%040x", 1000+i), parents)
	}
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			cs := slices.Clone(hist)
			if w%2 == 1 {
				slices.Reverse(cs)
			}
			for i := range 5 {
				st := state.RepoState{Key: shared, Branches: map[string]string{fmt.Sprintf("b%d", w): hist[len(hist)-1].SHA()}}
				errs <- s.AdvanceBranch(st, fmt.Sprintf("b%d-%d", w, i), cs)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := s.CommitCount(shared); n != len(hist) {
		t.Errorf("shared history: %d commits, want %d", n, len(hist))
	}
	for w := range workers {
		k := state.RepoKey{Provider: "github", ID: int64(w)}
		if n, _ := s.CommitCount(k); n != rounds {
			t.Errorf("repo %d: %d commits, want %d", w, n, rounds)
		}
		if ok, _ := s.IsAncestor(k, fmt.Sprintf("%020x%020x", w, 0), []string{fmt.Sprintf("%020x%020x", w, rounds-1)}); !ok {
			t.Errorf("repo %d: history broken", w)
		}
	}
	n := 0
	_ = s.AllLinks(func(state.Link) error { n++; return nil })
	if n != workers*rounds {
		t.Errorf("%d links, want %d", n, workers*rounds)
	}
	hs, _ := s.Health()
	if len(hs) != 1 || hs[0].Failures != workers*rounds {
		t.Errorf("health = %+v, want %d failures counted", hs, workers*rounds)
	}
	if st, _, _ := s.Repo(state.RepoKey{Provider: "gitlab", ID: 1}); st.Failures != workers*rounds {
		t.Errorf("repo failures = %d, want %d", st.Failures, workers*rounds)
	}
	if d, _ := s.QueueDepth(); d != rounds {
		t.Errorf("queue depth %d, want %d (one per delivery id)", d, rounds)
	}
	if c, _ := s.Ledger().CountFailed(); c != workers*rounds {
		t.Errorf("ledger holds %d failed, want %d", c, workers*rounds)
	}
	if ps, _ := s.SmartPendingCommits(state.RepoKey{Provider: "github", ID: 100}); len(ps) != workers*rounds {
		t.Errorf("%d pending smart commits, want %d", len(ps), workers*rounds)
	}
}
