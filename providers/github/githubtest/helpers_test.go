package githubtest_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
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

func newClock() *fakeserver.Clock {
	return fakeserver.NewClock(time.Date(2026, 7, 20, 10, 0, 0, 0, time.UTC))
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

// ghError is GitHub's basic-error body.
type ghError struct {
	Message          string `json:"message"`
	DocumentationURL string `json:"documentation_url"`
}

// get requests path (relative to the API base) with the test token and
// the given header lines ("Name: value").
func get(t testing.TB, s *githubtest.Server, path string, headers ...string) fakeserver.Reply {
	t.Helper()
	return fakeserver.Do(t, http.DefaultClient, http.MethodGet, s.URL()+strings.TrimPrefix(path, "/"),
		append([]string{"Authorization: Bearer " + token}, headers...)...)
}

// rootCommit is a one-commit history's only commit.
func rootCommit(t testing.TB) corpus.Commit {
	t.Helper()
	b := corpus.NewBuilder()
	sha := b.Commit(nil, "root", time.Unix(0, 0))
	return fakeserver.MustCommit(t, b.Build(), sha)
}
