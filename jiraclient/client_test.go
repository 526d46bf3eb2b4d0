package jiraclient_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

func TestServerInfoMyselfProjects(t *testing.T) {
	// Default project list: the real Apache Jira projects.
	srv := jiratest.Start(t, jiratest.Options{Username: "bot", Password: "pw"})
	c, _ := newClient(t, srv.URL(), func(o *jiraclient.Options) {
		o.Auth = jiraclient.Auth{Username: "bot", Password: "pw"}
	})
	ctx := context.Background()

	si, err := c.ServerInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if si.BaseURL != srv.URL() || si.Version != jiratest.Version || si.DeploymentType != "Server" || si.ServerTitle == "" {
		t.Errorf("ServerInfo = %+v", si)
	}
	me, err := c.Myself(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if me.Name != "bot" || me.Key == "" || me.DisplayName == "" {
		t.Errorf("Myself = %+v", me)
	}
	ps, err := c.Projects(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(ps) != 567 {
		t.Errorf("got %d projects, want the 567 of Apache's Jira", len(ps))
	}
	if !slices.Contains(ps, jiraclient.Project{ID: "12310505", Key: "ABDERA", Name: "Abdera"}) {
		t.Errorf("ABDERA missing or wrong in %v", ps[:3])
	}
}

func TestUserLogValueOmitsEmail(t *testing.T) {
	var buf bytes.Buffer
	slog.New(slog.NewTextHandler(&buf, nil)).Info("me", "user", jiraclient.User{Name: "fred", EmailAddress: "fred@example.com"})
	if strings.Contains(buf.String(), "fred@example.com") || !strings.Contains(buf.String(), "fred") {
		t.Errorf("log line %q", buf.String())
	}
}

// headerRecorder serves 200 {} and keeps the last request's headers.
type headerRecorder struct {
	mu sync.Mutex
	h  http.Header
}

func (hr *headerRecorder) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	hr.mu.Lock()
	hr.h = r.Header.Clone()
	hr.mu.Unlock()
	w.WriteHeader(http.StatusOK)
	_, _ = io.WriteString(w, `{"id":1}`)
}

func TestAuthHeaderForms(t *testing.T) {
	hr := &headerRecorder{}
	ts := httptest.NewServer(hr)
	defer ts.Close()
	tests := []struct {
		auth jiraclient.Auth
		want string
	}{
		{jiraclient.Auth{Token: "tok"}, "Bearer tok"},
		{jiraclient.Auth{Token: "tok", Username: "u", Password: "p"}, "Bearer tok"},
		{jiraclient.Auth{Username: "fred", Password: "pa:ss"}, "Basic " + base64.StdEncoding.EncodeToString([]byte("fred:pa:ss"))},
	}
	for _, tc := range tests {
		c, _ := newClient(t, ts.URL, func(o *jiraclient.Options) { o.Auth = tc.auth; o.UserAgent = "jiralinkd-test/1" })
		if _, err := c.UpsertRemoteLink(context.Background(), "ABC-1", sampleLink("g")); err != nil {
			t.Fatal(err)
		}
		hr.mu.Lock()
		h := hr.h
		hr.mu.Unlock()
		if got := h.Get("Authorization"); got != tc.want {
			t.Errorf("Authorization = %q, want %q", got, tc.want)
		}
		if h.Get("User-Agent") != "jiralinkd-test/1" || h.Get("Content-Type") != "application/json" ||
			h.Get("Accept") != "application/json" || h.Get("X-Atlassian-Token") != "no-check" {
			t.Errorf("headers = %v", h)
		}
	}
}

func TestCredentialsAgainstFake(t *testing.T) {
	srv := startFake(t, func(o *jiratest.Options) { o.Username, o.Password = "fred", "pw" })
	tests := []struct {
		name string
		auth jiraclient.Auth
		ok   bool
	}{
		{"token", jiraclient.Auth{Token: testToken}, true},
		{"wrong token", jiraclient.Auth{Token: "nope"}, false},
		{"basic", jiraclient.Auth{Username: "fred", Password: "pw"}, true},
		{"wrong password", jiraclient.Auth{Username: "fred", Password: "bad"}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, _ := newClient(t, srv.URL(), func(o *jiraclient.Options) { o.Auth = tc.auth })
			_, err := c.Myself(context.Background())
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if !errors.Is(err, jiraclient.ErrUnauthorized) {
				t.Fatalf("err = %v, want ErrUnauthorized", err)
			}
			var je *jiraclient.Error
			if !errors.As(err, &je) || je.Status != 401 || je.Path != "/rest/api/2/myself" ||
				!slices.Equal(je.Messages, []string{"You are not authenticated. Authentication required to perform this operation."}) {
				t.Errorf("Error = %#v", je)
			}
			if strings.Contains(err.Error(), "nope") || strings.Contains(err.Error(), "bad") {
				t.Errorf("error leaks the credential: %v", err)
			}
		})
	}
}

