// Package github is jiralinkd's GitHub (github.com and Enterprise Server)
// provider. It reads repository metadata through go-github and the REST v3
// list endpoints only; go-github types never leave this package (convert.go
// maps them to the providers domain model).
//
// Every request goes through three layers, outermost first: go-github's
// token transport, the metadata-only guard (providers/guard), which refuses
// anything that could return source code before it is sent, and the retry
// transport (providers/httpx), the one place that waits out rate limits and
// transient failures.
package github

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/guard"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// perPage is the largest page GitHub serves; every list is read in pages of
// this size so a backfill makes as few calls as possible.
const perPage = 100

// Options configures a Client.
type Options struct {
	// Name is the configured provider name, used in errors and logs.
	Name string
	// BaseURL is the API base: https://api.github.com/ or
	// https://ghe.example.com/api/v3/.
	BaseURL string
	// Token is a personal access token (classic or fine-grained).
	Token string
	// TokenSource, when set, is called for every attempt and returns the
	// token to send (a token file rotated while running); it overrides
	// Token.
	TokenSource func() string
	// HTTPClient supplies timeouts and TLS settings (custom CA); its
	// Transport is wrapped. Nil means a client with default settings.
	HTTPClient *http.Client
	// Retry configures the retry transport (sleep/clock injectable).
	Retry  httpx.RetryOptions
	Logger *slog.Logger
}

// Client reads metadata from one GitHub server with one token.
type Client struct {
	name  string
	gh    *gh.Client
	retry *httpx.RetryTransport
	guard *guard.Transport
	auth  *tokenTransport // nil for GitHub App installations
	// kinds remembers owners that are user accounts (feeds.go).
	kinds ownerKinds
}

// New builds a Client. It does not contact the server.
func New(opts Options) (*Client, error) {
	u, err := parseBaseURL(opts.Name, opts.BaseURL)
	if err != nil {
		return nil, err
	}
	tok := opts.TokenSource
	if tok == nil {
		static := opts.Token
		tok = func() string { return static }
	}
	base := &http.Client{}
	if opts.HTTPClient != nil {
		c := *opts.HTTPClient
		base = &c
	}
	next := base.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	auth := &tokenTransport{next: next, token: tok}
	base.Transport = auth
	c := buildClient(Options{Name: opts.Name, Retry: opts.Retry, Logger: opts.Logger}, u, base)
	c.auth = auth
	return c, nil
}

// TokenExpiry is when the token expires, as GitHub last reported in the
// GitHub-Authentication-Token-Expiration header of a response to the
// token currently in use; ok is false until a response carried it (tokens
// without an expiry never do).
func (c *Client) TokenExpiry() (t time.Time, ok bool) {
	if c.auth == nil {
		return time.Time{}, false
	}
	return c.auth.tokenExpiry()
}

// parseBaseURL parses an API base URL, defaulting to api.github.com and
// adding the trailing slash go-github needs.
func parseBaseURL(name, base string) (*url.URL, error) {
	raw := base
	if base == "" {
		base = "https://api.github.com/"
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("github %q: invalid API base URL %q", name, raw)
	}
	return u, nil
}

// buildClient builds a Client on base, whose transport is the innermost
// layer (for a GitHub App installation: the authenticating transport).
func buildClient(opts Options, u *url.URL, base *http.Client) *Client {
	hc := guard.NewClient(base, guard.GitHub, u.Path, opts.Retry, opts.Name, opts.Logger)
	c := gh.NewClient(hc.HTTP)
	c.BaseURL = u
	c.UploadURL = u
	c.UserAgent = "jiralinkd"
	if opts.Token != "" {
		c = c.WithAuthToken(opts.Token)
	}
	return &Client{name: opts.Name, gh: c, retry: hc.Retry, guard: hc.Guard}
}

// Classify names the API endpoint of an escaped request path (metrics).
func (c *Client) Classify(escapedPath string) string { return c.guard.Classify(escapedPath) }

// RateLimit is the latest primary rate-limit budget seen in responses.
func (c *Client) RateLimit() httpx.RateLimit { return c.retry.RateLimit() }

// mediaType is the Accept header GitHub's REST reference documents (and
// recommends) for every operation jiralinkd calls. go-github would send
// its own defaults, including obsolete preview media types on some
// methods (Organizations.Get: surtur-preview), so every request is built
// with newRequest.
const mediaType = "application/vnd.github+json"

// newRequest is a GET of path (relative to the API base) with the
// documented media type.
func (c *Client) newRequest(path string) (*http.Request, error) {
	req, err := c.gh.NewRequest(http.MethodGet, path, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: build request %s: %w", c.name, path, err)
	}
	req.Header.Set("Accept", mediaType)
	return req, nil
}

// Whoami returns the login of the token's user and the OAuth scopes GitHub
// reports for it in X-OAuth-Scopes: nil when GitHub sent no such header
// (fine-grained tokens, GitHub Apps), empty for a token without scopes.
func (c *Client) Whoami(ctx context.Context) (login string, scopes []string, err error) {
	req, err := c.newRequest("user")
	if err != nil {
		return "", nil, err
	}
	var u gh.User
	resp, err := c.gh.Do(ctx, req, &u)
	if err != nil {
		return "", nil, c.wrap("GET user", resp, err)
	}
	// nil: no header (fine-grained tokens, apps); empty: a token without scopes.
	if v, ok := resp.Header[http.CanonicalHeaderKey("X-OAuth-Scopes")]; ok {
		scopes = []string{}
		for _, p := range strings.Split(strings.Join(v, ","), ",") {
			if p = strings.TrimSpace(p); p != "" {
				scopes = append(scopes, p)
			}
		}
	}
	return u.GetLogin(), scopes, nil
}

// Org checks that an organization is visible to the token.
func (c *Client) Org(ctx context.Context, org string) error {
	path := "orgs/" + url.PathEscape(org)
	req, err := c.newRequest(path)
	if err != nil {
		return err
	}
	resp, err := c.gh.Do(ctx, req, nil)
	return c.wrap("GET "+path, resp, err)
}

// wrap converts a go-github error into a *providers.APIError carrying a
// providers sentinel. It returns nil for a nil err.
func (c *Client) wrap(op string, resp *gh.Response, err error) error {
	if err == nil {
		return nil
	}
	e := &providers.APIError{Provider: c.name, Op: op, Err: err}
	if resp != nil && resp.Response != nil {
		e.Status = resp.StatusCode
	}
	var (
		rl  *gh.RateLimitError
		arl *gh.AbuseRateLimitError
		er  *gh.ErrorResponse
	)
	switch {
	case errors.Is(err, providers.ErrForbiddenEndpoint), errors.Is(err, providers.ErrRateLimited):
		// Already one of ours (guard, retry transport).
	case errors.As(err, &rl):
		e.Err = providers.RateLimited(rl.Message)
	case errors.As(err, &arl):
		e.Err = providers.RateLimited(arl.Message)
	case errors.As(err, &er):
		e.Err = providers.StatusError(e.Status, er.Message)
	}
	return e
}

// notModified reports whether a go-github call ended in 304 Not Modified,
// which go-github surfaces as an *ErrorResponse.
func notModified(resp *gh.Response) bool {
	return resp != nil && resp.Response != nil && resp.StatusCode == http.StatusNotModified
}
