package pgstore

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/leader"
	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore/pgtest"
	"github.com/jiralinkd/jiralinkd/providers"
)

var _ leader.Lease = (*Lease)(nil)

// TestLeaseTakeover: a live lease stays with its holder (renewals keep
// the epoch); once it expires by the database's clock another replica
// takes it with epoch+1; Release hands it over at once.
func TestLeaseTakeover(t *testing.T) {
	ctx := context.Background()
	s := openDSN(t, pgtest.Start(t))
	l := s.Lease(LeaderLease)
	const ttl = 400 * time.Millisecond

	ep, lead, err := l.Acquire(ctx, "a", ttl)
	if err != nil || !lead || ep != 1 {
		t.Fatalf("a: Acquire = %d %v %v, want epoch 1 leading", ep, lead, err)
	}
	if ep, lead, _ := l.Acquire(ctx, "b", ttl); lead || ep != 1 {
		t.Fatalf("b while a's lease is live: %d %v, want epoch 1 not leading", ep, lead)
	}
	if ep, lead, _ := l.Acquire(ctx, "a", ttl); !lead || ep != 1 {
		t.Fatalf("a renews: %d %v, want epoch 1 leading", ep, lead)
	}
	time.Sleep(ttl + 100*time.Millisecond)
	if ep, lead, _ := l.Acquire(ctx, "b", ttl); !lead || ep != 2 {
		t.Fatalf("b after a's lease expired: %d %v, want epoch 2 leading", ep, lead)
	}
	if ep, lead, _ := l.Acquire(ctx, "a", ttl); lead || ep != 2 {
		t.Fatalf("a after b took over: %d %v, want epoch 2 not leading", ep, lead)
	}
	if err := l.Release(ctx, "a"); err != nil { // not a's: nothing happens
		t.Fatal(err)
	}
	if _, lead, _ := l.Acquire(ctx, "a", ttl); lead {
		t.Fatal("a took b's live lease after a release of its own")
	}
	if err := l.Release(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if ep, lead, _ := l.Acquire(ctx, "a", ttl); !lead || ep != 3 {
		t.Fatalf("a after b released: %d %v, want epoch 3 leading", ep, lead)
	}
}

// TestLeaseConcurrentAcquire: replicas racing for a free lease elect
// exactly one.
func TestLeaseConcurrentAcquire(t *testing.T) {
	s := openDSN(t, pgtest.Start(t))
	l := s.Lease(LeaderLease)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		lead  int
		epoch = map[int64]bool{}
	)
	for i := range 8 {
		wg.Go(func() {
			ep, ok, err := l.Acquire(context.Background(), fmt.Sprint("r", i), time.Minute)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			defer mu.Unlock()
			epoch[ep] = true
			if ok {
				lead++
			}
		})
	}
	wg.Wait()
	if lead != 1 || len(epoch) != 1 || !epoch[1] {
		t.Fatalf("%d leaders, epochs %v; want exactly one leader, epoch 1", lead, epoch)
	}
}

