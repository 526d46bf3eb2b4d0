package indexer_test

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
	"github.com/jiralinkd/jiralinkd/providers/gitlab"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// feedStack is an org of three small repositories indexed with change
// feeds between full sweeps every 6 hours, on one clock shared by the fake GitHub
// and the indexer.
type feedStack struct {
	mu    sync.Mutex
	clock time.Time
	gh    *githubtest.Server
	repos map[string]*githubtest.RepoHandle
	heads map[string]string
	s     *stack
	tgt   indexer.Target
}

func (f *feedStack) now() time.Time { f.mu.Lock(); defer f.mu.Unlock(); return f.clock }
func (f *feedStack) advance(d time.Duration) {
	f.mu.Lock()
	f.clock = f.clock.Add(d)
	f.mu.Unlock()
}

func newFeedStack(t *testing.T) *feedStack {
	f := &feedStack{clock: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC), repos: map[string]*githubtest.RepoHandle{}, heads: map[string]string{}}
	f.gh = githubtest.Start(t, githubtest.Options{Token: ghToken, Now: f.now})
	f.gh.AddOrg("acme")
	for i, name := range []string{"a", "b", "c"} {
		h, shas := smallRepo(f.gh, int64(31+i), name)
		f.repos[name], f.heads[name] = h, shas["main"]
	}
	f.s = &stack{provider: "github", jira: jiratest.Start(t, jiratest.Options{Token: jiraToken, IssueExists: jiratest.DemoIssues})}
	f.s.openCommon(t)
	var err error
	f.s.ix, err = indexer.New(indexer.Options{Store: f.s.store, Jira: f.s.jc, Matcher: f.s.m, Now: f.now})
	if err != nil {
		t.Fatal(err)
	}
	f.tgt = indexer.Target{Name: "github", Type: providers.TypeGitHub, Source: f.client(t), Owners: []string{"acme"},
		FullSweepInterval: 6 * time.Hour, PruneUnreachable: true}
	return f
}

func (f *feedStack) client(t *testing.T) *github.Client {
	gc, err := github.New(github.Options{Name: "github", BaseURL: f.gh.URL(), Token: ghToken, Retry: httpx.RetryOptions{Sleep: noSleep, Now: f.now}})
	if err != nil {
		t.Fatal(err)
	}
	return gc
}

// pass runs a pass five minutes after the last one and checks whether it
// was a sweep; it returns the provider requests it made.
func (f *feedStack) pass(t *testing.T, wantSweep bool) []string {
	t.Helper()
	f.advance(5 * time.Minute)
	before := len(f.gh.Requests())
	rep := f.s.ix.Sync(context.Background(), f.tgt, "")
	mustOK(t, rep)
	if rep.Sweep != wantSweep {
		t.Fatalf("pass at %s: sweep %v, want %v", f.now().Format(time.TimeOnly), rep.Sweep, wantSweep)
	}
	var reqs []string
	for _, r := range f.gh.Requests()[before:] {
		reqs = append(reqs, r.Method+" "+r.Path)
	}
	return reqs
}

// push adds a commit with msg on top of repo's main and moves main.
func (f *feedStack) push(name, msg string) string {
	sha := f.repos[name].AddCommit(corpus.Commit{Parents: []string{f.heads[name]}, Message: msg, AuthorName: "Dev", AuthorDate: f.now()})
	f.repos[name].SetBranch("main", sha)
	f.heads[name] = sha
	return sha
}

// linkView is what a link says, for comparing link sets exactly.
type linkView struct{ issue, globalID, url, title string }

func linkViews(j *jiratest.Server) []linkView {
	var out []linkView
	for issue, ls := range j.AllLinks() {
		for _, l := range ls {
			out = append(out, linkView{issue, l.GlobalID, l.Object.URL, l.Object.Title})
		}
	}
	sort.Slice(out, func(i, k int) bool { return fmt.Sprint(out[i]) < fmt.Sprint(out[k]) })
	return out
}

