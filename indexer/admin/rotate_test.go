package admin

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/status"
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

// TestStatusPageTokensAndInstallations: days left per provider and for
// Jira (flagged within 30 days, "expired on" once past), and each App
// installation's budget.
func TestStatusPageTokensAndInstallations(t *testing.T) {
	b := newFakeBackend()
	b.snap.Jira.Token = status.NewTokenExpiry(testNow.Add(45*24*time.Hour), testNow, "jira.token_env (JIRA_TOKEN)")
	b.snap.Providers[0].Token = status.NewTokenExpiry(testNow.Add(9*24*time.Hour+time.Hour), testNow, "providers[0].token_file (/run/gh)")
	b.snap.Providers[1].Token = status.NewTokenExpiry(testNow.Add(-24*time.Hour), testNow, "providers[1].token_env (GL)")
	b.snap.Providers[0].Installations = []status.InstallationBudget{
		{ID: 42, RateLimit: status.RateLimit{Known: true, Limit: 12500, Remaining: 12000}}, {ID: 43}}
	h := newHarness(t, b, Options{Token: testToken})
	r := h.do(t, req{method: "GET", path: "/", bearer: testToken})
	for _, want := range []string{
		`<dd class="token-expiry" data-days-left="45">45 days left (2024-06-15)</dd>`,
		`<dd class="token-expiry err" data-days-left="9">9 days left (2024-05-10)</dd>`,
		`data-days-left="-1">expired on 2024-04-30</dd>`,
		`<dt>Installation 42</dt><dd class="installation" data-installation="42">12,000 / 12,500</dd>`,
		`data-installation="43">unknown</dd>`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}
