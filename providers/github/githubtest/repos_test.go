package githubtest_test

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

type commitItem struct {
	SHA    string
	Commit struct {
		Message string
		Author  struct{ Name, Email, Date string }
	}
	HTMLURL string `json:"html_url"`
	Parents []struct{ SHA string }
	Files   any
	Stats   any
}

func TestCommitsCorpusMaster(t *testing.T) {
	s, _ := corpusServer(t, githubtest.Options{})
	want := zookeeper(t).Log("53a78e36f99602162643303ab330377fc383b41f")
	var got []string
	pages := 0
	for page := 1; ; page++ {
		r := get(t, s, fmt.Sprintf("repos/apache/zookeeper/commits?sha=master&per_page=100&page=%d", page))
		if r.Status != 200 {
			t.Fatalf("page %d: %d %s", page, r.Status, r.Body)
		}
		var items []commitItem
		r.Decode(t, &items)
		pages++
		for _, it := range items {
			got = append(got, it.SHA)
			if it.Files != nil || it.Stats != nil {
				t.Fatalf("list item carries files/stats: %s", it.SHA)
			}
		}
		link := r.Header.Get("Link")
		if page == 1 && !strings.Contains(link, `page=28>; rel="last"`) {
			t.Errorf("page 1 Link %s: want last page 28", link)
		}
		if !strings.Contains(link, `rel="next"`) {
			break
		}
	}
	if pages != 28 || !slices.Equal(got, want) {
		t.Errorf("%d pages, %d commits; order equal to git log: %v", pages, len(got), slices.Equal(got, want))
	}

	// The first item, in full.
	var first []commitItem
	get(t, s, "repos/apache/zookeeper/commits?per_page=1").Decode(t, &first)
	c := first[0]
	if c.SHA != want[0] || !strings.HasPrefix(c.Commit.Message, "ZOOKEEPER-5064: Upgrade jackson") ||
		c.Commit.Author.Name != "Kirti Prajapat" || c.Commit.Author.Email != "d89a9e95420029a9@users.noreply.github.com" ||
		c.Commit.Author.Date != "2026-07-17T18:55:25Z" ||
		c.HTMLURL != "https://github.com/apache/zookeeper/commit/"+want[0] ||
		len(c.Parents) != 1 || c.Parents[0].SHA != "5d6ad7995c5faa6ec6ea7d543e1691668f2570ba" {
		t.Errorf("first commit = %+v", c)
	}
}

func TestCommitsRefsAndErrors(t *testing.T) {
	s, zk := corpusServer(t, githubtest.Options{})
	h := zookeeper(t)
	tag, _ := h.Tag("release-3.9.0")
	tests := []struct {
		query  string
		status int
		head   string
	}{
		{"sha=release-3.9.0", 200, tag.SHA},
		{"sha=" + tag.SHA, 200, tag.SHA},
		{"sha=" + tag.SHA[:10], 200, tag.SHA},
		{"sha=branch-3.8", 200, "77a09a82f219b52df7c2972cc0742bb605d08730"},
		{"sha=no-such-branch", 404, ""},
	}
	for _, tt := range tests {
		r := get(t, s, "repos/apache/zookeeper/commits?per_page=2&"+tt.query)
		if r.Status != tt.status {
			t.Errorf("%s: status %d", tt.query, r.Status)
			continue
		}
		if tt.status == 200 {
			var items []commitItem
			r.Decode(t, &items)
			if items[0].SHA != tt.head {
				t.Errorf("%s: head %s, want %s", tt.query, items[0].SHA, tt.head)
			}
		}
	}
	// since/until on the committer date.
	var items []commitItem
	get(t, s, "repos/apache/zookeeper/commits?sha=master&since=2026-07-01T00:00:00Z&until=2026-07-16T00:00:00Z&per_page=100").Decode(t, &items)
	if len(items) == 0 || slices.ContainsFunc(items, func(c commitItem) bool { return c.SHA == "53a78e36f99602162643303ab330377fc383b41f" }) {
		t.Errorf("since/until: %d items", len(items))
	}
	// An added commit on top, then the branch moved to it.
	head := "53a78e36f99602162643303ab330377fc383b41f"
	when := time.Date(2026, 7, 21, 9, 0, 0, 0, time.UTC)
	sha := zk.AddCommit(corpus.Commit{Parents: []string{head}, AuthorName: "New", AuthorEmailHash: "ffffffffffffffff",
		AuthorDate: when, CommitterName: "New", CommitterEmailHash: "ffffffffffffffff", CommitterDate: when, Message: "ZOOKEEPER-9999: new"})
	if len(sha) != 40 {
		t.Fatalf("AddCommit returned %q", sha)
	}
	zk.SetBranch("master", sha)
	get(t, s, "repos/apache/zookeeper/commits?per_page=2").Decode(t, &items)
	if len(items) != 2 || items[0].SHA != sha || items[1].SHA != head {
		t.Errorf("after AddCommit: %+v", items)
	}
	// An empty repository answers 409 like GitHub.
	s.AddRepo(githubtest.Repo{ID: 2, Owner: "apache", Name: "empty"})
	if r := get(t, s, "repos/apache/empty/commits"); r.Status != http.StatusConflict || r.Message(t) != "Git Repository is empty." {
		t.Errorf("empty repo: %d %s", r.Status, r.Body)
	}
}

