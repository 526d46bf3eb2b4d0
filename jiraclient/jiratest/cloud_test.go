package jiratest_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
)

func cloud(o *jiratest.Options) { o.Cloud = true }

func TestCloudServerInfoAndMyself(t *testing.T) {
	s := start(t, cloud)
	r := call(t, "GET", s.URL()+"/rest/api/2/serverInfo", "")
	if r.status != 200 || r.body["deploymentType"] != "Cloud" || r.body["version"] != jiratest.CloudVersion {
		t.Errorf("serverInfo: %d %s", r.status, r.raw)
	}
	r = call(t, "GET", s.URL()+"/rest/api/2/myself", "")
	if _, hasName := r.body["name"]; r.status != 200 || r.body["accountId"] != jiratest.CloudAccountID || hasName {
		t.Errorf("myself: %d %s", r.status, r.raw)
	}

	dc := start(t, nil)
	if r := call(t, "GET", dc.URL()+"/rest/api/2/serverInfo", ""); r.body["deploymentType"] != "Server" {
		t.Errorf("Data Center serverInfo: %s", r.raw)
	}
}

func TestCloudOldSearchIsGone(t *testing.T) {
	s := start(t, cloud)
	for _, tc := range []struct{ method, path string }{
		{"GET", "/rest/api/2/search?jql=key%3DHSP-1"},
		{"POST", "/rest/api/2/search"},
		{"POST", "/rest/api/latest/search"},
		{"GET", "/rest/api/3/search?jql=key%3DHSP-1"},
		{"POST", "/rest/api/3/search"},
	} {
		r := call(t, tc.method, s.URL()+tc.path, `{"jql":"key = HSP-1"}`)
		if r.status != http.StatusGone || !strings.Contains(r.raw, "Please migrate to the /rest/api/3/search/jql API") {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, r.status, r.raw)
		}
	}
	// Data Center has no v3 at all.
	dc := start(t, nil)
	if r := call(t, "POST", dc.URL()+"/rest/api/3/search/jql", `{"jql":"key = HSP-1"}`); r.status != http.StatusNotFound {
		t.Errorf("Data Center search/jql: %d", r.status)
	}
}

func TestCloudSearchJQLPages(t *testing.T) {
	s := start(t, cloud)
	u := s.URL() + "/rest/api/3/search/jql"
	var keys []string
	for i := 1; i <= 12; i++ {
		keys = append(keys, fmt.Sprintf("HSP-%d", i))
	}
	keys = append(keys, "HSP-999", "NOPE-1") // missing: skipped silently
	jql := "key in (" + strings.Join(keys, ", ") + ")"

	var got []string
	token := ""
	for page := 0; ; page++ {
		body := fmt.Sprintf(`{"jql":%q,"fields":["key"],"maxResults":5}`, jql)
		if token != "" {
			body = fmt.Sprintf(`{"jql":%q,"fields":["key"],"maxResults":5,"nextPageToken":%q}`, jql, token)
		}
		r := call(t, "POST", u, body)
		if r.status != 200 {
			t.Fatalf("page %d: %d %s", page, r.status, r.raw)
		}
		for _, is := range r.body["issues"].([]any) {
			got = append(got, is.(map[string]any)["key"].(string))
		}
		last := r.body["isLast"] == true
		tok, hasTok := r.body["nextPageToken"].(string)
		if last == hasTok || page > 3 {
			t.Fatalf("page %d: isLast %v with token %q", page, last, tok)
		}
		if last {
			if page != 2 {
				t.Errorf("%d pages, want 3", page+1)
			}
			break
		}
		token = tok
	}
	if want := strings.Join(keys[:12], ","); strings.Join(got, ",") != want {
		t.Errorf("keys = %v, want %s", got, want)
	}
	if c := s.Calls(); c.Searches != 3 || c.ByRoute[jiratest.RouteSearchJQL] != 3 {
		t.Errorf("calls = %+v", c)
	}

	for name, body := range map[string]string{
		"validateQuery":   `{"jql":"key = HSP-1","validateQuery":false}`,
		"startAt":         `{"jql":"key = HSP-1","startAt":5}`,
		"foreign token":   fmt.Sprintf(`{"jql":"key = HSP-1","nextPageToken":%q}`, token),
		"unsupported JQL": `{"jql":"project = HSP"}`,
	} {
		if r := call(t, "POST", u, body); r.status != http.StatusBadRequest {
			t.Errorf("%s: %d %s", name, r.status, r.raw)
		}
	}
	// Without fields an issue has only id, key and self.
	r := call(t, "POST", u, `{"jql":"key = HSP-1"}`)
	is := r.body["issues"].([]any)[0].(map[string]any)
	if _, ok := is["fields"]; ok || is["key"] != "HSP-1" || is["id"] == nil {
		t.Errorf("issue without fields: %v", is)
	}
}

