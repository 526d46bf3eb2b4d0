package githubtest

import (
	"cmp"
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
)

// ci.go serves GitHub Actions workflow runs (GET .../actions/runs, shaped
// like GitHub's "list workflow runs for a repository" answer, checked
// against the workflow_run webhook example in testdata/), deployments
// (GET .../deployments) and deployment statuses (GET
// .../deployments/{id}/statuses, newest first), and builds the webhook
// payloads workflow_run, deployment and deployment_status. API reference:
// https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-repository
// and https://docs.github.com/rest/deployments/deployments.

// WorkflowRun seeds or updates a workflow run.
type WorkflowRun struct {
	ID         int64
	Number     int // run_number; 0 means the next for its workflow
	WorkflowID int64
	Name       string // workflow name
	Path       string // "" means .github/workflows/<name>.yml
	HeadBranch string
	HeadSHA    string
	Event      string // "" means push
	// Status is queued, in_progress or completed ("" means queued);
	// Conclusion is set when completed (success, failure, cancelled, ...).
	Status, Conclusion string
	DisplayTitle       string // "" means the head commit's subject
	PullNumbers        []int
	Actor              string // "" means the repository's owner
	// Zero CreatedAt means now; zero UpdatedAt means now.
	CreatedAt, UpdatedAt time.Time
}

// Deployment seeds a deployment.
type Deployment struct {
	ID          int64
	SHA, Ref    string
	Environment string
	Description string
	Task        string // "" means deploy
	Creator     string // "" means the repository's owner
	CreatedAt   time.Time
}

// DeploymentStatus is one status of a deployment.
type DeploymentStatus struct {
	ID             int64
	State          string // pending, queued, in_progress, success, failure, error, inactive
	Description    string
	EnvironmentURL string
	LogURL         string
	CreatedAt      time.Time // zero means now
}

type ciRepo struct {
	runs     map[int64]WorkflowRun
	deploys  map[int64]Deployment
	statuses map[int64][]DeploymentStatus // oldest first
}

// ciOf returns the CI state of repository id, creating it. Call with
// stateMu held for writing.
func (s *Server) ciOf(id int64) *ciRepo {
	if s.ci == nil {
		s.ci = map[int64]*ciRepo{}
	}
	c := s.ci[id]
	if c == nil {
		c = &ciRepo{runs: map[int64]WorkflowRun{}, deploys: map[int64]Deployment{}, statuses: map[int64][]DeploymentStatus{}}
		s.ci[id] = c
	}
	return c
}

// UpsertRun creates or replaces a workflow run (a re-run or a state change
// keeps its id).
func (h *RepoHandle) UpsertRun(r WorkflowRun) {
	now := h.s.now().UTC().Truncate(time.Second)
	h.update(func(st *repoState) {
		c := h.s.ciOf(h.id)
		if old, ok := c.runs[r.ID]; ok && r.CreatedAt.IsZero() {
			r.CreatedAt = old.CreatedAt
		}
		if r.Number == 0 {
			if old, ok := c.runs[r.ID]; ok {
				r.Number = old.Number
			} else {
				for _, o := range c.runs {
					if o.WorkflowID == r.WorkflowID {
						r.Number = max(r.Number, o.Number)
					}
				}
				r.Number++
			}
		}
		r.CreatedAt = cmp.Or(r.CreatedAt, now)
		r.UpdatedAt = cmp.Or(r.UpdatedAt, now)
		r.Event = cmp.Or(r.Event, "push")
		r.Status = cmp.Or(r.Status, "queued")
		r.Path = cmp.Or(r.Path, ".github/workflows/"+strings.ToLower(strings.ReplaceAll(r.Name, " ", "-"))+".yml")
		r.Actor = cmp.Or(r.Actor, st.repo.Owner)
		if r.DisplayTitle == "" && st.history != nil {
			if cm, ok := st.history.Commit(r.HeadSHA); ok {
				r.DisplayTitle = cm.Subject()
			}
		}
		c.runs[r.ID] = r
	})
}

