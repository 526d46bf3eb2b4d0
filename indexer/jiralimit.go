package indexer

// jiralimit.go: adaptive concurrency of Jira calls (AIMD).

import (
	"context"
	"errors"
	"math"
	"net/http"
	"sync"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// DefaultJiraMaxConcurrency is the default ceiling of concurrent Jira calls
// (jira.max_concurrency).
const DefaultJiraMaxConcurrency = 8

const (
	// latencyRise is how much the recent latency may exceed the baseline
	// before the limit counts as too high: a Jira that queues requests
	// answers each later, and more concurrency then buys no throughput.
	latencyRise = 1.5
	// ewmaWeight is the weight of a new latency sample in the recent
	// latency.
	ewmaWeight = 0.25
)

// JiraLimitOptions configures NewJiraLimiter.
type JiraLimitOptions struct {
	// Max is the ceiling of the limit (jira.max_concurrency); default
	// DefaultJiraMaxConcurrency.
	Max int
	// Budget, if set, is Jira's latest rate-limit report (the client's
	// RateLimit). The limit never goes above what it allows; see
	// JiraLimiter.
	Budget func() httpx.RateLimit
	// Now is the clock latencies are measured with; default time.Now.
	Now func() time.Time
	// Initial is the limit to start from, at most Max; default
	// DefaultJiraInitialConcurrency. Starting at 1 would let one slow call
	// (a Jira request waiting out its timeout) hold up every other repo's
	// Jira calls until the limit has climbed.
	Initial int
}

// DefaultJiraInitialConcurrency is the limit a JiraLimiter starts from:
// the fixed bound earlier versions used, which Jira Data Center handles.
const DefaultJiraInitialConcurrency = 4

// JiraLimiter bounds concurrent Jira calls and adapts the bound to how Jira
// copes (additive increase, multiplicative decrease):
//
//   - it starts at Initial (4) and, after a round of calls (as many as the limit)
//     that used every slot and whose latency stayed flat, allows one more;
//   - a 429 or 5xx answer (seen by ObserveAttempt, or as a call's error),
//     or a recent latency (an EWMA) more than latencyRise times the
//     baseline measured at the lower limit, halves it, at most once per
//     round: signals from calls started before the last decrease are
//     stale;
//   - it stays between 1 and Max, and never above what Jira's rate-limit
//     headers allow: with a token bucket (Jira Data Center 8.6+) filling at
//     R requests per second and calls taking L seconds, more than ⌊R·L⌋
//     calls in flight (at least 1) would send faster than it fills; nor
//     above the tokens Remaining when they are fewer.
//
// One limiter is shared by every indexer of a process (passes and webhook
// syncs), so together they cannot flood Jira. It is safe for concurrent use.
type JiraLimiter struct {
	max    int
	budget func() httpx.RateLimit
	now    func() time.Time

	mu       sync.Mutex
	limit    int
	inflight int
	// backfill counts the calls in flight of backfills (httpx.WithBackfill
	// contexts): they may hold all slots but one, and wait behind every
	// other call, so a backfill never keeps fresh work from Jira.
	backfill int
	waiters  []waiter
	epoch    int // bumped by every decrease
	// round: completions since the last change, and whether every slot
	// was taken during it.
	done      int
	saturated bool
	recent    time.Duration // latency EWMA; 0 before the first sample
	baseline  time.Duration // recent latency at the lower limit of this climb; 0: not measured
}

// NewJiraLimiter returns a limiter at its initial limit.
func NewJiraLimiter(o JiraLimitOptions) *JiraLimiter {
	if o.Max <= 0 {
		o.Max = DefaultJiraMaxConcurrency
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Initial <= 0 {
		o.Initial = DefaultJiraInitialConcurrency
	}
	return &JiraLimiter{max: o.Max, budget: o.Budget, now: o.Now, limit: min(o.Initial, o.Max)}
}

// Limit is the current bound (the jiralinkd_jira_concurrency gauge).
func (l *JiraLimiter) Limit() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.effective()
}

// effective is the limit under the rate-limit headers' ceiling; l.mu is
// held.
func (l *JiraLimiter) effective() int {
	return max(1, min(l.limit, l.headerCeiling()))
}

// headerCeiling is the most calls in flight Jira's last rate-limit report
// allows (l.max without one); l.mu is held.
func (l *JiraLimiter) headerCeiling() int {
	if l.budget == nil {
		return l.max
	}
	rl := l.budget()
	if !rl.Known {
		return l.max
	}
	ceiling := l.max
	if r := rl.Sustained(); r > 0 && l.recent > 0 {
		ceiling = min(ceiling, max(1, int(math.Floor(r*l.recent.Seconds()))))
	}
	if rl.Remaining < ceiling {
		ceiling = max(1, rl.Remaining)
	}
	return ceiling
}

// Do runs the Jira call f once a slot is free and adjusts the limit by how
// it went: f's error, its latency, and the HTTP attempts ObserveAttempt
// saw under the context f is given (pass it on to the Jira client).
func (l *JiraLimiter) Do(ctx context.Context, f func(ctx context.Context) error) error {
	ctx, p, err := l.acquire(ctx)
	if err != nil {
		return err
	}
	err = f(ctx)
	p.done(err)
	return err
}

// waiter is a call waiting for a slot; ch is closed when it gets one.
type waiter struct {
	ch       chan struct{}
	backfill bool
}

// permit is one admitted call.
type permit struct {
	l        *JiraLimiter
	backfill bool
	epoch    int
	start    time.Time
	mu       sync.Mutex
	congest  bool // an attempt was answered 429 or 5xx
}

type permitKey struct{}

// acquire waits for a slot; the returned context carries the permit, so
// that ObserveAttempt can tell which call an HTTP attempt belongs to.
// Fresh calls go before backfill ones, whatever their order.
func (l *JiraLimiter) acquire(ctx context.Context) (context.Context, *permit, error) {
	bf := httpx.IsBackfill(ctx)
	l.mu.Lock()
	if l.admissible(bf, l.effective()) && !l.queuedAhead(bf) {
		l.take(bf)
		return l.admit(ctx, bf)
	}
	w := waiter{ch: make(chan struct{}), backfill: bf}
	l.waiters = append(l.waiters, w)
	l.saturated = true
	l.mu.Unlock()
	select {
	case <-w.ch:
		l.mu.Lock()
		return l.admit(ctx, bf)
	case <-ctx.Done():
		l.mu.Lock()
		defer l.mu.Unlock()
		for i, o := range l.waiters {
			if o.ch == w.ch {
				l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
				return ctx, nil, ctx.Err()
			}
		}
		l.releaseLocked(bf) // handed a slot as ctx ended: pass it on
		return ctx, nil, ctx.Err()
	}
}

// admissible reports whether a call (of a backfill, or not) may take a
// slot now, under the effective limit eff; l.mu is held.
func (l *JiraLimiter) admissible(backfill bool, eff int) bool {
	if l.inflight >= eff {
		return false
	}
	return !backfill || l.backfill < max(1, eff-1)
}

// queuedAhead reports whether a call of this kind must queue behind
// waiters: a fresh call behind fresh ones, a backfill call behind any;
// l.mu is held.
func (l *JiraLimiter) queuedAhead(backfill bool) bool {
	for _, w := range l.waiters {
		if backfill || !w.backfill {
			return true
		}
	}
	return false
}

// take counts a call into a slot; l.mu is held.
func (l *JiraLimiter) take(backfill bool) {
	l.inflight++
	if backfill {
		l.backfill++
	}
}

// admit starts a call in a slot already counted by take; l.mu is held and
// released.
func (l *JiraLimiter) admit(ctx context.Context, backfill bool) (context.Context, *permit, error) {
	if l.inflight >= l.effective() {
		l.saturated = true
	}
	p := &permit{l: l, backfill: backfill, epoch: l.epoch, start: l.now()}
	l.mu.Unlock()
	return context.WithValue(ctx, permitKey{}, p), p, nil
}

// releaseLocked frees a slot of a call (of a backfill, or not) and hands
// free slots to waiters: fresh ones first, in order, then backfill ones;
// l.mu is held.
func (l *JiraLimiter) releaseLocked(backfill bool) {
	l.inflight--
	if backfill {
		l.backfill--
	}
	eff := l.effective() // (it reads the budget: once, not per waiter)
	for _, serveBackfill := range []bool{false, true} {
		for i := 0; i < len(l.waiters); {
			w := l.waiters[i]
			if w.backfill != serveBackfill || !l.admissible(w.backfill, eff) {
				i++
				continue
			}
			l.waiters = append(l.waiters[:i], l.waiters[i+1:]...)
			l.take(w.backfill)
			close(w.ch)
		}
	}
}

// ObserveAttempt feeds the limiter one HTTP attempt of a Jira call (an
// httpx.RetryOptions.Observe hook): a 429 or 5xx answer is congestion even
// when the retry transport later succeeds.
func (l *JiraLimiter) ObserveAttempt(req *http.Request, status int, _ error) {
	if status != http.StatusTooManyRequests && status < 500 {
		return
	}
	if p, ok := req.Context().Value(permitKey{}).(*permit); ok && p.l == l {
		p.mu.Lock()
		p.congest = true
		p.mu.Unlock()
	}
}

// done ends a call: its latency and outcome adjust the limit.
func (p *permit) done(err error) {
	l := p.l
	p.mu.Lock()
	congested := p.congest || congestion(err)
	p.mu.Unlock()
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case congested:
		l.decrease(p.epoch)
	case err == nil || errors.Is(err, jiraclient.ErrNotFound):
		// A call that waited out a retry measures the wait, not Jira.
		l.sample(l.now().Sub(p.start), p.epoch)
	}
	l.releaseLocked(p.backfill)
}

