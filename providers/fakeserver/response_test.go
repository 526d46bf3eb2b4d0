package fakeserver_test

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
)

func TestJSON(t *testing.T) {
	r := fakeserver.JSON(201, map[string]int{"a": 1})
	if r.Status != 201 || string(r.Body) != `{"a":1}` || r.Header != nil || r.Forbidden || r.Counted {
		t.Errorf("JSON = %+v", r)
	}
	defer func() {
		if recover() == nil {
			t.Error("no panic for an unencodable value")
		}
	}()
	fakeserver.JSON(200, make(chan int))
}

func TestForbidden(t *testing.T) {
	r := fakeserver.Response{Status: 200}
	if f := fakeserver.Forbidden(r); !f.Forbidden || f.Status != 200 || r.Forbidden {
		t.Errorf("Forbidden(%+v) = %+v", r, f)
	}
}

func TestDiffAccept(t *testing.T) {
	for accept, want := range map[string]bool{
		"":                                   false,
		"application/vnd.github+json":        false,
		"application/vnd.github.diff":        true,
		"application/vnd.github.v3.patch":    true,
		"application/json, text/x-diff;q=.5": true,
	} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		r.Header.Set("Accept", accept)
		if got := fakeserver.DiffAccept(r); got != want {
			t.Errorf("DiffAccept(%q) = %v", accept, got)
		}
	}
}

func TestConditional(t *testing.T) {
	etag := func(b []byte) string { return `W/"` + string(b) + `"` }
	ok := fakeserver.Response{Status: 200, Body: []byte("abc"), Counted: true}
	tests := []struct {
		name        string
		ifNoneMatch string
		resp        fakeserver.Response
		wantStatus  int
		wantETag    string
		wantBody    string
	}{
		{"no If-None-Match", "", ok, 200, `W/"abc"`, "abc"},
		{"match", `W/"abc"`, ok, 304, `W/"abc"`, ""},
		{"strong form matches weak", `"abc"`, ok, 304, `W/"abc"`, ""},
		{"one of a list", `"x", W/"abc"`, ok, 304, `W/"abc"`, ""},
		{"star", `*`, ok, 304, `W/"abc"`, ""},
		{"mismatch", `"abd"`, ok, 200, `W/"abc"`, "abc"},
		{
			"handler's ETag wins", `"own"`,
			fakeserver.Response{Status: 200, Body: []byte("abc"), Header: http.Header{"Etag": {`"own"`}, "Link": {"x"}}},
			304, `"own"`, "",
		},
		{"not a 200", `W/"abc"`, fakeserver.Response{Status: 404, Body: []byte("abc")}, 404, "", "abc"},
		{"no body", `*`, fakeserver.Response{Status: 200}, 200, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "/", nil)
			if tt.ifNoneMatch != "" {
				r.Header.Set("If-None-Match", tt.ifNoneMatch)
			}
			in := tt.resp
			in.Forbidden = true
			got := fakeserver.Conditional(r, in, etag)
			if got.Status != tt.wantStatus || got.Header.Get("ETag") != tt.wantETag || string(got.Body) != tt.wantBody {
				t.Errorf("got %d ETag %q body %q", got.Status, got.Header.Get("ETag"), got.Body)
			}
			if !got.Forbidden || got.Counted != tt.resp.Counted {
				t.Errorf("flags lost: %+v", got)
			}
			if got.Status == 304 && len(got.Header) != 1 {
				t.Errorf("304 header %v, want the ETag only", got.Header)
			}
		})
	}
}

func TestOrigin(t *testing.T) {
	tests := []struct {
		name      string
		tls       bool
		forwarded string
		want      string
	}{
		{"plain", false, "", "http://api.test:8080"},
		{"tls", true, "", "https://api.test:8080"},
		{"forwarded https", false, "https", "https://api.test:8080"},
		{"forwarded http", true, "http", "http://api.test:8080"},
		{"bogus forwarded", false, "gopher", "http://api.test:8080"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodGet, "http://api.test:8080/x", nil)
			if tt.tls {
				r.TLS = &tls.ConnectionState{}
			}
			if tt.forwarded != "" {
				r.Header.Set("X-Forwarded-Proto", tt.forwarded)
			}
			if got := fakeserver.Origin(r); got != tt.want {
				t.Errorf("Origin = %q, want %q", got, tt.want)
			}
		})
	}
}
