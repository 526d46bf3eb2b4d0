package github

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

// TestHistorySizeReadsTheLastPage: one request at per_page=1 tells the
// number of commits reachable from a head, merges' second parents
// included, from the Link header's last page; a one-commit history has no
// Link header.
func TestHistorySizeReadsTheLastPage(t *testing.T) {
	b, root := oneCommit()
	at := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	main, side := root, root
	for i := range 250 {
		main = b.Commit([]string{main}, fmt.Sprintf("ABC-%d main", i), at.Add(time.Duration(i)*time.Minute))
	}
	for i := range 30 {
		side = b.Commit([]string{side}, fmt.Sprintf("ABC-%d side", i), at.Add(time.Duration(i)*time.Minute))
	}
	merge := b.Commit([]string{main, side}, "merge", at.Add(time.Hour*10))
	b.Branch("main", merge)
	b.Branch("first", root)
	srv := githubtest.Start(t, githubtest.Options{Token: token})
	srv.AddCorpusRepo("acme", "api", 1, b.Build())
	c := newClient(t, srv, nil)
	repo := providers.Repo{ID: 1, FullName: "acme/api"}
	for head, want := range map[string]int{merge: 1 + 250 + 30 + 1, root: 1, side: 31} {
		before := len(srv.Requests())
		got, err := c.HistorySize(context.Background(), repo, head)
		if err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("HistorySize(%s) = %d, want %d", head[:7], got, want)
		}
		if n := len(srv.Requests()) - before; n != 1 {
			t.Errorf("HistorySize sent %d requests, want 1", n)
		}
	}
	if _, err := c.HistorySize(context.Background(), repo, "ffffffffffffffffffffffffffffffffffffffff"); err == nil {
		t.Error("unknown head: no error")
	}
}
