package github

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/bradleyfalzon/ghinstallation/v2"
	jwt "github.com/golang-jwt/jwt/v4"
	gh "github.com/google/go-github/v62/github"

	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/guard"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// AllInstallations is the owner that, given to App.OwnerRepos, lists every
// repository the App's installations can see (GET /installation/repositories
// of each installation). The daemon uses it as the only owner of an App
// provider configured without orgs and repos, so the indexer discovers an
// App's repositories through its ordinary owner listing, cached and
// conditional like any other, and needs no knowledge of Apps.
const AllInstallations = "all installations" // never a GitHub login: it has a space

// Sentinel errors of GitHub App authentication; an *AppAuthError matches
// one of them, and also providers.ErrUnauthorized or ErrForbidden.
var (
	// ErrAppKeyRejected: GitHub refused the App's JWT (401): the private
	// key does not belong to the App, the app_id is wrong, or the clock is
	// off by more than the JWT's lifetime.
	ErrAppKeyRejected = errors.New("GitHub rejected the App's JWT (a private key of another App, a wrong app_id, or the clock is off)")
	// ErrInstallationSuspended: the installation is suspended (403 on
	// token creation); an owner of the account must unsuspend it.
	ErrInstallationSuspended = errors.New("installation suspended")
	// ErrInstallationNotFound: no such installation of the App (404 on
	// token creation): uninstalled, or a wrong installation_id.
	ErrInstallationNotFound = errors.New("installation not found")
)

// AppAuthError is a failed GitHub App authentication step: a JWT request
// (GET /app, GET /app/installations) or the creation of an installation
// access token. It never contains a credential.
type AppAuthError struct {
	Provider       string
	InstallationID int64  // 0 for the App's own (JWT) requests
	Status         int    // HTTP status GitHub answered
	Message        string // GitHub's message
}

func (e *AppAuthError) Error() string {
	what := "App authentication"
	if e.InstallationID != 0 {
		what = "access token for installation " + strconv.FormatInt(e.InstallationID, 10)
	}
	var kind error
	switch {
	case e.Status == http.StatusUnauthorized:
		kind = ErrAppKeyRejected
	case e.InstallationID != 0 && e.Status == http.StatusForbidden:
		kind = ErrInstallationSuspended
	case e.InstallationID != 0 && e.Status == http.StatusNotFound:
		kind = ErrInstallationNotFound
	}
	msg := fmt.Sprintf("%s: %s: HTTP %d", e.Provider, what, e.Status)
	if kind != nil {
		msg += ": " + kind.Error()
	}
	if e.Message != "" {
		msg += fmt.Sprintf("; GitHub says %q", e.Message)
	}
	return msg
}

// Is matches the App sentinels and the providers sentinel of the status:
// a rejected JWT and a missing installation are rejected credentials
// (providers.ErrUnauthorized), a suspended installation is
// providers.ErrForbidden.
func (e *AppAuthError) Is(target error) bool {
	switch target {
	case ErrAppKeyRejected:
		return e.Status == http.StatusUnauthorized
	case ErrInstallationSuspended:
		return e.InstallationID != 0 && e.Status == http.StatusForbidden
	case ErrInstallationNotFound:
		return e.InstallationID != 0 && e.Status == http.StatusNotFound
	case providers.ErrUnauthorized:
		return e.Status == http.StatusUnauthorized || e.Status == http.StatusNotFound
	case providers.ErrForbidden:
		return e.Status == http.StatusForbidden
	}
	return false
}

