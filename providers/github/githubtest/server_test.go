package githubtest_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

func TestNotFoundAndDelete(t *testing.T) {
	s := githubtest.Start(t, githubtest.Options{Token: token})
	s.AddRepo(githubtest.Repo{ID: 5, Owner: "acme", Name: "api", OwnerIsOrg: true})
	for _, p := range []string{"repos/acme/nope", "repos/acme/nope/commits", "orgs/nobody", "orgs/nobody/repos", "users/nobody/repos", "repositories/999"} {
		got := get(t, s, p)
		if got.Status != 404 || got.Message(t) != "Not Found" {
			t.Errorf("%s: %d %s", p, got.Status, got.Body)
		}
	}
	if got := get(t, s, "repos/ACME/Api"); got.Status != 200 {
		t.Errorf("names are case-insensitive: %d", got.Status)
	}
	s.DeleteRepo("acme", "api")
	for _, p := range []string{"repos/acme/api", "repositories/5", "repos/acme/api/branches"} {
		if got := get(t, s, p); got.Status != 404 {
			t.Errorf("deleted %s: %d", p, got.Status)
		}
	}
}

func TestRenameRedirects(t *testing.T) {
	s := githubtest.Start(t, githubtest.Options{Token: token})
	h := s.AddRepo(githubtest.Repo{ID: 42, Owner: "acme", Name: "old", OwnerIsOrg: true, DefaultBranch: "main"})
	h.Rename("acme", "new")
	got := fakeserver.Do(t, fakeserver.NoRedirect(), http.MethodGet, s.URL()+"repos/acme/old/branches?per_page=5", "Authorization: token "+token)
	wantLoc := s.URL() + "repositories/42/branches?per_page=5"
	if got.Status != http.StatusMovedPermanently || got.Header.Get("Location") != wantLoc {
		t.Fatalf("status %d Location %q, want 301 %s", got.Status, got.Header.Get("Location"), wantLoc)
	}
	var body struct{ Message, URL string }
	got.Decode(t, &body)
	if body.Message != "Moved Permanently" || body.URL != wantLoc {
		t.Errorf("body %s", got.Body)
	}
	// A following client lands on the id form.
	followed := get(t, s, "repos/acme/old")
	var repo struct {
		ID       int64
		FullName string `json:"full_name"`
		HTMLURL  string `json:"html_url"`
	}
	followed.Decode(t, &repo)
	if followed.Status != 200 || repo.ID != 42 || repo.FullName != "acme/new" || repo.HTMLURL != "https://github.com/acme/new" {
		t.Errorf("followed: %d %+v", followed.Status, repo)
	}
	// A transfer: both former names redirect.
	h.Rename("other-org", "new")
	for _, p := range []string{"repos/acme/old", "repos/acme/new"} {
		if got := fakeserver.Do(t, fakeserver.NoRedirect(), http.MethodGet, s.URL()+p, "Authorization: token "+token); got.Header.Get("Location") != s.URL()+"repositories/42" {
			t.Errorf("%s: %d %q", p, got.Status, got.Header.Get("Location"))
		}
	}
	if got := get(t, s, "repos/other-org/new"); got.Status != 200 {
		t.Errorf("new name: %d", got.Status)
	}
	// A new repository reusing a former name takes it over.
	s.AddRepo(githubtest.Repo{ID: 43, Owner: "acme", Name: "old"})
	var again struct{ ID int64 }
	get(t, s, "repos/acme/old").Decode(t, &again)
	if again.ID != 43 {
		t.Errorf("reused name serves id %d", again.ID)
	}
}

