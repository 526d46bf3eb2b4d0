// Package jiratest is a fake Jira Data Center server for tests, end-to-end
// runs of the daemon and the local demo stack. It serves the part of REST
// API v2 that jiralinkd uses (serverInfo, myself, project, search and remote
// issue links) with the semantics and response bodies of the real server,
// keeps its state in memory, and offers inspection and fault injection.
package jiratest

import (
	"crypto/subtle"
	_ "embed"
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient"
)

// Routes as used by Calls.ByRoute and FailNext: method, space, path template
// below the context path, always spelled with /rest/api/2/ (requests to the
// /rest/api/latest/ alias count under the same route).
const (
	RouteServerInfo       = "GET /rest/api/2/serverInfo"
	RouteMyself           = "GET /rest/api/2/myself"
	RouteProjects         = "GET /rest/api/2/project"
	RouteSearchGet        = "GET /rest/api/2/search"
	RouteSearchPost       = "POST /rest/api/2/search"
	RouteRemoteLinks      = "GET /rest/api/2/issue/{key}/remotelink"
	RouteRemoteLinkUpsert = "POST /rest/api/2/issue/{key}/remotelink"
	RouteRemoteLinkDelete = "DELETE /rest/api/2/issue/{key}/remotelink"
	RouteRemoteLinkGet    = "GET /rest/api/2/issue/{key}/remotelink/{id}"
	RouteRemoteLinkPut    = "PUT /rest/api/2/issue/{key}/remotelink/{id}"
	RouteRemoteLinkDelID  = "DELETE /rest/api/2/issue/{key}/remotelink/{id}"
	// AnyRoute makes FailNext match every request.
	AnyRoute = "*"
	// unmatchedRoute counts requests to paths the fake does not serve.
	unmatchedRoute = "unmatched"
)

// Project is a Jira project as the fake lists it.
type Project = jiraclient.Project

// Options configures NewServer.
type Options struct {
	// Token is the accepted personal access token (Authorization: Bearer).
	Token string
	// Username and Password are the accepted basic-auth credentials. When
	// neither Token nor Username is set, every request is accepted.
	Username, Password string
	// Projects are the projects that exist; default: the real project list
	// of the Apache Software Foundation's Jira (567 projects).
	Projects []Project
	// IssueExists says which issue keys exist (within existing projects).
	// nil: none. It is called with the server's lock held, so it must not
	// call back into the Server.
	IssueExists func(key string) bool
	// ContextPath is the path Jira is served under, e.g. "/jira"; default "".
	ContextPath string
	// Logger gets a Debug line per request; nil discards.
	Logger *slog.Logger

	// Now, if set, is the clock of the Date response header (clock-skew
	// tests); nil leaves Date to net/http and the real clock.
	Now Clock
	// Permissions says whether the user holds a project permission such as
	// "LINK_ISSUES" in a project: GET mypermissions reports it, and remote
	// link writes answer 403 without LINK_ISSUES. nil grants everything.
	// It is called with the server's lock held.
	Permissions func(projectKey, permission string) bool
	// Cloud makes the fake answer like Jira Cloud (see cloud.go):
	// serverInfo says deploymentType "Cloud", myself has an accountId and
	// no name, the removed /rest/api/{2,3}/search answer 410 Gone, and
	// POST /rest/api/3/search/jql searches with token paging. Cloud takes
	// an e-mail and an API token: set Username and Password.
	Cloud bool
	// MaxRemoteLinks caps the remote links of one issue: creating one more
	// answers 413 as Jira Cloud does at its limit. 0 means
	// CloudMaxRemoteLinks in Cloud mode and no cap otherwise.
	MaxRemoteLinks int
	// SearchPageSize, if positive, caps the issues per search/jql page
	// below what maxResults asks (Cloud may return fewer), for paging tests.
	SearchPageSize int
	// TokenExpiringAt is the expiringAt of Token in GET
	// /rest/pat/latest/tokens (zero: the token never expires and the field
	// is left out). See pat.go.
	TokenExpiringAt time.Time
	// NoPATList makes /rest/pat/latest/tokens answer 404, like a Jira
	// before 8.14 or with personal access tokens disabled.
	NoPATList bool
}