func TestSecretsNeverPrinted(t *testing.T) {
	auths := []jiraclient.Auth{
		{Token: "tok-SECRET"},
		{Username: "fred", Password: "pw-SECRET"},
	}
	for _, a := range auths {
		opts := jiraclient.Options{BaseURL: "https://jira.example.com", Auth: a}
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x", "%X"} {
			for _, v := range []any{a, &a, opts, &opts} {
				if out := fmt.Sprintf(verb, v); strings.Contains(out, "SECRET") || strings.Contains(out, fmt.Sprintf("%x", "pw-SECRET")) ||
					strings.Contains(out, fmt.Sprintf("%x", "tok-SECRET")) {
					t.Errorf("Sprintf(%q, %T) = %s", verb, v, out)
				}
			}
		}
		var buf bytes.Buffer
		slog.New(slog.NewJSONHandler(&buf, nil)).Info("config", "auth", a, "opts", opts)
		if strings.Contains(buf.String(), "SECRET") {
			t.Errorf("slog leaks: %s", buf.String())
		}
	}
}

func TestTokenNotInLogsOrErrors(t *testing.T) {
	srv := startFake(t, nil)
	srv.FailNext(jiratest.RouteRemoteLinkUpsert, 1, 503, nil, "")
	// A 500 on a read is retried too: this one outlasts the 5 attempts.
	srv.FailNext(jiratest.RouteRemoteLinks, httpx.DefaultMaxAttempts, 500, nil, `{"errorMessages":["boom"]}`)
	var buf bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	c, _ := newClient(t, srv.URL(), func(o *jiraclient.Options) { o.Logger = logger })
	if _, err := c.UpsertRemoteLink(context.Background(), "ABC-1", sampleLink("g")); err != nil {
		t.Fatal(err)
	}
	_, err := c.RemoteLinks(context.Background(), "ABC-1")
	if err == nil || strings.Contains(err.Error(), testToken) {
		t.Errorf("err = %v", err)
	}
	if !strings.Contains(buf.String(), "retrying") || strings.Contains(buf.String(), testToken) {
		t.Errorf("logs:\n%s", buf.String())
	}
}

func TestNewValidatesOptions(t *testing.T) {
	tok := jiraclient.Auth{Token: "t"}
	tests := []struct {
		name string
		opts jiraclient.Options
	}{
		{"empty URL", jiraclient.Options{Auth: tok}},
		{"relative", jiraclient.Options{BaseURL: "jira.example.com", Auth: tok}},
		{"ftp", jiraclient.Options{BaseURL: "ftp://jira.example.com", Auth: tok}},
		{"credentials in URL", jiraclient.Options{BaseURL: "https://fred:SECRET@jira.example.com", Auth: tok}},
		{"query", jiraclient.Options{BaseURL: "https://jira.example.com/?x=1", Auth: tok}},
		{"no auth", jiraclient.Options{BaseURL: "https://jira.example.com"}},
	}
	for _, tc := range tests {
		if _, err := jiraclient.New(tc.opts); err == nil {
			t.Errorf("%s: New accepted %+v", tc.name, tc.opts)
		} else if strings.Contains(err.Error(), "SECRET") {
			t.Errorf("%s: error leaks password: %v", tc.name, err)
		}
	}
}

