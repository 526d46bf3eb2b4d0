package github

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

func TestParseExpiration(t *testing.T) {
	want := time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC)
	for _, v := range []string{"2026-12-31 12:00:00 UTC", "2026-12-31 12:00:00 +0000", "2026-12-31 13:00:00 +0100", "2026-12-31T12:00:00Z"} {
		if got, ok := ParseExpiration(v); !ok || !got.Equal(want) {
			t.Errorf("ParseExpiration(%q) = %v, %v", v, got, ok)
		}
	}
	if _, ok := ParseExpiration("soon"); ok {
		t.Error("garbage parsed")
	}
}

// TestTokenExpiryHeaderAndRotation: the expiry GitHub states in
// GitHub-Authentication-Token-Expiration is reported for the token in
// use; each attempt sends the token the source returns at that moment, and
// a new token's expiry is unknown until a response states it.
func TestTokenExpiryHeaderAndRotation(t *testing.T) {
	exp := time.Date(2026, 12, 31, 12, 0, 0, 0, time.UTC)
	srv := githubtest.Start(t, githubtest.Options{TokenExpiration: exp})
	var cur atomic.Value
	cur.Store("ghp_first_0123456789abcdefABCDEFabcdef")
	c, err := New(Options{Name: "github", BaseURL: srv.URL(), TokenSource: func() string { return cur.Load().(string) }})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.TokenExpiry(); ok {
		t.Error("expiry known before any response")
	}
	if _, _, err := c.Whoami(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, ok := c.TokenExpiry(); !ok || !got.Equal(exp) {
		t.Errorf("TokenExpiry = %v, %v; want %v", got, ok, exp)
	}
	cur.Store("ghp_second_0123456789abcdefABCDEFabcde")
	if _, ok := c.TokenExpiry(); ok {
		t.Error("the old token's expiry is reported for the new token")
	}
	if _, _, err := c.Whoami(context.Background()); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if reqs[0].Credential != "ghp_first_0123456789abcdefABCDEFabcdef" || reqs[len(reqs)-1].Credential != "ghp_second_0123456789abcdefABCDEFabcde" {
		t.Errorf("credentials sent: %q then %q", reqs[0].Credential, reqs[len(reqs)-1].Credential)
	}
	if _, ok := c.TokenExpiry(); !ok {
		t.Error("the new token's expiry is not known after a response")
	}
}
