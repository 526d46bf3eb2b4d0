package githubtest_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
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
	sha := h.AddCommit(rootCommit(t))
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
		if got.Status != 200 {
			t.Fatalf("page %d: status %d", i+1, got.Status)
		}
		var items []map[string]any
		got.Decode(t, &items)
		if len(items) != len(r.Resp) {
			t.Errorf("page %d: %d items, GitHub had %d", i+1, len(items), len(r.Resp))
		}
		link := strings.ReplaceAll(got.Header.Get("Link"), ours, theirs)
		if want := r.Headers["link"]; link != want {
			t.Errorf("page %d Link:\n got %s\nwant %s", i+1, link, want)
		}
	}
}

func TestPaginationBounds(t *testing.T) {
	s := githubtest.Start(t, githubtest.Options{})
	h := s.AddRepo(githubtest.Repo{ID: 7, Owner: "o", Name: "r"})
	sha := h.AddCommit(rootCommit(t))
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
			got.Decode(t, &items)
			if len(items) != tt.wantItems || (len(items) > 0 && items[0].Name != tt.wantFirst) {
				t.Errorf("got %d items starting %+v", len(items), items)
			}
			if rels := fakeserver.LinkRels(got.Header.Get("Link")); !slices.Equal(rels, tt.wantRels) {
				t.Errorf("rels = %v, want %v (Link %s)", rels, tt.wantRels, got.Header.Get("Link"))
			}
		})
	}
	if got := get(t, s, "repos/o/r/branches"); got.Header.Get("Link") != "" || string(got.Body) != "[]" {
		t.Errorf("empty list: Link %q body %s", got.Header.Get("Link"), got.Body)
	}
}

func TestETagAndNotModified(t *testing.T) {
	s, zk := corpusServer(t, githubtest.Options{})
	first := get(t, s, "repos/apache/zookeeper/branches")
	etag := first.Header.Get("ETag")
	if first.Status != 200 || !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) < 34 {
		t.Fatalf("status %d ETag %q: want a strong quoted ETag", first.Status, etag)
	}
	remaining := first.Header.Get("X-RateLimit-Remaining")

	for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag} {
		again := get(t, s, "repos/apache/zookeeper/branches", "If-None-Match: "+inm)
		if again.Status != http.StatusNotModified || len(again.Body) != 0 {
			t.Errorf("If-None-Match %s: status %d body %q", inm, again.Status, again.Body)
		}
		if again.Header.Get("ETag") != etag || again.Header.Get("X-RateLimit-Remaining") != remaining {
			t.Errorf("304 headers: ETag %q remaining %q (was %s)", again.Header.Get("ETag"), again.Header.Get("X-RateLimit-Remaining"), remaining)
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
	if changed.Status != 200 || changed.Header.Get("ETag") == etag {
		t.Errorf("after a push: status %d, ETag unchanged: %v", changed.Status, changed.Header.Get("ETag") == etag)
	}
	// The repository itself changes too (pushed_at).
	repo := get(t, s, "repos/apache/zookeeper")
	if get(t, s, "repos/apache/zookeeper", "If-None-Match: "+repo.Header.Get("ETag")).Status != 304 {
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
		h := got.Header
		if got.Status != 200 || h.Get("X-RateLimit-Remaining") != want || h.Get("X-RateLimit-Limit") != "3" ||
			h.Get("X-RateLimit-Used") != strconv.Itoa(i+1) || h.Get("X-RateLimit-Reset") != reset || h.Get("X-RateLimit-Resource") != "core" {
			t.Fatalf("request %d: status %d headers %v", i+1, got.Status, h)
		}
	}
	over := get(t, s, "repos/o/r")
	var body ghError
	over.Decode(t, &body)
	if over.Status != http.StatusForbidden || over.Header.Get("X-RateLimit-Remaining") != "0" ||
		!strings.HasPrefix(body.Message, "API rate limit exceeded for user ID 1. If you reach out to GitHub Support") ||
		!strings.Contains(body.Message, "request ID "+over.Header.Get("X-GitHub-Request-Id")+".") ||
		body.DocumentationURL != "https://docs.github.com/rest/overview/rate-limits-for-the-rest-api" {
		t.Errorf("exhausted: %d %s %v", over.Status, over.Body, over.Header)
	}
	// GET /rate_limit still answers and costs nothing.
	rl := get(t, s, "rate_limit")
	var limits struct {
		Rate      struct{ Limit, Remaining, Used int }
		Resources map[string]struct{ Limit, Remaining int }
	}
	rl.Decode(t, &limits)
	if rl.Status != 200 || limits.Rate.Remaining != 0 || limits.Rate.Used != 3 || limits.Resources["core"].Limit != 3 {
		t.Errorf("rate_limit: %d %s", rl.Status, rl.Body)
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
	if got := get(t, s, "repos/o/r"); got.Status != 200 || got.Header.Get("X-RateLimit-Remaining") != "2" {
		t.Errorf("after reset: %d remaining %s", got.Status, got.Header.Get("X-RateLimit-Remaining"))
	}
	s.SetRateRemaining(0)
	if got := get(t, s, "repos/o/r"); got.Status != http.StatusForbidden {
		t.Errorf("SetRateRemaining(0): status %d", got.Status)
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
			got := fakeserver.Do(t, http.DefaultClient, http.MethodGet, url, tt.headers...)
			if got.Status != tt.status {
				t.Fatalf("status %d: %s", got.Status, got.Body)
			}
			if tt.status == 401 {
				var e ghError
				got.Decode(t, &e)
				if e.Message != tt.message || e.DocumentationURL != "https://docs.github.com/rest" {
					t.Errorf("body %s", got.Body)
				}
			} else if got.Header.Get("X-OAuth-Scopes") != "repo, read:org" {
				t.Errorf("X-OAuth-Scopes = %q", got.Header.Get("X-OAuth-Scopes"))
			}
			if r := s.Requests(); len(r) != 1 || r[0].Counted != (tt.status == 200) {
				t.Errorf("recorded %+v", r)
			}
		})
	}
}

