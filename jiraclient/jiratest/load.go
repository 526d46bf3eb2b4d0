package jiratest

// load.go: response time and rate limiting, for throughput tests and
// benchmarks.

import (
	"math"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Load shapes the fake's response time: every request waits Latency, and
// when more than Knee requests are in flight (Knee > 0), each one beyond it
// adds Latency/Knee, as a Jira whose worker pool is full queues requests.
// The wait happens outside the server's lock, so requests overlap.
type Load struct {
	Latency time.Duration
	Knee    int
}

// RateLimit is Jira Data Center's rate limiting (8.6+): a token bucket per
// user holding up to Capacity tokens, gaining FillRate tokens every
// Interval. Every response carries X-RateLimit-Limit, -Remaining, -FillRate
// and -Interval-Seconds; a request finding the bucket empty is answered 429
// with Retry-After (whole seconds until the next token). Capacity 0 turns
// rate limiting off.
type RateLimit struct {
	Capacity, FillRate int
	Interval           time.Duration
}

// loadState is the fake's load shaping and bucket; it has its own lock so
// that waiting requests do not hold the server's.
type loadState struct {
	inflight atomic.Int64
	peak     atomic.Int64 // most requests in flight at once
	mu       sync.Mutex
	load     Load
	rl       RateLimit
	tokens   float64
	filled   time.Time
	throttle int // requests answered 429 by the bucket
}

// SetLoad sets the response-time model (zero Load: answer at once).
func (s *Server) SetLoad(l Load) {
	s.ls.mu.Lock()
	defer s.ls.mu.Unlock()
	s.ls.load = l
}

// SetRateLimit starts (or, with Capacity 0, stops) rate limiting with a
// full bucket.
func (s *Server) SetRateLimit(rl RateLimit) {
	s.ls.mu.Lock()
	defer s.ls.mu.Unlock()
	s.ls.rl, s.ls.tokens, s.ls.filled = rl, float64(rl.Capacity), time.Now()
}

// PeakInFlight is the most requests the fake was handling at once.
func (s *Server) PeakInFlight() int { return int(s.ls.peak.Load()) }

// Throttled counts the requests the rate limit answered 429.
func (s *Server) Throttled() int {
	s.ls.mu.Lock()
	defer s.ls.mu.Unlock()
	return s.ls.throttle
}

// admitLoad waits out the response time of a request and takes a token,
// setting the rate-limit headers; it reports false, with the 429's
// Retry-After set, when the bucket is empty. done must be called when the
// request has been answered.
func (s *Server) admitLoad(w http.ResponseWriter) (ok bool, done func()) {
	n := s.ls.inflight.Add(1)
	for p := s.ls.peak.Load(); n > p && !s.ls.peak.CompareAndSwap(p, n); p = s.ls.peak.Load() {
	}
	done = func() { s.ls.inflight.Add(-1) }
	s.ls.mu.Lock()
	l := s.ls.load
	s.ls.mu.Unlock()
	if l.Latency > 0 {
		d := l.Latency
		if l.Knee > 0 && int(n) > l.Knee {
			d += time.Duration(int(n)-l.Knee) * l.Latency / time.Duration(l.Knee)
		}
		time.Sleep(d)
	}
	return s.takeToken(w), done
}

// takeToken refills the bucket and takes a token (true) or sets the 429
// headers (false).
func (s *Server) takeToken(w http.ResponseWriter) bool {
	st := &s.ls
	st.mu.Lock()
	defer st.mu.Unlock()
	rl := st.rl
	if rl.Capacity <= 0 || rl.FillRate <= 0 || rl.Interval <= 0 {
		return true
	}
	now := time.Now()
	intervals := math.Floor(float64(now.Sub(st.filled)) / float64(rl.Interval))
	if intervals > 0 {
		st.tokens = math.Min(float64(rl.Capacity), st.tokens+intervals*float64(rl.FillRate))
		st.filled = st.filled.Add(time.Duration(intervals) * rl.Interval)
	}
	ok := st.tokens >= 1
	if ok {
		st.tokens--
	}
	h := w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(rl.Capacity))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(int(st.tokens)))
	h.Set("X-RateLimit-FillRate", strconv.Itoa(rl.FillRate))
	h.Set("X-RateLimit-Interval-Seconds", strconv.Itoa(max(1, int(rl.Interval/time.Second))))
	if ok {
		h.Set("Retry-After", "0")
		return true
	}
	st.throttle++
	wait := st.filled.Add(rl.Interval).Sub(now)
	h.Set("Retry-After", strconv.Itoa(max(1, int(math.Ceil(wait.Seconds())))))
	return false
}
