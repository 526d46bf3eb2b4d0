package githubtest

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Request is one request the server received, in arrival order.
type Request struct {
	Method   string
	Path     string // after PathPrefix; the full path if outside it
	RawQuery string
	Accept   string
	// IfNoneMatch is the conditional-request header as sent.
	IfNoneMatch string
	// Route is the matched endpoint, e.g. "GET /repos/{owner}/{repo}/commits"
	// (also for the /repositories/{id}/... form); "" for paths no route
	// matches.
	Route  string
	Status int
	// Counted reports that the request consumed rate limit: every
	// authenticated request except 304 answers, GET /rate_limit and
	// requests refused because the budget was already spent.
	Counted bool
	// Forbidden reports a request outside the modelled metadata
	// endpoints (contents, trees, blobs, compare, single commit, pull
	// request files, archives, diff/patch media types, writes, unknown
	// paths). jiralinkd must never send one.
	Forbidden bool
}

// Requests returns a copy of every request received so far.
func (s *Server) Requests() []Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.requests)
}

// ForbiddenRequests returns the recorded requests marked Forbidden.
func (s *Server) ForbiddenRequests() []Request {
	var out []Request
	for _, r := range s.Requests() {
		if r.Forbidden {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests clears the request log (not the rate-limit budget).
func (s *Server) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = nil
}

// RateRemaining is the budget left in the current window.
func (s *Server) RateRemaining() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollWindow()
	return s.opts.RateLimit - s.used
}

// SetRateRemaining sets the budget left in the current window, e.g. 0 to
// exercise the exhausted path without thousands of requests.
func (s *Server) SetRateRemaining(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rollWindow()
	s.used = s.opts.RateLimit - max(0, min(n, s.opts.RateLimit))
}

type failRule struct {
	route  string
	left   int
	status int
	header http.Header
	body   string
}

// FailNext makes the next n requests to route (a Request.Route value such
// as "GET /repos/{owner}/{repo}/commits", or "*" for any route) answer
// status with the given extra headers (they override the server's own,
// e.g. X-RateLimit-Remaining or Retry-After) and body. Authentication is
// checked first; rate-limit accounting applies as usual. Rules queue up in
// the order they were added.
func (s *Server) FailNext(routePattern string, n int, status int, header http.Header, body string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.fails = append(s.fails, failRule{route: routePattern, left: n, status: status, header: header.Clone(), body: body})
}

// SetLatency delays every subsequent response by d (a request whose client
// gives up earlier is dropped).
func (s *Server) SetLatency(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
}

func (s *Server) currentLatency() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latency
}

// call is one request on its way through the pipeline.
type call struct {
	r     *http.Request
	route string
	path  string
	base  string // absolute API base, no trailing slash
	reqID string // X-GitHub-Request-Id, also quoted in rate-limit messages
}

func (s *Server) newCall(r *http.Request, route string) *call {
	return &call{r: r, route: route, path: r.URL.Path, base: s.apiBase(r), reqID: s.nextRequestID()}
}

// response is what a route handler produces; the pipeline adds the common
// headers, the ETag and the rate-limit accounting.
type response struct {
	status    int
	header    http.Header
	body      []byte
	forbidden bool
	counted   bool // set by process
}

func jsonResponse(status int, v any) response {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own encodable types reach here.
		panic(fmt.Sprintf("githubtest: encode: %v", err))
	}
	return response{status: status, body: b}
}

type basicError struct {
	Message          string `json:"message"`
	DocumentationURL string `json:"documentation_url"`
}