// AppOptions configures NewApp.
type AppOptions struct {
	// Name is the configured provider name, used in errors and logs.
	Name string
	// BaseURL is the API base: https://api.github.com/ or
	// https://ghe.example.com/api/v3/ (token requests go to
	// {BaseURL}app/installations/{id}/access_tokens).
	BaseURL string
	AppID   int64
	// InstallationID selects one installation; 0 uses every installation
	// of the App (GET /app/installations).
	InstallationID int64
	// PrivateKey is the App's PEM-encoded RSA private key.
	PrivateKey []byte
	// PrivateKeySource, when set, returns the current PEM key and is read
	// for every JWT (a rotated key file takes effect at the next JWT); a
	// value that does not parse keeps the last good key. PrivateKey is
	// still the starting key and is checked by NewApp.
	PrivateKeySource func() string
	// HTTPClient supplies timeouts and TLS settings; its Transport is
	// wrapped. Nil means default settings.
	HTTPClient *http.Client
	// Retry configures the retry transports: the App's JWT requests and
	// each installation get their own, so each budget is paced alone.
	Retry  httpx.RetryOptions
	Logger *slog.Logger
}

// App reads metadata from one GitHub server as a GitHub App. It
// implements the same Source methods as Client, dispatching each
// repository to the installation on its owner's account.
//
// Every installation has its own client chain — guard → retry/pacing
// transport → installation-token transport (ghinstallation, which creates
// the token with the App's JWT and renews it a minute before it expires) →
// guard again for the token requests → the network — so each installation's
// rate-limit budget (5,000 to 12,500 requests an hour) is tracked and paced
// on its own. The App's own requests (GET /app, GET /app/installations)
// carry a JWT through a chain of their own.
//
// App deliberately implements neither indexer.PushFeed nor
// indexer.PullFeed (Client does): its usual owner, AllInstallations, is
// read from GET /installation/repositories, which has no sort order, and
// no single organization list or search covers it. Its passes list each
// repository's branches, tags and pull requests, conditionally.
type App struct {
	name string
	opts AppOptions
	base *url.URL
	key  *keySigner
	jwt  *Client

	mu       sync.Mutex
	installs map[int64]*installation
	listed   []Installation // last GET /app/installations; nil until listed
}

// installation is one installation's client.
type installation struct {
	id     int64
	client *Client
	token  *ghinstallation.Transport
}

// NewApp builds an App. It parses the key but does not contact the server.
func NewApp(opts AppOptions) (*App, error) {
	u, err := parseBaseURL(opts.Name, opts.BaseURL)
	if err != nil {
		return nil, err
	}
	if opts.AppID <= 0 {
		return nil, fmt.Errorf("github %q: app id %d is not a GitHub App ID", opts.Name, opts.AppID)
	}
	key, err := jwt.ParseRSAPrivateKeyFromPEM(opts.PrivateKey)
	if err != nil {
		// The parser's messages never quote the key.
		return nil, fmt.Errorf("github %q: the App's private key: %w", opts.Name, err)
	}
	a := &App{name: opts.Name, opts: opts, base: u, key: newKeySigner(opts.PrivateKey, key, opts.PrivateKeySource), installs: map[int64]*installation{}}
	a.jwt = buildClient(Options{Name: opts.Name, Retry: opts.Retry, Logger: opts.Logger}, u,
		a.httpClient(func(inner http.RoundTripper) http.RoundTripper { return a.appsTransport(inner) }))
	return a, nil
}

// apiBase is the base URL as ghinstallation wants it (no trailing slash).
func (a *App) apiBase() string { return strings.TrimSuffix(a.base.String(), "/") }

// appsTransport signs each request with a fresh App JWT.
func (a *App) appsTransport(inner http.RoundTripper) *ghinstallation.AppsTransport {
	at, err := ghinstallation.NewAppsTransportWithOptions(inner, a.opts.AppID, ghinstallation.WithSigner(a.key))
	if err != nil { // NewAppsTransportWithOptions fails only without a signer: a.key is never nil
		panic(err)
	}
	at.BaseURL = a.apiBase()
	return at
}

