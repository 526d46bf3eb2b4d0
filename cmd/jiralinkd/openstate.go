package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"

	"github.com/jiralinkd/jiralinkd/config"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore"
)

// openState opens the configured state backend: the one place that knows
// the backends. Adding a backend is one case here (and one in check).
// dsn, if not nil, is the PostgreSQL DSN's live source (a dsn_file
// re-read when it changes: new connections use the new value). Errors
// never include the DSN.
func openState(ctx context.Context, cfg config.State, dsn *config.SecretSource) (stateStore, error) {
	switch cfg.Backend {
	case config.BackendPostgres:
		opts := pgstore.Options{}
		if dsn != nil {
			opts.DSN = dsn.Value
		}
		st, err := pgstore.Open(ctx, cfg.Postgres.DSN.Reveal(), opts)
		if err != nil {
			return nil, fmt.Errorf("state (postgres, %s): %w", cfg.Postgres.DSN.Setting("state.postgres.dsn"), err)
		}
		return st, nil
	case config.BackendBolt, "":
		return boltstore.Open(cfg.Path, 2*time.Second)
	}
	return nil, fmt.Errorf("state.backend: unknown backend %q", cfg.Backend)
}

// shared reports whether the configured state is shared by replicas (and
// so needs an election and database locks).
func shared(cfg config.State) bool { return cfg.Backend == config.BackendPostgres }

// repoLockTTL is how long a repo lock in a shared state outlives its
// holder's last renewal (a dead or paused holder blocks a repo that long).
const repoLockTTL = 30 * time.Second

// repoLocksOf returns, when store is a shared state without a fence of
// its own, the database repo locks of holder and a view of store whose
// writes are fenced by them (pgstore.WithRepoLocks): a sync paused past
// its repo lock's expiry (SIGSTOP, a VM pause) cannot write once another
// replica took the repo over. Otherwise (bbolt: one process, in-process
// locks) store itself and no locker.
func repoLocksOf(store indexer.Store, holder string) (indexer.Store, indexer.RepoLocker) {
	pg, ok := store.(*pgstore.Store)
	if !ok || pg.HasFence() {
		return store, nil
	}
	locks := pg.RepoLocks(holder, repoLockTTL)
	return pg.WithRepoLocks(locks), locks
}

// newReplicaID names this process in a shared state: host, pid and a
// random suffix.
func newReplicaID() string {
	host, err := os.Hostname()
	if err != nil || host == "" {
		host = "unknown"
	}
	var b [3]byte
	_, _ = rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// checkStateBackend checks the configured state backend (check): the bbolt
// file, or the PostgreSQL database's connectivity, schema version and the
// role's rights, each failure with a fix.
func checkStateBackend(ctx context.Context, c *checker, cfg config.State) {
	if cfg.Backend != config.BackendPostgres {
		checkState(c, cfg.Path)
		return
	}
	setting := cfg.Postgres.DSN.Setting("state.postgres.dsn")
	cctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	p, err := pgstore.Check(cctx, cfg.Postgres.DSN.Reveal())
	if err != nil {
		c.result("state", fmt.Errorf("%w: fix the connection string in %s, or the server's pg_hba.conf", err, setting), "")
		return
	}
	where := fmt.Sprintf("postgres database %s, schema %s, role %s", p.Database, p.Schema, p.Role)
	switch {
	case p.Version > p.Latest:
		c.result("state", fmt.Errorf("%s: schema version %d is newer than this build's %d: upgrade jiralinkd", where, p.Version, p.Latest), "")
		return
	case p.Version < p.Latest && !p.CanCreate:
		c.result("state", fmt.Errorf("%s: schema version %d needs upgrading to %d, but the role may not create tables in schema %s: "+
			"GRANT CREATE ON SCHEMA %s TO %s (or make the role own the jiralinkd database)", where, p.Version, p.Latest, p.Schema, p.Schema, p.Role), "")
		return
	}
	if p.Superuser {
		c.warn("state", fmt.Sprintf("role %s is a superuser: use a dedicated non-superuser role owning the jiralinkd database", p.Role))
	}
	detail := fmt.Sprintf("%s (schema version %d, current)", where, p.Version)
	if p.Version < p.Latest {
		detail = fmt.Sprintf("%s (schema version %d; upgraded to %d at start)", where, p.Version, p.Latest)
	}
	c.result("state", nil, detail)
}
