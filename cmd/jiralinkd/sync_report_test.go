package main

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// TestPrintReportsStopped: a repo stopped by Ctrl-C is a bare "stop"; one
// whose sync was fenced (its repo lock taken over while the process was
// paused) is a stop too, not a failure, but says why.
func TestPrintReportsStopped(t *testing.T) {
	var b strings.Builder
	failed := printReports(&b, []indexer.Report{{Provider: "github", Repos: []indexer.RepoReport{
		{Repo: "acme/a", Err: fmt.Errorf("branch main: %w", context.Canceled)},
		{Repo: "acme/b", Err: fmt.Errorf("record links: %w: the repo lock of github/2 was taken over by r2/pass", state.ErrFenced)},
	}}}, false)
	out := b.String()
	if failed != 0 {
		t.Errorf("%d failures, want 0\n%s", failed, out)
	}
	lines := strings.Split(out, "\n")
	if !strings.HasPrefix(lines[0], "stop github acme/a") || strings.Contains(lines[0], "canceled") {
		t.Errorf("the interrupted repo: %q, want a bare stop", lines[0])
	}
	if !strings.HasPrefix(lines[1], "stop github acme/b") || !strings.Contains(lines[1], "taken over by r2/pass") {
		t.Errorf("the fenced repo: %q, want a stop with the reason", lines[1])
	}
	if !strings.Contains(out, "2 interrupted") {
		t.Errorf("total: %q, want 2 interrupted", out)
	}
}
