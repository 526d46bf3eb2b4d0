package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/admin/browsertest"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

const (
	ghToken   = "ghp_cli_test_token_0123456789"
	jiraToken = "jira-cli-test-token-9876543210"
)

type fixture struct {
	gh     *githubtest.Server
	jira   *jiratest.Server
	dir    string
	config string
	env    map[string]string
}

// newFixture starts fake GitHub and Jira with a small history and writes a
// config pointing at them.
func newFixture(t *testing.T) *fixture {
	t.Helper()
	b := corpus.NewBuilder()
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	root := b.Commit(nil, "ABC-1: first", at)
	c2 := b.Commit([]string{root}, "ABC-2 and UTF-8 and CVE-2024-1234", at.Add(time.Hour))
	b.Branch("main", c2)
	b.Branch("feature/abc-3-login", root)
	f := &fixture{dir: t.TempDir()}
	f.gh = githubtest.Start(t, githubtest.Options{Token: ghToken})
	f.gh.AddCorpusRepo("acme", "api", 77, b.Build())
	f.jira = jiratest.Start(t, jiratest.Options{Token: jiraToken, Projects: []jiratest.Project{{ID: "1", Key: "ABC", Name: "Alpha"}},
		IssueExists: func(k string) bool { return k != "ABC-999" }})
	f.env = map[string]string{"GH_TOKEN": ghToken, "JIRA_TOKEN": jiraToken}
	f.config = f.write(t, "config.yaml", fmt.Sprintf(`state:
  path: %s
http:
  listen: 127.0.0.1:0
log:
  level: warn
jira:
  url: %s
  token_env: JIRA_TOKEN
providers:
  - name: github
    type: github
    url: %s
    token_env: GH_TOKEN
    repos: [acme/api]
`, filepath.Join(f.dir, "state.db"), f.jira.URL(), f.gh.URL()))
	return f
}

func (f *fixture) write(t *testing.T, name, body string) string {
	p := filepath.Join(f.dir, name)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *fixture) run(ctx context.Context, args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = cli(ctx, args, &o, &e, func(k string) string { return f.env[k] })
	return code, o.String(), e.String()
}