// TestFailNext checks where injected failures sit in GitHub's pipeline:
// after authentication, matched by Request.Route (the /repositories/{id}
// form included), their headers over the server's own, and counted like
// any answer. The rule queue itself is tested in package fakeserver.
func TestFailNext(t *testing.T) {
	s, _ := corpusServer(t, githubtest.Options{})
	s.FailNext("GET /repos/{owner}/{repo}/commits", 2, http.StatusForbidden, http.Header{"X-Ratelimit-Remaining": {"0"}},
		`{"message":"You have exceeded a secondary rate limit.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`)
	steps := []struct {
		path, auth string
		status     int
	}{
		{"repos/apache/zookeeper/commits", "Bearer nope", http.StatusUnauthorized},
		{"repos/apache/zookeeper/branches", "Bearer " + token, http.StatusOK},
		{"repos/apache/zookeeper/commits", "Bearer " + token, http.StatusForbidden},
		{"repositories/1000/commits", "token " + token, http.StatusForbidden},
		{"repos/apache/zookeeper/commits", "Bearer " + token, http.StatusOK}, // used up
	}
	for i, st := range steps {
		r := fakeserver.Do(t, http.DefaultClient, http.MethodGet, s.URL()+st.path, "Authorization: "+st.auth)
		if r.Status != st.status {
			t.Fatalf("step %d (%s): status %d, want %d", i, st.path, r.Status, st.status)
		}
		if st.status == http.StatusForbidden &&
			(r.Header.Get("X-RateLimit-Remaining") != "0" || !strings.HasPrefix(r.Message(t), "You have exceeded a secondary rate limit")) {
			t.Errorf("step %d: injected answer %v %s", i, r.Header, r.Body)
		}
	}
	if reqs := s.Requests(); !reqs[2].Counted || !reqs[3].Counted || reqs[3].Route != "GET /repos/{owner}/{repo}/commits" {
		t.Errorf("injected answers recorded as %+v", reqs[2:4])
	}
	if s.RateRemaining() != 5000-4 {
		t.Errorf("RateRemaining = %d, want 4996", s.RateRemaining())
	}
}

// TestLatency checks that SetLatency holds answers back and that a
// request whose client gives up is dropped unrecorded.
func TestLatency(t *testing.T) {
	s := githubtest.Start(t, githubtest.Options{})
	s.SetLatency(time.Hour)
	if _, err := (&http.Client{Timeout: 10 * time.Millisecond}).Get(s.URL() + "user"); err == nil {
		t.Error("no timeout despite latency")
	}
	s.SetLatency(0)
	if r := get(t, s, "user"); r.Status != 200 {
		t.Errorf("status %d", r.Status)
	}
	if reqs := s.Requests(); len(reqs) != 1 {
		t.Errorf("recorded %+v, want only the answered request", reqs)
	}
}

// TestFailRandomly: a storm answers GitHub's own 5xx bodies, after
// authentication, reproducibly for a seed, and stops on rate 0.
func TestFailRandomly(t *testing.T) {
	run := func() []int {
		s, _ := corpusServer(t, githubtest.Options{})
		s.FailRandomly(0.5, rand.New(rand.NewPCG(11, 12)))
		var statuses []int
		for range 30 {
			r := fakeserver.Do(t, http.DefaultClient, http.MethodGet, s.URL()+"repos/apache/zookeeper/branches", "Authorization: Bearer "+token)
			statuses = append(statuses, r.Status)
			want := map[int]string{500: "Server Error", 502: "Server Error", 503: "Service Unavailable"}[r.Status]
			if r.Status >= 500 && r.Message(t) != want {
				t.Errorf("%d with message %q", r.Status, r.Message(t))
			}
		}
		if r := fakeserver.Do(t, http.DefaultClient, http.MethodGet, s.URL()+"repos/apache/zookeeper/branches", "Authorization: Bearer nope"); r.Status != http.StatusUnauthorized {
			t.Errorf("unauthenticated request during the storm: %d", r.Status)
		}
		s.FailRandomly(0, nil)
		if r := fakeserver.Do(t, http.DefaultClient, http.MethodGet, s.URL()+"repos/apache/zookeeper/branches", "Authorization: Bearer "+token); r.Status != http.StatusOK {
			t.Errorf("after the storm: %d", r.Status)
		}
		return statuses
	}
	a, b := run(), run()
	if !slices.Equal(a, b) {
		t.Errorf("the same seed gave other answers: %v, %v", a, b)
	}
	if n := slices.IndexFunc(a, func(s int) bool { return s >= 500 }); n < 0 || !slices.Contains(a, http.StatusOK) {
		t.Errorf("answers at rate 0.5: %v", a)
	}
}
