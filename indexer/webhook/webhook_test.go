package webhook_test

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/keys"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/indexer/webhook"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

const (
	secret  = "webhook-test-secret"
	repoID  = 4242
	ghToken = "ghp_webhook_test"
)

var t0 = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

type env struct {
	gh     *githubtest.Server
	repo   *githubtest.RepoHandle
	jira   *jiratest.Server
	store  *boltstore.Store
	ix     *indexer.Indexer
	tgt    indexer.Target
	srv    *httptest.Server
	notify chan struct{}
	path   string
	root   string
}

func noSleep(context.Context, time.Duration) error { return nil }

// newEnv starts fake GitHub and Jira, syncs a small repo once (so it is
// known), and serves the webhook handler.
func newEnv(t *testing.T) *env {
	t.Helper()
	b := corpus.NewBuilder()
	root := b.Commit(nil, "ABC-1 root", t0)
	b.Branch("master", root)
	b.Branch("feature/abc-2-login", root)
	e := &env{root: root, notify: make(chan struct{}, 1), path: filepath.Join(t.TempDir(), "state.db")}
	e.gh = githubtest.Start(t, githubtest.Options{Token: ghToken})
	e.repo = e.gh.AddCorpusRepo("acme", "api", repoID, b.Build())
	e.repo.SetDefaultBranch("master")
	e.jira = jiratest.Start(t, jiratest.Options{Projects: []jiratest.Project{{ID: "1", Key: "ABC", Name: "ABC"}}, IssueExists: jiratest.AllIssues})
	e.open(t)
	gc, err := github.New(github.Options{Name: "gh", BaseURL: e.gh.URL(), Token: ghToken, Retry: httpx.RetryOptions{Sleep: noSleep}})
	if err != nil {
		t.Fatal(err)
	}
	e.tgt = indexer.Target{Name: "gh", Type: providers.TypeGitHub, Source: gc, Repos: []string{"acme/api"}}
	e.newIndexer(t)
	if rep := e.ix.Sync(context.Background(), e.tgt, ""); rep.Failed() != 0 {
		t.Fatalf("initial sync: %+v", rep)
	}
	e.serve(t)
	return e
}

func (e *env) open(t *testing.T) {
	st, err := boltstore.Open(e.path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	e.store = st
	t.Cleanup(func() { st.Close() })
}

func (e *env) newIndexer(t *testing.T) {
	jc, err := jiraclient.New(jiraclient.Options{BaseURL: e.jira.URL(), Auth: jiraclient.Auth{Token: "x"}, Retry: httpx.RetryOptions{Sleep: noSleep}})
	if err != nil {
		t.Fatal(err)
	}
	m, _ := keys.NewMatcher("", true)
	e.ix, err = indexer.New(indexer.Options{Store: e.store, Jira: jc, Matcher: m})
	if err != nil {
		t.Fatal(err)
	}
}

func (e *env) serve(t *testing.T) {
	h := webhook.NewHandler(e.store, map[string]webhook.Receiver{"gh": github.NewWebhook(secret)}, e.notify, nil)
	r := mux.NewRouter()
	h.Route(r)
	e.srv = httptest.NewServer(r)
	t.Cleanup(e.srv.Close)
}

// runWorker drains the queue in the background; it returns a channel that
// receives each processed group's error.
func (e *env) runWorker(t *testing.T) <-chan error {
	done := make(chan error, 16)
	w := webhook.NewWorker(e.store, e.ix, []indexer.Target{e.tgt}, e.notify, nil)
	w.Done = func(_ string, _ int64, err error) { done <- err }
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { w.Run(ctx); close(stopped) }()
	t.Cleanup(func() { cancel(); <-stopped })
	return done
}

func waitDone(t *testing.T, done <-chan error) {
	t.Helper()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("targeted sync failed: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("worker processed nothing")
	}
}

// fixture loads a real payload and re-addresses it to the fake repo.
func fixture(t *testing.T, name string, patch func(m map[string]any)) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		t.Fatal(err)
	}
	if r, ok := m["repository"].(map[string]any); ok {
		r["id"] = repoID
		r["name"] = "api"
		r["full_name"] = "acme/api"
		r["html_url"] = "https://github.com/acme/api"
	}
	if patch != nil {
		patch(m)
	}
	out, _ := json.Marshal(m)
	return out
}

