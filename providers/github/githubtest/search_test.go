package githubtest_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

func searchPath(q string, extra ...string) string {
	v := url.Values{"q": {q}}
	for i := 0; i+1 < len(extra); i += 2 {
		v.Set(extra[i], extra[i+1])
	}
	return "search/issues?" + v.Encode()
}

// The search serves pull requests by owner and update time, decodes into
// go-github's IssuesSearchResult, counts against its own budget and
// answers malformed queries 422.
func TestSearchIssues(t *testing.T) {
	clock := newClock()
	s := githubtest.Start(t, githubtest.Options{Token: token, Now: clock.Now})
	api := s.AddRepo(githubtest.Repo{ID: 1, Owner: "acme", Name: "api", OwnerIsOrg: true})
	web := s.AddRepo(githubtest.Repo{ID: 2, Owner: "acme", Name: "web", OwnerIsOrg: true})
	s.AddRepo(githubtest.Repo{ID: 3, Owner: "alice", Name: "dotfiles"})
	t0 := clock.Now().UTC()
	api.UpsertPull(githubtest.PullRequest{Number: 1, Title: "ABC-1 old", HeadRef: "a"})
	clock.Add(time.Hour)
	since := clock.Now().UTC()
	web.UpsertPull(githubtest.PullRequest{Number: 7, Title: "ABC-2 from a fork", User: "outsider", HeadRef: "f"})
	clock.Add(time.Minute)
	if !api.EditPull(1, func(p *githubtest.PullRequest) { p.State = githubtest.PullClosed }) {
		t.Fatal("EditPull: no pull request 1")
	}

	q := "is:pr org:acme updated:>=" + since.Format("2006-01-02T15:04:05Z")
	r := get(t, s, searchPath(q, "sort", "updated", "order", "desc", "per_page", "1"))
	if r.Status != 200 {
		t.Fatalf("search: %d %s", r.Status, r.Body)
	}
	var res gh.IssuesSearchResult
	r.Decode(t, &res)
	if res.GetTotal() != 2 || res.GetIncompleteResults() || len(res.Issues) != 1 {
		t.Fatalf("total %d, incomplete %v, %d items; want 2 in all, 1 on the page", res.GetTotal(), res.GetIncompleteResults(), len(res.Issues))
	}
	it := res.Issues[0]
	if it.GetNumber() != 1 || it.GetState() != "closed" || it.ClosedAt == nil || !it.IsPullRequest() ||
		!strings.HasSuffix(it.GetRepositoryURL(), "/repos/acme/api") || it.GetUpdatedAt().Time.Before(since) {
		t.Errorf("first item (most recently updated) = #%d %s closed_at %v repository_url %s", it.GetNumber(), it.GetState(), it.ClosedAt, it.GetRepositoryURL())
	}
	if h := r.Header; h.Get("X-RateLimit-Resource") != "search" || h.Get("X-RateLimit-Limit") != "30" || h.Get("X-RateLimit-Remaining") != "29" {
		t.Errorf("rate-limit headers %v; want the search budget, 29 of 30 left", h)
	}
	if !strings.Contains(r.Header.Get("Link"), `page=2>; rel="next"`) {
		t.Errorf("Link %q; want a next page", r.Header.Get("Link"))
	}
	// The core budget is untouched.
	if s.RateRemaining() != 5000 {
		t.Errorf("core budget %d left, want 5000", s.RateRemaining())
	}

	// Before since: the older update is included only with an earlier bound.
	get(t, s, searchPath("is:pr org:acme updated:>="+t0.Format(time.DateOnly))).Decode(t, &res)
	if res.GetTotal() != 2 {
		t.Errorf("since a day: total %d, want 2", res.GetTotal())
	}
	get(t, s, searchPath("is:pr user:alice")).Decode(t, &res)
	if res.GetTotal() != 0 {
		t.Errorf("user:alice total %d, want 0", res.GetTotal())
	}

	for _, bad := range []string{
		searchPath("is:pr org:alice"),  // a user, not an organization
		searchPath("is:pr org:nobody"), // no such account
		searchPath("is:pr updated:>=yesterday"),
		"search/issues",
		searchPath("is:pr org:acme", "page", "11", "per_page", "100"), // beyond the first 1,000
	} {
		if r := get(t, s, bad); r.Status != http.StatusUnprocessableEntity {
			t.Errorf("GET %s: %d, want 422", bad, r.Status)
		}
	}

	s.SetSearchIncomplete(true)
	get(t, s, searchPath("is:pr org:acme")).Decode(t, &res)
	if !res.GetIncompleteResults() {
		t.Error("SetSearchIncomplete: incomplete_results false")
	}

	s.SetSearchRemaining(0)
	if r := get(t, s, searchPath("is:pr org:acme")); r.Status != http.StatusForbidden || r.Header.Get("X-RateLimit-Remaining") != "0" || r.Header.Get("X-RateLimit-Resource") != "search" {
		t.Errorf("spent search budget: %d %v", r.Status, r.Header)
	}
	if r := get(t, s, "orgs/acme/repos"); r.Status != 200 {
		t.Errorf("core request while the search budget is spent: %d", r.Status)
	}
	clock.Add(time.Minute)
	if r := get(t, s, searchPath("is:pr org:acme")); r.Status != 200 {
		t.Errorf("search a minute later: %d", r.Status)
	}
}

// An edit moves a pull request's updated_at, never the repository's
// pushed_at; a push moves pushed_at and the repository to the top of the
// pushed-first list.
func TestPushedOrderAndPullEdits(t *testing.T) {
	clock := newClock()
	s := githubtest.Start(t, githubtest.Options{Token: token, Now: clock.Now})
	a := s.AddRepo(githubtest.Repo{ID: 1, Owner: "acme", Name: "a", OwnerIsOrg: true})
	clock.Add(time.Minute)
	s.AddRepo(githubtest.Repo{ID: 2, Owner: "acme", Name: "b", OwnerIsOrg: true})
	a.UpsertPull(githubtest.PullRequest{Number: 1, Title: "x", HeadRef: "x"})
	clock.Add(time.Minute)
	first := func() string {
		var repos []struct {
			FullName string `json:"full_name"`
		}
		get(t, s, "orgs/acme/repos?type=all&sort=pushed&direction=desc").Decode(t, &repos)
		return repos[0].FullName
	}
	if got := first(); got != "acme/b" {
		t.Fatalf("most recently pushed %s, want acme/b", got)
	}
	a.EditPull(1, func(p *githubtest.PullRequest) { p.Title = "ABC-9 x" })
	if got := first(); got != "acme/b" {
		t.Errorf("after a title edit the most recently pushed is %s, want still acme/b", got)
	}
	a.SetBranch("main", "0000000000000000000000000000000000000001")
	if got := first(); got != "acme/a" {
		t.Errorf("after a push the most recently pushed is %s, want acme/a", got)
	}
}
