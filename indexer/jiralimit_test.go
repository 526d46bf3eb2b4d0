package indexer

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// fakeClock is a manual clock for the limiter's latency measurements.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

// round runs one full round at the current limit: as many calls as the
// limit, all in flight together, each taking latency; fail, if set, is
// the first call's outcome.
func round(t *testing.T, l *JiraLimiter, c *fakeClock, latency time.Duration, fail error) {
	t.Helper()
	n := l.Limit()
	ps := make([]*permit, n)
	for i := range ps {
		_, p, err := l.acquire(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		ps[i] = p
	}
	c.advance(latency)
	for i, p := range ps {
		if i == 0 {
			p.done(fail)
		} else {
			p.done(nil)
		}
	}
}

func newTestLimiter(maxN int, budget func() httpx.RateLimit) (*JiraLimiter, *fakeClock) {
	c := &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	return NewJiraLimiter(JiraLimitOptions{Max: maxN, Now: c.now, Budget: budget, Initial: 1}), c
}

func TestJiraLimiterClimbsWhileLatencyIsFlat(t *testing.T) {
	l, c := newTestLimiter(8, nil)
	var seen []int
	for range 12 {
		seen = append(seen, l.Limit())
		round(t, l, c, 20*time.Millisecond, nil)
	}
	want := []int{1, 2, 3, 4, 5, 6, 7, 8, 8, 8, 8, 8}
	for i := range want {
		if seen[i] != want[i] {
			t.Fatalf("limits round by round = %v, want %v", seen, want)
		}
	}
}

func TestJiraLimiterDoesNotClimbWhenUnused(t *testing.T) {
	l, c := newTestLimiter(8, nil)
	round(t, l, c, 20*time.Millisecond, nil) // 1 → 2
	for range 10 {                           // one call at a time: never saturated
		_, p, _ := l.acquire(context.Background())
		c.advance(20 * time.Millisecond)
		p.done(nil)
	}
	if got := l.Limit(); got != 2 {
		t.Errorf("limit after sequential calls = %d, want 2 (no evidence that more helps)", got)
	}
}

func TestJiraLimiterHalvesOnThrottlingOncePerRound(t *testing.T) {
	l, c := newTestLimiter(8, nil)
	for l.Limit() < 8 {
		round(t, l, c, 20*time.Millisecond, nil)
	}
	// Every call of the round is answered 429: one decrease, not eight.
	throttled := &jiraclient.Error{Method: "POST", Path: "/rest/api/2/issue/X-1/remotelink", Status: http.StatusTooManyRequests}
	ps := make([]*permit, 8)
	for i := range ps {
		_, ps[i], _ = l.acquire(context.Background())
	}
	c.advance(20 * time.Millisecond)
	for _, p := range ps {
		p.done(throttled)
	}
	if got := l.Limit(); got != 4 {
		t.Fatalf("limit after a round of 429s = %d, want 4", got)
	}
	round(t, l, c, 20*time.Millisecond, &jiraclient.Error{Status: http.StatusServiceUnavailable})
	if got := l.Limit(); got != 2 {
		t.Fatalf("limit after a 503 = %d, want 2", got)
	}
	round(t, l, c, 20*time.Millisecond, &httpx.RateLimitError{System: "jira", Status: 429})
	round(t, l, c, 20*time.Millisecond, &httpx.RateLimitError{System: "jira", Status: 429})
	if got := l.Limit(); got != 1 {
		t.Fatalf("limit = %d, want the floor 1", got)
	}
	// A plain error (400) is no congestion, nor a latency sample.
	round(t, l, c, 20*time.Millisecond, &jiraclient.Error{Status: http.StatusBadRequest})
	if got := l.Limit(); got != 1 {
		t.Errorf("limit after a 400 = %d, want 1", got)
	}
	round(t, l, c, 20*time.Millisecond, nil)
	if got := l.Limit(); got != 2 {
		t.Errorf("limit after a clean round = %d, want 2", got)
	}
}

func TestJiraLimiterHalvesOnRisingLatency(t *testing.T) {
	l, c := newTestLimiter(16, nil)
	// Jira answers in 20 ms up to 4 calls in flight and queues the rest:
	// latency grows with every call beyond 4.
	latency := func(n int) time.Duration { return time.Duration(max(n, 4)) * 5 * time.Millisecond }
	var peak int
	for range 60 {
		n := l.Limit()
		peak = max(peak, n)
		round(t, l, c, latency(n), nil)
	}
	if peak >= 16 {
		t.Errorf("the limit reached the ceiling %d although latency rose past 4 in flight", peak)
	}
	if got := l.Limit(); got < 2 || got > 8 {
		t.Errorf("limit settled at %d, want near the knee of 4 (2..8)", got)
	}
}

func TestJiraLimiterHeaderCeiling(t *testing.T) {
	rl := httpx.RateLimit{Known: true, Limit: 100, Remaining: 100, FillRate: 10, Interval: time.Second}
	l, c := newTestLimiter(8, func() httpx.RateLimit { return rl })
	for range 20 {
		round(t, l, c, 250*time.Millisecond, nil)
	}
	// 10 requests/s at 250 ms each: 2 in flight send 8/s, 3 would send
	// 12/s, more than the bucket gains.
	if got := l.Limit(); got != 2 {
		t.Errorf("limit under a 10/s bucket at 250 ms = %d, want 2", got)
	}
	rl.Remaining = 0
	if got := l.Limit(); got != 1 {
		t.Errorf("limit with an empty bucket = %d, want 1", got)
	}
	rl = httpx.RateLimit{Known: true, Limit: 100, Remaining: 100}
	for range 20 {
		round(t, l, c, 200*time.Millisecond, nil)
	}
	if got := l.Limit(); got != 8 {
		t.Errorf("limit without a fill rate = %d, want the maximum 8", got)
	}
}

func TestJiraLimiterObserveAttempt(t *testing.T) {
	l, c := newTestLimiter(8, nil)
	for range 3 {
		round(t, l, c, 20*time.Millisecond, nil)
	}
	if got := l.Limit(); got != 4 {
		t.Fatalf("limit = %d, want 4", got)
	}
	ctx, p, _ := l.acquire(context.Background())
	req, _ := http.NewRequestWithContext(ctx, "POST", "http://jira/rest/api/2/issue/X-1/remotelink", nil)
	l.ObserveAttempt(req, http.StatusOK, nil)
	l.ObserveAttempt(req, http.StatusTooManyRequests, nil) // retried by the transport, then...
	c.advance(time.Second)
	p.done(nil) // ...the call succeeded
	if got := l.Limit(); got != 2 {
		t.Errorf("limit after a retried 429 = %d, want 2", got)
	}
	// An attempt of a call the limiter did not admit changes nothing.
	other, _ := http.NewRequest("GET", "http://jira/rest/api/2/project", nil)
	l.ObserveAttempt(other, http.StatusServiceUnavailable, nil)
	if got := l.Limit(); got != 2 {
		t.Errorf("limit = %d, want 2", got)
	}
}

func TestJiraLimiterWaitsAndCancels(t *testing.T) {
	l, _ := newTestLimiter(8, nil)
	_, p, _ := l.acquire(context.Background())
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error)
	go func() {
		_, _, err := l.acquire(ctx)
		errc <- err
	}()
	got := make(chan *permit)
	go func() {
		// Queued behind the first waiter.
		for {
			l.mu.Lock()
			n := len(l.waiters)
			l.mu.Unlock()
			if n == 1 {
				break
			}
			time.Sleep(time.Millisecond)
		}
		_, q, _ := l.acquire(context.Background())
		got <- q
	}()
	for {
		l.mu.Lock()
		n := len(l.waiters)
		l.mu.Unlock()
		if n == 2 {
			break
		}
		time.Sleep(time.Millisecond)
	}
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled acquire = %v", err)
	}
	p.done(nil)
	q := <-got
	q.done(nil)
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.inflight != 0 || len(l.waiters) != 0 {
		t.Errorf("inflight %d, waiters %d after all calls ended", l.inflight, len(l.waiters))
	}
}

