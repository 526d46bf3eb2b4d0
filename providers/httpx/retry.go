// Package httpx holds the HTTP plumbing shared by jiralinkd's outbound
// clients. RetryTransport is the one place where requests to Jira, GitHub and
// GitLab are retried and where their rate limits are honoured, so that no
// client stacks a second retry loop on top of another.
package httpx

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
)

// Defaults applied by NewRetryTransport to zero fields of RetryOptions.
const (
	DefaultMaxAttempts = 5
	DefaultBaseBackoff = time.Second
	DefaultMaxBackoff  = 30 * time.Second
	DefaultMaxWait     = 15 * time.Minute
)

// RetryOptions configures NewRetryTransport. Zero values get defaults.
type RetryOptions struct {
	// MaxAttempts is the total number of tries including the first; default 5.
	// 1 disables retries.
	MaxAttempts int
	// BaseBackoff is the first backoff step; default 1s. Backoff grows
	// exponentially with full jitter and is capped by MaxBackoff.
	BaseBackoff time.Duration
	// MaxBackoff caps one backoff step; default 30s. It does not cap waits
	// demanded by the server (Retry-After, rate-limit reset).
	MaxBackoff time.Duration
	// MaxWait is the longest single wait accepted (Retry-After, rate-limit
	// reset); default 15m. A rate limit demanding a longer wait makes
	// RoundTrip return a *RateLimitError at once instead of sleeping.
	MaxWait time.Duration
	// Logger gets one Warn line per retry. nil discards.
	Logger *slog.Logger
	// Sleep waits d or until ctx is done, returning ctx.Err() in that case.
	// Injectable for tests; default is a timer honouring ctx.
	Sleep func(ctx context.Context, d time.Duration) error
	// Now is the clock used to turn reset times into waits; default time.Now.
	Now func() time.Time
	// Name is the remote system's name for logs and errors, e.g. "jira".
	Name string
	// Observe, if set, is called after every attempt (each one is an API
	// call the remote system counts) with the response status, or 0 and
	// the error when no response arrived. For metrics.
	Observe func(req *http.Request, status int, err error)
	// OnWait, if set, is called before each wait with its length and
	// whether a rate limit demanded it (status pages show paused clients).
	OnWait func(d time.Duration, rateLimited bool)
	// Pace spreads requests out when the reported budget runs low and
	// waits for the reset when it is gone (see pace).
	Pace bool
	// BackfillShare, when between 0 and 1, is the share of a rate window's
	// budget that requests marked WithBackfill may spend: once less than
	// (1 - BackfillShare) of the budget is left, they wait for the reset,
	// and the rest is kept for other requests. Needs Pace.
	BackfillShare float64
}

// RetryTransport is an http.RoundTripper that retries transient failures and
// waits out rate limits. It is safe for concurrent use.
//
// Retried: 429; 502, 503 and 504; 500 when the request is idempotent (see
// Idempotent: GET, HEAD, PUT, DELETE, or marked with MarkIdempotent); 403 or
// 429 that is a GitHub primary or secondary rate limit; transient network
// errors (connection refused or reset, broken pipe, unexpected EOF,
// timeouts) unless the request's context is done. Not retried: 500 for a
// request that is not idempotent (a plain POST: the server may have done
// the work before failing), every other status, and a 403 that is a plain
// permission error; these are returned as is.
//
// A request with a body is retried only when req.GetBody is set
// (http.NewRequest sets it for bytes and strings readers); each retry sends a
// fresh copy of the body.
//
// When attempts run out, RoundTrip returns the last response (rate-limited
// ones included) for the caller to classify. When a rate limit demands a wait
// longer than MaxWait, or one that would outlast the request context's
// deadline, it returns a *RateLimitError and no response. A 502/503/504 whose
// Retry-After is that long is returned as is.
type RetryTransport struct {
	next   http.RoundTripper
	opts   RetryOptions
	logger *slog.Logger
	// jitter returns a random duration in [0, d]; replaced in tests.
	jitter func(d time.Duration) time.Duration

	mu       sync.Mutex
	rl       RateLimit
	nextSlot time.Time // next paced request's turn
}

