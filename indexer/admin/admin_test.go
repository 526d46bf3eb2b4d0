package admin

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/jiralinkd/jiralinkd/indexer/status"
)

// req describes one request; bearer "" sends no Authorization header.
type req struct {
	method, path string
	bearer       string
	form         url.Values
	header       map[string]string
	cookie       *http.Cookie
}

type resp struct {
	code   int
	header http.Header
	body   string
	cookie *http.Cookie // the session cookie set, if any
}

// do sends r without following redirects.
func (h *harness) do(t *testing.T, r req) resp {
	t.Helper()
	var body io.Reader
	if r.form != nil {
		body = strings.NewReader(r.form.Encode())
	}
	hr, err := http.NewRequest(r.method, h.ts.URL+r.path, body)
	if err != nil {
		t.Fatal(err)
	}
	if r.form != nil {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if r.bearer != "" {
		hr.Header.Set("Authorization", "Bearer "+r.bearer)
	}
	for k, v := range r.header {
		hr.Header.Set(k, v)
	}
	if r.cookie != nil {
		hr.AddCookie(r.cookie)
	}
	c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	out := resp{code: res.StatusCode, header: res.Header, body: string(b)}
	for _, ck := range res.Cookies() {
		if ck.Name == sessionCookie {
			out.cookie = ck
		}
	}
	return out
}

// login posts the token to the login form and returns the session cookie.
func (h *harness) login(t *testing.T) *http.Cookie {
	t.Helper()
	r := h.do(t, req{method: "POST", path: "/login", form: url.Values{"token": {testToken}}})
	if r.code != http.StatusSeeOther || r.cookie == nil {
		t.Fatalf("login: %d %v\n%s", r.code, r.header, r.body)
	}
	return r.cookie
}

// csrfOf extracts the CSRF token from a rendered page.
func csrfOf(t *testing.T, page string) string {
	t.Helper()
	const marker = `name="csrf" value="`
	i := strings.Index(page, marker)
	if i < 0 {
		t.Fatalf("page has no CSRF field:\n%s", page)
	}
	rest := page[i+len(marker):]
	return rest[:strings.IndexByte(rest, '"')]
}

func TestDisabledWithoutToken(t *testing.T) {
	h := newHarness(t, newFakeBackend(), Options{Metrics: promhttp.Handler()})
	if h.srv.Enabled() {
		t.Fatal("Enabled() with no token")
	}
	for _, r := range []req{
		{method: "GET", path: "/"}, {method: "GET", path: "/login"}, {method: "POST", path: "/login", form: url.Values{"token": {""}}},
		{method: "GET", path: "/issues?key=ABC-1"}, {method: "GET", path: "/metrics"},
		{method: "GET", path: "/api/v1/status"}, {method: "GET", path: "/api/v1/status", bearer: "anything"},
		{method: "GET", path: "/api/v1/issues/ABC-1"}, {method: "POST", path: "/api/v1/repos/github/acme/api/resync"},
		{method: "POST", path: "/repos/github/acme/api/resync"},
	} {
		if got := h.do(t, r); got.code != http.StatusNotFound {
			t.Errorf("%s %s: %d, want 404", r.method, r.path, got.code)
		}
	}
	if got := h.do(t, req{method: "GET", path: "/healthz"}); got.code != http.StatusOK {
		t.Errorf("/healthz: %d", got.code)
	}
	if n := len(h.b.calls()); n != 0 {
		t.Errorf("backend resynced %d times while disabled", n)
	}
}

func TestAPIAuth(t *testing.T) {
	h := newHarness(t, newFakeBackend(), Options{Token: testToken})
	tests := []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"none", nil, http.StatusUnauthorized},
		{"bad bearer", map[string]string{"Authorization": "Bearer nope"}, http.StatusUnauthorized},
		{"token prefix", map[string]string{"Authorization": "Bearer " + testToken[:10]}, http.StatusUnauthorized},
		{"basic scheme", map[string]string{"Authorization": "Basic " + testToken}, http.StatusUnauthorized},
		{"token as cookie", map[string]string{"Cookie": sessionCookie + "=" + testToken}, http.StatusUnauthorized},
		{"good bearer", map[string]string{"Authorization": "Bearer " + testToken}, http.StatusOK},
		{"lowercase scheme", map[string]string{"Authorization": "bearer " + testToken}, http.StatusOK},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, path := range []string{"/api/v1/status", "/api/v1/repos", "/api/v1/issues/ABC-1"} {
				r := h.do(t, req{method: "GET", path: path, header: tt.header})
				if r.code != tt.want {
					t.Fatalf("%s: %d, want %d: %s", path, r.code, tt.want, r.body)
				}
				if tt.want == http.StatusUnauthorized {
					var e apiError
					if err := json.Unmarshal([]byte(r.body), &e); err != nil || e.Error == "" {
						t.Errorf("%s: 401 body is not a JSON error: %q", path, r.body)
					}
					if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
						t.Errorf("%s: content type %q", path, r.header.Get("Content-Type"))
					}
					if r.header.Get("WWW-Authenticate") == "" {
						t.Errorf("%s: no WWW-Authenticate", path)
					}
				}
			}
		})
	}
}

