package indexer_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/keys"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

const (
	ghToken   = "ghp_e2e_token_value"
	jiraToken = "jira-e2e-token-value"
	repoID    = 1001
)

type stack struct {
	provider string // provider name: part of every globalId
	hist     *corpus.History
	gh       *githubtest.Server
	repo     *githubtest.RepoHandle
	jira     *jiratest.Server
	store    *boltstore.Store
	ix       *indexer.Indexer
	tgt      indexer.Target
	jc       *jiraclient.Client
	m        *keys.Matcher
}

func noSleep(context.Context, time.Duration) error { return nil }

func newStack(t *testing.T, hist *corpus.History, wrap func(indexer.Jira) indexer.Jira) *stack {
	t.Helper()
	s := &stack{hist: hist, provider: "github"}
	s.gh = githubtest.Start(t, githubtest.Options{Token: ghToken})
	s.repo = s.gh.AddCorpusRepo("apache", "zookeeper", repoID, hist)
	s.jira = jiratest.Start(t, jiratest.Options{Token: jiraToken, IssueExists: jiratest.DemoIssues})
	var err error
	s.openCommon(t)
	gc, err := github.New(github.Options{Name: "github", BaseURL: s.gh.URL(), Token: ghToken, Retry: httpx.RetryOptions{Sleep: noSleep}})
	if err != nil {
		t.Fatal(err)
	}
	s.tgt = indexer.Target{Name: "github", Type: providers.TypeGitHub, Source: gc, Repos: []string{"apache/zookeeper"}}
	s.ix = s.newIndexer(t, wrap)
	return s
}

