package admin

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// TestExplainListsBuildsAndDeployments: the explain page and API list an
// issue's build and deployment links with the state each shows.
func TestExplainListsBuildsAndDeployments(t *testing.T) {
	b := newFakeBackend()
	now := time.Now()
	b.links["ABC-2"] = []state.IssueLink{
		{Link: state.Link{GlobalID: "jiralinkd/github/77/build/2823525", Issue: "ABC-2"},
			LinkInfo: state.LinkInfo{Kind: "build", Repo: "github/acme/api", URL: "https://github.com/acme/api/actions/runs/812",
				Title: "CI · build-and-test #812 · failure · main@a1b2c3d", Summary: "acme/api · ABC-2: login · 2026-12-04",
				Sources: []string{"built commit"}, Written: now.Add(-time.Minute)}},
		{Link: state.Link{GlobalID: "jiralinkd/github/77/deployment/production", Issue: "ABC-2"},
			LinkInfo: state.LinkInfo{Kind: "deployment", Repo: "github/acme/api", URL: "https://api.example.com",
				Title: "Deployed to production · success · v1.4.2 · 2026-12-04", Sources: []string{"deployed commit"}, Written: now.Add(-time.Minute)}},
		{Link: state.Link{GlobalID: "jiralinkd/github/77/commit/a1b2c3d", Issue: "ABC-2"},
			LinkInfo: state.LinkInfo{Kind: "commit", Repo: "github/acme/api", Title: "a1b2c3d ABC-2: login", Written: now.Add(-time.Hour)}},
	}
	h := newHarness(t, b, Options{Token: testToken})
	r := h.do(t, req{method: "GET", path: "/issues?key=ABC-2", bearer: testToken})
	if r.code != http.StatusOK {
		t.Fatalf("%d", r.code)
	}
	for _, want := range []string{
		"<h2>Builds and deployments</h2>", `<table id="ci">`,
		`<span class="badge b-failed">failure</span>`, `<span class="badge b-ok">success</span>`,
		`<a href="https://github.com/acme/api/actions/runs/812" rel="noopener noreferrer">CI · build-and-test #812 · failure · main@a1b2c3d</a>`,
		"Deployed to production · success · v1.4.2 · 2026-12-04", "<td>deployed commit</td>", "3 links written by jiralinkd",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("explain page lacks %q", want)
		}
	}
	if r := h.do(t, req{method: "GET", path: "/issues?key=ABC-1", bearer: testToken}); strings.Contains(r.body, "Builds and deployments") {
		t.Error("an issue without builds shows the section")
	}

	r = h.do(t, req{method: "GET", path: "/api/v1/issues/ABC-2", bearer: testToken})
	var e Explanation
	if err := json.Unmarshal([]byte(r.body), &e); err != nil {
		t.Fatalf("%d %v", r.code, err)
	}
	if len(e.Builds) != 1 || e.Builds[0].Status != "failure" || len(e.Deployments) != 1 || e.Deployments[0].Status != "success" || len(e.Links) != 3 {
		t.Errorf("API explanation = %+v", e)
	}
}