func TestAPIStatusAndRepos(t *testing.T) {
	b := newFakeBackend()
	h := newHarness(t, b, Options{Token: testToken})
	r := h.do(t, req{method: "GET", path: "/api/v1/status", bearer: testToken})
	if r.code != http.StatusOK {
		t.Fatalf("status: %d %s", r.code, r.body)
	}
	var got status.Snapshot
	if err := json.Unmarshal([]byte(r.body), &got); err != nil {
		t.Fatal(err)
	}
	want, _ := b.Snapshot()
	if !reflect.DeepEqual(normalize(got), normalize(want)) {
		t.Errorf("status:\n got %+v\nwant %+v", got, want)
	}
	if r.header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", r.header.Get("Cache-Control"))
	}

	r = h.do(t, req{method: "GET", path: "/api/v1/repos", bearer: testToken})
	var repos []status.Repo
	if err := json.Unmarshal([]byte(r.body), &repos); err != nil {
		t.Fatal(err)
	}
	if len(repos) != 3 || repos[2].FullName != "group/sub/tool" || repos[1].LastError != "list branches: 403 Forbidden" {
		t.Errorf("repos: %+v", repos)
	}

	// An empty state is [] rather than null.
	b.snap.Repos, b.snap.Providers = nil, nil
	r = h.do(t, req{method: "GET", path: "/api/v1/repos", bearer: testToken})
	if strings.TrimSpace(r.body) != "[]" {
		t.Errorf("empty repos: %q", r.body)
	}
}

// normalize drops monotonic clock readings and locations so that a JSON
// round trip compares equal.
func normalize(s status.Snapshot) status.Snapshot {
	u := func(t time.Time) time.Time { return t.UTC().Round(0) }
	s.Time = u(s.Time)
	s.Providers = append([]status.Provider(nil), s.Providers...)
	for i := range s.Providers {
		p := &s.Providers[i]
		p.NextRun, p.LastPass, p.PausedUntil, p.RateLimit.Reset = u(p.NextRun), u(p.LastPass), u(p.PausedUntil), u(p.RateLimit.Reset)
	}
	s.Repos = append([]status.Repo(nil), s.Repos...)
	for i := range s.Repos {
		s.Repos[i].LastSync, s.Repos[i].LastSuccess = u(s.Repos[i].LastSync), u(s.Repos[i].LastSuccess)
	}
	return s
}

