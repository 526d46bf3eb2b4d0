package main

import (
	"net/http"
	"testing"
)

// TestCheckBuildsAndDeployments: with builds and deployments on, check
// reads the first run and deployment of each configured repository and
// warns when the provider refuses them.
func TestCheckBuildsAndDeployments(t *testing.T) {
	f := newFixture(t)
	f.editConfig(t, "    repos: [acme/api]\n", "    repos: [acme/api]\n    builds: true\n    deployments: {enabled: true}\n")
	_, out := f.check(t)
	wantLines(t, out, "OK   github repo acme/api builds: runs readable\n", "OK   github repo acme/api deployments: deployments readable\n")

	f.gh.FailNext("GET /repos/{owner}/{repo}/actions/runs", 1, http.StatusForbidden, nil, `{"message":"Resource not accessible by personal access token"}`)
	_, out = f.check(t)
	wantLines(t, out, "WARN github repo acme/api builds: runs not readable (", "needs Actions and Deployments read\n")
}
