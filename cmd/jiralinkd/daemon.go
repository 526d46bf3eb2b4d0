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
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/robfig/cron/v3"

	"github.com/jiralinkd/jiralinkd/config"
	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/admin"
	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/webhook"
)

// expiryRefreshEvery is how often serve refreshes token expiries between
// passes (GitLab and Jira are asked at most hourly anyway).
const expiryRefreshEvery = 10 * time.Minute

// cmdServe runs the daemon until ctx is cancelled. Every receive on reload
// (SIGHUP, from run) re-reads the secret files and the configuration: a
// valid configuration replaces the running one (reload), an invalid one
// is refused with the errors start-up would print and the running one
// stays. reload may be nil.
func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer, env envFunc, reload <-chan struct{}) int {
	d, code := setup(flag.NewFlagSet("serve", flag.ContinueOnError), args, stderr, env)
	if code != exitOK {
		return code
	}
	log := d.log
	if err := d.openStore(); err != nil {
		log.Error("cannot open state", "err", err)
		return exitFailed
	}
	defer d.close() // last: after HTTP and the scheduler have stopped

	// Syncs run under their own context so that a stop signal first stops
	// new work and gives running passes shutdownGrace to finish.
	syncCtx, cancelSyncs := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelSyncs()

	rl := newRole(d.store, d.holder(), log)
	if !rl.shared() {
		rl.set(syncCtx, 1) // leader.Solo: the one process holding the file leads
	}
	dm := &daemon{log: log, stderr: stderr, env: env, cfgPath: d.cfgPath, store: d.store, tokens: d.tokens, cfg: d.cfg, role: rl}
	g, err := dm.build(syncCtx, d)
	if err != nil {
		fmt.Fprintf(stderr, "jiralinkd: %v\n", err)
		return exitConfig
	}
	if !g.adminOn {
		log.Warn("status page, admin API and /metrics are disabled: set http.admin_token_env to enable them")
	}
	ln, err := net.Listen("tcp", d.cfg.HTTP.Listen)
	if err != nil {
		log.Error("cannot listen", "address", d.cfg.HTTP.Listen, "err", err)
		return exitFailed
	}
	srv := &http.Server{Handler: dm, ReadHeaderTimeout: 10 * time.Second}
	httpDone := make(chan error, 1)
	go func() { httpDone <- srv.Serve(ln) }()
	log.Info("jiralinkd serving", "version", version, "listen", ln.Addr().String(), "providers", len(d.targets))
	dm.start(syncCtx, g, nil)
	dm.ready.Store(true)
	// With a shared state: the election (a new leader runs a pass at once)
	// and the heartbeat of the status page. Stopped before the passes are
	// waited for, so that the lease is released at once.
	electCtx, stopElection := context.WithCancel(syncCtx)
	defer stopElection()
	var election sync.WaitGroup
	if rl.shared() {
		log.Info("replica of a shared state", "replica", rl.holder)
		election.Go(func() { rl.run(electCtx, dm.takeover) })
		election.Go(func() { rl.heartbeat(electCtx) })
	}

	refresh := time.NewTicker(expiryRefreshEvery)
	defer refresh.Stop()
	var failed bool
loop:
	for {
		select {
		case <-ctx.Done():
			log.Info("shutting down")
			break loop
		case err := <-httpDone:
			log.Error("HTTP server stopped", "err", err)
			failed = true
			break loop
		case <-reload:
			dm.reload(syncCtx)
		case <-refresh.C:
			dm.wg.Go(func() { dm.current().d.refreshTokens(syncCtx) })
		}
	}
	// 1. HTTP: stop accepting requests.
	dm.ready.Store(false)
	hctx, hcancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = srv.Shutdown(hctx)
	hcancel()
	// 2. Scheduler and in-flight syncs: no new passes; wait for running ones
	// up to the grace period, then cancel them. The webhook worker stops
	// taking deliveries now; what it has not processed stays queued.
	dm.stop()
	stopElection() // steps down: passes of this replica are cancelled, a successor takes over
	election.Wait()
	all := make(chan struct{})
	go func() {
		dm.wg.Wait()
		close(all)
	}()
	select {
	case <-all:
	case <-time.After(shutdownGrace):
		log.Warn("cancelling in-flight syncs", "grace", shutdownGrace)
		cancelSyncs()
		<-all
	}
	// 3. State: closed by the deferred d.close().
	log.Info("stopped")
	if failed || ctx.Err() == nil {
		return exitFailed
	}
	return exitOK
}