// AddDeployment creates a deployment (with no status: pending).
func (h *RepoHandle) AddDeployment(d Deployment) {
	now := h.s.now().UTC().Truncate(time.Second)
	h.update(func(st *repoState) {
		d.CreatedAt = cmp.Or(d.CreatedAt, now)
		d.Task = cmp.Or(d.Task, "deploy")
		d.Creator = cmp.Or(d.Creator, st.repo.Owner)
		h.s.ciOf(h.id).deploys[d.ID] = d
	})
}

// AddDeploymentStatus adds a status to a deployment.
func (h *RepoHandle) AddDeploymentStatus(deploymentID int64, ds DeploymentStatus) {
	now := h.s.now().UTC().Truncate(time.Second)
	h.update(func(st *repoState) {
		c := h.s.ciOf(h.id)
		ds.CreatedAt = cmp.Or(ds.CreatedAt, now)
		if ds.ID == 0 {
			ds.ID = deploymentID*100 + int64(len(c.statuses[deploymentID])) + 1
		}
		c.statuses[deploymentID] = append(c.statuses[deploymentID], ds)
	})
}

// ciSnapshot copies a repository's CI state.
func (s *Server) ciSnapshot(id int64) (runs []WorkflowRun, deploys []Deployment, statuses map[int64][]DeploymentStatus) {
	s.stateMu.RLock()
	defer s.stateMu.RUnlock()
	c := s.ci[id]
	if c == nil {
		return nil, nil, nil
	}
	for _, r := range c.runs {
		runs = append(runs, r)
	}
	for _, d := range c.deploys {
		deploys = append(deploys, d)
	}
	statuses = map[int64][]DeploymentStatus{}
	for id, ss := range c.statuses {
		statuses[id] = slices.Clone(ss)
	}
	return runs, deploys, statuses
}

type headCommitJSON struct {
	ID        string            `json:"id"`
	TreeID    string            `json:"tree_id"`
	Message   string            `json:"message"`
	Timestamp ghTime            `json:"timestamp"`
	Author    map[string]string `json:"author"`
	Committer map[string]string `json:"committer"`
}

type runPullJSON struct {
	URL    string         `json:"url"`
	ID     int64          `json:"id"`
	Number int            `json:"number"`
	Head   map[string]any `json:"head"`
	Base   map[string]any `json:"base"`
}

// workflowRunJSON is a workflow run as GitHub lists it.
type workflowRunJSON struct {
	ID                 int64           `json:"id"`
	Name               string          `json:"name"`
	NodeID             string          `json:"node_id"`
	HeadBranch         string          `json:"head_branch"`
	HeadSHA            string          `json:"head_sha"`
	Path               string          `json:"path"`
	DisplayTitle       string          `json:"display_title"`
	RunNumber          int             `json:"run_number"`
	Event              string          `json:"event"`
	Status             string          `json:"status"`
	Conclusion         *string         `json:"conclusion"`
	WorkflowID         int64           `json:"workflow_id"`
	CheckSuiteID       int64           `json:"check_suite_id"`
	CheckSuiteNodeID   string          `json:"check_suite_node_id"`
	URL                string          `json:"url"`
	HTMLURL            string          `json:"html_url"`
	PullRequests       []runPullJSON   `json:"pull_requests"`
	CreatedAt          ghTime          `json:"created_at"`
	UpdatedAt          ghTime          `json:"updated_at"`
	Actor              userJSON        `json:"actor"`
	RunAttempt         int             `json:"run_attempt"`
	RunStartedAt       ghTime          `json:"run_started_at"`
	TriggeringActor    userJSON        `json:"triggering_actor"`
	JobsURL            string          `json:"jobs_url"`
	LogsURL            string          `json:"logs_url"`
	CheckSuiteURL      string          `json:"check_suite_url"`
	ArtifactsURL       string          `json:"artifacts_url"`
	CancelURL          string          `json:"cancel_url"`
	RerunURL           string          `json:"rerun_url"`
	PreviousAttemptURL *string         `json:"previous_attempt_url"`
	WorkflowURL        string          `json:"workflow_url"`
	HeadCommit         *headCommitJSON `json:"head_commit"`
	Repository         repoJSON        `json:"repository"`
	HeadRepository     repoJSON        `json:"head_repository"`
}

