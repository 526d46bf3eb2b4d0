package gitlabtest_test

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
	"github.com/jiralinkd/jiralinkd/providers/gitlab"
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

// TestCIShapesMatchGitLabExamples: the pipeline list and the Pipeline Hook
// and Deployment Hook bodies the fake builds have every field of GitLab's
// documented examples, with the same JSON types, and the hooks parse.
func TestCIShapesMatchGitLabExamples(t *testing.T) {
	s, zk := corpusServer(t, gitlabtest.Options{})
	at := time.Date(2026, 12, 1, 10, 0, 0, 0, time.UTC)
	zk.UpsertPipeline(gitlabtest.Pipeline{ID: 31, Name: "Pipeline for branch: master", Ref: "master", SHA: zkMaster, Status: "success",
		MergeRequestIID: 1, CreatedAt: at, UpdatedAt: at.Add(3 * time.Minute)})
	zk.UpsertDeployment(gitlabtest.Deployment{ID: 15, Ref: "master", SHA: zkMaster, Environment: "staging", Status: "success",
		ExternalURL: "https://staging.example.com", CreatedAt: at, UpdatedAt: at})

	want := fakeserver.First(fakeserver.LoadJSON(t, "testdata/docs-pipelines.list.json"))
	for _, d := range fakeserver.ShapeDiff(want, fakeserver.First(get(t, s, "projects/1000/pipelines").MustJSON(t)), nil) {
		t.Error("pipeline:", d)
	}
	for _, tc := range []struct {
		fixture, event string
		body           []byte
		ignore         []string
	}{
		// The documented pipeline example also has the upstream pipeline of
		// a multi-project pipeline and its jobs, which the fake leaves out.
		{"docs-webhook-pipeline.json", "Pipeline Hook", zk.PipelineEvent(31), []string{"source_pipeline", "builds", "object_attributes.variables"}},
		{"docs-webhook-deployment.json", "Deployment Hook", zk.DeploymentEvent(15), nil},
	} {
		var got any
		if err := json.Unmarshal(tc.body, &got); err != nil {
			t.Fatalf("%s: %v", tc.event, err)
		}
		for _, d := range fakeserver.ShapeDiff(fakeserver.LoadJSON(t, "testdata/"+tc.fixture), got, tc.ignore) {
			t.Errorf("%s: %s", tc.event, d)
		}
		ev, err := gitlab.ParseWebhook(tc.event, tc.body)
		if err != nil || ev.Repo.ID != 1000 {
			t.Errorf("%s: parse: %+v, %v", tc.event, ev, err)
		}
		if tc.event == "Deployment Hook" && (ev.Deployment == nil || ev.Deployment.SHA != zkMaster) {
			t.Errorf("deployment hook: %+v", ev.Deployment)
		}
	}
}
