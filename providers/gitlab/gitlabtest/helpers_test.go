package gitlabtest_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"
	"golang.org/x/time/rate"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
)

const token = "glpat-testtoken00000000000"

// zkMaster is the head of master in the ZooKeeper corpus.
const zkMaster = "53a78e36f99602162643303ab330377fc383b41f"

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
func corpusServer(t testing.TB, opts gitlabtest.Options) (*gitlabtest.Server, *gitlabtest.ProjectHandle) {
	t.Helper()
	if opts.Token == "" {
		opts.Token = token
	}
	s := gitlabtest.Start(t, opts)
	return s, s.AddCorpusProject("apache", "zookeeper", 1000, zookeeper(t))
}

// client is a client-go client of s, the decoder jiralinkd uses, with
// its retries and client-side rate limiter off so that tests see every
// answer as sent.
func client(t testing.TB, s *gitlabtest.Server, tok string) *gl.Client {
	t.Helper()
	c, err := gl.NewClient(tok, gl.WithBaseURL(s.URL()), gl.WithoutRetries(),
		gl.WithCustomLimiter(rate.NewLimiter(rate.Inf, 1)))
	if err != nil {
		t.Fatal(err)
	}
	return c
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

// message is the "message" of GitLab's error body.
func (r reply) message(t testing.TB) string {
	t.Helper()
	var e struct{ Message string }
	r.decode(t, &e)
	return e.Message
}

// get requests path (relative to /api/v4/) with the test token and the
// given header lines ("Name: value").
func get(t testing.TB, s *gitlabtest.Server, path string, headers ...string) reply {
	t.Helper()
	return do(t, http.DefaultClient, http.MethodGet, s.URL()+"api/v4/"+strings.TrimPrefix(path, "/"),
		append([]string{"PRIVATE-TOKEN: " + token}, headers...)...)
}

func do(t testing.TB, client *http.Client, method, url string, headers ...string) reply {
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
	return reply{resp.StatusCode, resp.Header, b}
}

// noRedirect is a client that returns 3xx answers as they are.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func mustCommit(t testing.TB, h *corpus.History, sha string) corpus.Commit {
	t.Helper()
	c, ok := h.Commit(sha)
	if !ok {
		t.Fatalf("no commit %s", sha)
	}
	return c
}

// rootCommit is a one-commit history's only commit.
func rootCommit(t testing.TB) corpus.Commit {
	t.Helper()
	b := corpus.NewBuilder()
	sha := b.Commit(nil, "root", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	return mustCommit(t, b.Build(), sha)
}
