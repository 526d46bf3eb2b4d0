package gitlabtest_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
)

// docHeaders reads the header block of testdata/docs-pagination.headers.txt.
func docHeaders(t *testing.T) map[string]string {
	t.Helper()
	raw, err := os.ReadFile("testdata/docs-pagination.headers.txt")
	if err != nil {
		t.Fatal(err)
	}
	h := make(map[string]string)
	for _, l := range strings.Split(strings.TrimSpace(string(raw)), "\n")[1:] {
		k, v, _ := strings.Cut(l, ": ")
		h[k] = v
	}
	return h
}

// TestPaginationMatchesGitLabDocs pages 8 tags 3 at a time and compares
// page 2 with the response GitLab documents for 8 notes paged 3 at a time,
// after swapping host and resource. GitLab's real Link URLs also carry the
// route's id parameter (Grape's params); it is dropped for the comparison.
func TestPaginationMatchesGitLabDocs(t *testing.T) {
	s := gitlabtest.Start(t, gitlabtest.Options{Token: token})
	h := s.AddProject(gitlabtest.Project{ID: 8, Namespace: "acme", Path: "notes"})
	sha := h.AddCommit(rootCommit(t))
	for i := range 8 {
		h.SetTag(fmt.Sprintf("v%d", i), sha)
	}
	got := get(t, s, "projects/8/repository/tags?per_page=3&page=2")
	if got.Status != 200 {
		t.Fatalf("status %d", got.Status)
	}
	want := docHeaders(t)
	ours := strings.TrimSuffix(s.URL(), "/") + "/api/v4/projects/8/repository/tags"
	link := strings.ReplaceAll(got.Header.Get("Link"), ours, "https://gitlab.example.com/api/v4/projects/8/issues/8/notes")
	link = strings.ReplaceAll(link, "?id=8&", "?")
	if link != want["link"] {
		t.Errorf("Link:\n got %s\nwant %s", link, want["link"])
	}
	for _, k := range []string{"x-next-page", "x-page", "x-per-page", "x-prev-page", "x-total", "x-total-pages"} {
		if got.Header.Get(k) != want[k] {
			t.Errorf("%s = %q, GitLab sent %q", k, got.Header.Get(k), want[k])
		}
	}
}

func TestPaginationBounds(t *testing.T) {
	s := gitlabtest.Start(t, gitlabtest.Options{})
	h := s.AddProject(gitlabtest.Project{ID: 7, Namespace: "o", Path: "r"})
	sha := h.AddCommit(rootCommit(t))
	for i := range 250 {
		h.SetBranch(fmt.Sprintf("b%03d", i), sha)
	}
	tests := []struct {
		query            string
		items            int
		first            string
		next, prev, page string
		rels             []string
	}{
		{"", 20, "b000", "2", "", "1", []string{"next", "first", "last"}}, // default 20
		{"per_page=500", 100, "b000", "2", "", "1", []string{"next", "first", "last"}},
		{"per_page=100&page=3", 50, "b200", "", "2", "3", []string{"prev", "first", "last"}},
		{"per_page=100&page=4", 0, "", "", "", "4", []string{"first", "last"}}, // out of range
		{"per_page=0&page=0", 20, "b000", "2", "", "1", []string{"next", "first", "last"}},
		{"per_page=100&page=2&search=b1", 0, "", "", "", "2", []string{"first", "last"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := get(t, s, "projects/7/repository/branches?"+tt.query)
			var items []struct{ Name string }
			got.Decode(t, &items)
			if len(items) != tt.items || (len(items) > 0 && items[0].Name != tt.first) {
				t.Errorf("got %d items starting %+v", len(items), items[:min(1, len(items))])
			}
			h := got.Header
			if h.Get("X-Next-Page") != tt.next || h.Get("X-Prev-Page") != tt.prev || h.Get("X-Page") != tt.page {
				t.Errorf("next %q prev %q page %q", h.Get("X-Next-Page"), h.Get("X-Prev-Page"), h.Get("X-Page"))
			}
			if _, ok := h["X-Next-Page"]; !ok {
				t.Error("X-Next-Page missing: GitLab sends it empty")
			}
			if rels := fakeserver.LinkRels(h.Get("Link")); !slices.Equal(rels, tt.rels) {
				t.Errorf("rels = %v, want %v (Link %s)", rels, tt.rels, h.Get("Link"))
			}
		})
	}
	if got := get(t, s, "projects/7/repository/branches?per_page=100"); got.Header.Get("X-Total") != "250" || got.Header.Get("X-Total-Pages") != "3" {
		t.Errorf("totals %q %q", got.Header.Get("X-Total"), got.Header.Get("X-Total-Pages"))
	}
	for _, q := range []string{"page=x", "per_page=ten"} {
		got := get(t, s, "projects/7/repository/branches?"+q)
		var e struct{ Error string }
		got.Decode(t, &e)
		if got.Status != 400 || !strings.HasSuffix(e.Error, " is invalid") {
			t.Errorf("%s: %d %s", q, got.Status, got.Body)
		}
	}
}

