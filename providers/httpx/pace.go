package httpx

import (
	"context"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
)

// PaceReserve is the share of a rate-limit window's budget below which
// requests are spread out: above it they go at full speed. (The backfill
// ETA, indexer/status, models it.)
const PaceReserve = 0.2

// maxPaceWait bounds one pacing wait (a GitHub window is an hour).
const maxPaceWait = 65 * time.Minute

// pace waits, before a request, as the known budget requires: with less than
// PaceReserve of the window's budget left, requests are spaced so the rest
// lasts until the reset; with none left, the request waits for the reset
// instead of failing. Requests of concurrent callers take consecutive
// slots, so the spacing holds however many goroutines share the client.
// A budget the server never reported (GitHub Enterprise Server without rate
// limits) is never paced.
func (t *RetryTransport) pace(ctx context.Context) error {
	if !t.opts.Pace {
		return nil
	}
	now := t.opts.Now()
	t.mu.Lock()
	rl := t.rl
	var wait time.Duration
	backfill := false
	if rl.Known && rl.Limit > 0 && !rl.Reset.IsZero() && rl.Reset.After(now) {
		window := rl.Reset.Sub(now)
		switch {
		case rl.Remaining <= 0:
			wait = window + time.Second
		case IsBackfill(ctx) && t.opts.BackfillShare > 0 && t.opts.BackfillShare < 1 &&
			float64(rl.Remaining) < (1-t.opts.BackfillShare)*float64(rl.Limit):
			// The backfill has spent its share of this window: it yields
			// the rest to fresh work until the budget resets.
			wait, backfill = window+time.Second, true
		case float64(rl.Remaining) < PaceReserve*float64(rl.Limit):
			interval := window / time.Duration(rl.Remaining)
			slot := t.nextSlot
			if slot.Before(now) {
				slot = now
			}
			t.nextSlot = slot.Add(interval)
			wait = slot.Sub(now)
		}
	}
	t.mu.Unlock()
	if wait <= 0 {
		return nil
	}
	wait = min(wait, maxPaceWait)
	providers.CountWait(ctx, wait)
	if t.opts.OnWait != nil {
		t.opts.OnWait(wait, true)
	}
	if backfill {
		t.logger.Info("backfill paused: it has spent its share of the rate limit; the rest is kept for fresh work", "system", t.opts.Name,
			"remaining", rl.Remaining, "limit", rl.Limit, "share", t.opts.BackfillShare, "resets", rl.Reset.UTC().Format(time.RFC3339))
		return t.opts.Sleep(ctx, wait)
	}
	t.logger.Info("pacing requests to stay within the rate limit", "system", t.opts.Name,
		"remaining", rl.Remaining, "limit", rl.Limit, "resets", rl.Reset.UTC().Format(time.RFC3339), "wait", wait.Round(time.Millisecond))
	return t.opts.Sleep(ctx, wait)
}

// backfillKey marks a context whose requests are backfill work.
type backfillKey struct{}

// WithBackfill marks the requests made with ctx as backfill work: the
// indexing of repositories never synced before, which may take hours and
// must not starve scheduled passes and webhooks (RetryOptions.BackfillShare).
func WithBackfill(ctx context.Context) context.Context {
	return context.WithValue(ctx, backfillKey{}, true)
}

// IsBackfill reports whether ctx was marked by WithBackfill.
func IsBackfill(ctx context.Context) bool {
	b, _ := ctx.Value(backfillKey{}).(bool)
	return b
}
