// Package jiraclient is a small hand-written client for the Jira Data Center
// REST API v2, limited to what jiralinkd needs: server and user checks, the
// project list, a batched "which of these issues exist" search and remote
// issue links.
//
// The same client talks to Jira Cloud (see Deployment): Cloud serves the
// same v2 endpoints but for the issue search, which it only offers as
// POST /rest/api/3/search/jql, and caps remote links per issue
// (ErrLinkLimit). On Cloud, authenticate with the account's e-mail address
// and an API token as Auth.Username and Auth.Password.
//
// Retries and rate limits are handled once, by the httpx.RetryTransport the
// client wraps around its HTTP transport; the methods here make one logical
// request each and turn non-success responses into *Error.
package jiraclient

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

const (
	// DefaultAttemptTimeout bounds how long one attempt waits for response
	// headers with the default HTTP client.
	DefaultAttemptTimeout = 30 * time.Second
	defaultUserAgent      = "jiralinkd"
	maxResponseBody       = 32 << 20
	maxErrorBody          = 1 << 20
	maxRedirects          = 10
)

// Auth holds Jira credentials: a personal access token (sent as
// "Authorization: Bearer <token>") or, when Token is empty, a user name and
// password for HTTP basic auth. Its String, GoString, Format and LogValue
// never reveal the secrets.
type Auth struct {
	Token              string
	Username, Password string
	// Secret, when set, returns the current token (or, with Username, the
	// current password) and is called for every attempt, so that a
	// secret file rotated while running takes effect at the next attempt
	// and the former value is never sent again. It overrides Token or
	// Password, one of which must still be set to choose the scheme.
	Secret func() string
}

func (a Auth) String() string {
	switch {
	case a.Token != "":
		return "jiraclient.Auth{bearer token [redacted]}"
	case a.Username != "":
		return fmt.Sprintf("jiraclient.Auth{basic user %q, password [redacted]}", a.Username)
	}
	return "jiraclient.Auth{none}"
}

// GoString is String, so %#v does not print the fields either.
func (a Auth) GoString() string { return a.String() }

// Format prints String for every verb, so no verb (%d, %x…) can reach the
// fields.
func (a Auth) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, a.String()) }

// LogValue implements slog.LogValuer.
func (a Auth) LogValue() slog.Value { return slog.StringValue(a.String()) }

func (a Auth) apply(h http.Header) {
	if a.Token != "" {
		tok := a.Token
		if a.Secret != nil {
			tok = a.Secret()
		}
		h.Set("Authorization", "Bearer "+tok)
		return
	}
	pw := a.Password
	if a.Secret != nil {
		pw = a.Secret()
	}
	h.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(a.Username+":"+pw)))
}

// authTransport sets the credentials on every attempt (below the retry
// transport), so a retried request carries the secret current at the
// time of the retry. Only requests to the configured host get them: a
// redirect elsewhere is sent without credentials.
type authTransport struct {
	next http.RoundTripper
	auth Auth
	host string
}

func (t *authTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	r := req.Clone(req.Context())
	if strings.EqualFold(r.URL.Host, t.host) {
		t.auth.apply(r.Header)
	} else {
		r.Header.Del("Authorization")
	}
	return t.next.RoundTrip(r)
}

// Options configures New.
type Options struct {
	// BaseURL is the Jira base URL, e.g. https://jira.example.com or, with a
	// context path, https://host/jira. The path is kept.
	BaseURL string
	Auth    Auth
	// HTTPClient is copied, never modified; its Transport is wrapped in an
	// httpx.RetryTransport. Note that a Client.Timeout then also bounds the
	// retries and their waits. nil means a client whose every attempt waits
	// at most DefaultAttemptTimeout for response headers; bound whole calls,
	// waits included, with the context.
	HTTPClient *http.Client
	// Retry configures the retry transport; Name defaults to "jira" and
	// Logger to Options.Logger.
	Retry     httpx.RetryOptions
	UserAgent string // default "jiralinkd"
	Logger    *slog.Logger
	// Deployment says which kind of Jira BaseURL is: DeploymentAuto (the
	// zero value) detects it on first use, see Client.Deployment. On Jira
	// Cloud, authenticate with basic auth: Auth.Username is the account's
	// e-mail address and Auth.Password an API token
	// (id.atlassian.com → Security → API tokens); Cloud does not accept
	// API tokens as Bearer tokens.
	Deployment Deployment
}

