package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
)

// documentedOp is one operation of a vendor's published API description
// that jiralinkd calls: the method, the path template (relative to the
// API base; "{x}" is one path segment), the query parameters the
// description lists for it, and where it is documented.
type documentedOp struct {
	method, path string
	query        []string
	doc          string
}

// githubMediaType is the Accept header GitHub's REST reference documents
// ("Setting to application/vnd.github+json is recommended") for every
// operation below.
const githubMediaType = "application/vnd.github+json"

// githubOps: operations of GitHub's REST API description
// (github/rest-api-description, api.github.com), by operationId.
var githubOps = []documentedOp{
	{"GET", "/", nil, "meta/root"},
	{"HEAD", "/", nil, "meta/root (HEAD of a GET resource, RFC 9110 §9.3.2): check's clock, anonymous"},
	{"GET", "/user", nil, "users/get-authenticated"},
	{"GET", "/orgs/{org}", nil, "orgs/get"},
	{"GET", "/orgs/{org}/repos", []string{"type", "sort", "direction", "per_page", "page"}, "repos/list-for-org"},
	{"GET", "/users/{username}/repos", []string{"type", "sort", "direction", "per_page", "page"}, "repos/list-for-user"},
	{"GET", "/search/issues", []string{"q", "sort", "order", "per_page", "page", "advanced_search"}, "search/issues-and-pull-requests"},
	{"GET", "/repos/{owner}/{repo}", nil, "repos/get"},
	{"GET", "/repos/{owner}/{repo}/branches", []string{"protected", "per_page", "page"}, "repos/list-branches"},
	{"GET", "/repos/{owner}/{repo}/tags", []string{"per_page", "page"}, "repos/list-tags"},
	{"GET", "/repos/{owner}/{repo}/commits", []string{"sha", "path", "author", "committer", "since", "until", "per_page", "page"}, "repos/list-commits (also at per_page=1: its Link rel=\"last\" page is the history size, the backfill estimate)"},
	{"GET", "/repos/{owner}/{repo}/pulls", []string{"state", "head", "base", "sort", "direction", "per_page", "page"}, "pulls/list"},
}

// githubRedirectTarget is where GitHub's 301 for a renamed or transferred
// repository points ("HTTP redirects" in the REST overview: clients should
// follow them). Not an operation of the description, so it is only
// accepted as the target of a 301 the server sent.
var githubRedirectTarget = documentedOp{"GET", "/repositories/{id}", nil, "target of repos/get's 301 (renamed or transferred repository)"}

// gitlabOps: operations of GitLab's REST API v4 reference (doc/api/*.md),
// relative to /api/v4.
var gitlabOps = []documentedOp{
	{"GET", "/version", nil, "version.md: GET /version"},
	{"GET", "/user", nil, "users.md: GET /user (the current user)"},
	{"GET", "/personal_access_tokens/self", nil, "personal_access_tokens.md: GET /personal_access_tokens/self"},
	{"GET", "/groups/{id}", []string{"with_projects", "with_custom_attributes"}, "groups.md: GET /groups/:id"},
	{"GET", "/groups/{id}/merge_requests", []string{"scope", "state", "order_by", "sort", "updated_after", "updated_before", "created_after", "created_before", "non_archived", "view", "per_page", "page"}, "merge_requests.md: GET /groups/:id/merge_requests"},
	{"GET", "/groups/{id}/projects", []string{"archived", "include_subgroups", "order_by", "sort", "simple", "per_page", "page"}, "groups.md: GET /groups/:id/projects"},
	{"GET", "/projects/{id}", []string{"license", "statistics", "with_custom_attributes"}, "projects.md: GET /projects/:id (statistics=true: statistics.commit_count, the backfill estimate)"},
	{"GET", "/projects/{id}/repository/branches", []string{"search", "regex", "per_page", "page"}, "branches.md: GET /projects/:id/repository/branches"},
	{"GET", "/projects/{id}/repository/tags", []string{"order_by", "sort", "search", "per_page", "page"}, "tags.md: GET /projects/:id/repository/tags"},
	{"GET", "/projects/{id}/repository/commits", []string{"ref_name", "since", "until", "path", "all", "with_stats", "first_parent", "order", "trailers", "per_page", "page"}, "commits.md: GET /projects/:id/repository/commits"},
	{"GET", "/projects/{id}/merge_requests", []string{"scope", "state", "order_by", "sort", "updated_after", "updated_before", "created_after", "created_before", "view", "per_page", "page"}, "merge_requests.md: GET /projects/:id/merge_requests"},
}

