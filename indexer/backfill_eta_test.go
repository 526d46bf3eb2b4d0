package indexer_test

// backfill_eta_test.go: how honest the backfill ETA is. A simulated
// backfill — the real indexer, the fake GitHub and Jira, a simulated clock
// (every provider request takes 50 ms of it; rate-limit waits advance it)
// — records the ETA the status snapshot shows at 10%, 50% and 90% of the
// commits listed and compares it with when the backfill really ends.

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/keys"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/indexer/status"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// simClock is a clock that only moves when told.
type simClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *simClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *simClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func (c *simClock) Sleep(_ context.Context, d time.Duration) error {
	c.Advance(d)
	return nil
}

// latencyTransport charges every request latency of simulated time.
type latencyTransport struct {
	clk     *simClock
	latency time.Duration
}

func (l latencyTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	l.clk.Advance(l.latency)
	return http.DefaultTransport.RoundTrip(r)
}

// simulation is what a simulated backfill runs on: the state, the Jira
// client and matcher, and a GitHub client whose requests go through
// transport, on the simulated clock (now, sleep), the backfill share
// enforced as in production.
type simulation struct {
	jira  *jiratest.Server
	store *boltstore.Store
	jc    *jiraclient.Client
	m     *keys.Matcher
	gc    *github.Client
}

func newSimulation(tb testing.TB, gh *githubtest.Server, transport http.RoundTripper, now func() time.Time, sleep func(context.Context, time.Duration) error) simulation {
	tb.Helper()
	var s simulation
	var err error
	s.jira = jiratest.Start(tb, jiratest.Options{Token: jiraToken, IssueExists: jiratest.DemoIssues})
	if s.store, err = boltstore.Open(filepath.Join(tb.TempDir(), "state.db"), time.Second); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.store.Close() })
	if s.jc, err = jiraclient.New(jiraclient.Options{BaseURL: s.jira.URL(), Auth: jiraclient.Auth{Token: jiraToken}, Retry: httpx.RetryOptions{Sleep: noSleep}}); err != nil {
		tb.Fatal(err)
	}
	if s.m, err = keys.NewMatcher("", true); err != nil {
		tb.Fatal(err)
	}
	if s.gc, err = github.New(github.Options{Name: "github", BaseURL: gh.URL(), Token: ghToken, HTTPClient: &http.Client{Transport: transport},
		Retry: httpx.RetryOptions{Now: now, Sleep: sleep, Pace: true, BackfillShare: etaShare}}); err != nil {
		tb.Fatal(err)
	}
	return s
}

// etaScenario is one simulated backfill.
type etaScenario struct {
	repos, commits int           // repos of commits each (default branch)
	spread         bool          // sizes spread from commits/4 to 7/4·commits instead of equal
	budget         int           // provider calls per hour
	latency        time.Duration // per provider call
	full           bool          // run only with JIRALINKD_BENCH_FULL=1
}

// etaPoint is the ETA shown at one point of a backfill.
type etaPoint struct {
	progress  float64       // commits listed / all, when sampled
	at        time.Duration // since the backfill began
	eta       time.Duration
	known     bool
	actualETA time.Duration // the time it really still took
}

// errPct is the ETA's error relative to the time really left.
func (p etaPoint) errPct() float64 {
	return 100 * (p.eta.Seconds() - p.actualETA.Seconds()) / p.actualETA.Seconds()
}

// runETAScenario runs one backfill and returns the ETA at 10%, 50% and 90%
// and the backfill's length (simulated).
func runETAScenario(tb testing.TB, sc etaScenario) ([]etaPoint, time.Duration) {
	tb.Helper()
	// The simulated time is years behind the real one: go-github's own
	// rate-limit check (real clock) must never wait for a simulated reset.
	clk := &simClock{t: time.Date(2020, 1, 6, 9, 0, 0, 0, time.UTC)}
	gh := githubtest.Start(tb, githubtest.Options{Token: ghToken, RateLimit: sc.budget, Now: clk.Now})
	gh.AddOrg("acme")
	at := time.Date(2019, 1, 1, 0, 0, 0, 0, time.UTC)
	total := 0
	for i := range sc.repos {
		n := sc.commits
		if sc.spread {
			n = sc.commits/4 + (i*7919)%(sc.commits*3/2) // a fixed scatter of sizes, mean ≈ commits
		}
		b := corpus.NewBuilder()
		head := ""
		for j := range n {
			msg := fmt.Sprintf("change %d", j)
			if j%10 == 0 {
				msg = fmt.Sprintf("ZOOKEEPER-%d: change %d", 1+j%5000, j)
			}
			var parents []string
			if head != "" {
				parents = []string{head}
			}
			head = b.Commit(parents, msg, at.Add(time.Duration(j)*time.Minute))
		}
		b.Branch("main", head)
		total += n
		gh.AddCorpusRepo("acme", fmt.Sprintf("repo%03d", i), int64(5000+i), b.Build()).SetDefaultBranch("main")
	}
	sim := newSimulation(tb, gh, latencyTransport{clk: clk, latency: sc.latency}, clk.Now, clk.Sleep)
	store, jc, m, gc := sim.store, sim.jc, sim.m, sim.gc
	tgt := indexer.Target{Name: "github", Type: providers.TypeGitHub, Source: gc, Owners: []string{"acme"}}

	start := clk.Now()
	var points []etaPoint
	var ix *indexer.Indexer
	listed := 0 // commits listed by finished repos
	thresholds := []float64{0.10, 0.50, 0.90}
	sample := func(current int) {
		p := float64(listed+current) / float64(total)
		if len(thresholds) == 0 || p < thresholds[0] {
			return
		}
		thresholds = thresholds[1:]
		repos, err := store.Repos()
		if err != nil {
			tb.Fatal(err)
		}
		rl := gc.RateLimit()
		now := clk.Now()
		b := status.BuildBackfill(status.BackfillInput{Now: now, Repos: repos, Queued: ix.BackfillQueued(), Shares: map[string]float64{"github": etaShare},
			Budgets: map[string]status.RateLimit{"github": {Known: rl.Known, Limit: rl.Limit, Remaining: rl.Remaining, Reset: rl.Reset}},
			Types:   map[string]string{"github": "github"}})
		pt := etaPoint{progress: p, at: now.Sub(start)}
		if b != nil {
			pt.eta, pt.known = b.Overall.ETA, b.Overall.ETAKnown
		}
		points = append(points, pt)
	}
	ix, err := indexer.New(indexer.Options{Store: store, Jira: jc, Matcher: m, Now: clk.Now,
		Progress:   func(p indexer.Progress) { sample(p.Commits) },
		OnRepoDone: func(_ state.RepoKey, r indexer.RepoReport) { listed += r.Commits; sample(0) },
	})
	if err != nil {
		tb.Fatal(err)
	}
	if rep := ix.Sync(context.Background(), tgt, ""); rep.Failed() > 0 {
		tb.Fatalf("backfill failed: %v", rep.Err)
	}
	took := clk.Now().Sub(start)
	for i := range points {
		points[i].actualETA = took - points[i].at
	}
	return points, took
}

