package pgstore

// repolocks.go: per-repo locks in the database, and the fence of the
// writes made under them.

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// LockRepo takes the database lock of repo k for holder until ttl from
// the database's clock, or renews it if holder has it. It fails with
// state.ErrRepoBusy while another holder's lock has not expired: an
// expired lock (a dead or paused holder) is taken over.
func (s *Store) LockRepo(ctx context.Context, k state.RepoKey, holder string, ttl time.Duration) error {
	return s.lockRepo(ctx, k, holder, ttl, "")
}

// lockRepo is LockRepo that also takes over live locks whose holder ends
// with preempt (if not empty).
func (s *Store) lockRepo(ctx context.Context, k state.RepoKey, holder string, ttl time.Duration, preempt string) error {
	tag, err := s.pool.Exec(ctx, `INSERT INTO repo_locks AS r (provider, repo_id, holder, expires_at)
		VALUES ($1, $2, $3, now() + $4 * interval '1 millisecond')
		ON CONFLICT (provider, repo_id) DO UPDATE SET holder = EXCLUDED.holder, expires_at = EXCLUDED.expires_at
		WHERE r.holder = EXCLUDED.holder OR r.expires_at <= now()
			OR $5 <> '' AND right(r.holder, length($5)) = $5`, k.Provider, k.ID, holder, ttl.Milliseconds(), preempt)
	if err != nil {
		return fmt.Errorf("pgstore: lock repo %s: %w", k, err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("repo %s: %w", k, state.ErrRepoBusy)
	}
	return nil
}

// UnlockRepo releases holder's lock of repo k, if it has it.
func (s *Store) UnlockRepo(ctx context.Context, k state.RepoKey, holder string) error {
	if _, err := s.pool.Exec(ctx, "DELETE FROM repo_locks WHERE provider = $1 AND repo_id = $2 AND holder = $3",
		k.Provider, k.ID, holder); err != nil {
		return fmt.Errorf("pgstore: unlock repo %s: %w", k, err)
	}
	return nil
}

// RepoLocks is the per-repo lock of one holder in the database, as the
// indexer uses it (indexer.RepoLocker): a lock row with an expiry of TTL,
// renewed every TTL/3 while held, so a dead or paused holder blocks the
// repo for at most TTL.
type RepoLocks struct {
	s       *Store
	holder  string
	ttl     time.Duration
	preempt string
	held    *heldLocks // shared by the copies Preempting makes
}

// Preempting makes these locks take over, at once, the live locks of
// holders named with suffix: the leader's passes use it for the locks of
// earlier leaders' passes (holders "…/pass"), whose writes the fence
// refuses anyway, so that a new leader need not wait for a dead one's
// locks to expire.
func (r *RepoLocks) Preempting(suffix string) *RepoLocks {
	c := *r
	c.preempt = suffix
	return &c
}

// RepoLocks returns holder's repo locks (ttl default 1 minute).
func (s *Store) RepoLocks(holder string, ttl time.Duration) *RepoLocks {
	if ttl <= 0 {
		ttl = time.Minute
	}
	return &RepoLocks{s: s, holder: holder, ttl: ttl, held: &heldLocks{holder: holder, n: map[state.RepoKey]int{}}}
}

// LockRepo takes repo k's lock (state.ErrRepoBusy if another holder has
// it) and keeps renewing it until release; lctx is cancelled if a renewal
// fails or finds the lock taken over. Until release, the writes of the
// views WithRepoLocks(r) check the lock.
func (r *RepoLocks) LockRepo(ctx context.Context, k state.RepoKey) (lctx context.Context, release func(), err error) {
	if err := r.s.lockRepo(ctx, k, r.holder, r.ttl, r.preempt); err != nil {
		return ctx, nil, err
	}
	r.held.add(k)
	lctx, cancel := context.WithCancelCause(ctx)
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(r.ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-lctx.Done():
				return
			case <-t.C:
				rctx, rcancel := context.WithTimeout(lctx, r.ttl/3)
				err := r.s.LockRepo(rctx, k, r.holder, r.ttl) // renewal: never preempts
				rcancel()
				if err != nil {
					cancel(fmt.Errorf("repo lock of %s lost: %w", k, err))
					return
				}
			}
		}
	}()
	return lctx, func() {
		close(done)
		<-stopped
		cancel(nil)
		r.held.remove(k) // before the row goes: a write in between would be refused
		uctx, ucancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer ucancel()
		_ = r.s.UnlockRepo(uctx, k, r.holder) // expires anyway
	}, nil
}

