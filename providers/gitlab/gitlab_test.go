package gitlab

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"

	gl "gitlab.com/gitlab-org/api/client-go"
)

const token = "glpat-provider-test-token"

type sleeps struct {
	mu sync.Mutex
	d  []time.Duration
}

func (s *sleeps) sleep(_ context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.d = append(s.d, d)
	return nil
}

// start runs a fake GitLab with a budget large enough that client-go's own
// pacing (derived from RateLimit-Limit) does not slow the tests down.
func start(t *testing.T, opts gitlabtest.Options) *gitlabtest.Server {
	if opts.Token == "" {
		opts.Token = token
	}
	if opts.RateLimit == 0 {
		opts.RateLimit = 1_000_000
	}
	return gitlabtest.Start(t, opts)
}

func newClient(t *testing.T, srv *gitlabtest.Server, sl *sleeps, tok string) *Client {
	t.Helper()
	if sl == nil {
		sl = &sleeps{}
	}
	if tok == "" {
		tok = token
	}
	c, err := New(Options{Name: "gitlab", BaseURL: srv.URL(), Token: tok, Retry: httpx.RetryOptions{Sleep: sl.sleep}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func oneCommit() (*corpus.Builder, string) {
	b := corpus.NewBuilder()
	return b, b.Commit(nil, "ABC-1 root", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
}

func TestBranchesConditionalAcrossPages(t *testing.T) {
	for _, n := range []int{250, 200} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			b, sha := oneCommit()
			for i := 0; i < n; i++ {
				b.Branch(fmt.Sprintf("b%03d", i), sha)
			}
			srv := start(t, gitlabtest.Options{})
			h := srv.AddCorpusProject("platform", "api", 7, b.Build())
			c := newClient(t, srv, nil, "")
			repo := providers.Repo{ID: 7, FullName: "platform/api"}
			ctx := context.Background()
			l, err := c.Branches(ctx, repo, providers.ListState{})
			if err != nil || len(l.Items) != n || l.Items[0].HeadSHA != sha {
				t.Fatalf("got %d branches, %v", len(l.Items), err)
			}
			if want := n/100 + 1; len(l.State.ETags) != want {
				t.Errorf("%d ETags, want %d", len(l.State.ETags), want)
			}
			srv.ResetRequests()
			l2, err := c.Branches(ctx, repo, l.State)
			if err != nil || !l2.Unchanged {
				t.Fatalf("unchanged listing: %+v %v", l2.Unchanged, err)
			}
			for _, r := range srv.Requests() {
				if r.Status != http.StatusNotModified {
					t.Errorf("unchanged listing got %d for %s", r.Status, r.RawQuery)
				}
			}
			h.SetBranch("zzz-new", sha)
			l3, err := c.Branches(ctx, repo, l.State)
			if err != nil || l3.Unchanged || len(l3.Items) != n+1 {
				t.Errorf("new last branch missed: unchanged=%v items=%d err=%v", l3.Unchanged, len(l3.Items), err)
			}
		})
	}
}

func TestCommitsInLogOrderStopAndGuard(t *testing.T) {
	hist, err := corpus.ZooKeeper()
	if err != nil {
		t.Fatal(err)
	}
	srv := start(t, gitlabtest.Options{})
	srv.AddCorpusProject("apache", "zookeeper", 9, hist)
	c := newClient(t, srv, nil, "")
	master, _ := hist.Branch("master")
	want := hist.Log(master.SHA)
	var got []providers.Commit
	err = c.Commits(context.Background(), providers.Repo{ID: 9, FullName: "apache/zookeeper"}, master.SHA, 1, func(cm providers.Commit, _ int) (bool, error) {
		got = append(got, cm)
		return len(got) == 250, nil
	})
	if err != nil || len(got) != 250 {
		t.Fatalf("%d commits, %v", len(got), err)
	}
	for i := range got {
		if got[i].SHA != want[i] {
			t.Fatalf("commit %d = %s, want %s", i, got[i].SHA, want[i])
		}
	}
	orig, _ := hist.Commit(got[3].SHA)
	if got[3].Message != orig.Message || len(got[3].Parents) != len(orig.Parents) || !got[3].AuthorDate.Equal(orig.AuthorDate) || !strings.Contains(got[3].HTMLURL, got[3].SHA) {
		t.Errorf("commit not converted faithfully: %+v", got[3])
	}
	if n := len(srv.Requests()); n != 3 {
		t.Errorf("250 commits took %d requests, want 3 pages", n)
	}
	// The guard refuses source endpoints without sending them.
	srv.ResetRequests()
	for _, path := range []string{"projects/9/repository/files/README.md", "projects/9/repository/commits/" + master.SHA + "/diff", "projects/9/merge_requests/1/changes"} {
		_, _, _, err := getPage(context.Background(), c, path, func(page int64, o ...gl.RequestOptionFunc) ([]map[string]any, *gl.Response, error) {
			req, err := c.gl.NewRequest(http.MethodGet, path, nil, o)
			if err != nil {
				return nil, nil, err
			}
			var v []map[string]any
			resp, err := c.gl.Do(req, &v)
			return v, resp, err
		}, 1, "")
		if !errors.Is(err, providers.ErrForbiddenEndpoint) {
			t.Errorf("%s: want ErrForbiddenEndpoint, got %v", path, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d refused requests reached the server", n)
	}
}

func TestMergeRequestsUpdatedAfterAndConditional(t *testing.T) {
	b, sha := oneCommit()
	b.Branch("main", sha)
	srv := start(t, gitlabtest.Options{})
	h := srv.AddCorpusProject("platform", "api", 3, b.Build())
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= 120; i++ {
		h.UpsertMergeRequest(gitlabtest.MergeRequest{IID: i, Title: fmt.Sprintf("ABC-%d change", i), Author: "dev", SourceBranch: "feature/abc-" + strconv.Itoa(i), TargetBranch: "main", SHA: sha,
			State: gitlabtest.MergeRequestOpened, CreatedAt: t0, UpdatedAt: t0.Add(time.Duration(i) * time.Minute)})
	}
	h.UpsertMergeRequest(gitlabtest.MergeRequest{IID: 121, Title: "merged", Author: "dev", SourceBranch: "x", TargetBranch: "main", SHA: sha, State: gitlabtest.MergeRequestMerged,
		CreatedAt: t0, UpdatedAt: t0.Add(200 * time.Minute), MergedAt: t0.Add(200 * time.Minute)})
	c := newClient(t, srv, nil, "")
	repo := providers.Repo{ID: 3, FullName: "platform/api"}
	ctx := context.Background()
	var seen []providers.PullRequest
	st, unchanged, err := c.PullRequests(ctx, repo, time.Time{}, providers.ListState{}, func(p providers.PullRequest) (bool, error) {
		seen = append(seen, p)
		return false, nil
	})
	if err != nil || unchanged || len(seen) != 121 {
		t.Fatalf("%d MRs unchanged=%v err=%v", len(seen), unchanged, err)
	}
	if seen[0].Number != 121 || seen[0].State != providers.PullRequestMerged || seen[1].HeadBranch != "feature/abc-120" || seen[1].Author != "dev" {
		t.Errorf("first MRs: %+v %+v", seen[0], seen[1])
	}
	_, unchanged, err = c.PullRequests(ctx, repo, time.Time{}, st, func(providers.PullRequest) (bool, error) { return true, nil })
	if err != nil || !unchanged {
		t.Errorf("unchanged MR list: %v %v", unchanged, err)
	}
	// A moved watermark is another query: its first answer is a 200, then
	// the same query is conditional again.
	st2, unchanged, err := c.PullRequests(ctx, repo, t0.Add(200*time.Minute), st, func(providers.PullRequest) (bool, error) { return false, nil })
	if err != nil || unchanged {
		t.Errorf("new query answered as unchanged: %v %v", unchanged, err)
	}
	if _, unchanged, _ = c.PullRequests(ctx, repo, t0.Add(200*time.Minute), st2, func(providers.PullRequest) (bool, error) { return false, nil }); !unchanged {
		t.Error("same query not conditional")
	}
	// updated_after narrows the list on the server: one page only.
	h.UpsertMergeRequest(gitlabtest.MergeRequest{IID: 5, Title: "ABC-5 reworded", Author: "dev", SourceBranch: "feature/abc-5", TargetBranch: "main", SHA: sha, State: gitlabtest.MergeRequestClosed,
		CreatedAt: t0, UpdatedAt: t0.Add(300 * time.Minute)})
	srv.ResetRequests()
	var after []int
	_, _, err = c.PullRequests(ctx, repo, t0.Add(200*time.Minute), st, func(p providers.PullRequest) (bool, error) {
		after = append(after, p.Number)
		return false, nil
	})
	if err != nil || len(after) != 2 || after[0] != 5 || after[1] != 121 {
		t.Errorf("after update: %v %v", after, err)
	}
	if q := srv.Requests(); len(q) != 1 || !strings.Contains(q[0].RawQuery, "updated_after=") {
		t.Errorf("requests: %+v", q)
	}
}

func TestGroupsRenameErrorsAndScopes(t *testing.T) {
	b, sha := oneCommit()
	b.Branch("main", sha)
	srv := start(t, gitlabtest.Options{Scopes: []string{"read_api"}})
	srv.AddCorpusProject("platform", "api", 10, b.Build())
	srv.AddCorpusProject("platform/backend", "svc", 11, b.Build())
	srv.AddProject(gitlabtest.Project{ID: 12, Namespace: "platform", Path: "old", Archived: true})
	c := newClient(t, srv, nil, "")
	ctx := context.Background()

	l, err := c.OwnerRepos(ctx, "platform", providers.ListState{})
	if err != nil || len(l.Items) != 3 {
		t.Fatalf("group projects incl. subgroups: %+v %v", l.Items, err)
	}
	names := map[string]bool{}
	for _, r := range l.Items {
		names[r.FullName] = true
	}
	if !names["platform/backend/svc"] || !names["platform/old"] {
		t.Errorf("projects: %v", names)
	}
	own, _ := New(Options{Name: "gitlab", BaseURL: srv.URL(), Token: token, ExcludeSubgroups: true, Retry: httpx.RetryOptions{Sleep: (&sleeps{}).sleep}})
	if l, err := own.OwnerRepos(ctx, "platform", providers.ListState{}); err != nil || len(l.Items) != 2 {
		t.Errorf("without subgroups: %+v %v", l.Items, err)
	}
	r, err := c.Repo(ctx, "platform/api", providers.ListState{})
	if err != nil || r.Items[0].ID != 10 || r.Items[0].DefaultBranch != "main" || !strings.HasSuffix(r.Items[0].HTMLURL, "/platform/api") {
		t.Fatalf("project: %+v %v", r.Items, err)
	}
	if _, err := c.Repo(ctx, "platform/nope", providers.ListState{}); !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("missing project: %v", err)
	}
	if err := c.Group(ctx, "platform/backend"); err != nil {
		t.Errorf("group: %v", err)
	}
	user, scopes, err := c.Whoami(ctx)
	if err != nil || user == "" || len(scopes) != 1 || scopes[0] != "read_api" {
		t.Errorf("whoami: %q %v %v", user, scopes, err)
	}
	if _, _, err := newClient(t, srv, nil, "wrong").Whoami(ctx); !errors.Is(err, providers.ErrUnauthorized) {
		t.Errorf("wrong token: %v", err)
	}
	if v, err := c.Version(ctx); err != nil || v == "" {
		t.Errorf("version: %q %v", v, err)
	}
}

func TestRateLimit429IsWaitedOut(t *testing.T) {
	b, sha := oneCommit()
	b.Branch("main", sha)
	srv := start(t, gitlabtest.Options{})
	srv.AddCorpusProject("platform", "api", 3, b.Build())
	sl := &sleeps{}
	c := newClient(t, srv, sl, "")
	srv.FailNext("GET /projects/:id/repository/tags", 1, http.StatusTooManyRequests, http.Header{"Retry-After": {"11"}}, "Retry later\n")
	if _, err := c.Tags(context.Background(), providers.Repo{ID: 3, FullName: "platform/api"}, providers.ListState{}); err != nil {
		t.Fatal(err)
	}
	if len(sl.d) != 1 || sl.d[0] != 11*time.Second {
		t.Errorf("waits %v, want [11s]", sl.d)
	}
}

// TestRefURLIsGitLabsWebURL: a ref links where GitLab's branch API says the
// branch lives ({project}/-/tree/{name}), checked against GitLab's
// documented example and the fake's branches; merge requests are labelled
// with their own reference ("MR !N").
func TestRefURLIsGitLabsWebURL(t *testing.T) {
	b, sha := oneCommit()
	b.Branch("main", sha)
	b.Branch("feature/abc-1 x", sha)
	srv := start(t, gitlabtest.Options{})
	h := srv.AddCorpusProject("platform", "api", 3, b.Build())
	h.UpsertMergeRequest(gitlabtest.MergeRequest{IID: 96, Title: "ABC-1 change", Author: "dev", SourceBranch: "feature/abc-1 x", TargetBranch: "main", SHA: sha,
		State: gitlabtest.MergeRequestOpened, CreatedAt: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC), UpdatedAt: time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)})
	c := newClient(t, srv, nil, "")
	ctx := context.Background()
	l, err := c.Repo(ctx, "platform/api", providers.ListState{})
	if err != nil {
		t.Fatal(err)
	}
	repo := l.Items[0]
	bs, _, err := c.gl.Branches.ListBranches(3, nil)
	if err != nil || len(bs) != 2 {
		t.Fatalf("branches: %v %v", bs, err)
	}
	for _, br := range bs {
		if got := c.RefURL(repo, br.Name); got != br.WebURL {
			t.Errorf("RefURL(%q) = %q, GitLab says %q", br.Name, got, br.WebURL)
		}
	}

	var docs []gl.Branch
	loadJSON(t, "gitlabtest/testdata/docs-branches.list.json", &docs)
	docRepo := providers.Repo{HTMLURL: "https://gitlab.example.com/my-group/my-project"}
	if got := c.RefURL(docRepo, docs[0].Name); got != docs[0].WebURL {
		t.Errorf("RefURL = %q, GitLab's documented web_url %q", got, docs[0].WebURL)
	}

	var labels []string
	_, _, err = c.PullRequests(ctx, repo, time.Time{}, providers.ListState{}, func(p providers.PullRequest) (bool, error) {
		labels = append(labels, p.Label)
		return false, nil
	})
	if err != nil || len(labels) != 1 || labels[0] != "MR !96" {
		t.Errorf("labels = %q, %v; want [MR !96]", labels, err)
	}
	if got := convertMergeRequest(&gl.BasicMergeRequest{IID: 7}).Label; got != "MR !7" {
		t.Errorf("label without references = %q", got)
	}
}

// TestLookupByID: an indexed project is read by its numeric id, so a
// rename is followed; a deleted project is not found.
func TestLookupByID(t *testing.T) {
	b, sha := oneCommit()
	b.Branch("main", sha)
	srv := start(t, gitlabtest.Options{})
	h := srv.AddCorpusProject("platform", "api", 3, b.Build())
	c := newClient(t, srv, nil, "")
	ctx := context.Background()
	stored := providers.Repo{ID: 3, FullName: "platform/api"}
	h.Rename("platform", "api2")
	if r, err := c.Lookup(ctx, stored); err != nil || r.ID != 3 || r.FullName != "platform/api2" {
		t.Errorf("renamed: %+v %v", r, err)
	}
	srv.DeleteProject(3)
	if _, err := c.Lookup(ctx, stored); !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("deleted: %v, want ErrNotFound", err)
	}
}

func loadJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatal(err)
	}
}