func TestAPIIssue(t *testing.T) {
	b := newFakeBackend()
	h := newHarness(t, b, Options{Token: testToken})

	r := h.do(t, req{method: "GET", path: "/api/v1/issues/ABC-1", bearer: testToken})
	if r.code != http.StatusOK {
		t.Fatalf("%d %s", r.code, r.body)
	}
	var raw struct {
		Issue string           `json:"issue"`
		Links []map[string]any `json:"links"`
	}
	if err := json.Unmarshal([]byte(r.body), &raw); err != nil {
		t.Fatal(err)
	}
	if raw.Issue != "ABC-1" || len(raw.Links) != 2 {
		t.Fatalf("body: %s", r.body)
	}
	want := map[string]any{
		"global_id": "jiralinkd/github/77/pr/5", "kind": "pr", "repo": "github/acme/api",
		"url": "https://github.com/acme/api/pull/5", "title": "PR #5: login",
		"sources": []any{"PR title", "PR branch"}, "written": "2024-05-01T11:50:00Z",
	}
	if !reflect.DeepEqual(raw.Links[1], want) {
		t.Errorf("link:\n got %v\nwant %v", raw.Links[1], want)
	}

	r = h.do(t, req{method: "GET", path: "/api/v1/issues/ZZZ-9", bearer: testToken})
	if r.code != http.StatusOK || !strings.Contains(r.body, `"links": []`) {
		t.Errorf("no links: %d %s", r.code, r.body)
	}

	// Keys are case-insensitive: abc-1 is ABC-1.
	for _, k := range []string{"abc-1", "Abc-1"} {
		r := h.do(t, req{method: "GET", path: "/api/v1/issues/" + k, bearer: testToken})
		if r.code != http.StatusOK || !strings.Contains(r.body, `"issue": "ABC-1"`) || !strings.Contains(r.body, "pull/5") {
			t.Errorf("key %q: %d %s", k, r.code, r.body)
		}
	}
	for _, k := range []string{"ABC-01", "ABC-0", "ABC", "ABC-", "-1", "1ABC-1", "ABC-1x", "AB C-1", "ABC-1%0A"} {
		r := h.do(t, req{method: "GET", path: "/api/v1/issues/" + k, bearer: testToken})
		if r.code != http.StatusBadRequest || !strings.Contains(r.body, "malformed issue key") {
			t.Errorf("key %q: %d %s", k, r.code, r.body)
		}
	}
	for _, k := range []string{"A-1", "ABC_2-10", "X1-999"} {
		if !ValidIssueKey(k) {
			t.Errorf("ValidIssueKey(%q) = false", k)
		}
	}

	b.linksErr = errBackendBroken
	r = h.do(t, req{method: "GET", path: "/api/v1/issues/ABC-1", bearer: testToken})
	if r.code != http.StatusInternalServerError || strings.Contains(r.body, "disk on fire") {
		t.Errorf("backend error: %d %s", r.code, r.body)
	}
}

func TestAPIResync(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		err       error
		want      int
		wantCall  string
		wantInMsg string
	}{
		{"github", "/api/v1/repos/github/acme/api/resync", nil, http.StatusAccepted, "github acme/api", `"status": "started"`},
		{"gitlab subgroup", "/api/v1/repos/gitlab/group/sub/tool/resync", nil, http.StatusAccepted, "gitlab group/sub/tool", `"status": "started"`},
		{"unknown", "/api/v1/repos/github/acme/nope/resync", nil, http.StatusNotFound, "github acme/nope", "no such repository"},
		{"busy", "/api/v1/repos/github/acme/api/resync", ErrBusy, http.StatusConflict, "github acme/api", "already syncing"},
		{"wrapped unknown", "/api/v1/repos/github/acme/api/resync", fmt.Errorf("lookup: %w", ErrUnknownRepo), http.StatusNotFound, "github acme/api", "no such repository"},
		{"internal", "/api/v1/repos/github/acme/api/resync", errBackendBroken, http.StatusInternalServerError, "github acme/api", "daemon's log"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := newFakeBackend()
			b.resyncErr = tt.err
			h := newHarness(t, b, Options{Token: testToken})
			r := h.do(t, req{method: "POST", path: tt.path, bearer: testToken})
			if r.code != tt.want || !strings.Contains(r.body, tt.wantInMsg) {
				t.Errorf("%d %s, want %d with %q", r.code, r.body, tt.want, tt.wantInMsg)
			}
			if strings.Contains(r.body, "disk on fire") {
				t.Errorf("internal error text leaked: %s", r.body)
			}
			if calls := b.calls(); len(calls) != 1 || calls[0] != tt.wantCall {
				t.Errorf("backend calls %q, want %q", calls, tt.wantCall)
			}
		})
	}

	b := newFakeBackend()
	h := newHarness(t, b, Options{Token: testToken})
	if r := h.do(t, req{method: "POST", path: "/api/v1/repos/github/acme/api/resync"}); r.code != http.StatusUnauthorized {
		t.Errorf("unauthenticated resync: %d", r.code)
	}
	if r := h.do(t, req{method: "GET", path: "/api/v1/repos/github/acme/api/resync", bearer: testToken}); r.code != http.StatusMethodNotAllowed {
		t.Errorf("GET resync: %d", r.code)
	}
	// The second resync of the same repo finds it syncing.
	h.do(t, req{method: "POST", path: "/api/v1/repos/github/acme/api/resync", bearer: testToken})
	if r := h.do(t, req{method: "POST", path: "/api/v1/repos/github/acme/api/resync", bearer: testToken}); r.code != http.StatusConflict {
		t.Errorf("second resync: %d", r.code)
	}
	if n := len(b.calls()); n != 2 {
		t.Errorf("backend calls %d, want 2 (none unauthenticated)", n)
	}
}

