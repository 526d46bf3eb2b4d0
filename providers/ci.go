package providers

import "time"

// CIStatus is the state of a CI run or a deployment, normalised across
// providers. It decides the status icon of a link and whether Jira shows
// it resolved.
type CIStatus string

// CI states.
const (
	CIPending   CIStatus = "pending"   // queued, waiting, requested
	CIRunning   CIStatus = "running"   // in progress
	CISuccess   CIStatus = "success"   // finished and succeeded
	CIFailure   CIStatus = "failure"   // finished and failed (or errored)
	CICancelled CIStatus = "cancelled" // cancelled, skipped, timed out
)

// Final reports whether the state can no longer change (success, failure,
// cancelled).
func (s CIStatus) Final() bool { return s == CISuccess || s == CIFailure || s == CICancelled }

// Run is one CI run: a GitHub Actions workflow run or a GitLab pipeline.
// Metadata only: no job logs, artifacts or traces.
type Run struct {
	ID     int64
	Number int // GitHub run_number; GitLab iid (0 if unknown)
	// WorkflowKey identifies the workflow or pipeline the run belongs to,
	// stably across runs (GitHub: the workflow id; GitLab: the pipeline
	// name, or its source when unnamed). It is part of the link's globalId.
	WorkflowKey string
	Workflow    string // display name of the workflow or pipeline
	Title       string // GitHub display_title (commit subject or PR title)
	Event       string // what triggered it (push, pull_request, merge_request_event, ...)
	Status      CIStatus
	HeadSHA     string
	HeadBranch  string // branch (or tag) the run built
	PullNumbers []int  // pull/merge requests the run belongs to, when known
	HTMLURL     string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Deployment is one deployment of a commit to an environment with its
// latest status (GitHub deployment + deployment statuses; GitLab
// deployment).
type Deployment struct {
	ID          int64
	Environment string
	SHA         string
	Ref         string // branch or tag deployed, as the provider reports it
	Description string
	Status      CIStatus
	// HTMLURL is where the link points: the environment URL or the
	// status's target (log) page when the provider reports one, else the
	// repository's deployments page.
	HTMLURL   string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// StreamFirstPage streams a list newest first with its first page
// conditional on prev when prev answers the same query (a 304 there
// returns unchanged, fn not called). The state returned is the first
// page's. It suits the CI lists, which are read back to a watermark rather
// than in full: new and changed items come first, so a 304 on the first
// page proves that nothing changed — as long as no item the caller still
// waits on lies beyond it, which the caller judges (it keeps the state
// only when every item it read is final).
func StreamFirstPage[T any](fetch PageFunc[T], query string, prev ListState, fn func(T) (stop bool, err error)) (ListState, bool, error) {
	first := ""
	if len(prev.ETags) == 1 && prev.Query == query {
		first = prev.ETags[0]
	}
	etag, nm, err := Stream(fetch, first, fn)
	switch {
	case err != nil:
		return ListState{}, false, err
	case nm:
		return prev, true, nil
	}
	return ListState{ETags: []string{etag}, Query: query}, false, nil
}