// Client talks to one Jira server. It is safe for concurrent use.
type Client struct {
	base      *url.URL
	auth      Auth
	http      *http.Client
	retry     *httpx.RetryTransport
	userAgent string
	logger    *slog.Logger
	// deployment is Options.Deployment; detected caches what
	// Client.Deployment found when that is DeploymentAuto.
	deployment Deployment
	mu         sync.Mutex
	detected   Deployment
}

// New returns a client for opts.BaseURL. It makes no request.
func New(opts Options) (*Client, error) {
	base, err := url.Parse(strings.TrimSpace(opts.BaseURL))
	if err != nil {
		return nil, fmt.Errorf("jiraclient: invalid base URL: %w", err)
	}
	if base.Scheme != "http" && base.Scheme != "https" || base.Host == "" {
		return nil, fmt.Errorf("jiraclient: base URL %q must be an absolute http(s) URL", base.Redacted())
	}
	if base.User != nil {
		return nil, errors.New("jiraclient: base URL must not contain credentials; use Options.Auth")
	}
	if base.RawQuery != "" || base.Fragment != "" {
		return nil, fmt.Errorf("jiraclient: base URL %q must not have a query or fragment", base.Redacted())
	}
	if opts.Auth.Token == "" && opts.Auth.Username == "" {
		return nil, errors.New("jiraclient: Auth needs a Token or a Username and Password")
	}
	if !opts.Deployment.valid() {
		return nil, fmt.Errorf("jiraclient: unknown deployment %q: want %q, %q or %q (auto)",
			opts.Deployment, DeploymentDataCenter, DeploymentCloud, DeploymentAuto)
	}
	base.Path = strings.TrimRight(base.Path, "/")
	base.RawPath = ""

	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ropts := opts.Retry
	if ropts.Name == "" {
		ropts.Name = "jira"
	}
	if ropts.Logger == nil {
		ropts.Logger = logger
	}

	var hc http.Client
	if opts.HTTPClient != nil {
		hc = *opts.HTTPClient
	} else {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.ResponseHeaderTimeout = DefaultAttemptTimeout
		hc.Transport = tr
	}
	inner := hc.Transport
	if inner == nil {
		inner = http.DefaultTransport
	}
	retry := httpx.NewRetryTransport(&authTransport{next: inner, auth: opts.Auth, host: base.Host}, ropts)
	hc.Transport = retry
	hc.CheckRedirect = noRedirectUnlessGet(hc.CheckRedirect)

	userAgent := opts.UserAgent
	if userAgent == "" {
		userAgent = defaultUserAgent
	}
	return &Client{base: base, auth: opts.Auth, http: &hc, retry: retry, userAgent: userAgent, logger: logger,
		deployment: opts.Deployment}, nil
}

// noRedirectUnlessGet follows redirects only for GET: a redirected write
// would be replayed as a GET (301-303) or resent to a place we did not
// choose. The 3xx response then surfaces as an *Error.
func noRedirectUnlessGet(next func(*http.Request, []*http.Request) error) func(*http.Request, []*http.Request) error {
	return func(req *http.Request, via []*http.Request) error {
		if via[0].Method != http.MethodGet {
			return http.ErrUseLastResponse
		}
		if next != nil {
			return next(req, via)
		}
		if len(via) >= maxRedirects {
			return fmt.Errorf("stopped after %d redirects", maxRedirects)
		}
		return nil
	}
}

