package guard

import (
	"errors"
	"net/http"
	"testing"

	"github.com/jiralinkd/jiralinkd/providers"
)

// TestGitHubAppEndpoints: exactly the App authentication endpoints are
// let through, on github.com and on Enterprise Server, and nothing else
// becomes writable.
func TestGitHubAppEndpoints(t *testing.T) {
	for _, base := range []string{"/", "/api/v3/"} {
		tr := New(nil, GitHub, base)
		prefix := "/" + trimSlashes(base)
		if prefix == "/" {
			prefix = ""
		}
		for _, c := range []struct {
			method, path string
			allowed      bool
		}{
			{"GET", "/app", true},
			{"GET", "/app/installations", true},
			{"POST", "/app/installations/42/access_tokens", true},
			{"GET", "/installation/repositories", true},
			// Not needed, so refused.
			{"GET", "/app/installations/42", false},
			{"GET", "/app/installations/42/access_tokens", false},
			{"DELETE", "/app/installations/42", false},
			{"PUT", "/app/installations/42/suspended", false},
			{"POST", "/app/installations", false},
			{"POST", "/app", false},
			{"POST", "/app-manifests/abc/conversions", false},
			{"POST", "/app/installations//access_tokens", false},
			{"POST", "/app/installations/42/access_tokens/x", false},
			{"GET", "/app/hook/config", false},
			{"GET", "/app/hook/deliveries", false},
			{"DELETE", "/installation/token", false},
			{"GET", "/installation/repositories/1", false},
			{"GET", "/orgs/acme/installation", false},
			{"GET", "/repos/o/r/installation", false},
			// POST stays refused everywhere else.
			{"POST", "/repos/o/r/pulls", false},
			{"POST", "/repos/o/r/git/blobs", false},
			{"POST", "/user", false},
			{"PATCH", "/repos/o/r", false},
		} {
			req, _ := http.NewRequest(c.method, "https://ghe.example.com"+prefix+c.path, nil)
			err := tr.Check(req)
			if (err == nil) != c.allowed {
				t.Errorf("%s %s%s: allowed=%v, err=%v", c.method, prefix, c.path, c.allowed, err)
			}
			if err != nil && !errors.Is(err, providers.ErrForbiddenEndpoint) {
				t.Errorf("%s %s: err %v is not ErrForbiddenEndpoint", c.method, c.path, err)
			}
		}
		// Diff media types stay refused on the new endpoints too.
		req, _ := http.NewRequest("POST", "https://ghe.example.com"+prefix+"/app/installations/42/access_tokens", nil)
		req.Header.Set("Accept", "application/vnd.github.diff")
		if err := tr.Check(req); err == nil {
			t.Errorf("diff media type allowed on access_tokens")
		}
	}
	// GitLab gains nothing.
	gl := New(nil, GitLab, "/api/v4/")
	req, _ := http.NewRequest("POST", "https://gitlab.example.com/api/v4/app/installations/42/access_tokens", nil)
	if err := gl.Check(req); err == nil {
		t.Errorf("gitlab guard allows a POST")
	}
	if got := New(nil, GitHub, "/").Classify("/app/installations/7/access_tokens"); got != "/app/installations/{id}/access_tokens" {
		t.Errorf("Classify = %q", got)
	}
}

func trimSlashes(s string) string {
	for len(s) > 0 && s[0] == '/' {
		s = s[1:]
	}
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
