package fakeserver_test

import (
	"bytes"
	"context"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
)

// finish answers one request through c as a fake would.
func finish(c *fakeserver.Core, method, target, route string, resp fakeserver.Response) *httptest.ResponseRecorder {
	r := httptest.NewRequest(method, target, nil)
	r.Header.Set("Accept", "application/json")
	r.Header.Set("If-None-Match", `"x"`)
	w := httptest.NewRecorder()
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("X-Common", "fake")
	c.Finish(w, r, r.URL.Path, route, resp)
	return w
}

func TestFinishRecords(t *testing.T) {
	c := fakeserver.NewCore("test", nil)
	finish(c, http.MethodGet, "/a?page=2", "GET /a", fakeserver.Response{Status: 200, Body: []byte("{}"), Counted: true})
	finish(c, http.MethodGet, "/b", "GET /b", fakeserver.Forbidden(fakeserver.Response{Status: 200}))
	finish(c, http.MethodGet, "/c", "", fakeserver.Response{Status: 404})

	want := []fakeserver.Request{
		{Method: "GET", Path: "/a", RawQuery: "page=2", Accept: "application/json", IfNoneMatch: `"x"`, Route: "GET /a", Status: 200, Counted: true},
		{Method: "GET", Path: "/b", Accept: "application/json", IfNoneMatch: `"x"`, Route: "GET /b", Status: 200, Forbidden: true},
		// No route: forbidden whatever the response says.
		{Method: "GET", Path: "/c", Accept: "application/json", IfNoneMatch: `"x"`, Route: "", Status: 404, Forbidden: true},
	}
	got := c.Requests()
	if !slices.Equal(got, want) {
		t.Fatalf("Requests =\n%+v\nwant\n%+v", got, want)
	}
	got[0].Route = "changed"
	if c.Requests()[0].Route != "GET /a" {
		t.Error("Requests returned the log itself, not a copy")
	}
	if f := c.ForbiddenRequests(); !slices.Equal(f, want[1:]) {
		t.Errorf("ForbiddenRequests = %+v", f)
	}
	c.ResetRequests()
	if n := len(c.Requests()); n != 0 {
		t.Errorf("%d requests after ResetRequests", n)
	}
}

func TestFinishWrites(t *testing.T) {
	tests := []struct {
		name        string
		method      string
		resp        fakeserver.Response
		wantBody    string
		wantType    string
		wantCommon  string
		wantLocated string
	}{
		{
			name: "200", method: http.MethodGet,
			resp:     fakeserver.Response{Status: 200, Body: []byte(`{"a":1}`)},
			wantBody: `{"a":1}`, wantType: "application/json", wantCommon: "fake",
		},
		{
			name: "handler headers replace common ones", method: http.MethodGet,
			resp: fakeserver.Response{Status: 301, Body: []byte("moved"), Header: http.Header{
				"Content-Type": {"text/plain"}, "X-Common": {"own"}, "Location": {"/new"},
			}},
			wantBody: "moved", wantType: "text/plain", wantCommon: "own", wantLocated: "/new",
		},
		{
			name: "304 has no body and no Content-Type", method: http.MethodGet,
			resp:       fakeserver.Response{Status: 304, Body: []byte("ignored"), Header: http.Header{"Content-Type": {"text/plain"}}},
			wantCommon: "fake",
		},
		{
			name: "HEAD has no body", method: http.MethodHead,
			resp:     fakeserver.Response{Status: 200, Body: []byte(`{"a":1}`)},
			wantType: "application/json", wantCommon: "fake",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := fakeserver.NewCore("test", nil)
			w := finish(c, tt.method, "/x", "GET /x", tt.resp)
			if w.Code != tt.resp.Status || w.Body.String() != tt.wantBody {
				t.Errorf("wrote %d %q, want %d %q", w.Code, w.Body.String(), tt.resp.Status, tt.wantBody)
			}
			h := w.Header()
			if h.Get("Content-Type") != tt.wantType || h.Get("X-Common") != tt.wantCommon || h.Get("Location") != tt.wantLocated {
				t.Errorf("header %v", h)
			}
		})
	}
}

func TestFailNext(t *testing.T) {
	c := fakeserver.NewCore("test", nil)
	hdr := http.Header{"Retry-After": {"1"}}
	c.FailNext("GET /a", 2, 502, hdr, "bad gateway")
	c.FailNext(fakeserver.AnyRoute, 1, 429, nil, "")
	hdr.Set("Retry-After", "changed") // the rule keeps its own copy

	type step struct {
		route  string
		status int // 0: no fault
	}
	for i, st := range []step{
		{"GET /b", 429}, // the first rule does not match, the second does
		{"GET /b", 0},   // the AnyRoute rule is used up
		{"GET /a", 502},
		{"GET /a", 502},
		{"GET /a", 0},
	} {
		resp, ok := c.TakeFault(st.route)
		if ok != (st.status != 0) || resp.Status != st.status {
			t.Fatalf("step %d (%s): %+v, %v; want status %d", i, st.route, resp, ok, st.status)
		}
		if st.status == 502 {
			if resp.Header.Get("Retry-After") != "1" || string(resp.Body) != "bad gateway" {
				t.Errorf("step %d: header %v body %q", i, resp.Header, resp.Body)
			}
			resp.Header.Set("Retry-After", "mutated") // must not reach the next use
		}
	}
}

