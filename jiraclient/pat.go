package jiraclient

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"
)

// ErrTokenExpiryUnknown is returned by TokenExpiry when Jira does not say
// when the credentials expire: basic authentication, Jira Cloud, a Jira
// without personal access tokens (404), a user not allowed to list them
// (403), or an empty list.
var ErrTokenExpiryUnknown = errors.New("token expiry unknown")

// PersonalAccessToken is one entry of GET /rest/pat/latest/tokens, which
// lists the caller's own personal access tokens (Jira Data Center 8.14+;
// https://confluence.atlassian.com/enterprise/using-personal-access-tokens-1026032365.html).
// The token values are never listed.
type PersonalAccessToken struct {
	ID             int64   `json:"id"`
	Name           string  `json:"name"`
	CreatedAt      patTime `json:"createdAt"`
	ExpiringAt     patTime `json:"expiringAt"`
	LastAccessedAt patTime `json:"lastAccessedAt"`
}

// patTime parses the timestamps of the PAT API
// ("2021-06-08T14:23:55.000+0000"); a missing or null value is zero.
type patTime struct{ time.Time }

var patLayouts = []string{"2006-01-02T15:04:05.000-0700", time.RFC3339Nano, "2006-01-02T15:04:05-0700"}

func (t *patTime) UnmarshalJSON(b []byte) error {
	s := strings.Trim(string(b), `"`)
	if s == "" || s == "null" {
		return nil
	}
	for _, l := range patLayouts {
		if v, err := time.Parse(l, s); err == nil {
			t.Time = v.UTC()
			return nil
		}
	}
	return nil // an unknown format is "unknown", not a failure
}

// PersonalAccessTokens lists the caller's personal access tokens.
func (c *Client) PersonalAccessTokens(ctx context.Context) ([]PersonalAccessToken, error) {
	var out []PersonalAccessToken
	_, _, err := c.send(ctx, http.MethodGet, "/rest/pat/latest/tokens", nil, nil, &out, http.StatusOK)
	return out, err
}

// TokenExpiry returns when the personal access token in use expires, read
// from the caller's token list. The list does not show token values, so
// the token in use is the one Jira saw last (the most recent
// lastAccessedAt: this very request); without that field it is the
// earliest expiry still in the future. ErrTokenExpiryUnknown when Jira
// does not tell (see there); other errors are the request's.
func (c *Client) TokenExpiry(ctx context.Context) (time.Time, error) {
	if c.auth.Token == "" {
		return time.Time{}, ErrTokenExpiryUnknown
	}
	toks, err := c.PersonalAccessTokens(ctx)
	if errors.Is(err, ErrNotFound) || errors.Is(err, ErrForbidden) {
		return time.Time{}, ErrTokenExpiryUnknown
	}
	if err != nil {
		return time.Time{}, err
	}
	return pickExpiry(toks, time.Now())
}

// pickExpiry chooses the expiry of the token in use among toks.
func pickExpiry(toks []PersonalAccessToken, now time.Time) (time.Time, error) {
	var last *PersonalAccessToken
	for i := range toks {
		t := &toks[i]
		if !t.LastAccessedAt.IsZero() && (last == nil || t.LastAccessedAt.After(last.LastAccessedAt.Time)) {
			last = t
		}
	}
	if last != nil {
		if last.ExpiringAt.IsZero() {
			return time.Time{}, ErrTokenExpiryUnknown
		}
		return last.ExpiringAt.Time, nil
	}
	var best time.Time
	for _, t := range toks {
		if e := t.ExpiringAt.Time; !e.IsZero() && e.After(now) && (best.IsZero() || e.Before(best)) {
			best = e
		}
	}
	if best.IsZero() {
		return time.Time{}, ErrTokenExpiryUnknown
	}
	return best, nil
}
