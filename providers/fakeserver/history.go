package fakeserver

import (
	"sync"

	"github.com/jiralinkd/jiralinkd/providers/corpus"
)

// Bounds of HistoryCache: a backfill pages through a few lists many
// times, so a small cache suffices; it is cleared when full.
const (
	maxCachedLogs      = 64
	maxCachedReachable = 16
)

// HistoryCache memoises History.Log and History.Reachable: a History is
// immutable, so (history, head) always gives the same answer, and a
// backfill pages through the same commit list dozens of times. The
// results are shared: callers must not modify them. The zero value is
// ready to use; it is safe for concurrent use.
type HistoryCache struct {
	mu    sync.Mutex
	logs  map[historyKey][]string
	reach map[historyKey]map[string]bool
}

type historyKey struct {
	h    *corpus.History
	head string
}

// Log is h.Log(head).
func (c *HistoryCache) Log(h *corpus.History, head string) []string {
	return memoize(c, &c.logs, maxCachedLogs, historyKey{h, head}, func() []string { return h.Log(head) })
}

// Reachable is h.Reachable(head).
func (c *HistoryCache) Reachable(h *corpus.History, head string) map[string]bool {
	return memoize(c, &c.reach, maxCachedReachable, historyKey{h, head}, func() map[string]bool { return h.Reachable(head) })
}

// memoize looks k up in *m, else stores compute() there, clearing *m
// first when it holds limit entries. compute runs without c.mu, so
// concurrent misses may compute the same value twice.
func memoize[V any](c *HistoryCache, m *map[historyKey]V, limit int, k historyKey, compute func() V) V {
	c.mu.Lock()
	v, ok := (*m)[k]
	c.mu.Unlock()
	if ok {
		return v
	}
	v = compute()
	c.mu.Lock()
	defer c.mu.Unlock()
	if *m == nil || len(*m) >= limit {
		*m = make(map[historyKey]V)
	}
	(*m)[k] = v
	return v
}
