package pgstore

import (
	"context"
	"fmt"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore/pgtest"
	"github.com/jiralinkd/jiralinkd/indexer/state/statetest"
)

func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }

// Store is a complete state backend.
var _ statetest.Backend = (*Store)(nil)

func openDSN(t testing.TB, dsn string) *Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	s, err := Open(ctx, dsn, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestConformance runs the backends' conformance suite on PostgreSQL: the
// first open within a test creates a database, later ones reopen it.
func TestConformance(t *testing.T) {
	var mu sync.Mutex
	dsns := map[*testing.T]string{}
	statetest.Run(t, func(t *testing.T) statetest.Backend {
		mu.Lock()
		dsn, ok := dsns[t]
		mu.Unlock()
		if !ok {
			dsn = pgtest.Start(t)
			mu.Lock()
			dsns[t] = dsn
			mu.Unlock()
		}
		return openDSN(t, dsn)
	})
}

// TestMigrationsConcurrentAndIdempotent: replicas starting together on an
// empty database do not race; the schema is recorded once per version.
func TestMigrationsConcurrentAndIdempotent(t *testing.T) {
	dsn := pgtest.Start(t)
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := Open(context.Background(), dsn, Options{})
			if err == nil {
				s.Close()
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	s := openDSN(t, dsn)
	var n, v int
	if err := s.pool.QueryRow(context.Background(), "SELECT count(*), max(version) FROM schema_migrations").Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	files, _ := migrationFiles()
	if n != len(files) || v != SchemaVersion() {
		t.Errorf("schema_migrations: %d rows, version %d; want %d rows, version %d", n, v, len(files), SchemaVersion())
	}
	// A database newer than the build is refused.
	if _, err := s.pool.Exec(context.Background(), "INSERT INTO schema_migrations (version) VALUES ($1)", SchemaVersion()+1); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(context.Background(), dsn, Options{}); err == nil || !strings.Contains(err.Error(), "newer") {
		t.Errorf("open of a newer schema: %v", err)
	}
}

// TestErrorsDoNotShowTheDSN: the DSN may hold a password.
func TestErrorsDoNotShowTheDSN(t *testing.T) {
	const secret = "s3cr3t-Pa55"
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	for _, dsn := range []string{
		"postgres://jiralinkd:" + secret + "@127.0.0.1:1/jiralinkd?sslmode=disable&connect_timeout=2", // nothing listens
		"postgres://jiralinkd:" + secret + "@127.0.0.1:1/jiralinkd?sslmode=bogus",                     // invalid
		"host=127.0.0.1 port=1 password=" + secret + " sslmode=disable connect_timeout=2",
	} {
		_, err := Open(ctx, dsn, Options{})
		if err == nil {
			t.Fatalf("open of %q succeeded", dsn)
		}
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows the password: %v", err)
		}
	}
}

// BenchmarkStore runs the backends' common benchmarks on PostgreSQL.
func BenchmarkStore(b *testing.B) {
	statetest.Bench(b, func(b *testing.B) statetest.Backend { return openDSN(b, pgtest.Start(b)) })
}

// TestReplicasShareTheInbox: replicas (stores on one database) deduplicate
// deliveries together: of one delivery id sent to each of them at once,
// exactly one is queued, and every replica sees it.
func TestReplicasShareTheInbox(t *testing.T) {
	dsn := pgtest.Start(t)
	replicas := []*Store{openDSN(t, dsn), openDSN(t, dsn), openDSN(t, dsn)}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for round := range 20 {
		var wg sync.WaitGroup
		fresh := make(chan bool, len(replicas))
		for _, r := range replicas {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, ok, err := r.Enqueue(state.Delivery{Provider: "github", ID: fmt.Sprintf("d-%d", round), ReceivedAt: t0}, time.Hour)
				if err != nil {
					t.Error(err)
				}
				fresh <- ok
			}()
		}
		wg.Wait()
		close(fresh)
		n := 0
		for ok := range fresh {
			if ok {
				n++
			}
		}
		if n != 1 {
			t.Fatalf("round %d: delivery queued %d times", round, n)
		}
	}
	for i, r := range replicas {
		if d, err := r.QueueDepth(); d != 20 || err != nil {
			t.Errorf("replica %d sees depth %d (%v), want 20", i, d, err)
		}
	}
}

// A rotated DSN (a Secret file rewritten) takes effect for every new
// connection without reopening the store.
func TestDSNRotationReachesNewConnections(t *testing.T) {
	first, second := pgtest.Start(t), pgtest.Start(t)
	var cur atomic.Value
	cur.Store(first)
	ctx := context.Background()
	st, err := Open(ctx, first, Options{DSN: func() string { return cur.Load().(string) }, MaxConns: 1})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	db := func() string {
		var name string
		if err := st.pool.QueryRow(ctx, "SELECT current_database()").Scan(&name); err != nil {
			t.Fatal(err)
		}
		return name
	}
	before := db()
	cur.Store(second)
	st.pool.Reset() // as after the server closed the old connections
	if after := db(); after == before {
		t.Errorf("a new connection still went to %s after the DSN changed", after)
	}
}