// cleanLinks is the link set a fresh installation writes for the fake's
// current state: the oracle for "linked exactly".
func (f *feedStack) cleanLinks(t *testing.T) []linkView {
	t.Helper()
	j := jiratest.Start(t, jiratest.Options{Token: jiraToken, IssueExists: jiratest.DemoIssues})
	st, err := boltstore.Open(t.TempDir()+"/clean.db", time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	jc, err := jiraclient.New(jiraclient.Options{BaseURL: j.URL(), Auth: jiraclient.Auth{Token: jiraToken}, Retry: httpx.RetryOptions{Sleep: noSleep}})
	if err != nil {
		t.Fatal(err)
	}
	ix, err := indexer.New(indexer.Options{Store: st, Jira: jc, Matcher: f.s.m, Now: f.now})
	if err != nil {
		t.Fatal(err)
	}
	tgt := f.tgt
	tgt.Source = f.client(t)
	mustOK(t, ix.Sync(context.Background(), tgt, ""))
	return linkViews(j)
}

func (f *feedStack) assertExact(t *testing.T, step string) {
	t.Helper()
	got, want := linkViews(f.s.jira), f.cleanLinks(t)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		gs, ws := map[linkView]bool{}, map[linkView]bool{}
		for _, l := range got {
			gs[l] = true
		}
		for _, l := range want {
			ws[l] = true
		}
		for l := range gs {
			if !ws[l] {
				t.Errorf("%s: extra link %+v", step, l)
			}
		}
		for l := range ws {
			if !gs[l] {
				t.Errorf("%s: missing link %+v", step, l)
			}
		}
	}
}

// TestChangeFeedsLinkEveryKindOfChange: between full sweeps a pass reads
// only the org's pushed-first repository list and one pull request search;
// each kind of change is linked exactly after the next pass, and what only
// a sweep can see (a rename without a push) after the next sweep.
func TestChangeFeedsLinkEveryKindOfChange(t *testing.T) {
	f := newFeedStack(t)
	f.pass(t, true) // the backfill is the first sweep
	f.assertExact(t, "backfill")

	idle := f.pass(t, false)
	if len(idle) != 2 || !strings.HasSuffix(idle[0], "/orgs/acme/repos") || !strings.HasSuffix(idle[1], "/search/issues") {
		t.Errorf("idle pass between sweeps made %d requests %v, want the pushed-first listing and one search", len(idle), idle)
	}

	steps := []struct {
		name   string
		change func()
	}{
		{"push", func() { f.push("a", "ZOOKEEPER-11: fix the fresh bug") }},
		{"new branch", func() { f.repos["b"].SetBranch("feature/ZOOKEEPER-12-cache", f.heads["b"]) }},
		{"deleted branch", func() { f.repos["b"].DeleteBranch("feature/ZOOKEEPER-12-cache") }},
		{"tag", func() { f.repos["c"].SetTag("ZOOKEEPER-13-rc1", f.heads["c"]) }},
		{"pull request from a fork", func() {
			f.repos["a"].UpsertPull(githubtest.PullRequest{Number: 7, Title: "ZOOKEEPER-14 fork fix", User: "outsider", HeadRef: "patch-1",
				HeadSHA: f.heads["a"], State: githubtest.PullOpen, CreatedAt: f.now(), UpdatedAt: f.now()})
		}},
		{"pull request title edit", func() {
			f.repos["a"].EditPull(7, func(p *githubtest.PullRequest) { p.Title = "ZOOKEEPER-14 fork fix (and ZOOKEEPER-15)" })
		}},
		{"pull request closed without merge", func() {
			f.repos["a"].EditPull(7, func(p *githubtest.PullRequest) { p.State = githubtest.PullClosed })
		}},
	}
	for _, st := range steps {
		f.advance(time.Minute)
		st.change()
		reqs := f.pass(t, false)
		f.assertExact(t, st.name)
		// Only the changed repository is read beyond the two feed calls.
		for _, r := range reqs[2:] {
			if strings.Contains(r, "/repos/acme/") && !strings.Contains(r, "/repos/acme/a") && !strings.Contains(r, "/repos/acme/b") && !strings.Contains(r, "/repos/acme/c") {
				t.Errorf("%s: request %s outside the changed repositories", st.name, r)
			}
		}
		if len(reqs) > 12 {
			t.Errorf("%s: %d requests for one change: %v", st.name, len(reqs), reqs)
		}
		// Past the feeds' overlap (a pull request change is read once
		// more: search lags), a pass is idle again.
		f.advance(15 * time.Minute)
		if again := f.pass(t, false); len(again) > 3 {
			t.Errorf("%s: the pass after it made %d requests %v", st.name, len(again), again)
		}
		if idle := f.pass(t, false); len(idle) != 2 {
			t.Errorf("%s: the pass after it made %d requests %v, want the two feed calls", st.name, len(idle), idle)
		}
	}

	// A rename is not a push: the feeds do not see it (unless the repo is
	// among the newest pushes, which the push feed lists again); the next
	// sweep does.
	f.repos["b"].Rename("acme", "b-renamed")
	f.pass(t, false)
	for _, l := range linkViews(f.s.jira) {
		if strings.Contains(l.url, "b-renamed") {
			t.Fatalf("a pass between sweeps moved a link of the renamed repository: %+v", l)
		}
	}
	f.advance(6 * time.Hour)
	f.pass(t, true)
	f.assertExact(t, "rename after the sweep")
	moved := 0
	for _, l := range linkViews(f.s.jira) {
		if strings.Contains(l.url, "/acme/b-renamed/") {
			moved++
		}
	}
	if moved == 0 {
		t.Error("no link of the renamed repository moved to its new URL")
	}
}

