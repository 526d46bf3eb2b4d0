package gitlab

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
)

// TestHistorySizeFromStatistics: one request, the default branch's commit
// count from the project's statistics.
func TestHistorySizeFromStatistics(t *testing.T) {
	b, head := oneCommit()
	at := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	for i := range 230 {
		head = b.Commit([]string{head}, fmt.Sprintf("ABC-%d", i), at.Add(time.Duration(i)*time.Minute))
	}
	b.Branch("main", head)
	srv := start(t, gitlabtest.Options{})
	srv.AddCorpusProject("platform", "api", 7, b.Build())
	c := newClient(t, srv, nil, "")
	before := len(srv.Requests())
	n, err := c.HistorySize(context.Background(), providers.Repo{ID: 7, FullName: "platform/api", DefaultBranch: "main"}, head)
	if err != nil {
		t.Fatal(err)
	}
	if n != 231 {
		t.Errorf("HistorySize = %d, want 231", n)
	}
	if sent := len(srv.Requests()) - before; sent != 1 {
		t.Errorf("%d requests, want 1", sent)
	}
	if _, err := c.HistorySize(context.Background(), providers.Repo{ID: 99, FullName: "platform/none"}, head); err == nil {
		t.Error("unknown project: no error")
	}
}