// TestLinkURLs checks the query of the Link URLs: the request's
// parameters, the route's id, page and per_page, sorted by name.
func TestLinkURLs(t *testing.T) {
	s, _ := corpusServer(t, gitlabtest.Options{})
	got := get(t, s, "projects/apache%2Fzookeeper/repository/commits?ref_name=master&per_page=100&page=2")
	link := got.Header.Get("Link")
	base := strings.TrimSuffix(s.URL(), "/") + "/api/v4/projects/apache%2Fzookeeper/repository/commits"
	want := `<` + base + `?id=apache%2Fzookeeper&page=1&per_page=100&ref_name=master>; rel="prev", ` +
		`<` + base + `?id=apache%2Fzookeeper&page=3&per_page=100&ref_name=master>; rel="next", ` +
		`<` + base + `?id=apache%2Fzookeeper&page=1&per_page=100&ref_name=master>; rel="first"`
	if link != want {
		t.Errorf("Link:\n got %s\nwant %s", link, want)
	}
	// Following next keeps working.
	next, err := url.Parse(strings.Trim(strings.Split(strings.Split(link, ", ")[1], ";")[0], "<>"))
	if err != nil {
		t.Fatal(err)
	}
	if r := fakeserver.Do(t, http.DefaultClient, http.MethodGet, next.String(), "PRIVATE-TOKEN: "+token); r.Status != 200 || r.Header.Get("X-Page") != "3" {
		t.Errorf("next: %d page %s", r.Status, r.Header.Get("X-Page"))
	}
}

// TestUncountedAbove10000 mirrors GitLab's limit: a list of more than
// 10,000 rows has no X-Total, X-Total-Pages or rel="last".
func TestUncountedAbove10000(t *testing.T) {
	s := gitlabtest.Start(t, gitlabtest.Options{})
	for i := range 10_000 {
		s.AddProject(gitlabtest.Project{ID: int64(i + 1), Namespace: "big", Path: fmt.Sprintf("p%05d", i)})
	}
	counted := get(t, s, "groups/big/projects?simple=true&per_page=100&page=2")
	if counted.Header.Get("X-Total") != "10000" || counted.Header.Get("X-Total-Pages") != "100" ||
		!strings.Contains(counted.Header.Get("Link"), `rel="last"`) {
		t.Errorf("10,000 rows: %v", counted.Header)
	}
	s.AddProject(gitlabtest.Project{ID: 10_001, Namespace: "big", Path: "one-more"})
	got := get(t, s, "groups/big/projects?simple=true&per_page=100&page=2")
	h := got.Header
	if _, ok := h["X-Total"]; ok {
		t.Errorf("X-Total sent: %q", h.Get("X-Total"))
	}
	if _, ok := h["X-Total-Pages"]; ok || strings.Contains(h.Get("Link"), `rel="last"`) || h.Get("X-Next-Page") != "3" {
		t.Errorf("10,001 rows: %v", h)
	}
	var items []struct{ ID int64 }
	got.Decode(t, &items)
	// created_at desc, then id desc: all were created at the same instant.
	if len(items) != 100 || items[0].ID != 9901 {
		t.Errorf("%d items, first %+v", len(items), items[:1])
	}
}