// daemon is serve's running state. What a configuration defines — the
// clients, the indexer, the scheduler's entries, the webhook receivers,
// the status page and admin API — lives in a generation; reload builds a
// new generation from a new configuration and swaps it in while the HTTP
// server keeps serving (ServeHTTP reads the current generation's routes
// per request). The state store and the token watch outlive generations.
type daemon struct {
	log     *slog.Logger
	stderr  io.Writer
	env     envFunc
	cfgPath string
	store   stateStore
	tokens  *tokenWatch
	role    *role // leader or follower (ha.go)
	ready   atomic.Bool
	// wg counts every goroutine that may use the store: passes, resyncs,
	// webhook workers and generation switches of every generation.
	wg sync.WaitGroup

	cur atomic.Pointer[generation]
	// mu serialises reloads and stop; cfg is the running configuration.
	mu       sync.Mutex
	cfg      *config.Config
	stopping bool
}

// generation is everything one configuration defines.
type generation struct {
	d          *deps
	srv        *server
	ix         *indexer.Indexer
	sched      *cron.Cron
	handler    http.Handler
	worker     *webhook.Worker
	stopWorker context.CancelFunc // nil until started
	workerDone chan struct{}
	adminOn    bool
	entries    map[string]cron.EntryID // sync pass entry by provider
	be         *backend
	scanJob    cron.Job // the Jira secret scan's job; nil when off
	// passes counts this generation's first passes and resyncs (the
	// scheduler waits for its own jobs).
	passes sync.WaitGroup
	// prevDone is closed once the generation this one replaced has
	// stopped; nil for the first.
	prevDone <-chan struct{}
	// The backfill lanes (one job per provider, see indexer.Backfill):
	// started after a pass that left backfills, stopped by halt before it
	// waits for them (a backfill of hours resumes from its checkpoints).
	lanes     map[string]cron.Job
	laneCtx   context.Context
	stopLanes context.CancelFunc
	laneMu    sync.Mutex // guards laneWG.Add against halt's Wait
	laneWG    sync.WaitGroup
	spawn     func(func()) // runs a goroutine the daemon waits for
}

// ServeHTTP serves a request with the current generation's routes.
func (dm *daemon) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	dm.current().handler.ServeHTTP(w, r)
}

func (dm *daemon) current() *generation { return dm.cur.Load() }

