package boltstore

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state/statetest"
)

// Store is a complete state backend.
var _ statetest.Backend = (*Store)(nil)

// TestConformance runs the backends' conformance suite on bbolt files: the
// first open within a test creates a file, later ones reopen it.
func TestConformance(t *testing.T) {
	var mu sync.Mutex
	paths := map[*testing.T]string{}
	statetest.Run(t, func(t *testing.T) statetest.Backend {
		mu.Lock()
		path, ok := paths[t]
		if !ok {
			path = filepath.Join(t.TempDir(), "state.db")
			paths[t] = path
		}
		mu.Unlock()
		s, err := Open(path, time.Second)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		return s
	})
}

// BenchmarkStore runs the backends' common benchmarks on a bbolt file.
func BenchmarkStore(b *testing.B) {
	statetest.Bench(b, func(b *testing.B) statetest.Backend {
		s, err := Open(filepath.Join(b.TempDir(), "state.db"), time.Second)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return s
	})
}