func TestETagAndNotModified(t *testing.T) {
	s, zk := corpusServer(t, gitlabtest.Options{})
	first := get(t, s, "projects/1000/repository/branches?per_page=100")
	etag := first.Header.Get("ETag")
	if first.Status != 200 || !strings.HasPrefix(etag, `W/"`) || !strings.HasSuffix(etag, `"`) || len(etag) != 36 {
		t.Fatalf("status %d ETag %q: want a weak ETag", first.Status, etag)
	}
	observed, _ := strconv.Atoi(first.Header.Get("RateLimit-Observed"))

	for i, inm := range []string{etag, strings.TrimPrefix(etag, "W/"), `W/"other", ` + etag} {
		again := get(t, s, "projects/1000/repository/branches?per_page=100", "If-None-Match: "+inm)
		if again.Status != http.StatusNotModified || len(again.Body) != 0 || again.Header.Get("Content-Type") != "" {
			t.Errorf("If-None-Match %s: status %d body %q", inm, again.Status, again.Body)
		}
		// GitLab's limiter counts every request, 304s included.
		if again.Header.Get("ETag") != etag || again.Header.Get("RateLimit-Observed") != strconv.Itoa(observed+i+1) {
			t.Errorf("304 headers: ETag %q observed %q", again.Header.Get("ETag"), again.Header.Get("RateLimit-Observed"))
		}
	}
	reqs := s.Requests()
	for _, r := range reqs {
		if !r.Counted {
			t.Errorf("not counted: %+v", r)
		}
	}
	if reqs[1].IfNoneMatch != etag || reqs[1].Status != 304 {
		t.Errorf("recorded %+v", reqs[1])
	}

	// A push changes the list: the old ETag no longer matches. (The ETag
	// covers the body only: a branch landing on another page leaves this
	// page's ETag as it was, as on GitLab.)
	zk.SetBranch("new-branch", zkMaster)
	if changed := get(t, s, "projects/1000/repository/branches?per_page=100", "If-None-Match: "+etag); changed.Status != 200 || changed.Header.Get("ETag") == etag {
		t.Errorf("after a push: status %d", changed.Status)
	}
	// Errors carry no ETag.
	if nf := get(t, s, "projects/999"); nf.Header.Get("ETag") != "" {
		t.Errorf("404 with ETag %q", nf.Header.Get("ETag"))
	}
}

