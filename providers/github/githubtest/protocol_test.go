package githubtest_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

// TestLinkHeaderMatchesGitHub pages 14 branches 3 at a time and compares
// the Link headers with the ones api.github.com sent for 14 issues paged 3
// at a time (testdata/octokit-paginate-issues.json), after swapping the
// host and resource.
func TestLinkHeaderMatchesGitHub(t *testing.T) {
	raw, err := os.ReadFile("testdata/octokit-paginate-issues.json")
	if err != nil {
		t.Fatal(err)
	}
	var recorded []struct {
		Path    string            `json:"path"`
		Headers map[string]any    `json:"headers"`
		Resp    []json.RawMessage `json:"response"`
	}
	if err := json.Unmarshal(raw, &recorded); err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, r := range recorded {
		total += len(r.Resp)
	}

	s := githubtest.Start(t, githubtest.Options{Token: token})
	h := s.AddRepo(githubtest.Repo{ID: 1000, Owner: "octokit-fixture-org", Name: "paginate-issues", OwnerIsOrg: true})
	b := corpus.NewBuilder()
	sha := b.Commit(nil, "root", time.Unix(0, 0))
	h.AddCommit(mustCommit(t, b.Build(), sha))
	for i := range total {
		h.SetBranch(fmt.Sprintf("b%02d", i), sha)
	}

	ours := strings.TrimSuffix(s.URL(), "/") + "/repositories/1000/branches"
	theirs := "https://api.github.com/repositories/1000/issues"
	for i, r := range recorded {
		path := "repos/octokit-fixture-org/paginate-issues/branches?per_page=3"
		if i > 0 {
			path += "&page=" + strconv.Itoa(i+1)
		}
		got := get(t, s, path)
		if got.status != 200 {
			t.Fatalf("page %d: status %d", i+1, got.status)
		}
		var items []map[string]any
		got.decode(t, &items)
		if len(items) != len(r.Resp) {
			t.Errorf("page %d: %d items, GitHub had %d", i+1, len(items), len(r.Resp))
		}
		link := strings.ReplaceAll(got.header.Get("Link"), ours, theirs)
		if want := r.Headers["link"]; link != want {
			t.Errorf("page %d Link:\n got %s\nwant %s", i+1, link, want)
		}
	}
}

func mustCommit(t testing.TB, h *corpus.History, sha string) corpus.Commit {
	t.Helper()
	c, ok := h.Commit(sha)
	if !ok {
		t.Fatalf("no commit %s", sha)
	}
	return c
}

func TestPaginationBounds(t *testing.T) {
	s := githubtest.Start(t, githubtest.Options{})
	h := s.AddRepo(githubtest.Repo{ID: 7, Owner: "o", Name: "r"})
	b := corpus.NewBuilder()
	sha := b.Commit(nil, "root", time.Unix(0, 0))
	h.AddCommit(mustCommit(t, b.Build(), sha))
	for i := range 250 {
		h.SetTag(fmt.Sprintf("v%03d", i), sha)
	}
	tests := []struct {
		query     string
		wantItems int
		wantFirst string
		wantRels  []string
	}{
		{"", 30, "v249", []string{"next", "last"}}, // default 30, tags newest name first
		{"per_page=500", 100, "v249", []string{"next", "last"}},
		{"per_page=100&page=3", 50, "v049", []string{"prev", "first"}},
		{"per_page=100&page=4", 0, "", []string{"prev", "first"}},
		{"per_page=0&page=0", 30, "v249", []string{"next", "last"}},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			got := get(t, s, "repos/o/r/tags?"+tt.query)
			var items []struct{ Name string }
			got.decode(t, &items)
			if len(items) != tt.wantItems || (len(items) > 0 && items[0].Name != tt.wantFirst) {
				t.Errorf("got %d items starting %+v", len(items), items)
			}
			var rels []string
			for _, l := range strings.Split(got.header.Get("Link"), ", ") {
				_, rel, _ := strings.Cut(l, `rel="`)
				rels = append(rels, strings.TrimSuffix(rel, `"`))
			}
			if !slices.Equal(rels, tt.wantRels) {
				t.Errorf("rels = %v, want %v (Link %s)", rels, tt.wantRels, got.header.Get("Link"))
			}
		})
	}
	if got := get(t, s, "repos/o/r/branches"); got.header.Get("Link") != "" || string(got.body) != "[]" {
		t.Errorf("empty list: Link %q body %s", got.header.Get("Link"), got.body)
	}
}

