package jiratest_test

import (
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
)

const token = "fake-token"

type response struct {
	status int
	header http.Header
	body   map[string]any
	list   []any
	raw    string
}

// call sends one request with the accepted token and decodes the JSON body.
func call(t *testing.T, method, u, body string) response {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	r := response{status: resp.StatusCode, header: resp.Header, raw: string(b)}
	if len(b) > 0 && b[0] == '[' {
		_ = json.Unmarshal(b, &r.list)
	} else if len(b) > 0 {
		_ = json.Unmarshal(b, &r.body)
	}
	return r
}

func start(t *testing.T, mod func(*jiratest.Options)) *jiratest.Server {
	t.Helper()
	opts := jiratest.Options{
		Token:       token,
		Projects:    []jiratest.Project{{ID: "1", Key: "HSP", Name: "Homosapien"}, {ID: "2", Key: "MKY", Name: "Monkey"}},
		IssueExists: func(key string) bool { return key != "HSP-999" },
	}
	if mod != nil {
		mod(&opts)
	}
	return jiratest.Start(t, opts)
}

const linkBody = `{"globalId":"url=http://www.remoteapplication.com&id=12345","relationship":"relates to",
 "object":{"url":"http://www.remoteapplication.com/ticket/12345","title":"Ticket #12345"}}`

func TestCreateThenUpdateKeepsID(t *testing.T) {
	s := start(t, nil)
	u := s.URL() + "/rest/api/2/issue/HSP-1/remotelink"

	created := call(t, "POST", u, linkBody)
	if created.status != 201 {
		t.Fatalf("create: %d %s", created.status, created.raw)
	}
	id := created.body["id"].(float64)
	self := fmt.Sprintf("%s/%d", u, int64(id))
	if created.body["self"] != self || created.header.Get("Location") != self {
		t.Errorf("create body %v, Location %q; want self %q", created.body, created.header.Get("Location"), self)
	}

	updated := call(t, "POST", u, strings.Replace(linkBody, "Ticket #12345", "Ticket #12345 (closed)", 1))
	if updated.status != 200 || updated.body["id"] != id || updated.body["self"] != self {
		t.Fatalf("update: %d %v", updated.status, updated.body)
	}
	links := s.Links("HSP-1")
	if len(links) != 1 || links[0].Object.Title != "Ticket #12345 (closed)" || links[0].ID != int64(id) {
		t.Errorf("links = %+v", links)
	}

	// Without globalId every POST creates.
	noGID := `{"object":{"url":"http://x.example/1","title":"t"}}`
	a, b := call(t, "POST", u, noGID), call(t, "POST", u, noGID)
	if a.status != 201 || b.status != 201 || a.body["id"] == b.body["id"] {
		t.Errorf("two creates without globalId: %v %v", a.body, b.body)
	}
	// The same globalId on another issue is another link.
	other := call(t, "POST", s.URL()+"/rest/api/2/issue/MKY-1/remotelink", linkBody)
	if other.status != 201 || other.body["id"] == id {
		t.Errorf("other issue: %d %v", other.status, other.body)
	}
	if all := s.AllLinks(); len(all["HSP-1"]) != 3 || len(all["MKY-1"]) != 1 {
		t.Errorf("AllLinks = %v", all)
	}
}