func TestRateLimit(t *testing.T) {
	clk := newClock()
	clk.Add(15 * time.Second)
	s := gitlabtest.Start(t, gitlabtest.Options{Token: token, RateLimit: 3, Now: clk.Now})
	s.AddProject(gitlabtest.Project{ID: 1, Namespace: "o", Path: "r"})
	reset := time.Date(2026, 7, 20, 10, 1, 0, 0, time.UTC)
	for i, want := range []string{"2", "1", "0"} {
		got := get(t, s, "projects/1")
		h := got.Header
		if got.Status != 200 || h.Get("RateLimit-Remaining") != want || h.Get("RateLimit-Limit") != "3" ||
			h.Get("RateLimit-Observed") != strconv.Itoa(i+1) || h.Get("RateLimit-Reset") != strconv.FormatInt(reset.Unix(), 10) ||
			h.Get("RateLimit-ResetTime") != "Mon, 20 Jul 2026 10:01:00 GMT" {
			t.Fatalf("request %d: status %d headers %v", i+1, got.Status, h)
		}
	}
	over := get(t, s, "projects/1")
	if over.Status != http.StatusTooManyRequests || string(over.Body) != "Retry later\n" ||
		over.Header.Get("Content-Type") != "text/plain" || over.Header.Get("Retry-After") != "45" ||
		over.Header.Get("RateLimit-Remaining") != "0" || over.Header.Get("RateLimit-Observed") != "4" {
		t.Errorf("exhausted: %d %q %v", over.Status, over.Body, over.Header)
	}
	// Every header GitLab documents for a throttled request, and its body.
	doc := fakeserver.LoadJSON(t, "testdata/docs-ratelimit-headers.json").(map[string]any)
	for name := range doc["headers"].(map[string]any) {
		if over.Header.Get(name) == "" {
			t.Errorf("429 without %s", name)
		}
	}
	if string(over.Body) != doc["default_body_when_limited"].(string)+"\n" || over.Status != int(doc["status_when_limited"].(float64)) ||
		!slices.Contains(doc["throttle_names"].([]any), any(over.Header.Get("RateLimit-Name"))) {
		t.Errorf("429 %q, RateLimit-Name %q", over.Body, over.Header.Get("RateLimit-Name"))
	}
	if r := s.Requests(); !r[3].Counted || r[3].Status != 429 {
		t.Errorf("429 recorded as %+v", r[3])
	}
	if s.RateRemaining() != 0 {
		t.Errorf("RateRemaining = %d", s.RateRemaining())
	}
	// The next minute is a new window.
	clk.Add(45 * time.Second)
	if got := get(t, s, "projects/1"); got.Status != 200 || got.Header.Get("RateLimit-Remaining") != "2" {
		t.Errorf("after reset: %d remaining %s", got.Status, got.Header.Get("RateLimit-Remaining"))
	}
	s.SetRateRemaining(0)
	if got := get(t, s, "projects/1"); got.Status != http.StatusTooManyRequests || got.Header.Get("Retry-After") != "60" {
		t.Errorf("SetRateRemaining(0): status %d Retry-After %s", got.Status, got.Header.Get("Retry-After"))
	}
}

func TestAuthentication(t *testing.T) {
	s := gitlabtest.Start(t, gitlabtest.Options{Token: token})
	u := s.URL() + "api/v4/user"
	tests := []struct {
		name    string
		url     string
		headers []string
		status  int
	}{
		{"private token", u, []string{"PRIVATE-TOKEN: " + token}, 200},
		{"bearer", u, []string{"Authorization: Bearer " + token}, 200},
		{"wrong token", u, []string{"PRIVATE-TOKEN: nope"}, 401},
		{"wrong bearer", u, []string{"Authorization: Bearer nope"}, 401},
		{"basic", u, []string{"Authorization: Basic " + token}, 401},
		{"job token", u, []string{"JOB-TOKEN: " + token}, 401},
		{"query token", u + "?private_token=" + token, nil, 401},
		{"none", u, nil, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.ResetRequests()
			got := fakeserver.Do(t, http.DefaultClient, http.MethodGet, tt.url, tt.headers...)
			if got.Status != tt.status {
				t.Fatalf("status %d: %s", got.Status, got.Body)
			}
			if tt.status == 401 && (got.Message(t) != "401 Unauthorized" || got.Header.Get("Content-Type") != "application/json") {
				t.Errorf("body %s", got.Body)
			}
			if r := s.Requests(); len(r) != 1 || r[0].Counted != (tt.status == 200) || r[0].Route != "GET /user" {
				t.Errorf("recorded %+v", r)
			}
		})
	}
}

