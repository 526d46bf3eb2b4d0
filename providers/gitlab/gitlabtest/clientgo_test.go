package gitlabtest_test

import (
	"errors"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
)

func TestClientGoDecodesEverything(t *testing.T) {
	s, _ := corpusServer(t, gitlabtest.Options{Scopes: []string{"read_api", "read_user"}})
	s.AddProject(gitlabtest.Project{ID: 7, Namespace: "apache/incubator", Path: "tiny", Archived: true})
	c := client(t, s, token)

	me, _, err := c.Users.CurrentUser()
	if err != nil || me.Username != "jiralinkd-bot" || me.ID != 1 || me.State != "active" || me.CreatedAt == nil {
		t.Fatalf("CurrentUser = %+v, %v", me, err)
	}
	pat, _, err := c.PersonalAccessTokens.GetSinglePersonalAccessToken()
	if err != nil || !slices.Equal(pat.Scopes, []string{"read_api", "read_user"}) || !pat.Active || pat.Revoked ||
		pat.UserID != 1 || pat.ExpiresAt == nil || pat.LastUsedAt == nil {
		t.Fatalf("GetSinglePersonalAccessToken = %+v, %v", pat, err)
	}
	v, _, err := c.Version.GetVersion()
	if err != nil || !strings.HasPrefix(v.Version, "17.") || v.Revision == "" {
		t.Fatalf("GetVersion = %+v, %v", v, err)
	}
	md, _, err := c.Metadata.GetMetadata()
	if err != nil || md.Version != v.Version || !md.Enterprise || md.KAS.Enabled {
		t.Fatalf("GetMetadata = %+v, %v", md, err)
	}

	g, _, err := c.Groups.GetGroup("apache/incubator", nil)
	if err != nil || g.FullPath != "apache/incubator" || g.Path != "incubator" || g.ParentID == 0 ||
		g.WebURL != "https://gitlab.com/groups/apache/incubator" {
		t.Fatalf("GetGroup = %+v, %v", g, err)
	}
	parent, _, err := c.Groups.GetGroup(g.ParentID, nil)
	if err != nil || parent.FullPath != "apache" || parent.ParentID != 0 {
		t.Fatalf("GetGroup(parent) = %+v, %v", parent, err)
	}

	p, _, err := c.Projects.GetProject("apache/zookeeper", nil)
	if err != nil || p.ID != 1000 || p.PathWithNamespace != "apache/zookeeper" || p.DefaultBranch != "master" ||
		p.WebURL != "https://gitlab.com/apache/zookeeper" || p.Namespace.FullPath != "apache" || p.Namespace.Kind != "group" ||
		p.Archived || p.EmptyRepo || p.HTTPURLToRepo != "https://gitlab.com/apache/zookeeper.git" ||
		p.Permissions == nil || p.Permissions.ProjectAccess == nil || p.CreatedAt == nil || p.LastActivityAt == nil {
		t.Fatalf("GetProject = %+v, %v", p, err)
	}
	tiny, _, err := c.Projects.GetProject(7, nil)
	if err != nil || !tiny.Archived || !tiny.EmptyRepo || tiny.DefaultBranch != "main" || tiny.Namespace.ParentID != parent.ID {
		t.Fatalf("GetProject(7) = %+v, %v", tiny, err)
	}

	branches, resp, err := c.Branches.ListBranches(1000, &gl.ListBranchesOptions{ListOptions: gl.ListOptions{PerPage: 100}})
	if err != nil || len(branches) != 22 || resp.TotalItems != 22 || resp.TotalPages != 1 || resp.NextPage != 0 {
		t.Fatalf("ListBranches: %d (total %d), %v", len(branches), resp.TotalItems, err)
	}
	i := slices.IndexFunc(branches, func(b *gl.Branch) bool { return b.Name == "master" })
	if i < 0 || !branches[i].Default || !branches[i].Protected || branches[i].Commit.ID != zkMaster ||
		branches[i].Commit.CommittedDate == nil || branches[i].WebURL != "https://gitlab.com/apache/zookeeper/-/tree/master" {
		t.Errorf("master branch = %+v", branches[i])
	}
	if branches[0].Name != "asf-site" || branches[0].Commit.ID != "d6fcf065b33fc639db3058785696fdbbea98064b" {
		t.Errorf("first branch %s %s: not sorted by name", branches[0].Name, branches[0].Commit.ID)
	}

	tags, resp, err := c.Tags.ListTags(1000, &gl.ListTagsOptions{ListOptions: gl.ListOptions{PerPage: 100}})
	if err != nil || len(tags) != 100 || resp.TotalItems != 184 || resp.NextPage != 2 || tags[0].Target != tags[0].Commit.ID {
		t.Fatalf("ListTags: %d next %d, %v", len(tags), resp.NextPage, err)
	}
	for i := 1; i < len(tags); i++ {
		if tags[i].Commit.CommittedDate.After(*tags[i-1].Commit.CommittedDate) {
			t.Fatalf("tags not newest first at %d", i)
		}
	}

	commits, _, err := c.Commits.ListCommits("apache/zookeeper", &gl.ListCommitsOptions{RefName: gl.Ptr("master"), ListOptions: gl.ListOptions{PerPage: 2}})
	if err != nil || len(commits) != 2 {
		t.Fatalf("ListCommits: %v", err)
	}
	head := commits[0]
	if head.ID != zkMaster || head.ShortID != zkMaster[:11] || !strings.HasPrefix(head.Title, "ZOOKEEPER-5064:") ||
		head.AuthorName != "Kirti Prajapat" || head.AuthoredDate.Unix() != 1784314525 || head.CommitterName != "GitHub" ||
		!slices.Equal(head.ParentIDs, []string{"5d6ad7995c5faa6ec6ea7d543e1691668f2570ba"}) || head.Stats != nil ||
		head.WebURL != "https://gitlab.com/apache/zookeeper/-/commit/"+zkMaster || !strings.Contains(head.Message, "Closes #2415") {
		t.Errorf("head commit = %+v", head)
	}
	if _, off := head.AuthoredDate.Zone(); off != 5*3600+1800 {
		t.Errorf("authored_date lost its offset: %v", head.AuthoredDate)
	}

	mrs, resp, err := c.MergeRequests.ListProjectMergeRequests(1000, &gl.ListProjectMergeRequestsOptions{
		State: gl.Ptr("all"), OrderBy: gl.Ptr("updated_at"), Sort: gl.Ptr("desc"), ListOptions: gl.ListOptions{PerPage: 5},
	})
	if err != nil || len(mrs) != 5 || resp.TotalItems < 100 {
		t.Fatalf("ListProjectMergeRequests: %d, %v", len(mrs), err)
	}
	m := mrs[0]
	if m.State != "merged" || m.MergedAt == nil || m.MergeCommitSHA == "" || m.SourceBranch == "" || m.TargetBranch != "master" ||
		m.Author == nil || m.Author.Username == "" || m.Title == "" || m.ProjectID != 1000 || m.IID == 0 ||
		m.WebURL != "https://gitlab.com/apache/zookeeper/-/merge_requests/"+strconv.FormatInt(m.IID, 10) || m.UpdatedAt.Before(*mrs[1].UpdatedAt) {
		t.Errorf("merge request = %+v", m)
	}

	if f := s.ForbiddenRequests(); len(f) != 0 {
		t.Errorf("forbidden requests: %+v", f)
	}
}