// NewRetryTransport wraps next (http.DefaultTransport if nil) in a
// RetryTransport configured by opts.
func NewRetryTransport(next http.RoundTripper, opts RetryOptions) *RetryTransport {
	if next == nil {
		next = http.DefaultTransport
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = DefaultMaxAttempts
	}
	if opts.BaseBackoff <= 0 {
		opts.BaseBackoff = DefaultBaseBackoff
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = DefaultMaxBackoff
	}
	if opts.MaxWait <= 0 {
		opts.MaxWait = DefaultMaxWait
	}
	if opts.Sleep == nil {
		opts.Sleep = sleepContext
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Name == "" {
		opts.Name = "http"
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &RetryTransport{next: next, opts: opts, logger: logger, jitter: fullJitter}
}

// RoundTrip implements http.RoundTripper.
func (t *RetryTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	maxAttempts := t.opts.MaxAttempts
	if !rewindable(req) {
		maxAttempts = 1
	}
	for attempt := 1; ; attempt++ {
		if err := t.pace(ctx); err != nil {
			return nil, err
		}
		r, err := attemptRequest(req, attempt)
		if err != nil {
			return nil, err
		}
		resp, err := t.next.RoundTrip(r)
		if t.opts.Observe != nil {
			status := 0
			if resp != nil {
				status = resp.StatusCode
			}
			t.opts.Observe(req, status, err)
		}
		var d decision
		if err != nil {
			if ctx.Err() != nil || !transientError(err) || attempt >= maxAttempts {
				return nil, err
			}
			d = decision{retry: true, wait: t.backoff(attempt)}
			if !fitsDeadline(ctx, d.wait) {
				return nil, err
			}
			t.logRetry(req, 0, err, d.wait, attempt, maxAttempts)
		} else {
			t.record(resp.Header)
			d = t.classify(req, resp, attempt)
			if !d.retry {
				resp.Body = &drainOnClose{resp.Body}
				return resp, nil
			}
			tooLong := d.wait > t.opts.MaxWait || !fitsDeadline(ctx, d.wait)
			if d.rateLimited && tooLong {
				discard(resp)
				return nil, t.rateLimitError(resp.StatusCode, d)
			}
			if tooLong || attempt >= maxAttempts {
				resp.Body = &drainOnClose{resp.Body}
				return resp, nil
			}
			discard(resp)
			t.logRetry(req, resp.StatusCode, nil, d.wait, attempt, maxAttempts)
		}
		if t.opts.OnWait != nil {
			t.opts.OnWait(d.wait, d.rateLimited)
		}
		providers.CountWait(ctx, d.wait)
		if err := t.opts.Sleep(ctx, d.wait); err != nil {
			return nil, err
		}
	}
}

// RateLimit returns the latest rate-limit budget seen in a response.
func (t *RetryTransport) RateLimit() RateLimit {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.rl
}

// record keeps the budget a response reports, unless it is one of
// GitHub's separate budgets (X-RateLimit-Resource other than "core": the
// search API's 30 requests a minute, GraphQL's): a search answer would
// otherwise replace the hourly core budget in RateLimit and make pace
// spread every request over the search window.
func (t *RetryTransport) record(h http.Header) {
	if res := h.Get("X-RateLimit-Resource"); res != "" && !strings.EqualFold(res, "core") {
		return
	}
	rl, ok := parseRateLimit(h)
	if !ok {
		return
	}
	t.mu.Lock()
	t.rl = rl
	t.mu.Unlock()
}

// backoff returns the wait before retry number attempt (1-based): full
// jitter over min(MaxBackoff, BaseBackoff·2^(attempt-1)).
func (t *RetryTransport) backoff(attempt int) time.Duration {
	ceiling := t.opts.BaseBackoff
	for i := 1; i < attempt && ceiling < t.opts.MaxBackoff; i++ {
		ceiling *= 2
	}
	ceiling = min(ceiling, t.opts.MaxBackoff)
	return t.jitter(ceiling)
}

func (t *RetryTransport) rateLimitError(status int, d decision) *RateLimitError {
	resetAt := d.resetAt
	if resetAt.IsZero() {
		resetAt = t.opts.Now().Add(d.wait)
	}
	return &RateLimitError{System: t.opts.Name, Status: status, ResetAt: resetAt, RetryAfter: d.wait}
}

func (t *RetryTransport) logRetry(req *http.Request, status int, err error, wait time.Duration, attempt, maxAttempts int) {
	attrs := []any{
		"system", t.opts.Name,
		"method", req.Method,
		"url", redactURL(req),
		"wait", wait,
		"attempt", attempt,
		"max_attempts", maxAttempts,
	}
	if err != nil {
		attrs = append(attrs, "err", err)
	} else {
		attrs = append(attrs, "status", status)
	}
	t.logger.Warn("retrying HTTP request", attrs...)
}

// IdempotencyHeader is the header whose presence marks a request as safe to
// send more than once, the convention net/http's Transport follows too. A
// nil value (set by MarkIdempotent) marks the request without putting the
// header on the wire.
const IdempotencyHeader = "Idempotency-Key"

// MarkIdempotent declares that sending req twice has the same effect as
// sending it once (an upsert, a search sent as POST), so RetryTransport
// may retry it after a 500 like a GET. It adds IdempotencyHeader with a
// nil value, which no server sees, unless the caller set that header.
func MarkIdempotent(req *http.Request) {
	if req.Header == nil {
		req.Header = http.Header{}
	}
	if _, ok := req.Header[IdempotencyHeader]; !ok {
		req.Header[IdempotencyHeader] = nil
	}
}

// Idempotent reports whether req may be sent again after a response that
// leaves its effect unknown (a 500): its method is GET, HEAD, OPTIONS,
// TRACE, PUT or DELETE (RFC 9110 9.2.2), or it carries IdempotencyHeader
// (see MarkIdempotent).
func Idempotent(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace, http.MethodPut, http.MethodDelete:
		return true
	}
	_, marked := req.Header[IdempotencyHeader]
	_, xmarked := req.Header["X-Idempotency-Key"]
	return marked || xmarked
}

// rewindable reports whether req can be sent more than once.
func rewindable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// attemptRequest returns the request to send on the given attempt: the
// original first, then clones carrying a fresh body.
func attemptRequest(req *http.Request, attempt int) (*http.Request, error) {
	if attempt == 1 {
		return req, nil
	}
	r := req.Clone(req.Context())
	if req.Body != nil && req.Body != http.NoBody {
		body, err := req.GetBody()
		if err != nil {
			return nil, fmt.Errorf("rewinding request body: %w", err)
		}
		r.Body = body
	}
	return r, nil
}

// fitsDeadline reports whether waiting d leaves the context alive.
func fitsDeadline(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) > d
}

// discard drains (bounded) and closes a response body so the connection can
// be reused.
func discard(resp *http.Response) {
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	_ = resp.Body.Close()
}

// redactURL returns the request URL without query, fragment or user info.
func redactURL(req *http.Request) string {
	u := *req.URL
	u.User = nil
	u.RawQuery = ""
	u.ForceQuery = false
	u.Fragment = ""
	u.RawFragment = ""
	return u.String()
}

func fullJitter(d time.Duration) time.Duration {
	if d <= 0 {
		return 0
	}
	return rand.N(d + 1)
}

func sleepContext(ctx context.Context, d time.Duration) error {
	if d <= 0 {
		return ctx.Err()
	}
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-timer.C:
		return nil
	}
}

// drainOnClose reads what a caller left unread before closing the body, so
// the connection goes back to the pool: decoders (go-github's json.Decoder)
// stop at the end of the JSON value and close, and net/http drops a
// connection whose body was not read to the end. The drain is bounded; a
// caller that abandons a large body still loses that one connection.
type drainOnClose struct{ io.ReadCloser }

func (d *drainOnClose) Close() error {
	_, _ = io.CopyN(io.Discard, d.ReadCloser, 256<<10)
	return d.ReadCloser.Close()
}
