// Package fakeserver holds what the fake provider REST servers
// (providers/github/githubtest and providers/gitlab/gitlabtest) have in
// common, so that each of them is only the provider's own behaviour: its
// routes, JSON shapes, authentication, rate limiting, pagination, errors
// and headers.
//
// The shared parts are the request log, fault injection, latency and
// httptest plumbing (Core), the response a route handler produces and its
// If-None-Match / 304 Not Modified handling (Response, Conditional), ref
// resolution and a cache of commit lists over a corpus.History
// (ResolveRef, HistoryCache), and helpers for the fakes' own tests
// (Clock, Do, Reply, ShapeDiff, LoadJSON).
//
// A fake keeps its Core unexported and forwards its public methods
// (Requests, FailNext, ...) with its own documentation, so its users need
// not import this package; Request is the exception, aliased by both.
package fakeserver

import (
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

// Request is one request a fake received, in arrival order. What Path,
// Route and Counted hold exactly is the provider fake's business: its
// package documents them.
type Request struct {
	Method string
	// Path is the request's path, in the form the fake documents.
	Path     string
	RawQuery string
	Accept   string
	// IfNoneMatch is the conditional-request header as sent.
	IfNoneMatch string
	// Route is the matched endpoint in the fake's notation, "" for paths
	// no route matches.
	Route  string
	Status int
	// Counted reports that the request counted against the fake's rate
	// limit.
	Counted bool
	// Forbidden reports a request outside the modelled metadata
	// endpoints. jiralinkd must never send one.
	Forbidden bool
	// Credential is the credential the request presented (the token of
	// "Authorization: Bearer|token X" or PRIVATE-TOKEN), so that tests of
	// token rotation can assert which token each request carried. The
	// fakes only ever see test tokens.
	Credential string
}

// CredentialOf returns the token a request presents: PRIVATE-TOKEN, else
// the credentials of the Authorization header after its scheme.
func CredentialOf(r *http.Request) string {
	if t := r.Header.Get("Private-Token"); t != "" {
		return t
	}
	_, t, _ := strings.Cut(r.Header.Get("Authorization"), " ")
	return t
}

// AnyRoute makes a FailNext rule match every route.
const AnyRoute = "*"

// Core is the provider-independent state of a fake: the request log,
// the queue of injected failures, the response latency and the base URL
// of a started server. Create it with NewCore; all methods are safe for
// concurrent use.
type Core struct {
	name string
	log  *slog.Logger

	mu       sync.Mutex
	requests []Request
	faults   []fault
	storm    *Storm
	latency  time.Duration
	url      string
}

// NewCore returns a Core whose Finish logs one debug line per request to
// log (nil discards), headed name (the fake's package name).
func NewCore(name string, log *slog.Logger) *Core {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Core{name: name, log: log}
}

// fault is one FailNext rule.
type fault struct {
	route  string
	left   int
	status int
	header http.Header
	body   string
}

// Finish records the request r, answered resp, writes resp on w and logs
// the request. w's header already holds the fake's common headers:
// resp.Header replaces those it names, a 304 has no Content-Type and no
// body, and a HEAD request gets no body. path and route are recorded as
// Request.Path and Request.Route; a request no route matched (route "")
// is recorded Forbidden whatever resp says.
func (c *Core) Finish(w http.ResponseWriter, r *http.Request, path, route string, resp Response) {
	c.mu.Lock()
	c.requests = append(c.requests, Request{
		Method: r.Method, Path: path, RawQuery: r.URL.RawQuery,
		Accept: r.Header.Get("Accept"), IfNoneMatch: r.Header.Get("If-None-Match"),
		Route: route, Status: resp.Status, Counted: resp.Counted, Forbidden: resp.Forbidden || route == "",
		Credential: CredentialOf(r),
	})
	c.mu.Unlock()

	h := w.Header()
	for k, v := range resp.Header {
		h[k] = v
	}
	if resp.Status == http.StatusNotModified {
		h.Del("Content-Type")
	}
	w.WriteHeader(resp.Status)
	if resp.Status != http.StatusNotModified && r.Method != http.MethodHead {
		_, _ = w.Write(resp.Body)
	}
	// The query is left out: a client could put a token there.
	c.log.Debug(c.name+" request", "method", r.Method, "path", path,
		"route", route, "status", resp.Status, "counted", resp.Counted)
}

// Requests returns a copy of every request recorded so far.
func (c *Core) Requests() []Request {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.requests)
}

