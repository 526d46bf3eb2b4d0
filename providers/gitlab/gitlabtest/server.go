// Package gitlabtest is a fake GitLab REST v4 server that behaves like
// gitlab.com or a self-managed GitLab for the metadata endpoints jiralinkd
// reads: the token's user and scopes, version, groups and their projects,
// projects, branches, tags, commits and merge requests.
//
// It is used by the GitLab provider's tests, by end-to-end tests of the
// daemon and as the GitLab of the local demo stack, so it reproduces the
// parts of GitLab's behaviour a client depends on:
//
//   - JSON shapes as GitLab sends them (checked against GitLab's own
//     examples in testdata/, and decoded by gitlab.com/gitlab-org/api/client-go
//     in the tests);
//   - offset pagination: page and per_page (default 20, at most 100), the
//     X-Page, X-Per-Page, X-Next-Page, X-Prev-Page, X-Total and
//     X-Total-Pages headers and a Link header with rel prev, next, first and
//     last. Lists of more than 10,000 rows have no X-Total, X-Total-Pages or
//     rel="last", as on GitLab. The commit list never has them: GitLab does
//     not count commits, it announces a next page whenever a page is full
//     (so a list that ends exactly on a page boundary has one empty page
//     more);
//   - weak ETags (W/"...") on every 200 and 304 Not Modified, with an empty
//     body, to a matching If-None-Match;
//   - a per-minute rate limit (Rack::Attack's throttle_authenticated_api):
//     RateLimit-Limit, -Observed, -Remaining, -Reset and -ResetTime on every
//     response, and 429 with Retry-After and the plain-text body
//     "Retry later" once the budget is spent. Windows are whole minutes of
//     the Unix clock, as Rack::Attack's are. Unlike GitHub, GitLab's limiter
//     counts a request before it is answered, so every authenticated
//     request counts, 304 answers and refused (429) requests included;
//   - GitLab's errors: 401 {"message":"401 Unauthorized"}, 403
//     {"message":"403 Forbidden"} (and the OAuth insufficient_scope body for
//     a token without read_api or api), 404 {"message":"404 Project Not
//     Found"} / {"message":"404 Group Not Found"}, 400 for malformed
//     parameters;
//   - renamed and transferred projects: since GitLab 16.7 a GET that names a
//     project by a former path is answered 301 Moved Permanently with
//     Location /api/v4/projects/{id}/... (query kept) and the plain-text
//     body "This resource has been moved permanently to {url}.", so a client
//     that follows redirects (net/http, client-go) keeps working with the
//     old path. A project created later under that path takes it over.
//
// Commit lists come in `git log` order from a corpus.History.
//
// Every request is recorded (Requests). Requests to endpoints outside the
// modelled metadata set — repository files, blobs, trees, archives,
// compare, a single commit and its diff, merge request changes and diffs,
// snippets, diff/patch media types or .diff/.patch paths, commit lists with
// stats, any write, any unknown path — get a plausible answer and are
// marked Forbidden, so a test can assert that the client under test never
// reached one.
package gitlabtest

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

// apiPath is where GitLab serves REST v4, under the relative URL root.
const apiPath = "/api/v4"

// userID is the id of the token's user; userNamespaceID the id of its
// personal namespace. Group ids start at firstGroupID.
const (
	userID          = 1
	userNamespaceID = 1
	firstGroupID    = 100
)

// Options configures a Server. The zero value is a usable gitlab.com
// look-alike that accepts any (or no) token.
type Options struct {
	// Token is the one accepted token, sent as "PRIVATE-TOKEN: X" or
	// "Authorization: Bearer X". Empty accepts every request, with or
	// without credentials. Tokens in the query string are not accepted.
	Token string
	// Scopes are the token's scopes as GET /personal_access_tokens/self
	// reports them; nil means ["read_api"]. A token with neither "api" nor
	// "read_api" gets 403 insufficient_scope from every endpoint but
	// /user, /version, /metadata (which "read_user" also opens) and
	// /personal_access_tokens/self (open to any scope).
	Scopes []string
	// RateLimit is the authenticated API budget per minute; 0 means 2000
	// (gitlab.com's).
	RateLimit int
	// Now is the clock for rate-limit windows and timestamps; nil means
	// time.Now.
	Now func() time.Time
	// Logger receives one debug line per request; nil discards.
	Logger *slog.Logger
	// PathPrefix is a relative URL root such as "/gitlab"; the API is
	// under PathPrefix + "/api/v4" in any case.
	PathPrefix string
	// WebURL is the base of web_url fields; "" means https://gitlab.com.
	WebURL string
	// Username is the token's user (GET /user, id 1); "" means
	// "jiralinkd-bot". Projects whose Namespace is this name live in the
	// user's personal namespace instead of a group.
	Username string
	// TokenExpiresAt is the token's expires_at (a date); zero means a
	// year after the server started (GitLab's maximum lifetime).
	TokenExpiresAt time.Time
}