func TestSyncDryRunThenSyncThenIdle(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	code, out, errOut := f.run(ctx, "sync", "--config", f.config, "--dry-run")
	if code != exitOK {
		t.Fatalf("dry run exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"link ABC-1 ← commit", "link ABC-2 ← commit", "link ABC-3 ← branch branch feature/abc-3-login"} {
		if !strings.Contains(out, want) {
			t.Errorf("dry run output lacks %q:\n%s", want, out)
		}
	}
	if strings.Contains(out, "UTF-8") && strings.Contains(out, "link UTF-8") {
		t.Errorf("dry run would link UTF-8:\n%s", out)
	}
	if c := f.jira.Calls(); c.Writes != 0 {
		t.Fatalf("dry run wrote %d times to Jira", c.Writes)
	}

	code, out, errOut = f.run(ctx, "sync", "--config", f.config)
	if code != exitOK {
		t.Fatalf("sync exit %d\n%s\n%s", code, out, errOut)
	}
	if !strings.Contains(out, "acme/api: 2 new commits") {
		t.Errorf("summary line missing:\n%s", out)
	}
	links := f.jira.AllLinks()
	if len(links["ABC-1"]) != 1 || len(links["ABC-2"]) != 1 || len(links["ABC-3"]) != 1 {
		t.Errorf("links after sync: %v", links)
	}

	f.jira.ResetCalls()
	code, out, _ = f.run(ctx, "sync", "--config", f.config)
	if code != exitOK || f.jira.Calls().Writes != 0 || !strings.Contains(out, "links written 0") {
		t.Errorf("idle sync: exit %d, %d writes\n%s", code, f.jira.Calls().Writes, out)
	}
	for _, s := range []string{ghToken, jiraToken} {
		if strings.Contains(out+errOut, s) {
			t.Error("a token appeared in the output")
		}
	}
}

func TestSyncExitCodes(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()

	// Invalid configuration: exit 2 and the YAML path named.
	bad := f.write(t, "bad.yaml", strings.Replace(mustRead(t, f.config), "repos: [acme/api]", "repos: [acme/api]\n    schedule: \"*/5 * *\"", 1))
	code, _, errOut := f.run(ctx, "sync", "--config", bad)
	if code != exitConfig || !strings.Contains(errOut, "providers[0].schedule") {
		t.Errorf("bad config: exit %d, stderr %q", code, errOut)
	}
	code, _, errOut = f.run(ctx, "sync", "--config", filepath.Join(f.dir, "missing.yaml"))
	if code != exitConfig {
		t.Errorf("missing config: exit %d (%s)", code, errOut)
	}
	code, _, _ = f.run(ctx, "sync", "--config", f.config, "--provider", "nope")
	if code != exitConfig {
		t.Errorf("unknown provider: exit %d", code)
	}
	code, _, _ = f.run(ctx, "frobnicate")
	if code != exitConfig {
		t.Errorf("unknown command: exit %d", code)
	}

	// A repo that fails (Jira rejects writes) → exit 1.
	f.jira.FailNext("POST /rest/api/2/issue/{key}/remotelink", 100, http.StatusForbidden, nil, `{"errorMessages":["You do not have the permission to link issues."],"errors":{}}`)
	code, out, _ := f.run(ctx, "sync", "--config", f.config)
	if code != exitFailed || !strings.Contains(out, "FAIL") {
		t.Errorf("failing repo: exit %d\n%s", code, out)
	}
}

func mustRead(t *testing.T, p string) string {
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestCheck(t *testing.T) {
	f := newFixture(t)
	code, out, errOut := f.run(context.Background(), "check", "--config", f.config)
	if code != exitOK {
		t.Fatalf("check exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"OK   jira reachable", "OK   jira token", "OK   jira projects: 1 visible", "OK   github token", "OK   github repo acme/api"} {
		if !strings.Contains(out, want) {
			t.Errorf("check output lacks %q:\n%s", want, out)
		}
	}

	// A wrong GitHub token and an invisible repo are reported, exit 1.
	f.env["GH_TOKEN"] = "wrong"
	code, out, _ = f.run(context.Background(), "check", "--config", f.config)
	if code != exitFailed || !strings.Contains(out, "FAIL github token") {
		t.Errorf("wrong token: exit %d\n%s", code, out)
	}
	if strings.Contains(out, "wrong") {
		t.Errorf("check printed the token:\n%s", out)
	}
}

func TestServeHealthAndGracefulShutdown(t *testing.T) {
	f := newFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := f.write(t, "serve.yaml", strings.Replace(mustRead(t, f.config), "listen: 127.0.0.1:0", "listen: "+addr, 1))

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		code, _, _ := f.run(ctx, "serve", "--config", cfg)
		done <- code
	}()
	deadline := time.Now().Add(10 * time.Second)
	for {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("serve never became ready")
		}
		time.Sleep(20 * time.Millisecond)
	}
	resp, err := http.Get("http://" + addr + "/healthz")
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("healthz: %v %v", err, resp)
	}
	resp.Body.Close()
	// The first pass runs at start-up.
	for len(f.jira.AllLinks()["ABC-2"]) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the start-up pass wrote no link")
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	select {
	case code := <-done:
		if code != exitOK {
			t.Errorf("serve exit %d after SIGTERM-equivalent", code)
		}
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not shut down")
	}
	// The state file is closed: it can be opened again at once.
	code, _, _ := f.run(context.Background(), "sync", "--config", cfg)
	if code != exitOK {
		t.Errorf("sync after serve stopped: exit %d", code)
	}
}

// TestStatusPageOnRunningStack loads the status page of a real `serve`
// (fake GitHub and Jira behind it) in headless chromium, clicks Resync and
// sees the repo syncing: the page against the running stack.
func TestStatusPageOnRunningStack(t *testing.T) {
	f := newFixture(t)
	const adminToken = "admin-token-for-the-browser-test-0123"
	addr := f.startServe(t, adminToken)
	deadline := time.Now().Add(15 * time.Second)
	for len(f.jira.AllLinks()["ABC-2"]) == 0 { // the start-up pass is done
		if time.Now().After(deadline) {
			t.Fatal("start-up pass wrote no link")
		}
		time.Sleep(20 * time.Millisecond)
	}
	// Slow GitHub down so the resync is still running when the page reloads.
	f.gh.SetLatency(400 * time.Millisecond)
	f.gh.ResetRequests()
	browsertest.Run(t, browsertest.Options{
		URL: "http://" + addr, Token: adminToken, ResyncRepo: "github/acme/api", ExplainKey: "ABC-1",
		ExpectText: []string{"github", "acme/api", "ok", "*/5 * * * *", "Repositories", "in "},
	})
	if len(f.gh.Requests()) == 0 {
		t.Error("the Resync click reached no GitHub endpoint")
	}
}
