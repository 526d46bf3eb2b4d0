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

const (
	cloudUser  = "bot@example.com"
	cloudToken = "ATATT3xFfGF0-cloud-api-token"
)

// startCloud starts a Cloud-mode fake (basic auth: e-mail + API token)
// behind a recorder of search/jql bodies and returns a client for it.
func startCloud(t *testing.T, mod func(*jiratest.Options), cmod func(*jiraclient.Options)) (*jiratest.Server, *jqlRecorder, *jiraclient.Client) {
	t.Helper()
	opts := jiratest.Options{Cloud: true, Username: cloudUser, Password: cloudToken, Projects: testProjects, IssueExists: jiratest.AllIssues}
	if mod != nil {
		mod(&opts)
	}
	fake := jiratest.NewServer(opts)
	rec := &jqlRecorder{next: fake.Handler()}
	ts := httptest.NewServer(rec)
	t.Cleanup(ts.Close)
	c, _ := newClient(t, ts.URL, func(o *jiraclient.Options) {
		o.Auth = jiraclient.Auth{Username: cloudUser, Password: cloudToken}
		if cmod != nil {
			cmod(o)
		}
	})
	return fake, rec, c
}

// jqlRecorder keeps the bodies of POSTs to .../search/jql.
type jqlRecorder struct {
	next   http.Handler
	mu     sync.Mutex
	bodies []map[string]any
}

func (j *jqlRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/rest/api/3/search/jql") {
		b, _ := io.ReadAll(r.Body)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		j.mu.Lock()
		j.bodies = append(j.bodies, m)
		j.mu.Unlock()
		r.Body = io.NopCloser(strings.NewReader(string(b)))
	}
	j.next.ServeHTTP(w, r)
}

func (j *jqlRecorder) get() []map[string]any {
	j.mu.Lock()
	defer j.mu.Unlock()
	return append([]map[string]any(nil), j.bodies...)
}

