package gitlabtest

import (
	"encoding/json"
	"strconv"
	"time"
)

// ci_events.go builds the Pipeline Hook and Deployment Hook deliveries
// GitLab sends, from the server's state, shaped like the webhook events
// documentation's examples (testdata/docs-webhook-*.json). Only what a
// receiver needs is filled with the server's values; the rest keeps the
// documented shape with neutral values. Pipeline variables and jobs are
// sent empty: jiralinkd never reads them.

// hookProjectJSON is the project object of webhook payloads.
type hookProjectJSON struct {
	ID                int64   `json:"id"`
	Name              string  `json:"name"`
	Description       string  `json:"description"`
	WebURL            string  `json:"web_url"`
	AvatarURL         *string `json:"avatar_url"`
	GitSSHURL         string  `json:"git_ssh_url"`
	GitHTTPURL        string  `json:"git_http_url"`
	Namespace         string  `json:"namespace"`
	VisibilityLevel   int     `json:"visibility_level"`
	PathWithNamespace string  `json:"path_with_namespace"`
	DefaultBranch     string  `json:"default_branch"`
	CIConfigPath      string  `json:"ci_config_path"`
	Homepage          string  `json:"homepage"`
	URL               string  `json:"url"`
	SSHURL            string  `json:"ssh_url"`
	HTTPURL           string  `json:"http_url"`
}

func (s *Server) hookProject(snap *projectSnapshot) hookProjectJSON {
	full := snap.fullPath()
	web := s.web + "/" + full
	ssh := "git@" + s.webHost() + ":" + full + ".git"
	return hookProjectJSON{ID: snap.p.ID, Name: snap.p.Path, WebURL: web, GitSSHURL: ssh, GitHTTPURL: web + ".git",
		Namespace: snap.ns.name, PathWithNamespace: full, DefaultBranch: snap.p.DefaultBranch, Homepage: web,
		URL: ssh, SSHURL: ssh, HTTPURL: web + ".git"}
}

func (s *Server) snapshotOf(id int64) (projectSnapshot, bool) {
	s.stateMu.RLock()
	defer s.stateMu.RUnlock()
	st, ok := s.projects[id]
	if !ok {
		return projectSnapshot{}, false
	}
	return s.snapshotLocked(st), true
}

// hookTime is a time as webhook payloads render it ("2016-08-12 15:23:28
// UTC").
func hookTime(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }

// PipelineEvent is the body of the Pipeline Hook delivery of pipeline id
// as it is now; nil if the project or the pipeline does not exist.
func (h *ProjectHandle) PipelineEvent(id int64) []byte {
	snap, ok := h.s.snapshotOf(h.id)
	ps, _ := h.s.ciSnapshot(h.id)
	var p *Pipeline
	for i := range ps {
		if ps[i].ID == id {
			p = &ps[i]
		}
	}
	if !ok || p == nil {
		return nil
	}
	web := h.s.web + "/" + snap.fullPath()
	user := h.s.user(h.s.username)
	hookUser := map[string]any{"id": user.ID, "name": user.Name, "username": user.Username, "avatar_url": user.AvatarURL, "email": user.Username + "@example.com"}
	body := map[string]any{
		"object_kind": "pipeline",
		"object_attributes": map[string]any{
			"id": p.ID, "iid": p.IID, "name": p.Name, "ref": p.Ref, "tag": false, "sha": p.SHA, "before_sha": p.SHA,
			"source": p.Source, "status": p.Status, "stages": []string{"build", "test"},
			"created_at": hookTime(p.CreatedAt), "finished_at": hookTime(p.UpdatedAt), "duration": int(p.UpdatedAt.Sub(p.CreatedAt).Seconds()),
			"variables": []any{}, "url": web + "/-/pipelines/" + strconv.FormatInt(p.ID, 10),
		},
		"user":    hookUser,
		"project": h.s.hookProject(&snap),
		"builds":  []any{},
	}
	if cm, ok := snap.history.Commit(p.SHA); ok {
		body["commit"] = map[string]any{"id": cm.SHA, "message": cm.Message, "timestamp": cm.AuthorDate.Format("2006-01-02T15:04:05-07:00"),
			"url": web + "/-/commit/" + cm.SHA, "author": map[string]any{"name": cm.AuthorName, "email": cm.AuthorName + "@example.com"}}
	}
	if p.MergeRequestIID > 0 {
		mr := map[string]any{"id": p.MergeRequestIID, "iid": p.MergeRequestIID, "title": "", "source_branch": p.Ref,
			"source_project_id": snap.p.ID, "target_branch": snap.p.DefaultBranch, "target_project_id": snap.p.ID,
			"state": "opened", "merge_status": "can_be_merged", "detailed_merge_status": "mergeable",
			"url": web + "/-/merge_requests/" + strconv.Itoa(p.MergeRequestIID)}
		for _, m := range snap.mrs {
			if m.IID == p.MergeRequestIID {
				mr["title"], mr["source_branch"], mr["target_branch"] = m.Title, m.SourceBranch, m.TargetBranch
				if m.State != "" {
					mr["state"] = string(m.State)
				}
			}
		}
		body["merge_request"] = mr
	}
	return mustJSON(body)
}

// DeploymentEvent is the body of the Deployment Hook delivery of
// deployment id as it is now; nil if it does not exist.
func (h *ProjectHandle) DeploymentEvent(id int64) []byte {
	snap, ok := h.s.snapshotOf(h.id)
	_, ds := h.s.ciSnapshot(h.id)
	var d *Deployment
	for i := range ds {
		if ds[i].ID == id {
			d = &ds[i]
		}
	}
	if !ok || d == nil {
		return nil
	}
	web := h.s.web + "/" + snap.fullPath()
	user := h.s.user(h.s.username)
	title := ""
	if cm, ok := snap.history.Commit(d.SHA); ok {
		title = cm.Subject()
	}
	return mustJSON(map[string]any{
		"object_kind": "deployment", "status": d.Status,
		"status_changed_at": d.UpdatedAt.Format("2006-01-02 15:04:05 -0700"),
		"deployment_id":     d.ID, "deployable_id": d.ID*10 + 1, "deployable_url": web + "/-/jobs/" + strconv.FormatInt(d.ID*10+1, 10),
		"environment": d.Environment, "environment_tier": d.Environment, "environment_slug": d.Environment,
		"environment_external_url": d.ExternalURL,
		"project":                  h.s.hookProject(&snap),
		"short_sha":                d.SHA[:min(8, len(d.SHA))],
		"user":                     map[string]any{"id": user.ID, "name": user.Name, "username": user.Username, "avatar_url": user.AvatarURL, "email": user.Username + "@example.com"},
		"user_url":                 user.WebURL,
		"commit_url":               web + "/-/commit/" + d.SHA,
		"commit_title":             title,
		"ref":                      d.Ref,
	})
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err) // only plain values are encoded
	}
	return b
}
