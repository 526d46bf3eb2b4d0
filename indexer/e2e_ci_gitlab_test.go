package indexer_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/gitlab"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

var _ indexer.CISource = (*gitlab.Client)(nil)

// TestEndToEndBuildsAndDeploymentsGitLab: pipelines (failed, then
// succeeded) and a deployment through the real GitLab client against the
// fake; exact links after each step, a re-run that writes nothing and
// reads only 304s, and no job, trace or artifact endpoint reached.
func TestEndToEndBuildsAndDeploymentsGitLab(t *testing.T) {
	base := time.Now().UTC().Truncate(time.Second).Add(-3 * time.Hour)
	at := func(m int) time.Time { return base.Add(time.Duration(m) * time.Minute) }
	b := corpus.NewBuilder()
	root := b.Commit(nil, "ZOOKEEPER-1: initial import", at(0))
	c1 := b.Commit([]string{root}, "ZOOKEEPER-2: add the feature", at(10))
	b.Branch("master", c1)
	s := &stack{hist: b.Build(), provider: "gitlab"}
	gl := gitlabtest.Start(t, gitlabtest.Options{Token: glToken})
	proj := gl.AddCorpusProject("apache", "zookeeper", repoID, s.hist)
	s.jira = jiratest.Start(t, jiratest.Options{Token: jiraToken, IssueExists: jiratest.DemoIssues})
	s.openCommon(t)
	gc, err := gitlab.New(gitlab.Options{Name: "gitlab", BaseURL: gl.URL(), Token: glToken, Retry: httpx.RetryOptions{Sleep: noSleep}})
	if err != nil {
		t.Fatal(err)
	}
	s.tgt = indexer.Target{Name: "gitlab", Type: providers.TypeGitLab, Source: gc, Repos: []string{"apache/zookeeper"},
		Builds: true, Deployments: func(string) bool { return true }}
	s.ix = s.newIndexer(t, nil)

	key := state.RepoKey{Provider: "gitlab", ID: repoID}
	build := indexer.GlobalID(key, indexer.KindBuild, "pipeline")
	prod := indexer.GlobalID(key, indexer.KindDeployment, "production")
	web := "https://gitlab.com/apache/zookeeper"

	proj.UpsertPipeline(gitlabtest.Pipeline{ID: 500, Ref: "master", SHA: root, Status: "success", CreatedAt: at(1), UpdatedAt: at(3)})
	proj.UpsertPipeline(gitlabtest.Pipeline{ID: 501, Ref: "master", SHA: c1, Status: "failed", CreatedAt: at(11), UpdatedAt: at(14)})
	mustOK(t, s.sync(t))
	assertCILinks(t, "failed pipeline", s, map[string]map[string]ciLink{
		"ZOOKEEPER-1": {build: {Title: "CI · pipeline #1 · success · master@" + root[:7], Resolved: true, Icon: "success", URL: web + "/-/pipelines/500"}},
		"ZOOKEEPER-2": {build: {Title: "CI · pipeline #2 · failure · master@" + c1[:7], Icon: "failure", URL: web + "/-/pipelines/501"}},
	})

	// Retried: the same pipeline succeeds.
	proj.UpsertPipeline(gitlabtest.Pipeline{ID: 501, Ref: "master", SHA: c1, Status: "success", UpdatedAt: at(20)})
	proj.UpsertDeployment(gitlabtest.Deployment{ID: 70, Ref: "master", SHA: root, Environment: "production", Status: "success", CreatedAt: at(4), UpdatedAt: at(5)})
	proj.UpsertDeployment(gitlabtest.Deployment{ID: 71, Ref: "master", SHA: c1, Environment: "production", Status: "success",
		ExternalURL: "https://zk.example.org", CreatedAt: at(21), UpdatedAt: at(25)})
	mustOK(t, s.sync(t))
	final := map[string]map[string]ciLink{
		"ZOOKEEPER-1": {
			build: {Title: "CI · pipeline #1 · success · master@" + root[:7], Resolved: true, Icon: "success", URL: web + "/-/pipelines/500"},
			prod:  {Title: "Deployed to production · success · master · " + at(5).Format("2006-01-02"), Resolved: true, Icon: "success", URL: web + "/-/environments/" + strconv.FormatInt(gitlabtest.EnvironmentID(repoID, "production"), 10)},
		},
		"ZOOKEEPER-2": {
			build: {Title: "CI · pipeline #2 · success · master@" + c1[:7], Resolved: true, Icon: "success", URL: web + "/-/pipelines/501"},
			prod:  {Title: "Deployed to production · success · master · " + at(25).Format("2006-01-02"), Resolved: true, Icon: "success", URL: "https://zk.example.org"},
		},
	}
	assertCILinks(t, "deployed", s, final)

	// Re-runs write nothing and read only 304s.
	for run := 1; run <= 2; run++ {
		gl.ResetRequests()
		s.jira.ResetCalls()
		mustOK(t, s.sync(t))
		if w := s.jira.Calls().Writes; w != 0 {
			t.Errorf("re-run %d wrote %d times to Jira", run, w)
		}
		for _, r := range gl.Requests() {
			if (strings.HasSuffix(r.Path, "/pipelines") || strings.HasSuffix(r.Path, "/deployments")) && r.Status != http.StatusNotModified {
				t.Errorf("re-run %d: %s?%s → %d, want 304", run, r.Path, r.RawQuery, r.Status)
			}
		}
	}
	assertCILinks(t, "re-run", s, final)
	if f := gl.ForbiddenRequests(); len(f) != 0 {
		t.Errorf("forbidden GitLab endpoints reached: %+v", f)
	}
}
