package main

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/robfig/cron/v3"

	"github.com/jiralinkd/jiralinkd/indexer/leader"
	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore"
	"github.com/jiralinkd/jiralinkd/indexer/status"
	"github.com/jiralinkd/jiralinkd/indexer/webhook"
)

// HA timing. A SIGKILLed leader is replaced within leaseTTL plus one
// renewal interval of the others (leaseTTL/3): under 20 s.
const (
	leaseTTL        = 12 * time.Second
	heartbeatEvery  = 5 * time.Second
	replicaMaxAge   = 30 * time.Second // older heartbeats are dropped from the status
	claimTTL        = 2 * time.Minute  // a claimed delivery waits that long for its worker
	resyncPollEvery = 2 * time.Second
	// passLockSuffix ends the repo-lock holder of a leader's passes.
	passLockSuffix = "/pass"
)

// role is serve's part in the election. With a bbolt state it always
// leads (leader.Solo: the file is locked by this one process) and nothing
// else changes. With a shared (PostgreSQL) state an Elector runs on the
// lease row; only the leader runs the scheduled passes, reconciliation,
// smart commits (inside passes), the secret scan and token rotation, and
// its state writes are fenced by its epoch; every replica serves HTTP,
// accepts and processes webhooks (claimed from the shared inbox, each
// repo under its lock in the database, which fences the sync's writes)
// and shows the status.
type role struct {
	holder string
	pg     *pgstore.Store  // nil with bbolt
	fence  *pgstore.Fence  // nil with bbolt
	el     *leader.Elector // nil with bbolt
	log    *slog.Logger

	mu    sync.Mutex
	lead  context.Context // non-nil while leading; cancelled when it stops
	epoch int64
	beat  chan struct{} // asks the heartbeat for a beat now (role changed)
}

// newRole makes the role of a process whose store is st.
func newRole(st stateStore, holder string, log *slog.Logger) *role {
	r := &role{holder: holder, log: log, beat: make(chan struct{}, 1)}
	if pg, ok := st.(*pgstore.Store); ok {
		r.pg = pg
		r.fence = pgstore.NewFence(holder)
		r.el = leader.New(pg.Lease(pgstore.LeaderLease), holder, leaseTTL, log)
	}
	return r
}

// shared reports whether the state is shared by replicas.
func (r *role) shared() bool { return r.pg != nil }

// passStore is the store the leader's passes write through: fenced by
// the epoch with a shared state.
func (r *role) passStore(st stateStore) stateStore {
	if r.pg == nil {
		return st
	}
	return r.pg.WithFence(r.fence)
}

// queue is what the webhook worker takes deliveries from: with a shared
// state, claims (so the workers of several replicas never take the same
// delivery, and take over those of a dead one).
func (r *role) queue(st stateStore) webhook.Queue {
	if r.pg == nil {
		return st
	}
	return r.pg.ClaimQueue(r.holder, claimTTL)
}

// leading returns the context of the current leadership term, or false.
func (r *role) leading() (context.Context, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.lead == nil || r.lead.Err() != nil {
		return nil, false
	}
	return r.lead, true
}

// status is leading and the epoch (for metrics and the status page).
func (r *role) status() (leading bool, epoch int64) {
	_, leading = r.leading()
	if r.el != nil { // a follower knows the leader's epoch too
		return leading, r.el.Status().Epoch
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	return leading, r.epoch
}

func (r *role) set(ctx context.Context, epoch int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.lead, r.epoch = ctx, epoch
	select {
	case r.beat <- struct{}{}:
	default:
	}
	if r.fence != nil {
		if ctx == nil {
			r.fence.Set(0)
		} else {
			r.fence.Set(epoch)
		}
	}
}

// job runs f under the leadership term's context if this replica leads
// when the job fires, and skips it otherwise. f is cancelled when
// leadership is lost.
func (r *role) job(f func(ctx context.Context)) cron.Job {
	return cron.FuncJob(func() {
		ctx, ok := r.leading()
		if !ok {
			return
		}
		f(ctx)
	})
}

// run takes part in the election until ctx ends (shared state only). Each
// time this replica becomes leader, onLead runs with the term's context
// (the takeover pass); the term ends when leadership is lost, which
// cancels the passes running under it. The replica keeps serving as a
// follower.
func (r *role) run(ctx context.Context, onLead func(ctx context.Context)) {
	if r.el == nil {
		return
	}
	r.el.Run(ctx, func(lctx context.Context, epoch int64) {
		r.set(lctx, epoch)
		defer r.set(nil, epoch)
		onLead(lctx)
		<-lctx.Done()
	})
}

// heartbeat records this replica in the replicas table every
// heartbeatEvery until ctx ends (shared state only).
func (r *role) heartbeat(ctx context.Context) {
	if r.pg == nil {
		return
	}
	host, _ := os.Hostname()
	t := time.NewTicker(heartbeatEvery)
	defer t.Stop()
	for {
		leading, epoch := r.status()
		hctx, cancel := context.WithTimeout(ctx, heartbeatEvery)
		err := r.pg.Heartbeat(hctx, pgstore.Replica{ID: r.holder, Host: host, Version: version, Leading: leading, Epoch: epoch})
		cancel()
		if err != nil && ctx.Err() == nil {
			r.log.Warn("replica heartbeat", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		case <-r.beat:
		}
	}
}

// statusReplicas lists the live replicas for the status page and API
// (nil with bbolt).
func (r *role) statusReplicas() ([]status.Replica, error) {
	if r.pg == nil {
		return nil, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rs, err := r.pg.Replicas(ctx, replicaMaxAge)
	if err != nil {
		return nil, err
	}
	out := make([]status.Replica, len(rs))
	for i, x := range rs {
		out[i] = status.Replica{ID: x.ID, Host: x.Host, Version: x.Version, Heartbeat: x.Heartbeat,
			Leader: x.Leading, Epoch: x.Epoch, Self: x.ID == r.holder}
	}
	return out, nil
}

// pollResyncs runs the resyncs asked of any replica (queued in the
// database) while ctx (a leadership term) lasts.
func (r *role) pollResyncs(ctx context.Context, resync func(provider, fullName string) error) {
	if r.pg == nil {
		return
	}
	t := time.NewTicker(resyncPollEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		reqs, err := r.pg.TakeResyncs(ctx)
		if err != nil {
			if ctx.Err() == nil {
				r.log.Warn("read resync requests", "err", err)
			}
			continue
		}
		for _, q := range reqs {
			r.log.Info("resync asked of another replica", "provider", q.Provider, "repo", q.FullName)
			if err := resync(q.Provider, q.FullName); err != nil && !errors.Is(err, context.Canceled) {
				r.log.Warn("queued resync", "provider", q.Provider, "repo", q.FullName, "err", err)
			}
		}
	}
}

// registerRoleMetrics adds jiralinkd_leader (1 while this replica leads)
// and jiralinkd_lease_epoch (the epoch it last saw) to reg. With bbolt the
// process always leads, under epoch 1.
func registerRoleMetrics(reg prometheus.Registerer, r *role) {
	reg.MustRegister(
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "jiralinkd_leader", Help: "1 while this replica leads (runs the scheduled passes), 0 for a follower."},
			func() float64 {
				if leading, _ := r.status(); leading {
					return 1
				}
				return 0
			}),
		prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "jiralinkd_lease_epoch", Help: "Epoch of the leader lease as this replica last saw it."},
			func() float64 { _, ep := r.status(); return float64(ep) }),
	)
}
