package indexer

// keybroker.go: issue-key validation batched across the repos of a pass.

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient"
)

// DefaultKeyCheckMaxWait bounds how long a key waits for others to share
// its search while other repos of the pass are still listing (a safety
// net: normally a search runs when 100 keys are pending or nobody lists).
const DefaultKeyCheckMaxWait = 3 * time.Second

// keyBroker checks the unknown issue keys of the repo syncs of one pass
// together: one JQL search per jiraclient.SearchBatchSize (100) keys of the
// pass instead of one per repo and batch. A sync's linker submits its
// unknown keys and waits (resolve); the broker searches when 100 keys are
// pending, or when no sync of the pass is still listing (every one left is
// waiting on the broker or not started), or after Options.KeyCheckMaxWait.
//
// It also holds the pass's repo-concurrency slots: a sync waiting on the
// broker gives its slot up (it lists nothing meanwhile), so the next repos
// start listing and contribute their keys, and takes one again when its
// keys are answered.
type keyBroker struct {
	ix    *Indexer
	slots chan struct{}
	// passDone ends the pass: searches run for every sync waiting on them,
	// so they stop with the pass, not with the sync that started them.
	passDone <-chan struct{}
	searches sync.WaitGroup

	mu sync.Mutex
	// active counts the syncs of the pass that are listing or will: not
	// done, not skipped, and not waiting on the broker. listing counts the
	// started ones among them, parked the waiting syncs that gave their
	// slot up (see resolve).
	active  int
	listing int
	parked  int
	known   map[string]bool   // answers of this pass
	asking  map[string]bool   // in a search now
	queued  map[string]bool   // waiting for a search
	queue   []string          // queued, in arrival order
	waiters map[*keyWait]bool // syncs waiting for answers
	timer   *time.Timer       // the safety net, while keys are queued
}

// keyWait is one sync waiting for its keys.
type keyWait struct {
	keys []string
	done chan struct{}
	err  error // a failed search of one of keys
}

// newKeyBroker returns the broker of a pass over repos syncs, at most
// concurrency of them listing at once.
func (ix *Indexer) newKeyBroker(repos, concurrency int, passDone <-chan struct{}) *keyBroker {
	return &keyBroker{ix: ix, slots: make(chan struct{}, max(concurrency, 1)), active: repos, passDone: passDone,
		known: map[string]bool{}, asking: map[string]bool{}, queued: map[string]bool{},
		waiters: map[*keyWait]bool{}}
}

type keyBrokerKey struct{}

// withKeyBroker makes the repo syncs under ctx resolve keys through b.
func withKeyBroker(ctx context.Context, b *keyBroker) context.Context {
	return context.WithValue(ctx, keyBrokerKey{}, b)
}

// keyBrokerOf is the pass's broker, or nil (a targeted sync resolves its
// keys itself).
func keyBrokerOf(ctx context.Context) *keyBroker {
	b, _ := ctx.Value(keyBrokerKey{}).(*keyBroker)
	return b
}

// acquire takes a slot for a sync about to start.
func (b *keyBroker) acquire() {
	b.slots <- struct{}{}
	b.mu.Lock()
	b.listing++
	b.mu.Unlock()
}

// finished ends a sync: its slot is freed, and it lists no more.
func (b *keyBroker) finished(ctx context.Context) {
	<-b.slots
	b.mu.Lock()
	b.listing--
	b.mu.Unlock()
	b.skip(ctx, 1)
}

// skip counts n syncs that end (or will never start).
func (b *keyBroker) skip(ctx context.Context, n int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.active -= n
	b.kick(ctx)
}

