package githubtest_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"testing"

	gh "github.com/google/go-github/v62/github"

	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

// client is a go-github client of s, the decoder jiralinkd uses.
func client(t testing.TB, s *githubtest.Server, tok string) *gh.Client {
	t.Helper()
	u, err := url.Parse(s.URL())
	if err != nil {
		t.Fatal(err)
	}
	c := gh.NewClient(nil).WithAuthToken(tok)
	c.BaseURL = u
	return c
}

func TestGoGitHubDecodesEverything(t *testing.T) {
	ctx := context.Background()
	s, _ := corpusServer(t, githubtest.Options{})
	s.AddRepo(githubtest.Repo{ID: 2, Owner: "apache", Name: "aaa", Private: true, OwnerIsOrg: true})
	s.AddRepo(githubtest.Repo{ID: 3, Owner: "apache", Name: "zzz", Archived: true, OwnerIsOrg: true})
	c := client(t, s, token)

	me, _, err := c.Users.Get(ctx, "")
	if err != nil || me.GetLogin() != "jiralinkd-bot" || me.GetID() != 1 {
		t.Fatalf("Users.Get = %+v, %v", me, err)
	}
	org, _, err := c.Organizations.Get(ctx, "apache")
	if err != nil || org.GetLogin() != "apache" || org.GetType() != "Organization" {
		t.Fatalf("Organizations.Get = %+v, %v", org, err)
	}

	var repos []*gh.Repository
	opt := &gh.RepositoryListByOrgOptions{Type: "all", Sort: "full_name", ListOptions: gh.ListOptions{PerPage: 1}}
	for {
		page, resp, err := c.Repositories.ListByOrg(ctx, "apache", opt)
		if err != nil {
			t.Fatal(err)
		}
		repos = append(repos, page...)
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	var names []string
	for _, r := range repos {
		names = append(names, r.GetFullName())
	}
	if !slices.Equal(names, []string{"apache/aaa", "apache/zookeeper", "apache/zzz"}) ||
		!repos[0].GetPrivate() || !repos[2].GetArchived() || repos[1].GetID() != 1000 {
		t.Errorf("ListByOrg = %v", names)
	}

	repo, _, err := c.Repositories.Get(ctx, "apache", "zookeeper")
	if err != nil || repo.GetID() != 1000 || repo.GetDefaultBranch() != "master" || repo.GetHTMLURL() != "https://github.com/apache/zookeeper" ||
		repo.GetOwner().GetLogin() != "apache" || repo.GetOrganization().GetLogin() != "apache" || repo.GetPushedAt().IsZero() {
		t.Fatalf("Repositories.Get = %+v, %v", repo, err)
	}

	branches, _, err := c.Repositories.ListBranches(ctx, "apache", "zookeeper", &gh.BranchListOptions{ListOptions: gh.ListOptions{PerPage: 100}})
	if err != nil || len(branches) != 22 || branches[0].GetName() != "asf-site" || branches[0].GetCommit().GetSHA() != "d6fcf065b33fc639db3058785696fdbbea98064b" {
		t.Errorf("ListBranches: %d, %v", len(branches), err)
	}
	tags, resp, err := c.Repositories.ListTags(ctx, "apache", "zookeeper", &gh.ListOptions{PerPage: 100})
	if err != nil || len(tags) != 100 || resp.NextPage != 2 || resp.LastPage != 2 || tags[0].GetCommit().GetSHA() == "" {
		t.Errorf("ListTags: %d next %d, %v", len(tags), resp.NextPage, err)
	}

	// Pages 1, 2 and the last of master (TestCommitsCorpusMaster reads
	// them all): go-github's paging fields and decoded SHAs.
	want := zookeeper(t).Log("53a78e36f99602162643303ab330377fc383b41f")
	var commits []*gh.RepositoryCommit
	for _, page := range []int{1, 2, 28} {
		items, resp, err := c.Repositories.ListCommits(ctx, "apache", "zookeeper",
			&gh.CommitsListOptions{SHA: "master", ListOptions: gh.ListOptions{PerPage: 100, Page: page}})
		if err != nil {
			t.Fatal(err)
		}
		wantNext := page + 1
		if page == 28 {
			wantNext = 0
		}
		if resp.NextPage != wantNext || (page < 28 && resp.LastPage != 28) {
			t.Errorf("page %d: next %d last %d", page, resp.NextPage, resp.LastPage)
		}
		var got []string
		for _, cm := range items {
			got = append(got, cm.GetSHA())
		}
		if lo := (page - 1) * 100; !slices.Equal(got, want[lo:min(lo+100, len(want))]) {
			t.Errorf("page %d: %d commits, not git log order", page, len(got))
		}
		commits = append(commits, items...)
	}
	head := commits[0]
	if head.GetCommit().GetMessage()[:15] != "ZOOKEEPER-5064:" || head.GetAuthor().GetLogin() != "Kirti2704" ||
		head.GetCommitter().GetLogin() != "web-flow" || head.GetCommit().GetAuthor().GetName() != "Kirti Prajapat" ||
		head.GetCommit().GetAuthor().GetDate().Unix() != 1784314525 || len(head.Parents) != 1 ||
		head.Parents[0].GetSHA() != "5d6ad7995c5faa6ec6ea7d543e1691668f2570ba" ||
		head.GetHTMLURL() != "https://github.com/apache/zookeeper/commit/"+want[0] || head.Files != nil || head.Stats != nil {
		t.Errorf("head commit = %+v", head)
	}

	pulls, _, err := c.PullRequests.List(ctx, "apache", "zookeeper", &gh.PullRequestListOptions{State: "all", Sort: "updated", Direction: "desc", ListOptions: gh.ListOptions{PerPage: 5}})
	if err != nil || len(pulls) != 5 {
		t.Fatalf("PullRequests.List: %d, %v", len(pulls), err)
	}
	p := pulls[0]
	if p.GetState() != "closed" || p.MergedAt == nil || p.GetMergeCommitSHA() == "" || p.GetHead().GetRef() == "" ||
		p.GetBase().GetRef() == "" || p.GetUser().GetLogin() == "" || p.GetTitle() == "" || p.GetUpdatedAt().Before(pulls[1].GetUpdatedAt().Time) ||
		p.GetHTMLURL() == "" || p.GetBase().GetRepo().GetID() != 1000 {
		t.Errorf("pull = %+v", p)
	}
}

func TestGoGitHubErrors(t *testing.T) {
	ctx := context.Background()
	s, zk := corpusServer(t, githubtest.Options{RateLimit: 4})
	c := client(t, s, token)

	_, resp, err := c.Repositories.Get(ctx, "apache", "nope")
	var er *gh.ErrorResponse
	if !errors.As(err, &er) || resp.StatusCode != 404 || er.Message != "Not Found" {
		t.Errorf("404: %v", err)
	}
	_, _, err = client(t, s, "wrong").Users.Get(ctx, "")
	if !errors.As(err, &er) || er.Response.StatusCode != 401 || er.Message != "Bad credentials" {
		t.Errorf("401: %v", err)
	}

	// Conditional request: go-github reports the 304 as an error response.
	req, _ := c.NewRequest(http.MethodGet, "repos/apache/zookeeper/tags", nil)
	first, err := c.Do(ctx, req, nil)
	if err != nil {
		t.Fatal(err)
	}
	req, _ = c.NewRequest(http.MethodGet, "repos/apache/zookeeper/tags", nil)
	req.Header.Set("If-None-Match", first.Header.Get("ETag"))
	second, _ := c.Do(ctx, req, nil)
	if second.StatusCode != http.StatusNotModified || second.Rate.Remaining != first.Rate.Remaining {
		t.Errorf("304: status %d remaining %d (was %d)", second.StatusCode, second.Rate.Remaining, first.Rate.Remaining)
	}

	// A rename is followed transparently.
	zk.Rename("apache", "zookeeper-renamed")
	repo, _, err := c.Repositories.Get(ctx, "apache", "zookeeper")
	if err != nil || repo.GetFullName() != "apache/zookeeper-renamed" {
		t.Errorf("renamed: %v, %v", repo.GetFullName(), err)
	}

	// Budget 4, spent by the 404, the first tags page and the renamed Get
	// (the 301 and its target); the 401 and the 304 were free.
	_, _, err = c.Users.Get(ctx, "")
	var rl *gh.RateLimitError
	if !errors.As(err, &rl) || rl.Rate.Remaining != 0 || rl.Rate.Limit != 4 || rl.Rate.Reset.IsZero() {
		t.Errorf("rate limited: %v", err)
	}
}