// etaShare is the backfill's share of the budget in the simulations: the
// default backfill_budget_share, enforced by the retry transport as in
// production.
const etaShare = 0.7

// BenchmarkBackfillETA prints the ETA's error at 10%, 50% and 90% of
// simulated backfills (the ns/op is the real time one takes, not a figure
// of jiralinkd). eta_err_N% is (ETA shown − time really left) / time
// really left, in percent: positive is pessimistic.
func BenchmarkBackfillETA(b *testing.B) {
	for _, tc := range []struct {
		name string
		sc   etaScenario
	}{
		// The issue's figure: 500 repos × 2,000 commits, 5,000 calls/h
		// (about 70 s and 1 GB: only with JIRALINKD_BENCH_FULL=1, as
		// make bench sets it).
		{"500x2000_5000perh", etaScenario{repos: 500, commits: 2000, budget: 5000, latency: 50 * time.Millisecond, full: true}},
		// The budget binds: 50 × 2,000 commits need ~1,200 calls, 2.4
		// windows of a 500/h budget: the ratio of 500 repos at 5,000/h.
		{"50x2000_500perh", etaScenario{repos: 50, commits: 2000, budget: 500, latency: 50 * time.Millisecond}},
		// Sizes from 500 to 3,500 (mean 2,000): the queued repos are
		// estimated at the mean of those sized so far.
		{"50x2000spread_500perh", etaScenario{repos: 50, commits: 2000, spread: true, budget: 500, latency: 50 * time.Millisecond}},
		// The budget does not bind: the listing rate does.
		{"50x2000_5000perh", etaScenario{repos: 50, commits: 2000, budget: 5000, latency: 50 * time.Millisecond}},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if tc.sc.full && os.Getenv("JIRALINKD_BENCH_FULL") == "" {
				b.Skip("JIRALINKD_BENCH_FULL not set")
			}
			for range b.N {
				points, took := runETAScenario(b, tc.sc)
				b.ReportMetric(took.Hours(), "sim_hours")
				for _, p := range points {
					if !p.known {
						b.Logf("%.0f%%: ETA unknown", 100*p.progress)
						continue
					}
					b.ReportMetric(p.errPct(), fmt.Sprintf("eta_err_%.0f%%", 100*p.progress))
					b.Logf("at %.0f%% (%s in): ETA %s, really %s: error %+.1f%%", 100*p.progress, p.at.Round(time.Second),
						p.eta.Round(time.Second), p.actualETA.Round(time.Second), p.errPct())
				}
			}
		})
	}
}

// TestBackfillETAIsHonest: on a small budget-bound backfill (the backfill
// share enforced as in production), the ETA shown at 10%, 50% and 90% is
// within a third of the time really left.
func TestBackfillETAIsHonest(t *testing.T) {
	if testing.Short() {
		t.Skip("simulated backfill")
	}
	points, took := runETAScenario(t, etaScenario{repos: 12, commits: 1000, budget: 60, latency: 50 * time.Millisecond})
	if len(points) != 3 {
		t.Fatalf("sampled %d points", len(points))
	}
	for _, p := range points {
		t.Logf("at %.0f%% (%s of %s): ETA %s, really %s (%+.1f%%)", 100*p.progress, p.at.Round(time.Second), took.Round(time.Second),
			p.eta.Round(time.Second), p.actualETA.Round(time.Second), p.errPct())
		// Within a third of the time really left, or of two seconds when
		// the backfill is about to end.
		if off := (p.eta - p.actualETA).Abs(); !p.known || off > max(p.actualETA/3, 2*time.Second) {
			t.Errorf("at %.0f%%: ETA %s (known %v), really %s", 100*p.progress, p.eta, p.known, p.actualETA)
		}
	}
}