// TestFencing: a replica whose lease was taken over (paused past its
// expiry) cannot advance a cursor, record or delete links, or write the
// ledger: ErrFenced, nothing changed. Its successor can. Inbox writes are
// never fenced.
func TestFencing(t *testing.T) {
	ctx := context.Background()
	s := openDSN(t, pgtest.Start(t))
	l := s.Lease(LeaderLease)
	const ttl = 300 * time.Millisecond
	fa, fb := NewFence("a"), NewFence("b")
	a, b := s.WithFence(fa), s.WithFence(fb)
	k := state.RepoKey{Provider: "gh", ID: 7}
	st := state.RepoState{Key: k, Repo: providers.Repo{ID: 7, FullName: "acme/x"}, Branches: map[string]string{}}

	if err := a.PutRepo(st); !errors.Is(err, state.ErrFenced) {
		t.Fatalf("write before leading: %v, want ErrFenced", err)
	}
	ep, _, err := l.Acquire(ctx, "a", ttl)
	if err != nil {
		t.Fatal(err)
	}
	fa.Set(ep)
	if err := a.PutRepo(st); err != nil {
		t.Fatalf("leader's write: %v", err)
	}
	sha1 := "1111111111111111111111111111111111111111"
	st.Branches["main"] = sha1
	if err := a.AdvanceBranch(st, "main", []state.Commit{state.NewCommit(sha1, nil)}); err != nil {
		t.Fatalf("leader's cursor: %v", err)
	}
	link := state.Link{GlobalID: "g1", Issue: "ABC-1"}
	if err := a.PutLinks(map[state.Link]state.LinkRecord{link: {Hash: 1}}); err != nil {
		t.Fatal(err)
	}

	// a pauses past its lease; b takes over with the next epoch.
	time.Sleep(ttl + 100*time.Millisecond)
	ep2, lead, err := l.Acquire(ctx, "b", time.Minute)
	if err != nil || !lead || ep2 != ep+1 {
		t.Fatalf("b: %d %v %v, want epoch %d", ep2, lead, err, ep+1)
	}
	fb.Set(ep2)

	// a resumes, still believing it leads under ep.
	stale := st
	stale.Branches = map[string]string{"main": "2222222222222222222222222222222222222222"}
	for name, err := range map[string]error{
		"AdvanceBranch": a.AdvanceBranch(stale, "main", []state.Commit{state.NewCommit(stale.Branches["main"], []string{sha1})}),
		"PutRepo":       a.PutRepo(stale),
		"DeleteLinks":   a.DeleteLinks([]state.Link{link}),
		"ForgetRepo":    a.ForgetRepo(k),
		"Ledger.Put":    a.Ledger().Put(smartcommit.Record{ID: "c1:0", Issue: "ABC-1", State: smartcommit.StatePending}),
	} {
		if !errors.Is(err, state.ErrFenced) {
			t.Errorf("stale leader's %s: %v, want ErrFenced", name, err)
		}
	}
	got, _, err := s.Repo(k)
	if err != nil || got.Branches["main"] != sha1 {
		t.Errorf("cursor after the stale write: %v %v, want %s", got.Branches, err, sha1)
	}
	if ls, _ := s.IssueLinks("ABC-1"); len(ls) != 1 {
		t.Errorf("links after the stale delete: %v, want the one link", ls)
	}
	if err := b.AdvanceBranch(stale, "main", []state.Commit{state.NewCommit(stale.Branches["main"], []string{sha1})}); err != nil {
		t.Errorf("new leader's cursor: %v", err)
	}
	if _, fresh, err := a.Enqueue(state.Delivery{Provider: "gh", ID: "d1", ReceivedAt: time.Now()}, time.Hour); err != nil || !fresh {
		t.Errorf("a follower's Enqueue: %v %v, want accepted", fresh, err)
	}
	fb.Set(0)
	if err := b.PutRepo(st); !errors.Is(err, state.ErrFenced) {
		t.Errorf("write after stepping down: %v, want ErrFenced", err)
	}
}

