// Package githubtest is a fake GitHub REST v3 server that behaves like
// api.github.com (or, with a path prefix, GitHub Enterprise Server) for the
// metadata endpoints jiralinkd reads: users, organizations, repositories,
// branches, tags, commits and pull requests.
//
// It is used by the GitHub provider's tests, by end-to-end tests of the
// daemon and as the GitHub of the local demo stack, so it reproduces the
// parts of GitHub's behaviour a client depends on: JSON shapes (checked
// against GitHub's own examples in testdata/), Link-header pagination, a
// strong ETag on every 200 with 304 answers to If-None-Match that cost no
// rate limit, X-RateLimit-* headers and a 403 once the budget is spent, 401
// for a bad token, 404, and 301 redirects to /repositories/{id} after a
// rename or transfer. Commit lists come in `git log` order from a
// corpus.History.
//
// Every request is recorded (Requests). Requests to endpoints outside the
// modelled metadata set — file contents, trees, blobs, compare, the
// single-commit GET, pull request files, archives, diff media types, writes,
// anything unknown — get a plausible 200 answer and are marked Forbidden, so
// a test can assert that the client under test never reached one.
package githubtest

import (
	"cmp"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
)

// Options configures a Server. The zero value is a usable api.github.com
// look-alike that accepts any (or no) token.
type Options struct {
	// Token is the one accepted token, sent as "Authorization: Bearer X"
	// or "Authorization: token X". Empty accepts every request, with or
	// without credentials.
	Token string
	// RateLimit is the primary budget per hour; 0 means 5000.
	RateLimit int
	// Now is the clock for rate-limit windows and timestamps; nil means
	// time.Now.
	Now func() time.Time
	// Logger receives one debug line per request; nil discards.
	Logger *slog.Logger
	// PathPrefix is "" for api.github.com style URLs, "/api/v3" for
	// GitHub Enterprise Server.
	PathPrefix string
	// WebURL is the base of html_url fields; "" means https://github.com.
	WebURL string
	// Login is the token's user (GET /user, user ID 1); "" means
	// "jiralinkd-bot".
	Login string
	// Scopes, when non-nil, is sent as X-OAuth-Scopes like a classic
	// token's; nil sends no such header, like a fine-grained token.
	Scopes []string
	// TokenExpiration, when set, is sent in the
	// GitHub-Authentication-Token-Expiration header of every response to a
	// request authenticated with the token, as GitHub does for
	// fine-grained tokens and classic tokens with an expiry ("2026-12-31
	// 12:00:00 UTC"; see
	// https://docs.github.com/en/rest/authentication/authenticating-to-the-rest-api).
	TokenExpiration time.Time
}

// Server is the fake. Create it with NewServer (serve Handler yourself) or
// Start (httptest). All methods are safe for concurrent use, also while
// requests are being served.
type Server struct {
	opts   Options
	now    func() time.Time
	prefix string
	web    string
	login  string
	mux    *http.ServeMux

	// core holds the request log, failure injection, latency and URL;
	// histories caches commit lists.
	core      *fakeserver.Core
	histories fakeserver.HistoryCache

	// stateMu guards the repositories and organizations.
	stateMu sync.RWMutex
	repos   map[int64]*repoState
	byName  map[string]int64 // lower-case owner/name → id, current names
	moved   map[string]int64 // lower-case former owner/name → id
	orgs    map[string]string

	// mu guards the rate limits and the request id sequence.
	mu sync.Mutex
	rl budget // the configured token's
	// search is the search API's budget: 30 requests a minute.
	search budget
	// searchIncomplete makes searches answer incomplete_results: true.
	searchIncomplete bool
	seq              int
	// token and tokenExp are the accepted token and its expiry
	// (Options.Token and TokenExpiration until SetToken).
	token    string
	tokenExp time.Time

	// app is the GitHub App side (app.go).
	app appState

	// ci holds workflow runs and deployments per repository (ci.go);
	// guarded by stateMu.
	ci map[int64]*ciRepo
}

// NewServer returns a Server with no repositories.
func NewServer(opts Options) *Server {
	s := &Server{
		opts:   opts,
		core:   fakeserver.NewCore("githubtest", opts.Logger),
		now:    opts.Now,
		prefix: fakeserver.CleanPrefix(opts.PathPrefix),
		web:    strings.TrimRight(cmp.Or(opts.WebURL, "https://github.com"), "/"),
		login:  cmp.Or(opts.Login, "jiralinkd-bot"),
		repos:  make(map[int64]*repoState),
		byName: make(map[string]int64),
		moved:  make(map[string]int64),
		orgs:   make(map[string]string),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.opts.RateLimit <= 0 {
		s.opts.RateLimit = 5000
	}
	s.rl.limit = s.opts.RateLimit
	s.search = budget{limit: searchRateLimit, window: time.Minute, resource: "search"}
	s.token, s.tokenExp = opts.Token, opts.TokenExpiration
	s.mux = s.routes()
	return s
}

// Start runs s on an httptest server that is closed when t ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := NewServer(opts)
	s.core.Start(t, s.Handler(), s.prefix+"/")
	return s
}

// URL is the API base URL with a trailing slash, PathPrefix included, as a
// client's BaseURL wants it. It is empty unless the server was made by
// Start.
func (s *Server) URL() string { return s.core.URL() }

// Handler serves the API. It answers every path: outside PathPrefix with
// 404, elsewhere as described in the package documentation.
func (s *Server) Handler() http.Handler { return s.core.Handler(http.HandlerFunc(s.serveHTTP)) }

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	if s.prefix != "" {
		rest, ok := strings.CutPrefix(r.URL.Path, s.prefix)
		if !ok || (rest != "" && !strings.HasPrefix(rest, "/")) {
			s.finish(w, r, s.newCall(r, ""), notFound())
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = cmp.Or(rest, "/")
		r2.URL.RawPath = ""
		r = r2
	}
	s.mux.ServeHTTP(w, r)
}

// apiBase is the absolute API base URL, without trailing slash, of the
// server as the client addressed it.
func (s *Server) apiBase(r *http.Request) string {
	return fakeserver.Origin(r) + s.prefix
}

// DeleteRepo removes a repository: its name and former names answer 404
// from now on.
func (s *Server) DeleteRepo(owner, name string) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	id, ok := s.byName[fullKey(owner, name)]
	if !ok {
		return
	}
	delete(s.repos, id)
	delete(s.byName, fullKey(owner, name))
	for k, v := range s.moved {
		if v == id {
			delete(s.moved, k)
		}
	}
}

// AddOrg makes an organization exist even while it owns no repository.
// Owners of repositories added with OwnerIsOrg exist implicitly.
func (s *Server) AddOrg(login string) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	s.orgs[strings.ToLower(login)] = login
}

// SetToken replaces the accepted token (the former one gets 401 from now
// on, as after it was revoked or expired) and its expiry (zero: none
// sent). Tests use it to rotate a token behind the client's back.
func (s *Server) SetToken(token string, expiration time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.token, s.tokenExp = token, expiration
}
