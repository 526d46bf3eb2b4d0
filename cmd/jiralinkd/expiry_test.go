package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/config"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
)

// TestTokenWatchWarnsOncePerThreshold: a warning at 30, 14, 7 and 1 days
// left, each logged once however often the expiry is looked at; a token
// first seen 5 days before its expiry warns once (7), not three times;
// an expired one is an error, once.
func TestTokenWatchWarnsOncePerThreshold(t *testing.T) {
	var buf lockedBuffer
	w := newTokenWatch(slog.New(slog.NewTextHandler(&buf, nil)))
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	w.now = func() time.Time { return now }
	exp := now.Add(40 * 24 * time.Hour)
	count := func() int { return strings.Count(buf.String(), "token expires soon") }
	for _, step := range []struct {
		daysLeft float64
		want     int
	}{{40, 0}, {35, 0}, {29.5, 1}, {29, 1}, {20, 1}, {13.9, 2}, {13, 2}, {6.5, 3}, {6, 3}, {2, 3}, {0.5, 4}, {0.2, 4}} {
		now = exp.Add(-time.Duration(step.daysLeft * float64(24*time.Hour)))
		for range 3 {
			w.warn("github", "providers[0].token_file (/run/gh)", exp)
		}
		if got := count(); got != step.want {
			t.Fatalf("at %.1f days left: %d warnings, want %d\n%s", step.daysLeft, got, step.want, buf.String())
		}
	}
	now = exp.Add(time.Hour)
	w.warn("github", "providers[0].token_file (/run/gh)", exp)
	w.warn("github", "providers[0].token_file (/run/gh)", exp)
	if n := strings.Count(buf.String(), "token expired"); n != 1 {
		t.Errorf("%d expired errors, want 1", n)
	}
	if !strings.Contains(buf.String(), "setting=\"providers[0].token_file (/run/gh)\"") {
		t.Errorf("the warning does not name the setting:\n%s", buf.String())
	}

	buf = lockedBuffer{}
	w2 := newTokenWatch(slog.New(slog.NewTextHandler(&buf, nil)))
	w2.now = func() time.Time { return now }
	w2.warn("jira", "jira.token_env (JIRA_TOKEN)", now.Add(5*24*time.Hour))
	if n := strings.Count(buf.String(), "token expires soon"); n != 1 || !strings.Contains(buf.String(), "days_left=5") {
		t.Errorf("first seen 5 days ahead: %d warnings, want 1 with days_left=5\n%s", n, buf.String())
	}
}

// TestTokenExpiryShown: the expiries GitHub (response header) and Jira
// (PAT list) report are in check, on the status page, in the metric and
// in one warning each, however many passes run.
func TestTokenExpiryShown(t *testing.T) {
	now := time.Now().UTC().Truncate(time.Second)
	ghExp, jiraExp := now.Add(10*24*time.Hour+time.Hour), now.Add(50*24*time.Hour+time.Hour)
	s := newReloadStack(t, githubtest.Options{TokenExpiration: ghExp})
	s.jira = jiratest.Start(t, jiratest.Options{Token: jiraToken, TokenExpiringAt: jiraExp,
		Projects: []jiratest.Project{{ID: "1", Key: "ABC", Name: "Alpha"}}, IssueExists: jiratest.AllIssues})
	writeAtomic(t, s.tokFile, "ghp_token_0123456789abcdefABCDEFabcd\n")
	s.writeConfig(t, "acme/api", false)

	var out, errOut strings.Builder
	code := cli(context.Background(), []string{"check", "--config", s.config}, &out, &errOut, func(k string) string { return s.env[k] })
	wantLines(t, out.String()+errOut.String(),
		"WARN github token expiry: expires on "+ghExp.Format(time.DateOnly)+" (10 days left): replace providers[0].token_file ("+s.tokFile+") before then",
		"OK   jira token expiry: expires on "+jiraExp.Format(time.DateOnly)+" (50 days left)")
	_ = code

	logs, stop := s.serve(t, nil)
	waitUntil(t, func() bool { return len(s.jira.AllLinks()["ABC-2"]) > 0 })
	time.Sleep(2500 * time.Millisecond) // more passes: no more warnings
	base, admin := "http://"+s.addr, s.env["ADMIN_TOKEN"]
	metrics := adminGet(t, base+"/metrics", admin)
	for _, want := range []string{
		fmt.Sprintf(`jiralinkd_token_expiry_timestamp_seconds{provider="github",system="github"} %s`, promFloat(ghExp.Unix())),
		fmt.Sprintf(`jiralinkd_token_expiry_timestamp_seconds{provider="jira",system="jira"} %s`, promFloat(jiraExp.Unix())),
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	page := adminGet(t, base+"/", admin)
	for _, want := range []string{"10 days left (" + ghExp.Format(time.DateOnly) + ")", "50 days left (" + jiraExp.Format(time.DateOnly) + ")"} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks %q", want)
		}
	}
	var sout, serr strings.Builder
	cli(context.Background(), []string{"status", "--config", s.config}, &sout, &serr, func(k string) string { return s.env[k] })
	wantLines(t, sout.String()+serr.String(), "token expires "+ghExp.Format(time.DateOnly)+" (10 days left)",
		"token expires "+jiraExp.Format(time.DateOnly)+" (50 days left)")
	stop()
	l := logs.String()
	if n := strings.Count(l, `token expires soon: replace it before it does" system=github`); n != 1 {
		t.Errorf("%d GitHub expiry warnings, want 1:\n%s", n, l)
	}
	if strings.Contains(l, "system=jira days_left") {
		t.Errorf("Jira's token is 50 days from expiry: no warning wanted:\n%s", l)
	}
}

