package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
)

// closedURL is an http URL on 127.0.0.1 where nothing listens.
func closedURL(t *testing.T) string { return "http://" + freeAddr(t) + "/" }

// freeAddr is a 127.0.0.1 address where nothing listens (yet).
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// noLine fails when out has a line starting with prefix.
func noLine(t *testing.T, out, prefix string) {
	t.Helper()
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, prefix) {
			t.Errorf("unexpected line %q:\n%s", l, out)
		}
	}
}

// TestCheckRejectedTokens: a 401 is "token rejected", naming the setting the
// token comes from (never the token); the server is reachable.
func TestCheckRejectedTokens(t *testing.T) {
	f := newFixture(t)
	const wrongJira, wrongGH = "wrong-jira-token-0123456789", "ghp_wrongGitHubToken0123456789abcdef"
	f.env["JIRA_TOKEN"], f.env["GH_TOKEN"] = wrongJira, wrongGH
	code, out := f.check(t)
	if code != exitFailed {
		t.Errorf("exit %d, want %d", code, exitFailed)
	}
	wantLines(t, out,
		"OK   jira reachable: ",
		"FAIL jira token: token rejected: jira.token_env (JIRA_TOKEN)",
		"OK   github reachable: ",
		"FAIL github token: token rejected: providers[0].token_env (GH_TOKEN)",
	)
	noLine(t, out, "FAIL jira reachable")
	noLine(t, out, "WARN github token kind") // its scopes could not be read
	for _, s := range []string{wrongJira, wrongGH} {
		if strings.Contains(out, s) {
			t.Errorf("check printed a token:\n%s", out)
		}
	}

	// A token file and a second provider: providers[1].token_file (path).
	gl := gitlabtest.Start(t, gitlabtest.Options{Token: "glpat-right-token-0123456789"})
	tokenFile := f.write(t, "gl-token", "glpat-wrong-token-0123456789\n")
	f.env["JIRA_TOKEN"], f.env["GH_TOKEN"] = jiraToken, ghToken
	f.config = f.write(t, "config.yaml", mustRead(t, f.config)+`  - name: gitlab
    type: gitlab
    url: `+gl.URL()+`
    token_file: `+tokenFile+`
    projects: [acme/web]
`)
	code, out = f.check(t)
	if code != exitFailed {
		t.Errorf("gitlab: exit %d, want %d", code, exitFailed)
	}
	wantLines(t, out, "OK   jira token: ", "OK   github token: ", "OK   gitlab reachable: ",
		"FAIL gitlab token: token rejected: providers[1].token_file ("+tokenFile+")")
	if strings.Contains(out, "glpat-wrong") {
		t.Errorf("check printed the token:\n%s", out)
	}
}

// TestCheckJiraBasicAuthRejected names the username and password settings.
func TestCheckJiraBasicAuthRejected(t *testing.T) {
	f := newFixture(t)
	f.replaceJira(t, func(o *jiratest.Options) { o.Token, o.Username, o.Password = "", "bot", "right-password" })
	f.env["JIRA_PASSWORD"] = "wrong-password"
	f.editConfig(t, "token_env: JIRA_TOKEN", "username: bot\n  password_env: JIRA_PASSWORD")
	code, out := f.check(t)
	if code != exitFailed {
		t.Errorf("exit %d", code)
	}
	wantLines(t, out, "OK   jira reachable", "FAIL jira token: token rejected: jira.username (bot) with jira.password_env (JIRA_PASSWORD)")
	if strings.Contains(out, "wrong-password") {
		t.Errorf("check printed the password:\n%s", out)
	}
}

// TestCheckUnreachable: refused connections and unknown hosts are both
// "unreachable", naming the URL setting and the URL; each fails once and
// quickly (no retries), without retry log lines in the table, and check
// leaves no state file behind.
func TestCheckUnreachable(t *testing.T) {
	f := newFixture(t)
	jiraURL := closedURL(t)
	f.editConfig(t, f.jira.URL(), jiraURL)
	const ghURL = "http://jiralinkd-check-test.invalid/"
	f.editConfig(t, f.gh.URL(), ghURL)
	f.editConfig(t, "level: warn", "level: debug") // retries would be logged
	start := time.Now()
	code, out, errOut := f.run(context.Background(), "check", "--config", f.config)
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("check took %s", d)
	}
	if code != exitFailed {
		t.Errorf("exit %d", code)
	}
	wantLines(t, out,
		"FAIL jira reachable: unreachable: jira.url ("+strings.TrimSuffix(jiraURL, "/")+"): connection refused: check the URL",
		"FAIL github reachable: unreachable: providers[0].url ("+ghURL+"): ",
	)
	noLine(t, out, "FAIL jira token")
	noLine(t, out, "FAIL github token")
	noLine(t, out, "WARN github clock") // not asked again once unreachable
	if strings.Contains(errOut, "retry") || strings.Contains(errOut, "level=WARN") {
		t.Errorf("retry lines on stderr:\n%s", errOut)
	}
	if _, err := os.Stat(filepath.Join(f.dir, "state.db")); !os.IsNotExist(err) {
		t.Errorf("check left a state file behind (stat: %v)", err)
	}
}

