package webhook_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

// TestWorkflowRunWebhookSyncsBuildsOnly: a workflow_run delivery (a real
// payload, re-addressed) triggers a sync of builds and deployments alone,
// which writes the run's build link on the issue its head commit names.
func TestWorkflowRunWebhookSyncsBuildsOnly(t *testing.T) {
	e := newEnv(t)
	e.tgt.Builds = true
	done := e.runWorker(t)
	e.repo.UpsertRun(githubtest.WorkflowRun{ID: 9001, WorkflowID: 77, Name: "CI", HeadBranch: "master", HeadSHA: e.root,
		Status: "completed", Conclusion: "success", CreatedAt: time.Now().Add(-time.Hour)})
	body := fixture(t, "workflow_run.json", nil)
	e.gh.ResetRequests()
	if code, msg := e.post(t, "gh", "workflow_run", "wr-1", body, sign(body, secret)); code != http.StatusAccepted || msg != "queued" {
		t.Fatalf("workflow_run: %d %q", code, msg)
	}
	waitDone(t, done)
	var build bool
	for _, l := range e.jira.Links("ABC-1") {
		if strings.Contains(l.GlobalID, "/build/77") && strings.HasPrefix(l.Object.Title, "CI · CI #1 · success · master@") {
			build = true
		}
	}
	if !build {
		t.Errorf("no build link on ABC-1: %+v", e.jira.Links("ABC-1"))
	}
	for _, r := range e.gh.Requests() {
		if !strings.HasSuffix(r.Path, "/actions/runs") {
			t.Errorf("workflow_run webhook read %s", r.Path)
		}
	}
}

// TestDeploymentStatusWebhookSyncsDeployments: a deployment_status
// delivery built by the fake from its state links the deployment to the
// issue its commit names.
func TestDeploymentStatusWebhookSyncsDeployments(t *testing.T) {
	e := newEnv(t)
	e.tgt.Deployments = func(env string) bool { return env == "production" }
	done := e.runWorker(t)
	e.repo.AddDeployment(githubtest.Deployment{ID: 31, SHA: e.root, Ref: "v1.0", Environment: "production", CreatedAt: time.Now().Add(-time.Hour)})
	e.repo.AddDeploymentStatus(31, githubtest.DeploymentStatus{State: "success", EnvironmentURL: "https://api.example.com"})
	body := e.repo.DeploymentStatusEvent(31)
	if code, _ := e.post(t, "gh", "deployment_status", "ds-1", body, sign(body, secret)); code != http.StatusAccepted {
		t.Fatalf("deployment_status: %d", code)
	}
	waitDone(t, done)
	var found bool
	for _, l := range e.jira.Links("ABC-1") {
		if strings.HasSuffix(l.GlobalID, "/deployment/production") && strings.HasPrefix(l.Object.Title, "Deployed to production · success · v1.0 · ") &&
			l.Object.URL == "https://api.example.com" && l.Object.Status != nil && l.Object.Status.Resolved {
			found = true
		}
	}
	if !found {
		t.Errorf("no deployment link on ABC-1: %+v", e.jira.Links("ABC-1"))
	}
}
