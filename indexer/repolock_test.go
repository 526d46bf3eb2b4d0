package indexer_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
)

// fakeLocker is a RepoLocker whose repos are busy for the first busy
// attempts; it records what is held.
type fakeLocker struct {
	mu       sync.Mutex
	busy     int
	attempts int
	held     map[state.RepoKey]bool
	released int
}

func (l *fakeLocker) LockRepo(ctx context.Context, k state.RepoKey) (context.Context, func(), error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.attempts++
	if l.attempts <= l.busy {
		return ctx, nil, state.ErrRepoBusy
	}
	if l.held[k] {
		return ctx, nil, errors.New("locked twice")
	}
	l.held[k] = true
	return ctx, func() {
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.held, k)
		l.released++
	}, nil
}

// TestRepoLocker: with a RepoLocker a pass holds each repo's lock in the
// state while it syncs it, waits for a repo another process holds, and
// releases the lock afterwards.
func TestRepoLocker(t *testing.T) {
	b := corpus.NewBuilder()
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	b.Branch("master", b.Commit(nil, "ZOOKEEPER-1: first", at))
	s := newStack(t, b.Build(), nil)
	l := &fakeLocker{busy: 2, held: map[state.RepoKey]bool{}}
	ix, err := indexer.New(indexer.Options{Store: s.store, Jira: s.jc, Matcher: s.m, RepoLocker: l})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	rep := ix.Sync(context.Background(), s.tgt, "")
	if rep.Err != nil || rep.Failed() != 0 {
		t.Fatalf("pass: %v, %d failed", rep.Err, rep.Failed())
	}
	if l.attempts != 3 || l.released != 1 || len(l.held) != 0 {
		t.Errorf("locker: %d attempts, %d released, %d held; want 3, 1, 0", l.attempts, l.released, len(l.held))
	}
	if waited := time.Since(start); waited < 2*time.Second {
		t.Errorf("the pass did not wait for the busy repo (%s)", waited)
	}
	if n := len(s.jira.Links("ZOOKEEPER-1")); n != 1 {
		t.Errorf("ZOOKEEPER-1 has %d links, want 1", n)
	}
}