func (s *Server) workflowRunJSON(c *call, snap *repoSnapshot, r WorkflowRun) workflowRunJSON {
	full := snap.repo.Owner + "/" + snap.repo.Name
	api := c.base + "/repos/" + full + "/actions/runs/" + strconv.FormatInt(r.ID, 10)
	var concl *string
	if r.Status == "completed" {
		concl = &r.Conclusion
	}
	pulls := []runPullJSON{}
	for _, n := range r.PullNumbers {
		pulls = append(pulls, runPullJSON{
			URL: c.base + "/repos/" + full + "/pulls/" + strconv.Itoa(n), ID: int64(n) * 1000, Number: n,
			Head: map[string]any{"ref": r.HeadBranch, "sha": r.HeadSHA, "repo": map[string]any{"id": snap.repo.ID, "url": c.base + "/repos/" + full, "name": snap.repo.Name}},
			Base: map[string]any{"ref": cmp.Or(snap.repo.DefaultBranch, "main"), "sha": r.HeadSHA, "repo": map[string]any{"id": snap.repo.ID, "url": c.base + "/repos/" + full, "name": snap.repo.Name}},
		})
	}
	var hc *headCommitJSON
	if cm, ok := snap.history.Commit(r.HeadSHA); ok {
		who := map[string]string{"name": cm.AuthorName, "email": cm.AuthorName + "@users.noreply.github.com"}
		hc = &headCommitJSON{ID: cm.SHA, TreeID: fakeSHA("tree", cm.SHA), Message: cm.Message, Timestamp: ghTime(cm.CommitterDate), Author: who, Committer: who}
	}
	ri := snap.info()
	actor := s.user(c, r.Actor, false)
	return workflowRunJSON{
		ID: r.ID, Name: r.Name, NodeID: legacyNodeID("WorkflowRun", strconv.FormatInt(r.ID, 10)),
		HeadBranch: r.HeadBranch, HeadSHA: r.HeadSHA, Path: r.Path, DisplayTitle: r.DisplayTitle,
		RunNumber: r.Number, Event: r.Event, Status: r.Status, Conclusion: concl, WorkflowID: r.WorkflowID,
		CheckSuiteID: r.ID + 1_000_000_000, CheckSuiteNodeID: legacyNodeID("CheckSuite", strconv.FormatInt(r.ID+1_000_000_000, 10)),
		URL: api, HTMLURL: s.web + "/" + full + "/actions/runs/" + strconv.FormatInt(r.ID, 10),
		PullRequests: pulls, CreatedAt: ghTime(r.CreatedAt), UpdatedAt: ghTime(r.UpdatedAt),
		Actor: actor, RunAttempt: 1, RunStartedAt: ghTime(r.CreatedAt), TriggeringActor: actor,
		JobsURL: api + "/jobs", LogsURL: api + "/logs", CheckSuiteURL: c.base + "/repos/" + full + "/check-suites/" + strconv.FormatInt(r.ID+1_000_000_000, 10),
		ArtifactsURL: api + "/artifacts", CancelURL: api + "/cancel", RerunURL: api + "/rerun",
		WorkflowURL: c.base + "/repos/" + full + "/actions/workflows/" + strconv.FormatInt(r.WorkflowID, 10),
		HeadCommit:  hc, Repository: s.repoJSON(c, ri, false), HeadRepository: s.repoJSON(c, ri, false),
	}
}

