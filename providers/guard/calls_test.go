package guard

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

type okTransport struct{}

func (okTransport) RoundTrip(*http.Request) (*http.Response, error) {
	return httptest.NewRecorder().Result(), nil
}

// TestCountsRequestsLetThrough: requests the guard lets through count on
// the context's counter; refused ones and requests without one do not.
func TestCountsRequestsLetThrough(t *testing.T) {
	tr := New(okTransport{}, GitHub, "/")
	var c providers.CallCounter
	ctx := providers.WithCallCounter(context.Background(), &c)
	for _, path := range []string{"/repos/a/b/commits", "/repos/a/b/contents/x", "/repos/a/b/branches"} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.github.com"+path, nil)
		if resp, err := tr.RoundTrip(req); err == nil {
			resp.Body.Close()
		}
	}
	req, _ := http.NewRequest(http.MethodGet, "https://api.github.com/repos/a/b/tags", nil)
	if resp, err := tr.RoundTrip(req); err == nil {
		resp.Body.Close()
	}
	if c.Load() != 2 {
		t.Errorf("counted %d requests, want 2 (the refused one and the one without a counter do not count)", c.Load())
	}
}

// flaky answers 503 once, then 200.
type flaky struct{ n int }

func (f *flaky) RoundTrip(*http.Request) (*http.Response, error) {
	f.n++
	rec := httptest.NewRecorder()
	if f.n == 1 {
		rec.WriteHeader(http.StatusServiceUnavailable)
	}
	return rec.Result(), nil
}

// TestCountsProviderWaits: the retry transport's waits of a request the
// guard let through count on its counter (once as a call); a request of a
// client without a guard (Jira) counts neither.
func TestCountsProviderWaits(t *testing.T) {
	var slept time.Duration
	ro := httpx.RetryOptions{BaseBackoff: time.Second, Sleep: func(_ context.Context, d time.Duration) error { slept += d; return nil }}
	var c providers.CallCounter
	ctx := providers.WithCallCounter(context.Background(), &c)
	for _, tr := range []http.RoundTripper{New(httpx.NewRetryTransport(&flaky{}, ro), GitHub, "/"), httpx.NewRetryTransport(&flaky{}, ro)} {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "https://api.github.com/repos/a/b/commits", nil)
		resp, err := tr.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	if c.Load() != 1 || c.Waited() <= 0 || c.Waited() >= slept {
		t.Errorf("counted %d calls and %v of waits (slept %v in all), want 1 call and the guarded request's wait", c.Load(), c.Waited(), slept)
	}
}
