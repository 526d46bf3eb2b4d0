package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
)

// purgeFixture is the CLI fixture with a second provider ("ghe": repo
// acme/web with 4 links, acme/docs with none) beside "github" (acme/api, 3
// links), synced, and Jira reached through a gate that can fail or
// interrupt deletions.
type purgeFixture struct {
	*fixture
	gate *deleteGate
}

func newPurgeFixture(t *testing.T) *purgeFixture {
	t.Helper()
	f := newFixture(t)
	b := corpus.NewBuilder()
	at := time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)
	sha := ""
	for i := 4; i <= 7; i++ {
		var parents []string
		if sha != "" {
			parents = []string{sha}
		}
		sha = b.Commit(parents, fmt.Sprintf("ABC-%d: change %d", i, i), at.Add(time.Duration(i)*time.Hour))
	}
	b.Branch("master", sha)
	f.gh.AddCorpusRepo("acme", "web", 78, b.Build())
	// A repository without any key: in the state, no link.
	b = corpus.NewBuilder()
	b.Branch("master", b.Commit(nil, "docs: fix a typo", at))
	f.gh.AddCorpusRepo("acme", "docs", 79, b.Build())

	gate := &deleteGate{jira: f.jira, next: f.jira.Handler(), failAfter: -1}
	srv := httptest.NewServer(gate)
	t.Cleanup(srv.Close)
	f.config = f.write(t, "purge.yaml", fmt.Sprintf(`state:
  path: %s
log:
  level: error
jira:
  url: %s
  token_env: JIRA_TOKEN
providers:
  - name: github
    type: github
    url: %s
    token_env: GH_TOKEN
    repos: [acme/api]
  - name: ghe
    type: github
    url: %s
    token_env: GH_TOKEN
    repos: [acme/web, acme/docs]
`, filepath.Join(f.dir, "state.db"), srv.URL, f.gh.URL(), f.gh.URL()))

	code, out, errOut := f.run(context.Background(), "sync", "--config", f.config)
	if code != exitOK {
		t.Fatalf("sync exit %d\n%s\n%s", code, out, errOut)
	}
	pf := &purgeFixture{fixture: f, gate: gate}
	if n := pf.jiraLinks(); n != 7 {
		t.Fatalf("%d links after sync, want 7: %v", n, f.jira.AllLinks())
	}
	return pf
}

// deleteGate passes requests to the fake Jira. Once failAfter DELETEs have
// gone through (failAfter ≥ 0), every further DELETE is answered 403 by
// the fake (FailNext). After the interruptAt-th DELETE, if set, the link
// is deleted in Jira but the answer is lost (500) and interrupt is called,
// as when jiralinkd is killed in the middle of a request.
type deleteGate struct {
	jira *jiratest.Server
	next http.Handler

	mu          sync.Mutex
	deletes     int
	failAfter   int
	interruptAt int
	interrupt   func()
}

func (g *deleteGate) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodDelete {
		g.next.ServeHTTP(w, r)
		return
	}
	g.mu.Lock()
	g.deletes++
	n, fail, interrupt := g.deletes, g.failAfter >= 0 && g.deletes > g.failAfter, g.interruptAt > 0 && g.deletes == g.interruptAt
	g.mu.Unlock()
	switch {
	case fail:
		g.jira.FailNext(jiratest.RouteRemoteLinkDelete, 1, http.StatusForbidden, nil,
			`{"errorMessages":["You do not have the permission to delete links of this issue."],"errors":{}}`)
	case interrupt:
		g.next.ServeHTTP(httptest.NewRecorder(), r) // done in Jira…
		g.interrupt()
		http.Error(w, fmt.Sprintf("connection lost after delete %d", n), http.StatusInternalServerError) // …unknown to the client
		return
	}
	g.next.ServeHTTP(w, r)
}

func (g *deleteGate) set(failAfter, interruptAt int, interrupt func()) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.deletes, g.failAfter, g.interruptAt, g.interrupt = 0, failAfter, interruptAt, interrupt
}

// jiraLinks counts the links in the fake Jira.
func (f *purgeFixture) jiraLinks() int {
	n := 0
	for _, ls := range f.jira.AllLinks() {
		n += len(ls)
	}
	return n
}