func TestUnknownAPIRoute(t *testing.T) {
	h := newHarness(t, newFakeBackend(), Options{Token: testToken})
	if r := h.do(t, req{method: "GET", path: "/api/v1/nope"}); r.code != http.StatusUnauthorized {
		t.Errorf("unauthenticated: %d", r.code)
	}
	if r := h.do(t, req{method: "GET", path: "/api/v1/nope", bearer: testToken}); r.code != http.StatusNotFound || !strings.Contains(r.body, `"error"`) {
		t.Errorf("authenticated: %d %s", r.code, r.body)
	}
}

func TestMetricsBehindAuth(t *testing.T) {
	reg := prometheus.NewRegistry()
	c := prometheus.NewCounter(prometheus.CounterOpts{Name: "jiralinkd_test_total", Help: "test"})
	reg.MustRegister(c)
	c.Add(3)
	h := newHarness(t, newFakeBackend(), Options{Token: testToken, Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{})})
	if r := h.do(t, req{method: "GET", path: "/metrics"}); r.code != http.StatusUnauthorized || strings.Contains(r.body, "jiralinkd_test_total") {
		t.Errorf("unauthenticated: %d %s", r.code, r.body)
	}
	if r := h.do(t, req{method: "GET", path: "/metrics", bearer: "wrong"}); r.code != http.StatusUnauthorized {
		t.Errorf("bad token: %d", r.code)
	}
	if r := h.do(t, req{method: "GET", path: "/metrics", bearer: testToken}); r.code != http.StatusOK || !strings.Contains(r.body, "jiralinkd_test_total 3") {
		t.Errorf("authenticated: %d %s", r.code, r.body)
	}

	h = newHarness(t, newFakeBackend(), Options{Token: testToken})
	if r := h.do(t, req{method: "GET", path: "/metrics", bearer: testToken}); r.code != http.StatusNotFound {
		t.Errorf("no metrics handler: %d", r.code)
	}
}