// build makes a generation from d (built from a configuration, not yet
// given the store) without starting anything. syncCtx is the context of
// the passes it will run.
func (dm *daemon) build(syncCtx context.Context, d *deps) (*generation, error) {
	d.store, d.tokens, d.replica = dm.store, dm.tokens, dm.role.holder
	log := d.log
	g := &generation{d: d, sched: cron.New(), workerDone: make(chan struct{}), entries: map[string]cron.EntryID{},
		lanes: map[string]cron.Job{}, spawn: dm.wg.Go}
	g.laneCtx, g.stopLanes = context.WithCancel(context.Background())
	tracker := newTracker(d.store, d.providerInfos(func(name string) time.Time {
		return g.sched.Entry(g.entries[name]).Next
	}))
	if dm.role.shared() {
		tracker.Replicas = dm.role.statusReplicas
	}
	if d.cfg.Jira.Username == "" {
		tracker.JiraTokenExpiry = func() (time.Time, bool) { return d.tokens.get(indexer.JiraSystem) }
		tracker.JiraTokenSetting = d.cfg.Jira.Token.Setting("jira.token")
	}
	var ledger smartcommit.Ledger // read by the status page and explain
	if d.smartCommitsEnabled() {
		ledger = d.store.Ledger()
	}
	reg, m := newMetrics(d, tracker)
	registerRoleMetrics(reg, dm.role)
	ixOpts := indexer.Options{
		OnRedaction: m.Redaction,
		OnRepoStart: func(k state.RepoKey) { tracker.RepoSyncing(k, true) },
		OnRepoDone: func(k state.RepoKey, r indexer.RepoReport) {
			tracker.RepoSyncing(k, false)
			m.RepoDone(k.Provider, r)
		},
	}
	// The leader's passes write through the store fenced by the lease and
	// take over the repo locks of earlier leaders' passes (fenced, so
	// harmless); with a shared state, webhook syncs (on any replica) each
	// run under the repo's lock in the database and write through a view
	// fenced by that lock (distinct holders, so that the two indexers of
	// one replica exclude each other too).
	ixOpts.OnBackfills = g.startLane // passes, webhooks and resyncs alike
	passOpts, hookOpts := ixOpts, ixOpts
	passOpts.Store = dm.role.passStore(d.store)
	passOpts.BackfillLane = true
	hookOpts.BackfillLane = true // the leader's lane runs backfills
	if dm.role.shared() {
		passOpts.RepoLocker = dm.role.pg.RepoLocks(dm.role.holder+passLockSuffix, repoLockTTL).Preempting(passLockSuffix)
		hookOpts.Store, hookOpts.RepoLocker = repoLocksOf(d.store, dm.role.holder+"/hooks")
	}
	ix, err := d.newIndexerWith(passOpts)
	if err != nil {
		return nil, err
	}
	hookIx := ix
	if dm.role.shared() {
		if hookIx, err = d.newIndexerWith(hookOpts); err != nil {
			return nil, err
		}
	}
	g.ix = ix
	// The backfill's progress: repos a pass will backfill and has not
	// started (the others' progress is in the state).
	tracker.BackfillQueued = ix.BackfillQueued
	g.srv = &server{log: log, tracker: tracker, metrics: m, ready: &dm.ready}

	// Webhooks: deliveries are verified, queued in the state store and
	// answered at once; the worker runs the targeted syncs.
	notify := make(chan struct{}, 1)
	hooks := webhook.NewHandler(d.store, d.receivers(), notify, log)
	hooks.Observe = func(p string, r webhook.Result, dur time.Duration) { m.Webhook(p, string(r), dur) }
	g.worker = webhook.NewWorker(dm.role.queue(d.store), hookIx, d.targets, notify, log)

	// Admin: status page, API and /metrics behind the admin token.
	be := &backend{tracker: tracker, store: d.store, ix: ix, targets: map[string]indexer.Target{}, ctx: syncCtx, wg: &g.passes, ledger: ledger, role: dm.role}
	g.be = be
	for _, t := range d.targets {
		be.targets[t.Name] = t
	}
	adm := admin.New(be, admin.Options{
		Token:       d.cfg.HTTP.AdminToken.Reveal(),
		TokenSource: d.adminToken.Value,
		Metrics:     promhttp.HandlerFor(reg, promhttp.HandlerOpts{ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelError)}),
		Logger:      log, Version: version,
	})
	g.adminOn = adm.Enabled()
	g.handler = g.srv.routes(hooks, adm)

	chain := jobChain(log)
	for _, t := range d.targets {
		g.lanes[t.Name] = chain.Then(dm.role.job(func(ctx context.Context) { g.backfill(ctx, t) }))
		job := chain.Then(dm.role.job(func(ctx context.Context) { g.pass(ctx, t) }))
		id, err := g.sched.AddJob(scheduleOf(d.cfg, t.Name), job)
		if err != nil { // validated by config; a failure here is a bug
			return nil, fmt.Errorf("provider %s: bad schedule: %w", t.Name, err)
		}
		g.entries[t.Name] = id
		if rs := reconcileOf(d.cfg, t.Name); rs != "off" {
			rjob := chain.Then(dm.role.job(func(ctx context.Context) { g.reconcile(ctx, t) }))
			if _, err := g.sched.AddJob(rs, rjob); err != nil {
				return nil, fmt.Errorf("provider %s: bad reconcile schedule: %w", t.Name, err)
			}
		}
	}
	if g.scanJob, err = scheduleSecretScan(dm.role.job, d, dm.role.passStore(d.store), g.sched, chain, reg); err != nil { // secretscan.go
		return nil, err
	}
	return g, nil
}

