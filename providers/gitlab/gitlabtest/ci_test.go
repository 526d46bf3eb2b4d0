package gitlabtest_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
)

func TestPipelinesAndDeployments(t *testing.T) {
	s := gitlabtest.Start(t, gitlabtest.Options{Token: token})
	p := s.AddProject(gitlabtest.Project{ID: 42, Namespace: "acme", Path: "api"})
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	p.UpsertPipeline(gitlabtest.Pipeline{ID: 1, Ref: "main", SHA: "aaa", Status: "failed", CreatedAt: at, UpdatedAt: at.Add(time.Minute)})
	p.UpsertPipeline(gitlabtest.Pipeline{ID: 2, Ref: "main", SHA: "bbb", Status: "running", CreatedAt: at.Add(time.Hour), UpdatedAt: at.Add(time.Hour)})
	p.UpsertPipeline(gitlabtest.Pipeline{ID: 1, Ref: "main", SHA: "aaa", Status: "success", UpdatedAt: at.Add(2 * time.Hour)}) // retried
	p.UpsertDeployment(gitlabtest.Deployment{ID: 9, Ref: "main", SHA: "aaa", Environment: "production", Status: "success", ExternalURL: "https://x.example", CreatedAt: at, UpdatedAt: at})

	list := get(t, s, "projects/42/pipelines?order_by=updated_at&sort=desc")
	ps := list.MustJSON(t).([]any)
	if len(ps) != 2 || ps[0].(map[string]any)["id"].(float64) != 1 || ps[0].(map[string]any)["status"] != "success" || ps[0].(map[string]any)["iid"].(float64) != 1 {
		t.Errorf("pipelines by update: %+v", ps)
	}
	if got := get(t, s, "projects/42/pipelines?order_by=updated_at&sort=desc", "If-None-Match: "+list.Header.Get("ETag")); got.Status != http.StatusNotModified {
		t.Errorf("conditional pipelines: %d", got.Status)
	}
	after := get(t, s, "projects/42/pipelines?updated_after=2026-12-01T10:30:00Z").MustJSON(t).([]any)
	if len(after) != 2 {
		t.Errorf("updated_after: %d pipelines", len(after))
	}
	ds := get(t, s, "projects/42/deployments?order_by=updated_at&sort=desc").MustJSON(t).([]any)
	env := ds[0].(map[string]any)["environment"].(map[string]any)
	if len(ds) != 1 || env["name"] != "production" || env["external_url"] != "https://x.example" || ds[0].(map[string]any)["status"] != "success" {
		t.Errorf("deployments: %+v", ds)
	}
}