func TestPathPrefixEnterprise(t *testing.T) {
	s, _ := corpusServer(t, githubtest.Options{PathPrefix: "/api/v3", WebURL: "https://ghe.example.com"})
	if !strings.HasSuffix(s.URL(), "/api/v3/") {
		t.Fatalf("URL = %s", s.URL())
	}
	r := get(t, s, "repos/apache/zookeeper/tags?per_page=10")
	var repo struct {
		HTMLURL string `json:"html_url"`
		URL     string
	}
	get(t, s, "repos/apache/zookeeper").Decode(t, &repo)
	if r.Status != 200 || !strings.Contains(r.Header.Get("Link"), s.URL()+"repositories/1000/tags?per_page=10&page=2") ||
		repo.HTMLURL != "https://ghe.example.com/apache/zookeeper" || repo.URL != s.URL()+"repos/apache/zookeeper" {
		t.Errorf("status %d Link %s repo %+v", r.Status, r.Header.Get("Link"), repo)
	}
	outside := fakeserver.Do(t, http.DefaultClient, http.MethodGet, strings.TrimSuffix(s.URL(), "api/v3/")+"repos/apache/zookeeper", "Authorization: Bearer "+token)
	if outside.Status != 404 {
		t.Errorf("outside the prefix: %d", outside.Status)
	}
}

func TestConcurrentMutation(t *testing.T) {
	s, zk := corpusServer(t, githubtest.Options{})
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Go(func() {
			for j := range 10 {
				r := get(t, s, fmt.Sprintf("repos/apache/zookeeper/branches?page=%d", j%2+1))
				if r.Status != 200 {
					t.Errorf("worker %d: %d", i, r.Status)
				}
			}
		})
	}
	for j := range 20 {
		zk.SetBranch(fmt.Sprintf("tmp-%d", j), "53a78e36f99602162643303ab330377fc383b41f")
		zk.DeleteTag("release-3.9.0")
		zk.Archive(j%2 == 0)
	}
	wg.Wait()
	if n := len(s.Requests()); n != 40 {
		t.Errorf("recorded %d requests, want 40", n)
	}
}

func TestAccountListings(t *testing.T) {
	s := githubtest.Start(t, githubtest.Options{Token: token, Login: "me"})
	for i := range 3 {
		s.AddRepo(githubtest.Repo{ID: int64(10 + i), Owner: "acme", Name: fmt.Sprintf("r%d", i), OwnerIsOrg: true, Private: i == 1})
	}
	s.AddRepo(githubtest.Repo{ID: 20, Owner: "me", Name: "mine"})
	s.AddOrg("empty-org")

	r := get(t, s, "orgs/acme/repos?type=all&per_page=2")
	var page []struct {
		FullName string `json:"full_name"`
		Private  bool
	}
	r.Decode(t, &page)
	// GitHub points organization lists at /organizations/{id}/repos.
	var org struct{ ID int64 }
	get(t, s, "orgs/acme").Decode(t, &org)
	wantNext := fmt.Sprintf("%sorganizations/%d/repos?type=all&per_page=2&page=2", s.URL(), org.ID)
	if len(page) != 2 || page[0].FullName != "acme/r0" || !strings.Contains(r.Header.Get("Link"), "<"+wantNext+`>; rel="next"`) {
		t.Fatalf("page 1 = %+v, Link %s", page, r.Header.Get("Link"))
	}
	fakeserver.Do(t, http.DefaultClient, http.MethodGet, wantNext, "Authorization: Bearer "+token).Decode(t, &page)
	if len(page) != 1 || page[0].FullName != "acme/r2" {
		t.Errorf("page 2 via Link = %+v", page)
	}
	get(t, s, "orgs/acme/repos?type=private").Decode(t, &page)
	if len(page) != 1 || !page[0].Private {
		t.Errorf("private = %+v", page)
	}
	if r := get(t, s, "orgs/empty-org/repos"); r.Status != 200 || string(r.Body) != "[]" {
		t.Errorf("empty org: %d %s", r.Status, r.Body)
	}
	if r := get(t, s, "orgs/me"); r.Status != 404 {
		t.Errorf("a user is not an org: %d", r.Status)
	}
	get(t, s, "users/me/repos").Decode(t, &page)
	if len(page) != 1 || page[0].FullName != "me/mine" {
		t.Errorf("user repos = %+v", page)
	}
	get(t, s, "user/repos?per_page=100").Decode(t, &page)
	if len(page) != 4 {
		t.Errorf("user/repos = %d", len(page))
	}
	var me struct {
		Login string
		ID    int64
	}
	get(t, s, "user").Decode(t, &me)
	if me.Login != "me" || me.ID != 1 {
		t.Errorf("user = %+v", me)
	}
}
