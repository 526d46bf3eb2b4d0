package gitlabtest_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"
	"golang.org/x/time/rate"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
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

func newClock() *fakeserver.Clock {
	return fakeserver.NewClock(time.Date(2026, 7, 20, 10, 0, 0, 0, time.UTC))
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

// get requests path (relative to /api/v4/) with the test token and the
// given header lines ("Name: value").
func get(t testing.TB, s *gitlabtest.Server, path string, headers ...string) fakeserver.Reply {
	t.Helper()
	return fakeserver.Do(t, http.DefaultClient, http.MethodGet, s.URL()+"api/v4/"+strings.TrimPrefix(path, "/"),
		append([]string{"PRIVATE-TOKEN: " + token}, headers...)...)
}

// rootCommit is a one-commit history's only commit.
func rootCommit(t testing.TB) corpus.Commit {
	t.Helper()
	b := corpus.NewBuilder()
	sha := b.Commit(nil, "root", time.Date(2024, 1, 2, 3, 4, 5, 0, time.UTC))
	return fakeserver.MustCommit(t, b.Build(), sha)
}
