package providers

import (
	"fmt"
	"net/http"
)

// APIError is a failed provider API call. It wraps one of the sentinels
// (ErrNotFound, ErrUnauthorized, ...) when one applies, so callers use
// errors.Is and never look at SDK errors or status codes.
type APIError struct {
	Provider string // configured provider name
	Op       string // e.g. "GET repos/acme/api/branches"
	Status   int    // HTTP status; 0 for transport errors
	Err      error
}

func (e *APIError) Error() string {
	if e.Status != 0 {
		return fmt.Sprintf("%s: %s: HTTP %d: %v", e.Provider, e.Op, e.Status, e.Err)
	}
	return fmt.Sprintf("%s: %s: %v", e.Provider, e.Op, e.Err)
}

func (e *APIError) Unwrap() error { return e.Err }

// kindError pairs a sentinel with the server's message so that both
// errors.Is and the human-readable text survive.
type kindError struct {
	kind error
	msg  string
}

func (k *kindError) Error() string {
	if k.msg == "" {
		return k.kind.Error()
	}
	return k.kind.Error() + ": " + k.msg
}

func (k *kindError) Unwrap() error { return k.kind }

// StatusError classifies an HTTP error status, keeping the server's
// message: 401 → ErrUnauthorized, 403 → ErrForbidden, 404/410 →
// ErrNotFound, 429 → ErrRateLimited; any other status is an error with the
// message (or the status text).
func StatusError(status int, msg string) error {
	switch status {
	case http.StatusUnauthorized:
		return &kindError{ErrUnauthorized, msg}
	case http.StatusForbidden:
		return &kindError{ErrForbidden, msg}
	case http.StatusNotFound, http.StatusGone:
		return &kindError{ErrNotFound, msg}
	case http.StatusTooManyRequests:
		return &kindError{ErrRateLimited, msg}
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &kindError{errStatus, msg}
}

// errStatus is the kind of an unclassified status; unexported: callers
// have nothing to match on.
var errStatus = fmt.Errorf("provider API error")

// RateLimited wraps a provider's own rate-limit error (an SDK that
// decided a request was rate limited) as ErrRateLimited.
func RateLimited(msg string) error { return &kindError{ErrRateLimited, msg} }