// TestClaimSkipLocked: two consumers claiming concurrently never get the
// same delivery; a claim whose worker died is handed out again after it
// expires; Ack deletes.
func TestClaimSkipLocked(t *testing.T) {
	s := openDSN(t, pgtest.Start(t))
	const n = 200
	for i := range n {
		if _, _, err := s.Enqueue(state.Delivery{Provider: "gh", ID: fmt.Sprint("d", i), ReceivedAt: time.Now()}, time.Hour); err != nil {
			t.Fatal(err)
		}
	}
	var (
		mu   sync.Mutex
		seen = map[uint64]string{}
		wg   sync.WaitGroup
	)
	for _, who := range []string{"r1", "r2"} {
		q := s.ClaimQueue(who, time.Minute)
		wg.Go(func() {
			for {
				ds, err := q.Pending(7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(ds) == 0 {
					return
				}
				mu.Lock()
				for _, d := range ds {
					if prev, dup := seen[d.Seq]; dup {
						t.Errorf("delivery %d handed to %s and %s", d.Seq, prev, who)
					}
					seen[d.Seq] = who
				}
				mu.Unlock()
				if err := q.Ack(seqs(ds)...); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	if len(seen) != n {
		t.Fatalf("%d deliveries processed, want %d", len(seen), n)
	}

	// A worker claims and dies; another gets the delivery after the claim
	// expires, not before.
	if _, _, err := s.Enqueue(state.Delivery{Provider: "gh", ID: "late", ReceivedAt: time.Now()}, time.Hour); err != nil {
		t.Fatal(err)
	}
	dead, alive := s.ClaimQueue("dead", 300*time.Millisecond), s.ClaimQueue("alive", time.Minute)
	if ds, err := dead.Pending(10); err != nil || len(ds) != 1 {
		t.Fatalf("dead worker's claim: %v %v", ds, err)
	}
	if ds, _ := alive.Pending(10); len(ds) != 0 {
		t.Fatalf("a live claim was handed out again: %v", ds)
	}
	time.Sleep(400 * time.Millisecond)
	ds, err := alive.Pending(10)
	if err != nil || len(ds) != 1 || ds[0].ID != "late" {
		t.Fatalf("after the claim expired: %v %v, want the delivery", ds, err)
	}
	if err := alive.Ack(ds[0].Seq); err != nil {
		t.Fatal(err)
	}
	if depth, _ := s.QueueDepth(); depth != 0 {
		t.Fatalf("queue depth %d after ack", depth)
	}
}

func seqs(ds []state.Delivery) []uint64 {
	out := make([]uint64, len(ds))
	for i, d := range ds {
		out[i] = d.Seq
	}
	return out
}

// TestRepoLock: a repo locked by one holder is busy for others until the
// lock is released or expires.
func TestRepoLock(t *testing.T) {
	ctx := context.Background()
	s := openDSN(t, pgtest.Start(t))
	k := state.RepoKey{Provider: "gh", ID: 1}
	if err := s.LockRepo(ctx, k, "leader", 300*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	if err := s.LockRepo(ctx, k, "cli", time.Minute); !errors.Is(err, state.ErrRepoBusy) {
		t.Fatalf("second holder: %v, want ErrRepoBusy", err)
	}
	if err := s.LockRepo(ctx, k, "leader", 300*time.Millisecond); err != nil {
		t.Fatalf("renewal: %v", err)
	}
	time.Sleep(400 * time.Millisecond)
	if err := s.LockRepo(ctx, k, "cli", time.Minute); err != nil {
		t.Fatalf("after expiry: %v", err)
	}
	if err := s.UnlockRepo(ctx, k, "leader"); err != nil { // not its lock any more
		t.Fatal(err)
	}
	if err := s.LockRepo(ctx, k, "leader", time.Minute); !errors.Is(err, state.ErrRepoBusy) {
		t.Fatalf("the old holder's unlock freed the new holder's lock: %v", err)
	}
	if err := s.UnlockRepo(ctx, k, "cli"); err != nil {
		t.Fatal(err)
	}
	if err := s.LockRepo(ctx, k, "leader", time.Minute); err != nil {
		t.Fatalf("after unlock: %v", err)
	}
}

// TestResyncRequests: requests queued on any replica are taken once, in
// order.
func TestResyncRequests(t *testing.T) {
	ctx := context.Background()
	s := openDSN(t, pgtest.Start(t))
	for _, r := range []string{"acme/a", "acme/b"} {
		if err := s.RequestResync(ctx, "gh", r, "follower"); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := s.TakeResyncs(ctx)
	if err != nil || len(rs) != 2 || rs[0].FullName != "acme/a" || rs[1].FullName != "acme/b" {
		t.Fatalf("TakeResyncs = %v %v", rs, err)
	}
	if rs, _ := s.TakeResyncs(ctx); len(rs) != 0 {
		t.Fatalf("taken twice: %v", rs)
	}
}

// TestRepoLocksRenew: a held lock is renewed past its TTL, and released
// at once by release.
func TestRepoLocksRenew(t *testing.T) {
	ctx := context.Background()
	s := openDSN(t, pgtest.Start(t))
	k := state.RepoKey{Provider: "gh", ID: 2}
	locks := s.RepoLocks("leader", 300*time.Millisecond)
	lctx, release, err := locks.LockRepo(ctx, k)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(700 * time.Millisecond)
	if err := s.LockRepo(ctx, k, "cli", time.Minute); !errors.Is(err, state.ErrRepoBusy) {
		t.Fatalf("a held lock expired: %v", err)
	}
	if lctx.Err() != nil {
		t.Fatalf("lock context cancelled while held: %v", context.Cause(lctx))
	}
	release()
	if err := s.LockRepo(ctx, k, "cli", time.Minute); err != nil {
		t.Fatalf("after release: %v", err)
	}
}

// TestRepoLocksPreempt: a new leader's pass takes over the live pass
// lock of the previous leader at once, never another kind of holder's.
func TestRepoLocksPreempt(t *testing.T) {
	ctx := context.Background()
	s := openDSN(t, pgtest.Start(t))
	k := state.RepoKey{Provider: "gh", ID: 3}
	if err := s.LockRepo(ctx, k, "old/pass", time.Minute); err != nil {
		t.Fatal(err)
	}
	next := s.RepoLocks("new/pass", time.Minute).Preempting("/pass")
	_, release, err := next.LockRepo(ctx, k)
	if err != nil {
		t.Fatalf("new leader's pass: %v", err)
	}
	release()
	if err := s.LockRepo(ctx, k, "follower/hooks", time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, _, err := next.LockRepo(ctx, k); !errors.Is(err, state.ErrRepoBusy) {
		t.Fatalf("a webhook sync's lock was preempted: %v", err)
	}
}

// A leader frozen in the middle of a fenced write (SIGSTOP, a paused VM)
// holds the lease row FOR SHARE in an open transaction. The server ends
// that session after IdleInTransactionTimeout, so the successor's
// takeover waits at most that long instead of forever, and the frozen
// write can no longer commit.
func TestFrozenWriterDoesNotBlockTakeover(t *testing.T) {
	dsn := pgtest.Start(t)
	ctx := context.Background()
	old, err := Open(ctx, dsn, Options{IdleInTransactionTimeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer old.Close()
	successor := openDSN(t, dsn)
	const ttl = 300 * time.Millisecond
	if _, lead, err := old.Lease(LeaderLease).Acquire(ctx, "old", ttl); err != nil || !lead {
		t.Fatalf("old leader: %v %v", lead, err)
	}
	tx, err := old.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { // so that the pool can close, whatever happened
		rctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		defer cancel()
		_ = tx.Rollback(rctx)
	}()
	var holder string
	if err := tx.QueryRow(ctx, "SELECT holder FROM lease WHERE name = $1 FOR SHARE", LeaderLease).Scan(&holder); err != nil {
		t.Fatal(err)
	}
	// Frozen here: no commit, no rollback.
	time.Sleep(ttl)
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	ep, lead, err := successor.Lease(LeaderLease).Acquire(actx, "new", ttl)
	if err != nil || !lead || ep != 2 {
		t.Fatalf("takeover behind a frozen writer: epoch %d leading %v err %v after %s", ep, lead, err, time.Since(start))
	}
	if waited := time.Since(start); waited > 3*time.Second {
		t.Errorf("takeover waited %s for the frozen writer", waited)
	}
	if err := tx.Commit(ctx); err == nil {
		t.Error("the frozen write committed after its session should have ended")
	}
}
