package indexer_test

import (
	"fmt"
	"net/http"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/redact"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// Both GitHub source types read runs and deployments.
var (
	_ indexer.CISource = (*github.Client)(nil)
	_ indexer.CISource = (*github.App)(nil)
)

// ciLink is what a build or deployment link shows, as asserted.
type ciLink struct {
	Title    string
	Resolved bool
	Icon     string
	URL      string
}

// ciLinks reads the build and deployment links the fake Jira holds:
// issue → globalId → link.
func ciLinks(t *testing.T, s *stack) map[string]map[string]ciLink {
	t.Helper()
	out := map[string]map[string]ciLink{}
	for issue, ls := range s.jira.AllLinks() {
		for _, l := range ls {
			if !strings.Contains(l.GlobalID, "/build/") && !strings.Contains(l.GlobalID, "/deployment/") {
				continue
			}
			if out[issue] == nil {
				out[issue] = map[string]ciLink{}
			}
			if _, dup := out[issue][l.GlobalID]; dup {
				t.Errorf("duplicate link %s on %s", l.GlobalID, issue)
			}
			c := ciLink{Title: l.Object.Title, URL: l.Object.URL}
			if l.Object.Status != nil {
				c.Resolved = l.Object.Status.Resolved
				if l.Object.Status.Icon != nil {
					c.Icon = l.Object.Status.Icon.Title
				}
			}
			out[issue][l.GlobalID] = c
		}
	}
	return out
}

func assertCILinks(t *testing.T, step string, s *stack, want map[string]map[string]ciLink) {
	t.Helper()
	got := ciLinks(t, s)
	var diffs []string
	for issue, ls := range want {
		for gid, w := range ls {
			if g, ok := got[issue][gid]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s: missing %s %+v", issue, gid, w))
			} else if g != w {
				diffs = append(diffs, fmt.Sprintf("%s: %s\n\t got %+v\n\twant %+v", issue, gid, g, w))
			}
		}
	}
	for issue, ls := range got {
		for gid, g := range ls {
			if _, ok := want[issue][gid]; !ok {
				diffs = append(diffs, fmt.Sprintf("%s: unexpected %s %+v", issue, gid, g))
			}
		}
	}
	sort.Strings(diffs)
	for _, d := range diffs {
		t.Errorf("%s: %s", step, d)
	}
}