func notFound() response {
	return jsonResponse(http.StatusNotFound, basicError{"Not Found", "https://docs.github.com/rest"})
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

// process runs authentication, rate limiting and failure injection, then fn.
func (s *Server) process(c *call, fn handlerFunc) response {
	if ok, present := s.authorized(c.r); !ok {
		msg := "Bad credentials"
		if !present {
			msg = "Requires authentication"
		}
		resp := jsonResponse(http.StatusUnauthorized, basicError{msg, "https://docs.github.com/rest"})
		resp.header = http.Header{}
		resp.header.Set("X-GitHub-Media-Type", "github.v3; format=json")
		return resp
	}
	counts := c.route != routeRateLimit

	s.mu.Lock()
	s.rollWindow()
	if counts && s.used >= s.opts.RateLimit {
		s.mu.Unlock()
		return rateLimited(c)
	}
	if counts {
		s.used++ // reserved now, refunded below for a 304
	}
	var inject *failRule
	for i := range s.fails {
		f := &s.fails[i]
		if f.left > 0 && (f.route == "*" || f.route == c.route) {
			f.left--
			rule := *f
			inject = &rule
			break
		}
	}
	s.fails = slices.DeleteFunc(s.fails, func(f failRule) bool { return f.left <= 0 })
	s.mu.Unlock()

	var resp response
	if inject != nil {
		resp = response{status: inject.status, header: inject.header.Clone(), body: []byte(inject.body)}
	} else {
		resp = fn(c)
	}
	if strings.Contains(c.r.Header.Get("Accept"), "diff") || strings.Contains(c.r.Header.Get("Accept"), "patch") {
		resp.forbidden = true
	}
	if resp.status == http.StatusOK && resp.body != nil {
		etag := `"` + hexSum(resp.body) + `"`
		if resp.header == nil {
			resp.header = http.Header{}
		}
		if resp.header.Get("ETag") == "" {
			resp.header.Set("ETag", etag)
		}
		if etagMatch(c.r.Header.Get("If-None-Match"), resp.header.Get("ETag")) {
			h := http.Header{}
			h.Set("ETag", resp.header.Get("ETag"))
			resp = response{status: http.StatusNotModified, header: h, forbidden: resp.forbidden}
		}
	}
	if counts && resp.status == http.StatusNotModified {
		s.mu.Lock()
		s.used = max(0, s.used-1)
		s.mu.Unlock()
	}
	resp.counted = counts && resp.status != http.StatusNotModified
	return resp
}

// rateLimited is GitHub's primary rate-limit answer (remaining 0 is set by
// finish from the exhausted budget).
func rateLimited(c *call) response {
	resp := jsonResponse(http.StatusForbidden, basicError{
		Message: fmt.Sprintf("API rate limit exceeded for user ID 1. If you reach out to GitHub Support for help, please include the request ID %s.",
			c.reqID),
		DocumentationURL: "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api",
	})
	resp.header = http.Header{}
	return resp
}

// authorized reports whether r carries the accepted token, and whether it
// carried any credentials at all.
func (s *Server) authorized(r *http.Request) (ok, present bool) {
	h := r.Header.Get("Authorization")
	if s.opts.Token == "" {
		return true, h != ""
	}
	scheme, tok, found := strings.Cut(h, " ")
	if !found {
		return false, h != ""
	}
	switch strings.ToLower(scheme) {
	case "bearer", "token":
		return subtle.ConstantTimeCompare([]byte(tok), []byte(s.opts.Token)) == 1, true
	}
	return false, true
}

// rollWindow starts a new hour-long window once the last one is over.
// Callers hold s.mu.
func (s *Server) rollWindow() {
	now := s.now()
	if s.resetAt.IsZero() || !now.Before(s.resetAt) {
		s.used = 0
		s.resetAt = now.Add(time.Hour).Truncate(time.Second)
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
	counted := resp.counted
	s.mu.Lock()
	s.rollWindow()
	remaining := max(0, s.opts.RateLimit-s.used)
	used, reset := s.used, s.resetAt.Unix()
	s.requests = append(s.requests, Request{
		Method: r.Method, Path: c.path, RawQuery: r.URL.RawQuery,
		Accept: r.Header.Get("Accept"), IfNoneMatch: r.Header.Get("If-None-Match"),
		Route: c.route, Status: resp.status, Counted: counted, Forbidden: resp.forbidden || c.route == "",
	})
	s.mu.Unlock()

	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("Cache-Control", "private, max-age=60, s-maxage=60")
	h["Vary"] = []string{"Accept, Authorization, Cookie, X-GitHub-OTP", "Accept-Encoding, Accept, X-Requested-With"}
	h.Set("X-GitHub-Media-Type", "github.v3; format=json")
	h.Set("X-GitHub-Api-Version-Selected", "2022-11-28")
	h.Set("X-GitHub-Request-Id", c.reqID)
	h.Set("X-RateLimit-Limit", strconv.Itoa(s.opts.RateLimit))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Used", strconv.Itoa(used))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(reset, 10))
	h.Set("X-RateLimit-Resource", "core")
	if s.opts.Scopes != nil {
		h.Set("X-OAuth-Scopes", strings.Join(s.opts.Scopes, ", "))
		h.Set("X-Accepted-OAuth-Scopes", "repo")
	}
	for k, v := range resp.header {
		h[k] = v
	}
	if resp.status == http.StatusNotModified {
		h.Del("Content-Type")
	}
	w.WriteHeader(resp.status)
	if resp.status != http.StatusNotModified && r.Method != http.MethodHead {
		_, _ = w.Write(resp.body)
	}
	// The query is left out: a legacy client could put a token there.
	s.log.Debug("githubtest request", "method", r.Method, "path", c.path,
		"route", c.route, "status", resp.status, "counted", counted)
}

func hexSum(b []byte) string {
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// etagMatch implements If-None-Match's weak comparison (RFC 9110 13.1.2).
func etagMatch(ifNoneMatch, etag string) bool {
	if ifNoneMatch == "" || etag == "" {
		return false
	}
	strip := func(t string) string { return strings.TrimPrefix(strings.TrimSpace(t), "W/") }
	for _, t := range strings.Split(ifNoneMatch, ",") {
		if strings.TrimSpace(t) == "*" || strip(t) == strip(etag) {
			return true
		}
	}
	return false
}
