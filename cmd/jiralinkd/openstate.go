package main

import (
	"context"
	"fmt"
	"time"

	"github.com/jiralinkd/jiralinkd/config"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore"
)

// openState opens the configured state backend: the one place that knows
// the backends. Adding a backend is one case here (and one in check).
// Errors never include the PostgreSQL DSN.
func openState(ctx context.Context, cfg config.State) (stateStore, error) {
	switch cfg.Backend {
	case config.BackendPostgres:
		st, err := pgstore.Open(ctx, cfg.Postgres.DSN.Reveal(), pgstore.Options{})
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