// gitlabWebRoot is check's clock reading: an anonymous HEAD of the
// configured instance root (not the API), which only yields a Date header.
var gitlabWebRoot = documentedOp{"HEAD", "/", nil, "instance root, anonymous HEAD for the Date header (RFC 9110 §6.6.1): check's clock"}

// jiraOps: operations of Atlassian's Jira Data Center 10.3 REST API
// description (operationIds), relative to /rest/api/2.
var jiraOps = []documentedOp{
	{"GET", "/serverInfo", nil, "getServerInfo"},
	{"GET", "/myself", nil, "getUser (myself)"},
	{"GET", "/project", []string{"includeArchived", "expand", "recent", "browseArchive"}, "getAllProjects"},
	{"GET", "/mypermissions", []string{"projectKey", "projectId", "issueKey", "issueId"}, "getPermissions (mypermissions; Data Center has no permissions parameter)"},
	{"POST", "/search", nil, "searchUsingSearchRequest"},
	{"GET", "/issue/{issueIdOrKey}/remotelink", []string{"globalId"}, "getRemoteIssueLinks"},
	{"POST", "/issue/{issueIdOrKey}/remotelink", nil, "createOrUpdateRemoteIssueLink"},
	{"DELETE", "/issue/{issueIdOrKey}/remotelink", []string{"globalId"}, "deleteRemoteIssueLinkByGlobalId"},
	// Smart commits.
	{"GET", "/issue/{issueIdOrKey}", []string{"fields", "expand", "properties", "updateHistory"}, "getIssue"},
	{"GET", "/issue/{issueIdOrKey}/comment", []string{"expand", "maxResults", "orderBy", "startAt"}, "getComments"},
	{"POST", "/issue/{issueIdOrKey}/comment", []string{"expand"}, "addComment"},
	{"GET", "/issue/{issueIdOrKey}/worklog", nil, "getIssueWorklog"},
	{"POST", "/issue/{issueIdOrKey}/worklog", []string{"newEstimate", "adjustEstimate", "reduceBy"}, "addWorklog"},
	{"GET", "/issue/{issueIdOrKey}/transitions", []string{"transitionId"}, "getTransitions"},
	{"POST", "/issue/{issueIdOrKey}/transitions", nil, "doTransition"},
	// Jira secret scanning's actions (TestServeScansJiraForSecrets).
	{"PUT", "/issue/{issueIdOrKey}", []string{"notifyUsers"}, "editIssue"},
	{"PUT", "/issue/{issueIdOrKey}/comment/{id}", []string{"expand"}, "updateComment"},
}

// jiraPATList is the one Jira request outside /rest/api/2: the caller's
// own personal access tokens (Jira DC 8.14+), read for their expiringAt.
// Documented in "Using personal access tokens"
// (https://confluence.atlassian.com/enterprise/using-personal-access-tokens-1026032365.html),
// not in the Jira Software OpenAPI description.
var jiraPATList = documentedOp{"GET", "/rest/pat/latest/tokens", nil, "personal access tokens: list the caller's tokens (Using personal access tokens)"}

// matchTemplate reports whether an escaped path matches a template whose
// "{x}" segments match one non-empty segment.
func matchTemplate(tpl, path string) bool {
	ts, ps := strings.Split(strings.Trim(tpl, "/"), "/"), strings.Split(strings.Trim(path, "/"), "/")
	if len(ts) != len(ps) {
		return false
	}
	for i, seg := range ts {
		if ps[i] == "" && seg != "" {
			return false
		}
		if !strings.HasPrefix(seg, "{") && seg != ps[i] {
			return false
		}
	}
	return true
}

