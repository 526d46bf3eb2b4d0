package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
)

// replaceJira swaps the fixture's fake Jira for one with modified options
// and points the configuration at it.
func (f *fixture) replaceJira(t *testing.T, mod func(*jiratest.Options)) {
	t.Helper()
	opts := jiratest.Options{Token: jiraToken, Projects: []jiratest.Project{{ID: "1", Key: "ABC", Name: "Alpha"}},
		IssueExists: func(k string) bool { return k != "ABC-999" }}
	mod(&opts)
	j := jiratest.Start(t, opts)
	f.editConfig(t, f.jira.URL(), j.URL())
	f.jira = j
}

// editConfig replaces old with new in the fixture's configuration file.
func (f *fixture) editConfig(t *testing.T, old, new string) {
	t.Helper()
	cfg := mustRead(t, f.config)
	if !strings.Contains(cfg, old) {
		t.Fatalf("config lacks %q:\n%s", old, cfg)
	}
	f.config = f.write(t, "config.yaml", strings.Replace(cfg, old, new, 1))
}

// check runs `check` and returns its exit code and output.
func (f *fixture) check(t *testing.T) (int, string) {
	t.Helper()
	code, out, errOut := f.run(context.Background(), "check", "--config", f.config)
	return code, out + errOut
}

// wantLines fails for every want that is no line prefix or substring of out.
func wantLines(t *testing.T, out string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(out, w) {
			t.Errorf("output lacks %q:\n%s", w, out)
		}
	}
}

func TestCheckOperabilityLines(t *testing.T) {
	f := newFixture(t)
	code, out := f.check(t)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	wantLines(t, out,
		"OK   jira reachable", // the existing lines stay
		"OK   jira deployment: Jira Data Center "+jiratest.Version+"\n",
		"OK   jira clock: in sync with Jira (off by ",
		"OK   jira permissions: jira.projects is empty: checking the first 1 of 1 visible projects",
		"OK   jira permissions ABC: Browse Projects, Link Issues, Edit Issues\n",
		// The fake sends no X-OAuth-Scopes: nothing to warn about.
		"OK   github token kind: classic personal access token (its scopes could not be read)\n",
		"OK   github clock: in sync with github",
		"WARN github webhook: webhooks off: polling only (add a webhook section to get links within seconds)\n",
		"WARN admin: status page, admin API and /metrics disabled: set http.admin_token_env\n",
		"all checks passed",
	)

	// With a webhook, an admin token and a GitLab provider with both
	// webhook secrets, they are reported on, with their sources only.
	const hookSecret, adminToken, glToken, signing = "gh-hook-secret-0123456789", "admin-token-0123456789abcdef",
		"glpat-check-token-0123456789", "whsec_c2lnbmluZy10b2tlbi0wMTIzNDU2Nzg5"
	gl := gitlabtest.Start(t, gitlabtest.Options{Token: glToken})
	gl.AddGroup("acme")
	f.env["GH_HOOK"], f.env["ADMIN_TOKEN"], f.env["GL_TOKEN"] = hookSecret, adminToken, glToken
	secretFile := f.write(t, "signing", signing)
	f.editConfig(t, "listen: 127.0.0.1:0", "listen: 127.0.0.1:0\n  admin_token_env: ADMIN_TOKEN")
	cfg := mustRead(t, f.config) + `    webhook:
      secret_env: GH_HOOK
  - name: gitlab
    type: gitlab
    url: ` + gl.URL() + `
    token_env: GL_TOKEN
    groups: [acme]
    webhook:
      secret_env: GH_HOOK
      signing_token_file: ` + secretFile + "\n"
	f.config = f.write(t, "config.yaml", cfg)
	code, out = f.check(t)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	wantLines(t, out,
		"OK   github webhook: on (secret from env GH_HOOK) at POST /webhooks/github\n",
		"OK   gitlab webhook: on (secret from env GH_HOOK, signing token from file "+secretFile+") at POST /webhooks/gitlab\n",
		"OK   gitlab clock: in sync with gitlab",
		"OK   gitlab token: authenticated as",
		"OK   admin: status page, admin API and /metrics on (token from env ADMIN_TOKEN)\n",
	)
	for _, s := range []string{hookSecret, adminToken, glToken, signing, ghToken, jiraToken} {
		if strings.Contains(out, s) {
			t.Errorf("check printed a secret:\n%s", out)
		}
	}
}

