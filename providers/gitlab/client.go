// Package gitlab is jiralinkd's GitLab (gitlab.com and self-managed)
// provider. It reads project metadata through gitlab.com/gitlab-org/api/client-go
// (the maintained continuation of the archived github.com/xanzy/go-gitlab)
// and the REST v4 list endpoints only; client-go types never leave this
// package (convert.go maps them to the providers domain model).
//
// Requests pass client-go's pacing (configured from GitLab's RateLimit-*
// headers, it paces a large group below the limit; see headerLimiter), then the
// metadata-only guard (providers/guard), then the retry transport
// (providers/httpx). client-go's built-in retries are switched off: they
// read RateLimit-Reset but not Retry-After and log nothing, and retries
// belong in one place.
package gitlab

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/guard"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// perPage is the largest page GitLab serves.
const perPage = 100

// Options configures a Client.
type Options struct {
	Name string // configured provider name, for errors and logs
	// BaseURL is the GitLab base URL (https://gitlab.com/ or
	// https://gitlab.example.com/, with a relative URL root if any); the
	// API path api/v4/ is appended.
	BaseURL string
	// Token is a personal, group or project access token with read_api.
	Token string
	// TokenSource, when set, is called for every attempt and returns the
	// token to send (a token file rotated while running); it overrides
	// Token.
	TokenSource func() string
	HTTPClient  *http.Client // timeouts, TLS; its Transport is wrapped
	Retry       httpx.RetryOptions
	Logger      *slog.Logger
	// ExcludeSubgroups limits group listings to the group's own projects
	// (config include_subgroups: false).
	ExcludeSubgroups bool
}

// Client reads metadata from one GitLab server with one token.
type Client struct {
	name             string
	gl               *gl.Client
	retry            *httpx.RetryTransport
	guard            *guard.Transport
	excludeSubgroups bool
}

// New builds a Client. It does not contact the server.
func New(opts Options) (*Client, error) {
	base := opts.BaseURL
	if base == "" {
		base = "https://gitlab.com/"
	}
	u, err := url.Parse(base)
	if err != nil || u.Scheme == "" || u.Host == "" {
		return nil, fmt.Errorf("gitlab %q: invalid base URL %q", opts.Name, opts.BaseURL)
	}
	apiPath := strings.TrimSuffix(u.Path, "/") + "/api/v4/"
	tok := opts.TokenSource
	if tok == nil {
		static := opts.Token
		tok = func() string { return static }
	}
	authed := &http.Client{}
	if opts.HTTPClient != nil {
		cp := *opts.HTTPClient
		authed = &cp
	}
	next := authed.Transport
	if next == nil {
		next = http.DefaultTransport
	}
	limiter := &headerLimiter{}
	authed.Transport = &tokenTransport{next: next, token: tok, limiter: limiter}
	hc := guard.NewClient(authed, guard.GitLab, apiPath, opts.Retry, opts.Name, opts.Logger)

	// The token is set per attempt by tokenTransport; client-go sends an
	// empty PRIVATE-TOKEN, which that transport replaces.
	c, err := gl.NewClient("",
		gl.WithBaseURL(base),
		gl.WithHTTPClient(hc.HTTP),
		gl.WithoutRetries(),
		gl.WithCustomLimiter(limiter),
		gl.WithUserAgent("jiralinkd"),
	)
	if err != nil {
		return nil, fmt.Errorf("gitlab %q: %w", opts.Name, err)
	}
	return &Client{name: opts.Name, gl: c, retry: hc.Retry, guard: hc.Guard, excludeSubgroups: opts.ExcludeSubgroups}, nil
}

// Classify names the API endpoint of an escaped request path (metrics).
func (c *Client) Classify(escapedPath string) string { return c.guard.Classify(escapedPath) }

// RateLimit is the latest rate-limit budget seen in responses.
func (c *Client) RateLimit() httpx.RateLimit { return c.retry.RateLimit() }

// Whoami returns the token user's username and the token's scopes (read
// from /personal_access_tokens/self; empty when the server does not say or
// does not let the token read it: older GitLab versions (404), tokens that
// are not personal access tokens or lack the permission (403)).
func (c *Client) Whoami(ctx context.Context) (username string, scopes []string, err error) {
	u, resp, err := c.gl.Users.CurrentUser(gl.WithContext(ctx))
	if err != nil {
		return "", nil, c.wrap("GET user", resp, err)
	}
	tok, resp, err := c.gl.PersonalAccessTokens.GetSinglePersonalAccessToken(gl.WithContext(ctx))
	if err == nil {
		scopes = tok.Scopes
	} else if resp == nil || (resp.StatusCode != http.StatusNotFound && resp.StatusCode != http.StatusForbidden) {
		return u.Username, nil, c.wrap("GET personal_access_tokens/self", resp, err)
	}
	return u.Username, scopes, nil
}

// Version returns the server's GitLab version.
func (c *Client) Version(ctx context.Context) (string, error) {
	v, resp, err := c.gl.Version.GetVersion(gl.WithContext(ctx))
	if err != nil {
		return "", c.wrap("GET version", resp, err)
	}
	return v.Version, nil
}

// Group checks that a group (full path) is visible to the token.
func (c *Client) Group(ctx context.Context, fullPath string) error {
	_, resp, err := c.gl.Groups.GetGroup(fullPath, &gl.GetGroupOptions{WithProjects: gl.Ptr(false)}, gl.WithContext(ctx))
	return c.wrap("GET groups/"+fullPath, resp, err)
}

// wrap converts a client-go error into a *providers.APIError carrying a
// providers sentinel; nil for a nil err.
func (c *Client) wrap(op string, resp *gl.Response, err error) error {
	if err == nil {
		return nil
	}
	e := &providers.APIError{Provider: c.name, Op: op, Err: err}
	if resp != nil && resp.Response != nil {
		e.Status = resp.StatusCode
	}
	var er *gl.ErrorResponse
	switch {
	case errors.Is(err, providers.ErrForbiddenEndpoint), errors.Is(err, providers.ErrRateLimited):
	case errors.As(err, &er):
		e.Err = providers.StatusError(e.Status, er.Message)
	case e.Status >= 400:
		// client-go answers some statuses (404) with a bare sentinel
		// instead of an *ErrorResponse: classify by status either way.
		e.Err = providers.StatusError(e.Status, "")
	}
	return e
}

func notModified(resp *gl.Response) bool {
	return resp != nil && resp.Response != nil && resp.StatusCode == http.StatusNotModified
}