func TestGetAndDeleteByGlobalID(t *testing.T) {
	s := start(t, nil)
	u := s.URL() + "/rest/api/latest/issue/HSP-2/remotelink" // the alias
	gid := "system=http://www.mycompany.com/support&id=1"
	body := `{"globalId":"` + gid + `","object":{"url":"http://www.mycompany.com/support?id=1","title":"TSTSUP-111"}}`
	call(t, "POST", u, body)
	call(t, "POST", u, `{"object":{"url":"http://other.example/","title":"other"}}`)

	list := call(t, "GET", u, "")
	if list.status != 200 || len(list.list) != 2 {
		t.Fatalf("GET all: %d %s", list.status, list.raw)
	}
	one := call(t, "GET", u+"?globalId="+url.QueryEscape(gid), "")
	if one.status != 200 || one.body["globalId"] != gid {
		t.Errorf("GET by globalId: %d %s", one.status, one.raw)
	}
	if r := call(t, "GET", u+"?globalId=nope", ""); r.status != 404 {
		t.Errorf("GET unknown globalId: %d", r.status)
	}

	del := call(t, "DELETE", u+"?globalId="+url.QueryEscape(gid), "")
	if del.status != 204 || len(s.Links("HSP-2")) != 1 {
		t.Errorf("DELETE: %d, %d links left", del.status, len(s.Links("HSP-2")))
	}
	if r := call(t, "DELETE", u+"?globalId="+url.QueryEscape(gid), ""); r.status != 404 {
		t.Errorf("second DELETE: %d", r.status)
	}
	if r := call(t, "DELETE", u, ""); r.status != 400 {
		t.Errorf("DELETE without globalId: %d", r.status)
	}
}

func TestLinkByID(t *testing.T) {
	s := start(t, nil)
	base := s.URL() + "/rest/api/2/issue/"
	id := int64(call(t, "POST", base+"HSP-1/remotelink", linkBody).body["id"].(float64))
	byID := fmt.Sprintf("%sHSP-1/remotelink/%d", base, id)

	if r := call(t, "GET", byID, ""); r.status != 200 || r.body["id"] != float64(id) {
		t.Errorf("GET by id: %d %s", r.status, r.raw)
	}
	// PUT is a full update: the relationship not sent is gone.
	if r := call(t, "PUT", byID, `{"object":{"url":"http://new.example/","title":"new"}}`); r.status != 204 {
		t.Errorf("PUT: %d %s", r.status, r.raw)
	}
	if l := s.Links("HSP-1")[0]; l.ID != id || l.Relationship != "" || l.GlobalID != "" || l.Object.Title != "new" {
		t.Errorf("after PUT: %+v", l)
	}
	if r := call(t, "GET", fmt.Sprintf("%sMKY-1/remotelink/%d", base, id), ""); r.status != 400 {
		t.Errorf("link of another issue: %d", r.status)
	}
	if r := call(t, "DELETE", base+"HSP-1/remotelink/99a", ""); r.status != 400 {
		t.Errorf("non-numeric id: %d", r.status)
	}
	if r := call(t, "PUT", base+"HSP-1/remotelink/-1", linkBody); r.status != 404 {
		t.Errorf("unknown id: %d", r.status)
	}
	if r := call(t, "DELETE", byID, ""); r.status != 204 || len(s.Links("HSP-1")) != 0 {
		t.Errorf("DELETE by id: %d", r.status)
	}
	if r := call(t, "GET", byID, ""); r.status != 404 {
		t.Errorf("GET deleted: %d", r.status)
	}
}

func TestIssueNotFound(t *testing.T) {
	s := start(t, nil)
	for _, key := range []string{"HSP-999", "NOPE-1", "HSP-0", "HSP"} {
		r := call(t, "POST", s.URL()+"/rest/api/2/issue/"+key+"/remotelink", linkBody)
		want := map[string]any{"errorMessages": []any{"Issue Does Not Exist"}, "errors": map[string]any{}}
		if r.status != 404 || !reflect.DeepEqual(r.body, want) {
			t.Errorf("%s: %d %s", key, r.status, r.raw)
		}
	}
	// With no IssueExists nothing exists.
	none := jiratest.Start(t, jiratest.Options{})
	if r := call(t, "GET", none.URL()+"/rest/api/2/issue/HSP-1/remotelink", ""); r.status != 404 {
		t.Errorf("default IssueExists: %d", r.status)
	}
}

