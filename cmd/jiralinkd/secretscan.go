package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/jiralinkd/jiralinkd/indexer/jirascan"
)

// errNoFindingsStore means the state backend keeps no secret-scanning
// state.
var errNoFindingsStore = errors.New("the state backend does not support Jira secret scanning")

// findingsStore returns the state backend as the scanner's store.
func findingsStore(st stateStore) (jirascan.Store, error) {
	fs, ok := st.(jirascan.Store)
	if !ok {
		return nil, errNoFindingsStore
	}
	return fs, nil
}

// startSecretScan schedules Jira secret scanning when
// jira.secret_scan.enabled: a pass at once and then on its schedule,
// under the chain of every job (no overlapping passes, panics recovered),
// and its findings on /metrics. It does nothing when scanning is off.
func startSecretScan(ctx context.Context, d *deps, sched *cron.Cron, chain cron.Chain, reg prometheus.Registerer, wg *sync.WaitGroup) error {
	sc := d.cfg.Jira.SecretScan
	if sc == nil {
		return nil
	}
	store, err := findingsStore(d.store)
	if err != nil {
		return err
	}
	scanner, err := jirascan.New(jirascan.Options{
		Jira: d.jira, Store: store, Projects: sc.Projects, Fields: sc.Fields, Actions: sc.Actions,
		Label: sc.Label, Overlap: sc.Overlap, Logger: d.log.With("component", "secret-scan"),
	})
	if err != nil {
		return fmt.Errorf("secret scan: %w", err)
	}
	if err := reg.Register(jirascan.NewCollector(store)); err != nil {
		return fmt.Errorf("secret scan metrics: %w", err)
	}
	job := chain.Then(cron.FuncJob(func() { secretScanPass(ctx, scanner, d.log) }))
	if _, err := sched.AddJob(sc.Schedule, job); err != nil {
		return fmt.Errorf("secret scan schedule: %w", err)
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		job.Run()
	}()
	return nil
}

// secretScanPass runs one pass and logs its outcome (never a secret: the
// report holds counts and errors of Jira requests).
func secretScanPass(ctx context.Context, s *jirascan.Scanner, log *slog.Logger) {
	start := time.Now()
	rep := s.Run(ctx)
	issues, fresh, skipped := 0, 0, 0
	for _, p := range rep.Projects {
		issues += p.Issues
		fresh += p.New
		skipped += p.Skipped
	}
	if err := rep.Err(); err != nil && !errors.Is(err, context.Canceled) {
		log.Error("secret scan pass incomplete", "err", err)
	}
	log.Info("secret scan pass done", "issues", issues, "new_findings", fresh, "skipped", skipped,
		"actions_done", rep.Actions.Done, "actions_failed", rep.Actions.Failed, "duration", time.Since(start).Round(time.Millisecond))
}
