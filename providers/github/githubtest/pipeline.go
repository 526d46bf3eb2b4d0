package githubtest

import (
	"cmp"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
)

// Request is one request the server received, in arrival order:
//
//   - Path is the path after PathPrefix, the full path if outside it.
//   - Route is the matched endpoint, e.g. "GET /repos/{owner}/{repo}/commits"
//     (also for the /repositories/{id}/... form); "" for paths no route
//     matches.
//   - Counted reports that the request consumed rate limit: every
//     authenticated request except 304 answers, GET /rate_limit and
//     requests refused because the budget was already spent.
//   - Forbidden reports a request outside the modelled metadata endpoints
//     (contents, trees, blobs, compare, single commit, pull request files,
//     archives, diff/patch media types, writes, unknown paths). jiralinkd
//     must never send one.
type Request = fakeserver.Request

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Request { return s.core.Requests() }

// ForbiddenRequests returns the recorded requests marked Forbidden.
func (s *Server) ForbiddenRequests() []Request { return s.core.ForbiddenRequests() }

// ResetRequests clears the request log (not the rate-limit budget).
func (s *Server) ResetRequests() { s.core.ResetRequests() }

// RateRemaining is the budget left in the current window.
func (s *Server) RateRemaining() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rl.roll(s.now())
	return s.rl.limit - s.rl.used
}

// SetRateRemaining sets the budget left in the current window, e.g. 0 to
// exercise the exhausted path without thousands of requests.
func (s *Server) SetRateRemaining(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rl.roll(s.now())
	s.rl.used = s.rl.limit - max(0, min(n, s.rl.limit))
}

// FailNext makes the next n requests to route (a Request.Route value such
// as "GET /repos/{owner}/{repo}/commits", or "*" for any route) answer
// status with the given extra headers (they override the server's own,
// e.g. X-RateLimit-Remaining or Retry-After) and body. Authentication is
// checked first; rate-limit accounting applies as usual. Rules queue up in
// the order they were added.
func (s *Server) FailNext(routePattern string, n int, status int, header http.Header, body string) {
	s.core.FailNext(routePattern, n, status, header, body)
}

// ServerErrors are the 5xx answers GitHub's REST API gives when it fails:
// 500 and 502 with {"message":"Server Error"}, 503 with
// {"message":"Service Unavailable"}.
func ServerErrors() []fakeserver.Response {
	return []fakeserver.Response{
		fakeserver.JSON(http.StatusInternalServerError, map[string]string{"message": "Server Error"}),
		fakeserver.JSON(http.StatusBadGateway, map[string]string{"message": "Server Error"}),
		fakeserver.JSON(http.StatusServiceUnavailable, map[string]string{"message": "Service Unavailable"}),
	}
}

// FailRandomly makes every request (authenticated, and not answered by a
// FailNext rule) fail with probability rate with one of ServerErrors,
// drawing from rnd: a seeded source gives a reproducible storm. rate 0
// stops it. Rate-limit accounting applies as for FailNext.
func (s *Server) FailRandomly(rate float64, rnd *rand.Rand) {
	if rate <= 0 {
		s.core.SetStorm(nil)
		return
	}
	s.core.SetStorm(&fakeserver.Storm{Rate: rate, Answers: ServerErrors(), Rand: rnd})
}

// SetLatency delays every subsequent response by d (a request whose client
// gives up earlier is dropped).
func (s *Server) SetLatency(d time.Duration) { s.core.SetLatency(d) }

// call is one request on its way through the pipeline.
type call struct {
	r     *http.Request
	route string
	path  string
	base  string // absolute API base, no trailing slash
	reqID string // X-GitHub-Request-Id, also quoted in rate-limit messages
	// auth is who the request authenticated as when it is a GitHub App
	// (JWT) or one of its installations (installation token); nil for the
	// configured token. It selects the rate-limit budget.
	auth *appIdentity
}

func (s *Server) newCall(r *http.Request, route string) *call {
	return &call{r: r, route: route, path: r.URL.Path, base: s.apiBase(r), reqID: s.nextRequestID()}
}

// response is what a route handler produces; the pipeline adds the common
// headers, the ETag and the rate-limit accounting.
type response = fakeserver.Response

type basicError struct {
	Message          string `json:"message"`
	DocumentationURL string `json:"documentation_url"`
}

func notFound() response {
	return fakeserver.JSON(http.StatusNotFound, basicError{"Not Found", "https://docs.github.com/rest"})
}

// handlerFunc serves one route.
type handlerFunc func(c *call) response

// handle registers fn under the mux pattern and records it as route.
func (s *Server) handle(mux *http.ServeMux, pattern, route string, fn handlerFunc) {
	mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		c := s.newCall(r, route)
		s.finish(w, r, c, s.process(c, fn))
	})
}

