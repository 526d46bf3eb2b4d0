package github

import (
	"net/http"
	"strings"
	"sync"
	"time"
)

// ExpirationHeader is the response header in which GitHub states when the
// token that authenticated the request expires (fine-grained personal
// access tokens, classic ones created with an expiry; GitHub App
// installation tokens rotate by themselves and are not tracked). See
// https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api
// ("GitHub-Authentication-Token-Expiration").
const ExpirationHeader = "GitHub-Authentication-Token-Expiration"

// expirationLayouts are the formats GitHub has used for the header:
// "2026-12-31 12:00:00 UTC" and the same with a numeric zone.
var expirationLayouts = []string{"2006-01-02 15:04:05 MST", "2006-01-02 15:04:05 -0700", time.RFC3339}

// ParseExpiration parses a GitHub-Authentication-Token-Expiration value.
func ParseExpiration(v string) (time.Time, bool) {
	v = strings.TrimSpace(v)
	for _, l := range expirationLayouts {
		if t, err := time.Parse(l, v); err == nil {
			return t.UTC(), true
		}
	}
	return time.Time{}, false
}

// tokenTransport authenticates every attempt with the token current at that
// moment (so a rotated token file takes effect at the next attempt and the
// old token is never sent again) and records the token expiry GitHub
// reports. It is the innermost layer, below the retry transport.
type tokenTransport struct {
	next  http.RoundTripper
	token func() string

	mu     sync.Mutex
	expiry time.Time
	forTok string // the token the expiry belongs to
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	tok := t.token()
	r := req.Clone(req.Context())
	if tok != "" {
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := t.next.RoundTrip(r)
	if err == nil {
		if exp, ok := ParseExpiration(resp.Header.Get(ExpirationHeader)); ok {
			t.mu.Lock()
			t.expiry, t.forTok = exp, tok
			t.mu.Unlock()
		}
	}
	return resp, err
}

// tokenExpiry is the expiry GitHub last reported for the current token.
func (t *tokenTransport) tokenExpiry() (time.Time, bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.expiry.IsZero() || t.forTok != t.token() {
		return time.Time{}, false
	}
	return t.expiry, true
}