// stateCounts opens the state file (no command may be running) and
// counts its repos and links.
func (f *purgeFixture) stateCounts(t *testing.T) (repos []string, links int) {
	t.Helper()
	st, err := boltstore.Open(filepath.Join(f.dir, "state.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rs, err := st.Repos()
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		repos = append(repos, r.Key.Provider+" "+r.Repo.FullName)
	}
	err = st.AllLinks(func(state.Link) error { links++; return nil })
	if err != nil {
		t.Fatal(err)
	}
	return repos, links
}

// purge runs the purge command as the dispatcher does.
func (f *fixture) purge(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = cmdPurge(ctx, args, &o, &e, func(k string) string { return f.env[k] })
	return code, o.String(), e.String()
}

func (f *purgeFixture) jiraClient(t *testing.T) *jiraclient.Client {
	t.Helper()
	c, err := jiraclient.New(jiraclient.Options{BaseURL: f.jira.URL(), Auth: jiraclient.Auth{Token: jiraToken}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestPurgeDryRunListsAndDeletesNothing(t *testing.T) {
	f := newPurgeFixture(t)
	f.jira.ResetCalls()
	code, out, errOut := f.purge(context.Background(), "--config", f.config)
	if code != exitOK {
		t.Fatalf("dry run exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"github acme/api: 3 links\n",
		"  ABC-3 ← branch feature/abc-3-login\n",
		"ghe acme/web: 4 links\n",
		"  ABC-4 ← commit ", // examples carry the link title
		"  … and 1 more\n",
		"ghe acme/docs: 0 links\n",
		"dry run: 7 links of 3 repositories would be deleted; nothing was deleted",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if c := f.jira.Calls(); c.Total != 0 {
		t.Errorf("the dry run made %d Jira calls", c.Total)
	}
	if n := f.jiraLinks(); n != 7 {
		t.Errorf("%d links left in Jira, want all 7", n)
	}
	if repos, links := f.stateCounts(t); len(repos) != 3 || links != 7 {
		t.Errorf("state after dry run: repos %v, %d links; want 3 repos, 7 links", repos, links)
	}
}

func TestPurgeDeletesEveryLinkItWroteAndItsState(t *testing.T) {
	f := newPurgeFixture(t)
	ctx := context.Background()
	// A link jiralinkd did not write must survive.
	jc := f.jiraClient(t)
	manual := jiraclient.RemoteLink{GlobalID: "system=wiki&id=1", Object: jiraclient.Object{URL: "https://wiki.example.com/1", Title: "design notes"}}
	if _, err := jc.UpsertRemoteLink(ctx, "ABC-1", manual); err != nil {
		t.Fatal(err)
	}
	// acme/web forgotten by the state but not its links: purged as orphans.
	st, err := boltstore.Open(filepath.Join(f.dir, "state.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.ForgetRepo(state.RepoKey{Provider: "ghe", ID: 78}); err != nil {
		t.Fatal(err)
	}
	st.Close()
	// One of the orphans is already gone from Jira (removed by hand): its
	// 404 counts as deleted.
	gone := f.jira.Links("ABC-4")
	if len(gone) != 1 {
		t.Fatalf("ABC-4 links: %v", gone)
	}
	if err := jc.DeleteRemoteLink(ctx, "ABC-4", gone[0].GlobalID); err != nil {
		t.Fatal(err)
	}

	code, out, errOut := f.purge(ctx, "--config", f.config, "--yes")
	if code != exitOK {
		t.Fatalf("purge exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{
		"ok   github acme/api: 3 links deleted\n",
		"ok   ghe repo id 78 (no longer in the state): 4 links deleted\n",
		"total: 7 links deleted, 0 could not be deleted\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	links := f.jira.AllLinks()
	if n := f.jiraLinks(); n != 1 || len(links["ABC-1"]) != 1 || links["ABC-1"][0].GlobalID != manual.GlobalID {
		t.Errorf("links left in Jira: %v; want only the manual one", links)
	}
	if repos, n := f.stateCounts(t); len(repos) != 0 || n != 0 {
		t.Errorf("state after purge: repos %v, %d links; want none", repos, n)
	}

	// Again: nothing to do, no Jira call.
	f.jira.ResetCalls()
	code, out, _ = f.purge(ctx, "--config", f.config, "--yes")
	if code != exitOK || !strings.Contains(out, "nothing to purge") || f.jira.Calls().Total != 0 {
		t.Errorf("second purge: exit %d, %d Jira calls\n%s", code, f.jira.Calls().Total, out)
	}
}

func TestPurgeScopes(t *testing.T) {
	f := newPurgeFixture(t)
	ctx := context.Background()

	code, out, errOut := f.purge(ctx, "--config", f.config, "--provider", "ghe", "--yes")
	if code != exitOK || !strings.Contains(out, "ok   ghe acme/web: 4 links deleted") || !strings.Contains(out, "ok   ghe acme/docs: 0 links deleted") || strings.Contains(out, "github") {
		t.Fatalf("--provider ghe: exit %d\n%s\n%s", code, out, errOut)
	}
	links := f.jira.AllLinks()
	if n := f.jiraLinks(); n != 3 || len(links["ABC-1"]) != 1 || len(links["ABC-2"]) != 1 || len(links["ABC-3"]) != 1 {
		t.Errorf("after --provider ghe: %v; want github's 3 links", links)
	}
	if repos, n := f.stateCounts(t); len(repos) != 1 || repos[0] != "github acme/api" || n != 3 {
		t.Errorf("state after --provider ghe: %v, %d links", repos, n)
	}

	// A repo that is not (or no longer) in the state: nothing to do.
	code, out, _ = f.purge(ctx, "--config", f.config, "--repo", "acme/web", "--yes")
	if code != exitOK || !strings.Contains(out, "nothing to purge for acme/web") {
		t.Errorf("--repo acme/web again: exit %d\n%s", code, out)
	}
	code, out, _ = f.purge(ctx, "--config", f.config, "--provider", "ghe", "--repo", "ACME/API")
	if code != exitOK || !strings.Contains(out, "nothing to purge") {
		t.Errorf("--provider ghe --repo acme/api (a github repo): exit %d\n%s", code, out)
	}

	code, out, errOut = f.purge(ctx, "--config", f.config, "--repo", "ACME/API", "--yes")
	if code != exitOK || !strings.Contains(out, "ok   github acme/api: 3 links deleted") {
		t.Fatalf("--repo: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := f.jiraLinks(); n != 0 {
		t.Errorf("%d links left", n)
	}
	if repos, n := f.stateCounts(t); len(repos) != 0 || n != 0 {
		t.Errorf("state: %v, %d links", repos, n)
	}
}

func TestPurgeUsageErrors(t *testing.T) {
	f := newFixture(t)
	for _, args := range [][]string{
		{"--config", f.config, "--provider", "nope"},
		{"--config", f.config, "extra"},
		{"--config", f.config, "--bogus"},
		{"--config", filepath.Join(f.dir, "missing.yaml")},
	} {
		if code, out, errOut := f.purge(context.Background(), args...); code != exitConfig {
			t.Errorf("%v: exit %d, want %d\n%s\n%s", args, code, exitConfig, out, errOut)
		}
	}
}

func TestPurgeFailuresAreListedAndARerunFinishes(t *testing.T) {
	f := newPurgeFixture(t)
	ctx := context.Background()
	f.gate.set(2, 0, nil) // two DELETEs go through, then Jira refuses

	code, out, errOut := f.purge(ctx, "--config", f.config, "--yes")
	if code != exitFailed {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitFailed, out, errOut)
	}
	var listed []string
	for _, line := range strings.Split(out, "\n") {
		if strings.HasPrefix(line, "  ABC-") {
			listed = append(listed, line)
		}
	}
	// Each link still in Jira is listed once, with the reason.
	if len(listed) != 5 || !strings.Contains(listed[0], "403 Forbidden") {
		t.Errorf("listed failures %q, want the 5 links left\n%s", listed, out)
	}
	if !strings.Contains(out, "total: 2 links deleted, 5 could not be deleted") {
		t.Errorf("total line missing:\n%s", out)
	}
	if n := f.jiraLinks(); n != 5 {
		t.Errorf("%d links in Jira, want 5", n)
	}
	if repos, n := f.stateCounts(t); n != 5 || len(repos) != 2 {
		t.Errorf("state: %v, %d links; want the 2 repos with links kept (acme/docs forgotten), the 5 links left", repos, n)
	}

	// Someone removes one of the remaining links by hand: the rerun's 404
	// is not a failure.
	left := f.jira.Links("ABC-1")
	if len(left) != 1 {
		t.Fatalf("ABC-1 links: %v", left)
	}
	if err := f.jiraClient(t).DeleteRemoteLink(ctx, "ABC-1", left[0].GlobalID); err != nil {
		t.Fatal(err)
	}

	f.gate.set(-1, 0, nil)
	code, out, errOut = f.purge(ctx, "--config", f.config, "--yes")
	if code != exitOK || strings.Contains(out, "FAIL") || !strings.Contains(out, "total: 5 links deleted, 0 could not be deleted") {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := f.jiraLinks(); n != 0 {
		t.Errorf("%d links left in Jira", n)
	}
	if repos, n := f.stateCounts(t); len(repos) != 0 || n != 0 {
		t.Errorf("state after rerun: %v, %d links", repos, n)
	}
}

func TestPurgeInterruptedThenRerun(t *testing.T) {
	f := newPurgeFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	// The 4th DELETE succeeds in Jira, but jiralinkd is interrupted before
	// it learns so: that link stays in the state and is gone from Jira.
	f.gate.set(-1, 4, cancel)

	code, out, errOut := f.purge(ctx, "--config", f.config, "--yes")
	if code != exitFailed || !strings.Contains(out, "interrupted") {
		t.Fatalf("interrupted purge: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := f.jiraLinks(); n != 3 {
		t.Errorf("%d links in Jira after 4 deletes, want 3", n)
	}
	if _, n := f.stateCounts(t); n != 4 {
		t.Errorf("%d links in the state, want 4 (3 left and the one whose answer was lost)", n)
	}

	f.gate.set(-1, 0, nil)
	code, out, errOut = f.purge(context.Background(), "--config", f.config, "--yes")
	if code != exitOK || strings.Contains(out, "FAIL") {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, out, errOut)
	}
	if n := f.jiraLinks(); n != 0 {
		t.Errorf("%d links left in Jira", n)
	}
	if repos, n := f.stateCounts(t); len(repos) != 0 || n != 0 {
		t.Errorf("state after rerun: %v, %d links", repos, n)
	}
}
