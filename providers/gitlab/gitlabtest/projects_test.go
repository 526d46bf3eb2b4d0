package gitlabtest_test

import (
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
)

func TestNestedGroups(t *testing.T) {
	s := gitlabtest.Start(t, gitlabtest.Options{Token: token})
	backend := s.AddGroup("platform/backend")
	platform := s.AddGroup("Platform") // exists: case-insensitive, as created
	deep := s.AddGroup("platform/backend/db")
	if platform.ID != 100 || backend.ID != 101 || deep.ID != 102 || backend.ParentID != 100 || deep.ParentID != 101 ||
		platform.FullPath != "platform" || deep.FullPath != "platform/backend/db" || deep.Path != "db" {
		t.Fatalf("ids: %+v %+v %+v", platform, backend, deep)
	}
	s.AddProject(gitlabtest.Project{ID: 1, Namespace: "platform", Path: "top"})
	s.AddProject(gitlabtest.Project{ID: 2, Namespace: "platform/backend", Path: "api", Archived: true})
	s.AddProject(gitlabtest.Project{ID: 3, Namespace: "platform/backend/db", Path: "schema"})
	s.AddProject(gitlabtest.Project{ID: 4, Namespace: "other", Path: "x"})
	s.AddProject(gitlabtest.Project{ID: 5, Namespace: "jiralinkd-bot", Path: "mine"})
	c := client(t, s, token)

	ids := func(g any, opt *gl.ListGroupProjectsOptions) []int64 {
		t.Helper()
		ps, _, err := c.Groups.ListGroupProjects(g, opt)
		if err != nil {
			t.Fatal(err)
		}
		var out []int64
		for _, p := range ps {
			out = append(out, p.ID)
		}
		return out
	}
	tests := []struct {
		name  string
		group any
		opt   gl.ListGroupProjectsOptions
		want  []int64
	}{
		{"direct only", "platform", gl.ListGroupProjectsOptions{}, []int64{1}},
		{"with subgroups", "platform", gl.ListGroupProjectsOptions{IncludeSubGroups: gl.Ptr(true)}, []int64{3, 2, 1}},
		{"by id, asc", int64(101), gl.ListGroupProjectsOptions{IncludeSubGroups: gl.Ptr(true), OrderBy: gl.Ptr("id"), Sort: gl.Ptr("asc")}, []int64{2, 3}},
		{"not archived", "platform", gl.ListGroupProjectsOptions{IncludeSubGroups: gl.Ptr(true), Archived: gl.Ptr(false)}, []int64{3, 1}},
		{"archived", "platform", gl.ListGroupProjectsOptions{IncludeSubGroups: gl.Ptr(true), Archived: gl.Ptr(true)}, []int64{2}},
		{"nested path", "platform/backend/db", gl.ListGroupProjectsOptions{}, []int64{3}},
		{"by name", "platform", gl.ListGroupProjectsOptions{IncludeSubGroups: gl.Ptr(true), OrderBy: gl.Ptr("name"), Sort: gl.Ptr("asc")}, []int64{2, 3, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ids(tt.group, &tt.opt); !slices.Equal(got, tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}

	var simple []map[string]any
	get(t, s, "groups/platform%2Fbackend/projects?simple=true&include_subgroups=true").Decode(t, &simple)
	if len(simple) != 2 || simple[0]["namespace"] == nil || simple[0]["archived"] != nil || simple[0]["path_with_namespace"] != "platform/backend/db/schema" {
		t.Errorf("simple = %v", simple)
	}
	subs, _, err := c.Groups.ListSubGroups("platform", nil)
	if err != nil || len(subs) != 1 || subs[0].FullPath != "platform/backend" {
		t.Errorf("subgroups: %v, %v", subs, err)
	}
	g, _, err := c.Groups.GetGroup("platform/backend", nil)
	if err != nil || len(g.Projects) != 1 || g.Projects[0].ID != 2 {
		t.Errorf("group projects: %+v, %v", g, err)
	}
	mine, _, err := c.Projects.GetProject("jiralinkd-bot/mine", nil)
	if err != nil || mine.Namespace.Kind != "user" || mine.Owner == nil || mine.Owner.Username != "jiralinkd-bot" ||
		mine.WebURL != "https://gitlab.com/jiralinkd-bot/mine" {
		t.Errorf("user project: %+v, %v", mine, err)
	}
	all, _, err := c.Projects.ListProjects(&gl.ListProjectsOptions{OrderBy: gl.Ptr("id"), Sort: gl.Ptr("asc")})
	if err != nil || len(all) != 5 || all[0].ID != 1 {
		t.Errorf("ListProjects: %d, %v", len(all), err)
	}

	for _, p := range []string{"groups/nope", "groups/nope/projects", "groups/999"} {
		if got := get(t, s, p); got.Status != 404 || got.Message(t) != "404 Group Not Found" {
			t.Errorf("%s: %d %s", p, got.Status, got.Body)
		}
	}
	if got := get(t, s, "groups/platform/projects?include_subgroups=maybe"); got.Status != 400 {
		t.Errorf("bad boolean: %d", got.Status)
	}
}

func TestRenameRedirects(t *testing.T) {
	s := gitlabtest.Start(t, gitlabtest.Options{Token: token})
	h := s.AddProject(gitlabtest.Project{ID: 81, Namespace: "gitlab-org", Path: "old-path-project"})
	h.Rename("gitlab-org", "new-path")

	got := fakeserver.Do(t, fakeserver.NoRedirect(), http.MethodGet, s.URL()+"api/v4/projects/gitlab-org%2Fold-path-project/repository/branches?per_page=5", "PRIVATE-TOKEN: "+token)
	wantLoc := s.URL() + "api/v4/projects/81/repository/branches?per_page=5"
	if got.Status != http.StatusMovedPermanently || got.Header.Get("Location") != wantLoc {
		t.Fatalf("status %d Location %q, want 301 %s", got.Status, got.Header.Get("Location"), wantLoc)
	}
	// The body is Grape's redirect text, as GitLab documents it.
	doc, err := os.ReadFile("testdata/docs-redirect.txt")
	if err != nil {
		t.Fatal(err)
	}
	docBody := strings.TrimSpace(strings.Split(string(doc), "...\n")[2])
	if want := strings.Replace(docBody, "https://gitlab.example.com/api/v4/projects/81", wantLoc, 1) + "."; string(got.Body) != want ||
		got.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("body %q, want %q", got.Body, want)
	}

	// A following client lands on the project, under its id.
	var p struct {
		ID                int64
		PathWithNamespace string `json:"path_with_namespace"`
	}
	get(t, s, "projects/gitlab-org%2Fold-path-project").Decode(t, &p)
	if p.ID != 81 || p.PathWithNamespace != "gitlab-org/new-path" {
		t.Errorf("followed: %+v", p)
	}
	// A transfer: both former paths redirect; the new one answers.
	h.Rename("elsewhere/deep", "new-path")
	for _, old := range []string{"gitlab-org%2Fold-path-project", "gitlab-org%2Fnew-path"} {
		if r := fakeserver.Do(t, fakeserver.NoRedirect(), http.MethodGet, s.URL()+"api/v4/projects/"+old, "PRIVATE-TOKEN: "+token); r.Header.Get("Location") != s.URL()+"api/v4/projects/81" {
			t.Errorf("%s: %d %q", old, r.Status, r.Header.Get("Location"))
		}
	}
	if r := get(t, s, "projects/elsewhere%2Fdeep%2Fnew-path"); r.Status != 200 {
		t.Errorf("new path: %d", r.Status)
	}
	// A new project under a former path takes it over.
	s.AddProject(gitlabtest.Project{ID: 82, Namespace: "gitlab-org", Path: "old-path-project"})
	get(t, s, "projects/gitlab-org%2Fold-path-project").Decode(t, &p)
	if p.ID != 82 {
		t.Errorf("reused path serves %d", p.ID)
	}
	// Deleted: every name answers 404.
	s.DeleteProject(81)
	for _, path := range []string{"projects/81", "projects/elsewhere%2Fdeep%2Fnew-path", "projects/gitlab-org%2Fnew-path/repository/tags"} {
		if r := get(t, s, path); r.Status != 404 || r.Message(t) != "404 Project Not Found" {
			t.Errorf("%s: %d %s", path, r.Status, r.Body)
		}
	}
}

func TestForbiddenEndpoints(t *testing.T) {
	s, _ := corpusServer(t, gitlabtest.Options{})
	tests := []struct {
		method, path, accept string
		status               int
		route                string
	}{
		{"GET", "projects/1000/repository/files/README.md?ref=master", "", 200, "GET /projects/:id/repository/files/*path"},
		{"GET", "projects/1000/repository/files/src%2Fmain.c/raw?ref=master", "", 200, "GET /projects/:id/repository/files/*path"},
		{"GET", "projects/1000/repository/blobs/abc/raw", "", 200, "GET /projects/:id/repository/blobs/*rest"},
		{"GET", "projects/1000/repository/tree?recursive=true", "", 200, "GET /projects/:id/repository/tree"},
		{"GET", "projects/1000/repository/archive.zip", "", 200, "GET /projects/:id/repository/archive*"},
		{"GET", "projects/1000/repository/compare?from=a&to=b", "", 200, "GET /projects/:id/repository/compare"},
		{"GET", "projects/1000/repository/commits/" + zkMaster, "", 200, "GET /projects/:id/repository/commits/:sha"},
		{"GET", "projects/1000/repository/commits/" + zkMaster + "/diff", "", 200, "GET /projects/:id/repository/commits/:sha/diff"},
		{"GET", "projects/1000/repository/commits/" + zkMaster + "/refs", "", 200, "GET /projects/:id/repository/commits/:sha/*rest"},
		{"GET", "projects/1000/merge_requests/2415/changes", "", 200, "GET /projects/:id/merge_requests/:iid/changes"},
		{"GET", "projects/1000/merge_requests/2415/diffs", "", 200, "GET /projects/:id/merge_requests/:iid/diffs"},
		{"GET", "projects/1000/merge_requests/2415.diff", "", 404, "GET /projects/:id/merge_requests/:iid"},
		{"GET", "projects/1000/snippets", "", 200, "GET /projects/:id/snippets"},
		{"GET", "snippets/1/raw", "", 200, "GET /snippets/*rest"},
		{"GET", "projects/1000/repository/commits?with_stats=true&per_page=1", "", 200, "GET /projects/:id/repository/commits"},
		{"GET", "projects/1000/repository/commits?per_page=1", "application/vnd.github.diff", 200, "GET /projects/:id/repository/commits"},
		{"POST", "projects/1000/repository/branches?branch=x&ref=master", "", 403, "POST /projects/:id/repository/branches"},
		{"DELETE", "projects/1000", "", 403, "DELETE /projects/:id"},
		{"GET", "projects/1000/issues", "", 404, ""},
		{"GET", "projects/1000/jobs/5/trace", "", 200, "GET /projects/:id/jobs/:job/trace"},
		{"GET", "projects/1000/jobs/5/artifacts", "", 200, "GET /projects/:id/jobs/:job/artifacts*"},
		{"GET", "projects/1000/pipelines/5/jobs", "", 200, "GET /projects/:id/pipelines/:pipeline/jobs"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			s.ResetRequests()
			headers := []string{"PRIVATE-TOKEN: " + token}
			if tt.accept != "" {
				headers = append(headers, "Accept: "+tt.accept)
			}
			got := fakeserver.Do(t, http.DefaultClient, tt.method, s.URL()+"api/v4/"+tt.path, headers...)
			if got.Status != tt.status {
				t.Errorf("status %d, want %d: %s", got.Status, tt.status, got.Body)
			}
			r := s.Requests()
			if len(r) != 1 || !r[0].Forbidden || r[0].Route != tt.route {
				t.Errorf("recorded %+v", r)
			}
		})
	}
	s.ResetRequests()
	if web := fakeserver.Do(t, http.DefaultClient, http.MethodGet, s.URL()+"apache/zookeeper/-/commit/"+zkMaster+".patch"); web.Status != 404 {
		t.Errorf("web URL: %d", web.Status)
	}
	if f := s.ForbiddenRequests(); len(f) != 1 || f[0].Counted {
		t.Errorf("web URL recorded %+v", f)
	}
	// The metadata endpoints are not.
	s.ResetRequests()
	for _, p := range []string{"user", "version", "metadata", "personal_access_tokens/self", "groups/apache", "groups/apache/projects",
		"projects", "projects/1000", "projects/1000/repository/branches", "projects/1000/repository/branches/master",
		"projects/1000/repository/tags", "projects/1000/repository/tags/release-3.9.0", "projects/1000/repository/commits",
		"projects/1000/merge_requests", "projects/1000/merge_requests/2415"} {
		if r := get(t, s, p); r.Status != 200 {
			t.Errorf("%s: %d %s", p, r.Status, r.Body)
		}
	}
	if f := s.ForbiddenRequests(); len(f) != 0 {
		t.Errorf("metadata endpoints marked forbidden: %+v", f)
	}
}

func TestCommitListParameters(t *testing.T) {
	s, zk := corpusServer(t, gitlabtest.Options{})
	h := zookeeper(t)
	shas := func(query string) []string {
		t.Helper()
		r := get(t, s, "projects/1000/repository/commits?per_page=100&"+query)
		if r.Status != 200 {
			t.Fatalf("%s: %d %s", query, r.Status, r.Body)
		}
		var items []struct{ ID string }
		r.Decode(t, &items)
		var out []string
		for _, it := range items {
			out = append(out, it.ID)
		}
		return out
	}
	log := h.Log(zkMaster)
	if got := shas("ref_name=" + log[5] + "..master"); !slices.Equal(got, log[:5]) {
		t.Errorf("range: %v", got)
	}
	if got := shas("ref_name=" + zkMaster[:8]); !slices.Equal(got, log[:100]) {
		t.Errorf("short SHA: %d commits", len(got))
	}
	fp := shas("first_parent=true&ref_name=master")
	for i := 1; i < len(fp); i++ {
		if fakeserver.MustCommit(t, h, fp[i-1]).Parents[0] != fp[i] {
			t.Fatalf("first_parent broken at %d", i)
		}
	}
	since := fakeserver.MustCommit(t, h, log[3]).CommitterDate
	if got := shas("since=" + since.UTC().Format("2006-01-02T15:04:05Z")); len(got) < 4 || slices.ContainsFunc(got, func(sha string) bool {
		return fakeserver.MustCommit(t, h, sha).CommitterDate.Before(since)
	}) {
		t.Errorf("since: %d commits", len(got))
	}
	if got := shas("ref_name=no-such-branch"); len(got) != 0 {
		t.Errorf("unknown ref: %v", got)
	}
	if r := get(t, s, "projects/1000/repository/commits?since=yesterday"); r.Status != 400 {
		t.Errorf("bad since: %d", r.Status)
	}
	// A new commit on a new branch.
	c := fakeserver.MustCommit(t, h, zkMaster)
	c.SHA, c.Parents, c.Message = "", []string{zkMaster}, strings.Repeat("word ", 30)+"\n\nBody.\n\nReviewed-by: A <a@x>\nCc: B <b@x>\nCc: C <c@x>"
	sha := zk.AddCommit(c)
	zk.SetBranch("feature/PROJ-1", sha)
	r := get(t, s, "projects/1000/repository/commits?ref_name=feature%2FPROJ-1&per_page=1&trailers=true")
	var items []struct {
		ID, Title        string
		Trailers         map[string]string
		ExtendedTrailers map[string][]string `json:"extended_trailers"`
	}
	r.Decode(t, &items)
	// Titles of 100 characters and more are cut as GitLab's Commit#title does.
	wantTitle := strings.TrimSpace(strings.Repeat("word ", 16)) + "…"
	if len(items) != 1 || items[0].ID != sha || items[0].Title != wantTitle || items[0].Trailers["Cc"] != "C <c@x>" ||
		!slices.Equal(items[0].ExtendedTrailers["Cc"], []string{"B <b@x>", "C <c@x>"}) || items[0].Trailers["Reviewed-by"] != "A <a@x>" {
		t.Errorf("new commit = %+v", items)
	}
	// Without trailers=true both maps are empty.
	if r := get(t, s, "projects/1000/repository/commits?ref_name=feature%2FPROJ-1&per_page=1"); !strings.Contains(string(r.Body), `"trailers":{},"extended_trailers":{}`) {
		t.Errorf("trailers without trailers=true: %s", r.Body)
	}
}

func TestTagsAndBranches(t *testing.T) {
	s, zk := corpusServer(t, gitlabtest.Options{})
	names := func(path string) []string {
		t.Helper()
		var items []struct{ Name string }
		get(t, s, path).Decode(t, &items)
		var out []string
		for _, it := range items {
			out = append(out, it.Name)
		}
		return out
	}
	byVersion := names("projects/1000/repository/tags?order_by=version&sort=desc&per_page=3&search=release-3.9")
	if len(byVersion) != 3 || byVersion[0] != "release-3.9.5-0" || byVersion[1] != "release-3.9.5" {
		t.Errorf("by version: %v", byVersion)
	}
	if got := names("projects/1000/repository/tags?order_by=name&sort=asc&per_page=2"); len(got) != 2 || got[0] > got[1] {
		t.Errorf("by name: %v", got)
	}
	if got := names("projects/1000/repository/branches?search=^branch-3.8"); !slices.Equal(got, []string{"branch-3.8"}) {
		t.Errorf("search: %v", got)
	}
	var master struct {
		Merged, Default, Protected bool
	}
	get(t, s, "projects/1000/repository/branches/master").Decode(t, &master)
	if !master.Default || !master.Protected || master.Merged {
		t.Errorf("master = %+v", master)
	}
	zk.SetBranch("feature/a", "5d6ad7995c5faa6ec6ea7d543e1691668f2570ba")
	var feature struct{ Merged bool }
	get(t, s, "projects/1000/repository/branches/feature%2Fa").Decode(t, &feature)
	if !feature.Merged {
		t.Error("branch inside master not merged")
	}
	if r := get(t, s, "projects/1000/repository/branches/nope"); r.Status != 404 || r.Message(t) != "404 Branch Not Found" {
		t.Errorf("missing branch: %d %s", r.Status, r.Body)
	}
	zk.DeleteTag("release-3.9.0")
	if r := get(t, s, "projects/1000/repository/tags/release-3.9.0"); r.Status != 404 || r.Message(t) != "404 Tag Not Found" {
		t.Errorf("deleted tag: %d %s", r.Status, r.Body)
	}
}

func TestConcurrentMutation(t *testing.T) {
	s, zk := corpusServer(t, gitlabtest.Options{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 10 {
				r := get(t, s, fmt.Sprintf("projects/1000/repository/branches?page=%d", j%2+1))
				if r.Status != 200 {
					t.Errorf("status %d", r.Status)
				}
				get(t, s, "projects/1000/merge_requests?per_page=5")
			}
		})
		wg.Go(func() {
			for j := range 10 {
				zk.SetBranch(fmt.Sprintf("w%d-%d", i, j), zkMaster)
				zk.UpsertMergeRequest(gitlabtest.MergeRequest{IID: 10_000 + i*100 + j, Title: "t", SourceBranch: "b"})
			}
		})
	}
	wg.Wait()
	var branches []struct{ Name string }
	get(t, s, "projects/1000/repository/branches?per_page=100").Decode(t, &branches)
	if len(branches) != 22+40 {
		t.Errorf("%d branches after concurrent pushes", len(branches))
	}
}