// AllIssues is an Options.IssueExists that makes every issue of every
// existing project exist.
func AllIssues(string) bool { return true }

// Calls counts the requests the fake received, injected failures included.
type Calls struct {
	Total    int
	Writes   int // POST, PUT and DELETE on remote links
	Searches int // GET or POST search
	ByRoute  map[string]int
	// Faults counts the requests answered by an injected failure;
	// AppliedFaults those of them that took effect (FailNextAfterApply,
	// Storm.AfterApply).
	Faults, AppliedFaults int
}

// Request is one request the fake received, in arrival order.
type Request struct {
	Method string
	// Route is the request's route (a Route constant; requests to the
	// /rest/api/latest/ alias under their /rest/api/2/ route), or
	// "unmatched" for a path the fake does not serve.
	Route string
	// Path is the request's path below the context path, as sent.
	Path     string
	RawQuery string
	// Credential is the bearer token or basic-auth password the request
	// carried (token rotation tests assert which one each request sent).
	Credential string
}

// Server is the fake. Create it with NewServer (serve Handler yourself) or
// Start (an httptest server closed when the test ends). It is safe for
// concurrent use.
type Server struct {
	opts        Options
	contextPath string
	logger      *slog.Logger
	projects    map[string]Project // by key
	projectList []Project          // as configured

	mu          sync.Mutex
	url         string
	links       map[string][]jiraclient.RemoteLink // issue key → links in creation order
	nextLinkID  int64
	issueIDs    map[string]int64
	nextIssueID int64
	calls       Calls
	requests    []Request
	faults      []fault
	storm       *Storm
	actions     actionState // comments, worklogs, statuses (actions.go)
	scan        scanState   // issue contents (issues.go)
	ls          loadState   // response time and rate limit (load.go); own lock
}

// fault is a canned response for the next n requests of a route.
type fault struct {
	route  string
	n      int
	status int
	header http.Header
	body   string
	after  bool // serve the request (writes take effect), then answer the fault
}

//go:embed testdata/all_projects.json
var apacheProjects []byte

// NewServer returns a fake that is not yet listening.
func NewServer(opts Options) *Server {
	projects := opts.Projects
	if projects == nil {
		if err := json.Unmarshal(apacheProjects, &projects); err != nil {
			panic(fmt.Sprintf("jiratest: embedded project list: %v", err)) // a broken embed is a build defect
		}
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		opts:        opts,
		contextPath: "/" + strings.Trim(opts.ContextPath, "/"),
		logger:      logger,
		projects:    make(map[string]Project, len(projects)),
		projectList: projects,
		links:       map[string][]jiraclient.RemoteLink{},
		nextLinkID:  10000,
		issueIDs:    map[string]int64{},
		nextIssueID: 10000,
		calls:       Calls{ByRoute: map[string]int{}},
	}
	if s.contextPath == "/" {
		s.contextPath = ""
	}
	for _, p := range projects {
		s.projects[p.Key] = p
	}
	return s
}

// Start starts the fake on a loopback httptest server that is closed when
// the test ends.
func Start(t testing.TB, opts Options) *Server {
	t.Helper()
	s := NewServer(opts)
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(ts.Close)
	s.mu.Lock()
	s.url = ts.URL + s.contextPath
	s.mu.Unlock()
	return s
}

// URL returns the base URL including the context path, as a Jira client
// wants it. It is empty for a server not started with Start.
func (s *Server) URL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.url
}

// Handler returns the fake as an http.Handler.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// Links returns the current links of an issue, with their ids, in creation
// order.
func (s *Server) Links(issueKey string) []jiraclient.RemoteLink {
	s.mu.Lock()
	defer s.mu.Unlock()
	return cloneLinks(s.links[strings.ToUpper(issueKey)])
}

// AllLinks returns every issue's links; issues without links are left out.
func (s *Server) AllLinks() map[string][]jiraclient.RemoteLink {
	s.mu.Lock()
	defer s.mu.Unlock()
	all := make(map[string][]jiraclient.RemoteLink, len(s.links))
	for k, ls := range s.links {
		if len(ls) > 0 {
			all[k] = cloneLinks(ls)
		}
	}
	return all
}