// TestLimiterKeepsASlotForFreshWork: backfill calls never hold every slot,
// and a fresh call waiting goes before backfill calls that waited longer.
func TestLimiterKeepsASlotForFreshWork(t *testing.T) {
	l := NewJiraLimiter(JiraLimitOptions{Max: 3, Initial: 3})
	bf := httpx.WithBackfill(context.Background())
	release := make(chan struct{})
	started := make(chan string, 10)
	var wg sync.WaitGroup
	run := func(ctx context.Context, name string) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = l.Do(ctx, func(context.Context) error {
				started <- name
				<-release
				return nil
			})
		}()
	}
	for i := range 4 {
		run(bf, fmt.Sprintf("backfill-%d", i))
	}
	got := map[string]bool{}
	for range 2 {
		got[<-started] = true
	}
	select {
	case n := <-started:
		t.Fatalf("%s started: backfill calls hold every slot", n)
	case <-time.After(50 * time.Millisecond):
	}
	run(context.Background(), "fresh-1") // the free slot
	if n := <-started; n != "fresh-1" {
		t.Fatalf("%s started, want the fresh call in the slot kept for it", n)
	}
	run(context.Background(), "fresh-2") // waits behind nothing but a full house
	time.Sleep(20 * time.Millisecond)
	release <- struct{}{} // one call ends: its slot goes to the fresh waiter
	if n := <-started; n != "fresh-2" {
		t.Errorf("%s got the freed slot, want the waiting fresh call", n)
	}
	close(release)
	wg.Wait()
}
