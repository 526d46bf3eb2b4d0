package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
)

// TestNoSecretInLogs runs sync and serve with debug logging, a Jira
// retry, webhook deliveries (good and forged) and admin API calls (good
// and wrong token), and checks that no configured secret appears in
// anything written to stdout or stderr.
func TestNoSecretInLogs(t *testing.T) {
	const (
		glToken    = "glpat-logs-test-token-0123456789"
		ghHook     = "gh-webhook-secret-for-the-logs-test"
		glHook     = "gl-webhook-secret-for-the-logs-test"
		adminToken = "admin-token-for-the-logs-test-0123"
	)
	f := newFixture(t)
	gl := gitlabtest.Start(t, gitlabtest.Options{Token: glToken})
	b := corpus.NewBuilder()
	at := time.Date(2024, 6, 1, 9, 0, 0, 0, time.UTC)
	b.Branch("main", b.Commit(nil, "ABC-5: from GitLab", at))
	gl.AddCorpusProject("acme", "web", 501, b.Build())
	f.env["GL_TOKEN"], f.env["GH_HOOK"], f.env["GL_HOOK"], f.env["ADMIN_TOKEN"] = glToken, ghHook, glHook, adminToken
	secrets := map[string]string{"GitHub token": ghToken, "GitLab token": glToken, "Jira token": jiraToken,
		"GitHub webhook secret": ghHook, "GitLab webhook secret": glHook, "admin token": adminToken}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	f.editConfig(t, "level: warn", "level: debug")
	f.editConfig(t, "listen: 127.0.0.1:0", "listen: "+addr+"\n  admin_token_env: ADMIN_TOKEN")
	f.config = f.write(t, "config.yaml", mustRead(t, f.config)+`    webhook:
      secret_env: GH_HOOK
  - name: gitlab
    type: gitlab
    url: `+gl.URL()+`
    token_env: GL_TOKEN
    projects: [acme/web]
    webhook:
      secret_env: GL_HOOK
`)
	var all strings.Builder // everything the process wrote
	ctx := context.Background()

	// sync, with a Jira search that is retried once.
	f.jira.FailNext(jiratest.RouteSearchPost, 1, http.StatusServiceUnavailable, http.Header{"Retry-After": {"0"}}, "")
	code, out, errOut := f.run(ctx, "sync", "--config", f.config)
	all.WriteString(out + errOut)
	if code != exitOK {
		t.Fatalf("sync exit %d\n%s\n%s", code, out, errOut)
	}
	if len(f.jira.AllLinks()["ABC-5"]) != 1 {
		t.Errorf("the GitLab commit was not linked: %v", f.jira.AllLinks())
	}

	// serve, with deliveries and admin calls.
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan [2]string, 1)
	go func() {
		_, out, errOut := f.run(sctx, "serve", "--config", f.config)
		done <- [2]string{out, errOut}
	}()
	base := "http://" + addr
	waitUntil(t, func() bool {
		resp, err := http.Get(base + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	f.gh.ResetRequests()
	push := []byte(`{"ref":"refs/heads/main","before":"0000000000000000000000000000000000000000",` +
		`"after":"1111111111111111111111111111111111111111","commits":[],` +
		`"repository":{"id":77,"name":"api","full_name":"acme/api","html_url":"https://github.com/acme/api","default_branch":"main","owner":{"login":"acme"}}}`)
	mac := hmac.New(sha256.New, []byte(ghHook))
	mac.Write(push)
	for _, tc := range []struct {
		name, path string
		header     map[string]string
		body       []byte
		want       int
	}{
		{"github push", "/webhooks/github", map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-1",
			"X-Hub-Signature-256": "sha256=" + hex.EncodeToString(mac.Sum(nil))}, push, http.StatusAccepted},
		{"github forged", "/webhooks/github", map[string]string{"X-GitHub-Event": "push", "X-GitHub-Delivery": "d-2",
			"X-Hub-Signature-256": "sha256=" + strings.Repeat("0", 64)}, push, http.StatusUnauthorized},
		{"gitlab push", "/webhooks/gitlab", map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Event-UUID": "u-1",
			"X-Gitlab-Token": glHook}, []byte(`{"object_kind":"push","project_id":501,"ref":"refs/heads/main",` +
			`"before":"0000000000000000000000000000000000000000","after":"2222222222222222222222222222222222222222",` +
			`"project":{"id":501,"path_with_namespace":"acme/web"},"commits":[],"total_commits_count":0}`), http.StatusAccepted},
		{"gitlab wrong token", "/webhooks/gitlab", map[string]string{"X-Gitlab-Event": "Push Hook", "X-Gitlab-Token": "wrong-" + glHook},
			[]byte(`{}`), http.StatusUnauthorized},
	} {
		if got := postDelivery(t, base+tc.path, tc.header, tc.body); got != tc.want {
			t.Errorf("%s: HTTP %d, want %d", tc.name, got, tc.want)
		}
	}
	for _, tc := range []struct {
		token string
		want  int
	}{{adminToken, http.StatusOK}, {"not-" + adminToken, http.StatusUnauthorized}} {
		req, _ := http.NewRequest(http.MethodGet, base+"/api/v1/status", nil)
		req.Header.Set("Authorization", "Bearer "+tc.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("admin API with token %.4s…: HTTP %d, want %d", tc.token, resp.StatusCode, tc.want)
		}
	}
	// The push delivery makes the worker re-read the repo's branches.
	waitUntil(t, func() bool { return len(f.gh.Requests()) > 0 })
	cancel()
	var serveOut [2]string
	select {
	case serveOut = <-done:
	case <-time.After(15 * time.Second):
		t.Fatal("serve did not stop")
	}
	all.WriteString(serveOut[0] + serveOut[1])

	logs := all.String()
	for _, want := range []string{"level=DEBUG", "jira request", "webhook"} {
		if !strings.Contains(logs, want) {
			t.Errorf("the output lacks %q: the test would not see a leak", want)
		}
	}
	for what, s := range secrets {
		if strings.Contains(logs, s) {
			i := strings.Index(logs, s)
			t.Errorf("the %s appears in the output: …%s…", what, logs[max(0, i-120):i])
		}
	}
	t.Logf("checked %d bytes of output:\n%s", len(logs), logs)
}

// postDelivery sends a webhook delivery and returns the status.
func postDelivery(t *testing.T, url string, header map[string]string, body []byte) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// waitUntil polls cond for up to 10 seconds.
func waitUntil(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 10s")
		}
		time.Sleep(20 * time.Millisecond)
	}
}