func TestLoginFlow(t *testing.T) {
	var logs bytes.Buffer
	h := newHarness(t, newFakeBackend(), Options{Token: testToken, Version: "v1.2.3",
		Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})

	r := h.do(t, req{method: "GET", path: "/"})
	if r.code != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Fatalf("unauthenticated GET /: %d %q", r.code, r.header.Get("Location"))
	}
	r = h.do(t, req{method: "GET", path: "/issues?key=ABC-1"})
	if r.code != http.StatusSeeOther || r.header.Get("Location") != "/login?next=%2Fissues%3Fkey%3DABC-1" {
		t.Errorf("unauthenticated GET /issues: %d %q", r.code, r.header.Get("Location"))
	}

	r = h.do(t, req{method: "GET", path: "/login?next=/issues?key=ABC-1"})
	if r.code != http.StatusOK || !strings.Contains(r.body, "http.admin_token_env") || !strings.Contains(r.body, `type="password"`) ||
		!strings.Contains(r.body, `value="/issues?key=ABC-1"`) {
		t.Errorf("login page: %d\n%s", r.code, r.body)
	}

	r = h.do(t, req{method: "POST", path: "/login", form: url.Values{"token": {"wrong-guess-42"}}})
	if r.code != http.StatusUnauthorized || r.cookie != nil || !strings.Contains(r.body, "not the admin token") {
		t.Errorf("wrong token: %d cookie %v", r.code, r.cookie)
	}

	r = h.do(t, req{method: "POST", path: "/login", form: url.Values{"token": {testToken}, "next": {"/issues?key=ABC-1"}}})
	if r.code != http.StatusSeeOther || r.header.Get("Location") != "/issues?key=ABC-1" {
		t.Fatalf("login: %d %q", r.code, r.header.Get("Location"))
	}
	ck := r.cookie
	if ck == nil || !ck.HttpOnly || ck.SameSite != http.SameSiteStrictMode || ck.Secure || ck.Path != "/" || ck.MaxAge <= 0 {
		t.Fatalf("session cookie: %+v", ck)
	}
	if strings.Contains(ck.Value, testToken) {
		t.Fatal("session cookie holds the token")
	}

	r = h.do(t, req{method: "GET", path: "/", cookie: ck})
	if r.code != http.StatusOK || !strings.Contains(r.body, "acme/api") {
		t.Fatalf("GET / with session: %d", r.code)
	}
	if r := h.do(t, req{method: "GET", path: "/api/v1/status", cookie: ck}); r.code != http.StatusOK {
		t.Errorf("API GET with session: %d", r.code)
	}
	csrf := csrfOf(t, r.body)

	if r := h.do(t, req{method: "POST", path: "/logout", cookie: ck, form: url.Values{}}); r.code != http.StatusForbidden {
		t.Errorf("logout without CSRF: %d", r.code)
	}
	r = h.do(t, req{method: "POST", path: "/logout", cookie: ck, form: url.Values{"csrf": {csrf}}})
	if r.code != http.StatusSeeOther || r.header.Get("Location") != "/login" || r.cookie == nil || r.cookie.MaxAge >= 0 || r.cookie.Value != "" {
		t.Errorf("logout: %d %q %+v", r.code, r.header.Get("Location"), r.cookie)
	}

	// Open redirects are refused.
	for _, next := range []string{"//evil.example/", "https://evil.example/", "/\\evil.example", "javascript:alert(1)"} {
		r := h.do(t, req{method: "POST", path: "/login", form: url.Values{"token": {testToken}, "next": {next}}})
		if r.header.Get("Location") != "/" {
			t.Errorf("next %q redirected to %q", next, r.header.Get("Location"))
		}
	}

	h.do(t, req{method: "GET", path: "/api/v1/status", bearer: "wrong-guess-42"})
	if !strings.Contains(logs.String(), "invalid token") {
		t.Errorf("bad bearer not logged:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), testToken) || strings.Contains(logs.String(), "wrong-guess-42") {
		t.Errorf("a token reached the log:\n%s", logs.String())
	}
	if !strings.Contains(logs.String(), "admin login failed") {
		t.Errorf("failed login not logged:\n%s", logs.String())
	}
}

func TestSessionCookieChecks(t *testing.T) {
	now := testNow
	h := newHarness(t, newFakeBackend(), Options{Token: testToken, Now: func() time.Time { return now }})
	ck := h.login(t)

	// A session of a server with another token is worthless here.
	other := newAuthenticator(func() string { return "another-token" }, func() time.Time { return now }, slog.Default())
	tampered := *ck
	tampered.Value = strings.Replace(ck.Value, "v1.", "v1.9", 1)
	for name, c := range map[string]*http.Cookie{
		"other token": {Name: sessionCookie, Value: other.newSession()},
		"tampered":    &tampered,
		"garbage":     {Name: sessionCookie, Value: "v1.x.y.z"},
	} {
		if r := h.do(t, req{method: "GET", path: "/", cookie: c}); r.code != http.StatusSeeOther {
			t.Errorf("%s: %d", name, r.code)
		}
		if r := h.do(t, req{method: "GET", path: "/api/v1/status", cookie: c}); r.code != http.StatusUnauthorized {
			t.Errorf("%s API: %d", name, r.code)
		}
	}
	if r := h.do(t, req{method: "GET", path: "/", cookie: ck}); r.code != http.StatusOK {
		t.Fatalf("valid session: %d", r.code)
	}
	now = now.Add(sessionTTL + time.Second)
	if r := h.do(t, req{method: "GET", path: "/", cookie: ck}); r.code != http.StatusSeeOther {
		t.Errorf("expired session: %d", r.code)
	}
}

