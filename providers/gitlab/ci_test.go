package gitlab

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
)

func TestPipelineStatusMapping(t *testing.T) {
	for status, want := range map[string]providers.CIStatus{
		"success": providers.CISuccess, "failed": providers.CIFailure, "canceled": providers.CICancelled, "skipped": providers.CICancelled,
		"running": providers.CIRunning, "created": providers.CIPending, "pending": providers.CIPending, "manual": providers.CIPending,
		"waiting_for_resource": providers.CIPending, "blocked": providers.CIPending,
	} {
		if got := pipelineStatus(status); got != want {
			t.Errorf("pipelineStatus(%q) = %s, want %s", status, got, want)
		}
	}
}

// TestPipelinesAndDeploymentsAgainstTheFake: most recently updated first,
// stopping at since; 304 on an unchanged list; a retried pipeline moves to
// the front.
func TestPipelinesAndDeploymentsAgainstTheFake(t *testing.T) {
	b := corpus.NewBuilder()
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	root := b.Commit(nil, "root", at)
	b.Branch("main", root)
	srv := gitlabtest.Start(t, gitlabtest.Options{Token: token})
	p := srv.AddCorpusProject("acme", "api", 7, b.Build())
	for i := range 120 {
		p.UpsertPipeline(gitlabtest.Pipeline{ID: int64(i + 1), Ref: "main", SHA: root, Status: "success",
			CreatedAt: at.Add(time.Duration(i) * time.Minute), UpdatedAt: at.Add(time.Duration(i)*time.Minute + 30*time.Second)})
	}
	p.UpsertDeployment(gitlabtest.Deployment{ID: 3, Ref: "main", SHA: root, Environment: "production", Status: "running", CreatedAt: at, UpdatedAt: at})
	c := newClient(t, srv, nil, token)
	repo := providers.Repo{ID: 7, FullName: "acme/api", HTMLURL: "https://gitlab.com/acme/api"}
	ctx := context.Background()
	read := func(since time.Time, prev providers.ListState) ([]providers.Run, providers.ListState, bool) {
		var got []providers.Run
		ls, unchanged, err := c.Runs(ctx, repo, since, prev, func(r providers.Run) (bool, error) {
			got = append(got, r)
			return false, nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got, ls, unchanged
	}
	got, ls, _ := read(at.Add(10*time.Minute), providers.ListState{})
	if len(got) != 110 || got[0].ID != 120 || got[0].WorkflowKey != "pipeline" || got[0].Number != 120 {
		t.Fatalf("%d pipelines, first %+v", len(got), got[0])
	}
	if _, _, unchanged := read(at.Add(10*time.Minute), ls); !unchanged {
		t.Error("unchanged list not answered 304")
	}
	p.UpsertPipeline(gitlabtest.Pipeline{ID: 5, Ref: "main", SHA: root, Status: "failed", UpdatedAt: at.Add(3 * time.Hour)}) // retried
	got, _, unchanged := read(at.Add(119*time.Minute), ls)
	if unchanged || len(got) != 2 || got[0].ID != 5 || got[0].Status != providers.CIFailure {
		t.Errorf("after a retry: %+v", got)
	}
	var deps []providers.Deployment
	if _, _, err := c.Deployments(ctx, repo, at, providers.ListState{}, func(d providers.Deployment) (bool, error) {
		deps = append(deps, d)
		return false, nil
	}); err != nil {
		t.Fatal(err)
	}
	envURL := "https://gitlab.com/acme/api/-/environments/" + strconv.FormatInt(gitlabtest.EnvironmentID(7, "production"), 10)
	if len(deps) != 1 || deps[0].Environment != "production" || deps[0].Status != providers.CIRunning || deps[0].HTMLURL != envURL {
		t.Errorf("deployments: %+v", deps)
	}
	for _, r := range srv.Requests() {
		if r.Forbidden || r.Status >= http.StatusBadRequest {
			t.Errorf("request %s → %d", r.Path, r.Status)
		}
	}
}