func TestValidation(t *testing.T) {
	s := start(t, nil)
	u := s.URL() + "/rest/api/2/issue/HSP-1/remotelink"
	long := strings.Repeat("g", 256)
	tests := []struct {
		name, body string
		fields     []string
	}{
		{"missing url", `{"object":{"title":"t"}}`, []string{"url"}},
		{"blank title", `{"object":{"url":"http://x.example/","title":"    "}}`, []string{"title"}},
		{"no object", `{"globalId":"g"}`, []string{"url", "title"}},
		{"invalid url", `{"object":{"url":"this is not a valid URI","title":"t"}}`, []string{"url"}},
		{"invalid icon", `{"object":{"url":"http://x.example/","title":"t","icon":{"url16x16":"not a uri"}}}`, []string{"iconUrl"}},
		{"invalid status icon", `{"object":{"url":"http://x.example/","title":"t","status":{"resolved":true,"icon":{"url16x16":"a b","link":"c d"}}}}`, []string{"statusIconUrl", "statusIconLink"}},
		{"globalId too long", `{"globalId":"` + long + `","object":{"url":"http://x.example/","title":"t"}}`, []string{"globalId"}},
	}
	for _, tc := range tests {
		r := call(t, "POST", u, tc.body)
		if r.status != 400 {
			t.Errorf("%s: status %d", tc.name, r.status)
			continue
		}
		errs, _ := r.body["errors"].(map[string]any)
		if msgs, _ := r.body["errorMessages"].([]any); msgs == nil || len(msgs) != 0 || len(errs) != len(tc.fields) {
			t.Errorf("%s: body %s", tc.name, r.raw)
		}
		for _, f := range tc.fields {
			if _, ok := errs[f]; !ok {
				t.Errorf("%s: no error for %q in %s", tc.name, f, r.raw)
			}
		}
	}
	// 255 characters are fine, and blank optional fields too.
	ok := call(t, "POST", u, `{"globalId":"`+long[:255]+`","object":{"url":"http://x.example/","title":"t","icon":{"url16x16":""}}}`)
	if ok.status != 201 {
		t.Errorf("255-char globalId: %d %s", ok.status, ok.raw)
	}
	// Not JSON: errorMessages only, like Jira's mapping errors.
	r := call(t, "POST", u, "url=http://x")
	if _, hasErrors := r.body["errors"]; r.status != 400 || hasErrors || len(r.body["errorMessages"].([]any)) != 1 {
		t.Errorf("not JSON: %d %s", r.status, r.raw)
	}
	if n := len(s.Links("HSP-1")); n != 1 {
		t.Errorf("%d links stored, want only the valid one", n)
	}
}

