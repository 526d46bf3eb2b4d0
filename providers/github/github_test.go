package github

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"testing"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

const token = "ghp_provider_test_token"

// sleeps records the waits the retry transport asked for instead of
// sleeping.
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

func newClient(t *testing.T, srv *githubtest.Server, sl *sleeps) *Client {
	t.Helper()
	if sl == nil {
		sl = &sleeps{}
	}
	c, err := New(Options{Name: "github", BaseURL: srv.URL(), Token: token, Retry: httpx.RetryOptions{Sleep: sl.sleep}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// oneCommit is a history with a single root commit.
func oneCommit() (*corpus.Builder, string) {
	b := corpus.NewBuilder()
	sha := b.Commit(nil, "ABC-1 root", time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	return b, sha
}

func countedAnd304(reqs []githubtest.Request) (counted, notModified int) {
	for _, r := range reqs {
		if r.Counted {
			counted++
		}
		if r.Status == http.StatusNotModified {
			notModified++
		}
	}
	return
}

func TestBranchesConditionalAcrossPages(t *testing.T) {
	for _, n := range []int{250, 200} { // a partial last page; an exactly full one
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			b, sha := oneCommit()
			for i := 0; i < n; i++ {
				b.Branch(fmt.Sprintf("b%03d", i), sha)
			}
			srv := githubtest.Start(t, githubtest.Options{Token: token})
			h := srv.AddCorpusRepo("acme", "api", 1, b.Build())
			c := newClient(t, srv, nil)
			repo := providers.Repo{ID: 1, FullName: "acme/api"}
			ctx := context.Background()

			l, err := c.Branches(ctx, repo, providers.ListState{})
			if err != nil {
				t.Fatal(err)
			}
			if len(l.Items) != n || l.Unchanged || l.Items[0].HeadSHA != sha {
				t.Fatalf("got %d branches (unchanged=%v)", len(l.Items), l.Unchanged)
			}
			if want := n/100 + 1; len(l.State.ETags) != want {
				t.Errorf("ETags for %d pages, want %d (incl. probe of the page after a full one)", len(l.State.ETags), want)
			}

			// Unchanged: every page answers 304, nothing counted.
			srv.ResetRequests()
			l2, err := c.Branches(ctx, repo, l.State)
			if err != nil || !l2.Unchanged || l2.Items != nil {
				t.Fatalf("second listing: unchanged=%v err=%v", l2.Unchanged, err)
			}
			if counted, nm := countedAnd304(srv.Requests()); counted != 0 || nm != len(l.State.ETags) {
				t.Errorf("unchanged listing: %d counted, %d 304s", counted, nm)
			}

			// A branch sorting last lands on the last page, or on a new
			// page after a full one: both must be noticed.
			h.SetBranch("zzz-new", sha)
			l3, err := c.Branches(ctx, repo, l.State)
			if err != nil {
				t.Fatal(err)
			}
			if l3.Unchanged || len(l3.Items) != n+1 || l3.Items[n].Name != "zzz-new" {
				t.Errorf("new branch missed: unchanged=%v items=%d", l3.Unchanged, len(l3.Items))
			}
		})
	}
}

func TestCommitsStreamInLogOrderAndStop(t *testing.T) {
	hist, err := corpus.ZooKeeper()
	if err != nil {
		t.Fatal(err)
	}
	srv := githubtest.Start(t, githubtest.Options{Token: token})
	srv.AddCorpusRepo("apache", "zookeeper", 2, hist)
	c := newClient(t, srv, nil)
	var master string
	for _, b := range hist.Branches() {
		if b.Name == "master" {
			master = b.SHA
		}
	}
	want := hist.Log(master)
	var got []providers.Commit
	err = c.Commits(context.Background(), providers.Repo{ID: 2, FullName: "apache/zookeeper"}, master, 1, func(cm providers.Commit, _ int) (bool, error) {
		got = append(got, cm)
		return len(got) == 150, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 150 {
		t.Fatalf("got %d commits, want 150", len(got))
	}
	for i, cm := range got {
		if cm.SHA != want[i] {
			t.Fatalf("commit %d = %s, want %s", i, cm.SHA, want[i])
		}
	}
	orig, _ := hist.Commit(got[0].SHA)
	if got[0].Message != orig.Message || got[0].AuthorName != orig.AuthorName || !got[0].AuthorDate.Equal(orig.AuthorDate) ||
		len(got[0].Parents) != len(orig.Parents) || got[0].HTMLURL != "https://github.com/apache/zookeeper/commit/"+got[0].SHA {
		t.Errorf("commit not converted faithfully: %+v", got[0])
	}
	if n := len(srv.Requests()); n != 2 {
		t.Errorf("stopping after 150 commits took %d requests, want 2 pages", n)
	}
}

func TestPullRequestsConditionalAndWatermark(t *testing.T) {
	b, sha := oneCommit()
	b.Branch("main", sha)
	srv := githubtest.Start(t, githubtest.Options{Token: token})
	h := srv.AddCorpusRepo("acme", "api", 3, b.Build())
	t0 := time.Date(2024, 3, 1, 0, 0, 0, 0, time.UTC)
	for i := 1; i <= 130; i++ {
		h.UpsertPull(githubtest.PullRequest{Number: i, Title: fmt.Sprintf("ABC-%d change", i), User: "dev", HeadRef: "feature/x", HeadSHA: sha,
			State: githubtest.PullOpen, CreatedAt: t0, UpdatedAt: t0.Add(time.Duration(i) * time.Minute)})
	}
	h.UpsertPull(githubtest.PullRequest{Number: 131, Title: "merged", User: "dev", HeadRef: "abc-9", HeadSHA: sha, State: githubtest.PullClosed, Merged: true,
		CreatedAt: t0, UpdatedAt: t0.Add(200 * time.Minute)})
	c := newClient(t, srv, nil)
	repo := providers.Repo{ID: 3, FullName: "acme/api"}
	ctx := context.Background()

	var seen []providers.PullRequest
	st, unchanged, err := c.PullRequests(ctx, repo, time.Time{}, providers.ListState{}, func(p providers.PullRequest) (bool, error) {
		seen = append(seen, p)
		return false, nil
	})
	if err != nil || unchanged || len(seen) != 131 {
		t.Fatalf("first listing: %d pulls, unchanged=%v, err=%v", len(seen), unchanged, err)
	}
	if seen[0].Number != 131 || seen[0].State != providers.PullRequestMerged || !seen[0].State.Resolved() || seen[0].HeadBranch != "abc-9" {
		t.Errorf("newest first, merged converted: %+v", seen[0])
	}
	if seen[1].Number != 130 || seen[1].State != providers.PullRequestOpen || seen[1].HTMLURL != "https://github.com/acme/api/pull/130" {
		t.Errorf("second: %+v", seen[1])
	}

	srv.ResetRequests()
	_, unchanged, err = c.PullRequests(ctx, repo, time.Time{}, st, func(providers.PullRequest) (bool, error) {
		t.Error("callback on an unchanged list")
		return true, nil
	})
	if err != nil || !unchanged {
		t.Fatalf("unchanged listing: unchanged=%v err=%v", unchanged, err)
	}
	if counted, _ := countedAnd304(srv.Requests()); counted != 0 {
		t.Errorf("unchanged PR listing counted %d calls", counted)
	}

	// An update moves a request to the top of page one; the caller stops
	// at its watermark after it.
	h.UpsertPull(githubtest.PullRequest{Number: 5, Title: "ABC-5 reworded", User: "dev", HeadRef: "feature/x", HeadSHA: sha, State: githubtest.PullClosed,
		CreatedAt: t0, UpdatedAt: t0.Add(300 * time.Minute)})
	srv.ResetRequests()
	var after []int
	_, unchanged, err = c.PullRequests(ctx, repo, time.Time{}, st, func(p providers.PullRequest) (bool, error) {
		if p.UpdatedAt.Before(t0.Add(200 * time.Minute)) {
			return true, nil
		}
		after = append(after, p.Number)
		return false, nil
	})
	if err != nil || unchanged || len(after) != 2 || after[0] != 5 || after[1] != 131 {
		t.Errorf("after update: %v unchanged=%v err=%v", after, unchanged, err)
	}
	if n := len(srv.Requests()); n != 1 {
		t.Errorf("watermark stop took %d requests, want 1", n)
	}
}

func TestReposDiscoveryRenameAndErrors(t *testing.T) {
	b, sha := oneCommit()
	b.Branch("main", sha)
	srv := githubtest.Start(t, githubtest.Options{Token: token})
	srv.AddOrg("acme")
	h := srv.AddRepo(githubtest.Repo{ID: 10, Owner: "acme", Name: "api", OwnerIsOrg: true})
	srv.AddRepo(githubtest.Repo{ID: 11, Owner: "acme", Name: "old", OwnerIsOrg: true, Archived: true})
	c := newClient(t, srv, nil)
	ctx := context.Background()

	l, err := c.OwnerRepos(ctx, "acme", providers.ListState{})
	if err != nil || len(l.Items) != 2 {
		t.Fatalf("org repos: %v %v", l.Items, err)
	}
	if l.Items[0].FullName != "acme/api" || l.Items[0].ID != 10 || l.Items[0].HTMLURL != "https://github.com/acme/api" || !l.Items[1].Archived {
		t.Errorf("repos converted wrongly: %+v", l.Items)
	}
	r, err := c.Repo(ctx, "acme/api", providers.ListState{})
	if err != nil {
		t.Fatal(err)
	}
	r2, err := c.Repo(ctx, "acme/api", r.State)
	if err != nil || !r2.Unchanged {
		t.Errorf("repo not conditional: %+v %v", r2, err)
	}

	// Renamed: the old name redirects (301) to the same id, new name.
	h.Rename("acme", "api2")
	r3, err := c.Repo(ctx, "acme/api", providers.ListState{})
	if err != nil || r3.Items[0].ID != 10 || r3.Items[0].FullName != "acme/api2" {
		t.Errorf("rename not followed: %+v %v", r3.Items, err)
	}

	_, err = c.Repo(ctx, "acme/missing", providers.ListState{})
	if !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("missing repo: %v", err)
	}
	var ge *providers.APIError
	if !errors.As(err, &ge) || ge.Status != 404 || ge.Provider != "github" {
		t.Errorf("missing repo error not typed: %#v", err)
	}

	bad, err := New(Options{Name: "github", BaseURL: srv.URL(), Token: "wrong", Retry: httpx.RetryOptions{Sleep: (&sleeps{}).sleep}})
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = bad.Whoami(ctx)
	if !errors.Is(err, providers.ErrUnauthorized) {
		t.Errorf("wrong token: %v", err)
	}
	if login, _, err := c.Whoami(ctx); err != nil || login == "" {
		t.Errorf("whoami: %q %v", login, err)
	}
}

func TestGuardRefusesSourceEndpointsWithoutTraffic(t *testing.T) {
	srv := githubtest.Start(t, githubtest.Options{Token: token})
	b, sha := oneCommit()
	b.Branch("main", sha)
	srv.AddCorpusRepo("acme", "api", 1, b.Build())
	c := newClient(t, srv, nil)
	for _, path := range []string{"repos/acme/api/contents/README.md", "repos/acme/api/commits/" + sha, "repos/acme/api/compare/a...b", "repos/acme/api/tarball/main"} {
		_, _, _, err := getPage[map[string]any](context.Background(), c, path, 1, "")
		if !errors.Is(err, providers.ErrForbiddenEndpoint) {
			t.Errorf("%s: want ErrForbiddenEndpoint, got %v", path, err)
		}
	}
	if n := len(srv.Requests()); n != 0 {
		t.Errorf("%d refused requests reached the server", n)
	}
}

func TestRateLimitsAreWaitedOut(t *testing.T) {
	b, sha := oneCommit()
	b.Branch("main", sha)
	srv := githubtest.Start(t, githubtest.Options{Token: token})
	srv.AddCorpusRepo("acme", "api", 1, b.Build())
	sl := &sleeps{}
	c := newClient(t, srv, sl)
	repo := providers.Repo{ID: 1, FullName: "acme/api"}

	// Primary limit: 403, remaining 0, wait for the reset.
	reset := time.Now().Add(2 * time.Minute).Unix()
	srv.FailNext("GET /repos/{owner}/{repo}/branches", 1, http.StatusForbidden, http.Header{
		"X-Ratelimit-Remaining": {"0"}, "X-Ratelimit-Limit": {"5000"}, "X-Ratelimit-Reset": {strconv.FormatInt(reset, 10)},
	}, `{"message":"API rate limit exceeded for user ID 1.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api"}`)
	// Secondary limit: 429 with Retry-After (go-github alone would not
	// treat a 429 as a rate limit).
	srv.FailNext("GET /repos/{owner}/{repo}/tags", 1, http.StatusTooManyRequests, http.Header{"Retry-After": {"7"}},
		`{"message":"You have exceeded a secondary rate limit. Please wait a few minutes before you try again.","documentation_url":"https://docs.github.com/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits"}`)

	if l, err := c.Branches(context.Background(), repo, providers.ListState{}); err != nil || len(l.Items) != 1 {
		t.Fatalf("branches after primary limit: %v %v", l.Items, err)
	}
	if l, err := c.Tags(context.Background(), repo, providers.ListState{}); err != nil || l.Items != nil {
		t.Fatalf("tags after secondary limit: %v %v", l.Items, err)
	}
	sl.mu.Lock()
	defer sl.mu.Unlock()
	if len(sl.d) != 2 {
		t.Fatalf("waits = %v, want two", sl.d)
	}
	if sl.d[0] < 100*time.Second || sl.d[0] > 125*time.Second {
		t.Errorf("primary wait %v, want ≈ until reset (2m)", sl.d[0])
	}
	if sl.d[1] != 7*time.Second {
		t.Errorf("secondary wait %v, want Retry-After 7s", sl.d[1])
	}
}

func TestEnterpriseServerBasePath(t *testing.T) {
	srv := githubtest.Start(t, githubtest.Options{Token: token, PathPrefix: "/api/v3"})
	b, sha := oneCommit()
	b.Branch("main", sha)
	srv.AddCorpusRepo("acme", "api", 1, b.Build())
	c := newClient(t, srv, nil)
	l, err := c.Branches(context.Background(), providers.Repo{ID: 1, FullName: "acme/api"}, providers.ListState{})
	if err != nil || len(l.Items) != 1 {
		t.Fatalf("GHES branches: %v %v", l.Items, err)
	}
}

// TestLookupByStoredName: an indexed repository is read by its stored
// owner/name (the documented GET /repos/{owner}/{repo}); a rename is
// followed through the 301 GitHub sends, a deletion and a former name now
// taken by another repository are not found.
func TestLookupByStoredName(t *testing.T) {
	srv := githubtest.Start(t, githubtest.Options{Token: token})
	srv.AddOrg("acme")
	h := srv.AddRepo(githubtest.Repo{ID: 10, Owner: "acme", Name: "api", OwnerIsOrg: true})
	srv.AddRepo(githubtest.Repo{ID: 12, Owner: "acme", Name: "gone", OwnerIsOrg: true})
	c := newClient(t, srv, nil)
	ctx := context.Background()
	stored := providers.Repo{ID: 10, FullName: "acme/api", HTMLURL: "https://github.com/acme/api"}

	r, err := c.Lookup(ctx, stored)
	if err != nil || r.ID != 10 || r.FullName != "acme/api" {
		t.Fatalf("lookup: %+v %v", r, err)
	}

	h.Rename("acme", "api2")
	srv.ResetRequests()
	r, err = c.Lookup(ctx, stored)
	if err != nil || r.ID != 10 || r.FullName != "acme/api2" || r.HTMLURL != "https://github.com/acme/api2" {
		t.Errorf("rename not followed: %+v %v", r, err)
	}
	reqs := srv.Requests()
	if len(reqs) != 2 || reqs[0].Path != "/repos/acme/api" || reqs[0].Status != http.StatusMovedPermanently || reqs[1].Path != "/repositories/10" {
		t.Errorf("want GET /repos/acme/api → 301, then the redirect followed; got %+v", reqs)
	}

	srv.DeleteRepo("acme", "gone")
	if _, err := c.Lookup(ctx, providers.Repo{ID: 12, FullName: "acme/gone"}); !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("deleted: %v, want ErrNotFound", err)
	}

	// The former name is taken by a new repository: the indexed one can no
	// longer be reached through it.
	srv.AddRepo(githubtest.Repo{ID: 13, Owner: "acme", Name: "api", OwnerIsOrg: true})
	if _, err := c.Lookup(ctx, stored); !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("name reused: %v, want ErrNotFound", err)
	}
}

// TestDocumentedMediaType: every request, Organizations included (whose
// go-github method sends the obsolete surtur preview), asks for the media
// type GitHub documents.
func TestDocumentedMediaType(t *testing.T) {
	b, sha := oneCommit()
	b.Branch("main", sha)
	srv := githubtest.Start(t, githubtest.Options{Token: token})
	srv.AddOrg("acme")
	srv.AddCorpusRepo("acme", "api", 10, b.Build())
	c := newClient(t, srv, nil)
	ctx := context.Background()
	if _, _, err := c.Whoami(ctx); err != nil {
		t.Fatal(err)
	}
	if err := c.Org(ctx, "acme"); err != nil {
		t.Fatal(err)
	}
	if err := c.Org(ctx, "nope"); !errors.Is(err, providers.ErrNotFound) {
		t.Errorf("missing org: %v, want ErrNotFound", err)
	}
	l, err := c.Repo(ctx, "acme/api", providers.ListState{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Branches(ctx, l.Items[0], providers.ListState{}); err != nil {
		t.Fatal(err)
	}
	for _, r := range srv.Requests() {
		if r.Accept != "application/vnd.github+json" {
			t.Errorf("%s %s sent Accept %q", r.Method, r.Path, r.Accept)
		}
	}
}

func TestRefURLAndPullLabel(t *testing.T) {
	c := newClient(t, githubtest.Start(t, githubtest.Options{Token: token}), nil)
	repo := providers.Repo{HTMLURL: "https://github.com/acme/api"}
	if got, want := c.RefURL(repo, "feature/ABC-1 x#y"), "https://github.com/acme/api/tree/feature/ABC-1%20x%23y"; got != want {
		t.Errorf("RefURL = %q, want %q", got, want)
	}
	if got := convertPull(&gh.PullRequest{Number: gh.Int(96)}).Label; got != "PR #96" {
		t.Errorf("Label = %q, want PR #96", got)
	}
}