// pass runs a sync pass of t, then rotates t's token if it is due
// (rotate_before) and refreshes the token expiries.
func (g *generation) pass(ctx context.Context, t indexer.Target) {
	g.srv.pass(ctx, g.ix, t) // a pass leaving backfills starts the lane (OnBackfills)
	g.d.rotateDue(ctx, t.Name)
	g.d.refreshTokens(ctx)
}

// startLane starts provider name's backfill lane unless it is running
// (the job chain makes a second start a no-op) or g is halting.
func (g *generation) startLane(name string) {
	g.laneMu.Lock()
	defer g.laneMu.Unlock()
	if g.laneCtx.Err() != nil {
		return
	}
	job := g.lanes[name]
	g.laneWG.Add(1)
	g.spawn(func() {
		defer g.laneWG.Done()
		job.Run()
	})
}

// backfill runs t's backfills under ctx (the term's), until they are done
// or g halts.
func (g *generation) backfill(ctx context.Context, t indexer.Target) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	defer context.AfterFunc(g.laneCtx, cancel)()
	g.ix.Backfill(ctx, t)
}

// reconcile runs a reconciliation pass of t.
func (g *generation) reconcile(ctx context.Context, t indexer.Target) {
	g.srv.reconcile(ctx, g.ix, t)
}

// start makes g the current generation and starts it: its scheduler, its
// webhook worker, and a first pass of every provider (all of them at
// launch; after a reload only those of providers the previous
// configuration did not have, the others at their next scheduled pass).
// isNew, when non-nil, says which providers are new.
func (dm *daemon) start(syncCtx context.Context, g *generation, isNew func(string) bool) {
	dm.cur.Store(g)
	workerCtx, stop := context.WithCancel(syncCtx)
	g.stopWorker = stop
	dm.wg.Go(func() {
		defer close(g.workerDone)
		g.worker.Run(workerCtx)
	})
	dm.runNow(g, isNew)
	for _, t := range g.d.targets {
		// Backfills a reload interrupted resume at once; with none,
		// a lane returns after one read of the state.
		g.startLane(t.Name)
	}
	g.sched.Start()
	dm.wg.Go(func() { g.d.refreshTokens(syncCtx) })
}

// runNow starts, without waiting for the schedule, a pass of every provider
// of g (of those isNew accepts, when it is not nil) and, when isNew is nil,
// the secret scan: through the same wrapped jobs as the scheduled ticks,
// so their overlap guard and panic recovery apply.
func (dm *daemon) runNow(g *generation, isNew func(string) bool) {
	run := func(job cron.Job) {
		g.passes.Add(1)
		dm.wg.Go(func() {
			defer g.passes.Done()
			job.Run()
		})
	}
	for _, t := range g.d.targets {
		if isNew != nil && !isNew(t.Name) {
			continue
		}
		if entry := g.sched.Entry(g.entries[t.Name]); entry.Job != nil {
			run(entry.Job)
		}
	}
	if g.scanJob != nil && isNew == nil {
		run(g.scanJob)
	}
}

// halt stops g taking new work: no new passes, no more webhook
// deliveries. It returns at once; wait for g.passes and g.workerDone.
func (g *generation) halt() <-chan struct{} {
	stopped := g.sched.Stop()
	if g.stopWorker != nil {
		g.stopWorker()
	}
	g.laneMu.Lock()
	g.stopLanes()
	g.laneMu.Unlock()
	done := make(chan struct{})
	go func() {
		<-stopped.Done()
		g.passes.Wait()
		g.laneWG.Wait()
		if g.stopWorker != nil {
			<-g.workerDone
		}
		if g.prevDone != nil {
			<-g.prevDone
		}
		close(done)
	}()
	return done
}