func TestSearch(t *testing.T) {
	s := start(t, nil)
	base := s.URL() + "/rest/api/2/search"
	var keys []string
	for i := 1; i <= 7; i++ {
		keys = append(keys, fmt.Sprintf("HSP-%d", i))
	}
	jql := `key in (` + strings.Join(keys, ", ") + `, "mky-3", 'HSP-999', NOPE-1)`
	post := func(startAt, maxResults int) response {
		b, _ := json.Marshal(map[string]any{"jql": jql, "validateQuery": false, "startAt": startAt, "maxResults": maxResults, "fields": []string{"key"}})
		return call(t, "POST", base, string(b))
	}
	pageKeys := func(r response) []string {
		var out []string
		for _, is := range r.body["issues"].([]any) {
			out = append(out, is.(map[string]any)["key"].(string))
		}
		return out
	}

	p1 := post(0, 5)
	if p1.status != 200 || p1.body["total"] != 8.0 || p1.body["maxResults"] != 5.0 || p1.body["startAt"] != 0.0 {
		t.Fatalf("page 1: %d %s", p1.status, p1.raw)
	}
	if got := pageKeys(p1); !reflect.DeepEqual(got, []string{"HSP-1", "HSP-2", "HSP-3", "HSP-4", "HSP-5"}) {
		t.Errorf("page 1 keys = %v", got)
	}
	if w, _ := p1.body["warningMessages"].([]any); len(w) != 2 {
		t.Errorf("warnings = %v, want the 2 skipped keys", p1.body["warningMessages"])
	}
	p2 := post(5, 5)
	if got := pageKeys(p2); !reflect.DeepEqual(got, []string{"HSP-6", "HSP-7", "MKY-3"}) || p2.body["startAt"] != 5.0 {
		t.Errorf("page 2 keys = %v (%s)", got, p2.raw)
	}
	if capped := post(0, 5000); capped.body["maxResults"] != 1000.0 {
		t.Errorf("maxResults not capped: %v", capped.body["maxResults"])
	}
	first := p1.body["issues"].([]any)[0].(map[string]any)
	if first["id"] == "" || first["self"] != s.URL()+"/rest/api/2/issue/"+first["id"].(string) {
		t.Errorf("issue entry = %v", first)
	}

	// GET with query parameters; validateQuery defaults to true.
	get := call(t, "GET", base+"?jql="+url.QueryEscape("key = HSP-3"), "")
	if get.status != 200 || get.body["total"] != 1.0 || get.body["maxResults"] != 50.0 {
		t.Errorf("GET key =: %d %s", get.status, get.raw)
	}
	// The same issue keeps its id.
	again := call(t, "GET", base+"?jql="+url.QueryEscape("key = HSP-1"), "")
	if id := again.body["issues"].([]any)[0].(map[string]any)["id"]; id != first["id"] {
		t.Errorf("HSP-1 id changed from %v to %v", first["id"], id)
	}
	for _, q := range []string{"key in (HSP-1, NOPE-1)", "key = HSP-999"} {
		r := call(t, "GET", base+"?jql="+url.QueryEscape(q), "")
		if r.status != 400 || len(r.body["errorMessages"].([]any)) != 1 {
			t.Errorf("validated %q: %d %s", q, r.status, r.raw)
		}
	}
	for _, q := range []string{"project ~ HSP", "key in (HSP-1", "key in (HSP-1) OR 1=1", "key = 'HSP-1", "summary ~ x", "key in ()"} {
		r := call(t, "POST", base, `{"jql":`+mustJSON(q)+`,"validateQuery":false}`)
		if r.status != 400 || !strings.HasPrefix(r.body["errorMessages"].([]any)[0].(string), "Error in the JQL Query") {
			t.Errorf("bad JQL %q: %d %s", q, r.status, r.raw)
		}
	}
	if c := s.Calls(); c.Searches != c.Total || c.ByRoute[jiratest.RouteSearchGet] != 4 {
		t.Errorf("calls = %+v", c)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func TestAuth(t *testing.T) {
	s := start(t, func(o *jiratest.Options) { o.Username, o.Password = "fred", "pw" })
	u := s.URL() + "/rest/api/2/myself"
	do := func(method, u string, set func(*http.Request)) (int, string) {
		req, _ := http.NewRequest(method, u, nil)
		set(req)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	want401 := `{"errorMessages":["You are not authenticated. Authentication required to perform this operation."],"errors":{}}`
	tests := []struct {
		name string
		set  func(*http.Request)
		want int
	}{
		{"bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+token) }, 200},
		{"basic", func(r *http.Request) { r.SetBasicAuth("fred", "pw") }, 200},
		{"wrong bearer", func(r *http.Request) { r.Header.Set("Authorization", "Bearer x") }, 401},
		{"wrong basic", func(r *http.Request) { r.SetBasicAuth("fred", "x") }, 401},
		{"none", func(*http.Request) {}, 401},
	}
	for _, tc := range tests {
		status, body := do("GET", u, tc.set)
		if status != tc.want || status == 401 && strings.TrimSpace(body) != want401 {
			t.Errorf("%s: %d %s", tc.name, status, body)
		}
	}
	// serverInfo is anonymous, but wrong credentials are refused there too.
	if st, _ := do("GET", s.URL()+"/rest/api/2/serverInfo", func(*http.Request) {}); st != 200 {
		t.Errorf("anonymous serverInfo: %d", st)
	}
	if st, _ := do("GET", s.URL()+"/rest/api/2/serverInfo", func(r *http.Request) { r.SetBasicAuth("fred", "x") }); st != 401 {
		t.Errorf("serverInfo with wrong password: %d", st)
	}
	// No credentials configured: open server.
	open := jiratest.Start(t, jiratest.Options{})
	if st, _ := do("GET", open.URL()+"/rest/api/2/myself", func(*http.Request) {}); st != 200 {
		t.Errorf("open server: %d", st)
	}
}

func TestFailNextAndCalls(t *testing.T) {
	s := start(t, nil)
	u := s.URL() + "/rest/api/2/issue/HSP-1/remotelink"
	s.FailNext(jiratest.RouteRemoteLinkUpsert, 2, 429, http.Header{"Retry-After": {"5"}}, `{"errorMessages":["Rate limit exceeded."]}`)
	for i := range 2 {
		r := call(t, "POST", u, linkBody)
		if r.status != 429 || r.header.Get("Retry-After") != "5" {
			t.Errorf("attempt %d: %d", i, r.status)
		}
	}
	if len(s.Links("HSP-1")) != 0 {
		t.Error("an injected failure changed state")
	}
	// Other routes are untouched; the fault is used up.
	if r := call(t, "GET", u, ""); r.status != 200 {
		t.Errorf("GET: %d", r.status)
	}
	if r := call(t, "POST", u, linkBody); r.status != 201 {
		t.Errorf("POST after faults: %d", r.status)
	}
	s.FailNext(jiratest.AnyRoute, 1, 503, nil, "")
	if r := call(t, "GET", s.URL()+"/rest/api/2/myself", ""); r.status != 503 {
		t.Errorf("AnyRoute: %d", r.status)
	}
	if r := call(t, "GET", s.URL()+"/rest/api/2/nothing", ""); r.status != 404 {
		t.Errorf("unknown path: %d", r.status)
	}
	if r := call(t, "PATCH", u, linkBody); r.status != 405 {
		t.Errorf("PATCH: %d", r.status)
	}
	c := s.Calls()
	want := jiratest.Calls{Total: 7, Writes: 3, Searches: 0, Faults: 3, ByRoute: map[string]int{
		jiratest.RouteRemoteLinkUpsert:             3,
		jiratest.RouteRemoteLinks:                  1,
		jiratest.RouteMyself:                       1,
		"unmatched":                                1,
		"PATCH /rest/api/2/issue/{key}/remotelink": 1,
	}}
	if !reflect.DeepEqual(c, want) {
		t.Errorf("Calls = %+v\nwant    %+v", c, want)
	}
	s.ResetCalls()
	if c := s.Calls(); c.Total != 0 || len(c.ByRoute) != 0 {
		t.Errorf("after ResetCalls: %+v", c)
	}
}

func TestDefaultProjectsAndContextPath(t *testing.T) {
	s := jiratest.Start(t, jiratest.Options{ContextPath: "jira/", IssueExists: jiratest.AllIssues})
	if !strings.HasSuffix(s.URL(), "/jira") {
		t.Fatalf("URL() = %q", s.URL())
	}
	r := call(t, "GET", s.URL()+"/rest/api/2/project", "")
	if r.status != 200 || len(r.list) != 567 {
		t.Fatalf("projects: %d, %d entries", r.status, len(r.list))
	}
	if p := r.list[0].(map[string]any); p["key"] != "AGILA" || p["id"] != "10730" || p["self"] != s.URL()+"/rest/api/2/project/10730" {
		t.Errorf("first project = %v", p)
	}
	if r := call(t, "POST", s.URL()+"/rest/api/2/issue/ZOOKEEPER-4711/remotelink", linkBody); r.status != 201 {
		t.Errorf("Apache project issue: %d %s", r.status, r.raw)
	}
	if r := call(t, "GET", strings.TrimSuffix(s.URL(), "/jira")+"/rest/api/2/myself", ""); r.status != 404 {
		t.Errorf("outside the context path: %d", r.status)
	}
	si := call(t, "GET", s.URL()+"/rest/api/2/serverInfo", "")
	if si.body["baseUrl"] != s.URL() || si.body["version"] != jiratest.Version {
		t.Errorf("serverInfo = %v", si.body)
	}
}

func TestLinksAreCopies(t *testing.T) {
	s := start(t, nil)
	call(t, "POST", s.URL()+"/rest/api/2/issue/HSP-1/remotelink",
		`{"globalId":"g","object":{"url":"http://x.example/","title":"t","icon":{"url16x16":"http://x.example/i.png"}}}`)
	ls := s.Links("HSP-1")
	ls[0].Object.Icon.URL16 = "changed"
	ls[0].Object.Title = "changed"
	if got := s.Links("HSP-1")[0]; got.Object.Icon.URL16 == "changed" || got.Object.Title == "changed" {
		t.Error("Links returned the fake's own state")
	}
}

func TestConcurrentUpserts(t *testing.T) {
	s := start(t, nil)
	c, err := jiraclient.New(jiraclient.Options{BaseURL: s.URL(), Auth: jiraclient.Auth{Token: token}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i := range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l := jiraclient.RemoteLink{GlobalID: fmt.Sprintf("g%d", i%5), Object: jiraclient.Object{URL: "http://x.example/", Title: "t"}}
			if _, err := c.UpsertRemoteLink(t.Context(), "HSP-1", l); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := len(s.Links("HSP-1")); n != 5 {
		t.Errorf("%d links, want 5 (one per globalId)", n)
	}
}

func TestFailNextAfterApply(t *testing.T) {
	s := start(t, nil)
	u := s.URL() + "/rest/api/2/issue/HSP-1/remotelink"
	s.FailNextAfterApply(jiratest.RouteRemoteLinkUpsert, 1, 500, nil, `{"errorMessages":["Internal server error"],"errors":{}}`)
	if r := call(t, "POST", u, linkBody); r.status != 500 {
		t.Fatalf("status %d, want the injected 500", r.status)
	}
	if n := len(s.Links("HSP-1")); n != 1 {
		t.Fatalf("%d links: the write did not take effect", n)
	}
	// Sent again, the upsert updates the link it created.
	if r := call(t, "POST", u, linkBody); r.status != 200 || len(s.Links("HSP-1")) != 1 {
		t.Errorf("resend: %d, %d links", r.status, len(s.Links("HSP-1")))
	}
	if c := s.Calls(); c.Faults != 1 || c.AppliedFaults != 1 {
		t.Errorf("calls = %+v", c)
	}
}

func TestStorm(t *testing.T) {
	run := func() ([]int, int) {
		s := start(t, nil)
		s.FailRandomly(jiratest.Storm{Rate: 0.5, AfterApply: 1, Rand: rand.New(rand.NewPCG(3, 4))})
		var statuses []int
		for i := range 40 {
			u := fmt.Sprintf("%s/rest/api/2/issue/HSP-%d/remotelink", s.URL(), i+1)
			r := call(t, "POST", u, linkBody)
			statuses = append(statuses, r.status)
			switch {
			case r.status == 500 && !strings.Contains(r.raw, "Internal server error"),
				r.status == 502 && !strings.Contains(r.raw, "502 Bad Gateway"),
				r.status == 503 && !strings.Contains(r.raw, "503 Service"):
				t.Errorf("status %d with body %q", r.status, r.raw)
			}
		}
		s.FailRandomly(jiratest.Storm{})
		if r := call(t, "GET", s.URL()+"/rest/api/2/myself", ""); r.status != 200 {
			t.Errorf("after the storm: %d", r.status)
		}
		return statuses, len(s.AllLinks())
	}
	a, links := run()
	b, _ := run()
	if !slices.Equal(a, b) {
		t.Errorf("the same seed gave other answers: %v, %v", a, b)
	}
	if links != 40 {
		t.Errorf("%d of 40 links stored; every failed write was to be applied", links)
	}
	failed := 0
	for _, st := range a {
		if st >= 500 {
			failed++
		}
	}
	if failed == 0 || failed == 40 {
		t.Errorf("%d of 40 requests failed at rate 0.5", failed)
	}
}
