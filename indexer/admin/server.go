package admin

import (
	"io"
	"log/slog"
	"net/http"
	"time"

	"github.com/gorilla/mux"
)

// Options configure a Server.
type Options struct {
	// Token is the admin token (http.admin_token_*). Empty disables every
	// admin route: they answer 404, and the caller logs that the status
	// page, the admin API and /metrics are off.
	Token string
	// TokenSource, when set with Token, returns the current admin token
	// and is read on every request (a rotated token file); Token then
	// only says that the admin routes are enabled.
	TokenSource func() string
	// Metrics serves /metrics (a promhttp handler); nil answers 404.
	Metrics http.Handler
	// Logger receives failed logins and backend errors; nil discards.
	Logger *slog.Logger
	// Now is the clock for "3 min ago" and session expiry; nil is
	// time.Now.
	Now func() time.Time
	// Version is shown in the page header.
	Version string
}

// Server serves the status page, the explain page, the JSON admin API and
// /metrics. Every route needs the admin token, as a Bearer token or through
// a session cookie obtained from the login form. Safe for concurrent use.
type Server struct {
	b       Backend
	metrics http.Handler
	log     *slog.Logger
	now     func() time.Time
	version string
	auth    *authenticator // nil when disabled
	pages   *pages
}

// New creates a Server over b.
func New(b Backend, opts Options) *Server {
	s := &Server{b: b, metrics: opts.Metrics, log: opts.Logger, now: opts.Now, version: opts.Version, pages: newPages()}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	if opts.Token != "" {
		src := opts.TokenSource
		if src == nil {
			tok := opts.Token
			src = func() string { return tok }
		}
		s.auth = newAuthenticator(src, s.now, s.log)
	}
	return s
}

// Enabled reports whether an admin token is configured. When it is not,
// every route Route registers answers 404.
func (s *Server) Enabled() bool { return s.auth != nil }

// Route registers the admin routes on r:
//
//	GET  /                                     status page (HTML)
//	GET  /issues?key=ABC-1                     explain an issue (HTML)
//	GET  /login, POST /login, POST /logout     session login form
//	POST /repos/{provider}/{path}/resync       resync form (CSRF token), 303 to /
//	GET  /api/v1/status                        status.Snapshot as JSON
//	GET  /api/v1/repos                         Snapshot.Repos as JSON
//	GET  /api/v1/issues/{KEY}                  Explanation as JSON
//	GET  /findings, /api/v1/findings           Jira secret findings (HTML, FindingsReport)
//	POST /api/v1/repos/{provider}/{path}/resync  202, 404 unknown repo, 409 busy
//	GET  /metrics                              Options.Metrics
//
// {path} is a repo's full name and may span several segments (GitLab
// group/sub/name). It does not touch /healthz, /readyz or /webhooks.
func (s *Server) Route(r *mux.Router) {
	if !s.Enabled() {
		off := http.NotFoundHandler()
		for _, p := range []string{"/", "/issues", "/findings", "/login", "/logout", "/metrics"} {
			r.Handle(p, off)
		}
		r.PathPrefix("/repos/").Handler(off)
		r.PathPrefix("/api/v1/").Handler(off)
		return
	}
	page, api := s.auth.page, s.auth.api

	r.Handle("/", page(http.HandlerFunc(s.statusPage))).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/issues", page(http.HandlerFunc(s.issuePage))).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/findings", page(http.HandlerFunc(s.findingsPage))).Methods(http.MethodGet, http.MethodHead) // findings.go
	r.HandleFunc("/login", s.loginPage).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/login", s.login).Methods(http.MethodPost)
	r.Handle("/logout", page(http.HandlerFunc(s.logout))).Methods(http.MethodPost)
	r.Handle("/repos/{provider}/{path:.+}/resync", page(http.HandlerFunc(s.resyncForm))).Methods(http.MethodPost)

	r.Handle("/api/v1/status", api(http.HandlerFunc(s.apiStatus))).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/v1/repos", api(http.HandlerFunc(s.apiRepos))).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/v1/issues/{key}", api(http.HandlerFunc(s.apiIssue))).Methods(http.MethodGet, http.MethodHead)
	r.Handle("/api/v1/findings", api(http.HandlerFunc(s.apiFindings))).Methods(http.MethodGet, http.MethodHead)
	// Not restricted with Methods: the catch-all below would answer a GET
	// with 404; this answers 405.
	r.Handle("/api/v1/repos/{provider}/{path:.+}/resync", api(postOnly(s.apiResync)))
	// Anything else under the API answers JSON, after authentication, so
	// that an unauthenticated caller learns nothing about which routes
	// exist.
	r.PathPrefix("/api/v1/").Handler(api(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		writeError(w, http.StatusNotFound, "no such API route")
	})))

	metrics := s.metrics
	if metrics == nil {
		metrics = http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			writeError(w, http.StatusNotFound, "metrics are not enabled")
		})
	}
	r.Handle("/metrics", api(metrics)).Methods(http.MethodGet, http.MethodHead)
}

// postOnly answers 405 with a JSON error to anything but POST.
func postOnly(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			writeError(w, http.StatusMethodNotAllowed, "use POST")
			return
		}
		h(w, r)
	})
}