func TestCheckJiraPermissions(t *testing.T) {
	for _, tc := range []struct {
		name   string
		denied string // permission missing in ABC
		code   int
		want   string
	}{
		{"no link", "LINK_ISSUES", exitFailed,
			"FAIL jira permissions ABC: missing Link Issues: grant Link Issues to the account in the project's permission scheme (Project settings → Permissions"},
		{"no browse", "BROWSE_PROJECTS", exitFailed, "FAIL jira permissions ABC: missing Browse Projects: grant Browse Projects"},
		{"no edit", "EDIT_ISSUES", exitOK,
			"WARN jira permissions ABC: Browse Projects and Link Issues, but no Edit Issues: links are written and removed without it"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			f.replaceJira(t, func(o *jiratest.Options) {
				o.Permissions = func(project, perm string) bool { return project != "ABC" || perm != tc.denied }
			})
			f.editConfig(t, "token_env: JIRA_TOKEN", "token_env: JIRA_TOKEN\n  projects: [ABC]")
			code, out := f.check(t)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, out)
			}
			wantLines(t, out, tc.want)
			if strings.Contains(out, "jira.projects is empty") {
				t.Errorf("says jira.projects is empty although it is set:\n%s", out)
			}
		})
	}
}

func TestCheckClockSkew(t *testing.T) {
	for _, tc := range []struct {
		name     string
		jira, gh time.Duration // how far the fake's clock is off
		code     int
		want     []string
	}{
		{"jira behind", -3 * time.Minute, 0, exitOK, []string{
			"WARN jira clock: the local clock is ", " ahead of Jira: synchronise it with NTP",
			"OK   github clock: in sync"}},
		{"jira far ahead", 10 * time.Minute, 0, exitFailed, []string{"FAIL jira clock: the local clock is ", " behind Jira: synchronise"}},
		{"github ahead", 0, 2 * time.Minute, exitOK, []string{"OK   jira clock: in sync", "WARN github clock: the local clock is ", " behind github"}},
		{"github far behind", 0, -6 * time.Minute, exitFailed, []string{"FAIL github clock: the local clock is ", " ahead of github"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			if tc.jira != 0 {
				f.replaceJira(t, func(o *jiratest.Options) { o.Now = func() time.Time { return time.Now().Add(tc.jira) } })
			}
			if tc.gh != 0 {
				// A Date header set by the handler is kept by net/http.
				ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Date", time.Now().Add(tc.gh).UTC().Format(http.TimeFormat))
					f.gh.Handler().ServeHTTP(w, r)
				}))
				t.Cleanup(ts.Close)
				f.editConfig(t, f.gh.URL(), ts.URL+"/")
			}
			code, out := f.check(t)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, out)
			}
			wantLines(t, out, tc.want...)
		})
	}
}

func TestGitHubTokenKindOf(t *testing.T) {
	for token, want := range map[string]githubTokenKind{
		"ghp_16C7e42F292c6912E7710c838347Ae178B4a":             ghClassic,
		"github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstu": ghFineGrained,
		"gho_16C7e42F292c6912E7710c838347Ae178B4a":             ghOAuth,
		"ghu_16C7e42F292c6912E7710c838347Ae178B4a":             ghAppUser,
		"ghs_16C7e42F292c6912E7710c838347Ae178B4a":             ghAppInstallation,
		"ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1":   ghRefresh,
		"0123456789abcdef0123456789abcdef01234567":             ghUnknown,
		"":              ghUnknown,
		"GHP_uppercase": ghUnknown,
	} {
		if got := githubTokenKindOf(token); got != want {
			t.Errorf("githubTokenKindOf(%.12q…) = %q, want %q", token, got, want)
		}
	}
}