// resolve answers whether each of ks exists, searching together with the
// other syncs of the pass. The caller holds a slot; it is given up while
// waiting, so the next repo may start listing: always at the end of a
// step (small repos then share searches, ⌈keys/100⌉ for the pass), in the
// middle of a walk (midWalk: a big repo) only while fewer syncs are parked
// than there are slots, so a backfill of big repos keeps about its
// concurrency and its order.
func (b *keyBroker) resolve(ctx context.Context, ks []string, midWalk bool) (map[string]bool, error) {
	b.mu.Lock()
	w := &keyWait{keys: ks, done: make(chan struct{})}
	for _, k := range ks {
		if _, ok := b.known[k]; !ok && !b.asking[k] && !b.queued[k] {
			b.queued[k] = true
			b.queue = append(b.queue, k)
		}
	}
	if b.answered(w) {
		defer b.mu.Unlock()
		return b.answers(w)
	}
	b.waiters[w] = true
	b.active--
	b.listing--
	park := !midWalk || b.parked < cap(b.slots)
	if park {
		b.parked++
		<-b.slots // parked: the next repo may list
	}
	b.kick(ctx)
	b.mu.Unlock()

	select {
	case <-w.done: // the broker counted this sync active again
	case <-ctx.Done():
		b.mu.Lock()
		if b.waiters[w] {
			delete(b.waiters, w)
			b.active++
		}
		b.mu.Unlock()
	}
	if park {
		b.slots <- struct{}{} // a sync holds a slot until finished
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if park {
		b.parked--
	}
	b.listing++
	if err := ctx.Err(); err != nil && !b.answered(w) {
		return nil, err
	}
	return b.answers(w)
}

// answered reports whether every key of w has an answer (or its search
// failed); b.mu is held.
func (b *keyBroker) answered(w *keyWait) bool {
	if w.err != nil {
		return true
	}
	for _, k := range w.keys {
		if _, ok := b.known[k]; !ok {
			return false
		}
	}
	return true
}

// answers collects w's answers, or the first failure among its keys; b.mu
// is held.
func (b *keyBroker) answers(w *keyWait) (map[string]bool, error) {
	if w.err != nil {
		return nil, w.err
	}
	out := make(map[string]bool, len(w.keys))
	for _, k := range w.keys {
		out[k] = b.known[k]
	}
	return out, nil
}

// kick starts the searches that are due; b.mu is held.
func (b *keyBroker) kick(ctx context.Context) {
	if len(b.queue) >= jiraclient.SearchBatchSize {
		b.stopTimer() // the keys left are younger: their wait starts now
	}
	for len(b.queue) >= jiraclient.SearchBatchSize {
		b.search(ctx, jiraclient.SearchBatchSize)
	}
	if len(b.queue) == 0 {
		b.stopTimer()
		return
	}
	if b.active <= 0 || b.listing <= 0 && len(b.slots) == cap(b.slots) {
		// Nobody lists or will, or every slot is held by a sync that
		// waits here: no key is coming.
		b.search(ctx, len(b.queue))
		b.stopTimer()
		return
	}
	if b.timer == nil {
		b.timer = time.AfterFunc(b.ix.opts.KeyCheckMaxWait, func() {
			b.mu.Lock()
			defer b.mu.Unlock()
			b.timer = nil
			if len(b.queue) > 0 {
				b.search(ctx, len(b.queue))
			}
		})
	}
}

// close ends the pass: no safety-net search is left to run, and those
// running (whose syncs may have gone) are waited for.
func (b *keyBroker) close() {
	b.mu.Lock()
	b.stopTimer()
	b.mu.Unlock()
	b.searches.Wait()
}

func (b *keyBroker) stopTimer() {
	if b.timer != nil {
		b.timer.Stop()
		b.timer = nil
	}
}

// search runs one search (in the background) for the first n queued keys;
// b.mu is held.
func (b *keyBroker) search(ctx context.Context, n int) {
	ks := b.queue[:n:n]
	b.queue = b.queue[n:]
	for _, k := range ks {
		delete(b.queued, k)
		b.asking[k] = true
	}
	b.searches.Add(1)
	go func() {
		defer b.searches.Done()
		// The search answers every sync waiting for these keys: the one
		// whose ctx started it may end (and cancel its ctx) first.
		sctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		defer cancel()
		go func() {
			select {
			case <-b.passDone:
				cancel()
			case <-sctx.Done():
			}
		}()
		exist, err := b.ix.checkIssues(sctx, ks)
		b.mu.Lock()
		defer b.mu.Unlock()
		for _, k := range ks {
			delete(b.asking, k)
			if err == nil {
				b.known[k] = exist[k]
			}
		}
		for w := range b.waiters {
			if err != nil && slices.ContainsFunc(w.keys, func(k string) bool { return slices.Contains(ks, k) }) {
				w.err = err // the next sync naming these keys asks again
			}
			if b.answered(w) {
				delete(b.waiters, w)
				b.active++
				close(w.done)
			}
		}
	}()
}