// openCommon starts the fake Jira and opens the state, Jira client and
// matcher shared by both providers' stacks.
func (s *stack) openCommon(t *testing.T) {
	t.Helper()
	var err error
	s.store, err = boltstore.Open(filepath.Join(t.TempDir(), "state.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.store.Close() })
	s.jc, err = jiraclient.New(jiraclient.Options{BaseURL: s.jira.URL(), Auth: jiraclient.Auth{Token: jiraToken}, Retry: httpx.RetryOptions{Sleep: noSleep}})
	if err != nil {
		t.Fatal(err)
	}
	s.m, err = keys.NewMatcher("", true)
	if err != nil {
		t.Fatal(err)
	}
}

func (s *stack) newIndexer(t *testing.T, wrap func(indexer.Jira) indexer.Jira) *indexer.Indexer {
	var j indexer.Jira = s.jc
	if wrap != nil {
		j = wrap(j)
	}
	ix, err := indexer.New(indexer.Options{Store: s.store, Jira: j, Matcher: s.m})
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

func (s *stack) sync(t *testing.T) indexer.Report {
	t.Helper()
	return s.ix.Sync(context.Background(), s.tgt, "")
}

// expectedLinks computes, independently of the indexer's incremental walk,
// which links must exist: every commit reachable from a branch, every branch
// and tag name, and every pull request, each linked to each existing issue
// its text names.
func expectedLinks(t *testing.T, s *stack) map[string]map[string]bool {
	t.Helper()
	want := map[string]map[string]bool{}
	key := state.RepoKey{Provider: s.provider, ID: repoID}
	add := func(gid string, ks []string) {
		for _, k := range ks {
			if jiratest.DemoIssues(k) {
				if want[k] == nil {
					want[k] = map[string]bool{}
				}
				want[k][gid] = true
			}
		}
	}
	var heads []string
	for _, b := range s.hist.Branches() {
		heads = append(heads, b.SHA)
		add(indexer.GlobalID(key, indexer.KindBranch, b.Name), s.m.Branch(b.Name))
	}
	for _, tg := range s.hist.Tags() {
		add(indexer.GlobalID(key, indexer.KindTag, tg.Name), s.m.Branch(tg.Name))
	}
	for sha := range s.hist.Reachable(heads...) {
		c, _ := s.hist.Commit(sha)
		add(indexer.GlobalID(key, indexer.KindCommit, sha), s.m.Prose(c.Message))
	}
	for _, p := range s.hist.PullRequests() {
		ks := append(append(s.m.Prose(p.Title), s.m.Prose(p.Body)...), s.m.Branch(p.HeadBranch)...)
		add(indexer.GlobalID(key, indexer.KindPull, strconv.Itoa(p.Number)), ks)
	}
	return want
}

// jiraLinks reads what the fake Jira holds, failing on any duplicate
// globalId on an issue.
func jiraLinks(t testing.TB, j *jiratest.Server) map[string]map[string]bool {
	t.Helper()
	got := map[string]map[string]bool{}
	for issue, links := range j.AllLinks() {
		for _, l := range links {
			if got[issue] == nil {
				got[issue] = map[string]bool{}
			}
			if got[issue][l.GlobalID] {
				t.Errorf("duplicate link %s on %s", l.GlobalID, issue)
			}
			got[issue][l.GlobalID] = true
		}
	}
	return got
}

func countLinks(m map[string]map[string]bool) int {
	n := 0
	for _, s := range m {
		n += len(s)
	}
	return n
}

func diffLinks(t *testing.T, want, got map[string]map[string]bool) {
	t.Helper()
	var missing, extra []string
	for issue, gids := range want {
		for g := range gids {
			if !got[issue][g] {
				missing = append(missing, issue+" ← "+g)
			}
		}
	}
	for issue, gids := range got {
		for g := range gids {
			if !want[issue][g] {
				extra = append(extra, issue+" ← "+g)
			}
		}
	}
	sort.Strings(missing)
	sort.Strings(extra)
	if len(missing)+len(extra) > 0 {
		t.Errorf("link set differs: %d missing %v, %d extra %v", len(missing), head(missing), len(extra), head(extra))
	}
}

func head(s []string) []string {
	if len(s) > 10 {
		return s[:10]
	}
	return s
}

// forbidden matches every GitHub endpoint that can return source code or
// diffs.
var forbidden = regexp.MustCompile(`/(contents|readme|git/blobs|git/trees|tarball|zipball|archive|compare)(/|$)|/commits/[^/]+$|/pulls/\d+(/files)?$`)

func assertNoForbidden(t *testing.T, reqs []githubtest.Request) {
	t.Helper()
	for _, r := range reqs {
		if forbidden.MatchString(r.Path) || strings.Contains(r.Accept, "diff") || strings.Contains(r.Accept, "patch") {
			t.Errorf("forbidden endpoint reached: %s %s (Accept %q)", r.Method, r.Path, r.Accept)
		}
	}
}

func mustOK(t *testing.T, rep indexer.Report) {
	t.Helper()
	if rep.Err != nil {
		t.Fatalf("pass failed: %v", rep.Err)
	}
	for _, r := range rep.Repos {
		if r.Err != nil {
			t.Fatalf("repo %s failed: %v", r.Repo, r.Err)
		}
	}
}

func TestEndToEndCorpus(t *testing.T) {
	hist, err := corpus.ZooKeeper()
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, hist, nil)
	want := expectedLinks(t, s)

	rep := s.sync(t)
	mustOK(t, rep)
	got := jiraLinks(t, s.jira)
	diffLinks(t, want, got)
	nLinks := countLinks(want)
	if nLinks < 4000 {
		t.Fatalf("expected set suspiciously small: %d links", nLinks)
	}
	if w := rep.Repos[0].LinksWritten; w != nLinks {
		t.Errorf("report says %d links written, want %d", w, nLinks)
	}

	// Jira calls: one write per link, searches batched by 100 unknown keys.
	calls := s.jira.Calls()
	if calls.Writes != nLinks {
		t.Errorf("Jira writes = %d, want exactly %d (one per link)", calls.Writes, nLinks)
	}
	if limit := int(math.Ceil(float64(nLinks) * 1.05)); calls.Total > limit {
		t.Errorf("Jira calls = %d, more than 5%% above the %d links written", calls.Total, nLinks)
	}

	// Provider calls: every reachable commit listed once, in pages of 100.
	reqs := s.gh.Requests()
	assertNoForbidden(t, reqs)
	if f := s.gh.ForbiddenRequests(); len(f) != 0 {
		t.Errorf("the fake saw forbidden requests: %+v", f)
	}
	var heads []string
	for _, b := range hist.Branches() {
		heads = append(heads, b.SHA)
	}
	reachable := len(hist.Reachable(heads...))
	commitPages := 0
	for _, r := range reqs {
		if strings.HasSuffix(r.Path, "/commits") {
			commitPages++
		}
	}
	lower := int(math.Ceil(float64(reachable) / 100))
	t.Logf("backfill: %d reachable commits, %d commit pages (lower bound %d), %d GitHub calls, %d Jira calls, %d links",
		reachable, commitPages, lower, len(reqs), calls.Total, nLinks)
	// Each branch's walk ends on a partly-read page; allow one per branch.
	if commitPages > lower+len(hist.Branches()) {
		t.Errorf("commit pages = %d, lower bound %d (+%d branches)", commitPages, lower, len(hist.Branches()))
	}

	// Second run: nothing changed, so zero rate-limited calls and no writes.
	s.gh.ResetRequests()
	s.jira.ResetCalls()
	mustOK(t, s.sync(t))
	for _, r := range s.gh.Requests() {
		if r.Counted {
			t.Errorf("second run made a rate-limit-counted call: %s %s?%s → %d", r.Method, r.Path, r.RawQuery, r.Status)
		}
	}
	if c := s.jira.Calls(); c.Writes != 0 {
		t.Errorf("second run wrote %d times to Jira", c.Writes)
	}
	diffLinks(t, want, jiraLinks(t, s.jira))
}

// smallHistory is a hand-made history with a merge whose merged line is
// older than the branch's previous head, to exercise the frontier walk.
func smallHistory(t *testing.T) (*corpus.Builder, map[string]string) {
	b := corpus.NewBuilder()
	at := func(h int) time.Time { return time.Date(2024, 1, 1, h, 0, 0, 0, time.UTC) }
	shas := map[string]string{}
	shas["root"] = b.Commit(nil, "ZOOKEEPER-1: initial import", at(0))
	shas["side1"] = b.Commit([]string{shas["root"]}, "ZOOKEEPER-2: side work", at(1))
	shas["main1"] = b.Commit([]string{shas["root"]}, "ZOOKEEPER-3: main work", at(5))
	b.Branch("master", shas["main1"])
	b.Branch("feature/zookeeper-4-side", shas["side1"])
	return b, shas
}

func TestIncrementalMergeBranchDeleteAndResume(t *testing.T) {
	b, shas := smallHistory(t)
	s := newStack(t, b.Build(), nil)
	mustOK(t, s.sync(t))
	key := state.RepoKey{Provider: "github", ID: repoID}
	gid := func(k indexer.EntityKind, id string) string { return indexer.GlobalID(key, k, id) }
	if got := jiraLinks(t, s.jira); !got["ZOOKEEPER-2"][gid(indexer.KindCommit, shas["side1"])] || !got["ZOOKEEPER-4"][gid(indexer.KindBranch, "feature/zookeeper-4-side")] {
		t.Fatalf("initial links missing: %v", got)
	}

	// An old-dated commit on the side line is merged into master. Listing
	// master shows merge, main1, side2 (old date), side1, root: the walk
	// must not stop at main1 (known) while side2 is still unseen.
	at := func(h int) time.Time { return time.Date(2024, 1, 1, h, 0, 0, 0, time.UTC) }
	side2 := corpus.Commit{SHA: "5151515151515151515151515151515151515151", Parents: []string{shas["side1"]}, AuthorName: "a", AuthorDate: at(2), CommitterDate: at(2), Message: "ZOOKEEPER-5: older side work"}
	merge := corpus.Commit{SHA: "6161616161616161616161616161616161616161", Parents: []string{shas["main1"], side2.SHA}, AuthorName: "a", AuthorDate: at(9), CommitterDate: at(9), Message: "Merge side (ZOOKEEPER-6)"}
	s.repo.AddCommit(side2)
	s.repo.AddCommit(merge)
	s.repo.SetBranch("master", merge.SHA)
	s.repo.DeleteBranch("feature/zookeeper-4-side")
	s.jira.ResetCalls()
	rep := s.sync(t)
	mustOK(t, rep)
	got := jiraLinks(t, s.jira)
	if !got["ZOOKEEPER-5"][gid(indexer.KindCommit, side2.SHA)] || !got["ZOOKEEPER-6"][gid(indexer.KindCommit, merge.SHA)] {
		t.Errorf("merged history not linked: %v", got)
	}
	if got["ZOOKEEPER-4"][gid(indexer.KindBranch, "feature/zookeeper-4-side")] {
		t.Errorf("deleted branch's link still in Jira")
	}
	if c := s.jira.Calls(); c.Writes != 3 { // two commit links + one delete
		t.Errorf("incremental sync made %d Jira writes, want 3", c.Writes)
	}
	if rep.Repos[0].Commits != 2 {
		t.Errorf("incremental sync walked %d new commits, want 2", rep.Repos[0].Commits)
	}
}

// failingJira fails every UpsertRemoteLink after the first n, like a Jira
// that goes down mid-backfill.
type failingJira struct {
	indexer.Jira
	mu sync.Mutex
	n  int
	// only, when set, limits the count and the failures to the links
	// whose globalId contains it (pull request links, written beside the
	// branch walks, then neither count nor fail).
	only string
}

var errJiraDown = errors.New("jira down")

func (f *failingJira) UpsertRemoteLink(ctx context.Context, key string, l jiraclient.RemoteLink) (int64, error) {
	if f.only != "" && !strings.Contains(l.GlobalID, f.only) {
		return f.Jira.UpsertRemoteLink(ctx, key, l)
	}
	f.mu.Lock()
	f.n--
	left := f.n
	f.mu.Unlock()
	if left < 0 {
		return 0, errJiraDown
	}
	return f.Jira.UpsertRemoteLink(ctx, key, l)
}

func TestInterruptedBackfillResumesWithoutDuplicates(t *testing.T) {
	hist, err := corpus.ZooKeeper()
	if err != nil {
		t.Fatal(err)
	}
	for _, failAfter := range []int{1, 2500} {
		t.Run(fmt.Sprint(failAfter), func(t *testing.T) {
			s := newStack(t, hist, func(j indexer.Jira) indexer.Jira { return &failingJira{Jira: j, n: failAfter} })
			rep := s.sync(t)
			if rep.Failed() == 0 || !errors.Is(rep.Repos[0].Err, errJiraDown) {
				t.Fatalf("want the pass to fail with Jira down, got %+v", rep)
			}
			st, _, _ := s.store.Repo(state.RepoKey{Provider: "github", ID: repoID})
			if st.Status != state.RepoFailed || st.LastError == "" {
				t.Errorf("repo state after failure = %s %q", st.Status, st.LastError)
			}
			// Jira is back: the next pass completes the job exactly.
			s.ix = s.newIndexer(t, nil)
			s.jira.ResetCalls()
			mustOK(t, s.sync(t))
			want := expectedLinks(t, s)
			diffLinks(t, want, jiraLinks(t, s.jira))
			if w := s.jira.Calls().Writes; w > countLinks(want)-failAfter {
				t.Errorf("resume rewrote links already written: %d writes for %d remaining", w, countLinks(want)-failAfter)
			}
		})
	}
}

func TestRenameRelinksInPlaceAndDeleteRemoves(t *testing.T) {
	b, shas := smallHistory(t)
	s := newStack(t, b.Build(), nil)
	mustOK(t, s.sync(t))
	before := jiraLinks(t, s.jira)
	n := countLinks(before)

	// Renamed on GitHub: same id, new URL. The configured old name is
	// followed through GitHub's redirect; every link is updated in place.
	s.repo.Rename("apache", "zk")
	s.jira.ResetCalls()
	mustOK(t, s.sync(t))
	after := jiraLinks(t, s.jira)
	diffLinks(t, before, after) // same issues, same globalIds
	if c := s.jira.Calls(); c.Writes != n {
		t.Errorf("rename rewrote %d links, want all %d", c.Writes, n)
	}
	for _, l := range s.jira.Links("ZOOKEEPER-1") {
		if !strings.Contains(l.Object.URL, "/apache/zk/") {
			t.Errorf("link not updated to the new URL: %s", l.Object.URL)
		}
	}
	if got := s.jira.Links("ZOOKEEPER-1"); len(got) != 1 || !strings.HasSuffix(got[0].Object.URL, shas["root"]) {
		t.Errorf("ZOOKEEPER-1 links after rename: %+v", got)
	}

	// Deleted: every link of the repo goes, and the repo is forgotten.
	deleted, err := s.ix.RemoveRepo(context.Background(), s.tgt, repoID)
	if err != nil || deleted != n {
		t.Fatalf("RemoveRepo deleted %d (%v), want %d", deleted, err, n)
	}
	if got := countLinks(jiraLinks(t, s.jira)); got != 0 {
		t.Errorf("%d links left after repo deletion", got)
	}
	if _, ok, _ := s.store.Repo(state.RepoKey{Provider: "github", ID: repoID}); ok {
		t.Error("deleted repo still in state")
	}
}

func TestDeletedRepoLosesItsLinksOnNextPass(t *testing.T) {
	b, _ := smallHistory(t)
	s := newStack(t, b.Build(), nil)
	mustOK(t, s.sync(t))
	if n := countLinks(jiraLinks(t, s.jira)); n == 0 {
		t.Fatal("no links to start with")
	}
	s.gh.DeleteRepo("apache", "zookeeper")
	rep := s.sync(t)
	if rep.Err == nil || !strings.Contains(rep.Err.Error(), "apache/zookeeper") {
		t.Errorf("a configured repo that vanished must be reported: %v", rep.Err)
	}
	if len(rep.Removed) != 1 {
		t.Errorf("removed = %v", rep.Removed)
	}
	if n := countLinks(jiraLinks(t, s.jira)); n != 0 {
		t.Errorf("%d links left after the repo was deleted", n)
	}
}

func TestUnconfiguredRepoKeepsLinksUnlessPruned(t *testing.T) {
	b, _ := smallHistory(t)
	s := newStack(t, b.Build(), nil)
	mustOK(t, s.sync(t))
	n := countLinks(jiraLinks(t, s.jira))
	s.tgt.Repos = nil
	s.tgt.Owners = []string{"nobody-org"}
	s.gh.AddOrg("nobody-org")
	mustOK(t, s.sync(t))
	if got := countLinks(jiraLinks(t, s.jira)); got != n {
		t.Errorf("repo removed from the configuration lost links: %d → %d", n, got)
	}
	s.tgt.PruneRemovedRepos = true
	rep := s.sync(t)
	mustOK(t, rep)
	if got := countLinks(jiraLinks(t, s.jira)); got != 0 || len(rep.Removed) != 1 {
		t.Errorf("prune_removed_repos: %d links left, removed %v", got, rep.Removed)
	}
}

func TestForcePushPrunesUnreachableCommitsOnly(t *testing.T) {
	for _, prune := range []bool{true, false} {
		t.Run(fmt.Sprint("prune=", prune), func(t *testing.T) {
			at := func(h int) time.Time { return time.Date(2024, 2, 1, h, 0, 0, 0, time.UTC) }
			b := corpus.NewBuilder()
			root := b.Commit(nil, "ZOOKEEPER-1: root", at(0))
			shared := b.Commit([]string{root}, "ZOOKEEPER-2: on main and on the release branch", at(1))
			dropped := b.Commit([]string{shared}, "ZOOKEEPER-3: will be force-pushed away", at(2))
			tagged := b.Commit([]string{shared}, "ZOOKEEPER-4: reachable only from a tag after the rewrite", at(3))
			b.Branch("master", dropped)
			b.Branch("release", shared)
			b.Branch("topic", tagged)
			s := newStack(t, b.Build(), nil)
			s.tgt.PruneUnreachable = prune
			s.repo.SetDefaultBranch("master")
			mustOK(t, s.sync(t))
			key := state.RepoKey{Provider: "github", ID: repoID}
			gid := func(sha string) string { return indexer.GlobalID(key, indexer.KindCommit, sha) }
			if got := jiraLinks(t, s.jira); !got["ZOOKEEPER-3"][gid(dropped)] || !got["ZOOKEEPER-4"][gid(tagged)] {
				t.Fatalf("initial links: %v", got)
			}

			// Force-push master to a rewritten commit; the topic branch is
			// deleted but a tag keeps its commit reachable.
			rewritten := corpus.Commit{SHA: "7171717171717171717171717171717171717171", Parents: []string{shared}, AuthorName: "dev",
				AuthorDate: at(5), CommitterDate: at(5), Message: "ZOOKEEPER-5: rewritten"}
			s.repo.AddCommit(rewritten)
			s.repo.SetBranch("master", rewritten.SHA)
			s.repo.SetTag("v1", tagged)
			s.repo.DeleteBranch("topic")
			mustOK(t, s.sync(t))
			got := jiraLinks(t, s.jira)
			if !got["ZOOKEEPER-5"][gid(rewritten.SHA)] {
				t.Error("new history not linked")
			}
			if !got["ZOOKEEPER-2"][gid(shared)] || !got["ZOOKEEPER-1"][gid(root)] {
				t.Error("commits still reachable lost their links")
			}
			if !got["ZOOKEEPER-4"][gid(tagged)] {
				t.Error("a commit reachable from a tag lost its link")
			}
			if got["ZOOKEEPER-3"][gid(dropped)] == prune {
				t.Errorf("force-pushed-away commit link present=%v with prune_unreachable=%v", got["ZOOKEEPER-3"][gid(dropped)], prune)
			}
		})
	}
}

func TestReconcileRepairsWhatConditionalListsHide(t *testing.T) {
	b, shas := smallHistory(t)
	s := newStack(t, b.Build(), nil)
	mustOK(t, s.sync(t))
	key := state.RepoKey{Provider: "github", ID: repoID}

	// A push lands, but the state ends up with the new branch-list ETag and
	// the old cursor (what a lost update would leave behind).
	c := corpus.Commit{SHA: "8181818181818181818181818181818181818181", Parents: []string{shas["main1"]}, AuthorName: "dev",
		AuthorDate: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), CommitterDate: time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC), Message: "ZOOKEEPER-78: hidden"}
	s.repo.AddCommit(c)
	s.repo.SetBranch("master", c.SHA)
	st, _, _ := s.store.Repo(key)
	l, err := s.tgt.Source.Branches(context.Background(), st.Repo, providers.ListState{})
	if err != nil {
		t.Fatal(err)
	}
	st.BranchList = l.State
	if err := s.store.PutRepo(st); err != nil {
		t.Fatal(err)
	}
	mustOK(t, s.sync(t))
	if len(s.jira.Links("ZOOKEEPER-78")) != 0 {
		t.Fatal("test premise broken: a normal pass already saw the push")
	}
	mustOK(t, s.ix.Reconcile(context.Background(), s.tgt))
	if got := s.jira.Links("ZOOKEEPER-78"); len(got) != 1 {
		t.Errorf("reconciliation did not repair the missed push: %+v", got)
	}
}

