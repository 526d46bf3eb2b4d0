package indexer

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient"
)

// searchCounter is a Jira whose issues with an even number exist; it
// records each search's keys.
type searchCounter struct {
	Jira
	mu       sync.Mutex
	searches [][]string
}

func (s *searchCounter) ExistingIssues(_ context.Context, ks []string) (map[string]bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.searches = append(s.searches, slices.Clone(ks))
	out := map[string]bool{}
	for _, k := range ks {
		var n int
		_, _ = fmt.Sscanf(k, "K-%d", &n)
		out[k] = n%2 == 0
	}
	return out, nil
}

func (s *searchCounter) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.searches)
}

func keysFrom(from, n int) []string {
	var ks []string
	for i := from; i < from+n; i++ {
		ks = append(ks, fmt.Sprintf("K-%d", i))
	}
	return ks
}

// waitFor polls cond (the broker works in the background).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); !cond(); time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

func newBrokerIndexer() (*Indexer, *searchCounter) {
	j := &searchCounter{}
	// A dry run caches nothing, so the broker needs no store.
	return &Indexer{opts: Options{Jira: j, DryRun: true, KeyCheckMaxWait: time.Hour}}, j
}

func TestKeyBrokerSearchesWhenNobodyLists(t *testing.T) {
	ix, j := newBrokerIndexer()
	b := ix.newKeyBroker(3, 3, nil)
	ctx := context.Background()
	got := make(chan map[string]bool, 2)
	for _, ks := range [][]string{{"K-1", "K-2"}, {"K-2", "K-4"}} {
		b.acquire()
		go func() {
			m, err := b.resolve(ctx, ks, false)
			if err != nil {
				t.Error(err)
			}
			b.finished(ctx)
			got <- m
		}()
	}
	waitFor(t, "two syncs waiting", func() bool { b.mu.Lock(); defer b.mu.Unlock(); return len(b.waiters) == 2 })
	if n := j.count(); n != 0 {
		t.Fatalf("%d searches while a third repo is still to list", n)
	}
	// The waiting syncs gave their slots up: the third one can start.
	select {
	case b.slots <- struct{}{}:
		<-b.slots
	default:
		t.Fatal("no slot free while two of three syncs wait on the broker")
	}
	b.acquire()
	b.finished(ctx) // the third repo named no key
	a, c := <-got, <-got
	if n := j.count(); n != 1 || len(j.searches[0]) != 3 {
		t.Fatalf("searches %v, want one of the 3 distinct keys", j.searches)
	}
	want1, want2 := map[string]bool{"K-1": false, "K-2": true}, map[string]bool{"K-2": true, "K-4": true}
	if _, first := a["K-1"]; !first {
		a, c = c, a
	}
	if !maps.Equal(a, want1) || !maps.Equal(c, want2) {
		t.Errorf("answers %v and %v, want %v and %v", a, c, want1, want2)
	}
	b.close()
}

func TestKeyBrokerSearchesEveryHundredKeys(t *testing.T) {
	ix, j := newBrokerIndexer()
	b := ix.newKeyBroker(2, 2, nil)
	ctx := context.Background()
	done := make(chan error, 1)
	b.acquire()
	go func() {
		_, err := b.resolve(ctx, keysFrom(1, 150), false)
		b.finished(ctx)
		done <- err
	}()
	waitFor(t, "the first 100 keys searched", func() bool { return j.count() == 1 })
	if len(j.searches[0]) != jiraclient.SearchBatchSize {
		t.Fatalf("first search of %d keys, want 100", len(j.searches[0]))
	}
	time.Sleep(20 * time.Millisecond)
	if n := j.count(); n != 1 {
		t.Fatalf("%d searches: the 50 left must wait for the other repo", n)
	}
	b.acquire()
	b.finished(ctx)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := j.count(); n != 2 || len(j.searches[1]) != 50 {
		t.Errorf("searches of %d and then %d keys, want 100 and 50", len(j.searches[0]), len(j.searches[1]))
	}
	b.close()
}