func TestSecureCookieOverTLS(t *testing.T) {
	h := newHarness(t, newFakeBackend(), Options{Token: testToken})
	r := h.do(t, req{method: "POST", path: "/login", form: url.Values{"token": {testToken}},
		header: map[string]string{"X-Forwarded-Proto": "https"}})
	if r.cookie == nil || !r.cookie.Secure {
		t.Errorf("behind a TLS proxy the cookie is not Secure: %+v", r.cookie)
	}

	r2 := mux.NewRouter()
	New(newFakeBackend(), Options{Token: testToken}).Route(r2)
	ts := httptest.NewTLSServer(r2)
	defer ts.Close()
	c := ts.Client()
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	res, err := c.PostForm(ts.URL+"/login", url.Values{"token": {testToken}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if cs := res.Cookies(); len(cs) != 1 || !cs[0].Secure {
		t.Errorf("over TLS the cookie is not Secure: %+v", cs)
	}
}

func TestResyncFormCSRF(t *testing.T) {
	b := newFakeBackend()
	h := newHarness(t, b, Options{Token: testToken})
	ck := h.login(t)
	page := h.do(t, req{method: "GET", path: "/", cookie: ck})
	csrf := csrfOf(t, page.body)
	const path = "/repos/gitlab/group/sub/tool/resync"
	if !strings.Contains(page.body, `action="`+path+`"`) {
		t.Fatalf("page lacks the resync form for the GitLab repo")
	}

	for name, form := range map[string]url.Values{
		"missing": {},
		"wrong":   {"csrf": {"AAAA" + csrf[4:]}},
		"other":   {"csrf": {newAuthenticator(func() string { return testToken }, time.Now, slog.Default()).csrfToken("v1.0.x.y")}},
	} {
		if r := h.do(t, req{method: "POST", path: path, cookie: ck, form: form}); r.code != http.StatusForbidden {
			t.Errorf("CSRF %s: %d", name, r.code)
		}
	}
	if n := len(b.calls()); n != 0 {
		t.Fatalf("backend called %d times without a valid CSRF token", n)
	}
	// Without any credential the form sends the browser to the login page.
	if r := h.do(t, req{method: "POST", path: path, form: url.Values{"csrf": {csrf}}}); r.code != http.StatusSeeOther || r.header.Get("Location") != "/login" {
		t.Errorf("no session: %d %q", r.code, r.header.Get("Location"))
	}

	r := h.do(t, req{method: "POST", path: path, cookie: ck, form: url.Values{"csrf": {csrf}}})
	if r.code != http.StatusSeeOther || r.header.Get("Location") != "/?notice=started&repo=gitlab%2Fgroup%2Fsub%2Ftool" {
		t.Fatalf("resync: %d %q", r.code, r.header.Get("Location"))
	}
	if calls := b.calls(); len(calls) != 1 || calls[0] != "gitlab group/sub/tool" {
		t.Fatalf("backend calls %q", calls)
	}
	page = h.do(t, req{method: "GET", path: r.header.Get("Location"), cookie: ck})
	if !strings.Contains(page.body, "Resync of gitlab/group/sub/tool started.") ||
		!strings.Contains(page.body, `data-repo="gitlab/group/sub/tool" data-state="syncing"`) {
		t.Errorf("page after resync lacks the notice or the syncing state")
	}

	// Again: busy. A bearer-authenticated form post needs no CSRF token.
	r = h.do(t, req{method: "POST", path: path, bearer: testToken, form: url.Values{}})
	if r.code != http.StatusSeeOther || !strings.Contains(r.header.Get("Location"), "notice=busy") {
		t.Errorf("busy: %d %q", r.code, r.header.Get("Location"))
	}
	r = h.do(t, req{method: "POST", path: "/repos/github/acme/gone/resync", bearer: testToken, form: url.Values{}})
	if !strings.Contains(r.header.Get("Location"), "notice=unknown") {
		t.Errorf("unknown: %q", r.header.Get("Location"))
	}
	page = h.do(t, req{method: "GET", path: r.header.Get("Location"), bearer: testToken})
	if !strings.Contains(page.body, "github/acme/gone is not a repository this daemon indexes.") {
		t.Errorf("unknown notice missing")
	}

	// The API accepts a session only with the CSRF header.
	api := "/api/v1/repos/github/acme/api/resync"
	if r := h.do(t, req{method: "POST", path: api, cookie: ck}); r.code != http.StatusForbidden {
		t.Errorf("API POST with session, no CSRF: %d", r.code)
	}
	if r := h.do(t, req{method: "POST", path: api, cookie: ck, header: map[string]string{csrfHeader: csrf}}); r.code != http.StatusAccepted {
		t.Errorf("API POST with session and CSRF: %d %s", r.code, r.body)
	}
}

func TestStatusPage(t *testing.T) {
	h := newHarness(t, newFakeBackend(), Options{Token: testToken, Version: "v1.2.3"})
	r := h.do(t, req{method: "GET", path: "/", bearer: testToken})
	if r.code != http.StatusOK {
		t.Fatalf("%d %s", r.code, r.body)
	}
	for _, want := range []string{
		`<meta http-equiv="refresh" content="10">`,
		"version v1.2.3", "2024-05-01 12:00:00 UTC",
		`data-provider="github"`, "<code>*/5 * * * *</code>", "in 3 min", "2 min ago", "running",
		"4,990 / 5,000", "resets at 12:30:00",
		`data-provider="gitlab"`, "<code>@every 10m</code>", "paused until 12:10:00", "idle",
		"webhook queue: <b id=\"queue-depth\">7</b>",
		`<a href="https://github.com/acme/api" rel="noopener noreferrer">acme/api</a>`,
		`data-repo="github/acme/api" data-state="ok"`, `<span class="badge b-ok">ok</span>`, "3 min ago",
		`<td class="num">5,343</td>`, `<td class="num">1,234</td>`,
		`data-repo="github/acme/web" data-state="failed"`, "list branches: 403 Forbidden", "1 h 30 min ago", "2 days ago",
		`data-repo="gitlab/group/sub/tool" data-state="pending"`,
		`action="/repos/github/acme/api/resync"`, `action="/issues"`,
		"<b>1</b> ok, <b>1</b> failed",
		`<progress id="backfill-overall" max="100" value="25">25%</progress>`, "1,500 of about <b>6,000</b> commits walked", "1,600 listed on all branches", `ETA <b id="backfill-eta">1 h</b>`,
		"(ends in 1 h)", `data-backfill-provider="github"`, `<td class="num">2,500</td>`,
		`data-backfill-repo="github/acme/big"`, `2,000 <span class="muted">(api)</span>`, "30 min",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(r.body, testToken) {
		t.Error("page shows the token")
	}
	if csp := r.header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	if strings.Contains(r.body, "<script") {
		t.Error("page carries a script")
	}
	if i, j := strings.Index(r.body, `data-provider="github"`), strings.Index(r.body, "Webhook</dt><dd>on"); j < i {
		t.Errorf("github's webhook is not shown on")
	}
}

func TestStatusPageSnapshotError(t *testing.T) {
	b := newFakeBackend()
	b.snapErr = errBackendBroken
	h := newHarness(t, b, Options{Token: testToken})
	r := h.do(t, req{method: "GET", path: "/", bearer: testToken})
	if r.code != http.StatusInternalServerError || !strings.Contains(r.body, "Could not read the state") || strings.Contains(r.body, "disk on fire") {
		t.Errorf("%d\n%s", r.code, r.body)
	}
	r = h.do(t, req{method: "GET", path: "/api/v1/status", bearer: testToken})
	if r.code != http.StatusInternalServerError || strings.Contains(r.body, "disk on fire") {
		t.Errorf("API: %d %s", r.code, r.body)
	}
}

func TestHTMLEscaping(t *testing.T) {
	b := newFakeBackend()
	b.snap.Repos[0].FullName = `evil/<script>alert(1)</script>`
	b.snap.Repos[0].URL = "javascript:alert(1)"
	b.snap.Repos[1].LastError = `<img src=x onerror=alert(2)> & "quotes"`
	b.snap.Providers[0].Name = `gh"><b>x</b>`
	b.links["ABC-1"][0].Title = `<iframe src="//evil"></iframe>`
	b.links["ABC-1"][0].URL = "javascript:alert(3)"
	h := newHarness(t, b, Options{Token: testToken})

	page := h.do(t, req{method: "GET", path: "/", bearer: testToken}).body
	for _, bad := range []string{"<script>alert", "<img src=x", `href="javascript:`, `"><b>x</b>`} {
		if strings.Contains(page, bad) {
			t.Errorf("status page contains raw %q", bad)
		}
	}
	for _, want := range []string{"evil/&lt;script&gt;alert(1)&lt;/script&gt;", "&lt;img src=x onerror=alert(2)&gt; &amp; &#34;quotes&#34;"} {
		if !strings.Contains(page, want) {
			t.Errorf("status page lacks escaped %q", want)
		}
	}

	issue := h.do(t, req{method: "GET", path: "/issues?key=ABC-1", bearer: testToken}).body
	if strings.Contains(issue, "<iframe") || strings.Contains(issue, `href="javascript:`) || !strings.Contains(issue, "&lt;iframe") {
		t.Errorf("explain page does not escape:\n%s", issue)
	}
	r := h.do(t, req{method: "GET", path: "/issues?key=" + url.QueryEscape(`<svg onload=alert(4)>`), bearer: testToken})
	if r.code != http.StatusBadRequest || strings.Contains(r.body, "<svg") || !strings.Contains(r.body, "&lt;SVG ONLOAD=ALERT(4)&gt;") {
		t.Errorf("reflected key: %d", r.code)
	}
	r = h.do(t, req{method: "GET", path: "/?notice=started&repo=" + url.QueryEscape("<script>x</script>"), bearer: testToken})
	if strings.Contains(r.body, "<script>x") {
		t.Error("notice repo not escaped")
	}
}

func TestIssuePage(t *testing.T) {
	b := newFakeBackend()
	h := newHarness(t, b, Options{Token: testToken})
	r := h.do(t, req{method: "GET", path: "/issues?key=abc-1", bearer: testToken})
	if r.code != http.StatusOK {
		t.Fatalf("%d", r.code)
	}
	for _, want := range []string{
		"Links on ABC-1", "2 links written by jiralinkd",
		`<a href="https://github.com/acme/api/pull/5" rel="noopener noreferrer">PR #5: login</a>`,
		"<td>PR title, PR branch</td>", "<td>commit message</td>", "github/acme/api", "10 min ago", "1 h ago",
		`data-global-id="jiralinkd/github/77/commit/abc1234"`,
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("explain page lacks %q", want)
		}
	}
	r = h.do(t, req{method: "GET", path: "/issues?key=ZZZ-9", bearer: testToken})
	if r.code != http.StatusOK || !strings.Contains(r.body, "jiralinkd has written no link on ZZZ-9.") {
		t.Errorf("no links: %d", r.code)
	}
	r = h.do(t, req{method: "GET", path: "/issues", bearer: testToken})
	if r.code != http.StatusOK || !strings.Contains(r.body, "Explain an issue") || strings.Contains(r.body, "written by jiralinkd") {
		t.Errorf("empty form: %d", r.code)
	}
	r = h.do(t, req{method: "GET", path: "/issues?key=ABC-01", bearer: testToken})
	if r.code != http.StatusBadRequest || !strings.Contains(r.body, "is not an issue key") {
		t.Errorf("malformed: %d", r.code)
	}
	b.linksErr = errBackendBroken
	r = h.do(t, req{method: "GET", path: "/issues?key=ABC-1", bearer: testToken})
	if r.code != http.StatusInternalServerError || strings.Contains(r.body, "disk on fire") {
		t.Errorf("backend error: %d", r.code)
	}
}

func TestAgo(t *testing.T) {
	tests := []struct {
		d    time.Duration
		want string
	}{
		{0, "just now"}, {4 * time.Second, "just now"}, {42 * time.Second, "42 s ago"},
		{3*time.Minute + 20*time.Second, "3 min ago"}, {2 * time.Hour, "2 h ago"},
		{2*time.Hour + 5*time.Minute, "2 h 5 min ago"}, {30 * time.Hour, "1 day ago"}, {100 * time.Hour, "4 days ago"},
		{-3 * time.Minute, "in 3 min"},
	}
	for _, tt := range tests {
		if got := Ago(testNow.Add(-tt.d), testNow); got != tt.want {
			t.Errorf("Ago(-%v) = %q, want %q", tt.d, got, tt.want)
		}
	}
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 5000: "5,000", 1234567: "1,234,567", -4200: "-4,200"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}