func TestParseDeployment(t *testing.T) {
	for in, want := range map[string]jiraclient.Deployment{
		"": jiraclient.DeploymentAuto, "auto": jiraclient.DeploymentAuto, " Cloud ": jiraclient.DeploymentCloud,
		"datacenter": jiraclient.DeploymentDataCenter,
	} {
		if got, err := jiraclient.ParseDeployment(in); err != nil || got != want {
			t.Errorf("ParseDeployment(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := jiraclient.ParseDeployment("server"); err == nil {
		t.Error(`ParseDeployment("server") succeeded`)
	}
	if _, err := jiraclient.New(jiraclient.Options{BaseURL: "https://jira.example.com", Auth: jiraclient.Auth{Token: "x"}, Deployment: "onprem"}); err == nil {
		t.Error("New accepted an unknown deployment")
	}
}

func TestDeploymentDetection(t *testing.T) {
	ctx := context.Background()

	dc := startFake(t, nil)
	c, _ := newClient(t, dc.URL(), nil)
	for range 2 {
		if d, err := c.Deployment(ctx); err != nil || d != jiraclient.DeploymentDataCenter {
			t.Fatalf("Data Center fake: %q, %v", d, err)
		}
	}
	if n := dc.Calls().ByRoute[jiratest.RouteServerInfo]; n != 1 {
		t.Errorf("serverInfo asked %d times, want once (cached)", n)
	}

	_, _, cc := startCloud(t, nil, nil)
	if d, err := cc.Deployment(ctx); err != nil || d != jiraclient.DeploymentCloud {
		t.Errorf("Cloud fake: %q, %v", d, err)
	}

	// A configured deployment wins and costs no request.
	dc.ResetCalls()
	forced, _ := newClient(t, dc.URL(), func(o *jiraclient.Options) { o.Deployment = jiraclient.DeploymentCloud })
	if d, err := forced.Deployment(ctx); err != nil || d != jiraclient.DeploymentCloud || dc.Calls().Total != 0 {
		t.Errorf("configured cloud: %q, %v, %d calls", d, err, dc.Calls().Total)
	}

	// *.atlassian.net is Cloud without asking (the transport refuses all).
	noNet := &http.Client{Transport: roundTripFunc(func(*http.Request) (*http.Response, error) {
		return nil, errors.New("no request expected")
	})}
	site, _ := newClient(t, "https://acme.atlassian.net", func(o *jiraclient.Options) { o.HTTPClient = noNet })
	if d, err := site.Deployment(ctx); err != nil || d != jiraclient.DeploymentCloud {
		t.Errorf("atlassian.net: %q, %v", d, err)
	}

	// An unreachable server is an error, not a guess.
	down, _ := newClient(t, "https://jira.example.com", func(o *jiraclient.Options) { o.HTTPClient = noNet })
	if _, err := down.Deployment(ctx); err == nil {
		t.Error("Deployment guessed without an answer")
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestExistingIssuesCloud: in auto mode on a host that is not
// atlassian.net the first search tries /rest/api/2/search, gets Cloud's
// 410 and moves to /rest/api/3/search/jql for good, following the token
// pages.
func TestExistingIssuesCloud(t *testing.T) {
	fake, rec, c := startCloud(t, func(o *jiratest.Options) {
		o.IssueExists = func(k string) bool { return !strings.HasSuffix(k, "7") }
		o.SearchPageSize = 30
	}, nil)
	var keys []string
	for i := 1; i <= 150; i++ {
		keys = append(keys, fmt.Sprintf("ABC-%d", i))
	}
	keys = append(keys, "NOPE-1", "DEF-7", "DEF-8")
	ctx := context.Background()
	got, err := c.ExistingIssues(ctx, keys)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(keys) {
		t.Fatalf("%d answers for %d keys", len(got), len(keys))
	}
	for _, k := range keys {
		want := !strings.HasPrefix(k, "NOPE") && !strings.HasSuffix(k, "7")
		if got[k] != want {
			t.Errorf("%s: %v, want %v", k, got[k], want)
		}
	}
	calls := fake.Calls()
	// 100 keys: 90 hits in 3 pages; 53 keys: 46 hits in 2 pages.
	if calls.ByRoute[jiratest.RouteSearchPost] != 1 || calls.ByRoute[jiratest.RouteSearchJQL] != 5 {
		t.Errorf("routes = %v; want one v2 search (410) and 5 search/jql pages", calls.ByRoute)
	}
	bodies := rec.get()
	first := bodies[0]
	if first["jql"] != "key in ("+strings.Join(keys[:100], ",")+")" || first["maxResults"] != 100.0 ||
		!reflect.DeepEqual(first["fields"], []any{"key"}) || first["nextPageToken"] != nil {
		t.Errorf("first body = %v", first)
	}
	for _, b := range bodies {
		for _, k := range []string{"validateQuery", "startAt"} {
			if _, ok := b[k]; ok {
				t.Errorf("search/jql body has %s: %v", k, b)
			}
		}
	}
	if tok, _ := bodies[1]["nextPageToken"].(string); tok == "" || bodies[1]["jql"] != first["jql"] {
		t.Errorf("second page body = %v; want the same jql with a token", bodies[1])
	}

	// The switch is remembered: the next call goes straight to search/jql.
	fake.ResetCalls()
	if _, err := c.ExistingIssues(ctx, []string{"ABC-1"}); err != nil {
		t.Fatal(err)
	}
	if c := fake.Calls(); c.Total != 1 || c.ByRoute[jiratest.RouteSearchJQL] != 1 {
		t.Errorf("second call routes = %v", c.ByRoute)
	}
	if d, _ := c.Deployment(ctx); d != jiraclient.DeploymentCloud {
		t.Errorf("Deployment after the 410 = %q", d)
	}
}

// TestExistingIssuesCloudRefusedKeys: a 400 from search/jql splits the
// batch until the refused key stands alone and counts as missing.
func TestExistingIssuesCloudRefusedKeys(t *testing.T) {
	fake, _, c := startCloud(t, nil, func(o *jiraclient.Options) { o.Deployment = jiraclient.DeploymentCloud })
	fake.FailNext(jiratest.RouteSearchJQL, 1, http.StatusBadRequest, nil,
		`{"errorMessages":["An issue with key 'ABC-3' does not exist for field 'key'."],"errors":{}}`)
	got, err := c.ExistingIssues(context.Background(), []string{"ABC-1", "ABC-2", "ABC-3", "ABC-4"})
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range got {
		if !v {
			t.Errorf("%s reported missing after the split", k)
		}
	}
	if n := fake.Calls().ByRoute[jiratest.RouteSearchJQL]; n != 3 {
		t.Errorf("%d searches, want 3 (refused batch, two halves)", n)
	}

	// A key refused on its own counts as missing; the others are still asked.
	fake.ResetCalls()
	fake.FailNext(jiratest.RouteSearchJQL, 2, http.StatusBadRequest, nil, `{"errorMessages":["refused"],"errors":{}}`)
	got, err = c.ExistingIssues(context.Background(), []string{"ABC-1", "ABC-2"})
	if err != nil || got["ABC-1"] || !got["ABC-2"] {
		t.Errorf("got %v, %v; want ABC-1 missing, ABC-2 existing", got, err)
	}
}

// TestExistingIssuesCloudEndlessPages: a server that never ends its pages
// gets a bounded number of requests and an error.
func TestExistingIssuesCloudEndlessPages(t *testing.T) {
	var n int
	var mu sync.Mutex
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		_, _ = io.WriteString(w, `{"issues":[{"id":"1","key":"ABC-1"}],"nextPageToken":"again","isLast":false}`)
	}))
	defer ts.Close()
	c, _ := newClient(t, ts.URL, func(o *jiraclient.Options) { o.Deployment = jiraclient.DeploymentCloud })
	_, err := c.ExistingIssues(context.Background(), []string{"ABC-1", "ABC-2", "ABC-3"})
	if err == nil || !strings.Contains(err.Error(), "no last page") {
		t.Errorf("err = %v", err)
	}
	if n != 3 {
		t.Errorf("%d requests for 3 keys, want 3", n)
	}
}

func TestUpsertRemoteLinkLimit(t *testing.T) {
	ctx := context.Background()
	fake, _, c := startCloud(t, func(o *jiratest.Options) { o.MaxRemoteLinks = 2 }, nil)
	for i := range 2 {
		if _, err := c.UpsertRemoteLink(ctx, "ABC-1", sampleLink(fmt.Sprintf("g%d", i))); err != nil {
			t.Fatal(err)
		}
	}
	_, err := c.UpsertRemoteLink(ctx, "ABC-1", sampleLink("g2"))
	var je *jiraclient.Error
	var lle *jiraclient.LinkLimitError
	if !errors.Is(err, jiraclient.ErrLinkLimit) || !errors.As(err, &je) || je.Status != http.StatusRequestEntityTooLarge ||
		!errors.As(err, &lle) || lle.IssueKey != "ABC-1" {
		t.Fatalf("third link: %v; want ErrLinkLimit wrapping a 413", err)
	}
	if jiraclient.Retryable(err) {
		t.Error("a link-limit error is retryable")
	}
	// Updating an existing link at the cap still works; other issues too.
	if _, err := c.UpsertRemoteLink(ctx, "ABC-1", sampleLink("g1")); err != nil {
		t.Errorf("update at the cap: %v", err)
	}
	if _, err := c.UpsertRemoteLink(ctx, "ABC-2", sampleLink("g2")); err != nil {
		t.Errorf("another issue: %v", err)
	}
	if n := len(fake.Links("ABC-1")); n != 2 {
		t.Errorf("ABC-1 has %d links, want 2", n)
	}

	// A 400 that speaks of the limit counts; another 400 does not.
	dc := startFake(t, nil)
	dcc, _ := newClient(t, dc.URL(), nil)
	for body, want := range map[string]bool{
		`{"errorMessages":["This issue has reached the limit of remote links."],"errors":{}}`: true,
		`{"errorMessages":[],"errors":{"url":"Url is required"}}`:                             false,
	} {
		dc.FailNext(jiratest.RouteRemoteLinkUpsert, 1, http.StatusBadRequest, nil, body)
		_, err := dcc.UpsertRemoteLink(ctx, "ABC-1", sampleLink("x"))
		if errors.Is(err, jiraclient.ErrLinkLimit) != want || !errors.Is(err, jiraclient.ErrBadRequest) {
			t.Errorf("400 %s: %v; ErrLinkLimit want %v", body, err, want)
		}
	}
}

func TestServerTime(t *testing.T) {
	at := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	fake := startFake(t, func(o *jiratest.Options) { o.Now = func() time.Time { return at } })
	c, _ := newClient(t, fake.URL(), nil)
	got, err := c.ServerTime(context.Background())
	if err != nil || !got.Equal(at) {
		t.Errorf("ServerTime = %v, %v; want %v", got, err, at)
	}

	// Without a Date header the body's serverTime is used.
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header()["Date"] = nil // keep net/http from adding one
		_, _ = io.WriteString(w, `{"version":"10.3.24","deploymentType":"Server","serverTime":"2026-03-04T06:06:07.000+0100"}`)
	}))
	defer ts.Close()
	c2, _ := newClient(t, ts.URL, nil)
	got, err = c2.ServerTime(context.Background())
	if err != nil || !got.Equal(at) {
		t.Errorf("ServerTime from the body = %v, %v; want %v", got, err, at)
	}
}