// Calls returns a copy of the request counters.
func (s *Server) Calls() Calls {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls
	c.ByRoute = make(map[string]int, len(s.calls.ByRoute))
	for k, v := range s.calls.ByRoute {
		c.ByRoute[k] = v
	}
	return c
}

// ResetCalls zeroes the request counters and clears the request log.
func (s *Server) ResetCalls() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls = Calls{ByRoute: map[string]int{}}
	s.requests = nil
}

// Requests returns a copy of every request received since the start or
// the last ResetCalls, injected failures included.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// FailNext makes the next n requests on route (a Route constant, or
// AnyRoute) get status, header and body instead of being served; they change
// no state. Faults queue in the order they were added.
func (s *Server) FailNext(route string, n int, status int, header http.Header, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{route: route, n: n, status: status, header: header.Clone(), body: body})
}

// FailNextAfterApply is FailNext for failures that come after the work is
// done: the next n requests on route are served as usual (a write takes
// effect) but answered status, header and body, as when Jira fails, or a
// proxy gives up, after committing.
func (s *Server) FailNextAfterApply(route string, n int, status int, header http.Header, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faults = append(s.faults, fault{route: route, n: n, status: status, header: header.Clone(), body: body, after: true})
}

// ServerErrors are the 5xx answers of a Jira Data Center behind a reverse
// proxy: Jira's own 500 (an ErrorCollection saying "Internal server
// error"), and nginx's HTML 502 and 503 pages.
func ServerErrors() []Fault {
	html := func(status int, text string) Fault {
		return Fault{Status: status, Header: http.Header{"Content-Type": {"text/html"}, "Server": {"nginx"}},
			Body: "<html>\r\n<head><title>" + text + "</title></head>\r\n<body>\r\n<center><h1>" + text +
				"</h1></center>\r\n<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"}
	}
	return []Fault{
		{Status: http.StatusInternalServerError, Header: http.Header{"Content-Type": {"application/json;charset=UTF-8"}},
			Body: `{"errorMessages":["Internal server error"],"errors":{}}`},
		html(http.StatusBadGateway, "502 Bad Gateway"),
		html(http.StatusServiceUnavailable, "503 Service Temporarily Unavailable"),
	}
}

// Fault is one canned error answer.
type Fault struct {
	Status int
	Header http.Header
	Body   string
}

// Storm is random fault injection (see FailRandomly).
type Storm struct {
	// Rate is the probability that a request fails.
	Rate float64
	// AfterApply is the probability that a failing write (any method but
	// GET and HEAD) is carried out before its error is answered.
	AfterApply float64
	// Answers are picked from at random; default ServerErrors().
	Answers []Fault
	// Rand is the source of every draw; seed it for a reproducible run
	// (requests must then arrive in the same order). Required.
	Rand *rand.Rand
}

// draw decides one request's fate; s.mu is held.
func (st *Storm) draw(method string) (fault, bool) {
	if st.Rand.Float64() >= st.Rate {
		return fault{}, false
	}
	a := st.Answers[st.Rand.IntN(len(st.Answers))]
	f := fault{status: a.Status, header: a.Header.Clone(), body: a.Body}
	if method != http.MethodGet && method != http.MethodHead {
		f.after = st.Rand.Float64() < st.AfterApply
	}
	return f, true
}

// FailRandomly starts a storm of random failures on every route (after
// any FailNext rules), or stops it when st.Rate is 0.
func (s *Server) FailRandomly(st Storm) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.Rate <= 0 {
		s.storm = nil
		return
	}
	if st.Rand == nil {
		panic("jiratest: Storm needs a Rand")
	}
	if len(st.Answers) == 0 {
		st.Answers = ServerErrors()
	}
	s.storm = &st
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	s.stampDate(w)
	route, params := s.match(r)
	s.logger.Debug("jiratest request", "method", r.Method, "path", r.URL.Path, "route", route)
	admitted, done := s.admitLoad(w)
	defer done()

	s.mu.Lock()
	defer s.mu.Unlock()
	s.count(route)
	s.requests = append(s.requests, Request{Method: r.Method, Route: route,
		Path: strings.TrimPrefix(r.URL.Path, s.contextPath), RawQuery: r.URL.RawQuery, Credential: credentialOf(r)})
	if !admitted {
		writeErrors(w, http.StatusTooManyRequests, []string{"Rate limit exceeded."}, nil)
		return
	}
	f, ok := s.takeFault(route)
	if !ok && s.storm != nil {
		f, ok = s.storm.draw(r.Method)
	}
	if ok {
		s.calls.Faults++
		if f.after {
			s.calls.AppliedFaults++
			// The request takes effect; only its answer is lost.
			s.serve(httptest.NewRecorder(), r, route, params)
		}
		for k, vs := range f.header {
			w.Header()[k] = vs
		}
		w.WriteHeader(f.status)
		_, _ = w.Write([]byte(f.body))
		return
	}
	s.serve(w, r, route, params)
}