// httpClient copies the configured client with its transport replaced by
// auth(guard(original transport)): requests the auth layer makes itself
// (token creation) pass the metadata guard too.
func (a *App) httpClient(auth func(inner http.RoundTripper) http.RoundTripper) *http.Client {
	hc := &http.Client{}
	if a.opts.HTTPClient != nil {
		c := *a.opts.HTTPClient
		hc = &c
	}
	hc.Transport = auth(guard.New(hc.Transport, guard.GitHub, a.base.Path))
	return hc
}

// installation returns the client of installation id, creating it.
func (a *App) installation(id int64) *installation {
	a.mu.Lock()
	defer a.mu.Unlock()
	if in, ok := a.installs[id]; ok {
		return in
	}
	in := &installation{id: id}
	hc := a.httpClient(func(inner http.RoundTripper) http.RoundTripper {
		// One AppsTransport per installation: ghinstallation writes to it
		// on every token refresh.
		in.token = ghinstallation.NewFromAppsTransport(a.appsTransport(inner), id)
		return &tokenErrors{next: in.token, provider: a.name, id: id}
	})
	in.client = buildClient(Options{Name: a.name, Retry: a.opts.Retry, Logger: a.opts.Logger}, a.base, hc)
	a.installs[id] = in
	return in
}

// tokenErrors turns ghinstallation's token-creation failures into
// *AppAuthError, so callers can tell a wrong key from a suspended
// installation with errors.Is.
type tokenErrors struct {
	next     http.RoundTripper
	provider string
	id       int64
}

// A token request that failed transiently (429, 502, 503, 504) hands its
// response up to the retry transport instead, which waits and retries the
// call as it would any other (the one place requests are retried).
func (t *tokenErrors) RoundTrip(req *http.Request) (*http.Response, error) {
	resp, err := t.next.RoundTrip(req)
	if err == nil {
		return resp, nil
	}
	var he *ghinstallation.HTTPError
	if errors.As(err, &he) && he.Response != nil {
		switch he.Response.StatusCode {
		case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
			r := he.Response
			r.Request = req
			for _, h := range []string{"X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Used", "X-RateLimit-Reset", "X-RateLimit-Resource"} {
				r.Header.Del(h) // the App's budget, not the installation's
			}
			return r, nil
		}
	}
	return nil, tokenError(t.provider, t.id, err)
}

// tokenError converts ghinstallation's error for a token request GitHub
// answered into an *AppAuthError; other errors (network) are returned as
// they are, so the retry transport still sees them.
func tokenError(provider string, id int64, err error) error {
	var he *ghinstallation.HTTPError
	if !errors.As(err, &he) || he.Response == nil {
		return err
	}
	e := &AppAuthError{Provider: provider, InstallationID: id, Status: he.Response.StatusCode}
	if he.Response.Body != nil {
		var body struct {
			Message string `json:"message"`
		}
		_ = decodeJSON(he.Response.Body, &body)
		he.Response.Body.Close()
		e.Message = body.Message
	}
	return e
}

// Classify names the API endpoint of an escaped request path (metrics).
func (a *App) Classify(escapedPath string) string { return a.jwt.Classify(escapedPath) }

// InstallationRateLimit is one installation's latest budget.
type InstallationRateLimit struct {
	InstallationID int64
	httpx.RateLimit
}

// RateLimits returns the latest budget of every installation used so far,
// by installation id.
func (a *App) RateLimits() []InstallationRateLimit {
	a.mu.Lock()
	ids := make([]int64, 0, len(a.installs))
	for id := range a.installs {
		ids = append(ids, id)
	}
	a.mu.Unlock()
	slices.Sort(ids)
	out := make([]InstallationRateLimit, 0, len(ids))
	for _, id := range ids {
		out = append(out, InstallationRateLimit{InstallationID: id, RateLimit: a.installation(id).client.RateLimit()})
	}
	return out
}

