package main

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

var appTestKeys = sync.OnceValue(func() [2]*rsa.PrivateKey {
	var ks [2]*rsa.PrivateKey
	for i := range ks {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		ks[i] = k
	}
	return ks
})

// newAppFixture is newFixture with a GitHub App instead of a token: the
// fake knows the App (key 0) installed on acme (all repositories) and on
// octo (selected: octo/lib); the configuration uses the key in app.pem and
// indexes what the installations see, except acme/secret.
func newAppFixture(t *testing.T, appKey int) *fixture {
	return newAppFixtureAt(t, appKey, nil)
}

// newAppFixtureAt is newAppFixture with the fake GitHub's clock.
func newAppFixtureAt(t *testing.T, appKey int, now func() time.Time) *fixture {
	t.Helper()
	b := corpus.NewBuilder()
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	root := b.Commit(nil, "ABC-1: first", at)
	c2 := b.Commit([]string{root}, "ABC-2 second", at.Add(time.Hour))
	b.Branch("main", c2)
	h := b.Build()
	f := &fixture{dir: t.TempDir()}
	f.gh = githubtest.Start(t, githubtest.Options{Token: "ghp_unused_by_the_app", Now: now})
	f.gh.RegisterApp(githubtest.App{ID: 31337, Slug: "jiralinkd", Name: "jiralinkd", PublicKey: &appTestKeys()[0].PublicKey})
	f.gh.AddInstallation(githubtest.Installation{ID: 1, Account: "acme", RateLimit: 12500})
	f.gh.AddInstallation(githubtest.Installation{ID: 2, Account: "octo", RepositorySelection: "selected", Repos: []int64{21}})
	f.gh.AddCorpusRepo("acme", "api", 77, h)
	f.gh.AddCorpusRepo("acme", "secret", 78, h)
	f.gh.AddCorpusRepo("octo", "lib", 21, h)
	f.gh.AddCorpusRepo("octo", "other", 22, h)
	f.jira = jiratest.Start(t, jiratest.Options{Token: jiraToken, Projects: []jiratest.Project{{ID: "1", Key: "ABC", Name: "Alpha"}},
		IssueExists: func(string) bool { return true }})
	f.env = map[string]string{"JIRA_TOKEN": jiraToken}
	key := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(appTestKeys()[appKey])})
	keyFile := f.write(t, "app.pem", string(key))
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
    app:
      app_id: 31337
      private_key_file: %s
    exclude: [acme/secret]
