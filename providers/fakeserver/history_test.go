package fakeserver_test

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
)

// chain is a linear history of n commits; shas[i] is the i-th commit.
func chain(n int) (*corpus.History, []string) {
	b := corpus.NewBuilder()
	var shas []string
	var parents []string
	for i := range n {
		sha := b.Commit(parents, fmt.Sprintf("c%d", i), time.Date(2024, 1, 1, 0, i, 0, 0, time.UTC))
		shas = append(shas, sha)
		parents = []string{sha}
	}
	return b.Build(), shas
}

func TestHistoryCache(t *testing.T) {
	h, shas := chain(100)
	var c fakeserver.HistoryCache
	for _, head := range shas {
		if got := c.Log(h, head); !slices.Equal(got, h.Log(head)) {
			t.Fatalf("Log(%s) = %v", head, got)
		}
		if got := c.Reachable(h, head); !maps.Equal(got, h.Reachable(head)) {
			t.Fatalf("Reachable(%s) = %v", head, got)
		}
	}
	// A hit is the cached value itself, not a fresh walk.
	head := shas[99]
	first := c.Log(h, head)
	if again := c.Log(h, head); &again[0] != &first[0] {
		t.Error("second Log was computed again")
	}
	// Another history with the same head name is another key.
	other, _ := chain(3)
	if got := c.Log(other, head); len(got) != 0 {
		t.Errorf("Log of another history = %v", got)
	}
}

func TestHistoryCacheConcurrent(t *testing.T) {
	h, shas := chain(20)
	var c fakeserver.HistoryCache
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for _, head := range shas {
				if n := len(c.Log(h, head)); n != slices.Index(shas, head)+1 {
					t.Errorf("worker %d: Log(%s) has %d commits", i, head, n)
				}
				c.Reachable(h, head)
			}
		})
	}
	wg.Wait()
}
