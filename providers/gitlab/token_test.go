package gitlab

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
)

// TestTokenInfoAndRotateSelf: expires_at and scopes from
// /personal_access_tokens/self; self-rotation returns the successor and
// revokes the token in use.
func TestTokenInfoAndRotateSelf(t *testing.T) {
	exp := time.Date(2026, 12, 31, 0, 0, 0, 0, time.UTC)
	srv := start(t, gitlabtest.Options{Scopes: []string{"read_api", "self_rotate"}, TokenExpiresAt: exp})
	cur := token
	c, err := New(Options{Name: "gitlab", BaseURL: srv.URL(), TokenSource: func() string { return cur }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	info, err := c.TokenInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !info.Expires.Equal(exp) || len(info.Scopes) != 2 {
		t.Errorf("TokenInfo = %+v", info)
	}
	next := time.Date(2027, 2, 1, 0, 0, 0, 0, time.UTC)
	tok, ninfo, err := c.RotateSelf(ctx, next)
	if err != nil {
		t.Fatal(err)
	}
	if want, _ := srv.Token(); tok != want || tok == token || !ninfo.Expires.Equal(next) {
		t.Errorf("RotateSelf = %q, %+v", tok, ninfo)
	}
	// The old token is revoked.
	if _, err := c.Version(ctx); !errors.Is(err, providers.ErrUnauthorized) {
		t.Errorf("old token after rotation: %v, want unauthorized", err)
	}
	cur = tok
	if _, err := c.Version(ctx); err != nil {
		t.Errorf("new token: %v", err)
	}
}

// TestRotateSelfNeedsScope: a read_api token cannot rotate itself (403).
func TestRotateSelfNeedsScope(t *testing.T) {
	srv := start(t, gitlabtest.Options{Scopes: []string{"read_api"}})
	c := newClient(t, srv, nil, "")
	if _, _, err := c.RotateSelf(context.Background(), time.Time{}); !errors.Is(err, providers.ErrForbidden) {
		t.Errorf("RotateSelf with read_api: %v, want forbidden", err)
	}
	if tok, _ := srv.Token(); tok != token {
		t.Error("the token changed")
	}
}
