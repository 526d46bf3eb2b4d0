package jiratest_test

import (
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
)

func TestRateLimitTokenBucket(t *testing.T) {
	s := jiratest.Start(t, jiratest.Options{Token: token})
	s.SetRateLimit(jiratest.RateLimit{Capacity: 2, FillRate: 1, Interval: time.Hour})
	for i, want := range []struct {
		status    int
		remaining string
	}{{200, "1"}, {200, "0"}, {429, "0"}} {
		r := call(t, "GET", s.URL()+"/rest/api/2/serverInfo", "")
		if r.status != want.status || r.header.Get("X-RateLimit-Remaining") != want.remaining ||
			r.header.Get("X-RateLimit-Limit") != "2" || r.header.Get("X-RateLimit-FillRate") != "1" ||
			r.header.Get("X-RateLimit-Interval-Seconds") != "3600" {
			t.Fatalf("request %d: %d %v, want %d with remaining %s", i, r.status, r.header, want.status, want.remaining)
		}
		if want.status == 429 && r.header.Get("Retry-After") == "0" {
			t.Errorf("429 without a wait: Retry-After %q", r.header.Get("Retry-After"))
		}
	}
	if s.Throttled() != 1 || s.Calls().Total != 3 {
		t.Errorf("throttled %d of %d requests, want 1 of 3", s.Throttled(), s.Calls().Total)
	}
	s.SetRateLimit(jiratest.RateLimit{})
	if r := call(t, "GET", s.URL()+"/rest/api/2/serverInfo", ""); r.status != 200 || r.header.Get("X-RateLimit-Limit") != "" {
		t.Errorf("rate limit off: %d %v", r.status, r.header)
	}
}

func TestLoadLatencyOverlaps(t *testing.T) {
	s := jiratest.Start(t, jiratest.Options{Token: token})
	s.SetLoad(jiratest.Load{Latency: 100 * time.Millisecond})
	start := time.Now()
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { call(t, "GET", s.URL()+"/rest/api/2/serverInfo", "") })
	}
	wg.Wait()
	if d := time.Since(start); d < 100*time.Millisecond || d > 350*time.Millisecond {
		t.Errorf("4 concurrent requests at 100 ms took %s, want them to overlap", d)
	}
}