func TestProviderOutageFailsTheRepoAndTheNextPassCompletes(t *testing.T) {
	b, _ := smallHistory(t)
	s := newStack(t, b.Build(), nil)
	// GitHub answers 503 to the commit listing for as long as the retry
	// transport keeps trying (5 attempts) the backfill's history-size
	// request and then the walk, then recovers.
	s.gh.FailNext("GET /repos/{owner}/{repo}/commits", 2*httpx.DefaultMaxAttempts, http.StatusServiceUnavailable, nil, `{"message":"Service Unavailable"}`)
	rep := s.sync(t)
	if rep.Failed() == 0 {
		t.Fatal("the pass reported success during an outage")
	}
	st, _, _ := s.store.Repo(state.RepoKey{Provider: "github", ID: repoID})
	// The outage hit the first walk (the default branch's); the other
	// branch, walked after GitHub recovered, may advance.
	if _, moved := st.Branches["master"]; st.Status != state.RepoFailed || moved || len(st.BranchList.ETags) != 0 {
		t.Errorf("cursors advanced during the outage: status %s, branches %v, list %v", st.Status, st.Branches, st.BranchList)
	}
	// GitHub is back: the next pass completes everything, exactly.
	mustOK(t, s.sync(t))
	diffLinks(t, expectedLinks(t, s), jiraLinks(t, s.jira))
}

