package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

// lockedBuffer is an io.Writer safe for the concurrent writes of a
// running serve (its logger) and the test's reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

const reloadHookSecret = "reload-webhook-secret-0123456789"

// reloadStack is a fake GitHub with three repositories (acme/api, acme/web,
// acme/lib, whose commits mention ABC-1/ABC-2, ABC-5 and ABC-7), a fake
// Jira, and a serve configuration template.
type reloadStack struct {
	gh      *githubtest.Server
	jira    *jiratest.Server
	dir     string
	addr    string
	config  string
	tokFile string
	env     map[string]string
}

func newReloadStack(t *testing.T, ghOpts githubtest.Options) *reloadStack {
	t.Helper()
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	repo := func(msgs ...string) *corpus.History {
		b := corpus.NewBuilder()
		var parent []string
		for i, m := range msgs {
			c := b.Commit(parent, m, at.Add(time.Duration(i)*time.Hour))
			parent = []string{c}
		}
		b.Branch("main", parent[0])
		return b.Build()
	}
	s := &reloadStack{dir: t.TempDir(), addr: freeAddr(t)}
	s.gh = githubtest.Start(t, ghOpts)
	s.gh.AddCorpusRepo("acme", "api", 77, repo("ABC-1: first", "ABC-2: second"))
	s.gh.AddCorpusRepo("acme", "web", 78, repo("ABC-5: web"))
	s.gh.AddCorpusRepo("acme", "lib", 79, repo("ABC-7: lib"))
	s.jira = jiratest.Start(t, jiratest.Options{Token: jiraToken, Projects: []jiratest.Project{{ID: "1", Key: "ABC", Name: "Alpha"}},
		IssueExists: jiratest.AllIssues})
	s.tokFile = filepath.Join(s.dir, "gh-token")
	s.env = map[string]string{"JIRA_TOKEN": jiraToken, "HOOK_SECRET": reloadHookSecret, "ADMIN_TOKEN": "admin-token-0123456789abcdef"}
	s.config = filepath.Join(s.dir, "config.yaml")
	return s
}

// writeConfig writes the configuration: the github provider with repos,
// and the provider "other" (acme/lib) when other is set.
func (s *reloadStack) writeConfig(t *testing.T, repos string, other bool) {
	t.Helper()
	cfg := fmt.Sprintf(`state:
  path: %s
http:
  listen: %s
  admin_token_env: ADMIN_TOKEN
log:
  level: info
jira:
  url: %s
  token_env: JIRA_TOKEN
providers:
  - name: github
    type: github
    url: %s
    token_file: %s
    schedule: "@every 1s"
    repos: [%s]
    webhook:
      secret_env: HOOK_SECRET
`, filepath.Join(s.dir, "state.db"), s.addr, s.jira.URL(), s.gh.URL(), s.tokFile, repos)
	if other {
		cfg += fmt.Sprintf(`  - name: other
    type: github
    url: %s
    token_file: %s
    schedule: "@every 1s"
    repos: [acme/lib]
`, s.gh.URL(), s.tokFile)
	}
	writeAtomic(t, s.config, cfg)
}