// TestCheckGitHubTokenKinds runs check with tokens of every kind against a
// fake GitHub that accepts them: the kind line says what to do, and the
// token itself is never printed.
func TestCheckGitHubTokenKinds(t *testing.T) {
	for _, tc := range []struct {
		token  string
		scopes []string
		code   int
		want   string
	}{
		{"ghp_classicRepoToken0123456789abcdefABCD", []string{"repo", "read:org"}, exitOK,
			"OK   github token kind: classic personal access token with the repo scope\n"},
		{"ghp_classicPublicToken0123456789abcdefAB", []string{"public_repo"}, exitOK,
			"WARN github token kind: classic personal access token with public_repo only: private repositories stay invisible"},
		{"github_pat_11AAAAAAA0fineGrained_0123456789abcdef", nil, exitOK,
			"OK   github token kind: fine-grained personal access token (GitHub reports no scopes for it): it needs read-only repository permissions Metadata, Contents and Pull requests"},
		{"gho_oauthToken0123456789abcdefABCDEFGHIJ", []string{"repo"}, exitOK, "OK   github token kind: OAuth app token with the repo scope"},
		{"ghs_installationToken0123456789abcdefABCD", nil, exitOK,
			"WARN github token kind: GitHub App installation token: it expires (installation tokens after 1 hour"},
		{"ghu_userToken0123456789abcdefABCDEFGHIJKL", nil, exitOK, "WARN github token kind: GitHub App user token: it expires"},
		{"ghr_refreshToken0123456789abcdefABCDEFGHIJ", nil, exitFailed, "FAIL github token kind: GitHub App refresh token: it cannot call the API"},
		{"0123456789abcdef0123456789abcdef01234567", nil, exitOK, "WARN github token kind: unrecognised token format"},
	} {
		t.Run(tc.want[5:30], func(t *testing.T) {
			f := newFixture(t)
			gh := githubtest.Start(t, githubtest.Options{Token: tc.token, Scopes: tc.scopes})
			gh.AddRepo(githubtest.Repo{ID: 77, Owner: "acme", Name: "api", OwnerIsOrg: true, DefaultBranch: "main"})
			f.editConfig(t, f.gh.URL(), gh.URL())
			f.env["GH_TOKEN"] = tc.token
			code, out := f.check(t)
			if code != tc.code {
				t.Errorf("exit %d, want %d\n%s", code, tc.code, out)
			}
			wantLines(t, out, tc.want, "OK   github token: authenticated as")
			if strings.Contains(out, tc.token) || strings.Contains(out, tc.token[4:]) {
				t.Errorf("check printed the token:\n%s", out)
			}
		})
	}
}

func TestCheckJiraCloud(t *testing.T) {
	const email, apiToken = "bot@example.com", "ATATT3xFfGF0-check-api-token"
	f := newFixture(t)
	f.replaceJira(t, func(o *jiratest.Options) { o.Cloud, o.Token, o.Username, o.Password = true, "", email, apiToken })
	f.env["JIRA_API_TOKEN"] = apiToken
	f.editConfig(t, "token_env: JIRA_TOKEN", "username: "+email+"\n  password_env: JIRA_API_TOKEN")
	code, out := f.check(t)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	wantLines(t, out,
		"OK   jira deployment: Jira Cloud\n",
		"OK   jira token: authenticated as Jira Link Daemon\n",
		"OK   jira permissions ABC: Browse Projects, Link Issues, Edit Issues",
		"OK   jira clock: in sync with Jira",
	)
	if strings.Contains(out, "WARN jira auth") || strings.Contains(out, apiToken) {
		t.Errorf("unexpected auth warning or secret:\n%s", out)
	}

	// A wrong API token: the failure says how Cloud authenticates.
	f.env["JIRA_API_TOKEN"] = "wrong-token"
	code, out = f.check(t)
	if code != exitFailed {
		t.Errorf("wrong token: exit %d", code)
	}
	// Jira refuses wrong credentials even on serverInfo: it is reachable,
	// the credentials fail; the kind of Jira is unknown and both ways are
	// explained.
	wantLines(t, out, "OK   jira reachable: ",
		"FAIL jira token: token rejected: jira.username (bot@example.com) with jira.password_env (JIRA_API_TOKEN)",
		"HTTP 401", "on Data Center, create a personal access token",
		"Jira Cloud takes basic auth: jira.username is the account's e-mail address")

	// Credentials refused after serverInfo answered: the Cloud way only.
	f.env["JIRA_API_TOKEN"] = apiToken
	f.jira.FailNext(jiratest.RouteMyself, 1, http.StatusUnauthorized, nil, `{"errorMessages":["Client must be authenticated to access this resource."],"errors":{}}`)
	code, out = f.check(t)
	if code != exitFailed || strings.Contains(out, "on Data Center") {
		t.Errorf("myself refused: exit %d\n%s", code, out)
	}
	wantLines(t, out, "FAIL jira token: ", "Jira Cloud takes basic auth")

	// A bearer token on Cloud is warned about.
	f2 := newFixture(t)
	f2.replaceJira(t, func(o *jiratest.Options) { o.Cloud = true })
	_, out = f2.check(t)
	wantLines(t, out, "OK   jira deployment: Jira Cloud", "WARN jira auth: Jira Cloud does not take API tokens as Bearer tokens")
}
