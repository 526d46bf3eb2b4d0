package indexer_test

import (
	"math"
	"net/http"
	"strings"
	"testing"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/gitlab"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

const glToken = "glpat-e2e-token"

// TestEndToEndCorpusGitLab indexes the same corpus served as a GitLab
// project: the exact link set, an idempotent second run, and no forbidden
// endpoint.
func TestEndToEndCorpusGitLab(t *testing.T) {
	hist, err := corpus.ZooKeeper()
	if err != nil {
		t.Fatal(err)
	}
	s := &stack{hist: hist, provider: "gitlab"}
	gl := gitlabtest.Start(t, gitlabtest.Options{Token: glToken, RateLimit: 1_000_000})
	gl.AddCorpusProject("apache", "zookeeper", repoID, hist)
	s.jira = jiratest.Start(t, jiratest.Options{Token: jiraToken, IssueExists: jiratest.DemoIssues})
	s.openCommon(t)
	gc, err := gitlab.New(gitlab.Options{Name: "gitlab", BaseURL: gl.URL(), Token: glToken, Retry: httpx.RetryOptions{Sleep: noSleep}})
	if err != nil {
		t.Fatal(err)
	}
	s.tgt = indexer.Target{Name: "gitlab", Type: providers.TypeGitLab, Source: gc, Owners: []string{"apache"}}
	s.ix = s.newIndexer(t, nil)

	want := expectedLinks(t, s)
	rep := s.sync(t)
	mustOK(t, rep)
	diffLinks(t, want, jiraLinks(t, s.jira))
	n := countLinks(want)
	calls := s.jira.Calls()
	if calls.Writes != n || calls.Total > int(math.Ceil(float64(n)*1.05)) {
		t.Errorf("Jira: %d writes, %d calls for %d links", calls.Writes, calls.Total, n)
	}
	reqs := gl.Requests()
	if f := gl.ForbiddenRequests(); len(f) != 0 {
		t.Errorf("forbidden GitLab endpoints reached: %+v", f)
	}
	t.Logf("GitLab backfill: %d GitLab calls, %d Jira calls, %d links", len(reqs), calls.Total, n)

	// Second run: no Jira write. Every list answers 304 except the merge
	// request list: the backfill moved its updated_after watermark, and an
	// ETag only answers the query it came from, so the new query's first
	// answer is one page of data (GitLab counts 304s against its rate limit
	// too, so this costs nothing extra). From the third run on, all 304.
	for run := 2; run <= 3; run++ {
		gl.ResetRequests()
		s.jira.ResetCalls()
		mustOK(t, s.sync(t))
		for _, r := range gl.Requests() {
			mrRefresh := run == 2 && strings.HasSuffix(r.Path, "/merge_requests") && strings.Contains(r.RawQuery, "updated_after=")
			if r.Status != http.StatusNotModified && !mrRefresh {
				t.Errorf("run %d: %s %s?%s → %d", run, r.Method, r.Path, r.RawQuery, r.Status)
			}
		}
		if w := s.jira.Calls().Writes; w != 0 {
			t.Errorf("run %d wrote %d times to Jira", run, w)
		}
	}
	diffLinks(t, want, jiraLinks(t, s.jira))
}
