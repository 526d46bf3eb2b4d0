package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/status"
)

// statusJSON runs `jiralinkd status --json` and decodes it.
func (f *fixture) statusJSON(t *testing.T, cfg string) status.Snapshot {
	t.Helper()
	code, out, errOut := f.run(context.Background(), "status", "--config", cfg, "--json")
	if code != exitOK {
		t.Fatalf("status exit %d\n%s", code, errOut)
	}
	var s status.Snapshot
	if err := json.Unmarshal([]byte(out), &s); err != nil {
		t.Fatalf("status --json: %v\n%s", err, out)
	}
	return s
}

func repoOf(t *testing.T, s status.Snapshot, name string) status.Repo {
	t.Helper()
	for _, r := range s.Repos {
		if r.FullName == name {
			return r
		}
	}
	t.Fatalf("repo %s not in status: %+v", name, s.Repos)
	return status.Repo{}
}

// A wrong Jira token, then a wrong GitHub token: every CLI sync fails, and
// `status` (which reads what sync recorded) says so at the repo, provider,
// Jira and overall level, naming the setting to fix; a good sync clears it.
func TestFailuresAfterCLISyncAreShownByStatus(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if code, out, errOut := f.run(ctx, "sync", "--config", f.config); code != exitOK {
		t.Fatalf("first sync: exit %d\n%s%s", code, out, errOut)
	}
	s := f.statusJSON(t, f.config)
	if s.Health != status.HealthOK || s.Jira.State != state.HealthOK || s.Providers[0].State != state.HealthOK {
		t.Errorf("after a good sync: health %s, jira %q, github %q", s.Health, s.Jira.State, s.Providers[0].State)
	}
	if p := s.Providers[0]; p.LastPass.IsZero() || !p.RateLimit.Known || p.RateLimit.Limit == 0 || p.RateLimit.SeenAt.IsZero() {
		t.Errorf("status after a CLI sync lacks the provider's last pass or rate limit: %+v", p)
	}

	f.env["JIRA_TOKEN"] = "revoked-token-0000000000"
	for i := 1; i <= 2; i++ {
		code, out, _ := f.run(ctx, "sync", "--config", f.config)
		if code != exitFailed || !strings.Contains(out, "fix: Jira rejected the credentials (wrong, expired or revoked): replace jira.token_env (JIRA_TOKEN)") {
			t.Fatalf("sync with a revoked Jira token: exit %d\n%s", code, out)
		}
		s = f.statusJSON(t, f.config)
		r := repoOf(t, s, "acme/api")
		if r.State != state.RepoFailed || r.Failures != i || r.LastError == "" || r.LastSync.IsZero() {
			t.Errorf("pass %d: repo shown %s, %d failures, error %q", i, r.State, r.Failures, r.LastError)
		}
		if s.Health != status.HealthFailing {
			t.Errorf("pass %d: health %s, want failing", i, s.Health)
		}
		if s.Jira.State != state.HealthFailed || s.Jira.FailureKind != "token_rejected" || !strings.Contains(s.Jira.Hint, "jira.token_env (JIRA_TOKEN)") {
			t.Errorf("pass %d: Jira shown %+v", i, s.Jira)
		}
		if p := s.Providers[0]; p.State != state.HealthFailed || p.Failures != i {
			t.Errorf("pass %d: provider shown %+v", i, p.System)
		}
	}
	_, text, _ := f.run(ctx, "status", "--config", f.config)
	for _, want := range []string{"Health: FAILING", "jira.token_env (JIRA_TOKEN)", "failed (2 in a row)", "provider github: nothing synced while Jira fails (above)"} {
		if !strings.Contains(text, want) {
			t.Errorf("status text lacks %q:\n%s", want, text)
		}
	}
	if strings.Contains(text, "revoked-token") || strings.Contains(text, jiraToken) {
		t.Error("a token appeared in status")
	}

	f.env["JIRA_TOKEN"] = jiraToken
	if code, out, _ := f.run(ctx, "sync", "--config", f.config); code != exitOK {
		t.Fatalf("sync with the token fixed: exit %d\n%s", code, out)
	}
	s = f.statusJSON(t, f.config)
	if r := repoOf(t, s, "acme/api"); r.State != state.RepoOK || r.Failures != 0 || r.LastError != "" || s.Health != status.HealthOK {
		t.Errorf("after the fix: health %s, repo %+v", s.Health, r)
	}

	f.env["GH_TOKEN"] = "ghp_revoked_000000000000000"
	if code, _, _ := f.run(ctx, "sync", "--config", f.config); code != exitFailed {
		t.Fatalf("sync with a revoked GitHub token: exit %d", code)
	}
	s = f.statusJSON(t, f.config)
	r := repoOf(t, s, "acme/api")
	if r.State != state.RepoFailed || !strings.Contains(r.Hint, "providers[0].token_env (GH_TOKEN)") {
		t.Errorf("revoked GitHub token: repo %+v", r)
	}
	if p := s.Providers[0]; p.State != state.HealthFailed || p.FailureKind != "token_rejected" || s.Health != status.HealthFailing {
		t.Errorf("revoked GitHub token: health %s, provider %+v", s.Health, p.System)
	}
	if s.Jira.State != state.HealthOK {
		t.Errorf("Jira blamed for GitHub's failure: %+v", s.Jira)
	}
}

