package indexer_test

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// oddIssues makes the issues with an odd number exist.
func oddIssues(key string) bool {
	_, n, _ := strings.Cut(key, "-")
	i, err := strconv.Atoi(n)
	return err == nil && i%2 == 1
}

// A pass over many small repos checks their keys together: one search per
// 100 unknown keys of the pass, not one per repo, and links exactly.
func TestKeyChecksBatchedAcrossRepos(t *testing.T) {
	const repos, perRepo = 300, 3
	gh := githubtest.Start(t, githubtest.Options{Token: ghToken})
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	want := map[string]map[string]bool{}
	for i := range repos {
		b := corpus.NewBuilder()
		var parents []string
		var shas []string
		for j := range perRepo {
			sha := b.Commit(parents, fmt.Sprintf("HADOOP-%d: change %d of service %d", i*perRepo+j+1, j, i), at.Add(time.Duration(j)*time.Minute))
			parents, shas = []string{sha}, append(shas, sha)
		}
		b.Branch("main", parents[0])
		id := int64(50_000 + i)
		gh.AddCorpusRepo("fleet", fmt.Sprintf("svc-%03d", i), id, b.Build())
		for j, sha := range shas {
			if k := fmt.Sprintf("HADOOP-%d", i*perRepo+j+1); oddIssues(k) {
				want[k] = map[string]bool{indexer.GlobalID(state.RepoKey{Provider: "github", ID: id}, indexer.KindCommit, sha): true}
			}
		}
	}
	s := &stack{provider: "github", gh: gh}
	s.jira = jiratest.Start(t, jiratest.Options{Token: jiraToken, IssueExists: oddIssues})
	s.openCommon(t)
	gc, err := github.New(github.Options{Name: "github", BaseURL: gh.URL(), Token: ghToken, Retry: httpx.RetryOptions{Sleep: noSleep}})
	if err != nil {
		t.Fatal(err)
	}
	s.tgt = indexer.Target{Name: "github", Type: providers.TypeGitHub, Source: gc, Owners: []string{"fleet"}, MaxConcurrency: 4}
	// No safety-net search while repos still list, however slow the
	// machine: the count below is then exact.
	s.ix, err = indexer.New(indexer.Options{Store: s.store, Jira: s.jc, Matcher: s.m, KeyCheckMaxWait: time.Hour})
	if err != nil {
		t.Fatal(err)
	}

	mustOK(t, s.sync(t))
	unknown := repos * perRepo
	if got, wantN := s.jira.Calls().Searches, (unknown+99)/100; got != wantN {
		t.Errorf("%d JQL searches for %d unknown keys in %d repos, want ⌈%d/100⌉ = %d", got, unknown, repos, unknown, wantN)
	}
	diffLinks(t, want, jiraLinks(t, s.jira))

	// The next pass finds one new repo: its one key, one search; the
	// known keys come from the cache.
	s.jira.ResetCalls()
	gh.AddCorpusRepo("fleet", "svc-late", 59_999, tinyRepo(at, "HADOOP-100001: late service"))
	mustOK(t, s.sync(t))
	if got := s.jira.Calls().Searches; got != 1 {
		t.Errorf("second pass: %d searches, want 1 (one new key)", got)
	}
	if len(s.jira.Links("HADOOP-100001")) != 1 {
		t.Errorf("the new repo's commit is not linked")
	}
}

// tinyRepo is one commit on main with message msg.
func tinyRepo(at time.Time, msg string) *corpus.History {
	b := corpus.NewBuilder()
	b.Branch("main", b.Commit(nil, msg, at))
	return b.Build()
}

// The adaptive limiter end to end: against a Jira that rate limits by a
// token bucket (Data Center's headers) and answers some writes 429, the
// backfill links exactly, never sends faster than the bucket fills, and
// never has more than the maximum in flight.
func TestJiraLimiterAgainstJira(t *testing.T) {
	hist, err := corpus.ZooKeeper()
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, hist, nil)
	var lim *indexer.JiraLimiter
	s.jc, err = jiraclient.New(jiraclient.Options{BaseURL: s.jira.URL(), Auth: jiraclient.Auth{Token: jiraToken},
		Retry: httpx.RetryOptions{Sleep: noSleep, Observe: func(r *http.Request, status int, err error) { lim.ObserveAttempt(r, status, err) }}})
	if err != nil {
		t.Fatal(err)
	}
	lim = indexer.NewJiraLimiter(indexer.JiraLimitOptions{Max: 8, Budget: s.jc.RateLimit})
	ix, err := indexer.New(indexer.Options{Store: s.store, Jira: s.jc, Matcher: s.m, JiraLimiter: lim})
	if err != nil {
		t.Fatal(err)
	}
	s.ix = ix
	// 1,000 requests/s, at ≥ 2 ms each: ⌊1,000 × latency⌋ in flight keep
	// below the fill rate (more would empty the bucket and get 429s),
	// however slow the machine makes each request.
	s.jira.SetLoad(jiratest.Load{Latency: 2 * time.Millisecond})
	s.jira.SetRateLimit(jiratest.RateLimit{Capacity: 1500, FillRate: 1000, Interval: time.Second})
	// Two upserts answered 429 with Retry-After, as Jira does when the
	// bucket is empty: retried (no wait in tests), and the limit halves.
	s.jira.FailNext(jiratest.RouteRemoteLinkUpsert, 2, http.StatusTooManyRequests,
		http.Header{"Retry-After": {"1"}}, `{"errorMessages":["Rate limit exceeded."]}`)

	mustOK(t, s.sync(t))
	diffLinks(t, expectedLinks(t, s), jiraLinks(t, s.jira))
	if n := s.jira.Throttled(); n > 0 {
		t.Errorf("the rate limit answered %d requests 429: the limiter sent faster than the bucket fills", n)
	}
	if peak := s.jira.PeakInFlight(); peak > 8 {
		t.Errorf("Jira saw %d requests at once, more than jira.max_concurrency 8", peak)
	}
}
