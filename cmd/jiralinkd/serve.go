package main

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/robfig/cron/v3"

	"github.com/jiralinkd/jiralinkd/config"
	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/admin"
	"github.com/jiralinkd/jiralinkd/indexer/metrics"
	"github.com/jiralinkd/jiralinkd/indexer/status"
	"github.com/jiralinkd/jiralinkd/indexer/webhook"
)

// shutdownGrace bounds how long in-flight syncs may run after a stop
// signal before they are cancelled (their cursors stay where the last
// completed step left them, so nothing is lost).
const shutdownGrace = 30 * time.Second

// newMetrics creates the Prometheus registry (with Go and process
// collectors) and the metrics, and points the clients' hooks at them.
func newMetrics(d *deps, tracker *status.Tracker) (*prometheus.Registry, *metrics.Metrics) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(reg, tracker.Snapshot)
	if d.jiraLimit != nil {
		metrics.JiraConcurrency(reg, d.jiraLimit.Limit)
	}
	observers := map[string]func(*http.Request, int, error){"jira": m.RequestObserver("jira", d.classify("jira"))}
	for _, t := range d.targets {
		observers[t.Name] = m.RequestObserver(t.Name, d.classify(t.Name))
	}
	d.hooks = clientHooks{
		observe: func(system string, req *http.Request, status int, err error) {
			if o := observers[system]; o != nil {
				o(req, status, err)
			}
		},
		wait: func(system string, wait time.Duration, rateLimited bool) {
			if rateLimited {
				tracker.Waiting(system, wait)
			}
		},
	}
	return reg, m
}

// reconcileOf returns the reconciliation schedule of the named provider.
func reconcileOf(cfg *config.Config, name string) string {
	for _, p := range cfg.Providers {
		if p.Name == name {
			return p.ReconcileSchedule
		}
	}
	return "off"
}

// reconcile runs a reconciliation pass of a target.
func (s *server) reconcile(ctx context.Context, ix *indexer.Indexer, t indexer.Target) {
	start := time.Now()
	s.tracker.PassStarted(t.Name)
	rep := ix.Reconcile(ctx, t)
	s.tracker.PassDone(t.Name)
	s.metrics.PassDone(t.Name, rep, time.Since(start))
	s.log.Info("reconciliation done", "provider", t.Name, "repos", len(rep.Repos), "failed", rep.Failed(), "duration", time.Since(start).Round(time.Millisecond))
}

// scheduleOf returns the cron schedule of the named provider.
func scheduleOf(cfg *config.Config, name string) string {
	for _, p := range cfg.Providers {
		if p.Name == name {
			return p.Schedule
		}
	}
	return ""
}

// server holds the HTTP handlers' state of one generation (daemon.go).
type server struct {
	log     *slog.Logger
	tracker *status.Tracker
	metrics *metrics.Metrics
	ready   *atomic.Bool // the daemon's: true while it serves
}

func (s *server) routes(hooks *webhook.Handler, adm *admin.Server) http.Handler {
	r := mux.NewRouter()
	hooks.Route(r)
	adm.Route(r)
	r.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintln(w, "ok")
	}).Methods(http.MethodGet, http.MethodHead)
	r.HandleFunc("/readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintln(w, "ready")
	}).Methods(http.MethodGet, http.MethodHead)
	return r
}

// pass runs one sync pass of a target and logs its outcome.
func (s *server) pass(ctx context.Context, ix *indexer.Indexer, t indexer.Target) indexer.Report {
	start := time.Now()
	s.tracker.PassStarted(t.Name)
	rep := ix.Sync(ctx, t, "")
	s.tracker.PassDone(t.Name)
	s.metrics.PassDone(t.Name, rep, time.Since(start))
	if rep.Err != nil && indexer.Classify(rep.Err) != indexer.FailureInterrupted { // shutdown or leadership lost
		s.log.Error("sync pass incomplete", "provider", t.Name, "err", rep.Err)
	}
	s.log.Info("sync pass done", "provider", t.Name, "repos", len(rep.Repos), "failed", rep.Failed(), "sweep", rep.Sweep,
		"unchanged", rep.Unchanged, "backfills", len(rep.Backfilling), "duration", time.Since(start).Round(time.Millisecond))
	return rep
}

// cronLogger adapts slog to cron's logger interface.
type cronLogger struct{ l *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) { c.l.Debug("cron: "+msg, kv...) }
func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.l.Error("cron: "+msg, append(kv, "err", err)...)
}

// jobChain wraps every scheduled job, the first pass at launch included
// (it runs the same wrapped job): a panic is recovered and logged, and a
// pass still running makes the next start of the same job a no-op.
func jobChain(log *slog.Logger) cron.Chain {
	return cron.NewChain(cron.Recover(cronLogger{log}), cron.SkipIfStillRunning(cronLogger{log}))
}