`, filepath.Join(f.dir, "state.db"), f.jira.URL(), f.gh.URL(), keyFile))
	return f
}

// TestSyncAsGitHubApp: discovery through the installations, narrowed by
// exclude; each installation spends its own budget; an installation that
// loses a repository stops indexing it.
func TestSyncAsGitHubApp(t *testing.T) {
	f := newAppFixture(t, 0)
	ctx := context.Background()
	code, out, errOut := f.run(ctx, "sync", "--config", f.config)
	if code != exitOK {
		t.Fatalf("sync exit %d\n%s\n%s", code, out, errOut)
	}
	for _, want := range []string{"acme/api: 2 new commits", "octo/lib: 2 new commits"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	for _, not := range []string{"acme/secret", "octo/other"} {
		if strings.Contains(out, not) {
			t.Errorf("%s was indexed:\n%s", not, out)
		}
	}
	if links := f.jira.AllLinks(); len(links["ABC-1"]) != 2 || len(links["ABC-2"]) != 2 {
		t.Errorf("links: %v", links)
	}
	if f.gh.RateRemaining() != 5000 || f.gh.InstallationRateRemaining(1) >= 12500 || f.gh.InstallationRateRemaining(2) >= 5000 {
		t.Errorf("budgets: token %d, installation 1 %d, installation 2 %d",
			f.gh.RateRemaining(), f.gh.InstallationRateRemaining(1), f.gh.InstallationRateRemaining(2))
	}
	if r := f.gh.ForbiddenRequests(); len(r) != 0 {
		t.Errorf("forbidden requests: %+v", r)
	}

	// octo/lib leaves the installation: no longer discovered nor synced,
	// and, like a repository taken out of the configuration, it keeps its
	// links unless prune_removed_repos.
	f.gh.SetInstallationRepos(2, "selected", nil)
	code, out, errOut = f.run(ctx, "sync", "--config", f.config)
	if code != exitOK || strings.Contains(out, "ok   github octo/lib") || !strings.Contains(out, "ok   github acme/api") {
		t.Errorf("sync after losing access: exit %d\n%s\n%s", code, out, errOut)
	}
	if links := f.jira.AllLinks(); len(links["ABC-1"]) != 2 {
		t.Errorf("octo/lib lost its links although prune_removed_repos is off: %v", links)
	}
	pruning := f.write(t, "prune.yaml", strings.Replace(mustRead(t, f.config), "exclude: [acme/secret]", "exclude: [acme/secret]\n    prune_removed_repos: true", 1))
	code, out, errOut = f.run(ctx, "sync", "--config", pruning)
	if code != exitOK || !strings.Contains(out, "gone github octo/lib") {
		t.Errorf("sync with prune_removed_repos: exit %d\n%s\n%s", code, out, errOut)
	}
	if links := f.jira.AllLinks(); len(links["ABC-1"]) != 1 {
		t.Errorf("octo/lib kept its links with prune_removed_repos: %v", links)
	}
}

func TestSyncAsGitHubAppWithWrongKey(t *testing.T) {
	f := newAppFixture(t, 1)
	code, out, errOut := f.run(context.Background(), "sync", "--config", f.config)
	if code != exitFailed {
		t.Fatalf("sync exit %d, want %d\n%s\n%s", code, exitFailed, out, errOut)
	}
	all := out + errOut
	if !strings.Contains(all, "GitHub rejected the App's JWT") {
		t.Errorf("the failure does not say the key was rejected:\n%s", all)
	}
	if strings.Contains(all, "PRIVATE KEY") {
		t.Errorf("output shows the key:\n%s", all)
	}
	_, out, errOut = f.run(context.Background(), "status", "--config", f.config)
	if !strings.Contains(out+errOut, "check that providers[0].app.private_key_file ("+filepath.Join(f.dir, "app.pem")+") is a private key of the App") {
		t.Errorf("status does not name the key setting:\n%s%s", out, errOut)
	}
}

func TestCheckGitHubApp(t *testing.T) {
	f := newAppFixture(t, 0)
	f.gh.AddInstallation(githubtest.Installation{ID: 3, Account: "frozen", Suspended: true})
	f.gh.AddInstallation(githubtest.Installation{ID: 4, Account: "meta-only", Permissions: map[string]string{"metadata": "read"}})
	code, out := f.check(t)
	if code != exitFailed {
		t.Fatalf("exit %d\n%s", code, out)
	}
	wantLines(t, out,
		"OK   github app clock: off by 0s: within the JWT's window",
		"OK   github app: jiralinkd (slug jiralinkd, ID 31337, owned by acme): the private key matches",
		"OK   github installations: 4",
		"OK   github installation 1: organization acme, repositories: all (2 visible); access token valid until ",
		"OK   github installation 1 permissions: contents: read, metadata: read, pull_requests: read",
		"OK   github installation 2: organization octo, repositories: selected (1 visible);",
		"FAIL github installation 3: organization frozen, repositories: all: suspended: an owner of frozen must unsuspend it",
		"FAIL github installation 4 permissions: missing Contents: read (for the commit list), Pull requests: read (for pull requests)",
		"OK   github installation 1 rate limit: ",
	)
	if strings.Contains(out, "github token") {
		t.Errorf("token checks ran for an App provider:\n%s", out)
	}

	// A key of another App: check names the setting to fix.
	g := newAppFixture(t, 1)
	code, out = g.check(t)
	if code != exitFailed {
		t.Fatalf("exit %d\n%s", code, out)
	}
	wantLines(t, out, "FAIL github app: github: App authentication: HTTP 401: GitHub rejected the App's JWT (a private key of another App, a wrong app_id, or the clock is off); GitHub says \"A JSON web token could not be decoded\": "+
		"the private key does not match the App: check that providers[0].app.private_key_file ("+filepath.Join(g.dir, "app.pem")+
		") holds a private key of the App whose ID is in providers[0].app.app_id (31337)")
}

// TestCheckGitHubAppClockSkew: with the local clock a minute ahead of
// GitHub's, the App's JWT is issued in GitHub's future and refused; check
// blames the clock, not the key.
func TestCheckGitHubAppClockSkew(t *testing.T) {
	f := newAppFixtureAt(t, 0, func() time.Time { return time.Now().Add(-time.Minute) })
	code, out := f.check(t)
	if code != exitFailed {
		t.Fatalf("exit %d\n%s", code, out)
	}
	wantLines(t, out,
		"FAIL github app clock: the local clock is 1m0s ahead of GitHub's: App JWTs are accepted only within 30s ahead and 1m30s behind",
		"FAIL github app: github: App authentication: HTTP 401: GitHub rejected the App's JWT (a private key of another App, a wrong app_id, or the clock is off); GitHub says \"'Issued at' claim ('iat') must be an Integer representing the time that the JWT was issued\": the local clock is off",
	)
}

// TestSyncAsGitHubAppSuspendedInstallation: a suspended installation's
// repositories are skipped, keep their links, and the pass says why.
func TestSyncAsGitHubAppSuspendedInstallation(t *testing.T) {
	f := newAppFixture(t, 0)
	ctx := context.Background()
	if code, out, errOut := f.run(ctx, "sync", "--config", f.config); code != exitOK {
		t.Fatalf("sync exit %d\n%s\n%s", code, out, errOut)
	}
	before := len(f.jira.AllLinks()["ABC-1"])
	f.gh.SuspendInstallation(2, true)
	code, out, errOut := f.run(ctx, "sync", "--config", f.config)
	all := out + errOut
	if code != exitFailed || !strings.Contains(all, "ok   github acme/api") || strings.Contains(all, "gone github octo/lib") {
		t.Errorf("sync with a suspended installation: exit %d\n%s", code, all)
	}
	if !strings.Contains(all, "installation 2 (octo) may hold it: installation suspended (its repositories keep their links)") {
		t.Errorf("the output does not name the suspended installation:\n%s", all)
	}
	if got := len(f.jira.AllLinks()["ABC-1"]); got != before {
		t.Errorf("links on ABC-1: %d, want %d (kept)", got, before)
	}
}

// TestCheckGitHubAppUnknownInstallation: a configured installation_id the
// App does not have is named as the setting to fix; one it has restricts
// the checks to that installation.
func TestCheckGitHubAppUnknownInstallation(t *testing.T) {
	f := newAppFixture(t, 0)
	f.editConfig(t, "      app_id: 31337\n", "      app_id: 31337\n      installation_id: 99\n")
	code, out := f.check(t)
	if code != exitFailed {
		t.Fatalf("exit %d\n%s", code, out)
	}
	wantLines(t, out, "FAIL github installations: github: GET app/installations does not list installation 99: installation not found: "+
		"the App has no installation 99: fix providers[0].app.installation_id")

	f.editConfig(t, "installation_id: 99", "installation_id: 2")
	code, out = f.check(t)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, out)
	}
	wantLines(t, out, "OK   github installations: 1", "OK   github installation 2: organization octo")
	if strings.Contains(out, "installation 1") {
		t.Errorf("installation 1 checked though not configured:\n%s", out)
	}
}

// TestSyncAsGitHubAppAcrossTokenExpiries: a backfill that outlives several
// installation tokens (61 s tokens, renewed a minute early) sends no
// expired token: no 401, no failed request in the fake's log.
func TestSyncAsGitHubAppAcrossTokenExpiries(t *testing.T) {
	f := newAppFixture(t, 0)
	b := corpus.NewBuilder()
	var head string
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 2000 {
		var parents []string
		if head != "" {
			parents = []string{head}
		}
		head = b.Commit(parents, fmt.Sprintf("ABC-%d change", i+1), at.Add(time.Duration(i)*time.Minute))
	}
	b.Branch("main", head)
	f.gh.AddCorpusRepo("acme", "big", 90, b.Build())
	f.editConfig(t, "    exclude: [acme/secret]\n", "    include: [acme/big]\n")
	f.gh.SetTokenLifetime(61*time.Second + 200*time.Millisecond)
	f.gh.SetLatency(150 * time.Millisecond)

	code, out, errOut := f.run(context.Background(), "sync", "--config", f.config)
	if code != exitOK || !strings.Contains(out, "acme/big: 2000 new commits") || strings.Contains(out, "acme/api") {
		t.Fatalf("sync exit %d\n%s\n%s", code, out, errOut)
	}
	var pages int
	for _, r := range f.gh.Requests() {
		if r.Status >= 400 || r.Forbidden {
			t.Errorf("failed request: %s %s → %d", r.Method, r.Path, r.Status)
		}
		if r.Route == "GET /repos/{owner}/{repo}/commits" {
			pages++
		}
	}
	if n := f.gh.TokensIssued(1); n < 3 || pages < 20 {
		t.Errorf("%d tokens for %d commit pages: the backfill should span at least 3 tokens", n, pages)
	}
}

// TestNoAppSecretInOutput: at debug level, neither the App's private key
// nor an installation token appears in what sync, check and status print,
// whatever fails.
func TestNoAppSecretInOutput(t *testing.T) {
	for _, keyIdx := range []int{0, 1} { // the right key, a wrong one
		f := newAppFixture(t, keyIdx)
		f.editConfig(t, "level: warn", "level: debug")
		f.gh.SuspendInstallation(2, true)
		var all strings.Builder
		for _, args := range [][]string{{"sync"}, {"check"}, {"status"}, {"sync", "--dry-run"}} {
			_, out, errOut := f.run(context.Background(), append(args, "--config", f.config)...)
			all.WriteString(out + errOut)
		}
		pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(appTestKeys()[keyIdx])}))
		lines := strings.Split(strings.TrimSpace(pemKey), "\n")
		secrets := append([]string{"PRIVATE KEY", lines[1], lines[len(lines)/2]}, f.gh.IssuedTokens()...)
		if keyIdx == 0 && len(f.gh.IssuedTokens()) == 0 {
			t.Fatal("no installation token was issued")
		}
		for _, s := range secrets {
			if strings.Contains(all.String(), s) {
				t.Errorf("output discloses a secret (%.12s…):\n%s", s, all.String())
			}
		}
	}
}
