package httpx

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"time"
)

const (
	// secondaryMinWait is GitHub's documented minimum wait after a
	// secondary rate limit without Retry-After ("wait at least one minute").
	secondaryMinWait = time.Minute
	// maxClassifyBody bounds how much of a 403/429 body is read to find a
	// rate-limit message.
	maxClassifyBody = 64 << 10
)

// decision is what to do with one response.
type decision struct {
	retry       bool
	wait        time.Duration
	rateLimited bool
	resetAt     time.Time // when the server said the limit resets, if it did
}

// classify decides whether resp, the answer to req, is retried and after
// which wait. A 500 is retried only for an idempotent request (see
// Idempotent): the server may have carried out the request before failing.
func (t *RetryTransport) classify(req *http.Request, resp *http.Response, attempt int) decision {
	switch resp.StatusCode {
	case http.StatusForbidden, http.StatusTooManyRequests:
		return t.classifyLimit(resp, attempt)
	case http.StatusInternalServerError:
		if !Idempotent(req) {
			return decision{}
		}
		return t.classifyServerError(resp, attempt)
	case http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return t.classifyServerError(resp, attempt)
	}
	return decision{}
}

// classifyServerError is the decision for a retried 5xx: the server's
// Retry-After if it sent one, else the next backoff step.
func (t *RetryTransport) classifyServerError(resp *http.Response, attempt int) decision {
	if ra, ok := parseRetryAfter(resp.Header.Get("Retry-After"), t.opts.Now()); ok {
		return decision{retry: true, wait: ra}
	}
	return decision{retry: true, wait: t.backoff(attempt)}
}

// classifyLimit handles 403 and 429, following the rules GitHub documents
// (primary: remaining 0 → wait for reset; secondary: Retry-After, else reset
// if remaining is 0, else at least a minute, growing exponentially), GitLab's
// (Retry-After, else RateLimit-Reset) and Jira DC's (Retry-After). A 403
// without any rate-limit signal is a permission error and is not retried.
func (t *RetryTransport) classifyLimit(resp *http.Response, attempt int) decision {
	h := resp.Header
	now := t.opts.Now()
	retryAfter, hasRetryAfter := parseRetryAfter(h.Get("Retry-After"), now)
	remaining, hasRemaining := headerInt(h, "X-RateLimit-Remaining", "RateLimit-Remaining")
	reset, hasReset := parseReset(h)
	exhausted := hasRemaining && remaining == 0

	var limitMsg, secondary bool
	if !hasRetryAfter && !exhausted {
		limitMsg, secondary = rateLimitMessage(resp)
	}
	if resp.StatusCode == http.StatusForbidden && !hasRetryAfter && !exhausted && !limitMsg {
		return decision{}
	}

	d := decision{retry: true, rateLimited: true}
	switch {
	case hasRetryAfter:
		d.wait = retryAfter
	case hasReset && (exhausted || !hasRemaining && resp.StatusCode == http.StatusTooManyRequests):
		d.wait = max(reset.Sub(now)+time.Second, time.Second)
		d.resetAt = reset
	case secondary:
		d.wait = secondaryMinWait
		for i := 1; i < attempt && d.wait <= t.opts.MaxWait; i++ {
			d.wait *= 2
		}
	default:
		d.wait = t.backoff(attempt)
	}
	return d
}

// rateLimitMessage reads the start of resp's body, puts it back so the
// caller still sees the whole body, and reports whether its message speaks of
// a rate limit, and whether of a GitHub secondary one.
func rateLimitMessage(resp *http.Response) (limit, secondary bool) {
	if resp.Body == nil || resp.Body == http.NoBody {
		return false, false
	}
	head, err := io.ReadAll(io.LimitReader(resp.Body, maxClassifyBody))
	resp.Body = &replayBody{Reader: io.MultiReader(bytes.NewReader(head), errReader{err}, resp.Body), Closer: resp.Body}

	msg := string(head)
	var body struct {
		Message string `json:"message"`
	}
	if json.Unmarshal(head, &body) == nil && body.Message != "" {
		msg = body.Message
	}
	msg = strings.ToLower(msg)
	secondary = strings.Contains(msg, "secondary rate limit") || strings.Contains(msg, "abuse detection")
	return secondary || strings.Contains(msg, "rate limit exceeded"), secondary
}

// replayBody is a response body whose first bytes were already read.
type replayBody struct {
	io.Reader
	io.Closer
}

// errReader returns err once reached (nil err: plain EOF), so a read error
// hit while classifying reaches the caller at the right offset.
type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) {
	if r.err != nil {
		return 0, r.err
	}
	return 0, io.EOF
}

// transientError reports whether a transport error is worth retrying.
func transientError(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNRESET),
		errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, io.EOF):
		return true
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return dnsErr.IsTemporary || dnsErr.IsTimeout
	}
	var netErr net.Error
	return errors.As(err, &netErr) && netErr.Timeout()
}
