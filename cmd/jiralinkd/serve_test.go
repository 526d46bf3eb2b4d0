package main

import (
	"bytes"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/robfig/cron/v3"
)

// The launch pass and the scheduled ticks run the same wrapped job: a tick
// that fires while the launch pass runs is skipped, and a panicking pass is
// logged instead of killing the daemon.
func TestJobChainSkipsOverlapsAndRecoversPanics(t *testing.T) {
	var logs bytes.Buffer
	chain := jobChain(slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	var running, overlaps, runs atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	job := chain.Then(cron.FuncJob(func() {
		if running.Add(1) > 1 {
			overlaps.Add(1)
		}
		defer running.Add(-1)
		runs.Add(1)
		select {
		case started <- struct{}{}:
		default:
		}
		<-release
	}))
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); job.Run() }() // the launch pass
	<-started
	job.Run() // a tick while it runs: skipped, returns at once
	close(release)
	wg.Wait()
	if overlaps.Load() != 0 || runs.Load() != 1 {
		t.Errorf("overlapping passes: %d, runs: %d (want 0 and 1)", overlaps.Load(), runs.Load())
	}

	boom := chain.Then(cron.FuncJob(func() { panic("pass exploded") }))
	boom.Run() // must not panic
	if !strings.Contains(logs.String(), "pass exploded") {
		t.Errorf("the panic was not logged:\n%s", logs.String())
	}
}
