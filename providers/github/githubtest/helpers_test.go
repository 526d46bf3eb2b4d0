package githubtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

const token = "ghp_testtoken0000000000000000000000000000"

var zk = sync.OnceValues(corpus.ZooKeeper)

func zookeeper(t testing.TB) *corpus.History {
	t.Helper()
	h, err := zk()
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// clock is a settable time source.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 7, 20, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// corpusServer serves the ZooKeeper corpus as apache/zookeeper (id 1000).
func corpusServer(t testing.TB, opts githubtest.Options) (*githubtest.Server, *githubtest.RepoHandle) {
	t.Helper()
	if opts.Token == "" {
		opts.Token = token
	}
	s := githubtest.Start(t, opts)
	return s, s.AddCorpusRepo("apache", "zookeeper", 1000, zookeeper(t))
}

type reply struct {
	status int
	header http.Header
	body   []byte
}

func (r reply) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %s: %v", r.body, err)
	}
}

// ghError is GitHub's basic-error body.
type ghError struct {
	Message          string `json:"message"`
	DocumentationURL string `json:"documentation_url"`
}

func (r reply) message(t testing.TB) string {
	t.Helper()
	var e ghError
	r.decode(t, &e)
	return e.Message
}

// get requests path (relative to the API base) with the test token and
// the given header lines ("Name: value").
func get(t testing.TB, s *githubtest.Server, path string, headers ...string) reply {
	t.Helper()
	return do(t, http.DefaultClient, s.URL()+strings.TrimPrefix(path, "/"), append([]string{"Authorization: Bearer " + token}, headers...)...)
}

func do(t testing.TB, client *http.Client, url string, headers ...string) reply {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
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
	return reply{resp.StatusCode, resp.Header, b}
}

// noRedirect is a client that returns 3xx answers as they are.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
