package providers

// calls.go: counting the provider requests a piece of work sends, through
// its context (the backfill progress reports the calls each repository's
// backfill spent).

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"
)

// CallCounter counts provider API requests and the time they waited for
// rate limits and retries. Safe for concurrent use.
type CallCounter struct {
	n      atomic.Int64
	waited atomic.Int64 // nanoseconds
}

// Load is the number of requests counted.
func (c *CallCounter) Load() int { return int(c.n.Load()) }

// Waited is the time the requests spent waiting (rate-limit resets and
// pacing, retry backoffs).
func (c *CallCounter) Waited() time.Duration { return time.Duration(c.waited.Load()) }

type (
	callCounterKey struct{}
	sentCounterKey struct{} // on a provider request the guard let through
)

// WithCallCounter returns a context whose provider requests are counted by
// c (see CountCall). A nested counter replaces the outer one.
func WithCallCounter(ctx context.Context, c *CallCounter) context.Context {
	return context.WithValue(ctx, callCounterKey{}, c)
}

// CountCall counts a provider request, if its context carries a counter,
// and returns it marked so that its waits count too (CountWait). The
// provider clients' guard calls it for every request it lets through
// (each request once, whatever its retries); Jira's requests, which do
// not pass a guard, are neither counted nor their waits.
func CountCall(req *http.Request) *http.Request {
	c, ok := req.Context().Value(callCounterKey{}).(*CallCounter)
	if !ok {
		return req
	}
	c.n.Add(1)
	return req.WithContext(context.WithValue(req.Context(), sentCounterKey{}, c))
}

// CountWait counts a wait of a provider request (see CountCall) sent with
// ctx. The retry transport calls it before each wait.
func CountWait(ctx context.Context, d time.Duration) {
	if c, ok := ctx.Value(sentCounterKey{}).(*CallCounter); ok && d > 0 {
		c.waited.Add(int64(d))
	}
}
