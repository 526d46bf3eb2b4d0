package main

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

// newRoutesFixture is newFixture with two Jira projects, a commit naming
// a key of each, and the provider's routing settings.
func newRoutesFixture(t *testing.T, routing string) *fixture {
	t.Helper()
	b := corpus.NewBuilder()
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	root := b.Commit(nil, "ABC-1: first", at)
	c2 := b.Commit([]string{root}, "OPS-5: rotate the keys, see ABC-2", at.Add(time.Hour))
	b.Branch("main", c2)
	f := &fixture{dir: t.TempDir()}
	f.gh = githubtest.Start(t, githubtest.Options{Token: ghToken})
	f.gh.AddCorpusRepo("acme", "api", 77, b.Build())
	f.jira = jiratest.Start(t, jiratest.Options{Token: jiraToken,
		Projects:    []jiratest.Project{{ID: "1", Key: "ABC", Name: "Alpha"}, {ID: "2", Key: "OPS", Name: "Ops"}},
		IssueExists: jiratest.AllIssues})
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
%s`, filepath.Join(f.dir, "state.db"), f.jira.URL(), f.gh.URL(), routing))
	return f
}

// TestRoutesDropKeysOfOtherProjects: a repo matching a route links only
// to its projects; the dry run and explain say which key was dropped and
// why; link_author none keeps the author's name out of Jira.
func TestRoutesDropKeysOfOtherProjects(t *testing.T) {
	f := newRoutesFixture(t, `    routes:
      - repos: ["acme/*"]
        projects: [ABC]
    link_author: none
`)
	ctx := context.Background()
	code, out, errOut := f.run(ctx, "sync", "--config", f.config, "--dry-run")
	if code != exitOK {
		t.Fatalf("dry run: %d %s%s", code, out, errOut)
	}
	wantLines(t, out, "drop OPS-5 ← commit ", "project OPS is not in routes[0].projects [ABC]")
	if strings.Contains(out, "link OPS-5") {
		t.Errorf("the dry run would link OPS-5:\n%s", out)
	}
	if code, out, errOut = f.run(ctx, "sync", "--config", f.config); code != exitOK {
		t.Fatalf("sync: %d %s%s", code, out, errOut)
	}
	if ls := f.jira.Links("OPS-5"); len(ls) != 0 {
		t.Errorf("OPS-5 got links despite the route: %+v", ls)
	}
	ls := f.jira.Links("ABC-2")
	if len(ls) != 1 {
		t.Fatalf("ABC-2 links: %+v", ls)
	}
	if strings.Contains(ls[0].Object.Summary, corpus.BuilderAuthorName) {
		t.Errorf("link_author none, but the summary names the author: %q", ls[0].Object.Summary)
	}
	code, out, _ = f.run(ctx, "explain", "--config", f.config, "OPS-5")
	if code != exitOK {
		t.Fatalf("explain: %d", code)
	}
	wantLines(t, out, "not linked, dropped by a route (1):", "github/acme/api", "project OPS is not in routes[0].projects [ABC]")
	code, out, _ = f.run(ctx, "explain", "--config", f.config, "--json", "OPS-5")
	if code != exitOK || !strings.Contains(out, `"dropped_by_route"`) {
		t.Errorf("explain --json: %d %s", code, out)
	}
}

// TestRoutesDefaultDeny: with routes_default deny, a repo matching no
// route links nowhere; link_author defaults to the name.
func TestRoutesDefaultDeny(t *testing.T) {
	f := newRoutesFixture(t, `    routes:
      - repos: ["other/*"]
        projects: [ABC]
    routes_default: deny
`)
	if code, out, errOut := f.run(context.Background(), "sync", "--config", f.config); code != exitOK {
		t.Fatalf("sync: %d %s%s", code, out, errOut)
	}
	if all := f.jira.AllLinks(); len(all) != 0 {
		t.Errorf("links written although no route allows the repo: %v", all)
	}
	_, out, _ := f.run(context.Background(), "explain", "--config", f.config, "ABC-1")
	wantLines(t, out, "the repo matches no route and routes_default is deny")

	// Without routes every key links, with the author's name.
	g := newRoutesFixture(t, "")
	if code, out, errOut := g.run(context.Background(), "sync", "--config", g.config); code != exitOK {
		t.Fatalf("sync: %d %s%s", code, out, errOut)
	}
	if ls := g.jira.Links("OPS-5"); len(ls) != 1 || !strings.Contains(ls[0].Object.Summary, corpus.BuilderAuthorName) {
		t.Errorf("OPS-5 links without routes: %+v", ls)
	}
}
