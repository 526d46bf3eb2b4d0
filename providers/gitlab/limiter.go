package gitlab

import (
	"context"
	"net/http"
	"strconv"
	"sync"

	"golang.org/x/time/rate"
)

// headerLimiter is client-go's own pacing (configured once from the
// RateLimit-Limit header of the first response: two thirds of the
// per-second budget as the rate, one third as the burst), made safe for
// concurrent first requests: client-go replaces its limiter field while
// other requests read it, which races when several requests are the
// first (a pass and a token check). It is handed to client-go as its
// custom limiter and configured by tokenTransport, which sees every
// response.
type headerLimiter struct {
	mu  sync.Mutex
	lim *rate.Limiter // nil until configured: no pacing
}

// Wait implements gl.RateLimiter.
func (l *headerLimiter) Wait(ctx context.Context) error {
	l.mu.Lock()
	lim := l.lim
	l.mu.Unlock()
	if lim == nil {
		return nil
	}
	return lim.Wait(ctx)
}

// observe configures the limiter from the first response that states
// the budget.
func (l *headerLimiter) observe(ctx context.Context, h http.Header) {
	v := h.Get("RateLimit-Limit")
	if v == "" {
		return
	}
	perMinute, _ := strconv.ParseFloat(v, 64)
	if perMinute <= 0 {
		return
	}
	l.mu.Lock()
	if l.lim != nil {
		l.mu.Unlock()
		return
	}
	perSecond := perMinute / 60
	lim := rate.NewLimiter(rate.Limit(perSecond*0.66), max(1, int(perSecond*0.33)))
	l.lim = lim
	l.mu.Unlock()
	// The request that brought the header counts, as in client-go.
	_ = lim.Wait(ctx)
}
