package jiraclient_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
)

// TestTokenExpiry: the expiringAt of the caller's token from Jira DC's PAT
// list; a Jira without the list (404) or basic auth means unknown.
func TestTokenExpiry(t *testing.T) {
	exp := time.Date(2026, 12, 31, 14, 23, 55, 0, time.UTC)
	srv := startFake(t, func(o *jiratest.Options) { o.TokenExpiringAt = exp })
	c, _ := newClient(t, srv.URL(), nil)
	got, err := c.TokenExpiry(context.Background())
	if err != nil || !got.Equal(exp) {
		t.Errorf("TokenExpiry = %v, %v; want %v", got, err, exp)
	}

	old := startFake(t, func(o *jiratest.Options) { o.NoPATList = true })
	c, _ = newClient(t, old.URL(), nil)
	if _, err := c.TokenExpiry(context.Background()); !errors.Is(err, jiraclient.ErrTokenExpiryUnknown) {
		t.Errorf("without the PAT list: %v, want ErrTokenExpiryUnknown", err)
	}

	never := startFake(t, nil)
	c, _ = newClient(t, never.URL(), nil)
	if _, err := c.TokenExpiry(context.Background()); !errors.Is(err, jiraclient.ErrTokenExpiryUnknown) {
		t.Errorf("a token without expiry: %v, want ErrTokenExpiryUnknown", err)
	}

	basic := startFake(t, func(o *jiratest.Options) { o.Token, o.Username, o.Password = "", "bot", "pw" })
	c, _ = newClient(t, basic.URL(), func(o *jiraclient.Options) { o.Auth = jiraclient.Auth{Username: "bot", Password: "pw"} })
	if _, err := c.TokenExpiry(context.Background()); !errors.Is(err, jiraclient.ErrTokenExpiryUnknown) {
		t.Errorf("basic auth: %v, want ErrTokenExpiryUnknown", err)
	}
	if n := len(basic.Requests()); n != 0 {
		t.Errorf("basic auth asked Jira %d times", n)
	}
}

// TestAuthSecretPerAttempt: with Auth.Secret, each request carries the
// secret current at that moment.
func TestAuthSecretPerAttempt(t *testing.T) {
	srv := startFake(t, func(o *jiratest.Options) { o.Token = "" })
	cur := "first-token-0123456789"
	c, _ := newClient(t, srv.URL(), func(o *jiraclient.Options) {
		o.Auth = jiraclient.Auth{Token: cur, Secret: func() string { return cur }}
	})
	ctx := context.Background()
	if _, err := c.Myself(ctx); err != nil {
		t.Fatal(err)
	}
	cur = "second-token-0123456789"
	if _, err := c.Myself(ctx); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Credential != "first-token-0123456789" || reqs[1].Credential != "second-token-0123456789" {
		t.Errorf("requests = %+v", reqs)
	}
}
