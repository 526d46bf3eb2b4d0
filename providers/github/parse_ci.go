package github

import (
	gh "github.com/google/go-github/v62/github"

	"github.com/jiralinkd/jiralinkd/providers"
)

// parseWorkflowRun reads a workflow_run delivery (requested, in_progress,
// completed).
func parseWorkflowRun(payload []byte) (providers.Event, error) {
	const eventType = "workflow_run"
	ev, err := decodePayload[gh.WorkflowRunEvent](eventType, payload)
	if err != nil {
		return providers.Event{}, err
	}
	if ev.Repo.GetID() == 0 {
		return providers.Event{}, missing(eventType, "repository.id")
	}
	if ev.WorkflowRun.GetID() == 0 {
		return providers.Event{}, missing(eventType, "workflow_run.id")
	}
	r := convertRun(ev.WorkflowRun)
	return providers.Event{Kind: providers.EventRun, Action: ev.GetAction(), Repo: convertRepo(ev.Repo), Run: &r}, nil
}

// parseDeployment reads a deployment delivery (created).
func parseDeployment(payload []byte) (providers.Event, error) {
	const eventType = "deployment"
	ev, err := decodePayload[gh.DeploymentEvent](eventType, payload)
	if err != nil {
		return providers.Event{}, err
	}
	if ev.Repo.GetID() == 0 {
		return providers.Event{}, missing(eventType, "repository.id")
	}
	if ev.Deployment.GetID() == 0 {
		return providers.Event{}, missing(eventType, "deployment.id")
	}
	repo := convertRepo(ev.Repo)
	d := convertDeployment(repo, ev.Deployment, nil)
	return providers.Event{Kind: providers.EventDeployment, Action: "created", Repo: repo, Deployment: &d}, nil
}

// parseDeploymentStatus reads a deployment_status delivery (created).
func parseDeploymentStatus(payload []byte) (providers.Event, error) {
	const eventType = "deployment_status"
	ev, err := decodePayload[gh.DeploymentStatusEvent](eventType, payload)
	if err != nil {
		return providers.Event{}, err
	}
	if ev.Repo.GetID() == 0 {
		return providers.Event{}, missing(eventType, "repository.id")
	}
	if ev.Deployment.GetID() == 0 {
		return providers.Event{}, missing(eventType, "deployment.id")
	}
	repo := convertRepo(ev.Repo)
	var statuses []*gh.DeploymentStatus
	if ev.DeploymentStatus != nil {
		statuses = []*gh.DeploymentStatus{ev.DeploymentStatus}
	}
	d := convertDeployment(repo, ev.Deployment, statuses)
	return providers.Event{Kind: providers.EventDeployment, Action: ev.GetAction(), Repo: repo, Deployment: &d}, nil
}