// promFloat is how the Prometheus text format prints a Unix time.
func promFloat(v int64) string {
	s := fmt.Sprintf("%g", float64(v))
	return s
}

// adminGet returns the body of an admin route.
func adminGet(t *testing.T, url, token string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	return string(b)
}

// TestGitLabSelfRotation: with rotate_before and a token expiring within
// it, the token is rotated through the API and the new token is in the
// token file before any request carries it; the old one is not sent
// again.
func TestGitLabSelfRotation(t *testing.T) {
	const oldTok = "glpat-old-rotation-token-0123456789"
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "gl-token")
	if err := os.WriteFile(tokFile, []byte(oldTok+"\n"), 0o640); err != nil {
		t.Fatal(err)
	}
	gl := gitlabtest.NewServer(gitlabtest.Options{Token: oldTok, Scopes: []string{"read_api", "self_rotate"},
		TokenExpiresAt: time.Now().Add(3 * 24 * time.Hour)})
	var (
		mu        sync.Mutex
		usedEarly []string // requests carrying a token not yet in the file
		rotated   bool
		oldAfter  int
	)
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cred := fakeserver.CredentialOf(r)
		mu.Lock()
		if cred != oldTok {
			if b, _ := os.ReadFile(tokFile); strings.TrimSpace(string(b)) != cred {
				usedEarly = append(usedEarly, r.URL.Path)
			}
		} else if rotated {
			oldAfter++
		}
		if strings.HasSuffix(r.URL.Path, "/personal_access_tokens/self/rotate") {
			rotated = true
		}
		mu.Unlock()
		gl.Handler().ServeHTTP(w, r)
	}))
	t.Cleanup(ts.Close)

	cfgPath := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfgPath, []byte(fmt.Sprintf(`state:
  path: %s
jira:
  url: http://127.0.0.1:1/
  token: literal-jira-token
providers:
  - name: gitlab
    type: gitlab
    url: %s/
    token_file: %s
    rotate_before: 7d
    projects: [acme/web]
`, filepath.Join(dir, "state.db"), ts.URL, tokFile)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath, func(string) string { return "" }, nil)
	if err != nil {
		t.Fatal(err)
	}
	var logs lockedBuffer
	d, err := buildDeps(cfg, slog.New(slog.NewTextHandler(&logs, nil)), withoutRetries())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	d.refreshTokens(ctx)
	if tok, _ := gl.Token(); tok != oldTok {
		t.Fatal("rotated outside rotateDue")
	}
	d.rotateDue(ctx, "gitlab")
	newTok, newExp := gl.Token()
	if newTok == oldTok {
		t.Fatalf("no rotation:\n%s", logs.String())
	}
	if b, _ := os.ReadFile(tokFile); strings.TrimSpace(string(b)) != newTok {
		t.Fatalf("token file holds %q, want the rotated token", b)
	}
	if fi, _ := os.Stat(tokFile); fi.Mode().Perm() != 0o640 {
		t.Errorf("token file mode %v, want 0640 kept", fi.Mode().Perm())
	}
	if _, err := d.gitlab["gitlab"].Version(ctx); err != nil {
		t.Fatalf("a request after the rotation failed: %v", err)
	}
	if exp, ok := d.tokens.get("gitlab"); !ok || exp.Format(time.DateOnly) != newExp.UTC().Format(time.DateOnly) {
		t.Errorf("expiry after rotation = %v, %v; want %v", exp, ok, newExp)
	}
	mu.Lock()
	if len(usedEarly) > 0 || oldAfter > 0 {
		t.Errorf("requests with a token not yet written: %v; with the old token after the rotation: %d", usedEarly, oldAfter)
	}
	mu.Unlock()
	if strings.Contains(logs.String(), newTok) || strings.Contains(logs.String(), oldTok) {
		t.Error("a token reached the log")
	}
	if !strings.Contains(logs.String(), "token rotated") {
		t.Errorf("the rotation was not logged:\n%s", logs.String())
	}
	// Not due again: no second rotation.
	d.refreshTokens(ctx)
	d.rotateDue(ctx, "gitlab")
	if tok, _ := gl.Token(); tok != newTok {
		t.Error("rotated again although the new token is a week from expiry")
	}
}
