package jiraclient_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

func TestRemoteLinkLifecycle(t *testing.T) {
	srv := startFake(t, nil)
	c, _ := newClient(t, srv.URL(), nil)
	ctx := context.Background()
	const gid = "system=https://github.com&repo=1296269&commit=6dcb09b5"

	id1, err := c.UpsertRemoteLink(ctx, "ABC-1", sampleLink(gid)) // 201
	if err != nil || id1 == 0 {
		t.Fatalf("create: id=%d err=%v", id1, err)
	}
	updated := sampleLink(gid)
	updated.Object.Status = &jiraclient.Status{Resolved: true}
	id2, err := c.UpsertRemoteLink(ctx, "ABC-1", updated) // 200, same id
	if err != nil || id2 != id1 {
		t.Fatalf("update: id=%d (want %d) err=%v", id2, id1, err)
	}
	links, err := c.RemoteLinks(ctx, "ABC-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(links) != 1 || links[0].ID != id1 || links[0].Object.Status == nil || !links[0].Object.Status.Resolved ||
		links[0].Self != fmt.Sprintf("%s/rest/api/2/issue/ABC-1/remotelink/%d", srv.URL(), id1) {
		t.Fatalf("links = %+v", links)
	}

	if err := c.DeleteRemoteLink(ctx, "ABC-1", gid); err != nil { // 204
		t.Fatal(err)
	}
	if n := len(srv.Links("ABC-1")); n != 0 {
		t.Errorf("%d links left after delete", n)
	}
	err = c.DeleteRemoteLink(ctx, "ABC-1", gid) // 404
	if !errors.Is(err, jiraclient.ErrNotFound) {
		t.Errorf("second delete: err = %v, want ErrNotFound", err)
	}
	calls := srv.Calls()
	if calls.Writes != 4 || calls.ByRoute[jiratest.RouteRemoteLinkUpsert] != 2 || calls.ByRoute[jiratest.RouteRemoteLinkDelete] != 2 {
		t.Errorf("calls = %+v", calls)
	}
}

func TestRemoteLinkJSONMatchesJira(t *testing.T) {
	raw := fixture(t, "remote_links.json")
	var links []jiraclient.RemoteLink
	if err := json.Unmarshal([]byte(raw), &links); err != nil {
		t.Fatal(err)
	}
	again, err := json.Marshal(links)
	if err != nil {
		t.Fatal(err)
	}
	var want, got any
	_ = json.Unmarshal([]byte(raw), &want)
	_ = json.Unmarshal(again, &got)
	if !reflect.DeepEqual(want, got) {
		t.Errorf("round trip of Jira's remote link example changed it:\n%s", again)
	}

	// The same links stored through the client come back field for field.
	srv := startFake(t, func(o *jiratest.Options) { o.Projects = []jiraclient.Project{{ID: "1", Key: "MKY", Name: "Monkey"}} })
	c, _ := newClient(t, srv.URL(), nil)
	for _, l := range links {
		if _, err := c.UpsertRemoteLink(context.Background(), "MKY-1", l); err != nil {
			t.Fatal(err)
		}
	}
	stored, err := c.RemoteLinks(context.Background(), "MKY-1")
	if err != nil {
		t.Fatal(err)
	}
	for i := range stored {
		stored[i].ID, stored[i].Self = links[i].ID, links[i].Self
	}
	if !reflect.DeepEqual(stored, links) {
		t.Errorf("stored %+v\nwant   %+v", stored, links)
	}
}

func TestStatuses(t *testing.T) {
	permission := `{"errorMessages":["You do not have the permission to see the specified issue."],"errors":{}}`
	tests := []struct {
		name       string
		status     int
		n          int
		header     http.Header
		body       string
		wantErr    error // nil: success after retries
		wantSleeps []time.Duration
		wantCalls  int
	}{
		{name: "401", status: 401, n: 1, body: `{"errorMessages":["You are not authenticated. Authentication required to perform this operation."],"errors":{}}`, wantErr: jiraclient.ErrUnauthorized, wantCalls: 1},
		{name: "403", status: 403, n: 1, body: permission, wantErr: jiraclient.ErrForbidden, wantCalls: 1},
		{name: "400", status: 400, n: 1, body: fixture(t, "issue-10002.invalid.put.json"), wantErr: jiraclient.ErrBadRequest, wantCalls: 1},
		{name: "429 then success", status: 429, n: 1, header: http.Header{"Retry-After": {"2"}}, wantSleeps: []time.Duration{2 * time.Second}, wantCalls: 2},
		{name: "429 until attempts run out", status: 429, n: 5, header: http.Header{"Retry-After": {"1"}}, wantErr: jiraclient.ErrRateLimited, wantSleeps: []time.Duration{time.Second, time.Second}, wantCalls: 3},
		{name: "503 then success", status: 503, n: 1, wantSleeps: []time.Duration{0}, wantCalls: 2},
		// The remote-link POST is an upsert by globalId: safe to repeat after a 500.
		{name: "500 then success", status: 500, n: 1, body: `{"errorMessages":["Internal server error"],"errors":{}}`, wantSleeps: []time.Duration{0}, wantCalls: 2},
		{name: "500 until attempts run out", status: 500, n: 5, body: `{"errorMessages":["Internal server error"],"errors":{}}`, wantErr: errors.New("any"), wantCalls: 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv := startFake(t, nil)
			srv.FailNext(jiratest.RouteRemoteLinkUpsert, tc.n, tc.status, tc.header, tc.body)
			c, rec := newClient(t, srv.URL(), func(o *jiraclient.Options) {
				o.Retry.MaxAttempts = 3
				o.Retry.BaseBackoff = time.Nanosecond // jitter over [0,1ns] rounds to 0 or 1ns
			})
			id, err := c.UpsertRemoteLink(context.Background(), "ABC-7", sampleLink("g"))
			if got := srv.Calls().ByRoute[jiratest.RouteRemoteLinkUpsert]; got != tc.wantCalls {
				t.Errorf("calls = %d, want %d", got, tc.wantCalls)
			}
			if tc.wantSleeps != nil {
				got := rec.got()
				for i := range got {
					got[i] = got[i].Truncate(time.Millisecond)
				}
				if !slices.Equal(got, tc.wantSleeps) {
					t.Errorf("sleeps = %v, want %v", got, tc.wantSleeps)
				}
			}
			if tc.wantErr == nil {
				if err != nil || id == 0 || len(srv.Links("ABC-7")) != 1 {
					t.Fatalf("id=%d err=%v; want success after the retry", id, err)
				}
				return
			}
			var je *jiraclient.Error
			if !errors.As(err, &je) || je.Status != tc.status || je.Method != http.MethodPost || je.Path != "/rest/api/2/issue/ABC-7/remotelink" {
				t.Fatalf("err = %#v, want *Error with status %d", err, tc.status)
			}
			if tc.status != 500 && !errors.Is(err, tc.wantErr) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.wantErr)
			}
			for _, s := range []error{jiraclient.ErrBadRequest, jiraclient.ErrUnauthorized, jiraclient.ErrForbidden, jiraclient.ErrNotFound, jiraclient.ErrRateLimited} {
				if s != tc.wantErr && errors.Is(err, s) {
					t.Errorf("%v also matches %v", err, s)
				}
			}
		})
	}
}