// TestFailNext checks where injected failures sit in GitLab's pipeline:
// after authentication and the rate limiter (a throttled request leaves
// the rule alone), matched by Request.Route whichever way the project is
// named, and counted like any answer. The rule queue itself is tested in
// package fakeserver.
func TestFailNext(t *testing.T) {
	s, _ := corpusServer(t, gitlabtest.Options{RateLimit: 10})
	s.FailNext("GET /projects/:id/repository/commits", 2, http.StatusBadGateway, http.Header{"Retry-After": {"1"}}, `{"message":"502 Bad Gateway"}`)
	// A bare 429 as GitLab.com sometimes sends it: no Retry-After.
	s.FailNext("*", 1, http.StatusTooManyRequests, nil, "Retry later\n")

	s.SetRateRemaining(0)
	if r := get(t, s, "projects/1000/repository/commits"); r.Status != 429 || r.Header.Get("Retry-After") == "" {
		t.Errorf("throttled: %d %v", r.Status, r.Header)
	}
	s.SetRateRemaining(10)
	steps := []struct {
		path   string
		token  string
		status int
	}{
		{"projects/1000/repository/commits", "nope", http.StatusUnauthorized},
		{"projects/1000/repository/commits", token, http.StatusBadGateway},
		{"projects/apache%2Fzookeeper/repository/commits", token, http.StatusBadGateway},
		{"user", token, http.StatusTooManyRequests},
		{"projects/1000/repository/commits", token, http.StatusOK}, // used up
	}
	for i, st := range steps {
		r := fakeserver.Do(t, http.DefaultClient, http.MethodGet, s.URL()+"api/v4/"+st.path, "PRIVATE-TOKEN: "+st.token)
		if r.Status != st.status {
			t.Fatalf("step %d (%s): status %d, want %d", i, st.path, r.Status, st.status)
		}
		switch st.status {
		case http.StatusBadGateway:
			if r.Header.Get("Retry-After") != "1" || r.Message(t) != "502 Bad Gateway" {
				t.Errorf("step %d: injected answer %v %s", i, r.Header, r.Body)
			}
		case http.StatusTooManyRequests:
			if r.Header.Get("Retry-After") != "" || string(r.Body) != "Retry later\n" {
				t.Errorf("step %d: injected 429 %v %q", i, r.Header, r.Body)
			}
		}
	}
	if reqs := s.Requests(); !reqs[2].Counted || reqs[3].Route != "GET /projects/:id/repository/commits" {
		t.Errorf("injected answers recorded as %+v", reqs[2:4])
	}
}

// TestLatency checks that SetLatency holds answers back and that a
// request whose client gives up is dropped unrecorded.
func TestLatency(t *testing.T) {
	s := gitlabtest.Start(t, gitlabtest.Options{})
	s.SetLatency(time.Hour)
	if _, err := (&http.Client{Timeout: 10 * time.Millisecond}).Get(s.URL() + "api/v4/version"); err == nil {
		t.Error("no timeout despite latency")
	}
	s.SetLatency(0)
	if r := get(t, s, "version"); r.Status != 200 || len(s.Requests()) != 1 {
		t.Errorf("status %d, recorded %+v: want only the answered request", r.Status, s.Requests())
	}
}

func TestPathPrefix(t *testing.T) {
	s, _ := corpusServer(t, gitlabtest.Options{PathPrefix: "gitlab", WebURL: "https://git.example.com/gitlab"})
	if !strings.HasSuffix(s.URL(), "/gitlab/") {
		t.Fatalf("URL = %s", s.URL())
	}
	r := get(t, s, "projects/1000/repository/tags?per_page=10")
	var p struct {
		WebURL string                `json:"web_url"`
		Links  struct{ Self string } `json:"_links"`
	}
	get(t, s, "projects/apache%2Fzookeeper").Decode(t, &p)
	if r.Status != 200 || !strings.Contains(r.Header.Get("Link"), s.URL()+"api/v4/projects/1000/repository/tags?id=1000&page=2&per_page=10") ||
		p.WebURL != "https://git.example.com/gitlab/apache/zookeeper" || p.Links.Self != s.URL()+"api/v4/projects/1000" {
		t.Errorf("status %d Link %s project %+v", r.Status, r.Header.Get("Link"), p)
	}
	outside := fakeserver.Do(t, http.DefaultClient, http.MethodGet, strings.TrimSuffix(s.URL(), "gitlab/")+"api/v4/projects/1000", "PRIVATE-TOKEN: "+token)
	if outside.Status != 404 {
		t.Errorf("outside the prefix: %d", outside.Status)
	}
	if f := s.ForbiddenRequests(); len(f) != 1 || f[0].Path != "/api/v4/projects/1000" || f[0].Route != "" {
		t.Errorf("forbidden = %+v", f)
	}
	if reqs := s.Requests(); reqs[0].Path != "/api/v4/projects/1000/repository/tags" || reqs[0].RawQuery != "per_page=10" {
		t.Errorf("recorded %+v", reqs[0])
	}
}