func sign(body []byte, key string) string {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func (e *env) post(t *testing.T, provider, event, delivery string, body []byte, sig string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.srv.URL+"/webhooks/"+provider, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", event)
	req.Header.Set("X-GitHub-Delivery", delivery)
	if sig != "" {
		req.Header.Set("X-Hub-Signature-256", sig)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	b.ReadFrom(resp.Body)
	return resp.StatusCode, strings.TrimSpace(b.String())
}

func (e *env) depth(t *testing.T) int {
	n, err := e.store.QueueDepth()
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestPushWebhookLinksNewCommitAndReplayIsIgnored(t *testing.T) {
	e := newEnv(t)
	done := e.runWorker(t)

	// A push lands on GitHub, then its delivery arrives.
	c := corpus.Commit{SHA: strings.Repeat("ab", 20), Parents: []string{e.root}, AuthorName: "dev", AuthorDate: t0.Add(time.Hour), CommitterDate: t0.Add(time.Hour), Message: "ABC-7: pushed"}
	e.repo.AddCommit(c)
	e.repo.SetBranch("master", c.SHA)
	body := fixture(t, "push.json", func(m map[string]any) { m["before"], m["after"] = e.root, c.SHA })
	e.gh.ResetRequests()

	code, msg := e.post(t, "gh", "push", "d-1", body, sign(body, secret))
	if code != http.StatusAccepted || msg != "queued" {
		t.Fatalf("push: %d %q", code, msg)
	}
	waitDone(t, done)
	if got := e.jira.Links("ABC-7"); len(got) != 1 || !strings.HasSuffix(got[0].Object.URL, c.SHA) {
		t.Fatalf("link after push webhook: %+v", got)
	}
	// Only the branches (and the commits) were read: a targeted sync.
	for _, r := range e.gh.Requests() {
		if strings.HasSuffix(r.Path, "/pulls") || strings.HasSuffix(r.Path, "/tags") {
			t.Errorf("push webhook read %s", r.Path)
		}
	}

	// GitHub redelivers with the same id: acknowledged, not processed.
	e.jira.ResetCalls()
	code, msg = e.post(t, "gh", "push", "d-1", body, sign(body, secret))
	if code != http.StatusOK || msg != "duplicate delivery" || e.depth(t) != 0 {
		t.Errorf("replay: %d %q depth %d", code, msg, e.depth(t))
	}
}

func TestRejectedDeliveriesAreNotProcessed(t *testing.T) {
	e := newEnv(t)
	body := fixture(t, "push.json", nil)
	cases := []struct {
		name, provider, event, sig string
		body                       []byte
		want                       int
	}{
		{"no signature", "gh", "push", "", body, http.StatusUnauthorized},
		{"wrong secret", "gh", "push", sign(body, "other"), body, http.StatusUnauthorized},
		{"body changed after signing", "gh", "push", sign(body, secret), append(bytes.Clone(body), ' '), http.StatusUnauthorized},
		{"unknown provider", "nope", "push", sign(body, secret), body, http.StatusNotFound},
		{"not json", "gh", "push", sign([]byte("{oops"), secret), []byte("{oops"), http.StatusBadRequest},
	}
	for i, c := range cases {
		code, _ := e.post(t, c.provider, c.event, fmt.Sprint("r-", i), c.body, c.sig)
		if code != c.want {
			t.Errorf("%s: status %d, want %d", c.name, code, c.want)
		}
	}
	// Over 25 MiB: 413 before anything is read further.
	big := bytes.Repeat([]byte("x"), webhook.MaxBody+1)
	if code, _ := e.post(t, "gh", "push", "big", big, sign(big, secret)); code != http.StatusRequestEntityTooLarge {
		t.Errorf("oversized body: %d", code)
	}
	// Ignored and ping deliveries are acknowledged and queue nothing.
	// (check_suite is an event type jiralinkd does not use.)
	wf := fixture(t, "workflow_run.json", nil)
	if code, _ := e.post(t, "gh", "check_suite", "wf", wf, sign(wf, secret)); code != http.StatusAccepted {
		t.Errorf("ignored event: %d", code)
	}
	ping := fixture(t, "ping.json", nil)
	if code, msg := e.post(t, "gh", "ping", "p", ping, sign(ping, secret)); code != http.StatusOK || msg != "pong" {
		t.Errorf("ping: %d %q", code, msg)
	}
	if n := e.depth(t); n != 0 {
		t.Errorf("%d deliveries queued by rejected or ignored requests", n)
	}
}

func TestBranchDeleteAndPullRequestEvents(t *testing.T) {
	e := newEnv(t)
	done := e.runWorker(t)
	if len(e.jira.Links("ABC-2")) != 1 {
		t.Fatalf("branch link missing before delete: %+v", e.jira.AllLinks())
	}
	e.repo.DeleteBranch("feature/abc-2-login")
	del := fixture(t, "delete_branch.json", func(m map[string]any) { m["ref"] = "feature/abc-2-login" })
	if code, _ := e.post(t, "gh", "delete", "del-1", del, sign(del, secret)); code != http.StatusAccepted {
		t.Fatalf("delete: %d", code)
	}
	waitDone(t, done)
	if got := e.jira.Links("ABC-2"); len(got) != 0 {
		t.Errorf("deleted branch's link still there: %+v", got)
	}

	e.repo.UpsertPull(githubtest.PullRequest{Number: 2, Title: "ABC-9 new login", User: "dev", HeadRef: "login", HeadSHA: e.root, State: githubtest.PullOpen, CreatedAt: t0, UpdatedAt: t0.Add(time.Minute)})
	e.gh.ResetRequests()
	pr := fixture(t, "pull_request_opened.json", nil)
	if code, _ := e.post(t, "gh", "pull_request", "pr-1", pr, sign(pr, secret)); code != http.StatusAccepted {
		t.Fatalf("pull_request: %d", code)
	}
	waitDone(t, done)
	if got := e.jira.Links("ABC-9"); len(got) != 1 || got[0].Relationship != "pull request" {
		t.Errorf("PR link: %+v", got)
	}
	for _, r := range e.gh.Requests() {
		if !strings.HasSuffix(r.Path, "/pulls") {
			t.Errorf("pull_request webhook read %s", r.Path)
		}
	}
}

func TestQueuedDeliveriesSurviveRestart(t *testing.T) {
	e := newEnv(t)
	c := corpus.Commit{SHA: strings.Repeat("cd", 20), Parents: []string{e.root}, AuthorName: "dev", AuthorDate: t0.Add(time.Hour), CommitterDate: t0.Add(time.Hour), Message: "ABC-8 after restart"}
	e.repo.AddCommit(c)
	e.repo.SetBranch("master", c.SHA)
	body := fixture(t, "push.json", nil)
	// Accepted while no worker runs (it crashed, or is busy)...
	if code, _ := e.post(t, "gh", "push", "crash-1", body, sign(body, secret)); code != http.StatusAccepted {
		t.Fatal("not accepted")
	}
	// ... the process dies; a new one opens the same state file.
	e.srv.Close()
	e.store.Close()
	e.open(t)
	e.newIndexer(t)
	var processed atomic.Int32
	done := e.runWorker(t)
	waitDone(t, done)
	processed.Add(1)
	if got := e.jira.Links("ABC-8"); len(got) != 1 {
		t.Errorf("queued delivery not processed after restart: %+v", got)
	}
	if n := e.depth(t); n != 0 {
		t.Errorf("queue depth %d after processing", n)
	}
}

func TestRepositoryRenamedAndDeletedEvents(t *testing.T) {
	e := newEnv(t)
	done := e.runWorker(t)
	if len(e.jira.Links("ABC-1")) != 1 {
		t.Fatalf("initial links: %+v", e.jira.AllLinks())
	}
	// Renamed on GitHub, then the delivery: links are rewritten in place
	// with the new URL (same globalIds, no duplicates).
	e.repo.Rename("acme", "api2")
	ren := fixture(t, "repository_renamed.json", func(m map[string]any) {
		r := m["repository"].(map[string]any)
		r["name"], r["full_name"], r["html_url"] = "api2", "acme/api2", "https://github.com/acme/api2"
		m["changes"] = map[string]any{"repository": map[string]any{"name": map[string]any{"from": "api"}}}
	})
	if code, _ := e.post(t, "gh", "repository", "ren-1", ren, sign(ren, secret)); code != http.StatusAccepted {
		t.Fatalf("renamed: %d", code)
	}
	waitDone(t, done)
	links := e.jira.Links("ABC-1")
	if len(links) != 1 || !strings.Contains(links[0].Object.URL, "/acme/api2/") {
		t.Errorf("after rename: %+v", links)
	}
	// Deleted: every link of the repo goes.
	e.gh.DeleteRepo("acme", "api2")
	del := fixture(t, "repository_deleted.json", nil)
	if code, _ := e.post(t, "gh", "repository", "del-1", del, sign(del, secret)); code != http.StatusAccepted {
		t.Fatalf("deleted: %d", code)
	}
	waitDone(t, done)
	if all := e.jira.AllLinks(); len(all["ABC-1"])+len(all["ABC-2"]) != 0 {
		t.Errorf("links left after repository deletion: %+v", all)
	}
}