func TestETagAndNotModified(t *testing.T) {
	s, zk := corpusServer(t, githubtest.Options{})
	first := get(t, s, "repos/apache/zookeeper/branches")
	etag := first.header.Get("ETag")
	if first.status != 200 || !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) < 34 {
		t.Fatalf("status %d ETag %q: want a strong quoted ETag", first.status, etag)
	}
	remaining := first.header.Get("X-RateLimit-Remaining")

	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag} {
		again := get(t, s, "repos/apache/zookeeper/branches", "If-None-Match: "+inm)
		if again.status != http.StatusNotModified || len(again.body) != 0 {
			t.Errorf("If-None-Match %s: status %d body %q", inm, again.status, again.body)
		}
		if again.header.Get("ETag") != etag || again.header.Get("X-RateLimit-Remaining") != remaining {
			t.Errorf("304 headers: ETag %q remaining %q (was %s)", again.header.Get("ETag"), again.header.Get("X-RateLimit-Remaining"), remaining)
		}
	}
	reqs := s.Requests()
	if reqs[0].Counted != true || slices.ContainsFunc(reqs[1:], func(r githubtest.Request) bool { return r.Counted }) {
		t.Errorf("counted = %v, want only the 200", reqs)
	}
	if reqs[1].IfNoneMatch != etag || reqs[1].Status != 304 {
		t.Errorf("recorded %+v", reqs[1])
	}

	// A push changes the list: the old ETag no longer matches.
	zk.SetBranch("new-branch", "53a78e36f99602162643303ab330377fc383b41f")
	changed := get(t, s, "repos/apache/zookeeper/branches", "If-None-Match: "+etag)
	if changed.status != 200 || changed.header.Get("ETag") == etag {
		t.Errorf("after a push: status %d, ETag unchanged: %v", changed.status, changed.header.Get("ETag") == etag)
	}
	// The repository itself changes too (pushed_at).
	repo := get(t, s, "repos/apache/zookeeper")
	if get(t, s, "repos/apache/zookeeper", "If-None-Match: "+repo.header.Get("ETag")).status != 304 {
		t.Error("unchanged repository not 304")
	}
}

func TestRateLimit(t *testing.T) {
	clk := newClock()
	s := githubtest.Start(t, githubtest.Options{Token: token, RateLimit: 3, Now: clk.Now})
	s.AddRepo(githubtest.Repo{ID: 1, Owner: "o", Name: "r"})
	reset := strconv.FormatInt(clk.Now().Add(time.Hour).Unix(), 10)
	for i, want := range []string{"2", "1", "0"} {
		got := get(t, s, "repos/o/r")
		h := got.header
		if got.status != 200 || h.Get("X-RateLimit-Remaining") != want || h.Get("X-RateLimit-Limit") != "3" ||
			h.Get("X-RateLimit-Used") != strconv.Itoa(i+1) || h.Get("X-RateLimit-Reset") != reset || h.Get("X-RateLimit-Resource") != "core" {
			t.Fatalf("request %d: status %d headers %v", i+1, got.status, h)
		}
	}
	over := get(t, s, "repos/o/r")
	var body ghError
	over.decode(t, &body)
	if over.status != http.StatusForbidden || over.header.Get("X-RateLimit-Remaining") != "0" ||
		!strings.HasPrefix(body.Message, "API rate limit exceeded for user ID 1. If you reach out to GitHub Support") ||
		!strings.Contains(body.Message, "request ID "+over.header.Get("X-GitHub-Request-Id")+".") ||
		body.DocumentationURL != "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api" {
		t.Errorf("exhausted: %d %s %v", over.status, over.body, over.header)
	}
	// GET /rate_limit still answers and costs nothing.
	rl := get(t, s, "rate_limit")
	var limits struct {
		Rate      struct{ Limit, Remaining, Used int }
		Resources map[string]struct{ Limit, Remaining int }
	}
	rl.decode(t, &limits)
	if rl.status != 200 || limits.Rate.Remaining != 0 || limits.Rate.Used != 3 || limits.Resources["core"].Limit != 3 {
		t.Errorf("rate_limit: %d %s", rl.status, rl.body)
	}
	var counted int
	for _, r := range s.Requests() {
		if r.Counted {
			counted++
		}
	}
	if counted != 3 {
		t.Errorf("counted %d requests, want 3 (the 403 and /rate_limit are free)", counted)
	}
	// The window resets an hour after it began.
	clk.Add(time.Hour)
	if got := get(t, s, "repos/o/r"); got.status != 200 || got.header.Get("X-RateLimit-Remaining") != "2" {
		t.Errorf("after reset: %d remaining %s", got.status, got.header.Get("X-RateLimit-Remaining"))
	}
	s.SetRateRemaining(0)
	if got := get(t, s, "repos/o/r"); got.status != http.StatusForbidden {
		t.Errorf("SetRateRemaining(0): status %d", got.status)
	}
}

