package main

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/admin"
	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/status"
)

// backend is what the admin routes of serve read and trigger.
type backend struct {
	tracker *status.Tracker
	store   stateStore
	ix      *indexer.Indexer
	targets map[string]indexer.Target
	ctx     context.Context    // syncs' context: cancelled at shutdown
	wg      *sync.WaitGroup    // waited for at shutdown
	busy    sync.Map           // state.RepoKey → struct{} while a resync runs
	ledger  smartcommit.Ledger // nil when smart commits are off
	role    *role
}

func (b *backend) Snapshot() (status.Snapshot, error) { return b.tracker.Snapshot() }

func (b *backend) IssueLinks(issue string) ([]state.IssueLink, error) {
	return b.store.IssueLinks(issue)
}

// SmartCommits is the smart-commit history of an issue (admin explain).
func (b *backend) SmartCommits(issue string) ([]smartcommit.Record, error) {
	if b.ledger == nil {
		return nil, nil
	}
	return b.ledger.ByIssue(issue)
}

// Resync runs a pass over one indexed repo in the background. Only repos
// already in the state can be resynced: the page lists exactly those.
// With a shared state, a follower queues the request in the database and
// the leader runs it (within resyncPollEvery); the leader runs it under
// its leadership, cancelled if that ends.
func (b *backend) Resync(provider, fullName string) error {
	t, ok := b.targets[provider]
	if !ok {
		return admin.ErrUnknownRepo
	}
	repos, err := b.store.Repos()
	if err != nil {
		return err
	}
	var key state.RepoKey
	found := false
	for _, r := range repos {
		if r.Key.Provider == provider && strings.EqualFold(r.Repo.FullName, fullName) {
			key, fullName, found = r.Key, r.Repo.FullName, true
			break
		}
	}
	if !found {
		return admin.ErrUnknownRepo
	}
	ctx := b.ctx
	if b.role != nil && b.role.shared() {
		lctx, leading := b.role.leading()
		if !leading {
			rctx, cancel := context.WithTimeout(b.ctx, 10*time.Second)
			defer cancel()
			return b.role.pg.RequestResync(rctx, provider, fullName, b.role.holder)
		}
		ctx = lctx
	}
	if _, running := b.busy.LoadOrStore(key, struct{}{}); running {
		return admin.ErrBusy
	}
	b.tracker.RepoSyncing(key, true) // shown at once, before the lock is taken
	b.tracker.ResyncStarted(key)
	b.wg.Add(1)
	go func() {
		defer b.wg.Done()
		defer b.busy.Delete(key)
		defer b.tracker.RepoSyncing(key, false)
		b.tracker.ResyncDone(key, resyncOutcome(b.ix.Sync(ctx, t, fullName)))
	}()
	return nil
}

// resyncOutcome is the error of a one-repo pass: the repo's own, or the
// pass's when it never reached the repo (Jira or discovery failed).
func resyncOutcome(rep indexer.Report) error {
	for _, rr := range rep.Repos {
		return rr.Err
	}
	return rep.Err
}