// TestCommitsCorpusMaster reads all of master, 2,718 commits over 28 pages
// of 100, as client-go pages: in `git log` order, without totals.
func TestCommitsCorpusMaster(t *testing.T) {
	s, _ := corpusServer(t, gitlabtest.Options{})
	c := client(t, s, token)
	want := zookeeper(t).Log(zkMaster)
	if len(want) != 2718 {
		t.Fatalf("corpus master has %d commits", len(want))
	}
	opt := &gl.ListCommitsOptions{RefName: gl.Ptr("master"), ListOptions: gl.ListOptions{PerPage: 100}}
	var got []string
	pages := 0
	for {
		items, resp, err := c.Commits.ListCommits("apache/zookeeper", opt)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, cm := range items {
			got = append(got, cm.ID)
		}
		// GitLab does not count commits.
		if resp.TotalItems != 0 || resp.TotalPages != 0 || resp.Header.Get("X-Total") != "" ||
			strings.Contains(resp.Header.Get("Link"), `rel="last"`) || resp.CurrentPage != int64(pages) {
			t.Errorf("page %d: totals or last link present: %v", pages, resp.Header)
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	if pages != 28 || !slices.Equal(got, want) {
		t.Errorf("%d pages, %d commits; git log order: %v", pages, len(got), slices.Equal(got, want))
	}
	var counted int
	for _, r := range s.Requests() {
		if r.Route != "GET /projects/:id/repository/commits" || r.Status != 200 || r.Forbidden {
			t.Errorf("request %+v", r)
		}
		if r.Counted {
			counted++
		}
	}
	if counted != 28 {
		t.Errorf("%d counted requests, want 28", counted)
	}
}

func TestClientGoErrors(t *testing.T) {
	clk := newClock()
	s, zk := corpusServer(t, gitlabtest.Options{RateLimit: 5, Now: clk.Now})
	c := client(t, s, token)

	// client-go turns every 404 into its ErrNotFound sentinel.
	if _, _, err := c.Projects.GetProject("apache/nope", nil); !errors.Is(err, gl.ErrNotFound) {
		t.Errorf("404: %v", err)
	}
	_, _, err := client(t, s, "wrong").Users.CurrentUser()
	var er *gl.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 401 || er.Message != "{message: 401 Unauthorized}" {
		t.Errorf("401: %v", err)
	}

	// A rename: the old path still resolves (a 301 client-go follows).
	zk.Rename("apache", "zookeeper-renamed")
	p, _, err := c.Projects.GetProject("apache/zookeeper", nil)
	if err != nil || p.ID != 1000 || p.PathWithNamespace != "apache/zookeeper-renamed" {
		t.Errorf("renamed: %+v, %v", p, err)
	}

	// Conditional request: client-go passes the 304 through (and fails to
	// decode its empty body).
	_, first, err := c.Branches.ListBranches(1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, second, err := c.Branches.ListBranches(1000, nil, gl.WithHeader("If-None-Match", first.Header.Get("ETag")))
	if second == nil || second.StatusCode != http.StatusNotModified || !errors.Is(err, io.EOF) {
		t.Errorf("304: %v, %v", second, err)
	}

	// Budget 5: the 404, the 301 and its target, the 200 and the 304;
	// the 401 was not counted.
	_, resp, err := c.Users.CurrentUser()
	if !errors.As(err, &er) || resp.StatusCode != http.StatusTooManyRequests || resp.Header.Get("Retry-After") != "60" ||
		string(er.Body) != "Retry later\n" {
		t.Errorf("429: %v, %v", resp, err)
	}
}

func TestInsufficientScope(t *testing.T) {
	s, _ := corpusServer(t, gitlabtest.Options{Scopes: []string{"read_user"}})
	c := client(t, s, token)
	if _, _, err := c.Users.CurrentUser(); err != nil {
		t.Errorf("read_user cannot read /user: %v", err)
	}
	if _, _, err := c.PersonalAccessTokens.GetSinglePersonalAccessToken(); err != nil {
		t.Errorf("token self: %v", err)
	}
	_, _, err := c.Projects.GetProject(1000, nil)
	var er *gl.ErrorResponse
	if !errors.As(err, &er) || er.Response.StatusCode != 403 || !strings.Contains(er.Message, "insufficient_scope") {
		t.Errorf("403: %v", err)
	}
}

func TestMergeRequestsUpdatedAfter(t *testing.T) {
	s, zk := corpusServer(t, gitlabtest.Options{})
	c := client(t, s, token)
	all := zookeeper(t).PullRequests()
	cut := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	want := 0
	for _, p := range all {
		if !p.UpdatedAt.Before(cut) {
			want++
		}
	}
	// An open one updated later than everything.
	zk.UpsertMergeRequest(gitlabtest.MergeRequest{IID: 9000, Title: "PROJ-1 open", SourceBranch: "topic", SHA: zkMaster,
		CreatedAt: cut, UpdatedAt: time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)})
	want++

	opt := &gl.ListProjectMergeRequestsOptions{
		State: gl.Ptr("all"), Scope: gl.Ptr("all"), OrderBy: gl.Ptr("updated_at"), Sort: gl.Ptr("desc"),
		UpdatedAfter: &cut, ListOptions: gl.ListOptions{PerPage: 7},
	}
	var got []*gl.BasicMergeRequest
	for {
		page, resp, err := c.MergeRequests.ListProjectMergeRequests("apache/zookeeper", opt)
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, page...)
		if resp.TotalItems != int64(want) {
			t.Errorf("X-Total %d, want %d", resp.TotalItems, want)
		}
		if resp.NextPage == 0 {
			break
		}
		opt.Page = resp.NextPage
	}
	if len(got) != want || want < 2 {
		t.Fatalf("%d merge requests, want %d", len(got), want)
	}
	if got[0].IID != 9000 || got[0].State != "opened" || got[0].MergedAt != nil || got[0].DetailedMergeStatus != "mergeable" {
		t.Errorf("first = %+v", got[0])
	}
	for i, m := range got {
		if m.UpdatedAt.Before(cut) {
			t.Errorf("%d: updated %v before %v", m.IID, m.UpdatedAt, cut)
		}
		if i > 0 && m.UpdatedAt.After(*got[i-1].UpdatedAt) {
			t.Errorf("not sorted by updated_at desc at %d", i)
		}
	}
}