// TestCheckStateNotCreated: check reports on the state file without
// creating it or its directory, and fails for a directory it cannot write.
func TestCheckStateNotCreated(t *testing.T) {
	f := newFixture(t)
	path := filepath.Join(f.dir, "sub", "dir", "state.db")
	f.editConfig(t, filepath.Join(f.dir, "state.db"), path)
	code, out := f.check(t)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	wantLines(t, out, "OK   state: "+path+" (not created yet; "+f.dir+" is writable)")
	if _, err := os.Stat(filepath.Join(f.dir, "sub")); !os.IsNotExist(err) {
		t.Errorf("check created the state directory (stat: %v)", err)
	}
	entries, _ := os.ReadDir(f.dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".jiralinkd-check") {
			t.Errorf("probe file left behind: %s", e.Name())
		}
	}

	// An existing state file is opened and reported writable.
	if code, out, errOut := f.run(context.Background(), "sync", "--config", f.config); code != exitOK {
		t.Fatalf("sync exit %d\n%s%s", code, out, errOut)
	}
	_, out = f.check(t)
	wantLines(t, out, "OK   state: "+path+" (writable)")

	if os.Geteuid() != 0 {
		ro := filepath.Join(f.dir, "ro")
		if err := os.Mkdir(ro, 0o500); err != nil {
			t.Fatal(err)
		}
		f.editConfig(t, path, filepath.Join(ro, "state.db"))
		code, out = f.check(t)
		if code != exitFailed {
			t.Errorf("read-only directory: exit %d", code)
		}
		wantLines(t, out, "FAIL state: "+filepath.Join(ro, "state.db")+" does not exist and cannot be created")
	}
}

// TestCheckScopesUnread: a classic token whose scopes GitHub does not
// report is not warned about; one that reports no scopes is.
func TestCheckScopesUnread(t *testing.T) {
	for _, tc := range []struct {
		scopes []string
		want   string
	}{
		{nil, "OK   github token kind: classic personal access token (its scopes could not be read)\n"},
		{[]string{}, "WARN github token kind: classic personal access token without the repo or public_repo scope"},
	} {
		f := newFixture(t)
		gh := githubtest.Start(t, githubtest.Options{Token: ghToken, Scopes: tc.scopes})
		gh.AddRepo(githubtest.Repo{ID: 77, Owner: "acme", Name: "api", OwnerIsOrg: true, DefaultBranch: "main"})
		f.editConfig(t, f.gh.URL(), gh.URL())
		_, out := f.check(t)
		wantLines(t, out, tc.want)
	}
}

// TestCheckNoAnswer: a server that accepts connections but never answers
// fails once, within the configured timeout, naming it.
func TestCheckNoAnswer(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	conns := make(chan net.Conn, 16)
	t.Cleanup(func() {
		ln.Close()
		for {
			select {
			case c := <-conns:
				c.Close()
			default:
				return
			}
		}
	})
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			select {
			case conns <- c: // held open, unanswered
			default:
				c.Close()
			}
		}
	}()
	f := newFixture(t)
	url := "http://" + ln.Addr().String()
	f.editConfig(t, f.jira.URL(), url)
	f.editConfig(t, "token_env: JIRA_TOKEN", "token_env: JIRA_TOKEN\n  timeout: 1s")
	start := time.Now()
	code, out := f.check(t)
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("check took %s with a 1s timeout", d)
	}
	if code != exitFailed {
		t.Errorf("exit %d", code)
	}
	wantLines(t, out, "FAIL jira reachable: unreachable: jira.url ("+url+"): no answer within 1s (jira.timeout)")
}

// TestCheckGitLabTokenInfoForbidden: a GitLab token that may not read its
// own token information (403) is checked without its scopes, not failed.
func TestCheckGitLabTokenInfoForbidden(t *testing.T) {
	const glToken = "glpat-check-token-info-0123456789"
	f := newFixture(t)
	gl := gitlabtest.Start(t, gitlabtest.Options{Token: glToken})
	gl.AddGroup("acme")
	f.env["GL_TOKEN"] = glToken
	f.config = f.write(t, "config.yaml", mustRead(t, f.config)+`  - name: gitlab
    type: gitlab
    url: `+gl.URL()+`
    token_env: GL_TOKEN
    groups: [acme]
`)
	gl.FailNext("GET /personal_access_tokens/self", 1, 403, nil, `{"message":"403 Forbidden"}`)
	code, out := f.check(t)
	if code != exitOK {
		t.Errorf("exit %d\n%s", code, out)
	}
	wantLines(t, out, "OK   gitlab token: authenticated as ", "OK   gitlab group acme: visible")
	noLine(t, out, "WARN gitlab token")
}