// findOp returns the operation method+path falls under, if any.
func findOp(ops []documentedOp, method, path string) (documentedOp, bool) {
	for _, op := range ops {
		if op.method == method && matchTemplate(op.path, path) {
			return op, true
		}
	}
	return documentedOp{}, false
}

// undocumentedQuery lists the query parameter names of rawQuery that op
// does not document.
func undocumentedQuery(op documentedOp, rawQuery string) []string {
	q, err := url.ParseQuery(rawQuery)
	if err != nil {
		return []string{"unparsable query " + rawQuery}
	}
	var bad []string
	for k := range q {
		if !slices.Contains(op.query, k) {
			bad = append(bad, k)
		}
	}
	sort.Strings(bad)
	return bad
}

// seen collects the operations used, to show the test covered them.
type seen map[string]int

func (s seen) add(op documentedOp) { s[op.method+" "+op.path+"  ("+op.doc+")"]++ }

func (s seen) String() string {
	keys := make([]string, 0, len(s))
	for k := range s {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var b strings.Builder
	for _, k := range keys {
		fmt.Fprintf(&b, "  %5d  %s\n", s[k], k)
	}
	return b.String()
}

// TestOnlyDocumentedAPIRequests runs check and full syncs of the ZooKeeper
// corpus against the fake GitHub, GitLab and Jira — a backfill, an idle
// pass, and a pass that runs a smart commit and finds a deleted and a
// transferred repository — and
// fails on any request outside the documented operations above: method,
// path template, query parameter names, and for GitHub the media type.
func TestOnlyDocumentedAPIRequests(t *testing.T) {
	hist, err := corpus.ZooKeeper()
	if err != nil {
		t.Fatal(err)
	}
	small := corpus.NewBuilder()
	small.Branch("main", small.Commit(nil, "ZOOKEEPER-1: small", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)))
	smallHist := small.Build()

	const glToken = "glpat-documented-api-token"
	gh := githubtest.Start(t, githubtest.Options{Token: ghToken, RateLimit: 1_000_000})
	gh.AddOrg("apache")
	zk := gh.AddCorpusRepo("apache", "zookeeper", 1001, hist)
	gh.AddCorpusRepo("apache", "gone", 1002, smallHist)
	moved := gh.AddCorpusRepo("apache", "moved", 1003, smallHist)
	gl := gitlabtest.Start(t, gitlabtest.Options{Token: glToken, RateLimit: 1_000_000})
	gl.AddGroup("apache")
	gl.AddCorpusProject("apache", "zookeeper", 2001, hist)
	gl.AddCorpusProject("apache", "gone", 2002, smallHist)
	jira := jiratest.Start(t, jiratest.Options{Token: jiraToken, IssueExists: jiratest.DemoIssues})

	f := &fixture{dir: t.TempDir(), gh: gh, jira: jira, env: map[string]string{"GH_TOKEN": ghToken, "GL_TOKEN": glToken, "JIRA_TOKEN": jiraToken}}
	f.config = f.write(t, "config.yaml", fmt.Sprintf(`state:
  path: %s
http:
  listen: 127.0.0.1:0
log:
  level: warn
jira:
  url: %s
  token_env: JIRA_TOKEN
  projects: [ZOOKEEPER]
providers:
  - name: github
    type: github
    url: %s
    token_env: GH_TOKEN
    orgs: [apache]
    repos: [apache/zookeeper]
    smart_commits: {enabled: true, branches: [master]}
  - name: gitlab
    type: gitlab
    url: %s
    token_env: GL_TOKEN
    groups: [apache]
    projects: [apache/zookeeper]
`, filepath.Join(f.dir, "state.db"), jira.URL(), gh.URL(), gl.URL()))

	ctx := context.Background()
	run := func(args ...string) {
		t.Helper()
		code, out, errOut := f.run(ctx, append(args, "--config", f.config)...)
		if code != exitOK {
			t.Fatalf("%v: exit %d\n%s\n%s", args, code, out, errOut)
		}
	}
	run("check")
	run("sync") // backfill
	run("sync") // idle: conditional requests
	master, _ := hist.Branch("master")
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	zk.SetBranch("master", zk.AddCommit(corpus.Commit{Parents: []string{master.SHA}, AuthorName: "dev", AuthorDate: at, CommitterName: "dev", CommitterDate: at,
		Message: "ZOOKEEPER-1 #comment documented requests only #time 1h #resolve-issue"}))
	gh.DeleteRepo("apache", "gone")
	moved.Rename("elsewhere", "moved") // transferred out of the org: its old name answers 301
	gl.DeleteProject(2002)
	run("sync")           // between sweeps: the change feeds; a smart commit runs
	run("sync", "--full") // a full sweep: vanished repositories are looked up
	if n := jira.Calls().ByRoute[jiratest.RouteTransitionCreate]; n != 1 {
		t.Errorf("the smart commit's transition was not run (%d)", n)
	}
	if links := countAll(jira.AllLinks()); links < 4000 {
		t.Fatalf("only %d links: the corpus did not sync", links)
	}

	used := seen{}
	redirects := 0
	for _, r := range gh.Requests() {
		if r.Status == http.StatusMovedPermanently {
			redirects++
		}
		op, ok := findOp(githubOps, r.Method, r.Path)
		if !ok && r.Method == githubRedirectTarget.method && matchTemplate(githubRedirectTarget.path, r.Path) {
			// Only as the target of a 301 GitHub sent.
			if redirects == 0 {
				t.Errorf("GitHub: %s %s requested without a redirect to it", r.Method, r.Path)
			}
			redirects--
			op, ok = githubRedirectTarget, true
		}
		if !ok {
			t.Errorf("GitHub: undocumented request %s %s?%s", r.Method, r.Path, r.RawQuery)
			continue
		}
		if bad := undocumentedQuery(op, r.RawQuery); len(bad) > 0 {
			t.Errorf("GitHub: %s %s?%s: query parameters %v not documented for %s", r.Method, r.Path, r.RawQuery, bad, op.doc)
		}
		if r.Method != http.MethodHead && r.Accept != githubMediaType {
			t.Errorf("GitHub: %s %s sent Accept %q, want %q", r.Method, r.Path, r.Accept, githubMediaType)
		}
		used.add(op)
	}
	if used[githubRedirectTarget.method+" "+githubRedirectTarget.path+"  ("+githubRedirectTarget.doc+")"] == 0 {
		t.Error("GitHub: the transferred repository's redirect was not exercised")
	}

	for _, r := range gl.Requests() {
		var op documentedOp
		var ok bool
		if p, api := strings.CutPrefix(r.Path, "/api/v4"); api {
			op, ok = findOp(gitlabOps, r.Method, p)
		} else if r.Method == gitlabWebRoot.method && r.Path == "/" {
			op, ok = gitlabWebRoot, true
		}
		if !ok {
			t.Errorf("GitLab: undocumented request %s %s?%s", r.Method, r.Path, r.RawQuery)
			continue
		}
		if bad := undocumentedQuery(op, r.RawQuery); len(bad) > 0 {
			t.Errorf("GitLab: %s %s?%s: query parameters %v not documented for %s", r.Method, r.Path, r.RawQuery, bad, op.doc)
		}
		used.add(op)
	}

	for _, r := range jira.Requests() {
		op, ok := jiraOp(r.Method, r.Path)
		if !ok {
			t.Errorf("Jira: undocumented request %s %s?%s", r.Method, r.Path, r.RawQuery)
			continue
		}
		if bad := undocumentedQuery(op, r.RawQuery); len(bad) > 0 {
			t.Errorf("Jira: %s %s?%s: query parameters %v not documented for %s", r.Method, r.Path, r.RawQuery, bad, op.doc)
		}
		used.add(op)
	}
	t.Logf("operations used:\n%s", used)
}

func countAll[T any](m map[string][]T) int {
	n := 0
	for _, v := range m {
		n += len(v)
	}
	return n
}

// jiraOp finds the documented Jira operation of a request.
func jiraOp(method, path string) (documentedOp, bool) {
	if p, ok := strings.CutPrefix(path, "/rest/api/2"); ok {
		return findOp(jiraOps, method, p)
	}
	if method == jiraPATList.method && path == jiraPATList.path {
		return jiraPATList, true
	}
	return documentedOp{}, false
}
