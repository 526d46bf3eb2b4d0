// Package leader elects the one replica that runs the scheduled passes
// (and reconciliation and smart commits) when several jiralinkd replicas
// share one state, and tells it when it has lost the role.
//
// Leadership is a lease in the shared state: a holder, an epoch and an
// expiry kept by the state's own clock. The holder renews it every TTL/3;
// a replica that cannot renew (crashed, paused, partitioned) loses it when
// it expires and another takes it with the next epoch. The epoch fences the
// old leader: state writes that advance cursors, watermarks, ledger entries
// or delete links carry the epoch they were decided under and are refused
// once a newer epoch exists (see the state backends), so a leader that
// wakes up from a pause cannot undo its successor's work.
//
// The lease is deliberately not a session advisory lock: those are tied to
// one database connection and break behind a transaction-pooling proxy
// (PgBouncer), where consecutive statements may run on other connections.
package leader

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Lease is leadership as the shared state keeps it.
type Lease interface {
	// Acquire takes the lease for holder, or renews it if holder has it,
	// for ttl from the state's clock. leading reports whether holder now
	// holds it; epoch is the lease's epoch, incremented whenever the
	// lease changes hands (or is taken again after it expired).
	Acquire(ctx context.Context, holder string, ttl time.Duration) (epoch int64, leading bool, err error)
	// Release gives the lease up if holder has it, so a successor need not
	// wait for it to expire.
	Release(ctx context.Context, holder string) error
}

// Status is a replica's view of the election.
type Status struct {
	Leading bool
	Epoch   int64
	// Since is when this replica last became leader or follower.
	Since time.Time
}

// Elector runs the election loop of one replica.
type Elector struct {
	lease  Lease
	holder string
	ttl    time.Duration
	log    *slog.Logger
	now    func() time.Time

	mu     sync.Mutex
	status Status
}

// New creates an elector for holder (a replica id: host, pid and a random
// suffix) with the lease's time to live.
func New(lease Lease, holder string, ttl time.Duration, log *slog.Logger) *Elector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Elector{lease: lease, holder: holder, ttl: ttl, log: log, now: time.Now}
}

// Status returns the replica's current view.
func (e *Elector) Status() Status {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.status
}

// Holder is this replica's id in the lease.
func (e *Elector) Holder() string { return e.holder }

// Run keeps trying to lead until ctx ends. Each time this replica becomes
// leader, lead runs with a context that is cancelled as soon as leadership
// is lost or may have been lost (a renewal failed and the lease may expire
// before the next try), and with the epoch it leads under. Run waits for
// lead to return before trying again, and releases the lease on exit.
func (e *Elector) Run(ctx context.Context, lead func(ctx context.Context, epoch int64)) {
	renew := e.ttl / 3
	var (
		cur      *term
		epoch    int64
		deadline time.Time // the lease is ours until then, by our clock
	)
	stop := func(reason string) {
		if cur == nil {
			return
		}
		cur.end()
		cur = nil
		e.set(Status{Leading: false, Epoch: epoch, Since: e.now()})
		e.log.Warn("leadership lost", "holder", e.holder, "epoch", epoch, "reason", reason)
	}
	defer func() {
		stop("shutting down")
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
		defer cancel()
		if err := e.lease.Release(rctx, e.holder); err != nil {
			e.log.Warn("release leadership", "err", err)
		}
	}()
	t := time.NewTimer(0)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		start := e.now()
		// A renewal that hangs must not outlive the lease: bounded so that
		// the step-down check below runs in time.
		actx, cancel := context.WithTimeout(ctx, renew/2)
		ep, leading, err := e.lease.Acquire(actx, e.holder, e.ttl)
		cancel()
		switch {
		case err != nil && ctx.Err() != nil:
			return
		case err != nil:
			e.log.Warn("leader lease", "err", err)
			if cur != nil && !e.now().Before(deadline.Add(-renew)) {
				// The lease may expire before the next try: stop now, so
				// this replica never acts as leader on an expired lease.
				stop("lease could not be renewed")
			}
		case leading && (cur == nil || ep != epoch):
			stop("epoch changed")
			epoch, deadline = ep, start.Add(e.ttl)
			cur = startTerm(ctx, ep, lead)
			e.set(Status{Leading: true, Epoch: ep, Since: e.now()})
			e.log.Info("leading", "holder", e.holder, "epoch", ep)
		case leading:
			deadline = start.Add(e.ttl)
		default:
			stop("another replica holds the lease")
			e.mu.Lock()
			e.status.Epoch = ep
			e.mu.Unlock()
		}
		t.Reset(renew)
	}
}

// term is one period of leadership: lead running under its own context.
type term struct {
	cancel context.CancelFunc
	done   chan struct{}
}

func startTerm(ctx context.Context, epoch int64, lead func(context.Context, int64)) *term {
	lctx, cancel := context.WithCancel(ctx)
	t := &term{cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(t.done)
		lead(lctx, epoch)
	}()
	return t
}

// end cancels the term and waits for lead to return.
func (t *term) end() {
	t.cancel()
	<-t.done
}

func (e *Elector) set(s Status) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.status = s
}

// Solo is the lease of a single node: the bbolt state file is locked by its
// one process, so that process always leads, under epoch 1.
type Solo struct{}

// Acquire implements Lease.
func (Solo) Acquire(context.Context, string, time.Duration) (int64, bool, error) { return 1, true, nil }

// Release implements Lease.
func (Solo) Release(context.Context, string) error { return nil }
