package githubtest_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
	"github.com/jiralinkd/jiralinkd/providers/github"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

const zkHead = "53a78e36f99602162643303ab330377fc383b41f"

func ciServer(t *testing.T) *githubtest.Server {
	t.Helper()
	s, zk := corpusServer(t, githubtest.Options{})
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	zk.UpsertRun(githubtest.WorkflowRun{ID: 30433642, WorkflowID: 159038, Name: "Build", HeadBranch: "master", HeadSHA: zkHead,
		Status: "completed", Conclusion: "success", PullNumbers: []int{9000}, CreatedAt: at})
	zk.UpsertRun(githubtest.WorkflowRun{ID: 30433643, WorkflowID: 159038, Name: "Build", HeadBranch: "master", HeadSHA: zkHead,
		Status: "in_progress", CreatedAt: at.Add(time.Hour)})
	zk.AddDeployment(githubtest.Deployment{ID: 7, SHA: zkHead, Ref: "master", Environment: "production", CreatedAt: at})
	zk.AddDeploymentStatus(7, githubtest.DeploymentStatus{State: "in_progress", CreatedAt: at.Add(time.Minute)})
	zk.AddDeploymentStatus(7, githubtest.DeploymentStatus{State: "success", EnvironmentURL: "https://zk.example.org", CreatedAt: at.Add(2 * time.Minute)})
	return s
}

// TestCIShapesMatchGitHubExamples checks every field of GitHub's examples
// (the workflow_run and deployment_status webhook payloads carry the same
// run, deployment and status objects the REST lists return) is in the
// fake's answers, with the same JSON type.
func TestCIShapesMatchGitHubExamples(t *testing.T) {
	s := ciServer(t)
	run := fakeserver.LoadJSON(t, "testdata/octokit-webhooks-workflow_run-completed.with-pull-requests.payload.json").(map[string]any)["workflow_run"]
	dep := fakeserver.LoadJSON(t, "testdata/octokit-webhooks-deployment_status.payload.json").(map[string]any)
	// The webhook's repositories are the full form; the list's the
	// minimal one, checked by the repository shape tests.
	ignoreRepos := []string{"repository", "head_repository"}
	runs := get(t, s, "repos/apache/zookeeper/actions/runs?per_page=1").MustJSON(t).(map[string]any)
	if runs["total_count"].(float64) != 2 {
		t.Errorf("total_count = %v", runs["total_count"])
	}
	got := fakeserver.First(runs["workflow_runs"])
	for _, d := range fakeserver.ShapeDiff(run, got, ignoreRepos) {
		t.Error("workflow run:", d)
	}
	for _, d := range fakeserver.ShapeDiff(dep["deployment"], fakeserver.First(get(t, s, "repos/apache/zookeeper/deployments").MustJSON(t)), nil) {
		t.Error("deployment:", d)
	}
	for _, d := range fakeserver.ShapeDiff(dep["deployment_status"], fakeserver.First(get(t, s, "repos/apache/zookeeper/deployments/7/statuses").MustJSON(t)), nil) {
		t.Error("deployment status:", d)
	}
}

func TestCIListsAndForbiddenEndpoints(t *testing.T) {
	s := ciServer(t)
	runs := get(t, s, "repos/apache/zookeeper/actions/runs").MustJSON(t).(map[string]any)["workflow_runs"].([]any)
	if len(runs) != 2 || runs[0].(map[string]any)["id"].(float64) != 30433643 || runs[0].(map[string]any)["conclusion"] != nil {
		t.Errorf("runs, newest first, the running one without conclusion: %+v", runs)
	}
	if n := runs[1].(map[string]any)["run_number"].(float64); n != 1 {
		t.Errorf("run_number = %v", n)
	}
	filtered := get(t, s, "repos/apache/zookeeper/actions/runs?created=%3E%3D2026-12-01T10:30:00Z").MustJSON(t).(map[string]any)
	if filtered["total_count"].(float64) != 1 {
		t.Errorf("created filter: %v", filtered["total_count"])
	}
	ss := get(t, s, "repos/apache/zookeeper/deployments/7/statuses").MustJSON(t).([]any)
	if len(ss) != 2 || ss[0].(map[string]any)["state"] != "success" {
		t.Errorf("statuses, newest first: %+v", ss)
	}
	r := get(t, s, "repos/apache/zookeeper/actions/runs")
	if again := get(t, s, "repos/apache/zookeeper/actions/runs", "If-None-Match: "+r.Header.Get("ETag")); again.Status != http.StatusNotModified {
		t.Errorf("conditional run list: %d", again.Status)
	}
	s.ResetRequests()
	for _, p := range []string{"actions/runs/30433642/logs", "actions/runs/30433642/artifacts", "actions/runs/30433642/jobs", "actions/jobs/1/logs"} {
		get(t, s, "repos/apache/zookeeper/"+p)
	}
	if f := s.ForbiddenRequests(); len(f) != 4 {
		t.Errorf("logs, artifacts and jobs not all marked forbidden: %+v", f)
	}
}

// TestCIEventsMatchGitHubExamples: the webhook bodies the fake builds have
// every field of GitHub's examples, with the same JSON types, and parse.
func TestCIEventsMatchGitHubExamples(t *testing.T) {
	_, zk := corpusServer(t, githubtest.Options{})
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	zk.UpsertRun(githubtest.WorkflowRun{ID: 30433642, WorkflowID: 159038, Name: "Build", HeadBranch: "master", HeadSHA: zkHead,
		Status: "completed", Conclusion: "failure", PullNumbers: []int{9000}, CreatedAt: at})
	zk.AddDeployment(githubtest.Deployment{ID: 7, SHA: zkHead, Ref: "master", Environment: "production", CreatedAt: at})
	zk.AddDeploymentStatus(7, githubtest.DeploymentStatus{State: "success", CreatedAt: at.Add(time.Minute)})
	for _, tc := range []struct {
		fixture, event string
		body           []byte
	}{
		{"octokit-webhooks-workflow_run-completed.with-pull-requests.payload.json", "workflow_run", zk.WorkflowRunEvent(30433642, "completed")},
		{"octokit-webhooks-deployment_status.payload.json", "deployment_status", zk.DeploymentStatusEvent(7)},
	} {
		want := fakeserver.LoadJSON(t, "testdata/"+tc.fixture)
		var got any
		if err := json.Unmarshal(tc.body, &got); err != nil {
			t.Fatal(err)
		}
		// Repositories in webhooks are the full form; the fake's event
		// carries the list form (jiralinkd reads only id, names, URL).
		for _, d := range fakeserver.ShapeDiff(want, got, []string{"repository", "organization", "workflow_run.repository", "workflow_run.head_repository", "sender"}) {
			t.Errorf("%s: %s", tc.event, d)
		}
		ev, err := github.ParseWebhook(tc.event, tc.body)
		if err != nil || ev.Repo.ID != 1000 {
			t.Errorf("%s: parse: %+v, %v", tc.event, ev, err)
		}
	}
	if ev, err := github.ParseWebhook("deployment", zk.DeploymentEvent(7)); err != nil || ev.Deployment == nil || ev.Deployment.ID != 7 {
		t.Errorf("deployment event: %+v, %v", ev, err)
	}
	if zk.WorkflowRunEvent(1, "completed") != nil || zk.DeploymentStatusEvent(8) != nil {
		t.Error("events of unknown runs or deployments")
	}
}
