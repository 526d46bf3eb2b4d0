package github

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

func TestRunStatusMapping(t *testing.T) {
	for _, tc := range []struct {
		status, conclusion string
		want               providers.CIStatus
	}{
		{"completed", "success", providers.CISuccess}, {"completed", "neutral", providers.CISuccess},
		{"completed", "failure", providers.CIFailure}, {"completed", "startup_failure", providers.CIFailure},
		{"completed", "cancelled", providers.CICancelled}, {"completed", "timed_out", providers.CICancelled},
		{"completed", "skipped", providers.CICancelled}, {"in_progress", "", providers.CIRunning},
		{"queued", "", providers.CIPending}, {"requested", "", providers.CIPending}, {"waiting", "", providers.CIPending},
	} {
		if got := runStatus(tc.status, tc.conclusion); got != tc.want {
			t.Errorf("runStatus(%q, %q) = %s, want %s", tc.status, tc.conclusion, got, tc.want)
		}
	}
	for state, want := range map[string]providers.CIStatus{"success": providers.CISuccess, "inactive": providers.CISuccess,
		"failure": providers.CIFailure, "error": providers.CIFailure, "in_progress": providers.CIRunning, "queued": providers.CIPending, "pending": providers.CIPending} {
		if got := deploymentStatus(state); got != want {
			t.Errorf("deploymentStatus(%q) = %s, want %s", state, got, want)
		}
	}
}

// TestRunsAndDeploymentsAgainstTheFake: runs stop at since, pages of 100,
// the first page answers 304 when nothing changed; deployments carry the
// latest status that is not "inactive".
func TestRunsAndDeploymentsAgainstTheFake(t *testing.T) {
	b, root := oneCommit()
	srv := githubtest.Start(t, githubtest.Options{Token: token})
	h := srv.AddCorpusRepo("acme", "api", 7, b.Build())
	at := time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := range 150 {
		h.UpsertRun(githubtest.WorkflowRun{ID: int64(i + 1), WorkflowID: 3, Name: "ci", HeadBranch: "main", HeadSHA: root,
			Status: "completed", Conclusion: "success", CreatedAt: at.Add(time.Duration(i) * time.Minute)})
	}
	c := newClient(t, srv, nil)
	repo := providers.Repo{ID: 7, FullName: "acme/api", HTMLURL: "https://github.com/acme/api"}
	ctx := context.Background()
	var got []providers.Run
	ls, unchanged, err := c.Runs(ctx, repo, at.Add(20*time.Minute), providers.ListState{}, func(r providers.Run) (bool, error) {
		got = append(got, r)
		return false, nil
	})
	if err != nil || unchanged {
		t.Fatal(err, unchanged)
	}
	if len(got) != 130 || got[0].ID != 150 || got[129].ID != 21 || got[0].Number != 150 || got[0].WorkflowKey != "3" {
		t.Fatalf("%d runs, first %+v", len(got), got[0])
	}
	srv.ResetRequests()
	if _, unchanged, err := c.Runs(ctx, repo, at.Add(20*time.Minute), ls, func(providers.Run) (bool, error) {
		t.Error("fn called on a 304")
		return false, nil
	}); err != nil || !unchanged {
		t.Errorf("second read: unchanged %v, err %v", unchanged, err)
	}
	if r := srv.Requests(); len(r) != 1 || r[0].Status != http.StatusNotModified {
		t.Errorf("second read requests: %+v", r)
	}

	h.AddDeployment(githubtest.Deployment{ID: 1, SHA: root, Ref: "v1", Environment: "production", Description: "first", CreatedAt: at})
	h.AddDeploymentStatus(1, githubtest.DeploymentStatus{State: "success", EnvironmentURL: "https://api.example.com", CreatedAt: at.Add(time.Minute)})
	h.AddDeploymentStatus(1, githubtest.DeploymentStatus{State: "inactive", CreatedAt: at.Add(time.Hour)})
	h.AddDeployment(githubtest.Deployment{ID: 2, SHA: root, Ref: "main", Environment: "staging", CreatedAt: at.Add(2 * time.Hour)})
	var deps []providers.Deployment
	if _, _, err := c.Deployments(ctx, repo, at, providers.ListState{}, func(d providers.Deployment) (bool, error) {
		deps = append(deps, d)
		return false, nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(deps) != 2 || deps[0].ID != 2 || deps[0].Status != providers.CIPending || !strings.HasSuffix(deps[0].HTMLURL, "/acme/api/deployments/staging") {
		t.Errorf("newest deployment: %+v", deps)
	}
	if d := deps[1]; d.Status != providers.CISuccess || d.HTMLURL != "https://api.example.com" || !d.UpdatedAt.Equal(at.Add(time.Minute)) || d.Description != "first" {
		t.Errorf("deployment made inactive later: %+v", d)
	}
	for _, r := range srv.Requests() {
		if strings.Contains(r.Path, "/logs") || strings.Contains(r.Path, "/jobs") || strings.Contains(r.Path, "/artifacts") || r.Forbidden {
			t.Errorf("forbidden request %s", r.Path)
		}
	}
}