func TestAuthentication(t *testing.T) {
	s := githubtest.Start(t, githubtest.Options{Token: token, Scopes: []string{"repo", "read:org"}})
	url := s.URL() + "user"
	tests := []struct {
		name    string
		headers []string
		status  int
		message string
	}{
		{"bearer", []string{"Authorization: Bearer " + token}, 200, ""},
		{"token scheme", []string{"Authorization: token " + token}, 200, ""},
		{"wrong token", []string{"Authorization: Bearer nope"}, 401, "Bad credentials"},
		{"basic", []string{"Authorization: Basic " + token}, 401, "Bad credentials"},
		{"none", nil, 401, "Requires authentication"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.ResetRequests()
			got := do(t, http.DefaultClient, url, tt.headers...)
			if got.status != tt.status {
				t.Fatalf("status %d: %s", got.status, got.body)
			}
			if tt.status == 401 {
				var e ghError
				got.decode(t, &e)
				if e.Message != tt.message || e.DocumentationURL != "https://docs.github.com/rest" {
					t.Errorf("body %s", got.body)
				}
			} else if got.header.Get("X-OAuth-Scopes") != "repo, read:org" {
				t.Errorf("X-OAuth-Scopes = %q", got.header.Get("X-OAuth-Scopes"))
			}
			if r := s.Requests(); len(r) != 1 || r[0].Counted != (tt.status == 200) {
				t.Errorf("recorded %+v", r)
			}
		})
	}
}

func TestFailNext(t *testing.T) {
	s, _ := corpusServer(t, githubtest.Options{})
	route := "GET /repos/{owner}/{repo}/commits"
	s.FailNext(route, 2, http.StatusBadGateway, http.Header{"Retry-After": {"1"}}, `{"message":"Server Error"}`)
	for i := range 2 {
		r := get(t, s, "repos/apache/zookeeper/commits")
		if r.status != http.StatusBadGateway || r.header.Get("Retry-After") != "1" || r.message(t) != "Server Error" {
			t.Errorf("attempt %d: %d %v %s", i, r.status, r.header, r.body)
		}
	}
	if r := get(t, s, "repos/apache/zookeeper/branches"); r.status != 200 {
		t.Errorf("other route affected: %d", r.status)
	}
	if r := get(t, s, "repos/apache/zookeeper/commits"); r.status != 200 {
		t.Errorf("third attempt: %d", r.status)
	}
	// A secondary rate limit, applied to the id form of the same route.
	s.FailNext(route, 1, http.StatusForbidden, http.Header{"X-Ratelimit-Remaining": {"0"}},
		`{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`)
	if r := get(t, s, "repositories/1000/commits"); r.status != 403 || r.header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("injected 403: %d %v", r.status, r.header)
	}
}

func TestLatency(t *testing.T) {
	s := githubtest.Start(t, githubtest.Options{})
	s.SetLatency(80 * time.Millisecond)
	client := &http.Client{Timeout: 10 * time.Millisecond}
	if _, err := client.Get(s.URL() + "user"); err == nil {
		t.Error("no timeout despite latency")
	}
	s.SetLatency(0)
	if r := get(t, s, "user"); r.status != 200 {
		t.Errorf("status %d", r.status)
	}
}
