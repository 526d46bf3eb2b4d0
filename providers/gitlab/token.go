package gitlab

import (
	"context"
	"errors"
	"net/http"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"
)

// ErrTokenInfoUnavailable is returned by TokenInfo when the server does not
// describe the token: GitLab before 15.5 (404), or a token that is not a
// personal, group or project access token (403).
var ErrTokenInfoUnavailable = errors.New("token details unavailable")

// TokenInfo is what GET /personal_access_tokens/self says about the token
// in use (https://docs.gitlab.com/api/personal_access_tokens/#get-single-personal-access-token).
type TokenInfo struct {
	ID      int64
	Scopes  []string
	Expires time.Time // zero: no expiry (allowed before GitLab 16.0)
}

// tokenTransport authenticates every attempt with the token current at
// that moment (PRIVATE-TOKEN), so a rotated token file takes effect at the
// next attempt and the former token is never sent again. It is the
// innermost layer, below the retry transport.
// It also configures the client's pacing from the first response
// (headerLimiter).
type tokenTransport struct {
	next    http.RoundTripper
	token   func() string
	limiter *headerLimiter
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	r.Header.Del("Authorization")
	if tok := t.token(); tok != "" {
		r.Header.Set("PRIVATE-TOKEN", tok)
	} else {
		r.Header.Del("PRIVATE-TOKEN")
	}
	resp, err := t.next.RoundTrip(r)
	if err == nil && t.limiter != nil {
		t.limiter.observe(req.Context(), resp.Header)
	}
	return resp, err
}

// TokenInfo reads the token's id, scopes and expiry.
func (c *Client) TokenInfo(ctx context.Context) (TokenInfo, error) {
	tok, resp, err := c.gl.PersonalAccessTokens.GetSinglePersonalAccessToken(gl.WithContext(ctx))
	if err != nil {
		if resp != nil && (resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusForbidden) {
			return TokenInfo{}, ErrTokenInfoUnavailable
		}
		return TokenInfo{}, c.wrap("GET personal_access_tokens/self", resp, err)
	}
	info := TokenInfo{ID: tok.ID, Scopes: tok.Scopes}
	if tok.ExpiresAt != nil {
		info.Expires = time.Time(*tok.ExpiresAt).UTC()
	}
	return info, nil
}

// RotateSelf rotates the token in use (POST
// /personal_access_tokens/self/rotate, GitLab 16.10+, scope api or
// self_rotate): GitLab revokes it at once and returns its successor, which
// expires at expires (zero: GitLab's default, a week later). The caller
// must store the new token before using it: the old one no longer works.
// Rotating a token that was already revoked revokes the whole token family.
//
// https://docs.gitlab.com/api/personal_access_tokens/#rotate-a-personal-access-token
func (c *Client) RotateSelf(ctx context.Context, expires time.Time) (token string, info TokenInfo, err error) {
	opt := &gl.RotatePersonalAccessTokenOptions{}
	if !expires.IsZero() {
		d := gl.ISOTime(expires)
		opt.ExpiresAt = &d
	}
	tok, resp, err := c.gl.PersonalAccessTokens.RotatePersonalAccessTokenSelf(opt, gl.WithContext(ctx))
	if err != nil {
		return "", TokenInfo{}, c.wrap("POST personal_access_tokens/self/rotate", resp, err)
	}
	info = TokenInfo{ID: tok.ID, Scopes: tok.Scopes}
	if tok.ExpiresAt != nil {
		info.Expires = time.Time(*tok.ExpiresAt).UTC()
	}
	return tok.Token, info, nil
}
