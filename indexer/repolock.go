package indexer

import (
	"context"
	"errors"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// RepoLocker locks repos across the processes that share one state (a
// PostgreSQL state with several replicas, or a CLI sync beside the
// daemons). The indexer's in-process lock is always taken first; with a
// RepoLocker (Options.RepoLocker) the indexer then also takes the repo's
// lock in the state, so that no two processes ever sync a repo at once.
type RepoLocker interface {
	// LockRepo takes repo k's lock or fails, without waiting, with an
	// error wrapping state.ErrRepoBusy while another process holds it. The
	// lock must expire when its holder dies or pauses (it never blocks the
	// others for long) and be renewed while held; lctx is ctx, cancelled
	// if the lock is lost. release gives the lock up and must be called.
	LockRepo(ctx context.Context, k state.RepoKey) (lctx context.Context, release func(), err error)
}

// repoLockWait bounds how long the indexer waits for a repo another
// process syncs (a webhook sync on another replica, a CLI sync, or the
// lock of a dead holder until it expires) before reporting
// state.ErrRepoBusy.
const repoLockWait = 45 * time.Second

// lockRepo takes repo k's in-process lock and, with a RepoLocker, its lock
// in the state, waiting up to repoLockWait for another holder. unlock
// releases both; ctx is cancelled if the state's lock is lost.
func (ix *Indexer) lockRepo(ctx context.Context, k state.RepoKey) (lctx context.Context, unlock func(), err error) {
	mu := ix.repoLock(k)
	mu.Lock()
	if ix.opts.RepoLocker == nil || ix.opts.DryRun {
		return ctx, mu.Unlock, nil
	}
	var release func()
	deadline := time.Now().Add(repoLockWait)
	for {
		lctx, release, err = ix.opts.RepoLocker.LockRepo(ctx, k)
		if !errors.Is(err, state.ErrRepoBusy) || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			mu.Unlock()
			return ctx, nil, ctx.Err()
		case <-time.After(time.Second):
		}
	}
	if err != nil {
		mu.Unlock()
		return ctx, nil, err
	}
	return lctx, func() {
		release()
		mu.Unlock()
	}, nil
}
