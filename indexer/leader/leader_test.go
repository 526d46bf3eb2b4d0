package leader

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// memLease is a lease in shared memory with the semantics the state
// backends implement: renewals by the holder keep the epoch; a new holder
// (after expiry or release) gets the next epoch. down makes a holder's
// calls fail, as for a paused or partitioned replica.
type memLease struct {
	mu      sync.Mutex
	holder  string
	epoch   int64
	expires time.Time
	down    map[string]bool
}

var errPartitioned = errors.New("partitioned")

func (l *memLease) Acquire(_ context.Context, holder string, ttl time.Duration) (int64, bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.down[holder] {
		return 0, false, errPartitioned
	}
	now := time.Now()
	switch {
	case l.holder == holder && now.Before(l.expires):
	case l.holder == "" || !now.Before(l.expires):
		l.holder = holder
		l.epoch++
	default:
		return l.epoch, false, nil
	}
	l.expires = now.Add(ttl)
	return l.epoch, true, nil
}

func (l *memLease) Release(_ context.Context, holder string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.holder == holder && !l.down[holder] {
		l.holder = ""
	}
	return nil
}

func (l *memLease) setDown(holder string, down bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.down[holder] = down
}

// leaders records who leads when, to prove there is never more than one.
type leaders struct {
	active  atomic.Int32
	overlap atomic.Int32
	mu      sync.Mutex
	epochs  map[string][]int64
}

func (r *leaders) lead(name string) func(ctx context.Context, epoch int64) {
	return func(ctx context.Context, epoch int64) {
		if r.active.Add(1) > 1 {
			r.overlap.Add(1)
		}
		r.mu.Lock()
		r.epochs[name] = append(r.epochs[name], epoch)
		r.mu.Unlock()
		<-ctx.Done()
		r.active.Add(-1)
	}
}

func (r *leaders) of(name string) []int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]int64(nil), r.epochs[name]...)
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// One leader at a time: a partitioned leader steps down before its lease
// expires, the follower takes over with the next epoch, and a leader that
// shuts down hands over at once.
func TestElectionFailoverAndFencingEpochs(t *testing.T) {
	const ttl = 300 * time.Millisecond
	lease := &memLease{down: map[string]bool{}}
	rec := &leaders{epochs: map[string][]int64{}}
	ctxA, stopA := context.WithCancel(context.Background())
	ctxB, stopB := context.WithCancel(context.Background())
	defer stopB()
	a, b := New(lease, "a", ttl, nil), New(lease, "b", ttl, nil)
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); a.Run(ctxA, rec.lead("a")) }()
	waitFor(t, "a to lead", func() bool { return a.Status().Leading })
	go func() { defer wg.Done(); b.Run(ctxB, rec.lead("b")) }()
	time.Sleep(ttl) // b follows while a renews
	if b.Status().Leading || !a.Status().Leading || a.Status().Epoch != 1 {
		t.Fatalf("a: %+v, b: %+v", a.Status(), b.Status())
	}

	// a is cut off: it cannot renew. It must stop leading before its
	// lease can expire, and b takes over with epoch 2.
	lease.setDown("a", true)
	cut := time.Now()
	waitFor(t, "b to take over", func() bool { return b.Status().Leading })
	if took := time.Since(cut); took > 2*ttl {
		t.Errorf("failover took %s (ttl %s)", took, ttl)
	}
	if a.Status().Leading {
		t.Error("a still leads after b took over")
	}
	if got := b.Status().Epoch; got != 2 {
		t.Errorf("b leads under epoch %d, want 2", got)
	}
	// a comes back: it follows, it does not take the lease back.
	lease.setDown("a", false)
	time.Sleep(ttl)
	if a.Status().Leading || !b.Status().Leading {
		t.Errorf("after a rejoined: a %+v, b %+v", a.Status(), b.Status())
	}

	// b shuts down: it releases, a leads at once with epoch 3.
	stopB()
	waitFor(t, "a to lead again", func() bool { return a.Status().Leading })
	if got := a.Status().Epoch; got != 3 {
		t.Errorf("a leads under epoch %d, want 3", got)
	}
	stopA()
	wg.Wait()
	if n := rec.overlap.Load(); n != 0 {
		t.Errorf("%d moments with two leaders", n)
	}
	if ea, eb := rec.of("a"), rec.of("b"); len(ea) != 2 || ea[0] != 1 || ea[1] != 3 || len(eb) != 1 || eb[0] != 2 {
		t.Errorf("terms: a %v, b %v", ea, eb)
	}
}

func TestSoloAlwaysLeads(t *testing.T) {
	e := New(Solo{}, "only", time.Second, nil)
	ctx, cancel := context.WithCancel(context.Background())
	led := make(chan int64, 1)
	done := make(chan struct{})
	go func() {
		defer close(done)
		e.Run(ctx, func(ctx context.Context, epoch int64) { led <- epoch; <-ctx.Done() })
	}()
	if ep := <-led; ep != 1 {
		t.Errorf("solo epoch %d", ep)
	}
	cancel()
	<-done
	if e.Status().Leading {
		t.Error("still leading after Run returned")
	}
}