// process runs authentication, rate limiting and failure injection, then
// fn, and turns a 200 into a 304 for a matching If-None-Match.
func (s *Server) process(c *call, fn handlerFunc) response {
	if resp, denied := s.authenticateApp(c); denied {
		return resp
	}
	if c.auth == nil {
		if ok, present := s.authorized(c.r); !ok {
			return unauthorized(present)
		}
	}
	counts := c.route != routeRateLimit

	s.mu.Lock()
	b := s.budgetOf(c)
	b.roll(s.now())
	if counts && b.used >= b.limit {
		s.mu.Unlock()
		return rateLimited(c)
	}
	if counts {
		b.used++ // reserved now, refunded below for a 304
	}
	s.mu.Unlock()

	resp, injected := s.core.TakeFault(c.route)
	if !injected {
		resp = fn(c)
	}
	if fakeserver.DiffAccept(c.r) {
		resp.Forbidden = true
	}
	resp = fakeserver.Conditional(c.r, resp, strongETag)
	if counts && resp.Status == http.StatusNotModified {
		s.mu.Lock()
		b.used = max(0, b.used-1)
		s.mu.Unlock()
	}
	resp.Counted = counts && resp.Status != http.StatusNotModified
	return resp
}

// unauthorized is GitHub's 401 for a bad or missing token.
func unauthorized(present bool) response {
	msg := "Bad credentials"
	if !present {
		msg = "Requires authentication"
	}
	resp := fakeserver.JSON(http.StatusUnauthorized, basicError{msg, "https://docs.github.com/rest"})
	resp.Header = http.Header{}
	resp.Header.Set("X-GitHub-Media-Type", "github.v3; format=json")
	return resp
}

// rateLimited is GitHub's primary rate-limit answer (remaining 0 is set by
// finish from the exhausted budget).
func rateLimited(c *call) response {
	resp := fakeserver.JSON(http.StatusForbidden, basicError{
		Message: fmt.Sprintf("API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID %s.",
			c.reqID),
		DocumentationURL: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
	})
	resp.Header = http.Header{}
	return resp
}

// authorized reports whether r carries the accepted token, and whether it
// carried any credentials at all.
func (s *Server) authorized(r *http.Request) (ok, present bool) {
	h := r.Header.Get("Authorization")
	s.mu.Lock()
	want := s.token
	s.mu.Unlock()
	if want == "" {
		return true, h != ""
	}
	scheme, tok, found := strings.Cut(h, " ")
	if !found {
		return false, h != ""
	}
	switch strings.ToLower(scheme) {
	case "bearer", "token":
		return subtle.ConstantTimeCompare([]byte(tok), []byte(want)) == 1, true
	}
	return false, true
}

// budget is one rate-limit budget: the configured token's primary
// ("core") budget, a GitHub App's or one of its installations', or the
// search budget. Guarded by Server.mu.
type budget struct {
	limit   int
	used    int
	resetAt time.Time
	// window is the budget's period, 0 meaning an hour (core); resource
	// is its X-RateLimit-Resource, "" meaning "core".
	window   time.Duration
	resource string
}

// roll starts a new window (an hour unless set) once the last one is over.
func (b *budget) roll(now time.Time) {
	if b.resetAt.IsZero() || !now.Before(b.resetAt) {
		b.used = 0
		b.resetAt = now.Add(cmp.Or(b.window, time.Hour)).Truncate(time.Second)
	}
}

// nextRequestID makes an id in the shape of GitHub's X-GitHub-Request-Id.
func (s *Server) nextRequestID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("%04X:%05X:%07X:%07X:%08X", 0xC0DE, s.seq&0xFFFFF, s.seq*7919&0xFFFFFFF, s.seq*104729&0xFFFFFFF, s.seq)
}

// finish writes resp with GitHub's common headers and records the request.
func (s *Server) finish(w http.ResponseWriter, r *http.Request, c *call, resp response) {
	s.mu.Lock()
	b := s.budgetOf(c)
	b.roll(s.now())
	limit, remaining := b.limit, max(0, b.limit-b.used)
	used, reset := b.used, b.resetAt.Unix()
	resource := cmp.Or(b.resource, "core")
	exp := s.tokenExp
	s.mu.Unlock()

	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "private, max-age=60, s-maxage=60")
	h["Vary"] = []string{"Accept, Authorization, Cookie, X-GitHub-OTP", "Accept-Encoding, Accept, X-Requested-With"}
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	h.Set("X-GitHub-Request-Id", c.reqID)
	if h.Get("Date") == "" { // the fake's clock, for clock-skew checks, unless a wrapper set one
		h.Set("Date", s.now().UTC().Format(http.TimeFormat))
	}
	h.Set("X-RateLimit-Limit", strconv.Itoa(limit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
	h.Set("X-RateLimit-Resource", resource)
	if !exp.IsZero() && c.auth == nil && resp.Status != http.StatusUnauthorized {
		h.Set("GitHub-Authentication-Token-Expiration", exp.UTC().Format("2006-01-02 15:04:05 MST"))
	}
	if s.opts.Scopes != nil {
		h.Set("X-OAuth-Scopes", strings.Join(s.opts.Scopes, ", "))
		h.Set("X-Accepted-OAuth-Scopes", "repo")
	}
	s.core.Finish(w, r, c.path, c.route, resp)
}

// strongETag is GitHub's ETag of a body: a quoted hex digest.
func strongETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `"` + hex.EncodeToString(sum[:]) + `"`
}
