package fakeserver_test

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
)

func TestShapeDiff(t *testing.T) {
	want := map[string]any{
		"a": "x", "b": map[string]any{"c": 1.0}, "l": []any{map[string]any{"d": true}},
		"n": nil, "o": map[string]any{"p": 1.0}, "skip": 1.0, "deep": map[string]any{"skip": "x"},
	}
	tests := []struct {
		name   string
		got    any
		ignore []string
		want   []string
	}{
		{
			name: "every kind of difference",
			got: map[string]any{
				"a": 2.0, "b": map[string]any{}, "l": []any{map[string]any{"d": "no"}},
				"n": "anything", "o": nil, "skip": 1.0, "deep": map[string]any{"skip": "x"},
			},
			want: []string{"a: string in the example, float64 here", "b.c: missing", "l[].d: bool in the example, string here"},
		},
		{
			name:   "ignored paths",
			got:    map[string]any{"a": "y", "b": map[string]any{"c": 2.0}, "l": []any{}, "n": nil, "o": map[string]any{"p": 3.0}, "deep": map[string]any{}},
			ignore: []string{"skip", "deep.skip"},
		},
		{
			name:   "not an object",
			got:    []any{},
			ignore: nil,
			want:   []string{": object in the example, []interface {} here"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := fakeserver.ShapeDiff(want, tt.got, tt.ignore)
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("ShapeDiff = %q, want %q", got, tt.want)
			}
		})
	}
	if d := fakeserver.ShapeDiff([]any{1.0}, map[string]any{}, nil); len(d) != 1 {
		t.Errorf("array vs object: %q", d)
	}
}

func TestFirstAndLoadJSON(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.json")
	if err := os.WriteFile(path, []byte(`[{"a":1},{"a":2}]`), 0o600); err != nil {
		t.Fatal(err)
	}
	v := fakeserver.LoadJSON(t, path)
	if got := fakeserver.First(v); !reflect.DeepEqual(got, map[string]any{"a": 1.0}) {
		t.Errorf("First = %v", got)
	}
	for _, v := range []any{"s", []any{}, map[string]any{}} {
		if got := fakeserver.First(v); !reflect.DeepEqual(got, v) {
			t.Errorf("First(%v) = %v", v, got)
		}
	}
}

func TestClock(t *testing.T) {
	start := time.Date(2026, 7, 20, 10, 0, 0, 0, time.UTC)
	c := fakeserver.NewClock(start)
	if !c.Now().Equal(start) {
		t.Errorf("Now = %v", c.Now())
	}
	c.Add(90 * time.Second)
	if want := start.Add(90 * time.Second); !c.Now().Equal(want) {
		t.Errorf("after Add: %v, want %v", c.Now(), want)
	}
}

func TestDoAndReply(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old" {
			http.Redirect(w, r, "/new", http.StatusMovedPermanently)
			return
		}
		w.Header().Set("X-Echo", r.Method+" "+r.Header.Get("Private-Token"))
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"message":"404 Project Not Found"}`))
	}))
	t.Cleanup(ts.Close)

	r := fakeserver.Do(t, http.DefaultClient, http.MethodPost, ts.URL+"/x", "PRIVATE-TOKEN: tok", "X-Other: 1")
	if r.Status != 404 || r.Header.Get("X-Echo") != "POST tok" || r.Message(t) != "404 Project Not Found" {
		t.Errorf("reply %d %v %s", r.Status, r.Header, r.Body)
	}
	var body map[string]string
	r.Decode(t, &body)
	if body["message"] != "404 Project Not Found" {
		t.Errorf("Decode = %v", body)
	}
	if r := fakeserver.Do(t, fakeserver.NoRedirect(), http.MethodGet, ts.URL+"/old"); r.Status != 301 || r.Header.Get("Location") != "/new" {
		t.Errorf("NoRedirect: %d %v", r.Status, r.Header)
	}
}

func TestMustCommit(t *testing.T) {
	b := corpus.NewBuilder()
	sha := b.Commit(nil, "root", time.Unix(0, 0))
	if c := fakeserver.MustCommit(t, b.Build(), sha); c.SHA != sha || c.Message != "root" {
		t.Errorf("MustCommit = %+v", c)
	}
}

func TestMustJSON(t *testing.T) {
	r := fakeserver.Reply{Status: 200, Body: []byte(`[{"a":1}]`)}
	if got := r.MustJSON(t); !reflect.DeepEqual(got, []any{map[string]any{"a": 1.0}}) {
		t.Errorf("MustJSON = %v", got)
	}
}

func TestLinkRels(t *testing.T) {
	link := `<https://x/a?page=1>; rel="prev", <https://x/a?page=3>; rel="next", <https://x/a?page=1>; rel="first"`
	if got := fakeserver.LinkRels(link); !slices.Equal(got, []string{"prev", "next", "first"}) {
		t.Errorf("LinkRels = %q", got)
	}
}