// listRuns serves GET .../actions/runs with the filters branch, event,
// status (a status or a conclusion), head_sha and created (">=T", "<=T",
// "T..T" or a date), newest first (GitHub orders by id, descending).
func (s *Server) listRuns(c *call, snap *repoSnapshot) response {
	runs, _, _ := s.ciSnapshot(snap.repo.ID)
	q := c.r.URL.Query()
	from, to, ok := createdRange(q.Get("created"))
	if !ok {
		return fakeserver.JSON(http.StatusUnprocessableEntity, basicError{"Invalid created parameter", "https://docs.github.com/rest/actions/workflow-runs#list-workflow-runs-for-a-repository"})
	}
	var out []WorkflowRun
	for _, r := range runs {
		switch {
		case q.Get("branch") != "" && r.HeadBranch != q.Get("branch"),
			q.Get("event") != "" && r.Event != q.Get("event"),
			q.Get("head_sha") != "" && r.HeadSHA != q.Get("head_sha"),
			q.Get("status") != "" && r.Status != q.Get("status") && r.Conclusion != q.Get("status"),
			r.CreatedAt.Before(from), !to.IsZero() && r.CreatedAt.After(to):
			continue
		}
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b WorkflowRun) int { return cmp.Compare(b.ID, a.ID) })
	page, link := paginate(c, out, repoListBase(c, snap, "/actions/runs"))
	items := make([]workflowRunJSON, 0, len(page))
	for _, r := range page {
		items = append(items, s.workflowRunJSON(c, snap, r))
	}
	resp := fakeserver.JSON(http.StatusOK, struct {
		TotalCount   int               `json:"total_count"`
		WorkflowRuns []workflowRunJSON `json:"workflow_runs"`
	}{len(out), items})
	if link != "" {
		resp.Header = http.Header{"Link": {link}}
	}
	return resp
}

// createdRange parses GitHub's created search qualifier.
func createdRange(v string) (from, to time.Time, ok bool) {
	if v == "" {
		return time.Time{}, time.Time{}, true
	}
	parse := func(s string) (time.Time, bool) {
		for _, l := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02"} {
			if t, err := time.Parse(l, s); err == nil {
				return t, true
			}
		}
		return time.Time{}, false
	}
	switch {
	case strings.HasPrefix(v, ">="):
		from, ok = parse(v[2:])
		return from, time.Time{}, ok
	case strings.HasPrefix(v, "<="):
		to, ok = parse(v[2:])
		return time.Time{}, to, ok
	case strings.Contains(v, ".."):
		a, b, _ := strings.Cut(v, "..")
		f, ok1 := parse(a)
		t, ok2 := parse(b)
		return f, t, ok1 && ok2
	}
	from, ok = parse(v)
	return from, from.Add(24*time.Hour - time.Second), ok
}

// deploymentJSON is a deployment as GitHub lists it.
type deploymentJSON struct {
	URL                   string          `json:"url"`
	ID                    int64           `json:"id"`
	NodeID                string          `json:"node_id"`
	SHA                   string          `json:"sha"`
	Ref                   string          `json:"ref"`
	Task                  string          `json:"task"`
	Payload               json.RawMessage `json:"payload"`
	OriginalEnvironment   string          `json:"original_environment"`
	Environment           string          `json:"environment"`
	Description           *string         `json:"description"`
	Creator               userJSON        `json:"creator"`
	CreatedAt             ghTime          `json:"created_at"`
	UpdatedAt             ghTime          `json:"updated_at"`
	StatusesURL           string          `json:"statuses_url"`
	RepositoryURL         string          `json:"repository_url"`
	PerformedViaGitHubApp *struct{}       `json:"performed_via_github_app"`
}

func (s *Server) deploymentJSON(c *call, snap *repoSnapshot, d Deployment, ss []DeploymentStatus) deploymentJSON {
	full := snap.repo.Owner + "/" + snap.repo.Name
	u := c.base + "/repos/" + full + "/deployments/" + strconv.FormatInt(d.ID, 10)
	var desc *string
	if d.Description != "" {
		desc = &d.Description
	}
	updated := d.CreatedAt
	if len(ss) > 0 {
		updated = ss[len(ss)-1].CreatedAt
	}
	return deploymentJSON{
		URL: u, ID: d.ID, NodeID: legacyNodeID("Deployment", strconv.FormatInt(d.ID, 10)), SHA: d.SHA, Ref: d.Ref,
		Task: d.Task, Payload: json.RawMessage("{}"), OriginalEnvironment: d.Environment, Environment: d.Environment,
		Description: desc, Creator: s.user(c, d.Creator, false), CreatedAt: ghTime(d.CreatedAt), UpdatedAt: ghTime(updated),
		StatusesURL: u + "/statuses", RepositoryURL: c.base + "/repos/" + full,
	}
}