type pullItem struct {
	Number    int
	State     string
	Title     string
	UpdatedAt time.Time  `json:"updated_at"`
	MergedAt  *time.Time `json:"merged_at"`
	User      struct{ Login string }
	Head      struct{ Ref, Label string }
	Base      struct{ Ref string }
	HTMLURL   string `json:"html_url"`
}

func TestPullsSortedByUpdatedDesc(t *testing.T) {
	s, zk := corpusServer(t, githubtest.Options{})
	const q = "repos/apache/zookeeper/pulls?state=all&sort=updated&direction=desc&per_page=100"
	// Pages 1, 2 and the last one: order holds across page boundaries
	// and the count adds up.
	var all []pullItem
	r := get(t, s, q)
	r.Decode(t, &all)
	var page2 []pullItem
	get(t, s, q+"&page=2").Decode(t, &page2)
	all = append(all, page2...)
	want := len(zookeeper(t).PullRequests())
	lastPage := (want + 99) / 100
	if !strings.Contains(r.Header.Get("Link"), fmt.Sprintf(`page=%d>; rel="last"`, lastPage)) {
		t.Errorf("Link %s, want last page %d", r.Header.Get("Link"), lastPage)
	}
	var last []pullItem
	get(t, s, fmt.Sprintf("%s&page=%d", q, lastPage)).Decode(t, &last)
	if n := (lastPage-1)*100 + len(last); n != want {
		t.Errorf("%d pulls, want %d", n, want)
	}
	for i := 1; i < len(all); i++ {
		if all[i].UpdatedAt.After(all[i-1].UpdatedAt) {
			t.Fatalf("not sorted by updated desc at %d: %v after %v", i, all[i].UpdatedAt, all[i-1].UpdatedAt)
		}
	}
	if l := last[len(last)-1]; l.UpdatedAt.After(all[len(all)-1].UpdatedAt) {
		t.Errorf("last page holds a newer pull (#%d) than page 2", l.Number)
	}
	p := all[0]
	if p.State != "closed" || p.MergedAt == nil || p.HTMLURL != fmt.Sprintf("https://github.com/apache/zookeeper/pull/%d", p.Number) ||
		p.Head.Label != p.User.Login+":"+p.Head.Ref || p.Base.Ref == "" {
		t.Errorf("first = %+v", p)
	}

	// Default state is open: the corpus has none until one is added.
	var open []pullItem
	get(t, s, "repos/apache/zookeeper/pulls").Decode(t, &open)
	if len(open) != 0 {
		t.Errorf("open pulls: %d", len(open))
	}
	zk.UpsertPull(githubtest.PullRequest{Number: 5000, Title: "ZOOKEEPER-9999: open", User: "alice", HeadRef: "zk-9999",
		UpdatedAt: time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)})
	get(t, s, "repos/apache/zookeeper/pulls").Decode(t, &open)
	if len(open) != 1 || open[0].Number != 5000 || open[0].Base.Ref != "master" || open[0].MergedAt != nil {
		t.Errorf("open pulls = %+v", open)
	}
	var asc []pullItem
	get(t, s, "repos/apache/zookeeper/pulls?state=closed&sort=created&direction=asc&per_page=3").Decode(t, &asc)
	if len(asc) != 3 || asc[0].Number > asc[1].Number {
		t.Errorf("created asc = %+v", asc)
	}
}