// congestion reports whether a call's error says Jira is overloaded.
func congestion(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, providers.ErrRateLimited) {
		return true
	}
	var je *jiraclient.Error
	return errors.As(err, &je) && (je.Status == http.StatusTooManyRequests || je.Status >= 500)
}

// sample records a latency and, at the end of a round, raises or lowers
// the limit; l.mu is held.
func (l *JiraLimiter) sample(d time.Duration, epoch int) {
	if l.recent == 0 {
		l.recent = d
	} else {
		l.recent = time.Duration(ewmaWeight*float64(d) + (1-ewmaWeight)*float64(l.recent))
	}
	if l.baseline > 0 && l.recent < l.baseline {
		l.baseline = l.recent // Jira got faster: the old baseline is moot
	}
	if epoch != l.epoch {
		return // started before the last decrease: not this round's
	}
	l.done++
	if l.done < l.limit {
		return
	}
	switch {
	case l.baseline > 0 && float64(l.recent) > latencyRise*float64(l.baseline):
		l.decrease(l.epoch)
	case l.saturated && l.limit < l.max && l.limit < l.headerCeiling():
		if l.baseline == 0 {
			l.baseline = l.recent
		}
		l.limit++
		l.done, l.saturated = 0, l.inflight >= l.limit
	default:
		l.done, l.saturated = 0, false
	}
}

// decrease halves the limit for a congestion signal of a call started in
// epoch, once per round; l.mu is held.
func (l *JiraLimiter) decrease(epoch int) {
	if epoch != l.epoch {
		return
	}
	l.limit = max(1, l.limit/2)
	l.epoch++
	l.done, l.saturated, l.baseline = 0, false, 0
}
