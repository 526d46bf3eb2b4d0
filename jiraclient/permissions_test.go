package jiraclient_test

import (
	"context"
	"errors"
	"maps"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
)

func TestMyPermissions(t *testing.T) {
	fake := startFake(t, func(o *jiratest.Options) {
		o.Permissions = func(project, perm string) bool {
			return project != "DEF" || perm == jiraclient.PermBrowseProjects
		}
	})
	var query string
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		query = r.URL.RawQuery
		fake.Handler().ServeHTTP(w, r)
	}))
	defer ts.Close()
	c, _ := newClient(t, ts.URL, nil)
	ctx := context.Background()
	perms := []string{jiraclient.PermBrowseProjects, jiraclient.PermLinkIssues, jiraclient.PermEditIssues}

	// In a fixed order: the query check below is about the last request.
	for _, tc := range []struct {
		project string
		want    map[string]bool
	}{
		{"ABC", map[string]bool{"BROWSE_PROJECTS": true, "LINK_ISSUES": true, "EDIT_ISSUES": true}},
		{"DEF", map[string]bool{"BROWSE_PROJECTS": true, "LINK_ISSUES": false, "EDIT_ISSUES": false}},
	} {
		project, want := tc.project, tc.want
		got, err := c.MyPermissions(ctx, project, perms...)
		if err != nil || !maps.Equal(got, want) {
			t.Errorf("%s: %v, %v; want %v", project, got, err, want)
		}
	}
	if want := "permissions=BROWSE_PROJECTS%2CLINK_ISSUES%2CEDIT_ISSUES&projectKey=DEF"; query != want {
		t.Errorf("query = %q, want %q", query, want)
	}

	if _, err := c.MyPermissions(ctx, "NOPE", jiraclient.PermLinkIssues); !errors.Is(err, jiraclient.ErrNotFound) {
		t.Errorf("unknown project: %v, want ErrNotFound", err)
	}
	if _, err := c.MyPermissions(ctx, "ABC", "NO_SUCH_PERMISSION"); !errors.Is(err, jiraclient.ErrBadRequest) {
		t.Errorf("unknown permission: %v, want ErrBadRequest", err)
	}

	// Bad input is refused before any request.
	fake.ResetCalls()
	for _, tc := range []struct {
		project string
		perms   []string
	}{
		{"ABC", nil},
		{"ABC", []string{"link issues"}},
		{"A&B", []string{jiraclient.PermLinkIssues}},
		{"", []string{jiraclient.PermLinkIssues}},
	} {
		if _, err := c.MyPermissions(ctx, tc.project, tc.perms...); !errors.Is(err, jiraclient.ErrBadRequest) {
			t.Errorf("MyPermissions(%q, %q): %v, want ErrBadRequest", tc.project, tc.perms, err)
		}
	}
	if n := fake.Calls().Total; n != 0 {
		t.Errorf("%d requests for bad input", n)
	}
}

// TestMyPermissionsMissingAnswer: a permission Jira leaves out of its
// answer is reported as not held.
func TestMyPermissionsMissingAnswer(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write([]byte(`{"permissions":{"BROWSE_PROJECTS":{"id":"10","key":"BROWSE_PROJECTS","havePermission":true}}}`))
	}))
	defer ts.Close()
	c, _ := newClient(t, ts.URL, nil)
	got, err := c.MyPermissions(context.Background(), "ABC", jiraclient.PermBrowseProjects, jiraclient.PermLinkIssues)
	if err != nil || !maps.Equal(got, map[string]bool{"BROWSE_PROJECTS": true, "LINK_ISSUES": false}) {
		t.Errorf("got %v, %v", got, err)
	}
}