func TestForbiddenEndpointsRecorded(t *testing.T) {
	s, _ := corpusServer(t, githubtest.Options{})
	head := "53a78e36f99602162643303ab330377fc383b41f"
	forbidden := []string{
		"repos/apache/zookeeper/commits/" + head,
		"repos/apache/zookeeper/contents/pom.xml",
		"repos/apache/zookeeper/readme",
		"repos/apache/zookeeper/git/trees/" + head,
		"repos/apache/zookeeper/git/blobs/" + head,
		"repos/apache/zookeeper/compare/master...branch-3.9",
		"repos/apache/zookeeper/pulls/2415/files",
		"repos/apache/zookeeper/tarball/master",
		"repos/apache/zookeeper/zipball/refs/tags/release-3.9.0",
		"repositories/1000/contents/README.md",
		"search/code?q=secret",
	}
	for _, p := range forbidden {
		if r := get(t, s, p); r.Status != 200 {
			t.Errorf("%s: status %d", p, r.Status)
		}
	}
	get(t, s, "repos/apache/zookeeper/pulls/2415", "Accept: application/vnd.github.diff")
	s.ResetRequests()
	for _, p := range forbidden {
		get(t, s, p)
	}
	get(t, s, "repos/apache/zookeeper/pulls/2415", "Accept: application/vnd.github.v3.diff")
	allowed := []string{"", "user", "repos/apache/zookeeper", "repos/apache/zookeeper/pulls/2415", "repos/apache/zookeeper/branches/master", "rate_limit", "orgs/apache"}
	for _, p := range allowed {
		if r := get(t, s, p); r.Status != 200 {
			t.Errorf("%s: status %d %s", p, r.Status, r.Body)
		}
	}
	reqs := s.Requests()
	fb := s.ForbiddenRequests()
	if len(fb) != len(forbidden)+1 {
		t.Errorf("forbidden requests = %d, want %d: %+v", len(fb), len(forbidden)+1, fb)
	}
	for _, r := range reqs[len(forbidden)+1:] {
		if r.Forbidden {
			t.Errorf("metadata request marked forbidden: %+v", r)
		}
	}
	if r := reqs[0]; r.Route != "GET /repos/{owner}/{repo}/commits/{ref}" || r.Path != "/repos/apache/zookeeper/commits/"+head {
		t.Errorf("single commit recorded as %+v", r)
	}
	if r := reqs[len(forbidden)]; r.Accept != "application/vnd.github.v3.diff" || r.Route != "GET /repos/{owner}/{repo}/pulls/{number}" {
		t.Errorf("diff request recorded as %+v", r)
	}
}

func TestMutationsVisible(t *testing.T) {
	s, zk := corpusServer(t, githubtest.Options{})
	h := zookeeper(t)
	old, _ := h.Tag("release-3.9.0")

	zk.DeleteBranch("website")
	zk.DeleteTag("release-3.9.0")
	zk.SetBranch("master", old.SHA) // force-push backwards
	zk.Archive(true)
	zk.SetDefaultBranch("branch-3.9")

	var branches []struct{ Name string }
	get(t, s, "repos/apache/zookeeper/branches?per_page=100").Decode(t, &branches)
	if len(branches) != 21 || slices.ContainsFunc(branches, func(b struct{ Name string }) bool { return b.Name == "website" }) {
		t.Errorf("branches after delete: %d", len(branches))
	}
	if r := get(t, s, "repos/apache/zookeeper/commits?sha=release-3.9.0"); r.Status != 404 {
		t.Errorf("deleted tag still resolves: %d", r.Status)
	}
	var commits []commitItem
	get(t, s, "repos/apache/zookeeper/commits?sha=master&per_page=1").Decode(t, &commits)
	if commits[0].SHA != old.SHA {
		t.Errorf("master head after force-push = %s", commits[0].SHA)
	}
	var repo struct {
		Archived      bool
		DefaultBranch string `json:"default_branch"`
	}
	get(t, s, "repos/apache/zookeeper").Decode(t, &repo)
	if !repo.Archived || repo.DefaultBranch != "branch-3.9" {
		t.Errorf("repo = %+v", repo)
	}
}