// RateLimit is the tightest known installation budget (the fewest requests
// remaining), the figure the status page and metrics show for the
// provider; RateLimits has every installation's.
func (a *App) RateLimit() httpx.RateLimit {
	var low httpx.RateLimit
	for _, rl := range a.RateLimits() {
		if rl.Known && (!low.Known || rl.Remaining < low.Remaining) {
			low = rl.RateLimit
		}
	}
	return low
}

// AppInfo is what GET /app says about the App.
type AppInfo struct {
	ID         int64
	Slug, Name string
	Owner      string
	// Permissions the App requests, e.g. {"metadata": "read"}.
	Permissions map[string]string
	// ServerTime is the response's Date header (zero if absent).
	ServerTime time.Time
}

// Info reads the App itself with its JWT (GET /app). A wrong key or app
// id answers an error matching ErrAppKeyRejected.
func (a *App) Info(ctx context.Context) (AppInfo, error) {
	app, resp, err := a.jwt.gh.Apps.Get(ctx, "")
	if err != nil {
		return AppInfo{}, a.jwtError("GET app", resp, err)
	}
	info := convertApp(app)
	if resp != nil {
		if t, err := http.ParseTime(resp.Header.Get("Date")); err == nil {
			info.ServerTime = t
		}
	}
	return info, nil
}

// Installation is one installation of the App.
type Installation struct {
	ID          int64
	Account     string // login of the user or organization
	AccountType string // "Organization" or "User"
	// RepositorySelection is "all" or "selected".
	RepositorySelection string
	Suspended           bool
	Permissions         map[string]string // e.g. {"metadata": "read"}
}

// Installations lists the App's installations (GET /app/installations,
// with the JWT). With an InstallationID configured only that one is
// returned; ErrInstallationNotFound if the App has no such installation.
func (a *App) Installations(ctx context.Context) ([]Installation, error) {
	var items []*gh.Installation
	for page := 1; ; {
		ins, resp, err := a.jwt.gh.Apps.ListInstallations(withWait(ctx), &gh.ListOptions{PerPage: perPage, Page: page})
		if err != nil {
			return nil, a.jwtError("GET app/installations", resp, err)
		}
		items = append(items, ins...)
		if resp.NextPage == 0 || len(ins) == 0 {
			break
		}
		page = resp.NextPage
	}
	all := providers.Convert(items, convertInstallation)
	if id := a.opts.InstallationID; id != 0 {
		all = slices.DeleteFunc(all, func(in Installation) bool { return in.ID != id })
		if len(all) == 0 {
			return nil, fmt.Errorf("%s: GET app/installations does not list installation %d: %w", a.name, id, ErrInstallationNotFound)
		}
	}
	a.mu.Lock()
	a.listed = all
	a.mu.Unlock()
	return all, nil
}

// CheckInstallation creates (or reuses) installation id's access token and
// returns when it expires. A suspended installation answers an error
// matching ErrInstallationSuspended.
func (a *App) CheckInstallation(ctx context.Context, id int64) (time.Time, error) {
	in := a.installation(id)
	if _, err := in.token.Token(ctx); err != nil {
		return time.Time{}, tokenError(a.name, id, err)
	}
	exp, _, err := in.token.Expiry()
	return exp, err
}

// jwtError converts a failed JWT request's error; a 401 becomes an
// *AppAuthError matching ErrAppKeyRejected.
func (a *App) jwtError(op string, resp *gh.Response, err error) error {
	if resp != nil && resp.Response != nil && resp.StatusCode == http.StatusUnauthorized {
		return &AppAuthError{Provider: a.name, Status: resp.StatusCode, Message: messageOf(err)}
	}
	return a.jwt.wrap(op, resp, err)
}

// messageOf is GitHub's message in a go-github error, or "".
func messageOf(err error) string {
	var er *gh.ErrorResponse
	if errors.As(err, &er) {
		return er.Message
	}
	return ""
}