// WithRepoLocks returns a view of s whose state-changing writes are fenced
// by r's locks: while r holds locks (between LockRepo and release), every
// write through the view checks, in its transaction, that each of them is
// still r's holder's and has not expired, reading the lock rows FOR SHARE
// (like the leader's Fence reads the lease), and fails with
// state.ErrFenced otherwise. So a sync paused past its lock's expiry (a
// SIGSTOP, a VM pause, a long GC) cannot write after resuming once
// another process took the repo over, and a takeover waits for a write in
// flight. Writes made while r holds no lock are not checked: they belong
// to no locked sync (a failure recorded before locking, discovery).
//
// The check covers every lock r holds, not only the written repo's (most
// writes, links and the ledger among them, do not name a repo). A webhook
// worker syncs one repo at a time; a holder syncing several at once (a
// CLI sync's parallel repos) has all its locks expire together in a pause,
// so all its syncs stop, which is what a takeover of any of them needs
// too. Inbox writes are not fenced. The view shares s's pool; close s,
// not the view. It replaces any fence s had.
func (s *Store) WithRepoLocks(r *RepoLocks) *Store {
	c := *s
	c.fence = r.held
	return &c
}

// HasFence reports whether s is a fenced view (WithFence, WithRepoLocks).
func (s *Store) HasFence() bool { return s.fence != nil }

// fencer guards the state-changing writes of a fenced view of the store:
// check runs first in each write's transaction and fails with
// state.ErrFenced if the write must not happen. *Fence (the leader lease)
// and *heldLocks (repo locks) implement it.
type fencer interface {
	check(ctx context.Context, tx pgx.Tx) error
}

// heldLocks is the set of repos a RepoLocks holds, counted (a repo may be
// locked by several indexers sharing the locks).
type heldLocks struct {
	holder string
	mu     sync.Mutex
	n      map[state.RepoKey]int
}

func (h *heldLocks) add(k state.RepoKey) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.n[k]++
}

func (h *heldLocks) remove(k state.RepoKey) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.n[k]--; h.n[k] <= 0 {
		delete(h.n, k)
	}
}

// keys lists the held repos as two columns (providers, ids).
func (h *heldLocks) keys() (providers []string, ids []int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for k := range h.n {
		providers, ids = append(providers, k.Provider), append(ids, k.ID)
	}
	return providers, ids
}

// check fails with state.ErrFenced unless every held lock is still the
// holder's and live. One statement, whatever the number of locks held.
func (h *heldLocks) check(ctx context.Context, tx pgx.Tx) error {
	providers, ids := h.keys()
	if len(ids) == 0 {
		return nil
	}
	rows, err := tx.Query(ctx, `SELECT r.provider, r.repo_id, r.holder, r.expires_at > now()
		FROM repo_locks r JOIN unnest($1::text[], $2::bigint[]) AS k(provider, repo_id)
			ON r.provider = k.provider AND r.repo_id = k.repo_id
		FOR SHARE OF r`, providers, ids)
	if err != nil {
		return fmt.Errorf("check the repo locks: %w", err)
	}
	var (
		k      state.RepoKey
		holder string
		live   bool
		lost   error
		n      int
	)
	_, err = pgx.ForEachRow(rows, []any{&k.Provider, &k.ID, &holder, &live}, func() error {
		n++
		switch {
		case lost != nil:
		case holder != h.holder:
			lost = fmt.Errorf("%w: the repo lock of %s was taken over by %s", state.ErrFenced, k, holder)
		case !live:
			lost = fmt.Errorf("%w: the repo lock of %s expired", state.ErrFenced, k)
		}
		return nil
	})
	switch {
	case err != nil:
		return fmt.Errorf("check the repo locks: %w", err)
	case lost != nil:
		return lost
	case n < len(ids):
		return fmt.Errorf("%w: a repo lock of %s is gone", state.ErrFenced, h.holder)
	}
	return nil
}