// serve with a revoked Jira token: the API, the page, the metrics and a
// Resync all say the repo failed and why.
func TestServeShowsFailuresAndResyncOutcome(t *testing.T) {
	f := newFixture(t)
	if code, out, errOut := f.run(context.Background(), "sync", "--config", f.config); code != exitOK {
		t.Fatalf("first sync: exit %d\n%s%s", code, out, errOut)
	}
	f.env["JIRA_TOKEN"] = "revoked-token-0000000000"
	addr := f.startServe(t, adminToken)
	get := func(path string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+adminToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	var snap status.Snapshot
	waitUntil(t, func() bool {
		code, body := get("/api/v1/status")
		return code == 200 && json.Unmarshal([]byte(body), &snap) == nil && len(snap.Repos) == 1 && snap.Repos[0].State == state.RepoFailed
	})
	if snap.Health != status.HealthFailing || snap.Jira.FailureKind != "token_rejected" || snap.Repos[0].Hint == "" {
		t.Errorf("API: health %s, jira %+v, repo %+v", snap.Health, snap.Jira, snap.Repos[0])
	}
	_, page := get("/")
	for _, want := range []string{`data-health="failing"`, "jira.token_env (JIRA_TOKEN)", `data-state="failed"`} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	_, metrics := get("/metrics")
	for _, want := range []string{`jiralinkd_repos{provider="github",state="failed"} 1`, `jiralinkd_repos{provider="github",state="ok"} 0`,
		`jiralinkd_last_success_timestamp_seconds{provider="github",repo="acme/api"}`, `jiralinkd_health{state="failing"} 1`, `jiralinkd_system_up{system="jira"} 0`} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %q", want)
		}
	}

	req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/api/v1/repos/github/acme/api/resync", nil)
	req.Header.Set("Authorization", "Bearer "+adminToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusAccepted {
		t.Fatalf("resync: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, body := get("/api/v1/status")
		if json.Unmarshal([]byte(body), &snap) == nil && len(snap.Repos) == 1 && snap.Repos[0].Resync != nil && snap.Repos[0].Resync.State != status.ResyncStarted {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("resync outcome never shown: %+v", snap.Repos)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if rs := snap.Repos[0].Resync; rs.State != status.ResyncFailed || rs.Error == "" {
		t.Errorf("resync against a revoked token shown as %+v", rs)
	}
	if _, page := get("/"); !strings.Contains(page, `data-resync="failed"`) {
		t.Error("the page does not show the failed resync")
	}
}

// startServe runs `jiralinkd serve` on a free port with the fixture's
// configuration (and the admin token, if given) until the test ends, and
// returns its address once it is ready.
func (f *fixture) startServe(t *testing.T, adminTok string) string {
	t.Helper()
	addr := freeAddr(t)
	extra := ""
	if adminTok != "" {
		f.env["ADMIN_TOKEN"] = adminTok
		extra = "\n  admin_token_env: ADMIN_TOKEN"
	}
	cfg := f.write(t, "serve.yaml", strings.Replace(mustRead(t, f.config), "listen: 127.0.0.1:0", "listen: "+addr+extra, 1))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		code, _, _ := f.run(ctx, "serve", "--config", cfg)
		done <- code
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	waitUntil(t, func() bool {
		resp, err := http.Get("http://" + addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return addr
}
