package gitlab

import (
	"strings"

	"github.com/jiralinkd/jiralinkd/providers"
)

// pipelineHook is the part of a Pipeline Hook jiralinkd reads: never the
// pipeline's variables, nor its jobs.
type pipelineHook struct {
	ObjectAttributes struct {
		ID        int64  `json:"id"`
		IID       int64  `json:"iid"`
		Name      string `json:"name"`
		Ref       string `json:"ref"`
		SHA       string `json:"sha"`
		Source    string `json:"source"`
		Status    string `json:"status"`
		CreatedAt string `json:"created_at"`
		URL       string `json:"url"`
	} `json:"object_attributes"`
	MergeRequest *struct {
		IID int `json:"iid"`
	} `json:"merge_request"`
	Commit *struct {
		Message string `json:"message"`
	} `json:"commit"`
	Project hookProject `json:"project"`
}

func parsePipeline(eventType string, body []byte) (providers.Event, error) {
	var h pipelineHook
	if err := decodeHook(eventType, body, &h); err != nil {
		return providers.Event{}, err
	}
	if h.Project.ID == 0 {
		return providers.Event{}, badPayload(eventType, "project.id missing")
	}
	a := h.ObjectAttributes
	if a.ID == 0 {
		return providers.Event{}, badPayload(eventType, "object_attributes.id missing")
	}
	r := providers.Run{
		ID: a.ID, Number: int(a.IID), WorkflowKey: pipelineKey(a.Name), Workflow: pipelineKey(a.Name),
		Event: a.Source, Status: pipelineStatus(a.Status), HeadSHA: a.SHA, HeadBranch: a.Ref,
		HTMLURL: a.URL, CreatedAt: parseHookTime(a.CreatedAt).UTC(),
	}
	if h.Commit != nil {
		r.Title = firstLine(h.Commit.Message)
	}
	if h.MergeRequest != nil && h.MergeRequest.IID > 0 {
		r.PullNumbers = []int{h.MergeRequest.IID}
	}
	return providers.Event{Kind: providers.EventRun, Action: a.Status, Repo: h.Project.repo(h.Project.ID), Run: &r}, nil
}

// deploymentHook is a Deployment Hook.
type deploymentHook struct {
	Status                 string      `json:"status"`
	StatusChangedAt        string      `json:"status_changed_at"`
	DeploymentID           int64       `json:"deployment_id"`
	Environment            string      `json:"environment"`
	EnvironmentExternalURL string      `json:"environment_external_url"`
	DeployableURL          string      `json:"deployable_url"`
	Ref                    string      `json:"ref"`
	ShortSHA               string      `json:"short_sha"`
	CommitURL              string      `json:"commit_url"`
	Project                hookProject `json:"project"`
}

func parseDeployment(eventType string, body []byte) (providers.Event, error) {
	var h deploymentHook
	if err := decodeHook(eventType, body, &h); err != nil {
		return providers.Event{}, err
	}
	if h.Project.ID == 0 {
		return providers.Event{}, badPayload(eventType, "project.id missing")
	}
	if h.DeploymentID == 0 {
		return providers.Event{}, badPayload(eventType, "deployment_id missing")
	}
	sha := h.ShortSHA
	// The full id is the last segment of commit_url (…/-/commit/<sha>).
	if i := strings.LastIndex(h.CommitURL, "/commit/"); i >= 0 {
		sha = h.CommitURL[i+len("/commit/"):]
	}
	changed := parseHookTime(h.StatusChangedAt).UTC()
	d := providers.Deployment{
		ID: h.DeploymentID, Environment: h.Environment, SHA: sha, Ref: h.Ref,
		Status: pipelineStatus(h.Status), HTMLURL: firstNonEmpty(h.EnvironmentExternalURL, h.DeployableURL),
		UpdatedAt: changed,
	}
	return providers.Event{Kind: providers.EventDeployment, Action: h.Status, Repo: h.Project.repo(h.Project.ID), Deployment: &d}, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(s)
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
