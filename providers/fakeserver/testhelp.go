package fakeserver

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
)

// This file holds helpers for tests of the fakes and of their clients.

// Clock is a settable time source: pass its Now as a fake's Options.Now
// and move it with Add. It is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a Clock standing at t.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now is the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Add moves the clock by d.
func (c *Clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Reply is an HTTP answer, read in full.
type Reply struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends a request without body to url with client and the given
// header lines ("Name: value"), and reads the answer. Any transport error
// fails t.
func Do(t testing.TB, client *http.Client, method, url string, headers ...string) Reply {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range headers {
		k, v, _ := strings.Cut(h, ": ")
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return Reply{Status: resp.StatusCode, Header: resp.Header, Body: b}
}

// NoRedirect is a client that returns 3xx answers as they are.
func NoRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// Decode unmarshals the body into v; failure fails t.
func (r Reply) Decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.Body, v); err != nil {
		t.Fatalf("decode %s: %v", r.Body, err)
	}
}

// Message is the "message" member of a JSON error body, as GitHub and
// GitLab send it.
func (r Reply) Message(t testing.TB) string {
	t.Helper()
	var e struct {
		Message string `json:"message"`
	}
	r.Decode(t, &e)
	return e.Message
}

// MustJSON is the body decoded into any; a status other than 200 or a
// body that is not JSON fails t.
func (r Reply) MustJSON(t testing.TB) any {
	t.Helper()
	if r.Status != http.StatusOK {
		t.Fatalf("status %d: %s", r.Status, r.Body)
	}
	var v any
	r.Decode(t, &v)
	return v
}

// LinkRels lists the rel values of a Link header, in order.
func LinkRels(link string) []string {
	var rels []string
	for _, l := range strings.Split(link, ", ") {
		_, rel, _ := strings.Cut(l, `rel="`)
		rels = append(rels, strings.TrimSuffix(rel, `"`))
	}
	return rels
}

// ShapeDiff lists the fields of want (an example body the provider
// documents or sent, decoded into any) that got lacks or carries with
// another JSON type. null matches anything: examples fill optional
// objects a fake leaves null, and the other way round. Arrays are compared
// by their first elements when both have one. ignore holds dotted paths
// ("head.repo.x", "list[].y") not to compare. The result is sorted per
// object; nil means the shapes agree.
func ShapeDiff(want, got any, ignore []string) []string {
	return shapeDiff(want, got, "", ignore)
}

func shapeDiff(want, got any, path string, ignore []string) []string {
	if slices.Contains(ignore, path) || want == nil || got == nil {
		return nil
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: object in the example, %T here", path, got)}
		}
		var out []string
		for k, wv := range w {
			p := k
			if path != "" {
				p = path + "." + k
			}
			gv, ok := g[k]
			if !ok {
				if !slices.Contains(ignore, p) {
					out = append(out, p+": missing")
				}
				continue
			}
			out = append(out, shapeDiff(wv, gv, p, ignore)...)
		}
		sort.Strings(out)
		return out
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: array in the example, %T here", path, got)}
		}
		if len(w) > 0 && len(g) > 0 {
			return shapeDiff(w[0], g[0], path+"[]", ignore)
		}
		return nil
	default:
		if fmt.Sprintf("%T", want) != fmt.Sprintf("%T", got) {
			return []string{fmt.Sprintf("%s: %T in the example, %T here", path, want, got)}
		}
		return nil
	}
}

// LoadJSON decodes the JSON file at path into any; failure fails t.
func LoadJSON(t testing.TB, path string) any {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return v
}

// First is the first element of v if v is a non-empty array, else v.
func First(v any) any {
	if a, ok := v.([]any); ok && len(a) > 0 {
		return a[0]
	}
	return v
}

// MustCommit is commit sha of h; its absence fails t.
func MustCommit(t testing.TB, h *corpus.History, sha string) corpus.Commit {
	t.Helper()
	c, ok := h.Commit(sha)
	if !ok {
		t.Fatalf("no commit %s", sha)
	}
	return c
}
