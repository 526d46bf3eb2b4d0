package httpx

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
)

// RateLimit is a request budget as last reported by the server, from
// X-RateLimit-Limit/Remaining/Reset (GitHub, Jira) or
// RateLimit-Limit/Remaining/Reset (GitLab). Known is false until a response
// carried a remaining count.
//
// Jira Data Center (8.6+) rate limits with a token bucket and says so on
// every response: X-RateLimit-Limit is the bucket's size,
// X-RateLimit-Remaining the tokens left, and the bucket gains
// X-RateLimit-FillRate tokens every X-RateLimit-Interval-Seconds; FillRate
// and Interval are zero when the server does not send them.
type RateLimit struct {
	Limit     int
	Remaining int
	Reset     time.Time // zero if the server did not say
	Known     bool
	FillRate  int
	Interval  time.Duration
}

// Sustained is the request rate (per second) the server accepts in the
// long run, from FillRate and Interval; 0 when unknown.
func (r RateLimit) Sustained() float64 {
	if r.FillRate <= 0 || r.Interval <= 0 {
		return 0
	}
	return float64(r.FillRate) / r.Interval.Seconds()
}

// RateLimitError is returned by RetryTransport.RoundTrip, with no response,
// when the server rate-limits a request and demands a longer wait than the
// transport accepts. errors.Is(err, providers.ErrRateLimited) holds.
type RateLimitError struct {
	System     string        // e.g. "github", "jira"
	Status     int           // HTTP status of the rate-limited response
	ResetAt    time.Time     // when the server said requests are accepted again
	RetryAfter time.Duration // the wait the server demanded
}

func (e *RateLimitError) Error() string {
	return fmt.Sprintf("%s: rate limited (HTTP %d): resets at %s (in %s)",
		e.System, e.Status, e.ResetAt.UTC().Format(time.RFC3339), e.RetryAfter.Round(time.Second))
}

// Is makes errors.Is(err, providers.ErrRateLimited) true.
func (e *RateLimitError) Is(target error) bool {
	return target == providers.ErrRateLimited
}

// parseRateLimit extracts the budget headers; ok is false when the response
// carries no remaining count.
func parseRateLimit(h http.Header) (RateLimit, bool) {
	remaining, ok := headerInt(h, "X-RateLimit-Remaining", "RateLimit-Remaining")
	if !ok {
		return RateLimit{}, false
	}
	limit, _ := headerInt(h, "X-RateLimit-Limit", "RateLimit-Limit")
	reset, _ := parseReset(h)
	rl := RateLimit{Limit: limit, Remaining: remaining, Reset: reset, Known: true}
	if fill, ok := headerInt(h, "X-RateLimit-FillRate"); ok {
		if secs, ok := headerInt(h, "X-RateLimit-Interval-Seconds"); ok && fill > 0 && secs > 0 {
			rl.FillRate, rl.Interval = fill, time.Duration(secs)*time.Second
		}
	}
	return rl, true
}

// headerInt returns the first of the named headers that holds an integer.
func headerInt(h http.Header, names ...string) (int, bool) {
	for _, name := range names {
		if v := strings.TrimSpace(h.Get(name)); v != "" {
			if n, err := strconv.Atoi(v); err == nil {
				return n, true
			}
		}
	}
	return 0, false
}

// parseReset reads X-RateLimit-Reset or RateLimit-Reset: UTC epoch seconds
// (GitHub, GitLab) or an ISO 8601 timestamp (Jira Cloud style).
func parseReset(h http.Header) (time.Time, bool) {
	for _, name := range []string{"X-RateLimit-Reset", "RateLimit-Reset"} {
		v := strings.TrimSpace(h.Get(name))
		if v == "" {
			continue
		}
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			return time.Unix(n, 0), true
		}
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04Z07:00"} {
			if ts, err := time.Parse(layout, v); err == nil {
				return ts, true
			}
		}
	}
	return time.Time{}, false
}

// parseRetryAfter reads a Retry-After value, delta-seconds or an HTTP date,
// as a wait from now (never negative).
func parseRetryAfter(v string, now time.Time) (time.Duration, bool) {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0, false
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if n < 0 {
			return 0, false
		}
		// Cap absurd values instead of overflowing; MaxWait rejects them.
		return time.Duration(min(n, int64(365*24*time.Hour/time.Second))) * time.Second, true
	}
	if ts, err := http.ParseTime(v); err == nil {
		return max(ts.Sub(now), 0), true
	}
	return 0, false
}
