package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
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

// scheduleSecretScan adds Jira secret scanning to sched when
// jira.secret_scan.enabled, under the chain of every job (no overlapping
// passes, panics recovered), and its findings to reg. It returns the job,
// which the caller also runs once at start-up, or nil when scanning is off.
//
// job makes the scan a job that runs only while this replica leads, under
// the leadership's context (role.job); it writes through writes (the
// leader's fenced store), while its metrics read d.store.
func scheduleSecretScan(job func(func(context.Context)) cron.Job, d *deps, writes stateStore, sched *cron.Cron, chain cron.Chain, reg prometheus.Registerer) (cron.Job, error) {
	sc := d.cfg.Jira.SecretScan
	if sc == nil {
		return nil, nil
	}
	store, err := findingsStore(d.store)
	if err != nil {
		return nil, err
	}
	fenced, err := findingsStore(writes)
	if err != nil {
		return nil, err
	}
	scanner, err := jirascan.New(jirascan.Options{
		Jira: d.jira, Store: fenced, Projects: sc.Projects, Fields: sc.Fields, Actions: sc.Actions,
		Label: sc.Label, Overlap: sc.Overlap, Logger: d.log.With("component", "secret-scan"),
	})
	if err != nil {
		return nil, fmt.Errorf("secret scan: %w", err)
	}
	if err := reg.Register(jirascan.NewCollector(store)); err != nil {
		return nil, fmt.Errorf("secret scan metrics: %w", err)
	}
	scan := chain.Then(job(func(ctx context.Context) { secretScanPass(ctx, scanner, d.log) }))
	if _, err := sched.AddJob(sc.Schedule, scan); err != nil {
		return nil, fmt.Errorf("secret scan schedule: %w", err)
	}
	return scan, nil
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