func TestStatusesOfRealFake(t *testing.T) {
	srv := startFake(t, func(o *jiratest.Options) {
		o.IssueExists = func(key string) bool { return key != "ABC-404" }
	})
	c, _ := newClient(t, srv.URL(), nil)
	ctx := context.Background()

	_, err := c.UpsertRemoteLink(ctx, "ABC-404", sampleLink("g"))
	var je *jiraclient.Error
	if !errors.Is(err, jiraclient.ErrNotFound) || !errors.As(err, &je) || !slices.Equal(je.Messages, []string{"Issue Does Not Exist"}) {
		t.Errorf("unknown issue: %v", err)
	}
	bad := sampleLink("g")
	bad.Object.Title = "  "
	bad.Object.URL = ""
	_, err = c.UpsertRemoteLink(ctx, "ABC-1", bad)
	if !errors.Is(err, jiraclient.ErrBadRequest) || !errors.As(err, &je) ||
		!slices.Equal(je.Messages, []string{"title: 'title' is required.", "url: 'url' is required."}) {
		t.Errorf("invalid link: %v", err)
	}
	if !strings.Contains(err.Error(), "HTTP 400 Bad Request: title: 'title' is required.; url: 'url' is required.") {
		t.Errorf("Error() = %q", err)
	}
}

