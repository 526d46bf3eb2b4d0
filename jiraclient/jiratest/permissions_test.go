package jiratest_test

import (
	"net/http"
	"reflect"
	"strings"
	"testing"

	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
)

// noLinkInMKY grants everything but Link Issues and Edit Issues in MKY.
func noLinkInMKY(project, perm string) bool {
	return project != "MKY" || (perm != "LINK_ISSUES" && perm != "EDIT_ISSUES")
}

func TestMyPermissions(t *testing.T) {
	s := start(t, func(o *jiratest.Options) { o.Permissions = noLinkInMKY })
	u := s.URL() + "/rest/api/2/mypermissions"

	r := call(t, "GET", u+"?projectKey=HSP&permissions=LINK_ISSUES", "")
	want := map[string]any{"permissions": map[string]any{"LINK_ISSUES": map[string]any{
		"id": "21", "key": "LINK_ISSUES", "name": "Link Issues", "type": "PROJECT",
		"description":    "Ability to link issues together and create linked issues. Only useful if issue linking is turned on.",
		"havePermission": true,
	}}}
	if r.status != 200 || !reflect.DeepEqual(r.body, want) {
		t.Errorf("HSP: %d %s", r.status, r.raw)
	}

	have := func(r response, key string) any {
		return r.body["permissions"].(map[string]any)[key].(map[string]any)["havePermission"]
	}
	r = call(t, "GET", u+"?projectKey=MKY&permissions=BROWSE_PROJECTS,LINK_ISSUES,EDIT_ISSUES", "")
	if r.status != 200 || have(r, "BROWSE_PROJECTS") != true || have(r, "LINK_ISSUES") != false || have(r, "EDIT_ISSUES") != false {
		t.Errorf("MKY: %d %s", r.status, r.raw)
	}
	// The /latest alias is the same route.
	if r := call(t, "GET", s.URL()+"/rest/api/latest/mypermissions?projectKey=MKY&permissions=LINK_ISSUES", ""); r.status != 200 || have(r, "LINK_ISSUES") != false {
		t.Errorf("latest alias: %d %s", r.status, r.raw)
	}
	// Global context: held in some project.
	if r := call(t, "GET", u+"?permissions=LINK_ISSUES", ""); r.status != 200 || have(r, "LINK_ISSUES") != true {
		t.Errorf("global: %d %s", r.status, r.raw)
	}
	// Data Center lists every permission when none is asked.
	if r := call(t, "GET", u+"?projectKey=HSP", ""); r.status != 200 || len(r.body["permissions"].(map[string]any)) < 10 {
		t.Errorf("all permissions: %d %s", r.status, r.raw)
	}

	for _, tc := range []struct {
		method, query string
		status        int
		msg           string
	}{
		{"GET", "?projectKey=NOPE&permissions=LINK_ISSUES", 404, "No project could be found with key 'NOPE'."},
		{"GET", "?projectKey=HSP&permissions=LINK_ISSUES,FLY", 400, "FLY"},
		{"POST", "?projectKey=HSP&permissions=LINK_ISSUES", 405, ""},
	} {
		r := call(t, tc.method, u+tc.query, "")
		if r.status != tc.status || !strings.Contains(r.raw, tc.msg) {
			t.Errorf("%s %s: %d %s", tc.method, tc.query, r.status, r.raw)
		}
	}
	if n := s.Calls().ByRoute[jiratest.RouteMyPermissions]; n != 7 {
		t.Errorf("RouteMyPermissions counted %d, want 7", n)
	}
}

func TestMyPermissionsCloudNeedsPermissions(t *testing.T) {
	s := start(t, func(o *jiratest.Options) { o.Cloud = true })
	if r := call(t, "GET", s.URL()+"/rest/api/2/mypermissions?projectKey=HSP", ""); r.status != 400 {
		t.Errorf("Cloud without permissions: %d %s", r.status, r.raw)
	}
}

func TestLinkWritesNeedLinkIssues(t *testing.T) {
	s := start(t, func(o *jiratest.Options) { o.Permissions = noLinkInMKY })
	for _, tc := range []struct {
		method, path, body string
		status             int
	}{
		{"POST", "/rest/api/2/issue/MKY-1/remotelink", linkBody, http.StatusForbidden},
		{"DELETE", "/rest/api/2/issue/MKY-1/remotelink?globalId=x", "", http.StatusForbidden},
		{"DELETE", "/rest/api/2/issue/MKY-1/remotelink/10000", "", http.StatusForbidden},
		{"GET", "/rest/api/2/issue/MKY-1/remotelink", "", http.StatusOK},
		{"POST", "/rest/api/2/issue/HSP-1/remotelink", linkBody, http.StatusCreated},
	} {
		r := call(t, tc.method, s.URL()+tc.path, tc.body)
		if r.status != tc.status {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, r.status, r.raw, tc.status)
		}
		if tc.status == http.StatusForbidden && !strings.Contains(r.raw, "You do not have the permission to link issues.") {
			t.Errorf("%s %s: body %s", tc.method, tc.path, r.raw)
		}
	}
	if len(s.Links("MKY-1")) != 0 {
		t.Error("a refused write changed the links")
	}
}
