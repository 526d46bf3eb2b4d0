package webhook

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

// Syncer is what the worker needs from the indexer.
type Syncer interface {
	Sync(ctx context.Context, t indexer.Target, onlyRepo string) indexer.Report
	SyncRepo(ctx context.Context, t indexer.Target, id int64, scope indexer.Scope) (indexer.RepoReport, error)
	RemoveRepo(ctx context.Context, t indexer.Target, id int64) (int, error)
	RelinkRepo(ctx context.Context, t indexer.Target, id int64, renamed providers.Repo) (indexer.RepoReport, error)
}

// Worker drains the delivery queue.
type Worker struct {
	store   Queue
	syncer  Syncer
	targets map[string]indexer.Target
	notify  <-chan struct{}
	log     *slog.Logger
	// Idle is how often the queue is looked at without a signal (deliveries
	// queued before a restart, or whose processing failed). Default 30 s.
	Idle time.Duration
	// Done, if set, is called after each delivery group (tests, metrics).
	Done func(provider string, repoID int64, err error)
}

// Queue is what the worker takes deliveries from.
type Queue interface {
	// Pending returns up to limit accepted deliveries, oldest first.
	Pending(limit int) ([]state.Delivery, error)
	// Ack removes processed deliveries.
	Ack(seqs ...uint64) error
}

// NewWorker creates a worker; notify is the channel the Handler signals.
func NewWorker(store Queue, syncer Syncer, targets []indexer.Target, notify <-chan struct{}, log *slog.Logger) *Worker {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	m := make(map[string]indexer.Target, len(targets))
	for _, t := range targets {
		m[t.Name] = t
	}
	return &Worker{store: store, syncer: syncer, targets: m, notify: notify, log: log, Idle: 30 * time.Second}
}

// Run processes deliveries until ctx is cancelled. Deliveries left in the
// queue (a crash, a cancelled run) are processed at the next start.
func (w *Worker) Run(ctx context.Context) {
	t := time.NewTicker(w.Idle)
	defer t.Stop()
	for {
		for w.drain(ctx) > 0 && ctx.Err() == nil {
		}
		select {
		case <-ctx.Done():
			return
		case <-w.notify:
		case <-t.C:
		}
	}
}

// group is the coalesced work for one repo: many pushes to a repo become
// one sync of the union of their scopes.
type group struct {
	provider string
	repoID   int64
	repo     providers.Repo // latest identity seen
	scope    indexer.Scope
	deleted  bool
	renamed  bool
	seqs     []uint64
}

// drain processes one batch of queued deliveries and returns its size.
func (w *Worker) drain(ctx context.Context) int {
	batch, err := w.store.Pending(500)
	if err != nil {
		w.log.Error("read webhook queue", "err", err)
		return 0
	}
	var order []*group
	groups := map[state.RepoKey]*group{}
	for _, d := range batch {
		k := state.RepoKey{Provider: d.Provider, ID: d.Event.Repo.ID}
		g := groups[k]
		if g == nil {
			g = &group{provider: d.Provider, repoID: d.Event.Repo.ID}
			groups[k] = g
			order = append(order, g)
		}
		g.seqs = append(g.seqs, d.Seq)
		g.repo = d.Event.Repo
		switch d.Event.Kind {
		case providers.EventPush, providers.EventRefCreated, providers.EventRefDeleted:
			if d.Event.RefType == providers.RefTag {
				g.scope.Tags = true
			} else {
				g.scope.Branches = true
			}
		case providers.EventPullRequest:
			g.scope.Pulls = true
		case providers.EventRun, providers.EventDeployment:
			g.scope.CI = true
		case providers.EventRepoDeleted:
			g.deleted = true
		case providers.EventRepoRenamed:
			g.renamed = true
		}
	}
	for _, g := range order {
		if ctx.Err() != nil {
			return 0 // leave the rest queued
		}
		err := w.process(ctx, g)
		if ctx.Err() != nil {
			return 0 // interrupted: process again after restart
		}
		if err != nil {
			// Polling is the source of truth: the next pass redoes what
			// failed here, so the delivery is not retried forever.
			w.log.Warn("webhook sync failed; the next pass will catch up", "provider", g.provider, "repo", g.repo.FullName, "err", err)
		}
		if aerr := w.store.Ack(g.seqs...); aerr != nil {
			w.log.Error("ack webhook deliveries", "err", aerr)
		}
		if w.Done != nil {
			w.Done(g.provider, g.repoID, err)
		}
	}
	return len(batch)
}

func (w *Worker) process(ctx context.Context, g *group) error {
	t, ok := w.targets[g.provider]
	if !ok {
		return nil // provider removed from the configuration since
	}
	switch {
	case g.deleted:
		_, err := w.syncer.RemoveRepo(ctx, t, g.repoID)
		return err
	case g.renamed:
		_, err := w.syncer.RelinkRepo(ctx, t, g.repoID, g.repo)
		if errors.Is(err, indexer.ErrUnknownRepo) {
			return nil
		}
		return err
	case g.scope == indexer.Scope{}:
		return nil // archived, ping: nothing to index
	}
	rep, err := w.syncer.SyncRepo(ctx, t, g.repoID, g.scope)
	if errors.Is(err, indexer.ErrUnknownRepo) {
		// Not synced yet (new repo in a configured org?): a pass over that
		// repo checks the configuration covers it.
		r := w.syncer.Sync(ctx, t, g.repo.FullName)
		if r.Err != nil {
			return r.Err
		}
		for _, rr := range r.Repos {
			if rr.Err != nil {
				return rr.Err
			}
		}
		return nil
	}
	if err != nil {
		return err
	}
	return rep.Err
}