// stop halts the current generation (serve's shutdown); the caller waits
// for dm.wg.
func (dm *daemon) stop() {
	dm.mu.Lock()
	defer dm.mu.Unlock()
	dm.stopping = true
	g := dm.current()
	done := g.halt()
	dm.wg.Go(func() { <-done })
}

// reloadRefused is logged when a reload keeps the running configuration.
const reloadRefused = "configuration reload refused: the running configuration stays in use"

// reload re-reads the secret files and the configuration file. A valid
// configuration becomes the running one: its HTTP routes (webhook
// receivers, status page, admin token) at once, its scheduler and webhook
// worker once the passes of the previous one have finished (the server
// keeps answering, deliveries are queued meanwhile); providers it adds get
// a first pass at once. An invalid one is refused with the problems
// start-up would print, and nothing changes. The state store stays open:
// a changed state section or listen address needs a restart (logged).
func (dm *daemon) reload(syncCtx context.Context) {
	dm.mu.Lock()
	defer dm.mu.Unlock()
	if dm.stopping {
		return
	}
	old := dm.current()
	old.d.reloadSecrets()
	dm.log.Info("reloading the configuration", "config", dm.cfgPath)
	cfg, ok := loadConfig(dm.cfgPath, dm.stderr, dm.env)
	if !ok {
		dm.log.Error(reloadRefused, "config", dm.cfgPath)
		return
	}
	if !reflect.DeepEqual(cfg.State, dm.cfg.State) {
		dm.log.Warn("the state section changed: restart jiralinkd to use it; the running daemon keeps the state it opened")
	}
	if cfg.HTTP.Listen != dm.cfg.HTTP.Listen {
		dm.log.Warn("http.listen changed: restart jiralinkd to listen there", "listen", dm.cfg.HTTP.Listen)
	}
	d, err := buildDeps(cfg, newLogger(cfg, dm.stderr), withTokens(dm.tokens))
	var g *generation
	if err == nil {
		g, err = dm.build(syncCtx, d)
	}
	if err != nil {
		fmt.Fprintf(dm.stderr, "jiralinkd: %v\n", err)
		dm.log.Error(reloadRefused, "config", dm.cfgPath, "err", err)
		return
	}
	had := map[string]bool{}
	for _, t := range old.d.targets {
		had[t.Name] = true
	}
	dm.cfg = cfg
	// Routes first: webhooks are verified with the new secrets from now
	// on and queued for the new worker.
	dm.cur.Store(g)
	g.prevDone = old.halt()
	dm.wg.Go(func() {
		<-g.prevDone
		dm.mu.Lock()
		defer dm.mu.Unlock()
		if dm.stopping || dm.current() != g {
			return // shut down, or replaced again meanwhile
		}
		dm.start(syncCtx, g, func(name string) bool { return !had[name] })
		g.d.log.Info("configuration reloaded", "providers", len(g.d.targets))
	})
}

// takeover runs when this replica becomes leader of a shared state: a
// pass of every provider at once (resuming interrupted work without
// waiting for the schedule), a secret scan if it is on, and the poll of
// resyncs asked of any replica,
// all under the term's context ctx.
func (dm *daemon) takeover(ctx context.Context) {
	dm.mu.Lock()
	defer dm.mu.Unlock()
	if dm.stopping {
		return
	}
	g := dm.current()
	dm.runNow(g, nil) // as a single node does at start
	dm.wg.Go(func() {
		dm.role.pollResyncs(ctx, func(provider, fullName string) error {
			err := dm.current().be.Resync(provider, fullName)
			if errors.Is(err, admin.ErrBusy) {
				return nil
			}
			return err
		})
	})
}