// TestInterruptedWalkResumesFromItsCheckpoint: a backfill that dies deep
// into a long branch resumes at its last checkpoint instead of listing the
// branch again, and still ends with the exact link set.
func TestInterruptedWalkResumesFromItsCheckpoint(t *testing.T) {
	hist, err := corpus.ZooKeeper()
	if err != nil {
		t.Fatal(err)
	}
	// master is walked first: 2,718 commits on 28 pages; a checkpoint is
	// saved at page 21. Jira goes down after 2,000 commit link writes, on
	// page ~24.
	s := newStack(t, hist, func(j indexer.Jira) indexer.Jira { return &failingJira{Jira: j, n: 2000, only: "/commit/"} })
	s.repo.SetDefaultBranch("master")
	if rep := s.sync(t); rep.Failed() == 0 {
		t.Fatal("first pass should fail with Jira down")
	}
	st, _, _ := s.store.Repo(state.RepoKey{Provider: "github", ID: repoID})
	ck, ok := st.Walks["master"]
	if !ok || ck.NextPage != 21 || ck.Walked == 0 {
		t.Fatalf("no checkpoint of master's walk: %+v", st.Walks)
	}
	s.ix = s.newIndexer(t, nil)
	s.gh.ResetRequests()
	mustOK(t, s.sync(t))
	var masterPages []string
	for _, r := range s.gh.Requests() {
		if strings.HasSuffix(r.Path, "/commits") && strings.Contains(r.RawQuery, "sha="+ck.Head) {
			masterPages = append(masterPages, r.RawQuery)
		}
	}
	if len(masterPages) == 0 || !strings.Contains(masterPages[0], "page=21") || len(masterPages) > 8 {
		t.Errorf("master's walk did not resume at page 21: %v", masterPages)
	}
	diffLinks(t, expectedLinks(t, s), jiraLinks(t, s.jira))
	st, _, _ = s.store.Repo(state.RepoKey{Provider: "github", ID: repoID})
	if len(st.Walks) != 0 {
		t.Errorf("checkpoints left after completion: %+v", st.Walks)
	}
	if n, _ := s.store.CommitCount(state.RepoKey{Provider: "github", ID: repoID}); n != len(hist.Reachable(branchHeads(hist)...)) {
		t.Errorf("indexed %d commits, want every reachable one", n)
	}
}

func branchHeads(h *corpus.History) []string {
	var out []string
	for _, b := range h.Branches() {
		out = append(out, b.SHA)
	}
	return out
}
