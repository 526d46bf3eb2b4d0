package main

// jirabench.go: scenario (d), Jira write throughput under the adaptive
// limiter against a fixed bound.

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

const (
	// jiraBenchRun is how long each configuration writes links.
	jiraBenchRun = 4 * time.Second
	// jiraBenchWorkers is how many writes wait for a slot at once (a
	// backfill of many repos): enough to fill any limit.
	jiraBenchWorkers = 32
	// jiraBenchKnee is the fake Jira's worker pool: beyond this many
	// requests in flight, responses slow down.
	jiraBenchKnee = 12
)

// jiraBenchCase is one configuration of scenario (d).
type jiraBenchCase struct {
	latency  time.Duration
	throttle bool // a Jira DC token bucket below what 4 in flight would send
	adaptive bool // the limiter up to 8; else a fixed bound of 4 (the old default)
}

// scaleJira is scenario (d): link writes per second through the Jira
// client, with the adaptive limiter (max 8) and with the fixed bound of 4
// that preceded it, at 20 ms and 100 ms Jira latency, with and without a
// rate limit that answers 429.
func scaleJira(ctx context.Context, out io.Writer) error {
	fmt.Fprintf(out, "\n(d) Jira link writes per second: %d writers, %s per run; the fake Jira slows down beyond %d requests in flight;\n",
		jiraBenchWorkers, jiraBenchRun, jiraBenchKnee)
	fmt.Fprintln(out, "    \"429\": a Data Center token bucket filling (once a second, up to one second's worth) at 3/4 of what 4 in flight would send, 429 + Retry-After when empty")
	fmt.Fprintln(out)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "Jira latency\trate limit\tconcurrency\tlinks/s\t429s\tfinal limit\t")
	for _, lat := range []time.Duration{20 * time.Millisecond, 100 * time.Millisecond} {
		for _, throttle := range []bool{false, true} {
			for _, adaptive := range []bool{false, true} {
				c := jiraBenchCase{latency: lat, throttle: throttle, adaptive: adaptive}
				r, err := c.run(ctx)
				if err != nil {
					return err
				}
				rl, mode, final := "none", "fixed 4", "-"
				if throttle {
					rl = fmt.Sprintf("429 (fill %d/s)", c.fillRate())
				}
				if adaptive {
					mode, final = "adaptive ≤ 8", fmt.Sprint(r.limit)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%d\t%s\t\n", lat, rl, mode, r.perSecond, r.throttled, final)
			}
		}
	}
	return tw.Flush()
}

// fillRate is the bucket's fill rate: 3/4 of what 4 calls in flight send.
func (c jiraBenchCase) fillRate() int {
	return int(3 * time.Second / c.latency)
}

type jiraBenchResult struct {
	perSecond float64
	throttled int
	limit     int
}

func (c jiraBenchCase) run(ctx context.Context) (jiraBenchResult, error) {
	fake := jiratest.NewServer(jiratest.Options{Token: demoJiraToken, IssueExists: jiratest.AllIssues,
		Projects: []jiratest.Project{{ID: "10000", Key: "BENCH", Name: "Bench"}}})
	fake.SetLoad(jiratest.Load{Latency: c.latency, Knee: jiraBenchKnee})
	if c.throttle {
		fake.SetRateLimit(jiratest.RateLimit{Capacity: c.fillRate(), FillRate: c.fillRate(), Interval: time.Second})
	}
	srv, u, err := serve(fake.Handler())
	if err != nil {
		return jiraBenchResult{}, err
	}
	defer srv.Close()

	var lim *indexer.JiraLimiter
	var jc *jiraclient.Client
	retry := httpx.RetryOptions{Pace: true}
	if c.adaptive {
		lim = indexer.NewJiraLimiter(indexer.JiraLimitOptions{Max: 8, Budget: func() httpx.RateLimit { return jc.RateLimit() }})
		retry.Observe = lim.ObserveAttempt
	}
	jc, err = jiraclient.New(jiraclient.Options{BaseURL: u, Auth: jiraclient.Auth{Token: demoJiraToken}, Deployment: jiraclient.DeploymentDataCenter,
		Retry: retry})
	if err != nil {
		return jiraBenchResult{}, err
	}
	fixed := make(chan struct{}, 4)
	do := func(ctx context.Context, f func(context.Context) error) error {
		if lim != nil {
			return lim.Do(ctx, f)
		}
		fixed <- struct{}{}
		defer func() { <-fixed }()
		return f(ctx)
	}

	ctx, cancel := context.WithTimeout(ctx, jiraBenchRun)
	defer cancel()
	var next, written atomic.Int64
	var wg sync.WaitGroup
	start := time.Now()
	for range jiraBenchWorkers {
		wg.Go(func() {
			for ctx.Err() == nil {
				n := next.Add(1)
				link := jiraclient.RemoteLink{GlobalID: fmt.Sprintf("bench/%d", n),
					Object: jiraclient.Object{URL: fmt.Sprintf("https://example.com/commit/%d", n), Title: fmt.Sprintf("commit %d", n)}}
				err := do(ctx, func(ctx context.Context) error {
					_, err := jc.UpsertRemoteLink(ctx, fmt.Sprintf("BENCH-%d", n%500+1), link)
					return err
				})
				if err == nil {
					written.Add(1)
				}
			}
		})
	}
	wg.Wait()
	r := jiraBenchResult{perSecond: float64(written.Load()) / time.Since(start).Seconds(), throttled: fake.Throttled()}
	if lim != nil {
		r.limit = lim.Limit()
	}
	return r, nil
}
