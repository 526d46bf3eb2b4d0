package httpx

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// testNow is the injected clock: one minute before the GitLab docs' example
// reset time (RateLimit-Reset 1609844400 = Tue, 05 Jan 2021 11:00:00 GMT).
var testNow = time.Date(2021, 1, 5, 10, 59, 0, 0, time.UTC)

// sleepRecorder is an injected Sleep that records the waits and returns at
// once (or ctx.Err() when the context is done).
type sleepRecorder struct {
	mu     sync.Mutex
	sleeps []time.Duration
}

func (r *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	r.mu.Lock()
	r.sleeps = append(r.sleeps, d)
	r.mu.Unlock()
	return ctx.Err()
}

func (r *sleepRecorder) got() []time.Duration {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]time.Duration(nil), r.sleeps...)
}

// newTestTransport builds a transport with a recording sleeper, the fixed
// clock and jitter pinned to the ceiling so backoffs are deterministic.
func newTestTransport(opts RetryOptions) (*RetryTransport, *sleepRecorder) {
	rec := &sleepRecorder{}
	if opts.Sleep == nil {
		opts.Sleep = rec.sleep
	}
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	tr := NewRetryTransport(nil, opts)
	tr.jitter = func(d time.Duration) time.Duration { return d }
	return tr, rec
}

// step is one scripted response.
type step struct {
	status int
	header http.Header
	body   string
}

// scriptServer answers the i-th request with steps[i], repeating the last
// step once the script runs out, and records request bodies.
type scriptServer struct {
	*httptest.Server
	mu     sync.Mutex
	steps  []step
	bodies []string
}

func newScriptServer(t *testing.T, steps ...step) *scriptServer {
	t.Helper()
	s := &scriptServer{steps: steps}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		i := min(len(s.bodies), len(s.steps)-1)
		s.bodies = append(s.bodies, string(b))
		st := s.steps[i]
		s.mu.Unlock()
		for k, vs := range st.header {
			for _, v := range vs {
				w.Header().Add(k, v)
			}
		}
		w.WriteHeader(st.status)
		_, _ = io.WriteString(w, st.body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *scriptServer) requests() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.bodies)
}

func hdr(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func readFixture(t *testing.T, name string, v any) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
}

// octokitExchange is one recorded exchange of an octokit/fixtures scenario.
type octokitExchange struct {
	Method   string          `json:"method"`
	Path     string          `json:"path"`
	Status   int             `json:"status"`
	Response json.RawMessage `json:"response"`
	Headers  map[string]any  `json:"headers"`
}

func (e octokitExchange) header() http.Header {
	h := http.Header{}
	for k, v := range e.Headers {
		h.Set(k, fmt.Sprint(v))
	}
	// The body is re-encoded by the test server, so its recorded length and
	// connection handling do not apply.
	h.Del("Content-Length")
	h.Del("Connection")
	return h
}

// observedMessages holds the GitHub rate-limit message strings.
type observedMessages struct {
	Secondary []struct {
		Message string `json:"message"`
	} `json:"secondary_rate_limit_messages"`
	Primary []struct {
		Message string `json:"message"`
	} `json:"primary_rate_limit_messages"`
}

// gitlabRateLimit is the GitLab docs' rate-limit header table.
type gitlabRateLimit struct {
	Status  int               `json:"status_when_limited"`
	Body    string            `json:"default_body_when_limited"`
	Headers map[string]string `json:"headers"`
}

func (g gitlabRateLimit) header(skip ...string) http.Header {
	h := http.Header{}
	for k, v := range g.Headers {
		h.Set(k, v)
	}
	for _, k := range skip {
		h.Del(k)
	}
	return h
}

func githubError(msg string) string {
	b, _ := json.Marshal(map[string]string{
		"message":           msg,
		"documentation_url": "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits",
	})
	return string(b)
}

func get(t *testing.T, tr http.RoundTripper, url string) (*http.Response, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	return tr.RoundTrip(req)
}

func mustBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