// serve answers a request that no fault replaces; s.mu is held.
func (s *Server) serve(w http.ResponseWriter, r *http.Request, route string, params routeParams) {
	if route == unmatchedRoute {
		writeErrors(w, http.StatusNotFound, []string{"null for uri: " + r.URL.String()}, nil)
		return
	}
	if !s.authorized(w, r, route) {
		return
	}
	if s.intercept(w, r, route, params.key) { // permissions.go, cloud.go
		return
	}
	switch route {
	case RoutePATList:
		s.listPATs(w)
	case RouteServerInfo:
		s.serverInfo(w, r)
	case RouteMyself:
		s.myself(w, r)
	case RouteProjects:
		s.listProjects(w, r)
	case RouteSearchGet, RouteSearchPost:
		s.search(w, r)
	case RouteRemoteLinks:
		s.getLinks(w, r, params.key)
	case RouteRemoteLinkUpsert:
		s.upsertLink(w, r, params.key)
	case RouteRemoteLinkDelete:
		s.deleteLinksByGlobalID(w, r, params.key)
	case RouteRemoteLinkGet, RouteRemoteLinkPut, RouteRemoteLinkDelID:
		s.linkByID(w, r, params.key, params.id)
	case RouteIssueGet, RouteComments, RouteCommentAdd, RouteWorklogs, RouteWorklogAdd, RouteTransitions, RouteTransitionCreate:
		s.serveAction(w, r, route, params.key)
	case RouteIssuePut:
		s.editIssue(w, r, params.key)
	case RouteCommentPut:
		s.editComment(w, r, params.key, params.id)
	default: // a known path with another method
		w.Header().Set("Allow", "GET, POST, PUT, DELETE")
		writeErrors(w, http.StatusMethodNotAllowed, []string{"Method Not Allowed"}, nil)
	}
}

type routeParams struct{ key, id string }

// match maps a request to its route template and path parameters.
func (s *Server) match(r *http.Request) (string, routeParams) {
	if r.URL.Path == s.contextPath+patPath {
		return r.Method + " " + patPath, routeParams{}
	}
	p, ok := strings.CutPrefix(r.URL.Path, s.contextPath+"/rest/api/")
	if !ok {
		return unmatchedRoute, routeParams{}
	}
	version, rest, _ := strings.Cut(p, "/")
	if tmpl, ok := s.matchExtra(version, rest); ok { // permissions.go, cloud.go
		return r.Method + " " + tmpl, routeParams{}
	}
	if version != "2" && version != "latest" {
		return unmatchedRoute, routeParams{}
	}
	seg := strings.Split(rest, "/")
	var tmpl string
	var params routeParams
	switch {
	case len(seg) == 1 && (seg[0] == "serverInfo" || seg[0] == "myself" || seg[0] == "project" || seg[0] == "search"):
		tmpl = seg[0]
	case len(seg) == 3 && seg[0] == "issue" && seg[1] != "" && seg[2] == "remotelink":
		tmpl, params.key = "issue/{key}/remotelink", strings.ToUpper(seg[1])
	case len(seg) == 4 && seg[0] == "issue" && seg[1] != "" && seg[2] == "remotelink" && seg[3] != "":
		tmpl, params.key, params.id = "issue/{key}/remotelink/{id}", strings.ToUpper(seg[1]), seg[3]
	default:
		var ok bool
		if t, k, id, edit := matchIssueEdit(seg); edit { // issues.go
			tmpl, params.key, params.id = t, k, id
			break
		}
		if tmpl, params.key, ok = matchAction(seg); !ok {
			return unmatchedRoute, routeParams{}
		}
	}
	// A known path with an unsupported method keeps its route name and is
	// answered 405 by the dispatcher.
	return r.Method + " /rest/api/2/" + tmpl, params
}

