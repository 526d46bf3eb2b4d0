package jiraclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"syscall"

	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// Sentinel errors. An *Error matches the one for its status through
// errors.Is.
var (
	ErrBadRequest   = errors.New("bad request")
	ErrUnauthorized = errors.New("unauthorized (credentials invalid or expired)")
	ErrForbidden    = errors.New("forbidden (no permission, or issue linking disabled)")
	ErrNotFound     = errors.New("not found")
	// ErrRateLimited is providers.ErrRateLimited, so that a 429 that outlived
	// the retries (*Error) and a wait refused by the transport
	// (*httpx.RateLimitError) match the same sentinel.
	ErrRateLimited = providers.ErrRateLimited
	// ErrInvalidIssueKey is returned, without any request, for an issue key
	// that does not match ValidIssueKey.
	ErrInvalidIssueKey = errors.New("invalid issue key")
)

// Error is a non-success response from Jira.
type Error struct {
	Method string
	Path   string // URL path incl. any context path; no host, no query string
	Status int
	// Messages merges Jira's ErrorCollection: every errorMessages entry, then
	// each errors entry as "field: message", sorted by field.
	Messages []string
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "jira: %s %s: HTTP %d", e.Method, e.Path, e.Status)
	if text := http.StatusText(e.Status); text != "" {
		b.WriteString(" " + text)
	}
	if len(e.Messages) > 0 {
		b.WriteString(": " + strings.Join(e.Messages, "; "))
	}
	return b.String()
}

// Is maps the status to the package's sentinels.
func (e *Error) Is(target error) bool {
	switch e.Status {
	case http.StatusBadRequest:
		return target == ErrBadRequest
	case http.StatusUnauthorized:
		return target == ErrUnauthorized
	case http.StatusForbidden:
		return target == ErrForbidden
	case http.StatusNotFound:
		return target == ErrNotFound
	case http.StatusTooManyRequests:
		return target == ErrRateLimited
	}
	return false
}

// Retryable reports whether the same request may succeed later: rate limits
// and server errors. The transport has already retried what it could, so
// this is advice for the caller's next cycle, not for an immediate retry.
func (e *Error) Retryable() bool {
	return e.Status == http.StatusTooManyRequests || e.Status >= 500
}

// Retryable reports whether err is worth trying again later: a retryable
// *Error, a rate limit refused by the transport, or a network failure.
// Context cancellation, bad input and client errors are not.
func Retryable(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var je *Error
	if errors.As(err, &je) {
		return je.Retryable()
	}
	var rle *httpx.RateLimitError
	if errors.As(err, &rle) {
		return true
	}
	var te *transportError
	return errors.As(err, &te)
}

// Uncertain reports whether a write that failed with err may nonetheless
// have taken effect, so that whoever must not repeat it should look for
// its effect first: Jira answered 500 (it may fail after committing), a
// proxy answered 502 or 504 (Jira may have done the work behind it), or
// the connection failed once the request could have been sent. It is
// false for errors that prove the write was not carried out: client
// errors, 429 and 503 (refused before any work), a connection refused,
// bad input, and the context ending.
func Uncertain(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var je *Error
	if errors.As(err, &je) {
		switch je.Status {
		case http.StatusInternalServerError, http.StatusBadGateway, http.StatusGatewayTimeout:
			return true
		}
		return false
	}
	var te *transportError
	return errors.As(err, &te) && !errors.Is(err, syscall.ECONNREFUSED)
}

// transportError is a request that got no response.
type transportError struct {
	method, path string
	err          error
}

func (e *transportError) Error() string {
	return fmt.Sprintf("jira: %s %s: %v", e.method, e.path, e.err)
}

func (e *transportError) Unwrap() error { return e.err }

// errorCollection is Jira's error body. Either field may be absent.
type errorCollection struct {
	ErrorMessages []string          `json:"errorMessages"`
	Errors        map[string]string `json:"errors"`
}

// newError builds an *Error from a response status and body.
func newError(method, path string, status int, body []byte) *Error {
	e := &Error{Method: method, Path: path, Status: status}
	var ec errorCollection
	if json.Unmarshal(body, &ec) != nil {
		return e
	}
	for _, m := range ec.ErrorMessages {
		if m = strings.TrimSpace(m); m != "" {
			e.Messages = append(e.Messages, m)
		}
	}
	fields := make([]string, 0, len(ec.Errors))
	for f := range ec.Errors {
		fields = append(fields, f)
	}
	sort.Strings(fields)
	for _, f := range fields {
		e.Messages = append(e.Messages, f+": "+ec.Errors[f])
	}
	return e
}