// RateLimit returns the latest rate-limit budget Jira reported, if any.
func (c *Client) RateLimit() httpx.RateLimit { return c.retry.RateLimit() }

// do sends one API request to /rest/api/2/<rel>. in, if not nil, is sent
// as JSON; out, if not nil, receives the JSON response. Statuses other than
// ok become *Error; network failures keep their cause (errors.Is works) but
// never the query string.
func (c *Client) do(ctx context.Context, method, rel string, query url.Values, in, out any, ok ...int) (int, error) {
	status, _, err := c.send(ctx, method, apiV2+rel, query, in, out, ok...)
	return status, err
}

// apiV2 and apiV3 prefix the REST paths below the base URL. Only Jira Cloud
// has v3; jiralinkd uses it for the one endpoint Cloud has no v2 form of.
const (
	apiV2 = "/rest/api/2/"
	apiV3 = "/rest/api/3/"
)

// send is do for any path below the base URL; it also returns the
// response headers (nil when no response arrived).
func (c *Client) send(ctx context.Context, method, path string, query url.Values, in, out any, ok ...int) (int, http.Header, error) {
	return c.exchange(ctx, method, path, query, in, out, sendDefault, ok...)
}

// doIdempotent is do for a POST that is safe to repeat (an upsert, a
// search): the retry transport retries it after a 500 like a GET.
func (c *Client) doIdempotent(ctx context.Context, method, rel string, query url.Values, in, out any, ok ...int) (int, error) {
	status, _, err := c.exchange(ctx, method, apiV2+rel, query, in, out, sendIdempotent, ok...)
	return status, err
}

// sendMode says how often the retry transport may send a request.
type sendMode int

const (
	// sendDefault leaves it to the method: GET, PUT and DELETE are retried
	// after any transient failure, other methods not after a 500.
	sendDefault sendMode = iota
	// sendIdempotent marks a request whose repetition is harmless
	// (httpx.MarkIdempotent), so it is retried after a 500 too.
	sendIdempotent
	// sendOnce makes the body non-rewindable, so the retry transport
	// (which replays only requests with GetBody) sends it exactly once.
	sendOnce
)

// exchange sends one request, as often as mode allows.
func (c *Client) exchange(ctx context.Context, method, path string, query url.Values, in, out any, mode sendMode, ok ...int) (int, http.Header, error) {
	u := *c.base
	u.Path = c.base.Path + path
	u.RawQuery = query.Encode()

	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, nil, fmt.Errorf("jira: encoding %s %s request: %w", method, u.Path, err)
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return 0, nil, fmt.Errorf("jira: building %s %s request: %w", method, u.Path, err)
	}
	switch mode {
	case sendOnce:
		req.GetBody = nil
	case sendIdempotent:
		httpx.MarkIdempotent(req)
	}
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if method != http.MethodGet {
		// Jira's XSRF check is for browser forms; REST clients opt out.
		req.Header.Set("X-Atlassian-Token", "no-check")
	}
	// The credentials are set per attempt by authTransport.

	start := time.Now()
	resp, err := c.http.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // its message repeats the URL with the query string
		}
		return 0, nil, &transportError{method: method, path: u.Path, err: err}
	}
	defer resp.Body.Close()
	c.logger.Debug("jira request", "method", method, "path", u.Path, "status", resp.StatusCode, "duration", time.Since(start))

	for _, s := range ok {
		if resp.StatusCode != s {
			continue
		}
		if out == nil {
			_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody))
			return resp.StatusCode, resp.Header, nil
		}
		if err := json.NewDecoder(io.LimitReader(resp.Body, maxResponseBody)).Decode(out); err != nil {
			return resp.StatusCode, resp.Header, fmt.Errorf("jira: %s %s: decoding response: %w", method, u.Path, err)
		}
		return resp.StatusCode, resp.Header, nil
	}
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	return resp.StatusCode, resp.Header, newError(method, u.Path, resp.StatusCode, b)
}
