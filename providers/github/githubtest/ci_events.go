package githubtest

import (
	"cmp"
	"encoding/json"
	"slices"
	"strings"
)

// ci_events.go builds the webhook deliveries GitHub sends for runs and
// deployments — workflow_run, deployment and deployment_status — from the
// server's state, shaped like GitHub's examples (testdata/
// octokit-webhooks-*.json): the same run, deployment and status objects
// the REST lists return, with the repository, the sender and, for
// workflow_run, the workflow. Tests sign and post them to jiralinkd.

// eventCall is a call for encoding outside a request: URLs point at the
// server (or api.github.com before it listens).
func (s *Server) eventCall() *call {
	return &call{base: strings.TrimRight(cmp.Or(s.URL(), "https://api.github.com/"), "/")}
}

// snapshotOf copies repository id's state; ok is false if it is gone.
func (s *Server) snapshotOf(id int64) (repoSnapshot, bool) {
	s.stateMu.RLock()
	defer s.stateMu.RUnlock()
	st, ok := s.repos[id]
	if !ok {
		return repoSnapshot{}, false
	}
	return st.snapshot(false), true
}

// WorkflowRunEvent is the body of a workflow_run delivery (action
// requested, in_progress or completed) for run id as it is now; nil if the
// repository or the run does not exist.
func (h *RepoHandle) WorkflowRunEvent(id int64, action string) []byte {
	snap, ok := h.s.snapshotOf(h.id)
	runs, _, _ := h.s.ciSnapshot(h.id)
	i := slices.IndexFunc(runs, func(r WorkflowRun) bool { return r.ID == id })
	if !ok || i < 0 {
		return nil
	}
	c, r := h.s.eventCall(), runs[i]
	full := snap.repo.Owner + "/" + snap.repo.Name
	wf := map[string]any{
		"id": r.WorkflowID, "node_id": legacyNodeID("Workflow", jsonInt(r.WorkflowID)), "name": r.Name, "path": r.Path,
		"state": "active", "created_at": ghTime(snap.createdAt), "updated_at": ghTime(snap.createdAt),
		"url":       c.base + "/repos/" + full + "/actions/workflows/" + jsonInt(r.WorkflowID),
		"html_url":  h.s.web + "/" + full + "/blob/" + cmp.Or(snap.repo.DefaultBranch, "main") + "/" + r.Path,
		"badge_url": h.s.web + "/" + full + "/workflows/" + r.Name + "/badge.svg",
	}
	return mustJSON(map[string]any{
		"action": action, "workflow_run": h.s.workflowRunJSON(c, &snap, r), "workflow": wf,
		"repository": h.s.repoJSON(c, snap.info(), false), "sender": h.s.user(c, r.Actor, false),
	})
}

// DeploymentEvent is the body of the deployment delivery (action created)
// of deployment id; nil if it does not exist.
func (h *RepoHandle) DeploymentEvent(id int64) []byte {
	snap, ok := h.s.snapshotOf(h.id)
	_, deploys, statuses := h.s.ciSnapshot(h.id)
	i := slices.IndexFunc(deploys, func(d Deployment) bool { return d.ID == id })
	if !ok || i < 0 {
		return nil
	}
	c, d := h.s.eventCall(), deploys[i]
	return mustJSON(map[string]any{
		"action": "created", "deployment": h.s.deploymentJSON(c, &snap, d, statuses[id]),
		"repository": h.s.repoJSON(c, snap.info(), false), "sender": h.s.user(c, d.Creator, false),
	})
}

// DeploymentStatusEvent is the body of the deployment_status delivery
// (action created) of deployment id's latest status; nil if there is none.
func (h *RepoHandle) DeploymentStatusEvent(id int64) []byte {
	snap, ok := h.s.snapshotOf(h.id)
	_, deploys, statuses := h.s.ciSnapshot(h.id)
	i := slices.IndexFunc(deploys, func(d Deployment) bool { return d.ID == id })
	if !ok || i < 0 || len(statuses[id]) == 0 {
		return nil
	}
	c, d, ss := h.s.eventCall(), deploys[i], statuses[id]
	return mustJSON(map[string]any{
		"action": "created", "deployment_status": h.s.deploymentStatusJSON(c, &snap, d, ss[len(ss)-1]),
		"deployment": h.s.deploymentJSON(c, &snap, d, ss),
		"repository": h.s.repoJSON(c, snap.info(), false), "sender": h.s.user(c, d.Creator, false),
	})
}

func jsonInt(n int64) string { b, _ := json.Marshal(n); return string(b) }

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // the encoders above only hold plain values
	}
	return b
}