// TestEndToEndBuildsAndDeployments runs pushes, workflow runs (a failure,
// then a success) and deployments to staging then production through the
// real GitHub client against the fake, and asserts the exact build and
// deployment links on every issue after each step, and that a re-run of
// the pass writes nothing.
func TestEndToEndBuildsAndDeployments(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second).Add(-3 * time.Hour)
	at := func(m int) time.Time { return base.Add(time.Duration(m) * time.Minute) }
	day := func(m int) string { return at(m).Format("2006-01-02") }

	b := corpus.NewBuilder()
	root := b.Commit(nil, "ZOOKEEPER-1: initial import", at(0))
	b.Branch("master", root)
	s := newStack(t, b.Build(), nil)
	rd, err := redact.New()
	if err != nil {
		t.Fatal(err)
	}
	s.ix, err = indexer.New(indexer.Options{Store: s.store, Jira: s.jc, Matcher: s.m,
		Redact: func(text string) (string, []string) {
			out, found := rd.Redact(text)
			var ids []string
			for _, f := range found {
				ids = append(ids, f.Rule)
			}
			return out, ids
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	tok := fakeToken()
	s.tgt.Builds = true
	s.tgt.Deployments = func(env string) bool { return env == "staging" || env == "production" }

	key := state.RepoKey{Provider: "github", ID: repoID}
	build := indexer.GlobalID(key, indexer.KindBuild, "2823525")
	staging := indexer.GlobalID(key, indexer.KindDeployment, "staging")
	production := indexer.GlobalID(key, indexer.KindDeployment, "production")
	runURL := func(id int) string { return fmt.Sprintf("https://github.com/apache/zookeeper/actions/runs/%d", id) }
	envURL := "https://github.com/apache/zookeeper/deployments/"
	short := func(sha string) string { return sha[:7] }
	run := func(id int64, sha, status, conclusion string, m int) githubtest.WorkflowRun {
		return githubtest.WorkflowRun{ID: id, WorkflowID: 2823525, Name: "build-and-test", HeadBranch: "master", HeadSHA: sha,
			Status: status, Conclusion: conclusion, CreatedAt: at(m), UpdatedAt: at(m + 5)}
	}

	// Step 1: the initial import, built green and deployed to both
	// environments. With no earlier success, each covers its commit only.
	s.repo.UpsertRun(run(100, root, "completed", "success", 1))
	s.repo.AddDeployment(githubtest.Deployment{ID: 1, SHA: root, Ref: "master", Environment: "staging", CreatedAt: at(10)})
	s.repo.AddDeploymentStatus(1, githubtest.DeploymentStatus{State: "success", CreatedAt: at(11)})
	s.repo.AddDeployment(githubtest.Deployment{ID: 2, SHA: root, Ref: "v1.0.0", Environment: "production", CreatedAt: at(12)})
	s.repo.AddDeploymentStatus(2, githubtest.DeploymentStatus{State: "success", EnvironmentURL: "https://zookeeper.example.org", CreatedAt: at(13)})
	s.repo.AddDeployment(githubtest.Deployment{ID: 3, SHA: root, Ref: "master", Environment: "qa-sandbox", CreatedAt: at(14)}) // not configured
	mustOK(t, s.sync(t))
	z1 := map[string]ciLink{
		build:      {Title: "CI · build-and-test #1 · success · master@" + short(root), Resolved: true, Icon: "success", URL: runURL(100)},
		staging:    {Title: "Deployed to staging · success · master · " + day(11), Resolved: true, Icon: "success", URL: envURL + "staging"},
		production: {Title: "Deployed to production · success · v1.0.0 · " + day(13), Resolved: true, Icon: "success", URL: "https://zookeeper.example.org"},
	}
	assertCILinks(t, "initial", s, map[string]map[string]ciLink{"ZOOKEEPER-1": z1})

	// Step 2: a push; its run fails.
	c1 := corpus.Commit{SHA: "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1", Parents: []string{root}, AuthorName: "dev", AuthorDate: at(20), CommitterDate: at(20), Message: "ZOOKEEPER-2: add the feature"}
	s.repo.AddCommit(c1)
	s.repo.SetBranch("master", c1.SHA)
	s.repo.UpsertRun(run(101, c1.SHA, "in_progress", "", 21))
	mustOK(t, s.sync(t))
	assertCILinks(t, "run in progress", s, map[string]map[string]ciLink{
		"ZOOKEEPER-1": z1,
		"ZOOKEEPER-2": {build: {Title: "CI · build-and-test #2 · running · master@" + short(c1.SHA), Icon: "running", URL: runURL(101)}},
	})
	s.repo.UpsertRun(run(101, c1.SHA, "completed", "failure", 21))
	mustOK(t, s.sync(t))
	assertCILinks(t, "run failed", s, map[string]map[string]ciLink{
		"ZOOKEEPER-1": z1,
		"ZOOKEEPER-2": {build: {Title: "CI · build-and-test #2 · failure · master@" + short(c1.SHA), Icon: "failure", URL: runURL(101)}},
	})

	// Step 3: the fix; its run succeeds and builds both commits since the
	// last green run, so ZOOKEEPER-2's link turns green too.
	c2 := corpus.Commit{SHA: "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2", Parents: []string{c1.SHA}, AuthorName: "dev", AuthorDate: at(30), CommitterDate: at(30), Message: "ZOOKEEPER-3: fix the build"}
	s.repo.AddCommit(c2)
	s.repo.SetBranch("master", c2.SHA)
	s.repo.UpsertRun(run(102, c2.SHA, "completed", "success", 31))
	mustOK(t, s.sync(t))
	green := ciLink{Title: "CI · build-and-test #3 · success · master@" + short(c2.SHA), Resolved: true, Icon: "success", URL: runURL(102)}
	assertCILinks(t, "run succeeded", s, map[string]map[string]ciLink{
		"ZOOKEEPER-1": z1,
		"ZOOKEEPER-2": {build: green},
		"ZOOKEEPER-3": {build: green},
	})

	// Step 4: deployed to staging: in progress, then successful. The range
	// since the last staging deployment holds both new commits.
	s.repo.AddDeployment(githubtest.Deployment{ID: 4, SHA: c2.SHA, Ref: "master", Environment: "staging", Description: "Deploy with token " + tok, CreatedAt: at(40)})
	s.repo.AddDeploymentStatus(4, githubtest.DeploymentStatus{State: "in_progress", LogURL: "https://ci.example.org/deploy/4", CreatedAt: at(41)})
	mustOK(t, s.sync(t))
	stagingRunning := ciLink{Title: "Deployment to staging · running · master · " + day(41), Icon: "running", URL: "https://ci.example.org/deploy/4"}
	assertCILinks(t, "staging in progress", s, map[string]map[string]ciLink{
		"ZOOKEEPER-1": z1,
		"ZOOKEEPER-2": {build: green, staging: stagingRunning},
		"ZOOKEEPER-3": {build: green, staging: stagingRunning},
	})
	s.repo.AddDeploymentStatus(4, githubtest.DeploymentStatus{State: "success", LogURL: "https://ci.example.org/deploy/4", CreatedAt: at(45)})
	mustOK(t, s.sync(t))
	stagingDone := ciLink{Title: "Deployed to staging · success · master · " + day(45), Resolved: true, Icon: "success", URL: "https://ci.example.org/deploy/4"}
	assertCILinks(t, "staging deployed", s, map[string]map[string]ciLink{
		"ZOOKEEPER-1": z1,
		"ZOOKEEPER-2": {build: green, staging: stagingDone},
		"ZOOKEEPER-3": {build: green, staging: stagingDone},
	})

	// Step 5: production.
	s.repo.AddDeployment(githubtest.Deployment{ID: 5, SHA: c2.SHA, Ref: "v1.1.0", Environment: "production", CreatedAt: at(50)})
	s.repo.AddDeploymentStatus(5, githubtest.DeploymentStatus{State: "success", EnvironmentURL: "https://zookeeper.example.org", CreatedAt: at(52)})
	s.repo.AddDeploymentStatus(2, githubtest.DeploymentStatus{State: "inactive", CreatedAt: at(52)})
	mustOK(t, s.sync(t))
	prod := ciLink{Title: "Deployed to production · success · v1.1.0 · " + day(52), Resolved: true, Icon: "success", URL: "https://zookeeper.example.org"}
	final := map[string]map[string]ciLink{
		"ZOOKEEPER-1": z1,
		"ZOOKEEPER-2": {build: green, staging: stagingDone, production: prod},
		"ZOOKEEPER-3": {build: green, staging: stagingDone, production: prod},
	}
	assertCILinks(t, "production deployed", s, final)
	// Beside them, each issue has exactly its commit's link.
	commit := func(sha string) string { return indexer.GlobalID(key, indexer.KindCommit, sha) }
	diffLinks(t, map[string]map[string]bool{
		"ZOOKEEPER-1": {commit(root): true, build: true, staging: true, production: true},
		"ZOOKEEPER-2": {commit(c1.SHA): true, build: true, staging: true, production: true},
		"ZOOKEEPER-3": {commit(c2.SHA): true, build: true, staging: true, production: true},
	}, jiraLinks(t, s.jira))

	// The secret in the deployment's description never reached Jira.
	for _, ls := range s.jira.AllLinks() {
		for _, l := range ls {
			if strings.Contains(l.Object.Title+l.Object.Summary, tok) {
				t.Errorf("secret in link %s: %q / %q", l.GlobalID, l.Object.Title, l.Object.Summary)
			}
		}
	}

	// A re-run writes nothing and costs only 304s.
	s.jira.ResetCalls()
	s.gh.ResetRequests()
	rep := s.sync(t)
	mustOK(t, rep)
	if c := s.jira.Calls(); c.Writes != 0 {
		t.Errorf("re-run made %d Jira writes, want 0", c.Writes)
	}
	for _, r := range s.gh.Requests() {
		if strings.Contains(r.Path, "/actions/") || strings.Contains(r.Path, "/deployments") {
			if r.Status != 304 {
				t.Errorf("re-run read %s %s?%s: %d, want 304", r.Method, r.Path, r.RawQuery, r.Status)
			}
		}
	}
	assertCILinks(t, "re-run", s, final)
	assertNoForbidden(t, s.gh.Requests())
}

// TestBuildTitlesAreRedacted: a secret in a workflow run's name or title is
// masked in the build link, like every other title.
func TestBuildTitlesAreRedacted(t *testing.T) {
	at := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	b := corpus.NewBuilder()
	root := b.Commit(nil, "ZOOKEEPER-1: initial import", at)
	b.Branch("master", root)
	s := newStack(t, b.Build(), nil)
	rd, err := redact.New()
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	s.ix, err = indexer.New(indexer.Options{Store: s.store, Jira: s.jc, Matcher: s.m,
		Redact: func(text string) (string, []string) {
			out, found := rd.Redact(text)
			var ids []string
			for _, f := range found {
				ids = append(ids, f.Rule)
			}
			return out, ids
		},
		OnRedaction: func(rule string) { rules = append(rules, rule) },
	})
	if err != nil {
		t.Fatal(err)
	}
	s.tgt.Builds = true
	tok := fakeToken()
	s.repo.UpsertRun(githubtest.WorkflowRun{ID: 1, WorkflowID: 5, Name: "deploy with " + tok, HeadBranch: "master", HeadSHA: root,
		DisplayTitle: "ZOOKEEPER-1 rotate " + tok, Status: "completed", Conclusion: "success", CreatedAt: at.Add(time.Minute)})
	mustOK(t, s.sync(t))
	var build *jiraclient.RemoteLink
	for _, l := range s.jira.Links("ZOOKEEPER-1") {
		if strings.Contains(l.GlobalID, "/build/") {
			build = &l
		}
	}
	if build == nil {
		t.Fatalf("no build link: %+v", s.jira.Links("ZOOKEEPER-1"))
	}
	if strings.Contains(build.Object.Title+build.Object.Summary, tok) || !strings.Contains(build.Object.Title, "[REDACTED:") || !strings.Contains(build.Object.Summary, "[REDACTED:") {
		t.Errorf("build link not redacted: %q / %q", build.Object.Title, build.Object.Summary)
	}
	if len(rules) == 0 {
		t.Error("redactions not reported")
	}
}

// TestCIStepIsIndependent: a run list the token may not read (403) skips
// builds without failing the repo; a failing one (500s) fails the repo's
// pass but not its other steps, and the next pass catches up.
func TestCIStepIsIndependent(t *testing.T) {
	at := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	b := corpus.NewBuilder()
	root := b.Commit(nil, "ZOOKEEPER-1: initial import", at)
	b.Branch("master", root)
	s := newStack(t, b.Build(), nil)
	s.tgt.Builds = true
	s.tgt.Deployments = func(string) bool { return true }
	s.repo.UpsertRun(githubtest.WorkflowRun{ID: 1, WorkflowID: 5, Name: "ci", HeadBranch: "master", HeadSHA: root,
		Status: "completed", Conclusion: "success", CreatedAt: at.Add(time.Minute)})
	s.repo.AddDeployment(githubtest.Deployment{ID: 2, SHA: root, Ref: "master", Environment: "production", CreatedAt: at.Add(2 * time.Minute)})
	s.repo.AddDeploymentStatus(2, githubtest.DeploymentStatus{State: "success"})
	const runs = "GET /repos/{owner}/{repo}/actions/runs"

	s.gh.FailNext(runs, 1, http.StatusForbidden, nil, `{"message":"Resource not accessible by personal access token"}`)
	mustOK(t, s.sync(t))
	kinds := func() (build, deploy, commit bool) {
		for _, l := range s.jira.Links("ZOOKEEPER-1") {
			build = build || strings.Contains(l.GlobalID, "/build/")
			deploy = deploy || strings.Contains(l.GlobalID, "/deployment/")
			commit = commit || strings.Contains(l.GlobalID, "/commit/")
		}
		return
	}
	if build, deploy, commit := kinds(); build || !deploy || !commit {
		t.Errorf("403 on runs: build %v, deployment %v, commit %v; want only the build missing", build, deploy, commit)
	}

	s.gh.FailNext(runs, httpx.DefaultMaxAttempts, http.StatusBadGateway, nil, "bad gateway") // every retry of one call
	rep := s.sync(t)
	if len(rep.Repos) != 1 || rep.Repos[0].Err == nil || !strings.Contains(rep.Repos[0].Err.Error(), "builds: list runs") {
		t.Fatalf("500s on runs: %+v", rep.Repos)
	}
	mustOK(t, s.sync(t))
	if build, deploy, commit := kinds(); !build || !deploy || !commit {
		t.Errorf("after recovery: build %v, deployment %v, commit %v", build, deploy, commit)
	}
}

// TestRunInheritsThePullRequestsIssues: a run whose title, branch and
// commits name no issue gets the issues of its pull request (from the
// stored links: no extra call).
func TestRunInheritsThePullRequestsIssues(t *testing.T) {
	at := time.Now().UTC().Truncate(time.Second).Add(-time.Hour)
	b := corpus.NewBuilder()
	root := b.Commit(nil, "Initial import", at)
	topic := b.Commit([]string{root}, "Tidy the parser", at.Add(time.Minute))
	b.Branch("master", root)
	b.Branch("topic", topic)
	s := newStack(t, b.Build(), nil)
	s.tgt.Builds = true
	s.repo.UpsertPull(githubtest.PullRequest{Number: 41, Title: "ZOOKEEPER-8: parser cleanup", User: "dev", HeadRef: "topic", HeadSHA: topic,
		HeadOwner: "apache", CreatedAt: at.Add(2 * time.Minute)})
	s.repo.UpsertRun(githubtest.WorkflowRun{ID: 7, WorkflowID: 5, Name: "ci", HeadBranch: "topic", HeadSHA: topic, Event: "pull_request",
		DisplayTitle: "Tidy the parser", PullNumbers: []int{41}, Status: "completed", Conclusion: "failure", CreatedAt: at.Add(3 * time.Minute)})
	mustOK(t, s.sync(t))
	key := state.RepoKey{Provider: "github", ID: repoID}
	assertCILinks(t, "pull request run", s, map[string]map[string]ciLink{
		"ZOOKEEPER-8": {indexer.GlobalID(key, indexer.KindBuild, "5"): {Title: "CI · ci #1 · failure · topic@" + topic[:7], Icon: "failure",
			URL: "https://github.com/apache/zookeeper/actions/runs/7"}},
	})
}