func TestFailNextInOrder(t *testing.T) {
	c := fakeserver.NewCore("test", nil)
	c.FailNext(fakeserver.AnyRoute, 1, 500, nil, "")
	c.FailNext("GET /a", 1, 503, nil, "")
	for _, want := range []int{500, 503} {
		if resp, _ := c.TakeFault("GET /a"); resp.Status != want {
			t.Errorf("status %d, want %d", resp.Status, want)
		}
	}
}

func TestHandlerLatency(t *testing.T) {
	c := fakeserver.NewCore("test", nil)
	served := 0
	h := c.Handler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served++
		w.WriteHeader(http.StatusNoContent)
	}))
	serve := func(ctx context.Context) (*httptest.ResponseRecorder, time.Duration) {
		w := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(w, httptest.NewRequestWithContext(ctx, http.MethodGet, "/", nil))
		return w, time.Since(start)
	}

	if w, _ := serve(context.Background()); w.Code != http.StatusNoContent || served != 1 {
		t.Errorf("without latency: %d, served %d", w.Code, served)
	}
	c.SetLatency(20 * time.Millisecond)
	if w, took := serve(context.Background()); w.Code != http.StatusNoContent || took < 20*time.Millisecond {
		t.Errorf("with latency: %d after %v, want >= 20ms", w.Code, took)
	}
	c.SetLatency(time.Hour)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	if _, took := serve(ctx); served != 2 || took > time.Minute {
		t.Errorf("client gone: served %d times, returned after %v", served, took)
	}
}

func TestStart(t *testing.T) {
	c := fakeserver.NewCore("test", nil)
	if c.URL() != "" {
		t.Errorf("URL before Start = %q", c.URL())
	}
	c.Start(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(r.URL.Path))
	}), "/prefix/")
	if !strings.HasPrefix(c.URL(), "http://") || !strings.HasSuffix(c.URL(), "/prefix/") {
		t.Fatalf("URL = %q", c.URL())
	}
	got := fakeserver.Do(t, http.DefaultClient, http.MethodGet, c.URL()+"x")
	if got.Status != 200 || string(got.Body) != "/prefix/x" {
		t.Errorf("GET: %d %q", got.Status, got.Body)
	}
}

func TestFinishLogs(t *testing.T) {
	var buf bytes.Buffer
	c := fakeserver.NewCore("fake", slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	finish(c, http.MethodGet, "/a?access_token=secret", "GET /a", fakeserver.Response{Status: 200, Counted: true})
	line := buf.String()
	for _, want := range []string{`msg="fake request"`, "method=GET", "path=/a", `route="GET /a"`, "status=200", "counted=true"} {
		if !strings.Contains(line, want) {
			t.Errorf("log line %q lacks %s", line, want)
		}
	}
	if strings.Contains(line, "secret") {
		t.Errorf("log line %q has the query", line)
	}
}

func TestCleanPrefix(t *testing.T) {
	for in, want := range map[string]string{"": "", "/": "", "api/v3": "/api/v3", "/api/v3/": "/api/v3", "gitlab//": "/gitlab"} {
		if got := fakeserver.CleanPrefix(in); got != want {
			t.Errorf("CleanPrefix(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestStormIsSeededAndYieldsToFailNext(t *testing.T) {
	answers := []fakeserver.Response{{Status: 500, Body: []byte("a")}, {Status: 503, Body: []byte("b")}}
	run := func(seed uint64) []int {
		c := fakeserver.NewCore("test", nil)
		c.SetStorm(&fakeserver.Storm{Rate: 0.3, Answers: answers, Rand: rand.New(rand.NewPCG(seed, 0))})
		c.FailNext("GET /a", 1, 429, nil, "")
		var got []int
		for range 200 {
			resp, _ := c.TakeFault("GET /a")
			got = append(got, resp.Status)
		}
		return got
	}
	a, b := run(7), run(7)
	if !slices.Equal(a, b) {
		t.Fatal("the same seed gave other faults")
	}
	if a[0] != 429 {
		t.Errorf("first answer %d: a FailNext rule goes before the storm", a[0])
	}
	counts := map[int]int{}
	for _, s := range a[1:] {
		counts[s]++
	}
	if counts[500] == 0 || counts[503] == 0 || counts[0] < 100 || counts[500]+counts[503] > 100 {
		t.Errorf("answers over 199 requests at rate 0.3: %v", counts)
	}
	c := fakeserver.NewCore("test", nil)
	c.SetStorm(&fakeserver.Storm{Rate: 1, Answers: answers, Rand: rand.New(rand.NewPCG(1, 0))})
	c.SetStorm(nil)
	if _, ok := c.TakeFault("GET /a"); ok {
		t.Error("a stopped storm still fails requests")
	}
}
