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
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
)

// recorded is one request a fixture server received.
type recorded struct {
	method, path, query, body string
}

// answer is a status and a fixture file of testdata/actions.
type answer struct {
	status int
	file   string
}

// fixtureServer answers each "METHOD /path" with its answer and records
// the requests. It serves under the context path /jira.
func fixtureServer(t *testing.T, answers map[string]answer) (string, func() []recorded) {
	t.Helper()
	var mu sync.Mutex
	var reqs []recorded
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		reqs = append(reqs, recorded{r.Method, r.URL.Path, r.URL.RawQuery, string(b)})
		mu.Unlock()
		a, ok := answers[r.Method+" "+r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		w.WriteHeader(a.status)
		if a.status != http.StatusNoContent {
			_, _ = io.WriteString(w, fixture(t, "actions/"+a.file))
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL + "/jira", func() []recorded {
		mu.Lock()
		defer mu.Unlock()
		return append([]recorded(nil), reqs...)
	}
}

func TestActionsDecodeRealResponses(t *testing.T) {
	const p = "/jira/rest/api/2/issue/SAMPLEPROJECT-1"
	base, reqs := fixtureServer(t, map[string]answer{
		"GET " + p + "/transitions":                       {200, "transitions.json"},
		"GET " + p + "/comment":                           {200, "comment.json"},
		"POST " + p + "/comment":                          {201, "comment.post.json"},
		"GET " + p + "/worklog":                           {200, "worklog.json"},
		"POST " + p + "/worklog":                          {201, "worklog.post.json"},
		"POST " + p + "/transitions":                      {204, "transitions.post.json"},
		"GET " + p:                                        {200, "issue-10002.json"},
		"GET /jira/rest/api/2/issue/GOJIRA-1/transitions": {200, "go-jira-transitions.json"},
	})
	c, _ := newClient(t, base, nil)
	ctx := context.Background()
	const key = "SAMPLEPROJECT-1"
	nz := time.FixedZone("", 13*3600)

	ts, err := c.Transitions(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	want := []jiraclient.Transition{
		{ID: "41", Name: "Review", To: jiraclient.IssueStatus{ID: "10006", Name: "Reviewable"}},
		{ID: "101", Name: "Stop Progress", To: jiraclient.IssueStatus{ID: "10017", Name: "Accepted"}},
		{ID: "21", Name: "Remove from Backlog", To: jiraclient.IssueStatus{ID: "1", Name: "Open"}},
		{ID: "71", Name: "Resolve", To: jiraclient.IssueStatus{ID: "5", Name: "Resolved"}},
	}
	if !reflect.DeepEqual(ts, want) {
		t.Errorf("transitions = %+v\nwant %+v", ts, want)
	}
	ts, err = c.Transitions(ctx, "GOJIRA-1")
	if err != nil || len(ts) != 2 || ts[0] != (jiraclient.Transition{ID: "2", Name: "Close Issue", To: jiraclient.IssueStatus{ID: "10000", Name: "In Progress"}}) ||
		ts[1].ID != "711" || ts[1].To.Name != "Closed" {
		t.Errorf("go-jira transitions = %+v, %v", ts, err)
	}

	cs, err := c.Comments(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 2 || cs[0].ID != "10000" || cs[0].Body != "This is a comment. Creative." || cs[1].Body != "new comment" ||
		cs[0].Author.Name != "admin" ||
		!cs[0].Created.Equal(time.Date(2012, 1, 11, 10, 2, 14, 430e6, nz)) ||
		!cs[0].Updated.Equal(time.Date(2012, 1, 12, 15, 15, 13, 74e6, nz)) {
		t.Errorf("comments = %+v", cs)
	}

	wls, err := c.Worklogs(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if len(wls) != 3 || wls[0].ID != "10000" || wls[0].Comment != "Some epic work." || wls[0].TimeSpent != "18w 2d" ||
		!wls[0].Started.Equal(time.Date(2012, 1, 11, 13, 33, 0, 0, nz)) || wls[2].TimeSpent != "3d" {
		t.Errorf("worklogs = %+v", wls)
	}

	id, err := c.AddComment(ctx, key, "new comment")
	if err != nil || id != "10001" {
		t.Errorf("AddComment = %q, %v", id, err)
	}
	started := time.Date(2024, 3, 1, 9, 30, 0, 0, time.FixedZone("", -5*3600))
	id, err = c.AddWorklog(ctx, key, 2*time.Hour+30*time.Minute, "fixed it", started)
	if err != nil || id != "10001" {
		t.Errorf("AddWorklog = %q, %v", id, err)
	}
	if err := c.DoTransition(ctx, key, "71", "Resolved by abc1234"); err != nil {
		t.Errorf("DoTransition: %v", err)
	}
	if err := c.DoTransition(ctx, key, "21", ""); err != nil {
		t.Errorf("DoTransition without comment: %v", err)
	}
	st, err := c.IssueStatus(ctx, key)
	if err != nil || st != (jiraclient.IssueStatus{ID: "1", Name: "Open"}) {
		t.Errorf("IssueStatus = %+v, %v", st, err)
	}

	// What went over the wire.
	bodies := map[string][]string{}
	var queries []string
	for _, r := range reqs() {
		if r.method == http.MethodPost {
			bodies[r.path] = append(bodies[r.path], r.body)
		}
		if r.path == p {
			queries = append(queries, r.query)
		}
	}
	wantJSON := func(got, want string) {
		t.Helper()
		var g, w any
		if err := json.Unmarshal([]byte(got), &g); err != nil {
			t.Fatalf("body %q: %v", got, err)
		}
		_ = json.Unmarshal([]byte(want), &w)
		if !reflect.DeepEqual(g, w) {
			t.Errorf("body = %s\nwant   %s", got, want)
		}
	}
	wantJSON(bodies[p+"/comment"][0], `{"body":"new comment"}`)
	wantJSON(bodies[p+"/worklog"][0], `{"comment":"fixed it","started":"2024-03-01T09:30:00.000-0500","timeSpentSeconds":9000}`)
	wantJSON(bodies[p+"/transitions"][0], `{"transition":{"id":"71"},"update":{"comment":[{"add":{"body":"Resolved by abc1234"}}]}}`)
	wantJSON(bodies[p+"/transitions"][1], `{"transition":{"id":"21"}}`)
	if len(queries) != 1 || queries[0] != "fields=status" {
		t.Errorf("issue queries = %q", queries)
	}
}

func TestActionsAgainstFake(t *testing.T) {
	srv := startFake(t, nil)
	c, _ := newClient(t, srv.URL(), nil)
	ctx := context.Background()

	// Comments: 230 of them, read back through three pages.
	for i := range 230 {
		if _, err := c.AddComment(ctx, "ABC-1", fmt.Sprintf("comment %d", i)); err != nil {
			t.Fatal(err)
		}
	}
	cs, err := c.Comments(ctx, "ABC-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(cs) != 230 || cs[0].Body != "comment 0" || cs[229].Body != "comment 229" || cs[0].ID == cs[1].ID {
		t.Fatalf("got %d comments, first %+v", len(cs), cs[0])
	}
	if got := srv.Calls().ByRoute[jiratest.RouteComments]; got != 3 {
		t.Errorf("comment pages read = %d, want 3", got)
	}

	// Worklogs.
	started := time.Date(2024, 3, 1, 9, 30, 0, 0, time.UTC)
	wid, err := c.AddWorklog(ctx, "ABC-1", 90*time.Minute, "pairing", started)
	if err != nil {
		t.Fatal(err)
	}
	wls, err := c.Worklogs(ctx, "ABC-1")
	if err != nil {
		t.Fatal(err)
	}
	if len(wls) != 1 || wls[0].ID != wid || wls[0].TimeSpentSeconds != 5400 || wls[0].TimeSpent != "1h 30m" ||
		wls[0].Comment != "pairing" || !wls[0].Started.Equal(started) {
		t.Errorf("worklogs = %+v", wls)
	}

	// Transitions of the default workflow.
	names := func(ts []jiraclient.Transition) []string {
		var out []string
		for _, t := range ts {
			out = append(out, t.ID+" "+t.Name+" → "+t.To.Name)
		}
		return out
	}
	ts, err := c.Transitions(ctx, "ABC-2")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := names(ts), []string{"4 Start Progress → In Progress", "5 Resolve Issue → Resolved", "2 Close Issue → Closed"}; !reflect.DeepEqual(got, want) {
		t.Errorf("transitions from Open = %q, want %q", got, want)
	}
	if err := c.DoTransition(ctx, "ABC-2", "5", "done in abc1234"); err != nil {
		t.Fatal(err)
	}
	if st, err := c.IssueStatus(ctx, "ABC-2"); err != nil || st.Name != "Resolved" || srv.Status("ABC-2").ID != "5" {
		t.Errorf("status after Resolve = %+v, %v", st, err)
	}
	if cs := srv.Comments("ABC-2"); len(cs) != 1 || cs[0].Body != "done in abc1234" {
		t.Errorf("transition comment: %+v", cs)
	}
	// Resolve is not available from Resolved: 400 and no change.
	err = c.DoTransition(ctx, "ABC-2", "5", "")
	if !errors.Is(err, jiraclient.ErrBadRequest) || srv.Status("ABC-2").ID != "5" {
		t.Errorf("repeated transition: err = %v, status %+v", err, srv.Status("ABC-2"))
	}
	if err := c.DoTransition(ctx, "ABC-2", "999", ""); !errors.Is(err, jiraclient.ErrBadRequest) {
		t.Errorf("unknown transition id: err = %v", err)
	}
	srv.SetStatus("ABC-3", "6") // Closed, as if someone closed it
	ts, err = c.Transitions(ctx, "ABC-3")
	if got, want := names(ts), []string{"3 Reopen Issue → Reopened"}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("transitions from Closed = %q, %v; want %q", got, err, want)
	}

	// A missing issue is 404 everywhere.
	srv2 := startFake(t, func(o *jiratest.Options) { o.IssueExists = func(string) bool { return false } })
	c2, _ := newClient(t, srv2.URL(), nil)
	if _, err := c2.AddComment(ctx, "ABC-1", "x"); !errors.Is(err, jiraclient.ErrNotFound) {
		t.Errorf("comment on missing issue: %v", err)
	}
	if _, err := c2.Transitions(ctx, "ABC-1"); !errors.Is(err, jiraclient.ErrNotFound) {
		t.Errorf("transitions of missing issue: %v", err)
	}
}

func TestActionsPermissions(t *testing.T) {
	// DEF lacks everything smart commits need; ABC lacks only Close Issues.
	srv := startFake(t, func(o *jiratest.Options) {
		o.Permissions = func(project, perm string) bool {
			switch project {
			case "DEF":
				return perm == "BROWSE_PROJECTS"
			case "ABC":
				return perm != "CLOSE_ISSUES"
			}
			return true
		}
	})
	c, _ := newClient(t, srv.URL(), nil)
	ctx := context.Background()

	if _, err := c.AddComment(ctx, "DEF-1", "x"); !errors.Is(err, jiraclient.ErrForbidden) {
		t.Errorf("comment without ADD_COMMENTS: %v", err)
	}
	if _, err := c.AddWorklog(ctx, "DEF-1", time.Hour, "", time.Now()); !errors.Is(err, jiraclient.ErrForbidden) {
		t.Errorf("worklog without WORK_ON_ISSUES: %v", err)
	}
	if ts, err := c.Transitions(ctx, "DEF-1"); err != nil || len(ts) != 0 {
		t.Errorf("transitions without TRANSITION_ISSUES = %+v, %v", ts, err)
	}
	if err := c.DoTransition(ctx, "DEF-1", "4", ""); !errors.Is(err, jiraclient.ErrBadRequest) {
		t.Errorf("transition without TRANSITION_ISSUES: %v", err)
	}
	if n := len(srv.Comments("DEF-1")) + len(srv.Worklogs("DEF-1")); n != 0 || srv.Status("DEF-1").Name != "Open" {
		t.Errorf("denied actions changed the issue")
	}
	ts, err := c.Transitions(ctx, "ABC-1")
	if err != nil {
		t.Fatal(err)
	}
	for _, tr := range ts {
		if tr.Name == "Close Issue" {
			t.Errorf("Close Issue listed without CLOSE_ISSUES: %+v", ts)
		}
	}
	if len(ts) != 2 {
		t.Errorf("transitions = %+v, want Start Progress and Resolve Issue", ts)
	}
}

// TestActionWritesAreSentOnce: a create whose answer is lost may have been
// stored, so the transport must not resend it; reads are retried as usual.
func TestActionWritesAreSentOnce(t *testing.T) {
	ctx := context.Background()
	writes := []struct {
		route string
		call  func(*jiraclient.Client) error
	}{
		{jiratest.RouteCommentAdd, func(c *jiraclient.Client) error { _, err := c.AddComment(ctx, "ABC-1", "x"); return err }},
		{jiratest.RouteWorklogAdd, func(c *jiraclient.Client) error {
			_, err := c.AddWorklog(ctx, "ABC-1", time.Hour, "", time.Now())
			return err
		}},
		{jiratest.RouteTransitionCreate, func(c *jiraclient.Client) error { return c.DoTransition(ctx, "ABC-1", "4", "") }},
	}
	internal := `{"errorMessages":["Internal server error"],"errors":{}}`
	for _, w := range writes {
		for _, status := range []int{http.StatusGatewayTimeout, http.StatusInternalServerError} {
			t.Run(fmt.Sprint(w.route, " ", status), func(t *testing.T) {
				srv := startFake(t, nil)
				c, _ := newClient(t, srv.URL(), func(o *jiraclient.Options) { o.Retry.BaseBackoff = time.Nanosecond })
				srv.FailNextAfterApply(w.route, 1, status, nil, internal)
				err := w.call(c)
				if err == nil || !jiraclient.Retryable(err) || !jiraclient.Uncertain(err) {
					t.Errorf("err = %v, want a retryable, uncertain error", err)
				}
				if n := srv.Calls().ByRoute[w.route]; n != 1 {
					t.Errorf("sent %d times, want once", n)
				}
			})
		}
	}
	srv := startFake(t, nil)
	c, _ := newClient(t, srv.URL(), func(o *jiraclient.Options) { o.Retry.BaseBackoff = time.Nanosecond })
	srv.FailNext(jiratest.RouteComments, 1, http.StatusServiceUnavailable, nil, "")
	if _, err := c.Comments(ctx, "ABC-1"); err != nil || srv.Calls().ByRoute[jiratest.RouteComments] != 2 {
		t.Errorf("read not retried: err = %v, calls %d", err, srv.Calls().ByRoute[jiratest.RouteComments])
	}
}

func TestActionsRejectBadInputWithoutRequest(t *testing.T) {
	srv := startFake(t, nil)
	c, _ := newClient(t, srv.URL(), nil)
	ctx := context.Background()
	bad := "abc-1) OR (1=1"
	errs := []error{
		func() error { _, err := c.AddComment(ctx, bad, "x"); return err }(),
		func() error { _, err := c.Comments(ctx, bad); return err }(),
		func() error { _, err := c.AddWorklog(ctx, bad, time.Hour, "", time.Now()); return err }(),
		func() error { _, err := c.Worklogs(ctx, bad); return err }(),
		func() error { _, err := c.Transitions(ctx, bad); return err }(),
		c.DoTransition(ctx, bad, "4", ""),
		func() error { _, err := c.IssueStatus(ctx, bad); return err }(),
	}
	for i, err := range errs {
		if !errors.Is(err, jiraclient.ErrInvalidIssueKey) {
			t.Errorf("call %d: err = %v, want ErrInvalidIssueKey", i, err)
		}
	}
	if _, err := c.AddWorklog(ctx, "ABC-1", 400*time.Millisecond, "", time.Now()); !errors.Is(err, jiraclient.ErrBadRequest) {
		t.Errorf("sub-second worklog: %v", err)
	}
	if err := c.DoTransition(ctx, "ABC-1", "", ""); !errors.Is(err, jiraclient.ErrBadRequest) {
		t.Errorf("empty transition id: %v", err)
	}
	if n := srv.Calls().Total; n != 0 {
		t.Errorf("%d requests sent for invalid input", n)
	}
	if !strings.Contains(fmt.Sprint(errs[0]), "abc-1") {
		t.Errorf("error does not name the key: %v", errs[0])
	}
}
