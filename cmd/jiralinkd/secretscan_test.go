package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/jiralinkd/jiralinkd/indexer/admin"
	"github.com/jiralinkd/jiralinkd/indexer/jirascan"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
)

// TestCheckSecretScanPermissions: check names, per scanned project, the
// permissions the configured actions lack.
func TestCheckSecretScanPermissions(t *testing.T) {
	f := newFixture(t)
	f.replaceJira(t, func(o *jiratest.Options) {
		o.Projects = []jiratest.Project{{ID: "1", Key: "ABC", Name: "Alpha"}, {ID: "2", Key: "OPS", Name: "Ops"}}
		o.Permissions = func(project, perm string) bool {
			return project != "OPS" || perm != "ADD_COMMENTS" && perm != "EDIT_ALL_COMMENTS"
		}
	})
	f.editConfig(t, "token_env: JIRA_TOKEN", "token_env: JIRA_TOKEN\n  secret_scan:\n    enabled: true\n    projects: [ABC, OPS, NOPE]\n    actions: [comment, label, mask]")
	code, out := f.check(t)
	if code != exitFailed {
		t.Errorf("exit %d\n%s", code, out)
	}
	wantLines(t, out,
		"OK   jira secret scan ABC: Browse Projects, Add Comments, Edit Issues, Edit All Comments\n",
		"FAIL jira secret scan OPS: missing Add Comments (for the comment action), Edit All Comments (for masking comments): grant it",
		"FAIL jira secret scan NOPE: project NOPE does not exist or the account cannot see it",
	)
}

// TestFindingsCommand: a scan's findings are printed from the state file,
// masked, as a table and as JSON.
func TestFindingsCommand(t *testing.T) {
	f := newFixture(t)
	f.editConfig(t, "token_env: JIRA_TOKEN", "token_env: JIRA_TOKEN\n  secret_scan:\n    enabled: true\n    projects: [ABC]")
	f.jira.PutIssue(jiratest.Issue{Key: "ABC-5", Summary: "s", Description: "AWS key AKIA" + "Z7QW2XK4VM3PLN5R in the log"})
	cfgText := mustRead(t, f.config)
	statePath := between(t, cfgText, "path: ", "\n")
	st, err := boltstore.Open(statePath, 0)
	if err != nil {
		t.Fatal(err)
	}
	jc := newJiraClientFor(t, f.jira.URL())
	sc, err := jirascan.New(jirascan.Options{Jira: jc, Store: st, Projects: []string{"ABC"}})
	if err != nil {
		t.Fatal(err)
	}
	if rep := sc.Run(context.Background()); rep.Err() != nil {
		t.Fatal(rep.Err())
	}
	st.Close()

	code, out, errOut := f.run(context.Background(), "findings", "--config", f.config)
	if code != exitOK {
		t.Fatalf("exit %d: %s%s", code, out, errOut)
	}
	wantLines(t, out, "ABC      done (1 issues)", "ABC-5  description  aws-access-token  AKIA…LN5R  open")
	if strings.Contains(out, "Z7QW2XK4VM3") {
		t.Errorf("the secret is printed:\n%s", out)
	}
	code, out, _ = f.run(context.Background(), "findings", "--config", f.config, "--json", "--state", "all")
	var rep admin.FindingsReport
	if code != exitOK || json.Unmarshal([]byte(out), &rep) != nil || len(rep.Findings) != 1 || rep.Findings[0].Preview != "AKIA…LN5R" {
		t.Errorf("json: %d %s", code, out)
	}
	if code, _, errOut = f.run(context.Background(), "findings", "--config", f.config, "--state", "maybe"); code != exitConfig {
		t.Errorf("bad state: %d %s", code, errOut)
	}
}

func between(t *testing.T, s, a, b string) string {
	t.Helper()
	i := strings.Index(s, a)
	if i < 0 {
		t.Fatalf("%q not in %q", a, s)
	}
	s = s[i+len(a):]
	return strings.TrimSpace(s[:strings.Index(s, b)])
}

func newJiraClientFor(t *testing.T, url string) *jiraclient.Client {
	t.Helper()
	c, err := jiraclient.New(jiraclient.Options{BaseURL: url, Auth: jiraclient.Auth{Token: jiraToken}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestServeScansJiraForSecrets: serve runs a scan pass at launch; its
// findings reach /metrics, the API and, while serve holds the state
// file, the findings command (through the API).
func TestServeScansJiraForSecrets(t *testing.T) {
	f := newFixture(t)
	f.jira.PutIssue(jiratest.Issue{Key: "ABC-5", Summary: "s", Description: "AWS key AKIA" + "Z7QW2XK4VM3PLN5R in the log"})
	f.editConfig(t, "token_env: JIRA_TOKEN", "token_env: JIRA_TOKEN\n  secret_scan:\n    enabled: true\n    projects: [ABC]\n    actions: [comment, label, mask]")
	const tok = "admin-token-0123456789abcdef"
	addr := f.startServe(t, tok)
	get := func(path string) string {
		req, _ := http.NewRequest(http.MethodGet, "http://"+addr+path, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return ""
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	const series = `jiralinkd_jira_secret_findings{project="ABC",rule="aws-access-token",state="open"} 1`
	waitUntil(t, func() bool { return strings.Contains(get("/metrics"), series) })
	if body := get("/api/v1/findings"); !strings.Contains(body, "AKIA…LN5R") || strings.Contains(body, "Z7QW2XK4VM3") {
		t.Errorf("api: %s", body)
	}
	waitUntil(t, func() bool {
		is, _ := f.jira.Issue("ABC-5")
		return slices.Contains(is.Labels, "secret-detected") && strings.Contains(is.Description, "[secret removed: aws-access-token]")
	})
	if cs := f.jira.Comments("ABC-5"); len(cs) != 1 || strings.Contains(cs[0].Body, "LN5R") {
		t.Errorf("comments %+v", cs)
	}
	// Every request of the scan and its actions is a documented operation.
	for _, r := range f.jira.Requests() {
		op, ok := jiraOp(r.Method, r.Path)
		if !ok {
			t.Errorf("undocumented Jira request %s %s?%s", r.Method, r.Path, r.RawQuery)
		} else if bad := undocumentedQuery(op, r.RawQuery); len(bad) > 0 {
			t.Errorf("%s %s: undocumented query parameters %v", r.Method, r.Path, bad)
		}
	}
	f.env["ADMIN_TOKEN"] = tok
	cfg := f.write(t, "serve-cli.yaml", strings.Replace(mustRead(t, f.config), "listen: 127.0.0.1:0", "listen: "+addr+"\n  admin_token_env: ADMIN_TOKEN", 1))
	code, out, errOut := f.run(context.Background(), "findings", "--config", cfg)
	if code != exitOK || !strings.Contains(out, "the running daemon") || !strings.Contains(out, "AKIA…LN5R") {
		t.Errorf("findings via the daemon: %d %s%s", code, out, errOut)
	}
}