func TestCloudSearchPageSize(t *testing.T) {
	s := start(t, func(o *jiratest.Options) { o.Cloud, o.SearchPageSize = true, 2 })
	r := call(t, "POST", s.URL()+"/rest/api/3/search/jql", `{"jql":"key in (HSP-1, HSP-2, HSP-3)","fields":["key"],"maxResults":100}`)
	if n := len(r.body["issues"].([]any)); n != 2 || r.body["isLast"] != false {
		t.Errorf("page of %d issues, isLast %v", n, r.body["isLast"])
	}
}

func TestCloudRemoteLinkLimit(t *testing.T) {
	s := start(t, func(o *jiratest.Options) { o.Cloud, o.MaxRemoteLinks = true, 2 })
	u := s.URL() + "/rest/api/2/issue/HSP-1/remotelink"
	link := func(gid string) string {
		return fmt.Sprintf(`{"globalId":%q,"object":{"url":"https://example.com/%s","title":"t"}}`, gid, gid)
	}
	for _, gid := range []string{"a", "b"} {
		if r := call(t, "POST", u, link(gid)); r.status != 201 {
			t.Fatalf("create %s: %d %s", gid, r.status, r.raw)
		}
	}
	r := call(t, "POST", u, link("c"))
	if r.status != http.StatusRequestEntityTooLarge || !strings.Contains(r.raw, "per-issue limit for remote links") {
		t.Errorf("over the cap: %d %s", r.status, r.raw)
	}
	if r := call(t, "POST", u, link("a")); r.status != 200 {
		t.Errorf("update at the cap: %d %s", r.status, r.raw)
	}
	if r := call(t, "POST", u, `{"object":{"url":"https://example.com/x","title":"no global id"}}`); r.status != http.StatusRequestEntityTooLarge {
		t.Errorf("create without globalId at the cap: %d", r.status)
	}
	if n := len(s.Links("HSP-1")); n != 2 {
		t.Errorf("%d links, want 2", n)
	}
}

// TestCloudDefaultLinkLimit: Cloud mode caps at 2,000 by default; Data
// Center has no cap.
func TestCloudDefaultLinkLimit(t *testing.T) {
	for _, tc := range []struct {
		cloud bool
		want  int
	}{{true, http.StatusRequestEntityTooLarge}, {false, http.StatusCreated}} {
		s := jiratest.NewServer(jiratest.Options{Cloud: tc.cloud, IssueExists: jiratest.AllIssues,
			Projects: []jiratest.Project{{ID: "1", Key: "HSP", Name: "H"}}})
		h := s.Handler()
		post := func(i int) int {
			body := fmt.Sprintf(`{"globalId":"g%d","object":{"url":"https://example.com/%d","title":"t"}}`, i, i)
			w := httptest.NewRecorder()
			h.ServeHTTP(w, httptest.NewRequest("POST", "/rest/api/2/issue/HSP-1/remotelink", strings.NewReader(body)))
			return w.Code
		}
		for i := range jiratest.CloudMaxRemoteLinks {
			if code := post(i); code != http.StatusCreated {
				t.Fatalf("cloud=%v: link %d: %d", tc.cloud, i, code)
			}
		}
		if code := post(jiratest.CloudMaxRemoteLinks); code != tc.want {
			t.Errorf("cloud=%v: link 2001: %d, want %d", tc.cloud, code, tc.want)
		}
	}
}

func TestDateFromNow(t *testing.T) {
	at := time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)
	s := start(t, func(o *jiratest.Options) { o.Now = func() time.Time { return at } })
	for _, path := range []string{"/rest/api/2/serverInfo", "/nowhere"} {
		r := call(t, "GET", s.URL()+path, "")
		if d := r.header.Get("Date"); d != "Wed, 02 Jan 2030 03:04:05 GMT" {
			t.Errorf("%s: Date %q", path, d)
		}
	}
}
