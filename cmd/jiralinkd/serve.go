package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/mux"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/robfig/cron/v3"

	"github.com/jiralinkd/jiralinkd/config"
	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/admin"
	"github.com/jiralinkd/jiralinkd/indexer/metrics"
	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/status"
	"github.com/jiralinkd/jiralinkd/indexer/webhook"
)

// shutdownGrace bounds how long in-flight syncs may run after a stop
// signal before they are cancelled (their cursors stay where the last
// completed step left them, so nothing is lost).
const shutdownGrace = 30 * time.Second

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, env envFunc) int {
	d, code := setup(flag.NewFlagSet("serve", flag.ContinueOnError), args, stderr, env)
	if code != exitOK {
		return code
	}
	cfg, log := d.cfg, d.log
	if err := d.openStore(); err != nil {
		log.Error("cannot open state", "err", err)
		return exitFailed
	}
	defer d.close() // last: after HTTP and the scheduler have stopped

	// Syncs run under their own context so that a stop signal first stops
	// new work and gives running passes shutdownGrace to finish.
	syncCtx, cancelSyncs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSyncs()
	workerCtx, stopWorker := context.WithCancel(syncCtx)
	defer stopWorker()

	// Status, metrics and the hooks that feed them.
	chain := jobChain(log)
	sched := cron.New()
	entries := map[string]cron.EntryID{} // written before serving starts
	tracker := newTracker(d.store, d.providerInfos(func(name string) time.Time {
		return sched.Entry(entries[name]).Next
	}))
	var ledger smartcommit.Ledger // read by the status page and explain
	if d.smartCommitsEnabled() {
		ledger = d.store.Ledger()
	}
	reg, m := newMetrics(d, tracker)
	ix, err := d.newIndexerWith(indexer.Options{
		OnRedaction: m.Redaction,
		OnRepoStart: func(k state.RepoKey) { tracker.RepoSyncing(k, true) },
		OnRepoDone: func(k state.RepoKey, r indexer.RepoReport) {
			tracker.RepoSyncing(k, false)
			m.RepoDone(k.Provider, r)
		},
	})
	if err != nil {
		fmt.Fprintf(stderr, "jiralinkd: %v\n", err)
		return exitConfig
	}
	s := &server{log: log, tracker: tracker, metrics: m}

	// Webhooks: deliveries are verified, queued in bbolt and answered at
	// once; the worker runs the targeted syncs.
	notify := make(chan struct{}, 1)
	hooks := webhook.NewHandler(d.store, d.receivers(), notify, log)
	hooks.Observe = func(p string, r webhook.Result, dur time.Duration) { m.Webhook(p, string(r), dur) }
	worker := webhook.NewWorker(d.store, ix, d.targets, notify, log)

	// Admin: status page, API and /metrics behind the admin token.
	be := &backend{tracker: tracker, store: d.store, ix: ix, targets: map[string]indexer.Target{}, ctx: syncCtx, wg: &s.wg, ledger: ledger}
	for _, t := range d.targets {
		be.targets[t.Name] = t
	}
	adm := admin.New(be, admin.Options{
		Token:   cfg.HTTP.AdminToken.Reveal(),
		Metrics: promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}),
		Logger:  log, Version: version,
	})
	if !adm.Enabled() {
		log.Warn("status page, admin API and /metrics are disabled: set http.admin_token_env to enable them")
	}

	ln, err := net.Listen("tcp", cfg.HTTP.Listen)
	if err != nil {
		log.Error("cannot listen", "address", cfg.HTTP.Listen, "err", err)
		return exitFailed
	}
	srv := &http.Server{Handler: s.routes(hooks, adm), ReadHeaderTimeout: 10 * time.Second}
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Serve(ln) }()
	log.Info("jiralinkd serving", "version", version, "listen", ln.Addr().String(), "providers", len(d.targets))

	for _, t := range d.targets {
		job := chain.Then(cron.FuncJob(func() { s.pass(syncCtx, ix, t) }))
		id, err := sched.AddJob(scheduleOf(cfg, t.Name), job)
		if err != nil { // validated by config; a failure here is a bug
			log.Error("bad schedule", "provider", t.Name, "err", err)
			return exitConfig
		}
		entries[t.Name] = id
		if rs := reconcileOf(cfg, t.Name); rs != "off" {
			rjob := chain.Then(cron.FuncJob(func() { s.reconcile(syncCtx, ix, t) }))
			if _, err := sched.AddJob(rs, rjob); err != nil {
				log.Error("bad reconcile schedule", "provider", t.Name, "err", err)
				return exitConfig
			}
		}
		// The first pass starts now, not at the first tick. (Cron's Stop
		// waits for the passes it started; this one is waited for by wg.)
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			job.Run()
		}()
	}
	if err := startSecretScan(syncCtx, d, sched, chain, reg, &s.wg); err != nil { // secretscan.go
		log.Error("cannot start secret scanning", "err", err)
		return exitFailed
	}
	sched.Start()
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		worker.Run(workerCtx)
	}()
	s.ready.Store(true)

	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-httpDone:
		log.Error("HTTP server stopped", "err", err)
	}
	// 1. HTTP: stop accepting requests.
	s.ready.Store(false)
	hctx, hcancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = srv.Shutdown(hctx)
	hcancel()
	// 2. Scheduler and in-flight syncs: no new passes; wait for running ones
	// up to the grace period, then cancel them. The webhook worker stops
	// taking deliveries now; what it has not processed stays queued.
	stopped := sched.Stop()
	stopWorker()
	all := make(chan struct{})
	go func() {
		<-stopped.Done()
		s.wg.Wait()
		close(all)
	}()
	select {
	case <-all:
	case <-time.After(shutdownGrace):
		log.Warn("cancelling in-flight syncs", "grace", shutdownGrace)
		cancelSyncs()
		<-all
	}
	// 3. bbolt: closed by the deferred d.close().
	log.Info("stopped")
	if ctx.Err() != nil {
		return exitOK
	}
	return exitFailed
}

// newMetrics creates the Prometheus registry (with Go and process
// collectors) and the metrics, and points the clients' hooks at them.
func newMetrics(d *deps, tracker *status.Tracker) (*prometheus.Registry, *metrics.Metrics) {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m := metrics.New(reg, tracker.Snapshot)
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

// server holds the HTTP handlers' state.
type server struct {
	log     *slog.Logger
	tracker *status.Tracker
	metrics *metrics.Metrics
	ready   atomic.Bool
	wg      sync.WaitGroup
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
func (s *server) pass(ctx context.Context, ix *indexer.Indexer, t indexer.Target) {
	start := time.Now()
	s.tracker.PassStarted(t.Name)
	rep := ix.Sync(ctx, t, "")
	s.tracker.PassDone(t.Name)
	s.metrics.PassDone(t.Name, rep, time.Since(start))
	if rep.Err != nil && !errors.Is(rep.Err, context.Canceled) {
		s.log.Error("sync pass incomplete", "provider", t.Name, "err", rep.Err)
	}
	s.log.Info("sync pass done", "provider", t.Name, "repos", len(rep.Repos), "failed", rep.Failed(), "duration", time.Since(start).Round(time.Millisecond))
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
