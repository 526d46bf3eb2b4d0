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
	have := func(r response, key string) any {
		return r.body["permissions"].(map[string]any)[key].(map[string]any)["havePermission"]
	}
	count := func(r response) int { return len(r.body["permissions"].(map[string]any)) }

	// Data Center lists every permission.
	r := call(t, "GET", u+"?projectKey=HSP", "")
	want := map[string]any{
		"id": "21", "key": "LINK_ISSUES", "name": "Link Issues", "type": "PROJECT",
		"description":    "Ability to link issues together and create linked issues. Only useful if issue linking is turned on.",
		"havePermission": true,
	}
	if r.status != 200 || count(r) < 10 || !reflect.DeepEqual(r.body["permissions"].(map[string]any)["LINK_ISSUES"], want) {
		t.Errorf("HSP: %d %s", r.status, r.raw)
	}
	r = call(t, "GET", u+"?projectKey=MKY", "")
	if r.status != 200 || have(r, "BROWSE_PROJECTS") != true || have(r, "LINK_ISSUES") != false || have(r, "EDIT_ISSUES") != false {
		t.Errorf("MKY: %d %s", r.status, r.raw)
	}
	// Cloud's permissions parameter is unknown to Data Center: ignored,
	// unknown keys included.
	for _, q := range []string{"?projectKey=MKY&permissions=LINK_ISSUES", "?projectKey=MKY&permissions=LINK_ISSUES,FLY"} {
		if r := call(t, "GET", u+q, ""); r.status != 200 || count(r) < 10 || have(r, "LINK_ISSUES") != false {
			t.Errorf("%s: %d %s", q, r.status, r.raw)
		}
	}
	// The /latest alias is the same route.
	if r := call(t, "GET", s.URL()+"/rest/api/latest/mypermissions?projectKey=MKY", ""); r.status != 200 || have(r, "LINK_ISSUES") != false {
		t.Errorf("latest alias: %d %s", r.status, r.raw)
	}
	// Global context: held in some project.
	if r := call(t, "GET", u, ""); r.status != 200 || have(r, "LINK_ISSUES") != true {
		t.Errorf("global: %d %s", r.status, r.raw)
	}

	for _, tc := range []struct {
		method, query string
		status        int
		msg           string
	}{
		{"GET", "?projectKey=NOPE", 404, "No project could be found with key 'NOPE'."},
		{"POST", "?projectKey=HSP", 405, ""},
	} {
		r := call(t, tc.method, u+tc.query, "")
		if r.status != tc.status || !strings.Contains(r.raw, tc.msg) {
			t.Errorf("%s %s: %d %s", tc.method, tc.query, r.status, r.raw)
		}
	}
	if n := s.Calls().ByRoute[jiratest.RouteMyPermissions]; n != 7 {
		t.Errorf("RouteMyPermissions counted %d, want 7 (the POST is another route)", n)
	}
	reqs := s.Requests()
	if len(reqs) != 8 || reqs[0] != (jiratest.Request{Method: "GET", Route: jiratest.RouteMyPermissions, Path: "/rest/api/2/mypermissions", RawQuery: "projectKey=HSP", Credential: "fake-token"}) {
		t.Errorf("request log: %+v", reqs)
	}
}

func TestMyPermissionsCloud(t *testing.T) {
	s := start(t, func(o *jiratest.Options) { o.Cloud = true; o.Permissions = noLinkInMKY })
	u := s.URL() + "/rest/api/2/mypermissions"
	if r := call(t, "GET", u+"?projectKey=HSP", ""); r.status != 400 {
		t.Errorf("Cloud without permissions: %d %s", r.status, r.raw)
	}
	r := call(t, "GET", u+"?projectKey=MKY&permissions=BROWSE_PROJECTS,LINK_ISSUES", "")
	perms, _ := r.body["permissions"].(map[string]any)
	if r.status != 200 || len(perms) != 2 || perms["LINK_ISSUES"].(map[string]any)["havePermission"] != false {
		t.Errorf("Cloud asked two: %d %s", r.status, r.raw)
	}
	if r := call(t, "GET", u+"?projectKey=HSP&permissions=LINK_ISSUES,FLY", ""); r.status != 400 || !strings.Contains(r.raw, "FLY") {
		t.Errorf("Cloud unknown key: %d %s", r.status, r.raw)
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