// writeAtomic replaces path the way Kubernetes and Vault agents do: a new
// file renamed over the old one.
func writeAtomic(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".new"
	if err := os.WriteFile(tmp, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// serve starts `serve` in-process with reload as its SIGHUP channel and
// waits until it is ready; stop ends it and returns its exit code.
func (s *reloadStack) serve(t *testing.T, reload <-chan struct{}) (logs *lockedBuffer, stop func() int) {
	t.Helper()
	logs = &lockedBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	go func() {
		done <- cliReload(ctx, []string{"serve", "--config", s.config}, logs, logs, func(k string) string { return s.env[k] }, reload)
	}()
	stopped := false
	stop = func() int {
		if stopped {
			return exitOK
		}
		stopped = true
		cancel()
		select {
		case code := <-done:
			return code
		case <-time.After(45 * time.Second):
			t.Fatal("serve did not stop")
			return -1
		}
	}
	t.Cleanup(func() { stop() })
	waitUntil(t, func() bool {
		resp, err := http.Get("http://" + s.addr + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	return logs, stop
}

// ping posts a signed ping delivery to the github webhook and returns the
// status (0 when the request failed).
func (s *reloadStack) ping(id string) int {
	body := []byte(`{"zen":"Keep it logically awesome.","hook_id":1}`)
	mac := hmac.New(sha256.New, []byte(reloadHookSecret))
	mac.Write(body)
	req, _ := http.NewRequest(http.MethodPost, "http://"+s.addr+"/webhooks/github", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "ping")
	req.Header.Set("X-GitHub-Delivery", id)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// repoRequests counts the fake's requests under /repos/owner/name.
func repoRequests(gh *githubtest.Server, fullName string) int {
	n := 0
	for _, r := range gh.Requests() {
		if strings.HasPrefix(r.Path, "/repos/"+fullName+"/") || r.Path == "/repos/"+fullName {
			n++
		}
	}
	return n
}

// TestServeRotatedTokenFile: the token file is replaced while serve runs;
// the next requests carry the new token, the old one is never sent again,
// and no pass fails on the way.
func TestServeRotatedTokenFile(t *testing.T) {
	const oldTok, newTok = "ghp_old_token_0123456789abcdefABCDEF", "ghp_new_token_0123456789abcdefABCDEF"
	s := newReloadStack(t, githubtest.Options{}) // the fake accepts both tokens: the old one is not revoked yet
	writeAtomic(t, s.tokFile, oldTok+"\n")
	s.writeConfig(t, "acme/api", false)
	logs, stop := s.serve(t, nil)
	waitUntil(t, func() bool { return len(s.jira.AllLinks()["ABC-2"]) > 0 })

	writeAtomic(t, s.tokFile, newTok+"\n")
	var firstNew int
	deadline := time.Now().Add(15 * time.Second)
	for firstNew == 0 {
		for i, r := range s.gh.Requests() {
			if r.Credential == newTok {
				firstNew = i + 1
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("no request carried the new token within 15s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Requests already on the wire when the change was seen may still
	// carry the old token; from the next pass on, none does.
	n := len(s.gh.Requests())
	waitUntil(t, func() bool { return len(s.gh.Requests()) > n+3 })
	time.Sleep(1500 * time.Millisecond) // at least one more pass
	reqs := s.gh.Requests()
	for _, r := range reqs[n:] {
		if r.Credential == oldTok {
			t.Fatalf("a request after the rotation carried the old token: %+v", r)
		}
		if r.Credential != newTok {
			t.Fatalf("a request carried neither token: %q", r.Credential)
		}
		if r.Status == http.StatusUnauthorized {
			t.Fatalf("a request was refused: %+v", r)
		}
	}
	if code := stop(); code != exitOK {
		t.Errorf("serve exit %d", code)
	}
	out := logs.String()
	if !strings.Contains(out, "secret file changed") || !strings.Contains(out, "providers[0].token_file") {
		t.Errorf("the rotation was not logged by setting:\n%s", out)
	}
	for _, tok := range []string{oldTok, newTok} {
		if strings.Contains(out, tok) {
			t.Errorf("a token reached the log")
		}
	}
	if strings.Contains(out, "sync pass incomplete") {
		t.Errorf("a pass failed during the rotation:\n%s", out)
	}
}

// TestServeRevokedTokenNotRetried: once the fake revokes the token, the
// provider fails with a hint naming the token file, after one 401 per pass
// (no retries).
func TestServeRevokedTokenNotRetried(t *testing.T) {
	const tok = "ghp_live_token_0123456789abcdefABCDEF"
	exp := time.Now().Add(-time.Minute)
	s := newReloadStack(t, githubtest.Options{Token: tok, TokenExpiration: time.Now().Add(2 * time.Second)})
	writeAtomic(t, s.tokFile, tok+"\n")
	s.writeConfig(t, "acme/api", false)
	_, _ = s.serve(t, nil)
	waitUntil(t, func() bool { return len(s.jira.AllLinks()["ABC-2"]) > 0 })
	s.gh.SetToken("ghp_someone_else_0123456789abcdefABCD", exp) // expired: every request gets 401
	time.Sleep(2500 * time.Millisecond)
	n := len(s.gh.Requests())
	time.Sleep(2500 * time.Millisecond) // two more passes
	var unauthorized int
	for _, r := range s.gh.Requests()[n:] {
		if r.Status == http.StatusUnauthorized {
			unauthorized++
		}
	}
	if unauthorized == 0 || unauthorized > 4 {
		t.Errorf("%d requests got 401 in two passes: want one per pass, not retried", unauthorized)
	}
	var st struct {
		Providers []struct {
			Name, State, Hint string
		} `json:"providers"`
	}
	getAdminJSON(t, "http://"+s.addr+"/api/v1/status", s.env["ADMIN_TOKEN"], &st)
	if len(st.Providers) != 1 || st.Providers[0].State != "failed" ||
		!strings.Contains(st.Providers[0].Hint, "token expired on ") || !strings.Contains(st.Providers[0].Hint, "replace providers[0].token_file ("+s.tokFile+")") {
		t.Errorf("provider status = %+v, want failed with an expired-token hint naming the token file", st.Providers)
	}
}

// TestServeReloadValidConfig: a reload adds a repository (synced at the
// next pass) and removes a provider (no request for its repository
// afterwards), while the webhook endpoint keeps answering.
func TestServeReloadValidConfig(t *testing.T) {
	s := newReloadStack(t, githubtest.Options{})
	writeAtomic(t, s.tokFile, "ghp_token_0123456789abcdefABCDEFabcd\n")
	s.writeConfig(t, "acme/api", true)
	reload := make(chan struct{}, 1)
	logs, _ := s.serve(t, reload)
	waitUntil(t, func() bool { return len(s.jira.AllLinks()["ABC-2"]) > 0 && len(s.jira.AllLinks()["ABC-7"]) > 0 })
	if len(s.jira.AllLinks()["ABC-5"]) != 0 {
		t.Fatal("acme/web synced before it was configured")
	}

	pings := pingDuring(t, s)
	s.writeConfig(t, "acme/api, acme/web", false)
	reload <- struct{}{}
	waitUntil(t, func() bool { return len(s.jira.AllLinks()["ABC-5"]) > 0 })
	waitUntil(t, func() bool { return strings.Contains(logs.String(), "configuration reloaded") })
	lib := repoRequests(s.gh, "acme/lib")
	time.Sleep(2500 * time.Millisecond) // two more passes of github
	if got := repoRequests(s.gh, "acme/lib"); got != lib {
		t.Errorf("the removed provider still syncs: %d requests for acme/lib after the reload", got-lib)
	}
	pings()
}

// TestServeReloadInvalidConfig: an invalid configuration is refused with
// the problems start-up prints, the running one keeps syncing, and the
// webhook endpoint answers throughout.
func TestServeReloadInvalidConfig(t *testing.T) {
	s := newReloadStack(t, githubtest.Options{})
	writeAtomic(t, s.tokFile, "ghp_token_0123456789abcdefABCDEFabcd\n")
	s.writeConfig(t, "acme/api", false)
	reload := make(chan struct{}, 1)
	logs, stop := s.serve(t, reload)
	waitUntil(t, func() bool { return len(s.jira.AllLinks()["ABC-2"]) > 0 })

	pings := pingDuring(t, s)
	good := mustRead(t, s.config)
	writeAtomic(t, s.config, strings.Replace(good, `schedule: "@every 1s"`, `schedule: "every second"`, 1))
	reload <- struct{}{}
	waitUntil(t, func() bool { return strings.Contains(logs.String(), "configuration reload refused") })
	out := logs.String()
	if !strings.Contains(out, "invalid configuration "+s.config) || !strings.Contains(out, "providers[0].schedule") {
		t.Errorf("the refusal does not carry start-up's errors:\n%s", out)
	}
	api := repoRequests(s.gh, "acme/api")
	waitUntil(t, func() bool { return repoRequests(s.gh, "acme/api") > api }) // the old configuration keeps running
	pings()
	if code := stop(); code != exitOK {
		t.Errorf("serve exit %d", code)
	}
}

// pingDuring posts webhook deliveries continuously until the returned
// function is called, which fails the test if any was not answered with
// a success.
func pingDuring(t *testing.T, s *reloadStack) func() {
	t.Helper()
	done := make(chan struct{})
	var (
		mu     sync.Mutex
		failed []int
		n      int
	)
	var wg sync.WaitGroup
	wg.Go(func() {
		for i := 0; ; i++ {
			select {
			case <-done:
				return
			default:
			}
			code := s.ping(fmt.Sprintf("ping-%d", i))
			mu.Lock()
			n++
			if code < 200 || code > 299 {
				failed = append(failed, code)
			}
			mu.Unlock()
			time.Sleep(5 * time.Millisecond)
		}
	})
	return func() {
		close(done)
		wg.Wait()
		mu.Lock()
		defer mu.Unlock()
		if n == 0 || len(failed) > 0 {
			t.Errorf("%d deliveries during the reload, these not answered with success: %v", n, failed)
		}
	}
}

// TestServeSIGHUP sends a real SIGHUP to the built binary: the changed
// configuration (a new repository) is used without a restart.
func TestServeSIGHUP(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	bin := buildJiralinkd(t)
	s := newReloadStack(t, githubtest.Options{})
	writeAtomic(t, s.tokFile, "ghp_token_0123456789abcdefABCDEFabcd\n")
	s.writeConfig(t, "acme/api", false)
	logs := &lockedBuffer{}
	cmd := exec.Command(bin, "serve", "--config", s.config)
	cmd.Env = append(os.Environ(), "JIRA_TOKEN="+jiraToken, "HOOK_SECRET="+reloadHookSecret, "ADMIN_TOKEN="+s.env["ADMIN_TOKEN"])
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	})
	waitUntil(t, func() bool { return len(s.jira.AllLinks()["ABC-2"]) > 0 })
	s.writeConfig(t, "acme/api, acme/web", false)
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, func() bool { return len(s.jira.AllLinks()["ABC-5"]) > 0 })
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("serve after SIGHUP and SIGTERM: %v\n%s", err, logs.String())
	}
	if !strings.Contains(logs.String(), "configuration reloaded") {
		t.Errorf("no reload logged:\n%s", logs.String())
	}
}

// getAdminJSON decodes the admin API's answer at url into out.
func getAdminJSON(t *testing.T, url, token string, out any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: HTTP %d", url, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		t.Fatal(err)
	}
}