func TestMutations(t *testing.T) {
	s := gitlabtest.Start(t, gitlabtest.Options{Token: token})
	h := s.AddProject(gitlabtest.Project{ID: 5, Namespace: "acme", Path: "api"})
	sha := h.AddCommit(rootCommit(t))
	h.SetBranch("main", sha)
	h.SetBranch("feature/PROJ-7", sha)
	h.UpsertMergeRequest(gitlabtest.MergeRequest{IID: 1, Title: "PROJ-7 first", SourceBranch: "feature/PROJ-7", SHA: sha, Draft: true})
	h.UpsertMergeRequest(gitlabtest.MergeRequest{IID: 1, Title: "PROJ-7 merged", SourceBranch: "feature/PROJ-7", SHA: sha,
		State: gitlabtest.MergeRequestMerged, MergeCommitSHA: sha})
	h.UpsertMergeRequest(gitlabtest.MergeRequest{IID: 2, Title: "closed", SourceBranch: "x", State: gitlabtest.MergeRequestClosed})
	h.DeleteBranch("feature/PROJ-7")
	h.Archive(true)

	c := client(t, s, token)
	m, _, err := c.MergeRequests.GetMergeRequest(5, 1, nil)
	if err != nil || m.Title != "PROJ-7 merged" || m.State != "merged" || m.MergeCommitSHA != sha || m.TargetBranch != "main" ||
		m.Author.Username != "jiralinkd-bot" || m.MergedAt == nil || m.ClosedAt != nil || m.DiffRefs.HeadSha != sha {
		t.Errorf("GetMergeRequest = %+v, %v", m, err)
	}
	if _, _, err := c.MergeRequests.GetMergeRequest(5, 3, nil); err == nil {
		t.Error("missing merge request found")
	}
	closed, _, err := c.MergeRequests.ListProjectMergeRequests(5, &gl.ListProjectMergeRequestsOptions{State: gl.Ptr("closed"), View: gl.Ptr("simple")})
	if err != nil || len(closed) != 1 || closed[0].IID != 2 || closed[0].Author != nil {
		t.Errorf("closed, simple view: %+v, %v", closed, err)
	}
	branches, _, err := c.Branches.ListBranches(5, nil)
	if err != nil || len(branches) != 1 || branches[0].Name != "main" {
		t.Errorf("branches: %+v, %v", branches, err)
	}
	p, _, err := c.Projects.GetProject("acme/api", nil)
	if err != nil || !p.Archived || p.EmptyRepo {
		t.Errorf("project: %+v, %v", p, err)
	}
	if r := fakeserver.Do(t, http.DefaultClient, http.MethodHead, s.URL()+"api/v4/projects/5", "PRIVATE-TOKEN: "+token); r.Status != 200 || len(r.Body) != 0 {
		t.Errorf("HEAD: %d %q", r.Status, r.Body)
	}
}
