package providers

// calls.go: counting the provider requests a piece of work sends, through
// its context (the backfill progress reports the calls each repository's
// backfill spent).

import (
	"context"
	"sync/atomic"
)

// CallCounter counts provider API requests. Safe for concurrent use.
type CallCounter struct{ n atomic.Int64 }

// Load is the number of requests counted.
func (c *CallCounter) Load() int { return int(c.n.Load()) }

type callCounterKey struct{}

// WithCallCounter returns a context whose provider requests are counted by
// c (see CountCall). A nested counter replaces the outer one.
func WithCallCounter(ctx context.Context, c *CallCounter) context.Context {
	return context.WithValue(ctx, callCounterKey{}, c)
}

// CountCall counts one request sent with ctx, if ctx carries a counter.
// The provider clients' guard calls it for every request it lets through
// (each request once, whatever its retries).
func CountCall(ctx context.Context) {
	if c, ok := ctx.Value(callCounterKey{}).(*CallCounter); ok {
		c.n.Add(1)
	}
}