func TestRateLimitBeyondMaxWait(t *testing.T) {
	srv := startFake(t, nil)
	srv.FailNext(jiratest.AnyRoute, 1, 429, http.Header{"Retry-After": {"3600"}}, "")
	c, rec := newClient(t, srv.URL(), nil)
	_, err := c.RemoteLinks(context.Background(), "ABC-1")
	var rle *httpx.RateLimitError
	if !errors.Is(err, jiraclient.ErrRateLimited) || !errors.Is(err, providers.ErrRateLimited) || !errors.As(err, &rle) {
		t.Fatalf("err = %v, want a rate-limit error", err)
	}
	if rle.System != "jira" || rle.RetryAfter != time.Hour || !jiraclient.Retryable(err) {
		t.Errorf("RateLimitError = %+v", rle)
	}
	if len(rec.got()) != 0 {
		t.Errorf("slept %v", rec.got())
	}
}

func TestErrorMessagesFromRealBodies(t *testing.T) {
	tests := []struct {
		file string
		want []string
	}{
		{"issue-10002.invalid.put.json", []string{"invalid: Field 'invalid' is not valid for this operation."}},
		{"issue-10002.put.missing_field_update.json", []string{"one of 'fields' or 'update' required"}},
		{"component-10000.invalid.put.json", []string{"Unrecognized field \"invalid\" (Class com.atlassian.jira.rest.v2.issue.component.ComponentBean), not marked as ignorable\n at [Source: org.apache.catalina.connector.CoyoteInputStream@70faf7c7; line: 1, column: 2]"}},
		{"version-10000.invalid.put.json", []string{"Unrecognized field \"chump\" (Class com.atlassian.jira.rest.v2.issue.version.VersionBean), not marked as ignorable\n at [Source: org.apache.catalina.connector.CoyoteInputStream@4264a42e; line: 1, column: 2]"}},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			srv := startFake(t, nil)
			srv.FailNext(jiratest.RouteRemoteLinks, 1, 400, http.Header{"Content-Type": {"application/json"}}, fixture(t, tc.file))
			c, _ := newClient(t, srv.URL(), nil)
			_, err := c.RemoteLinks(context.Background(), "ABC-1")
			var je *jiraclient.Error
			if !errors.As(err, &je) || !errors.Is(err, jiraclient.ErrBadRequest) {
				t.Fatalf("err = %v", err)
			}
			if !slices.Equal(je.Messages, tc.want) {
				t.Errorf("Messages = %q, want %q", je.Messages, tc.want)
			}
			if want := "jira: GET /rest/api/2/issue/ABC-1/remotelink: HTTP 400 Bad Request: " + strings.Join(tc.want, "; "); err.Error() != want {
				t.Errorf("Error() = %q\nwant      %q", err, want)
			}
		})
	}
}

func TestErrorMergesBothKinds(t *testing.T) {
	srv := startFake(t, nil)
	srv.FailNext(jiratest.RouteRemoteLinkUpsert, 1, 400, nil,
		`{"errorMessages":["first"," ","second"],"errors":{"url":"bad url","globalId":"too long"}}`)
	srv.FailNext(jiratest.RouteRemoteLinkUpsert, 1, 502, nil, "<html>Bad gateway</html>")
	c, _ := newClient(t, srv.URL(), func(o *jiraclient.Options) { o.Retry.MaxAttempts = 1 })
	_, err := c.UpsertRemoteLink(context.Background(), "ABC-1", sampleLink("g"))
	var je *jiraclient.Error
	if !errors.As(err, &je) || !slices.Equal(je.Messages, []string{"first", "second", "globalId: too long", "url: bad url"}) {
		t.Errorf("err = %v", err)
	}
	_, err = c.UpsertRemoteLink(context.Background(), "ABC-1", sampleLink("g"))
	if !errors.As(err, &je) || je.Status != 502 || len(je.Messages) != 0 || err.Error() != "jira: POST /rest/api/2/issue/ABC-1/remotelink: HTTP 502 Bad Gateway" {
		t.Errorf("non-JSON body: %v", err)
	}
}

