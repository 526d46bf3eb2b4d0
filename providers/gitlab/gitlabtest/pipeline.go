package gitlabtest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
)

// Request is one request the server received, in arrival order:
//
//   - Path is the escaped path after PathPrefix, "/api/v4" included, e.g.
//     "/api/v4/projects/apache%2Fzookeeper/repository/commits"; the full
//     path if it lies outside PathPrefix.
//   - Route is the matched endpoint in GitLab's notation, e.g.
//     "GET /projects/:id/repository/commits" (HEAD is recorded as GET);
//     "" for paths no route matches.
//   - Counted reports that the request was counted by the rate limiter:
//     every authenticated request (every request when Options.Token is
//     empty), including 304 answers and requests refused with 429, because
//     GitLab's limiter counts a request before it is answered. Requests
//     refused with 401 and paths outside the API are not counted.
//   - Forbidden reports a request outside the modelled metadata endpoints
//     (files, blobs, trees, archives, compare, single commit and its diff,
//     merge request changes and diffs, snippets, diff/patch media types or
//     suffixes, commit lists with stats, writes, unknown paths).
//     jiralinkd must never send one.
type Request = fakeserver.Request

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Request { return s.core.Requests() }

// ForbiddenRequests returns the recorded requests marked Forbidden.
func (s *Server) ForbiddenRequests() []Request { return s.core.ForbiddenRequests() }

// ResetRequests clears the request log (not the rate-limit budget).
func (s *Server) ResetRequests() { s.core.ResetRequests() }

// RateRemaining is the budget left in the current minute.
func (s *Server) RateRemaining() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollWindow()
	return max(0, s.opts.RateLimit-s.used)
}

// SetRateRemaining sets the budget left in the current minute, e.g. 0 to
// exercise the exhausted path without thousands of requests.
func (s *Server) SetRateRemaining(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollWindow()
	s.used = s.opts.RateLimit - max(0, min(n, s.opts.RateLimit))
}

// FailNext makes the next n requests to route (a Request.Route value such
// as "GET /projects/:id/repository/commits", or "*" for any route) answer
// status with the given extra headers (they override the server's own,
// e.g. RateLimit-Remaining or Retry-After) and body. Authentication and
// rate limiting come first. Rules queue up in the order they were added.
func (s *Server) FailNext(route string, n int, status int, header http.Header, body string) {
	s.core.FailNext(route, n, status, header, body)
}

// SetLatency delays every subsequent response by d (a request whose client
// gives up earlier is dropped).
func (s *Server) SetLatency(d time.Duration) { s.core.SetLatency(d) }

// call is one request on its way through the pipeline.
type call struct {
	r      *http.Request
	route  *route            // nil when no route matched
	name   string            // Request.Route
	params map[string]string // route parameters, unescaped
	path   string            // escaped, after PathPrefix
	origin string            // scheme://host as addressed
	reqID  string            // X-Request-Id
}

// response is what a route handler produces; the pipeline adds the common
// headers, the ETag and the rate-limit accounting.
type response = fakeserver.Response

// jsonResponse is a JSON response with GitLab's Content-Type.
func jsonResponse(status int, v any) response {
	resp := fakeserver.JSON(status, v)
	resp.Header = http.Header{"Content-Type": {"application/json"}}
	return resp
}

func textResponse(status int, body string) response {
	return response{Status: status, Header: http.Header{"Content-Type": {"text/plain"}}, Body: []byte(body)}
}

// messageResponse is GitLab's error body, e.g. {"message":"404 Project Not Found"}.
func messageResponse(status int, msg string) response {
	return jsonResponse(status, map[string]string{"message": msg})
}

// errorResponse is the body Grape sends for an invalid parameter, e.g.
// {"error":"per_page is invalid"}.
func errorResponse(status int, msg string) response {
	return jsonResponse(status, map[string]string{"error": msg})
}

