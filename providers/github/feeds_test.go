package github

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

// Client offers both owner-wide feeds; App does not (its owner may be
// AllInstallations, which no single list or search covers).
var (
	_ indexer.PushFeed = (*Client)(nil)
	_ indexer.PullFeed = (*Client)(nil)
)

func TestAppOffersNoFeeds(t *testing.T) {
	var src indexer.Source = (*App)(nil)
	if _, ok := src.(indexer.PushFeed); ok {
		t.Error("App implements PushFeed")
	}
	if _, ok := src.(indexer.PullFeed); ok {
		t.Error("App implements PullFeed")
	}
}

func feedServer(t *testing.T) (*githubtest.Server, *fakeserver.Clock, *Client) {
	t.Helper()
	clock := fakeserver.NewClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))
	srv := githubtest.Start(t, githubtest.Options{Token: token, Now: clock.Now})
	return srv, clock, newClient(t, srv, nil)
}

func names(rs []providers.Repo) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.FullName)
	}
	return out
}

func countRoute(reqs []githubtest.Request, route string) (n int) {
	for _, r := range reqs {
		if r.Route == route {
			n++
		}
	}
	return n
}

func TestOwnerReposPushedSince(t *testing.T) {
	srv, clock, c := feedServer(t)
	ctx := context.Background()
	var hs []*githubtest.RepoHandle
	for i := 1; i <= 250; i++ {
		hs = append(hs, srv.AddRepo(githubtest.Repo{ID: int64(i), Owner: "acme", Name: fmt.Sprintf("r%03d", i), OwnerIsOrg: true}))
	}
	clock.Add(time.Hour)
	since := clock.Now()
	for _, i := range []int{17, 203, 5} { // pushed in this order
		hs[i-1].SetBranch("main", fmt.Sprintf("%040d", i))
		clock.Add(time.Minute)
	}

	srv.ResetRequests()
	l, err := c.OwnerReposPushedSince(ctx, "acme", since, providers.ListState{})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(l.Items), []string{"acme/r005", "acme/r203", "acme/r017"}; !slices.Equal(got, want) || l.Unchanged {
		t.Fatalf("pushed since: %v (unchanged %v), want %v", got, l.Unchanged, want)
	}
	if !l.Items[0].PushedAt.Equal(since.Add(2 * time.Minute)) {
		t.Errorf("PushedAt %v, want %v", l.Items[0].PushedAt, since.Add(2*time.Minute))
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Route != "GET /orgs/{org}/repos" {
		t.Fatalf("requests %+v; want one page of GET /orgs/{org}/repos", reqs)
	}
	if q, _ := url.ParseQuery(reqs[0].RawQuery); q.Get("sort") != "pushed" || q.Get("direction") != "desc" || q.Get("type") != "all" {
		t.Errorf("query %s; want type=all&sort=pushed&direction=desc", reqs[0].RawQuery)
	}

	// Nothing pushed since: one 304, free.
	srv.ResetRequests()
	l2, err := c.OwnerReposPushedSince(ctx, "acme", clock.Now(), l.State)
	if err != nil || !l2.Unchanged || l2.Items != nil {
		t.Fatalf("idle org: %+v %v; want Unchanged", l2, err)
	}
	if counted, nm := countedAnd304(srv.Requests()); counted != 0 || nm != 1 {
		t.Errorf("idle org cost %d counted calls, %d 304s; want 0 and 1", counted, nm)
	}

	// A push changes the first page: read until the watermark only.
	mark := clock.Now()
	hs[99].SetBranch("main", fmt.Sprintf("%040d", 100))
	l3, err := c.OwnerReposPushedSince(ctx, "acme", mark, l.State)
	if err != nil || l3.Unchanged || !slices.Equal(names(l3.Items), []string{"acme/r100"}) {
		t.Fatalf("after a push: %v %v", names(l3.Items), err)
	}

	// 120 pushed since: two pages read, not the third.
	mark = clock.Now()
	clock.Add(time.Minute)
	for i := 0; i < 120; i++ {
		hs[i].SetBranch("dev", fmt.Sprintf("%040d", i))
	}
	srv.ResetRequests()
	l4, err := c.OwnerReposPushedSince(ctx, "acme", mark, l3.State)
	if err != nil || len(l4.Items) != 120 {
		t.Fatalf("120 pushed: %d items, %v", len(l4.Items), err)
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("%d requests for 120 pushed repositories; want 2 pages", n)
	}

	// A zero since lists every repository.
	all, err := c.OwnerReposPushedSince(ctx, "acme", time.Time{}, providers.ListState{})
	if err != nil || len(all.Items) != 250 {
		t.Errorf("zero since: %d repositories, %v; want 250", len(all.Items), err)
	}
}

func TestOwnerReposPushedSinceUser(t *testing.T) {
	srv, clock, c := feedServer(t)
	ctx := context.Background()
	h := srv.AddRepo(githubtest.Repo{ID: 1, Owner: "alice", Name: "dotfiles"})
	srv.AddRepo(githubtest.Repo{ID: 2, Owner: "alice", Name: "idle"})
	clock.Add(time.Hour)
	since := clock.Now()
	h.SetBranch("main", fmt.Sprintf("%040d", 1))

	l, err := c.OwnerReposPushedSince(ctx, "alice", since, providers.ListState{})
	if err != nil || !slices.Equal(names(l.Items), []string{"alice/dotfiles"}) {
		t.Fatalf("user: %v %v", names(l.Items), err)
	}
	srv.ResetRequests()
	l2, err := c.OwnerReposPushedSince(ctx, "alice", since, l.State)
	if err != nil || !l2.Unchanged {
		t.Fatalf("user, unchanged: %+v %v", l2, err)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Route != "GET /users/{user}/repos" || reqs[0].IfNoneMatch == "" {
		t.Errorf("second call %+v; want one conditional GET /users/{user}/repos", reqs)
	}
	if _, err := c.OwnerReposPushedSince(ctx, "nobody", since, providers.ListState{}); !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("unknown owner: %v; want ErrNotFound", err)
	}
}

func activityNames(acts []providers.PullActivity) []string {
	var out []string
	for _, a := range acts {
		out = append(out, a.FullName)
	}
	return out
}

func TestOwnerPullActivity(t *testing.T) {
	srv, clock, c := feedServer(t)
	ctx := context.Background()
	api := srv.AddRepo(githubtest.Repo{ID: 1, Owner: "acme", Name: "api", OwnerIsOrg: true})
	web := srv.AddRepo(githubtest.Repo{ID: 2, Owner: "acme", Name: "web", OwnerIsOrg: true})
	idle := srv.AddRepo(githubtest.Repo{ID: 3, Owner: "acme", Name: "idle", OwnerIsOrg: true})
	srv.AddRepo(githubtest.Repo{ID: 4, Owner: "other", Name: "api", OwnerIsOrg: true}).
		UpsertPull(githubtest.PullRequest{Number: 1, Title: "ABC-1 elsewhere", HeadRef: "x"})
	api.UpsertPull(githubtest.PullRequest{Number: 1, Title: "ABC-1 first", HeadRef: "a"})
	web.UpsertPull(githubtest.PullRequest{Number: 8, Title: "ABC-3", HeadRef: "c"})
	idle.UpsertPull(githubtest.PullRequest{Number: 2, Title: "ABC-2 idle", HeadRef: "b"})
	clock.Add(time.Hour)
	since := clock.Now()

	if err := c.Org(ctx, "acme"); err != nil { // learns the core budget
		t.Fatal(err)
	}
	// Nothing changed since.
	acts, err := c.OwnerPullActivity(ctx, "acme", since)
	if err != nil || len(acts) != 0 {
		t.Fatalf("no activity: %v %v", acts, err)
	}

	// A fork's pull request, a closed-without-merge one, a title edit.
	web.UpsertPull(githubtest.PullRequest{Number: 9, Title: "ABC-4 from a fork", User: "outsider", HeadRef: "patch-1"})
	clock.Add(time.Minute)
	web.EditPull(8, func(p *githubtest.PullRequest) { p.State = githubtest.PullClosed })
	clock.Add(time.Minute)
	api.EditPull(1, func(p *githubtest.PullRequest) { p.Title = "ABC-5 renamed" })

	srv.ResetRequests()
	acts, err = c.OwnerPullActivity(ctx, "acme", since)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := activityNames(acts), []string{"acme/api", "acme/web"}; !slices.Equal(got, want) {
		t.Errorf("activity %v, want %v (most recent first, each once)", got, want)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 || reqs[0].Route != "GET /search/issues" {
		t.Fatalf("requests %+v; want one search", reqs)
	}
	q, _ := url.ParseQuery(reqs[0].RawQuery)
	if want := "is:pr org:acme updated:>=2026-12-04T10:00:00Z"; q.Get("q") != want || q.Get("sort") != "updated" || q.Get("order") != "desc" {
		t.Errorf("query %v; want q=%q sort=updated order=desc", q, want)
	}
	// The search budget is not the core budget the client reports.
	if rl := c.RateLimit(); rl.Limit != 5000 || rl.Remaining != 4999 {
		t.Errorf("RateLimit after searches = %+v; want the core budget, 4999 of 5000 left", rl)
	}
}

func TestOwnerPullActivityPagesAndLimits(t *testing.T) {
	srv, clock, c := feedServer(t)
	ctx := context.Background()
	since := clock.Now()
	var hs []*githubtest.RepoHandle
	for i := 1; i <= 3; i++ {
		hs = append(hs, srv.AddRepo(githubtest.Repo{ID: int64(i), Owner: "acme", Name: fmt.Sprintf("r%d", i), OwnerIsOrg: true}))
	}
	for n := 1; n <= 250; n++ {
		hs[n%3].UpsertPull(githubtest.PullRequest{Number: n, Title: "ABC-1", HeadRef: fmt.Sprintf("b%d", n)})
	}
	srv.ResetRequests()
	acts, err := c.OwnerPullActivity(ctx, "acme", since)
	if err != nil || len(acts) != 3 {
		t.Fatalf("250 pull requests: %v %v", activityNames(acts), err)
	}
	if n := countRoute(srv.Requests(), "GET /search/issues"); n != 3 {
		t.Errorf("%d search pages for 250 results; want 3", n)
	}

	// More than a search serves: the caller must list per repository.
	for n := 251; n <= 1001; n++ {
		hs[0].UpsertPull(githubtest.PullRequest{Number: n, Title: "ABC-1", HeadRef: fmt.Sprintf("b%d", n)})
	}
	srv.ResetRequests()
	if _, err := c.OwnerPullActivity(ctx, "acme", since); !errors.Is(err, providers.ErrFeedIncomplete) {
		t.Errorf("1,001 results: %v; want ErrFeedIncomplete", err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("%d requests before giving up; want 1", n)
	}

	srv.SetSearchIncomplete(true)
	if _, err := c.OwnerPullActivity(ctx, "acme", clock.Now()); !errors.Is(err, providers.ErrFeedIncomplete) {
		t.Errorf("incomplete_results: %v; want ErrFeedIncomplete", err)
	}
}

func TestOwnerPullActivityUser(t *testing.T) {
	srv, clock, c := feedServer(t)
	ctx := context.Background()
	since := clock.Now()
	srv.AddRepo(githubtest.Repo{ID: 1, Owner: "alice", Name: "dotfiles"}).
		UpsertPull(githubtest.PullRequest{Number: 3, Title: "ABC-7", User: "bob", HeadRef: "fix"})

	acts, err := c.OwnerPullActivity(ctx, "alice", since)
	if err != nil || !slices.Equal(activityNames(acts), []string{"alice/dotfiles"}) {
		t.Fatalf("user: %v %v", activityNames(acts), err)
	}
	srv.ResetRequests()
	if _, err := c.OwnerPullActivity(ctx, "alice", since); err != nil {
		t.Fatal(err)
	}
	reqs := srv.Requests()
	q, _ := url.ParseQuery(reqs[0].RawQuery)
	if len(reqs) != 1 || q.Get("q") != "is:pr user:alice updated:>=2026-12-04T09:00:00Z" {
		t.Errorf("second search %+v; want one user: search", reqs)
	}
}

func TestRepoFromURL(t *testing.T) {
	for in, want := range map[string]string{
		"https://api.github.com/repos/acme/api":         "acme/api",
		"https://ghe.example.com/api/v3/repos/acme/a.b": "acme/a.b",
		"https://api.github.com/repos/acme":             "",
		"https://api.github.com/users/acme":             "",
		"https://api.github.com/repos/acme/api/issues":  "",
	} {
		got, ok := repoFromURL(in)
		if got != want || ok != (want != "") {
			t.Errorf("repoFromURL(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}