// TestGitLabMergeRequestFeed: GitLab has no push feed (last_activity_at is
// written at most hourly), so a pass between sweeps reads every project's
// branches and tags; its merge requests come from one group-level listing:
// only the project whose merge request changed lists its own.
func TestGitLabMergeRequestFeed(t *testing.T) {
	f := &feedStack{clock: time.Date(2026, 5, 4, 9, 0, 0, 0, time.UTC)}
	gl := gitlabtest.Start(t, gitlabtest.Options{Token: glToken, RateLimit: 1_000_000, Now: f.now})
	var projects []*gitlabtest.ProjectHandle
	for i := range 3 {
		b := corpus.NewBuilder()
		root := b.Commit(nil, fmt.Sprintf("ZOOKEEPER-%d: import", 1+i), time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
		b.Branch("main", root)
		projects = append(projects, gl.AddCorpusProject("apache", fmt.Sprintf("p%d", i), int64(41+i), b.Build()))
	}
	f.s = &stack{provider: "gitlab", jira: jiratest.Start(t, jiratest.Options{Token: jiraToken, IssueExists: jiratest.DemoIssues})}
	f.s.openCommon(t)
	var err error
	f.s.ix, err = indexer.New(indexer.Options{Store: f.s.store, Jira: f.s.jc, Matcher: f.s.m, Now: f.now})
	if err != nil {
		t.Fatal(err)
	}
	gc, err := gitlab.New(gitlab.Options{Name: "gitlab", BaseURL: gl.URL(), Token: glToken, Retry: httpx.RetryOptions{Sleep: noSleep, Now: f.now}})
	if err != nil {
		t.Fatal(err)
	}
	f.tgt = indexer.Target{Name: "gitlab", Type: providers.TypeGitLab, Source: gc, Owners: []string{"apache"}, FullSweepInterval: 6 * time.Hour}
	pass := func(wantSweep bool) (mrLists []string) {
		t.Helper()
		f.advance(15 * time.Minute)
		before := len(gl.Requests())
		rep := f.s.ix.Sync(context.Background(), f.tgt, "")
		mustOK(t, rep)
		if rep.Sweep != wantSweep {
			t.Fatalf("sweep %v, want %v", rep.Sweep, wantSweep)
		}
		for _, r := range gl.Requests()[before:] {
			if strings.HasSuffix(r.Path, "/merge_requests") && strings.HasPrefix(r.Path, "/api/v4/projects/") || strings.HasPrefix(r.Path, "/projects/") && strings.HasSuffix(r.Path, "/merge_requests") {
				mrLists = append(mrLists, r.Path)
			}
		}
		return mrLists
	}
	pass(true)
	if got := pass(false); len(got) != 0 {
		t.Errorf("idle pass between sweeps listed project merge requests %v", got)
	}
	projects[1].UpsertMergeRequest(gitlabtest.MergeRequest{IID: 3, Title: "ZOOKEEPER-21 from a fork", SourceBranch: "fix", SourceProjectID: 999,
		SHA: strings.Repeat("a", 40), CreatedAt: f.now(), UpdatedAt: f.now()})
	got := pass(false)
	if len(got) != 1 || !strings.Contains(got[0], "/42/") {
		t.Errorf("after a merge request in p1, project merge request lists %v, want p1's only", got)
	}
	projects[1].EditMergeRequest(3, func(m *gitlabtest.MergeRequest) {
		m.Title = "ZOOKEEPER-21 from a fork (ZOOKEEPER-22)"
		m.State = gitlabtest.MergeRequestClosed
	})
	pass(false)
	links := jiraLinks(t, f.s.jira)
	gid := indexer.GlobalID(state.RepoKey{Provider: "gitlab", ID: 42}, indexer.KindPull, "3")
	if !links["ZOOKEEPER-21"][gid] || !links["ZOOKEEPER-22"][gid] {
		t.Errorf("merge request links after the edit: ZOOKEEPER-21 %v, ZOOKEEPER-22 %v", links["ZOOKEEPER-21"][gid], links["ZOOKEEPER-22"][gid])
	}
}
