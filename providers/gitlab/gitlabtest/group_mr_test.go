package gitlabtest_test

import (
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
)

// GET /groups/:id/merge_requests lists the merge requests of the group's
// projects and its subgroups', skips archived projects unless
// non_archived=false, and filters, sorts and paginates like a project's.
func TestGroupMergeRequests(t *testing.T) {
	clock := fakeserver.NewClock(time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC))
	s := gitlabtest.Start(t, gitlabtest.Options{Token: token, Now: clock.Now})
	api := s.AddProject(gitlabtest.Project{ID: 1, Namespace: "platform", Path: "api"})
	deep := s.AddProject(gitlabtest.Project{ID: 2, Namespace: "platform/backend", Path: "svc"})
	old := s.AddProject(gitlabtest.Project{ID: 3, Namespace: "platform", Path: "old"})
	other := s.AddProject(gitlabtest.Project{ID: 4, Namespace: "other", Path: "x"})
	api.UpsertMergeRequest(gitlabtest.MergeRequest{IID: 1, Title: "ABC-1", SourceBranch: "a"})
	deep.UpsertMergeRequest(gitlabtest.MergeRequest{IID: 1, Title: "ABC-2", SourceBranch: "b", SourceProjectID: 99})
	old.UpsertMergeRequest(gitlabtest.MergeRequest{IID: 1, Title: "ABC-3", SourceBranch: "c"})
	other.UpsertMergeRequest(gitlabtest.MergeRequest{IID: 1, Title: "ABC-4", SourceBranch: "d"})
	old.Archive(true)
	clock.Add(time.Hour)
	since := clock.Now()
	if !deep.EditMergeRequest(1, func(m *gitlabtest.MergeRequest) { m.State = gitlabtest.MergeRequestClosed }) {
		t.Fatal("EditMergeRequest: no merge request 1")
	}
	clock.Add(time.Minute)
	api.EditMergeRequest(1, func(m *gitlabtest.MergeRequest) { m.Title = "ABC-5 renamed" })

	type item struct {
		ProjectID  int64 `json:"project_id"`
		State      string
		UpdatedAt  time.Time  `json:"updated_at"`
		ClosedAt   *time.Time `json:"closed_at"`
		References struct{ Full string }
	}
	list := func(path string) ([]item, http.Header) {
		r := get(t, s, path)
		if r.Status != 200 {
			t.Fatalf("GET %s: %d %s", path, r.Status, r.Body)
		}
		var items []item
		r.Decode(t, &items)
		return items, r.Header
	}
	refs := func(items []item) []string {
		var out []string
		for _, it := range items {
			out = append(out, it.References.Full)
		}
		return out
	}

	all, _ := list("groups/platform/merge_requests?scope=all&state=all")
	if got := refs(all); len(got) != 2 || !slices.Contains(got, "platform/backend/svc!1") {
		t.Errorf("group list %v; want the group's and its subgroup's, not the archived project's", got)
	}
	withArchived, _ := list("groups/platform/merge_requests?non_archived=false")
	if len(withArchived) != 3 {
		t.Errorf("non_archived=false: %v; want 3", refs(withArchived))
	}
	recent, h := list("groups/platform/merge_requests?scope=all&state=all&order_by=updated_at&sort=desc&per_page=1&updated_after=" + since.Format(time.RFC3339))
	if len(recent) != 1 || recent[0].References.Full != "platform/api!1" || h.Get("X-Total") != "2" || h.Get("X-Next-Page") != "2" {
		t.Errorf("updated since, newest first: %v, X-Total %q X-Next-Page %q", refs(recent), h.Get("X-Total"), h.Get("X-Next-Page"))
	}
	closed, _ := list("groups/platform/merge_requests?state=closed")
	if len(closed) != 1 || closed[0].ProjectID != 2 || closed[0].ClosedAt == nil || !closed[0].ClosedAt.Equal(since) {
		t.Errorf("closed: %+v", closed)
	}
	if r := get(t, s, "groups/platform/merge_requests?updated_after=yesterday"); r.Status != http.StatusBadRequest {
		t.Errorf("bad updated_after: %d, want 400", r.Status)
	}
	if r := get(t, s, "groups/nope/merge_requests"); r.Status != http.StatusNotFound {
		t.Errorf("unknown group: %d, want 404", r.Status)
	}
}
