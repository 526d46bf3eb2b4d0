package guard

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"

	"github.com/jiralinkd/jiralinkd/providers"
)

func TestGitHubGuard(t *testing.T) {
	var reached atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		reached.Add(1)
		w.WriteHeader(200)
	}))
	defer srv.Close()

	cases := []struct {
		method, path, accept string
		allowed              bool
	}{
		{"GET", "/repos/o/r/commits", "", true},
		{"GET", "/repos/o/r/branches", "", true},
		{"GET", "/repos/o/r/tags", "", true},
		{"GET", "/repos/o/r/pulls", "application/vnd.github+json", true},
		{"GET", "/repos/o/r", "", true},
		{"GET", "/orgs/acme/repos", "", true},
		{"GET", "/repositories/42/branches", "", true},
		{"GET", "/user", "", true},
		{"GET", "/", "", true},
		{"GET", "/search/issues?q=is:pr+org:acme", "", true},
		// Everything that can carry source code or diffs.
		{"GET", "/search/code", "", false},
		{"GET", "/search/commits", "", false},
		{"GET", "/repos/o/r/contents/README.md", "", false},
		{"GET", "/repos/o/r/readme", "", false},
		{"GET", "/repos/o/r/git/blobs/abc", "", false},
		{"GET", "/repos/o/r/git/trees/abc", "", false},
		{"GET", "/repos/o/r/tarball/main", "", false},
		{"GET", "/repos/o/r/zipball/main", "", false},
		{"GET", "/repos/o/r/compare/a...b", "", false},
		{"GET", "/repos/o/r/commits/abc123", "", false},
		{"GET", "/repos/o/r/pulls/1", "", false},
		{"GET", "/repos/o/r/pulls/1/files", "", false},
		{"GET", "/repos/o/r/pulls", "application/vnd.github.v3.diff", false},
		{"GET", "/repos/o/r/commits", "application/vnd.github.patch", false},
		{"POST", "/repos/o/r/pulls", "", false},
		{"DELETE", "/repos/o/r", "", false},
		{"GET", "/repos/o/r/commits/", "", true}, // trailing slash is the list
		{"GET", "/repos//r/commits", "", false},
	}
	for _, c := range cases {
		t.Run(c.method+" "+c.path+" "+c.accept, func(t *testing.T) {
			before := reached.Load()
			tr := New(nil, GitHub, "/")
			req, _ := http.NewRequest(c.method, srv.URL+c.path, nil)
			if c.accept != "" {
				req.Header.Set("Accept", c.accept)
			}
			resp, err := tr.RoundTrip(req)
			if c.allowed {
				if err != nil {
					t.Fatalf("allowed request refused: %v", err)
				}
				resp.Body.Close()
				if reached.Load() != before+1 {
					t.Fatal("allowed request did not reach the server")
				}
				return
			}
			if !errors.Is(err, providers.ErrForbiddenEndpoint) {
				t.Fatalf("want ErrForbiddenEndpoint, got %v", err)
			}
			var ge *Error
			if !errors.As(err, &ge) || ge.Path != c.path {
				t.Fatalf("want *guard.Error naming %s, got %#v", c.path, err)
			}
			if reached.Load() != before {
				t.Fatal("refused request reached the server")
			}
		})
	}
}

func TestEnterpriseBasePath(t *testing.T) {
	tr := New(nil, GitHub, "/api/v3/")
	for path, ok := range map[string]bool{
		"/api/v3/repos/o/r/branches":   true,
		"/api/v3/repos/o/r/contents/x": false,
		"/repos/o/r/branches":          false, // outside the base path
		"/api/v3":                      true,  // the root
	} {
		req, _ := http.NewRequest("GET", "https://ghe.example.com"+path, nil)
		if err := tr.Check(req); (err == nil) != ok {
			t.Errorf("%s: allowed=%v, err=%v", path, ok, err)
		}
	}
}

func TestGitLabGuard(t *testing.T) {
	tr := New(nil, GitLab, "/gitlab/api/v4/")
	for path, ok := range map[string]bool{
		"/gitlab/api/v4/projects/42/repository/commits":                        true,
		"/gitlab/api/v4/projects/platform%2Fbackend%2Fapi/repository/branches": true,
		"/gitlab/api/v4/groups/platform%2Fbackend/projects":                    true,
		"/gitlab/api/v4/projects/42/merge_requests":                            true,
		"/gitlab/api/v4/groups/platform%2Fbackend/merge_requests":              true,
		"/gitlab/api/v4/personal_access_tokens/self":                           true,
		"/gitlab/api/v4/projects/42/repository/files/README.md":                false,
		"/gitlab/api/v4/projects/42/repository/blobs/abc":                      false,
		"/gitlab/api/v4/projects/42/repository/tree":                           false,
		"/gitlab/api/v4/projects/42/repository/archive.zip":                    false,
		"/gitlab/api/v4/projects/42/repository/compare":                        false,
		"/gitlab/api/v4/projects/42/repository/commits/abc":                    false,
		"/gitlab/api/v4/projects/42/repository/commits/abc/diff":               false,
		"/gitlab/api/v4/projects/42/merge_requests/1/changes":                  false,
		"/gitlab/api/v4/projects/42/merge_requests/1/diffs":                    false,
		"/gitlab/api/v4/projects/42/snippets":                                  false,
		"/gitlab/api/v4/projects/platform/api/repository/branches":             false, // unescaped path = other segments
	} {
		req, _ := http.NewRequest("GET", "https://gitlab.example.com"+path, nil)
		if err := tr.Check(req); (err == nil) != ok {
			t.Errorf("%s: allowed=%v, err=%v", path, ok, err)
		}
	}
}

func TestClassify(t *testing.T) {
	gh := New(nil, GitHub, "/api/v3/")
	gl := New(nil, GitLab, "/api/v4/")
	for _, c := range []struct {
		tr         *Transport
		path, want string
	}{
		{gh, "/api/v3/repos/acme/api/commits", "/repos/{owner}/{repo}/commits"},
		{gh, "/api/v3/repos/acme/api/contents/x", "other"},
		{gh, "/elsewhere", "other"},
		{gl, "/api/v4/projects/group%2Fname/merge_requests", "/projects/{id}/merge_requests"},
	} {
		if got := c.tr.Classify(c.path); got != c.want {
			t.Errorf("Classify(%q) = %q, want %q", c.path, got, c.want)
		}
	}
}