// process runs authentication, the scope check, rate limiting and failure
// injection, then fn, and turns a 200 into a 304 for a matching
// If-None-Match.
func (s *Server) process(c *call, fn handlerFunc) response {
	if !s.authorized(c.r) {
		return messageResponse(http.StatusUnauthorized, "401 Unauthorized")
	}

	s.mu.Lock()
	s.rollWindow()
	s.used++ // counted before the answer, as Rack::Attack does
	throttled := s.used > s.opts.RateLimit
	s.mu.Unlock()
	// A rule is used up even when the scope check refuses the request.
	var fault response
	injected := false
	if !throttled {
		fault, injected = s.core.TakeFault(c.name)
	}

	var resp response
	switch {
	case throttled:
		resp = s.throttled()
	case !s.scopeAllows(c):
		resp = jsonResponse(http.StatusForbidden, map[string]string{
			"error":             "insufficient_scope",
			"error_description": "The request requires higher privileges than provided by the access token.",
			"scope":             "api read_api",
		})
	case injected:
		resp = fault
	default:
		resp = fn(c)
	}
	if resp.Header == nil {
		resp.Header = http.Header{}
	}
	if c.route != nil && c.route.forbidden {
		resp.Forbidden = true
	}
	if fakeserver.DiffAccept(c.r) || strings.HasSuffix(c.path, ".diff") || strings.HasSuffix(c.path, ".patch") {
		resp.Forbidden = true
	}
	resp = fakeserver.Conditional(c.r, resp, weakETag)
	resp.Counted = true
	return resp
}

// throttled is Rack::Attack's answer once the budget is spent: 429, a
// plain-text body and Retry-After, the whole seconds left in the window
// (period - now%period, as Rack::Attack computes it).
func (s *Server) throttled() response {
	retry := 60 - s.now().Unix()%60
	resp := textResponse(http.StatusTooManyRequests, "Retry later\n")
	resp.Header.Set("Retry-After", strconv.FormatInt(retry, 10))
	return resp
}

// authorized reports whether r carries the accepted token, as
// PRIVATE-TOKEN or as a Bearer token.
func (s *Server) authorized(r *http.Request) bool {
	want, ok := s.currentToken()
	if !ok {
		return true
	}
	tok := r.Header.Get("Private-Token")
	if tok == "" {
		scheme, t, ok := strings.Cut(r.Header.Get("Authorization"), " ")
		if !ok || !strings.EqualFold(scheme, "bearer") {
			return false
		}
		tok = t
	}
	return subtle.ConstantTimeCompare([]byte(tok), []byte(want)) == 1
}

// scopeAllows applies the token's scopes to the route of c.
func (s *Server) scopeAllows(c *call) bool {
	has := func(want ...string) bool {
		return slices.ContainsFunc(s.scopes, func(sc string) bool { return slices.Contains(want, sc) })
	}
	need := needAPI
	if c.route != nil {
		need = c.route.need
	}
	switch need {
	case needAny:
		return true
	case needRotate:
		return has("api", "self_rotate")
	case needUser:
		return has("api", "read_api", "read_user")
	}
	return has("api", "read_api")
}

// rollWindow starts a new window at each whole minute of the Unix clock.
// Callers hold s.mu.
func (s *Server) rollWindow() {
	start := s.now().Truncate(time.Minute)
	if !start.Equal(s.windowStart) {
		s.used = 0
		s.windowStart = start
	}
}

// nextRequestID makes an id in the shape of GitLab's X-Request-Id (a
// correlation id of 26 base-32 characters).
func (s *Server) nextRequestID() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.seq++
	return fmt.Sprintf("01JGLTEST%017X", s.seq)
}

// finish writes resp with GitLab's common headers and records the request.
func (s *Server) finish(w http.ResponseWriter, c *call, resp response) {
	r := c.r
	s.mu.Lock()
	s.rollWindow()
	observed := s.used
	reset := s.windowStart.Add(time.Minute)
	s.mu.Unlock()

	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "max-age=0, private, must-revalidate")
	h.Set("Vary", "Origin, Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("X-Request-Id", c.reqID)
	h.Set("X-Gitlab-Meta", `{"correlation_id":"`+c.reqID+`","version":"1"}`)
	h.Set("RateLimit-Limit", strconv.Itoa(s.opts.RateLimit))
	h.Set("RateLimit-Name", "throttle_authenticated_api")
	h.Set("RateLimit-Observed", strconv.Itoa(observed))
	h.Set("RateLimit-Remaining", strconv.Itoa(max(0, s.opts.RateLimit-observed)))
	h.Set("RateLimit-Reset", strconv.FormatInt(reset.Unix(), 10))
	h.Set("RateLimit-ResetTime", reset.UTC().Format(http.TimeFormat))
	s.core.Finish(w, r, c.path, c.name, resp)
}

// weakETag is the ETag Rack::ETag gives a body: W/ and a hex digest.
func weakETag(body []byte) string {
	sum := sha256.Sum256(body)
	return `W/"` + hex.EncodeToString(sum[:16]) + `"`
}
