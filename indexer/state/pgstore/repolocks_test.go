package pgstore

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore/pgtest"
	"github.com/jiralinkd/jiralinkd/providers"
)

// expireRepoLock ends repo k's lock now, as the database's clock does for
// a holder paused past the lock's TTL (its renewals paused too).
func expireRepoLock(t *testing.T, s *Store, k state.RepoKey) {
	t.Helper()
	if _, err := s.pool.Exec(context.Background(), "UPDATE repo_locks SET expires_at = now() WHERE provider = $1 AND repo_id = $2",
		k.Provider, k.ID); err != nil {
		t.Fatal(err)
	}
}

// TestRepoLockFence: the writes of a sync through WithRepoLocks are
// refused once its repo lock was taken over (the syncing replica paused
// past the lock's expiry and another took the repo): cursors, repo, link
// deletions, the ledger, and CheckFence. The new holder's write stands. A
// lock that expired without being taken over refuses writes too, until
// its holder renews it. Writes while no lock is held are not checked.
func TestRepoLockFence(t *testing.T) {
	ctx := context.Background()
	s := openDSN(t, pgtest.Start(t))
	k := state.RepoKey{Provider: "gh", ID: 9}
	locks := s.RepoLocks("r1/hooks", time.Minute) // renewed every 20 s: not during the test
	hooks := s.WithRepoLocks(locks)
	st := state.RepoState{Key: k, Repo: providers.Repo{ID: 9, FullName: "acme/y"}, Branches: map[string]string{}}
	const (
		sha1 = "1111111111111111111111111111111111111111"
		sha2 = "2222222222222222222222222222222222222222"
		sha3 = "3333333333333333333333333333333333333333"
	)

	_, release, err := locks.LockRepo(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	st.Branches["main"] = sha1
	if err := hooks.AdvanceBranch(st, "main", []state.Commit{state.NewCommit(sha1, nil)}); err != nil {
		t.Fatalf("write under the lock: %v", err)
	}
	link := state.Link{GlobalID: "g9", Issue: "ABC-9"}
	if err := hooks.PutLinks(map[state.Link]state.LinkRecord{link: {Hash: 9}}); err != nil {
		t.Fatal(err)
	}

	// r1 pauses past its lock's expiry; the leader's pass takes the repo
	// over and advances the cursor.
	expireRepoLock(t, s, k)
	if err := s.LockRepo(ctx, k, "r2/pass", time.Minute); err != nil {
		t.Fatalf("takeover of the expired lock: %v", err)
	}
	next := st
	next.Branches = map[string]string{"main": sha2}
	if err := s.AdvanceBranch(next, "main", []state.Commit{state.NewCommit(sha2, []string{sha1})}); err != nil {
		t.Fatal(err)
	}

	// r1 resumes with its stale view.
	stale := st
	stale.Branches = map[string]string{"main": sha3}
	for name, err := range map[string]error{
		"AdvanceBranch": hooks.AdvanceBranch(stale, "main", []state.Commit{state.NewCommit(sha3, []string{sha1})}),
		"PutRepo":       hooks.PutRepo(st),
		"DeleteLinks":   hooks.DeleteLinks([]state.Link{link}),
		"Ledger.Put":    hooks.Ledger().Put(smartcommit.Record{ID: "c9:0", Issue: "ABC-9", State: smartcommit.StatePending}),
		"CheckFence":    hooks.CheckFence(),
	} {
		if !errors.Is(err, state.ErrFenced) {
			t.Errorf("write after the lock was taken over, %s: %v, want ErrFenced", name, err)
		}
	}
	if got, _, err := s.Repo(k); err != nil || got.Branches["main"] != sha2 {
		t.Errorf("cursor: %v %v, want the new holder's %s", got.Branches, err, sha2)
	}
	if ls, _ := s.LinksOf("g9"); len(ls) != 1 {
		t.Errorf("links after the stale delete: %v, want the one link", ls)
	}
	release() // does not free r2's lock
	if err := s.LockRepo(ctx, k, "r3", time.Minute); !errors.Is(err, state.ErrRepoBusy) {
		t.Errorf("r2's lock after r1's release: %v, want ErrRepoBusy", err)
	}
	if err := hooks.PutRepo(st); err != nil {
		t.Errorf("write while no lock is held: %v, want it unchecked", err)
	}

	// A lock that expired without a taker: refused until renewed.
	k2 := state.RepoKey{Provider: "gh", ID: 10}
	_, release2, err := locks.LockRepo(ctx, k2)
	if err != nil {
		t.Fatal(err)
	}
	defer release2()
	expireRepoLock(t, s, k2)
	st2 := state.RepoState{Key: k2, Repo: providers.Repo{ID: 10, FullName: "acme/z"}, Branches: map[string]string{}}
	if err := hooks.PutRepo(st2); !errors.Is(err, state.ErrFenced) {
		t.Errorf("write under an expired lock: %v, want ErrFenced", err)
	}
	if err := s.LockRepo(ctx, k2, "r1/hooks", time.Minute); err != nil { // what the renewal does
		t.Fatal(err)
	}
	if err := hooks.PutRepo(st2); err != nil {
		t.Errorf("write under the renewed lock: %v", err)
	}
}