// count updates the counters; s.mu is held.
func (s *Server) count(route string) {
	s.calls.Total++
	s.calls.ByRoute[route]++
	switch route {
	case RouteSearchGet, RouteSearchPost, RouteSearchJQL:
		s.calls.Searches++
	case RouteRemoteLinkUpsert, RouteRemoteLinkDelete, RouteRemoteLinkPut, RouteRemoteLinkDelID:
		s.calls.Writes++
	}
}

// takeFault consumes one injected failure for route, if any; s.mu is held.
func (s *Server) takeFault(route string) (fault, bool) {
	for i := range s.faults {
		f := &s.faults[i]
		if f.route != route && f.route != AnyRoute {
			continue
		}
		got := *f
		f.n--
		if f.n <= 0 {
			s.faults = append(s.faults[:i], s.faults[i+1:]...)
		}
		return got, true
	}
	return fault{}, false
}

// authorized checks the credentials and writes Jira's 401 when they are
// wrong. As on Jira, serverInfo is open to anonymous callers, but wrong
// credentials are refused everywhere.
func (s *Server) authorized(w http.ResponseWriter, r *http.Request, route string) bool {
	if s.opts.Token == "" && s.opts.Username == "" {
		return true
	}
	h := r.Header.Get("Authorization")
	if h == "" && route == RouteServerInfo {
		return true
	}
	ok := false
	if token, isBearer := strings.CutPrefix(h, "Bearer "); isBearer {
		ok = s.opts.Token != "" && equal(token, s.opts.Token) && (s.opts.TokenExpiringAt.IsZero() || s.now().Before(s.opts.TokenExpiringAt))
	} else if user, pass, isBasic := r.BasicAuth(); isBasic {
		ok = s.opts.Username != "" && equal(user, s.opts.Username) && equal(pass, s.opts.Password)
	}
	if ok {
		return true
	}
	if h != "" {
		w.Header().Set("X-Seraph-LoginReason", "AUTHENTICATED_FAILED")
	}
	w.Header().Set("WWW-Authenticate", `Basic realm="protected-area"`)
	writeErrors(w, http.StatusUnauthorized,
		[]string{"You are not authenticated. Authentication required to perform this operation."}, nil)
	return false
}

func equal(a, b string) bool { return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1 }

// baseURL is the externally visible base URL (with context path) of r.
func (s *Server) baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + s.contextPath
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json;charset=UTF-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// writeErrors writes Jira's ErrorCollection with both keys present.
func writeErrors(w http.ResponseWriter, status int, messages []string, fieldErrors map[string]string) {
	if messages == nil {
		messages = []string{}
	}
	if fieldErrors == nil {
		fieldErrors = map[string]string{}
	}
	writeJSON(w, status, map[string]any{"errorMessages": messages, "errors": fieldErrors})
}

// writeMappingError writes the body Jira sends when it cannot map the
// request JSON: errorMessages only, no "errors" key.
func writeMappingError(w http.ResponseWriter, err error) {
	writeJSON(w, http.StatusBadRequest, map[string]any{
		"errorMessages": []string{fmt.Sprintf("Can not deserialize the request body: %v", err)},
	})
}

func cloneLinks(ls []jiraclient.RemoteLink) []jiraclient.RemoteLink {
	out := make([]jiraclient.RemoteLink, len(ls))
	for i, l := range ls {
		out[i] = cloneLink(l)
	}
	return out
}

// cloneLink deep-copies a link so callers cannot alias the fake's state.
func cloneLink(l jiraclient.RemoteLink) jiraclient.RemoteLink {
	if l.Application != nil {
		a := *l.Application
		l.Application = &a
	}
	if l.Object.Icon != nil {
		i := *l.Object.Icon
		l.Object.Icon = &i
	}
	if l.Object.Status != nil {
		st := *l.Object.Status
		if st.Icon != nil {
			i := *st.Icon
			st.Icon = &i
		}
		l.Object.Status = &st
	}
	return l
}
