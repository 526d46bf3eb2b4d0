package guard

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jiralinkd/jiralinkd/providers"
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