// active returns the installations to use: the configured one, or every
// installation of the App that is not suspended (listed anew). skipped
// reports whether a suspended installation was left out.
func (a *App) active(ctx context.Context) (ids []int64, skipped []Installation, err error) {
	if id := a.opts.InstallationID; id != 0 {
		return []int64{id}, nil, nil
	}
	all, err := a.Installations(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, in := range all {
		if in.Suspended {
			skipped = append(skipped, in)
			continue
		}
		ids = append(ids, in.ID)
	}
	return ids, skipped, nil
}

// clientFor returns the client of the installation on owner's account.
func (a *App) clientFor(ctx context.Context, owner string) (*Client, error) {
	if id := a.opts.InstallationID; id != 0 {
		return a.installation(id).client, nil
	}
	a.mu.Lock()
	listed := a.listed
	a.mu.Unlock()
	find := func(list []Installation) (int64, bool) {
		for _, in := range list {
			if strings.EqualFold(in.Account, owner) {
				return in.ID, true
			}
		}
		return 0, false
	}
	id, ok := find(listed)
	if !ok {
		fresh, err := a.Installations(ctx) // installed since the last listing?
		if err != nil {
			return nil, err
		}
		if id, ok = find(fresh); !ok {
			return nil, &providers.APIError{Provider: a.name, Op: "find installation for " + owner,
				Err: providers.StatusError(http.StatusNotFound, "the App is not installed on "+owner)}
		}
	}
	return a.installation(id).client, nil
}

// ownerOf is the owner part of owner/name.
func ownerOf(fullName string) string {
	owner, _, _ := strings.Cut(fullName, "/")
	return owner
}

// OwnerRepos lists the repositories of an owner through the installation
// on its account, or, for AllInstallations, every repository every active
// installation can see. Conditional: prev holds each installation's page
// ETags, and an unchanged set answers Unchanged.
func (a *App) OwnerRepos(ctx context.Context, owner string, prev providers.ListState) (providers.Listed[providers.Repo], error) {
	if owner != AllInstallations {
		c, err := a.clientFor(ctx, owner)
		if err != nil {
			return providers.Listed[providers.Repo]{}, err
		}
		return c.OwnerRepos(ctx, owner, prev)
	}
	ids, skipped, err := a.active(ctx)
	if err != nil {
		return providers.Listed[providers.Repo]{}, err
	}
	for _, in := range skipped {
		a.logger().Warn("GitHub App installation suspended: its repositories are not indexed until it is unsuspended",
			"provider", a.name, "installation", in.ID, "account", in.Account)
	}
	return a.installationRepos(ctx, ids, prev)
}

func (a *App) logger() *slog.Logger {
	if a.opts.Logger != nil {
		return a.opts.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// stateMarker opens one installation's ETags in a combined ListState.
const stateMarker = "installation:"

func (a *App) installationRepos(ctx context.Context, ids []int64, prev providers.ListState) (providers.Listed[providers.Repo], error) {
	prevByID := map[int64][]string{}
	var cur int64
	for _, e := range prev.ETags {
		if s, ok := strings.CutPrefix(e, stateMarker); ok {
			cur, _ = strconv.ParseInt(s, 10, 64)
			prevByID[cur] = []string{}
			continue
		}
		prevByID[cur] = append(prevByID[cur], e)
	}
	sameSet := len(prev.ETags) > 0 && len(prevByID) == len(ids)
	results := make(map[int64]providers.Listed[*gh.Repository], len(ids))
	for _, id := range ids {
		p, ok := prevByID[id]
		sameSet = sameSet && ok
		c := a.installation(id).client
		l, err := providers.ListAll(installationRepoPages(ctx, c), providers.ListState{ETags: p}, perPage)
		if err != nil {
			return providers.Listed[providers.Repo]{}, err
		}
		results[id] = l
	}
	allUnchanged := sameSet
	for _, l := range results {
		allUnchanged = allUnchanged && l.Unchanged
	}
	if allUnchanged {
		return providers.Listed[providers.Repo]{State: prev, Unchanged: true}, nil
	}
	var out providers.Listed[providers.Repo]
	for _, id := range ids {
		l := results[id]
		if l.Unchanged { // the items are needed after all
			var err error
			if l, err = providers.ListAll(installationRepoPages(ctx, a.installation(id).client), providers.ListState{}, perPage); err != nil {
				return providers.Listed[providers.Repo]{}, err
			}
		}
		out.Items = append(out.Items, providers.Convert(l.Items, convertRepo)...)
		out.State.ETags = append(out.State.ETags, stateMarker+strconv.FormatInt(id, 10))
		out.State.ETags = append(out.State.ETags, l.State.ETags...)
	}
	return out, nil
}

// installationRepoPages pages GET /installation/repositories, whose
// answer is an object holding the list.
func installationRepoPages(ctx context.Context, c *Client) providers.PageFunc[*gh.Repository] {
	return func(n int, etag string) (providers.Page[*gh.Repository], error) {
		path := fmt.Sprintf("installation/repositories?per_page=%d&page=%d", perPage, n)
		req, err := c.gh.NewRequest("GET", path, nil)
		if err != nil {
			return providers.Page[*gh.Repository]{}, fmt.Errorf("%s: build request %s: %w", c.name, path, err)
		}
		if etag != "" {
			req.Header.Set("If-None-Match", etag)
		}
		var body struct {
			TotalCount   int              `json:"total_count"`
			Repositories []*gh.Repository `json:"repositories"`
		}
		resp, err := c.gh.Do(withWait(ctx), req, &body)
		if notModified(resp) {
			return providers.Page[*gh.Repository]{NotModified: true}, nil
		}
		if err != nil {
			return providers.Page[*gh.Repository]{}, c.wrap("GET installation/repositories", resp, err)
		}
		return providers.Page[*gh.Repository]{Items: body.Repositories, ETag: resp.Header.Get("ETag"), Next: resp.NextPage != 0}, nil
	}
}

// Repo reads one repository through the installation on its owner.
func (a *App) Repo(ctx context.Context, fullName string, prev providers.ListState) (providers.Listed[providers.Repo], error) {
	c, err := a.clientFor(ctx, ownerOf(fullName))
	if err != nil {
		return providers.Listed[providers.Repo]{}, err
	}
	return c.Repo(ctx, fullName, prev)
}

// Lookup reads an indexed repository by its stored name through each
// active installation in turn (following GitHub's redirect for a renamed
// or transferred one); ErrNotFound when none sees it (deleted, or no
// installation has access any more). While an installation is suspended the answer is an
// error instead: its repositories cannot be told apart from deleted ones.
func (a *App) Lookup(ctx context.Context, stored providers.Repo) (providers.Repo, error) {
	id := stored.ID
	ids, skipped, err := a.active(ctx)
	if err != nil {
		return providers.Repo{}, err
	}
	var lastErr error
	for _, inst := range ids {
		r, err := a.installation(inst).client.Lookup(ctx, stored)
		if err == nil {
			return r, nil
		}
		if !errors.Is(err, providers.ErrNotFound) {
			return providers.Repo{}, err
		}
		lastErr = err
	}
	if len(skipped) > 0 {
		return providers.Repo{}, fmt.Errorf("%s: repository %d is not visible to the active installations, and installation %d (%s) "+
			"may hold it: %w (its repositories keep their links)", a.name, id, skipped[0].ID, skipped[0].Account, ErrInstallationSuspended)
	}
	if lastErr == nil {
		lastErr = &providers.APIError{Provider: a.name, Op: "GET repos/" + stored.FullName,
			Err: providers.StatusError(http.StatusNotFound, "the App has no installation")}
	}
	// No installation sees it: deleted, or access was taken away (a repo
	// removed from an installation's selection answers 404 too).
	return providers.Repo{}, fmt.Errorf("%w: %w", providers.ErrNotVisible, lastErr)
}

// Branches lists a repository's branches (see Client.Branches).
// RefURL is the web URL of a branch or tag of repo (see Client.RefURL).
func (a *App) RefURL(repo providers.Repo, name string) string { return refURL(repo, name) }

// PullLabel names pull request n as GitHub does: "PR #96".
func (a *App) PullLabel(n int) string { return pullLabel(n) }

func (a *App) Branches(ctx context.Context, repo providers.Repo, prev providers.ListState) (providers.Listed[providers.Branch], error) {
	c, err := a.clientFor(ctx, ownerOf(repo.FullName))
	if err != nil {
		return providers.Listed[providers.Branch]{}, err
	}
	return c.Branches(ctx, repo, prev)
}

// Tags lists a repository's tags (see Client.Tags).
func (a *App) Tags(ctx context.Context, repo providers.Repo, prev providers.ListState) (providers.Listed[providers.Tag], error) {
	c, err := a.clientFor(ctx, ownerOf(repo.FullName))
	if err != nil {
		return providers.Listed[providers.Tag]{}, err
	}
	return c.Tags(ctx, repo, prev)
}

// Commits streams a repository's history (see Client.Commits).
func (a *App) Commits(ctx context.Context, repo providers.Repo, head string, startPage int, fn func(providers.Commit, int) (stop bool, err error)) error {
	c, err := a.clientFor(ctx, ownerOf(repo.FullName))
	if err != nil {
		return err
	}
	return c.Commits(ctx, repo, head, startPage, fn)
}

// PullRequests streams a repository's pull requests (see
// Client.PullRequests).
func (a *App) PullRequests(ctx context.Context, repo providers.Repo, since time.Time, prev providers.ListState, fn func(providers.PullRequest) (stop bool, err error)) (providers.ListState, bool, error) {
	c, err := a.clientFor(ctx, ownerOf(repo.FullName))
	if err != nil {
		return providers.ListState{}, false, err
	}
	return c.PullRequests(ctx, repo, since, prev, fn)
}

// Org checks that an organization is visible through the installation on
// it.
func (a *App) Org(ctx context.Context, org string) error {
	c, err := a.clientFor(ctx, org)
	if err != nil {
		return err
	}
	return c.Org(ctx, org)
}

// InstallationRepoCount asks how many repositories installation id can
// see (one request for one item of GET /installation/repositories), which
// also records the installation's rate-limit budget.
func (a *App) InstallationRepoCount(ctx context.Context, id int64) (int, error) {
	c := a.installation(id).client
	req, err := c.gh.NewRequest("GET", "installation/repositories?per_page=1", nil)
	if err != nil {
		return 0, fmt.Errorf("%s: build request: %w", a.name, err)
	}
	var body struct {
		TotalCount int `json:"total_count"`
	}
	resp, err := c.gh.Do(withWait(ctx), req, &body)
	if err != nil {
		return 0, c.wrap("GET installation/repositories", resp, err)
	}
	return body.TotalCount, nil
}

// Runs streams a repository's workflow runs (see Client.Runs).
func (a *App) Runs(ctx context.Context, repo providers.Repo, since time.Time, prev providers.ListState, fn func(providers.Run) (stop bool, err error)) (providers.ListState, bool, error) {
	c, err := a.clientFor(ctx, ownerOf(repo.FullName))
	if err != nil {
		return providers.ListState{}, false, err
	}
	return c.Runs(ctx, repo, since, prev, fn)
}

// Deployments streams a repository's deployments (see Client.Deployments).
func (a *App) Deployments(ctx context.Context, repo providers.Repo, since time.Time, prev providers.ListState, fn func(providers.Deployment) (stop bool, err error)) (providers.ListState, bool, error) {
	c, err := a.clientFor(ctx, ownerOf(repo.FullName))
	if err != nil {
		return providers.ListState{}, false, err
	}
	return c.Deployments(ctx, repo, since, prev, fn)
}