func TestContextPathPreserved(t *testing.T) {
	srv := startFake(t, func(o *jiratest.Options) { o.ContextPath = "/jira" })
	if !strings.HasSuffix(srv.URL(), "/jira") {
		t.Fatalf("URL() = %q, want the context path", srv.URL())
	}
	for _, base := range []string{srv.URL(), srv.URL() + "/"} {
		c, _ := newClient(t, base, nil)
		if _, err := c.UpsertRemoteLink(context.Background(), "ABC-1", sampleLink("g")); err != nil {
			t.Fatalf("base %q: %v", base, err)
		}
		_, err := c.RemoteLinks(context.Background(), "NOPE-1")
		var je *jiraclient.Error
		if !errors.As(err, &je) || je.Path != "/jira/rest/api/2/issue/NOPE-1/remotelink" {
			t.Errorf("base %q: err = %v, want a 404 on the /jira path", base, err)
		}
	}
	if got := len(srv.Links("ABC-1")); got != 1 {
		t.Errorf("links = %d, want 1 (same globalId upserted twice)", got)
	}

	// Without the context path the server has nothing to offer.
	c, _ := newClient(t, strings.TrimSuffix(srv.URL(), "/jira"), nil)
	if _, err := c.Myself(context.Background()); !errors.Is(err, jiraclient.ErrNotFound) {
		t.Errorf("err = %v, want ErrNotFound", err)
	}
}

func TestRedirects(t *testing.T) {
	var targetHits int
	var mu sync.Mutex
	mux := http.NewServeMux()
	mux.HandleFunc("/new/", func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		targetHits++
		mu.Unlock()
		_, _ = io.WriteString(w, `[]`)
	})
	mux.HandleFunc("/old/", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/new"+strings.TrimPrefix(r.URL.Path, "/old"), http.StatusTemporaryRedirect)
	})
	ts := httptest.NewServer(mux)
	defer ts.Close()
	c, _ := newClient(t, ts.URL+"/old", nil)

	// GET follows.
	if _, err := c.RemoteLinks(context.Background(), "ABC-1"); err != nil {
		t.Fatalf("GET: %v", err)
	}
	// POST and DELETE do not.
	_, err := c.UpsertRemoteLink(context.Background(), "ABC-1", sampleLink("g"))
	var je *jiraclient.Error
	if !errors.As(err, &je) || je.Status != http.StatusTemporaryRedirect {
		t.Errorf("POST err = %v, want the 307 as *Error", err)
	}
	if err := c.DeleteRemoteLink(context.Background(), "ABC-1", "g"); !errors.As(err, &je) || je.Status != 307 {
		t.Errorf("DELETE err = %v", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if targetHits != 1 {
		t.Errorf("redirect target hit %d times, want 1 (the GET)", targetHits)
	}
}

func TestTransportError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, rec := newClient(t, "http://"+addr, func(o *jiraclient.Options) { o.Retry.MaxAttempts = 2 })
	err = c.DeleteRemoteLink(context.Background(), "ABC-1", "secret-ish-global-id")
	if err == nil {
		t.Fatal("no error from a closed port")
	}
	var je *jiraclient.Error
	if errors.As(err, &je) {
		t.Errorf("got *Error %v for a transport failure", je)
	}
	if !jiraclient.Retryable(err) {
		t.Errorf("connection refused should be retryable: %v", err)
	}
	if strings.Contains(err.Error(), "secret-ish-global-id") || !strings.Contains(err.Error(), "/rest/api/2/issue/ABC-1/remotelink") {
		t.Errorf("error = %q; want the path without the query", err)
	}
	if len(rec.got()) != 1 {
		t.Errorf("sleeps = %v, want one retry", rec.got())
	}
}

func TestRetryable(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{&jiraclient.Error{Status: 429}, true},
		{&jiraclient.Error{Status: 503}, true},
		{&jiraclient.Error{Status: 500}, true},
		{&jiraclient.Error{Status: 400}, false},
		{&jiraclient.Error{Status: 404}, false},
		{fmt.Errorf("wrapped: %w", &httpx.RateLimitError{System: "jira", Status: 429}), true},
		{context.Canceled, false},
		{jiraclient.ErrInvalidIssueKey, false},
		{nil, false},
	}
	for _, tc := range tests {
		if got := jiraclient.Retryable(tc.err); got != tc.want {
			t.Errorf("Retryable(%v) = %v, want %v", tc.err, got, tc.want)
		}
	}
}