// listDeployments serves GET .../deployments with the filters sha, ref,
// task and environment, newest first.
func (s *Server) listDeployments(c *call, snap *repoSnapshot) response {
	_, deploys, statuses := s.ciSnapshot(snap.repo.ID)
	q := c.r.URL.Query()
	var out []Deployment
	for _, d := range deploys {
		switch {
		case q.Get("sha") != "" && d.SHA != q.Get("sha"),
			q.Get("ref") != "" && d.Ref != q.Get("ref"),
			q.Get("task") != "" && d.Task != q.Get("task"),
			q.Get("environment") != "" && d.Environment != q.Get("environment"):
			continue
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b Deployment) int { return cmp.Compare(b.ID, a.ID) })
	page, link := paginate(c, out, repoListBase(c, snap, "/deployments"))
	items := make([]deploymentJSON, 0, len(page))
	for _, d := range page {
		items = append(items, s.deploymentJSON(c, snap, d, statuses[d.ID]))
	}
	return listResponse(items, link)
}

// deploymentStatusJSON is a deployment status as GitHub lists it.
type deploymentStatusJSON struct {
	URL            string   `json:"url"`
	ID             int64    `json:"id"`
	NodeID         string   `json:"node_id"`
	State          string   `json:"state"`
	Creator        userJSON `json:"creator"`
	Description    string   `json:"description"`
	Environment    string   `json:"environment"`
	TargetURL      string   `json:"target_url"`
	CreatedAt      ghTime   `json:"created_at"`
	UpdatedAt      ghTime   `json:"updated_at"`
	DeploymentURL  string   `json:"deployment_url"`
	RepositoryURL  string   `json:"repository_url"`
	EnvironmentURL string   `json:"environment_url"`
	LogURL         string   `json:"log_url"`
}

func (s *Server) deploymentStatusJSON(c *call, snap *repoSnapshot, d Deployment, ds DeploymentStatus) deploymentStatusJSON {
	full := snap.repo.Owner + "/" + snap.repo.Name
	du := c.base + "/repos/" + full + "/deployments/" + strconv.FormatInt(d.ID, 10)
	return deploymentStatusJSON{
		URL: du + "/statuses/" + strconv.FormatInt(ds.ID, 10), ID: ds.ID,
		NodeID: legacyNodeID("DeploymentStatus", strconv.FormatInt(ds.ID, 10)), State: ds.State,
		Creator: s.user(c, d.Creator, false), Description: ds.Description, Environment: d.Environment,
		TargetURL: ds.LogURL, CreatedAt: ghTime(ds.CreatedAt), UpdatedAt: ghTime(ds.CreatedAt),
		DeploymentURL: du, RepositoryURL: c.base + "/repos/" + full, EnvironmentURL: ds.EnvironmentURL, LogURL: ds.LogURL,
	}
}

// listDeploymentStatuses serves GET .../deployments/{id}/statuses, newest
// first.
func (s *Server) listDeploymentStatuses(c *call, snap *repoSnapshot) response {
	_, deploys, statuses := s.ciSnapshot(snap.repo.ID)
	id, _ := strconv.ParseInt(c.r.PathValue("deployment"), 10, 64)
	i := slices.IndexFunc(deploys, func(d Deployment) bool { return d.ID == id })
	if i < 0 {
		return notFound()
	}
	ss := slices.Clone(statuses[id])
	slices.Reverse(ss)
	page, link := paginate(c, ss, repoListBase(c, snap, "/deployments/"+c.r.PathValue("deployment")+"/statuses"))
	items := make([]deploymentStatusJSON, 0, len(page))
	for _, ds := range page {
		items = append(items, s.deploymentStatusJSON(c, snap, deploys[i], ds))
	}
	return listResponse(items, link)
}

// ciForbidden answers run logs, jobs and artifacts plausibly, marked
// Forbidden: they can hold source code, build output and secrets.
func (s *Server) ciForbidden(c *call, snap *repoSnapshot) response {
	return fakeserver.Forbidden(fakeserver.JSON(http.StatusOK, map[string]any{"total_count": 0, "jobs": []any{}, "artifacts": []any{}}))
}
