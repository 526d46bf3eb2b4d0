package gitlab

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"slices"
	"testing"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
)

// Client offers the pull feed and, on purpose, not the push feed
// (last_activity_at is written at most once an hour; see feeds.go).
var _ indexer.PullFeed = (*Client)(nil)

func TestNoPushFeed(t *testing.T) {
	var src indexer.Source = (*Client)(nil)
	if _, ok := src.(indexer.PushFeed); ok {
		t.Error("the GitLab client implements PushFeed")
	}
}

func TestOwnerPullActivity(t *testing.T) {
	clock := fakeserver.NewClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))
	srv := start(t, gitlabtest.Options{Now: clock.Now})
	c := newClient(t, srv, nil, "")
	ctx := context.Background()
	api := srv.AddProject(gitlabtest.Project{ID: 11, Namespace: "platform", Path: "api"})
	svc := srv.AddProject(gitlabtest.Project{ID: 12, Namespace: "platform/backend", Path: "svc"})
	idle := srv.AddProject(gitlabtest.Project{ID: 13, Namespace: "platform", Path: "idle"})
	srv.AddProject(gitlabtest.Project{ID: 14, Namespace: "other", Path: "x"}).
		UpsertMergeRequest(gitlabtest.MergeRequest{IID: 1, Title: "ABC-9", SourceBranch: "x"})
	api.UpsertMergeRequest(gitlabtest.MergeRequest{IID: 1, Title: "ABC-1", SourceBranch: "a"})
	svc.UpsertMergeRequest(gitlabtest.MergeRequest{IID: 4, Title: "ABC-2", SourceBranch: "b"})
	idle.UpsertMergeRequest(gitlabtest.MergeRequest{IID: 2, Title: "ABC-3", SourceBranch: "c"})
	clock.Add(time.Hour)
	since := clock.Now()

	acts, err := c.OwnerPullActivity(ctx, "platform", since)
	if err != nil || len(acts) != 0 {
		t.Fatalf("nothing changed: %v %v", acts, err)
	}

	// A fork's merge request, a close without merge, a title edit.
	svc.UpsertMergeRequest(gitlabtest.MergeRequest{IID: 5, Title: "ABC-4 from a fork", SourceBranch: "patch-1", SourceProjectID: 99, Author: "outsider"})
	clock.Add(time.Minute)
	svc.EditMergeRequest(4, func(m *gitlabtest.MergeRequest) { m.State = gitlabtest.MergeRequestClosed })
	clock.Add(time.Minute)
	api.EditMergeRequest(1, func(m *gitlabtest.MergeRequest) { m.Title = "ABC-5 renamed" })

	srv.ResetRequests()
	acts, err = c.OwnerPullActivity(ctx, "platform", since)
	if err != nil {
		t.Fatal(err)
	}
	want := []providers.PullActivity{{RepoID: 11, FullName: "platform/api"}, {RepoID: 12, FullName: "platform/backend/svc"}}
	if !slices.Equal(acts, want) {
		t.Errorf("activity %+v, want %+v (newest first, each project once, subgroups included)", acts, want)
	}
	reqs := srv.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests; want one page", len(reqs))
	}
	q, _ := url.ParseQuery(reqs[0].RawQuery)
	if reqs[0].Path != "/api/v4/groups/platform/merge_requests" || q.Get("scope") != "all" || q.Get("state") != "all" ||
		q.Get("order_by") != "updated_at" || q.Get("sort") != "desc" || q.Get("per_page") != "100" {
		t.Errorf("request %s?%s", reqs[0].Path, reqs[0].RawQuery)
	}
	if after, err := time.Parse(time.RFC3339, q.Get("updated_after")); err != nil || !after.Equal(since.Add(-time.Second)) {
		t.Errorf("updated_after %q; want a second before %v", q.Get("updated_after"), since)
	}
}

func TestOwnerPullActivityPages(t *testing.T) {
	clock := fakeserver.NewClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))
	srv := start(t, gitlabtest.Options{Now: clock.Now})
	c := newClient(t, srv, nil, "")
	since := clock.Now()
	var ps []*gitlabtest.ProjectHandle
	for i := 0; i < 3; i++ {
		ps = append(ps, srv.AddProject(gitlabtest.Project{ID: int64(20 + i), Namespace: "g", Path: fmt.Sprintf("p%d", i)}))
	}
	for n := 1; n <= 250; n++ {
		ps[n%3].UpsertMergeRequest(gitlabtest.MergeRequest{IID: n, Title: "ABC-1", SourceBranch: fmt.Sprintf("b%d", n)})
	}
	acts, err := c.OwnerPullActivity(context.Background(), "g", since)
	if err != nil || len(acts) != 3 {
		t.Fatalf("250 merge requests: %+v %v", acts, err)
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("%d requests for 250 merge requests; want 3 pages", n)
	}
}

// The project's path comes from references.full, as in GitLab's own
// example of a merge request list item.
func TestMRProjectPathFromDocsExample(t *testing.T) {
	data, err := os.ReadFile("gitlabtest/testdata/docs-merge_requests.list.json")
	if err != nil {
		t.Fatal(err)
	}
	var mrs []*gl.BasicMergeRequest
	if err := json.Unmarshal(data, &mrs); err != nil {
		t.Fatal(err)
	}
	if got := mrProjectPath(mrs[0]); got != "my-group/my-project" || mrs[0].ProjectID != 3 {
		t.Errorf("path %q, project %d; want my-group/my-project, 3", got, mrs[0].ProjectID)
	}
	if got := mrProjectPath(&gl.BasicMergeRequest{}); got != "" {
		t.Errorf("no references: %q", got)
	}
}
