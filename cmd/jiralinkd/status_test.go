package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/jiralinkd/jiralinkd/indexer/admin"
	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/indexer/status"
	"github.com/jiralinkd/jiralinkd/providers"
)

const adminToken = "adm-cli-test-token-0123456789"

// statusFixture is a configuration and a state file with two repos and
// the links of ABC-1.
type statusFixture struct {
	dir, statePath string
	env            map[string]string
}

func newStatusFixture(t *testing.T) *statusFixture {
	t.Helper()
	f := &statusFixture{dir: t.TempDir(), env: map[string]string{"GH_TOKEN": ghToken, "JIRA_TOKEN": jiraToken, "ADMIN_TOKEN": adminToken}}
	f.statePath = filepath.Join(f.dir, "state.db")
	st, err := boltstore.Open(f.statePath, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	for _, r := range []state.RepoState{
		{Key: state.RepoKey{Provider: "github", ID: 77}, Repo: providers.Repo{ID: 77, FullName: "acme/api", HTMLURL: "https://github.com/acme/api"},
			Status: state.RepoOK, LastSync: now.Add(-3 * time.Minute), LastSuccess: now.Add(-3 * time.Minute),
			Branches: map[string]string{"main": "c2", "feature/abc-3": "c1"}, Commits: 5343, Links: 12},
		{Key: state.RepoKey{Provider: "github", ID: 78}, Repo: providers.Repo{ID: 78, FullName: "acme/web", HTMLURL: "https://github.com/acme/web"},
			Status: state.RepoFailed, LastSync: now.Add(-time.Hour), LastError: "list branches:\n\x1b[31m403 Forbidden"},
	} {
		if err := st.PutRepo(r); err != nil {
			t.Fatal(err)
		}
	}
	written := now.Add(-10 * time.Minute)
	err = st.PutLinks(map[state.Link]state.LinkRecord{
		{GlobalID: "jiralinkd/github/77/commit/c1", Issue: "ABC-1"}: {Hash: 1, Info: state.LinkInfo{Kind: "commit", Repo: "github/acme/api",
			URL: "https://github.com/acme/api/commit/c1", Title: "c1 ABC-1: first", Sources: []string{"commit message"}, Written: written}},
		{GlobalID: "jiralinkd/github/77/pr/5", Issue: "ABC-1"}: {Hash: 2, Info: state.LinkInfo{Kind: "pr", Repo: "github/acme/api",
			URL: "https://github.com/acme/api/pull/5", Title: "PR #5: login", Sources: []string{"PR title", "PR branch"}, Written: written}},
		{GlobalID: "jiralinkd/github/77/commit/c2", Issue: "ABC-2"}: {Hash: 3, Info: state.LinkInfo{Kind: "commit", Repo: "github/acme/api"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// config writes a configuration; listen is http.listen and tokenEnv the
// admin token variable ("" for none).
func (f *statusFixture) config(t *testing.T, listen, tokenEnv string) string {
	t.Helper()
	admin := ""
	if tokenEnv != "" {
		admin = "\n  admin_token_env: " + tokenEnv
	}
	p := filepath.Join(f.dir, fmt.Sprintf("config-%d.yaml", time.Now().UnixNano()))
	body := fmt.Sprintf(`state:
  path: %s
http:
  listen: %s%s
log:
  level: warn
jira:
  url: https://jira.invalid
  token_env: JIRA_TOKEN
providers:
  - name: github
    type: github
    url: https://github.invalid/api/v3/
    token_env: GH_TOKEN
    schedule: "*/5 * * * *"
    repos: [acme/api, acme/web]
`, f.statePath, listen, admin)
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func (f *statusFixture) run(cmd func(context.Context, []string, io.Writer, io.Writer, envFunc) int, args ...string) (int, string, string) {
	var o, e bytes.Buffer
	code := cmd(context.Background(), args, &o, &e, func(k string) string { return f.env[k] })
	return code, o.String(), e.String()
}

// lineWith returns the output line containing s.
func lineWith(out, s string) string {
	for _, l := range strings.Split(out, "\n") {
		if strings.Contains(l, s) {
			return l
		}
	}
	return ""
}

func TestStatusFromStateFile(t *testing.T) {
	f := newStatusFixture(t)
	cfg := f.config(t, "127.0.0.1:0", "")

	code, out, errOut := f.run(cmdStatus, "--config", cfg)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	if !strings.Contains(out, "from state file "+f.statePath) {
		t.Errorf("source not named:\n%s", out)
	}
	for s, fields := range map[string][]string{
		"PROVIDER  TYPE":     {"SCHEDULE", "RATE LIMIT", "WEBHOOK"},
		"github    github":   {"*/5 * * * *", "idle", "unknown", "off"},
		"acme/api":           {"github", "ok", "3 min ago", "2", "5343", "12"},
		"acme/web":           {"failed", "1 h ago", "never", "list branches:  [31m403 Forbidden"},
		"Webhook queue: 0":   nil,
		"LAST SUCCESS":       {"PROVIDER", "REPO", "STATE", "LAST SYNC", "BRANCHES", "COMMITS", "LINKS", "LAST ERROR"},
		"jiralinkd dev · ":   nil,
		"PROVIDER  REPO":     nil,
		"LAST PASS":          nil,
		"github    acme/api": nil,
	} {
		l := lineWith(out, s)
		if l == "" {
			t.Errorf("no line with %q:\n%s", s, out)
			continue
		}
		for _, want := range fields {
			if !strings.Contains(l, want) {
				t.Errorf("line %q lacks %q", l, want)
			}
		}
	}
	if strings.Contains(out, "\x1b") {
		t.Error("a terminal escape from the state reached the output")
	}

	code, out, _ = f.run(cmdStatus, "--config", cfg, "--json")
	if code != exitOK {
		t.Fatalf("--json exit %d", code)
	}
	var snap status.Snapshot
	if err := json.Unmarshal([]byte(out), &snap); err != nil {
		t.Fatalf("--json: %v\n%s", err, out)
	}
	if len(snap.Providers) != 1 || snap.Providers[0].Name != "github" || snap.Providers[0].Schedule != "*/5 * * * *" ||
		len(snap.Repos) != 2 || snap.Repos[0].Commits != 5343 || snap.Repos[0].Branches != 2 || snap.Repos[1].State != state.RepoFailed {
		t.Errorf("--json snapshot: %+v", snap)
	}

	if code, _, _ := f.run(cmdStatus, "--config", cfg, "extra"); code != exitConfig {
		t.Errorf("extra argument: exit %d", code)
	}
	if code, _, _ := f.run(cmdStatus, "--config", filepath.Join(f.dir, "missing.yaml")); code != exitConfig {
		t.Errorf("missing config: exit %d", code)
	}
}

func TestExplainFromStateFile(t *testing.T) {
	f := newStatusFixture(t)
	cfg := f.config(t, "127.0.0.1:0", "")

	code, out, errOut := f.run(cmdExplain, "--config", cfg, "abc-1")
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, want := range []string{
		"ABC-1: 2 links written by jiralinkd (from state file " + f.statePath + ")",
		"commit  github/acme/api\n        c1 ABC-1: first\n        https://github.com/acme/api/commit/c1\n        why: commit message\n",
		"pr      github/acme/api\n        PR #5: login\n        https://github.com/acme/api/pull/5\n        why: PR title, PR branch\n",
		"(10 min ago)",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}

	code, out, _ = f.run(cmdExplain, "--config", cfg, "--json", "ABC-1")
	if code != exitOK {
		t.Fatalf("--json exit %d", code)
	}
	var e admin.Explanation
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatal(err)
	}
	if e.Issue != "ABC-1" || len(e.Links) != 2 || e.Links[1].GlobalID != "jiralinkd/github/77/pr/5" ||
		strings.Join(e.Links[1].Sources, "|") != "PR title|PR branch" || e.Links[0].URL != "https://github.com/acme/api/commit/c1" {
		t.Errorf("--json: %+v", e)
	}
	if !strings.Contains(out, `"global_id"`) {
		t.Errorf("--json is not the API's shape:\n%s", out)
	}

	code, out, _ = f.run(cmdExplain, "--config", cfg, "ZZZ-9")
	if code != exitOK || !strings.Contains(out, "ZZZ-9: jiralinkd has written no link") {
		t.Errorf("no links: exit %d\n%s", code, out)
	}
	code, out, _ = f.run(cmdExplain, "--config", cfg, "--json", "ZZZ-9")
	if code != exitOK || !strings.Contains(out, `"links": []`) {
		t.Errorf("no links --json: exit %d\n%s", code, out)
	}
	code, out, _ = f.run(cmdExplain, "--config", cfg, "ABC-2")
	if code != exitOK || !strings.Contains(out, "why: unknown") {
		t.Errorf("link without recorded sources: exit %d\n%s", code, out)
	}

	for _, args := range [][]string{{}, {"ABC-01"}, {"ABC"}, {"ABC-1", "ABC-2"}} {
		code, _, errOut := f.run(cmdExplain, append([]string{"--config", cfg}, args...)...)
		if code != exitConfig || !strings.Contains(errOut, "usage: jiralinkd explain") {
			t.Errorf("args %q: exit %d %s", args, code, errOut)
		}
	}
}

func TestStatusWithoutStateFile(t *testing.T) {
	f := &statusFixture{dir: t.TempDir(), env: map[string]string{"GH_TOKEN": ghToken, "JIRA_TOKEN": jiraToken}}
	f.statePath = filepath.Join(f.dir, "never", "state.db")
	cfg := f.config(t, "127.0.0.1:0", "")
	code, _, errOut := f.run(cmdStatus, "--config", cfg)
	if code != exitFailed || !strings.Contains(errOut, "does not exist: nothing has been synced yet") {
		t.Errorf("exit %d: %s", code, errOut)
	}
	if _, err := os.Stat(f.statePath); !os.IsNotExist(err) {
		t.Errorf("status created the state file: %v", err)
	}
}

// daemonBackend is the admin Backend of a "running daemon" in these tests.
type daemonBackend struct {
	tracker *status.Tracker
	store   *boltstore.Store
}

func (b daemonBackend) Snapshot() (status.Snapshot, error) { return b.tracker.Snapshot() }
func (b daemonBackend) IssueLinks(k string) ([]state.IssueLink, error) {
	return b.store.IssueLinks(k)
}
func (b daemonBackend) Resync(string, string) error { return admin.ErrUnknownRepo }

// startDaemon holds the state file, as serve does, and serves the admin
// API over it with token ("" disables it). It returns the listen address.
func startDaemon(t *testing.T, f *statusFixture, token string) string {
	t.Helper()
	st, err := boltstore.Open(f.statePath, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	tr := status.NewTracker(st, "v9.9.9", []status.ProviderInfo{{Name: "github", Type: "github", Schedule: "*/5 * * * *", Webhook: true}})
	tr.RepoSyncing(state.RepoKey{Provider: "github", ID: 78}, true) // only the daemon knows this
	r := mux.NewRouter()
	admin.New(daemonBackend{tracker: tr, store: st}, admin.Options{Token: token, Version: "v9.9.9"}).Route(r)
	ts := httptest.NewServer(r)
	t.Cleanup(ts.Close)
	return ts.Listener.Addr().String()
}

func TestStatusAndExplainViaDaemon(t *testing.T) {
	f := newStatusFixture(t)
	addr := startDaemon(t, f, adminToken)
	cfg := f.config(t, addr, "ADMIN_TOKEN")

	code, out, errOut := f.run(cmdStatus, "--config", cfg)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for _, want := range []string{"jiralinkd v9.9.9", "from the running daemon at " + addr} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if l := lineWith(out, "acme/web"); !strings.Contains(l, "syncing") {
		t.Errorf("acme/web is not shown syncing (as the daemon says): %q", l)
	}
	if l := lineWith(out, "github    github"); !strings.Contains(l, " on") {
		t.Errorf("the daemon's provider (webhook on) is not shown: %q", l)
	}

	code, out, _ = f.run(cmdStatus, "--config", cfg, "--json")
	var snap status.Snapshot
	if err := json.Unmarshal([]byte(out), &snap); err != nil || code != exitOK {
		t.Fatalf("--json exit %d: %v", code, err)
	}
	if snap.Version != "v9.9.9" || len(snap.Repos) != 2 || !snap.Repos[1].Syncing {
		t.Errorf("--json via daemon: %+v", snap)
	}

	code, out, errOut = f.run(cmdExplain, "--config", cfg, "ABC-1")
	if code != exitOK || !strings.Contains(out, "ABC-1: 2 links written by jiralinkd (from the running daemon at "+addr+")") ||
		!strings.Contains(out, "why: PR title, PR branch") {
		t.Errorf("explain via daemon: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out+errOut, adminToken) {
		t.Error("the admin token reached the output")
	}
}

func TestStatusViaDaemonErrors(t *testing.T) {
	f := newStatusFixture(t)
	addr := startDaemon(t, f, adminToken)

	// No admin token configured: say what to set.
	code, _, errOut := f.run(cmdStatus, "--config", f.config(t, addr, ""))
	if code != exitConfig || !strings.Contains(errOut, "http.admin_token_env") {
		t.Errorf("no token: exit %d: %s", code, errOut)
	}

	// A token the daemon does not accept.
	f.env["OTHER_TOKEN"] = "adm-some-other-token-000000"
	code, _, errOut = f.run(cmdExplain, "--config", f.config(t, addr, "OTHER_TOKEN"), "ABC-1")
	if code != exitFailed || !strings.Contains(errOut, "refused the admin token") || strings.Contains(errOut, f.env["OTHER_TOKEN"]) {
		t.Errorf("wrong token: exit %d: %s", code, errOut)
	}

	// A daemon without admin API.
	g := newStatusFixture(t)
	addr = startDaemon(t, g, "")
	code, _, errOut = g.run(cmdStatus, "--config", g.config(t, addr, "ADMIN_TOKEN"))
	if code != exitFailed || !strings.Contains(errOut, "admin API is off") {
		t.Errorf("admin off: exit %d: %s", code, errOut)
	}
}

func TestDialAddr(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:8080": "127.0.0.1:8080", ":8080": "127.0.0.1:8080", "0.0.0.0:9": "127.0.0.1:9",
		"[::]:8080": "[::1]:8080", "jiralinkd.internal:80": "jiralinkd.internal:80", "[::1]:1": "[::1]:1",
	} {
		if got := dialAddr(in); got != want {
			t.Errorf("dialAddr(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestStatusCountsFailedSmartCommits: status read from the state file
// counts the failed commands explain lists, as serve's views do.
func TestStatusCountsFailedSmartCommits(t *testing.T) {
	f := newStatusFixture(t)
	st, err := boltstore.Open(f.statePath, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ledger := st.Ledger()
	now := time.Now()
	commit := smartcommit.CommitInfo{Provider: "github", Repo: "acme/api", Branch: "main", SHA: "c1", URL: "https://github.com/acme/api/commit/c1"}
	err = ledger.Put(
		smartcommit.Record{ID: "github/c1/0", Issue: "ABC-1", Kind: smartcommit.KindTransition, Command: "ABC-1 #frobnicate",
			Transition: "frobnicate", Commit: commit, State: smartcommit.StateFailed, Attempts: 1, Error: `no transition "frobnicate"`, Created: now, Updated: now},
		smartcommit.Record{ID: "github/c1/1", Issue: "ABC-1", Kind: smartcommit.KindComment, Command: "ABC-1 #comment hi",
			Text: "hi", Commit: commit, State: smartcommit.StateDone, Attempts: 1, JiraID: "10001", Created: now, Updated: now},
	)
	if cerr := st.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.config(t, "127.0.0.1:0", "")

	code, out, errOut := f.run(cmdExplain, "--config", cfg, "--json", "ABC-1")
	if code != exitOK {
		t.Fatalf("explain: exit %d\n%s", code, errOut)
	}
	var e admin.Explanation
	if err := json.Unmarshal([]byte(out), &e); err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, c := range e.SmartCommits {
		if c.State == string(smartcommit.StateFailed) {
			failed++
		}
	}
	if failed != 1 {
		t.Fatalf("explain lists %d failed commands, want 1: %+v", failed, e.SmartCommits)
	}

	code, out, errOut = f.run(cmdStatus, "--config", cfg, "--json")
	if code != exitOK {
		t.Fatalf("status --json: exit %d\n%s", code, errOut)
	}
	var snap status.Snapshot
	if err := json.Unmarshal([]byte(out), &snap); err != nil {
		t.Fatal(err)
	}
	if snap.SmartCommitsFailed != 1 || !strings.Contains(out, `"smart_commits_failed": 1`) {
		t.Errorf("status --json: smart_commits_failed %d, want 1 (as explain)\n%s", snap.SmartCommitsFailed, out)
	}
	code, out, _ = f.run(cmdStatus, "--config", cfg)
	if code != exitOK || !strings.Contains(out, "Smart commits failed: 1") {
		t.Errorf("status: exit %d, no failure count:\n%s", code, out)
	}
}
