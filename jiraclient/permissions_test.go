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
	grants := func(project, perm string) bool { return project != "DEF" || perm == jiraclient.PermBrowseProjects }
	perms := []string{jiraclient.PermBrowseProjects, jiraclient.PermLinkIssues, jiraclient.PermEditIssues}
	for _, tc := range []struct {
		name  string
		cloud bool
		// query is what the last request (project DEF) must send: Data
		// Center's documented form has no permissions parameter, Cloud
		// requires it.
		query string
	}{
		{"datacenter", false, "projectKey=DEF"},
		{"cloud", true, "permissions=BROWSE_PROJECTS%2CLINK_ISSUES%2CEDIT_ISSUES&projectKey=DEF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := startFake(t, func(o *jiratest.Options) { o.Permissions = grants; o.Cloud = tc.cloud })
			dep := jiraclient.DeploymentDataCenter
			if tc.cloud {
				dep = jiraclient.DeploymentCloud
			}
			c, _ := newClient(t, fake.URL(), func(o *jiraclient.Options) { o.Deployment = dep })
			ctx := context.Background()
			// In a fixed order: the query check below is about the last request.
			for _, p := range []struct {
				project string
				want    map[string]bool
			}{
				{"ABC", map[string]bool{"BROWSE_PROJECTS": true, "LINK_ISSUES": true, "EDIT_ISSUES": true}},
				{"DEF", map[string]bool{"BROWSE_PROJECTS": true, "LINK_ISSUES": false, "EDIT_ISSUES": false}},
			} {
				got, err := c.MyPermissions(ctx, p.project, perms...)
				if err != nil || !maps.Equal(got, p.want) {
					t.Errorf("%s: %v, %v; want %v", p.project, got, err, p.want)
				}
			}
			reqs := fake.Requests()
			if len(reqs) != 2 || reqs[1].Route != jiratest.RouteMyPermissions || reqs[1].RawQuery != tc.query {
				t.Errorf("requests = %+v, want the last one's query %q", reqs, tc.query)
			}

			if _, err := c.MyPermissions(ctx, "NOPE", jiraclient.PermLinkIssues); !errors.Is(err, jiraclient.ErrNotFound) {
				t.Errorf("unknown project: %v, want ErrNotFound", err)
			}
			// Cloud refuses an unknown key; Data Center answers every
			// permission it has, so an unknown key is simply not held.
			got, err := c.MyPermissions(ctx, "ABC", "NO_SUCH_PERMISSION")
			if tc.cloud && !errors.Is(err, jiraclient.ErrBadRequest) {
				t.Errorf("unknown permission on Cloud: %v, want ErrBadRequest", err)
			}
			if !tc.cloud && (err != nil || !maps.Equal(got, map[string]bool{"NO_SUCH_PERMISSION": false})) {
				t.Errorf("unknown permission on Data Center: %v, %v; want not held", got, err)
			}
		})
	}
}

// TestMyPermissionsDetectsDeployment: with deployment auto, Data Center is
// recognised from serverInfo and asked without Cloud's parameter.
func TestMyPermissionsDetectsDeployment(t *testing.T) {
	fake := startFake(t, nil)
	c, _ := newClient(t, fake.URL(), nil)
	if _, err := c.MyPermissions(context.Background(), "ABC", jiraclient.PermLinkIssues); err != nil {
		t.Fatal(err)
	}
	reqs := fake.Requests()
	if len(reqs) != 2 || reqs[0].Route != jiratest.RouteServerInfo || reqs[1].RawQuery != "projectKey=ABC" {
		t.Errorf("requests = %+v, want serverInfo then mypermissions?projectKey=ABC", reqs)
	}
}

// TestMyPermissionsBadInput: bad input is refused before any request.
func TestMyPermissionsBadInput(t *testing.T) {
	fake := startFake(t, nil)
	c, _ := newClient(t, fake.URL(), nil)
	for _, tc := range []struct {
		project string
		perms   []string
	}{
		{"ABC", nil},
		{"ABC", []string{"link issues"}},
		{"A&B", []string{jiraclient.PermLinkIssues}},
		{"", []string{jiraclient.PermLinkIssues}},
	} {
		if _, err := c.MyPermissions(context.Background(), tc.project, tc.perms...); !errors.Is(err, jiraclient.ErrBadRequest) {
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