// Server is the fake. Create it with NewServer (serve Handler yourself) or
// Start (httptest). All methods are safe for concurrent use, also while
// requests are being served.
type Server struct {
	opts      Options
	now       func() time.Time
	prefix    string
	web       string
	username  string
	scopes    []string
	createdAt time.Time // of the user and the token

	// tok is the accepted token and its lifecycle (token.go).
	tok    tokenState
	routes []*route

	// core holds the request log, failure injection, latency and URL;
	// histories caches commit lists and reachability.
	core      *fakeserver.Core
	histories fakeserver.HistoryCache

	// stateMu guards namespaces and projects.
	stateMu     sync.RWMutex
	groups      map[int64]*groupState
	groupByPath map[string]int64 // lower-case full path → id
	nextGroupID int64
	projects    map[int64]*projectState
	byPath      map[string]int64 // lower-case path_with_namespace → id
	moved       map[string]int64 // lower-case former path_with_namespace → id
	// ci holds pipelines and deployments per project (ci.go).
	ci map[int64]*ciProject

	// mu guards the rate limit and the request id sequence.
	mu          sync.Mutex
	used        int
	windowStart time.Time
	seq         int
}

// NewServer returns a Server with no groups and no projects.
func NewServer(opts Options) *Server {
	s := &Server{
		opts:        opts,
		core:        fakeserver.NewCore("gitlabtest", opts.Logger),
		now:         opts.Now,
		prefix:      fakeserver.CleanPrefix(opts.PathPrefix),
		web:         strings.TrimRight(cmp.Or(opts.WebURL, "https://gitlab.com"), "/"),
		username:    cmp.Or(opts.Username, "jiralinkd-bot"),
		scopes:      opts.Scopes,
		groups:      make(map[int64]*groupState),
		groupByPath: make(map[string]int64),
		nextGroupID: firstGroupID,
		projects:    make(map[int64]*projectState),
		byPath:      make(map[string]int64),
		moved:       make(map[string]int64),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.scopes == nil {
		s.scopes = []string{"read_api"}
	}
	if s.opts.RateLimit <= 0 {
		s.opts.RateLimit = 2000
	}
	s.createdAt = s.now().UTC().Truncate(time.Second)
	s.tok = tokenState{value: opts.Token, expires: opts.TokenExpiresAt, id: 1}
	if s.tok.expires.IsZero() {
		s.tok.expires = s.createdAt.AddDate(1, 0, 0)
	}
	s.routes = s.routeTable()
	return s
}

// Start runs s on an httptest server that is closed when t ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := NewServer(opts)
	s.core.Start(t, s.Handler(), s.prefix+"/")
	return s
}

// URL is the instance's base URL with a trailing slash, PathPrefix
// included but without "api/v4/" (client-go appends it), as
// gitlab.WithBaseURL wants it. It is empty unless the server was made by
// Start.
func (s *Server) URL() string { return s.core.URL() }

// Handler serves the instance. It answers every path: outside
// PathPrefix + "/api/v4" with a 404 marked Forbidden, elsewhere as
// described in the package documentation.
func (s *Server) Handler() http.Handler { return s.core.Handler(http.HandlerFunc(s.dispatch)) }

// DeleteProject removes a project: its path and former paths answer 404
// from now on.
func (s *Server) DeleteProject(id int64) {
	s.stateMu.Lock()
	defer s.stateMu.Unlock()
	st, ok := s.projects[id]
	if !ok {
		return
	}
	delete(s.projects, id)
	delete(s.byPath, strings.ToLower(s.fullPathLocked(st)))
	for k, v := range s.moved {
		if v == id {
			delete(s.moved, k)
		}
	}
}
