package guard

import (
	"errors"
	"net/http"
	"testing"

	"github.com/jiralinkd/jiralinkd/providers"
)

// TestCIEndpoints proves the builds-and-deployments allowlist: the run,
// pipeline and deployment lists (and a GitHub deployment's statuses) pass;
// logs, jobs, job traces and artifacts — which can hold source code,
// build output and secrets — are refused before anything is sent.
func TestCIEndpoints(t *testing.T) {
	cases := []struct {
		rules   Rules
		base    string
		path    string
		allowed bool
	}{
		{GitHub, "/", "/repos/o/r/actions/runs", true},
		{GitHub, "/", "/repositories/42/actions/runs", true},
		{GitHub, "/", "/repos/o/r/deployments", true},
		{GitHub, "/", "/repos/o/r/deployments/7/statuses", true},
		{GitHub, "/api/v3", "/api/v3/repos/o/r/actions/runs", true},
		{GitHub, "/", "/repos/o/r/actions/runs/30433642/logs", false},
		{GitHub, "/", "/repos/o/r/actions/runs/30433642/attempts/1/logs", false},
		{GitHub, "/", "/repos/o/r/actions/runs/30433642/artifacts", false},
		{GitHub, "/", "/repos/o/r/actions/runs/30433642/jobs", false},
		{GitHub, "/", "/repos/o/r/actions/runs/30433642", false},
		{GitHub, "/", "/repos/o/r/actions/jobs/399444496/logs", false},
		{GitHub, "/", "/repos/o/r/actions/artifacts", false},
		{GitHub, "/", "/repos/o/r/actions/artifacts/11/zip", false},
		{GitHub, "/", "/repos/o/r/actions/workflows", false},
		{GitHub, "/", "/repos/o/r/deployments/7", false},
		{GitHub, "/", "/repos/o/r/check-runs/5/annotations", false},
		{GitLab, "/api/v4", "/api/v4/projects/42/pipelines", true},
		{GitLab, "/api/v4", "/api/v4/projects/group%2Fproj/pipelines", true},
		{GitLab, "/api/v4", "/api/v4/projects/42/deployments", true},
		{GitLab, "/api/v4", "/api/v4/projects/42/pipelines/9", false},
		{GitLab, "/api/v4", "/api/v4/projects/42/pipelines/9/jobs", false},
		{GitLab, "/api/v4", "/api/v4/projects/42/jobs", false},
		{GitLab, "/api/v4", "/api/v4/projects/42/jobs/8/trace", false},
		{GitLab, "/api/v4", "/api/v4/projects/42/jobs/8/artifacts", false},
		{GitLab, "/api/v4", "/api/v4/projects/42/jobs/artifacts/main/download", false},
		{GitLab, "/api/v4", "/api/v4/projects/42/deployments/3", false},
		{GitLab, "/api/v4", "/api/v4/projects/42/deployments/3/merge_requests", false},
	}
	for _, c := range cases {
		t.Run(c.rules.Name+" "+c.path, func(t *testing.T) {
			tr := New(nil, c.rules, c.base)
			req, _ := http.NewRequest(http.MethodGet, "http://h"+c.path, nil)
			err := tr.Check(req)
			if c.allowed && err != nil {
				t.Fatalf("refused: %v", err)
			}
			if !c.allowed && !errors.Is(err, providers.ErrForbiddenEndpoint) {
				t.Fatalf("allowed, want refused (err %v)", err)
			}
		})
	}
}
