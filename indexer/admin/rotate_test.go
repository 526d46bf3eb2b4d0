package admin

import (
	"net/http"
	"sync/atomic"
	"testing"
)

// TestAdminTokenRotation: with a token source, a rotated admin token takes
// effect at the next request: the old token and the sessions issued under
// it stop working.
func TestAdminTokenRotation(t *testing.T) {
	const newToken = "rotated-admin-token-0123456789abcdef"
	var cur atomic.Value
	cur.Store(testToken)
	h := newHarness(t, newFakeBackend(), Options{Token: testToken, TokenSource: func() string { return cur.Load().(string) }})
	cookie := h.login(t)
	if r := h.do(t, req{method: "GET", path: "/", cookie: cookie}); r.code != http.StatusOK {
		t.Fatalf("session before rotation: %d", r.code)
	}
	cur.Store(newToken)
	for _, tc := range []struct {
		name string
		r    req
		want int
	}{
		{"old bearer", req{method: "GET", path: "/api/v1/status", bearer: testToken}, http.StatusUnauthorized},
		{"new bearer", req{method: "GET", path: "/api/v1/status", bearer: newToken}, http.StatusOK},
		{"old session", req{method: "GET", path: "/api/v1/status", cookie: cookie}, http.StatusUnauthorized},
	} {
		if r := h.do(t, tc.r); r.code != tc.want {
			t.Errorf("%s: %d, want %d", tc.name, r.code, tc.want)
		}
	}
}