// bodyRecorder wraps a handler and keeps the bodies of POSTs to /search.
type bodyRecorder struct {
	next   http.Handler
	mu     sync.Mutex
	bodies []string
}

func (b *bodyRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/search") {
		body, _ := io.ReadAll(r.Body)
		b.mu.Lock()
		b.bodies = append(b.bodies, string(body))
		b.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(body)))
	}
	b.next.ServeHTTP(w, r)
}

func TestExistingIssuesBatches(t *testing.T) {
	fake := jiratest.NewServer(jiratest.Options{
		Token:    testToken,
		Projects: testProjects,
		IssueExists: func(key string) bool {
			var n int
			_, _ = fmt.Sscanf(key[strings.LastIndexByte(key, '-')+1:], "%d", &n)
			return n%2 == 0
		},
	})
	rec := &bodyRecorder{next: fake.Handler()}
	ts := httptest.NewServer(rec)
	defer ts.Close()
	c, _ := newClient(t, ts.URL, nil)

	var keys []string
	for i := 1; i <= 240; i++ {
		keys = append(keys, fmt.Sprintf("ABC-%d", i))
	}
	keys = append(keys, "ABC-2", "ABC-2") // duplicates are asked once
	for i := 1; i <= 10; i++ {
		keys = append(keys, fmt.Sprintf("ZZZ-%d", i)) // unknown project
	}
	got, err := c.ExistingIssues(context.Background(), keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 250 {
		t.Errorf("result has %d keys, want 250", len(got))
	}
	for k, exists := range got {
		var n int
		_, _ = fmt.Sscanf(k[strings.LastIndexByte(k, '-')+1:], "%d", &n)
		want := strings.HasPrefix(k, "ABC-") && n%2 == 0
		if exists != want {
			t.Errorf("%s: exists = %v, want %v", k, exists, want)
		}
	}
	if calls := fake.Calls(); calls.Searches != 3 || calls.Total != 3 {
		t.Errorf("calls = %+v, want 3 searches", calls)
	}

	rec.mu.Lock()
	defer rec.mu.Unlock()
	var first map[string]any
	if err := json.Unmarshal([]byte(rec.bodies[0]), &first); err != nil {
		t.Fatal(err)
	}
	wantJQL := "key in (" + strings.Join(keys[:100], ",") + ")"
	if first["jql"] != wantJQL || first["validateQuery"] != false || first["maxResults"] != 100.0 || first["startAt"] != 0.0 ||
		!reflect.DeepEqual(first["fields"], []any{"key"}) {
		t.Errorf("first search body = %s", rec.bodies[0])
	}
	var last map[string]any
	_ = json.Unmarshal([]byte(rec.bodies[2]), &last)
	if last["maxResults"] != 50.0 {
		t.Errorf("last batch maxResults = %v, want 50", last["maxResults"])
	}
}

func TestExistingIssuesEmpty(t *testing.T) {
	srv := startFake(t, nil)
	c, _ := newClient(t, srv.URL(), nil)
	got, err := c.ExistingIssues(context.Background(), nil)
	if err != nil || len(got) != 0 || srv.Calls().Total != 0 {
		t.Errorf("got %v, %v with %d calls; want empty and no request", got, err, srv.Calls().Total)
	}
}

func TestInvalidKeysRefused(t *testing.T) {
	srv := startFake(t, nil)
	c, _ := newClient(t, srv.URL(), nil)
	ctx := context.Background()
	bad := []string{
		"ABC-1) OR project = SECRET OR key in (ABC-1",
		`ABC-1" OR "x"="x`,
		"abc-1", "ABC-01", "ABC-0", "ABC", "-1", "1ABC-1", "ABC-1 ", "../ABC-1", "ABC-1/remotelink", "",
	}
	for _, k := range bad {
		if _, err := c.ExistingIssues(ctx, []string{"ABC-1", k}); !errors.Is(err, jiraclient.ErrInvalidIssueKey) {
			t.Errorf("ExistingIssues(%q) err = %v", k, err)
		}
		if _, err := c.UpsertRemoteLink(ctx, k, sampleLink("g")); !errors.Is(err, jiraclient.ErrInvalidIssueKey) {
			t.Errorf("UpsertRemoteLink(%q) err = %v", k, err)
		}
		if err := c.DeleteRemoteLink(ctx, k, "g"); !errors.Is(err, jiraclient.ErrInvalidIssueKey) {
			t.Errorf("DeleteRemoteLink(%q) err = %v", k, err)
		}
		if _, err := c.RemoteLinks(ctx, k); !errors.Is(err, jiraclient.ErrInvalidIssueKey) {
			t.Errorf("RemoteLinks(%q) err = %v", k, err)
		}
	}
	if n := srv.Calls().Total; n != 0 {
		t.Errorf("%d requests sent for invalid keys", n)
	}
	for _, k := range []string{"ABC-1", "A_B2-10", "X9-123456"} {
		if !jiraclient.ValidIssueKey(k) {
			t.Errorf("ValidIssueKey(%q) = false", k)
		}
	}
}

// staticSearch answers every search with body.
func staticSearch(t *testing.T, body string) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestExistingIssuesRealSearchResponse(t *testing.T) {
	c, _ := newClient(t, staticSearch(t, fixture(t, "search.issue.json")), nil)
	got, err := c.ExistingIssues(context.Background(), []string{"SAMPLEPROJECT-13", "SAMPLEPROJECT-2", "SAMPLEPROJECT-1"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"SAMPLEPROJECT-13": true, "SAMPLEPROJECT-2": false, "SAMPLEPROJECT-1": true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v (keys not asked must not appear)", got, want)
	}
}

func TestExistingIssuesMovedIssue(t *testing.T) {
	// OLD-1 was moved to NEW-7: Jira answers with the new key.
	body := `{"expand":"schema,names","startAt":0,"maxResults":1,"total":1,"issues":[{"id":"10001","self":"x","key":"NEW-7","fields":{}}]}`
	c, _ := newClient(t, staticSearch(t, body), nil)
	got, err := c.ExistingIssues(context.Background(), []string{"OLD-1"})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, map[string]bool{"OLD-1": false}) {
		t.Errorf("got %v; a moved issue's old key is reported as not existing", got)
	}
}

// TestSearchRetriedAfterServerError: the issue search is a POST that
// changes nothing, so a 500 is retried like a GET.
func TestSearchRetriedAfterServerError(t *testing.T) {
	srv := startFake(t, nil)
	srv.FailNext(jiratest.RouteSearchPost, 1, http.StatusInternalServerError, nil, `{"errorMessages":["Internal server error"],"errors":{}}`)
	c, _ := newClient(t, srv.URL(), func(o *jiraclient.Options) { o.Deployment = jiraclient.DeploymentDataCenter })
	got, err := c.ExistingIssues(context.Background(), []string{"ABC-1"})
	if err != nil || !got["ABC-1"] {
		t.Fatalf("ExistingIssues = %v, %v", got, err)
	}
	if n := srv.Calls().ByRoute[jiratest.RouteSearchPost]; n != 2 {
		t.Errorf("searches sent = %d, want 2", n)
	}
}

func TestUncertain(t *testing.T) {
	srv := startFake(t, nil)
	c, _ := newClient(t, srv.URL(), func(o *jiraclient.Options) { o.Retry.MaxAttempts = 1 })
	ctx := context.Background()
	for status, want := range map[int]bool{500: true, 502: true, 504: true, 503: false, 429: false, 400: false, 404: false} {
		srv.FailNext(jiratest.RouteCommentAdd, 1, status, nil, "")
		_, err := c.AddComment(ctx, "ABC-1", "x")
		if err == nil || jiraclient.Uncertain(err) != want {
			t.Errorf("%d: Uncertain(%v) = %v, want %v", status, err, !want, want)
		}
	}
	if jiraclient.Uncertain(nil) || jiraclient.Uncertain(context.Canceled) || jiraclient.Uncertain(fmt.Errorf("x: %w", jiraclient.ErrBadRequest)) {
		t.Error("an error that proves nothing was sent counts as uncertain")
	}
	// Nothing listens: the connection is refused, nothing was sent.
	dead, _ := newClient(t, "http://127.0.0.1:1", func(o *jiraclient.Options) { o.Retry.MaxAttempts = 1 })
	if _, err := dead.AddComment(ctx, "ABC-1", "x"); err == nil || jiraclient.Uncertain(err) {
		t.Errorf("connection refused: Uncertain(%v) = true", err)
	}
}