// ForbiddenRequests returns the recorded requests marked Forbidden.
func (c *Core) ForbiddenRequests() []Request {
	var out []Request
	for _, r := range c.Requests() {
		if r.Forbidden {
			out = append(out, r)
		}
	}
	return out
}

// ResetRequests clears the request log; nothing else.
func (c *Core) ResetRequests() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.requests = nil
}

// FailNext queues a rule: the next n requests whose route is route (or
// every route, for AnyRoute) are answered status with header (a copy is
// kept) and body. Rules are consumed in the order they were added; a
// request consumes at most one use of one rule.
func (c *Core) FailNext(route string, n int, status int, header http.Header, body string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.faults = append(c.faults, fault{route: route, left: n, status: status, header: header.Clone(), body: body})
}

// TakeFault consumes one use of the first FailNext rule that matches
// route and returns its answer; ok is false when no rule matches. The
// fake calls it where, in its pipeline, an injected failure replaces the
// handler.
func (c *Core) TakeFault(route string) (resp Response, ok bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for i := range c.faults {
		f := &c.faults[i]
		if f.left > 0 && (f.route == AnyRoute || f.route == route) {
			f.left--
			resp = Response{Status: f.status, Header: f.header.Clone(), Body: []byte(f.body)}
			ok = true
			break
		}
	}
	c.faults = slices.DeleteFunc(c.faults, func(f fault) bool { return f.left <= 0 })
	if !ok && c.storm != nil {
		resp, ok = c.storm.draw()
	}
	return resp, ok
}

// Storm is random fault injection: every request (that no FailNext rule
// answers) fails with probability Rate, with one of Answers picked at
// random. Draws come from Rand, so a seeded source makes a run
// reproducible as long as the requests arrive in the same order.
type Storm struct {
	Rate    float64
	Answers []Response
	Rand    *rand.Rand
}

// draw decides one request's fate; the Core's lock is held.
func (s *Storm) draw() (Response, bool) {
	if len(s.Answers) == 0 || s.Rand.Float64() >= s.Rate {
		return Response{}, false
	}
	a := s.Answers[s.Rand.IntN(len(s.Answers))]
	a.Header = a.Header.Clone()
	a.Body = slices.Clone(a.Body)
	return a, true
}

// SetStorm starts random fault injection (see Storm) on every route, or
// stops it when st is nil. It needs st.Rand.
func (c *Core) SetStorm(st *Storm) {
	if st != nil && st.Rand == nil {
		panic("fakeserver: Storm needs a Rand")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.storm = st
}

// SetLatency delays every subsequent response of Handler by d.
func (c *Core) SetLatency(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.latency = d
}

// Handler serves next after the latency set by SetLatency. A request
// whose client gives up first is dropped: neither answered nor recorded.
func (c *Core) Handler(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c.delay(r.Context()) {
			next.ServeHTTP(w, r)
		}
	})
}

// delay waits the latency; false means ctx ended first.
func (c *Core) delay(ctx context.Context) bool {
	c.mu.Lock()
	d := c.latency
	c.mu.Unlock()
	if d <= 0 {
		return true
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// Start serves h on an httptest server that is closed when t ends, and
// sets URL to the server's address followed by path (e.g. a path prefix
// and a trailing slash).
func (c *Core) Start(t testing.TB, h http.Handler, path string) {
	t.Helper()
	ts := httptest.NewServer(h)
	t.Cleanup(ts.Close)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.url = ts.URL + path
}

// URL is what Start set, "" before.
func (c *Core) URL() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.url
}
