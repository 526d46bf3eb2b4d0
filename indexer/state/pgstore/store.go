// Package pgstore keeps jiralinkd's state (package state) in PostgreSQL:
// the shared backend of several replicas.
//
// Open creates and upgrades its own tables with versioned, embedded
// migrations. Every method is one transaction (or one statement), so a
// crash leaves either the state before or after a step, never half of it;
// the semantics are those of the bbolt backend (boltstore), checked by the
// same conformance suite (statetest).
//
// The interfaces the Store implements take no context; each method runs
// under a background context bounded by Options.Timeout.
//
// Behind PgBouncer in transaction pooling mode (before 1.21, which tracks
// prepared statements), add default_query_exec_mode=exec to the DSN: pgx
// otherwise caches named prepared statements per connection. Nothing else
// depends on the session: migrations take a transaction-scoped lock.
package pgstore

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

//go:embed migrations/*.sql
var migrations embed.FS

// migrationLock is the key of the transaction-scoped advisory lock under
// which migrations run ("jiralink" in ASCII).
const migrationLock int64 = 0x6a6972616c696e6b

// Options tune a Store.
type Options struct {
	// Timeout bounds each method (default 30s).
	Timeout time.Duration
	// MaxConns is the pool's size (default: pgxpool's, 4 or the number of
	// CPUs).
	MaxConns int32
	// DSN, if set, is the live connection string (a DSN file re-read when
	// it changes): every new connection uses its current value, so a
	// rotated password or a moved server takes effect without a restart.
	// Open's dsn is the first value.
	DSN func() string
	// IdleInTransactionTimeout makes the server end a session that sits
	// in an open transaction this long (default 10s; the DSN's own
	// idle_in_transaction_session_timeout wins). A replica frozen in the
	// middle of a fenced write (SIGSTOP, a VM pause) holds the lease row
	// FOR SHARE: without this bound its successor could never take over.
	IdleInTransactionTimeout time.Duration
}

// sessionParams sets the session settings jiralinkd relies on, unless the
// DSN sets them.
func sessionParams(params map[string]string, opts Options) {
	if _, ok := params["idle_in_transaction_session_timeout"]; !ok {
		params["idle_in_transaction_session_timeout"] = strconv.FormatInt(opts.IdleInTransactionTimeout.Milliseconds(), 10)
	}
}

// Store is the state in a PostgreSQL database. It is safe for concurrent
// use, within a process and across processes sharing the database.
type Store struct {
	pool    *pgxpool.Pool
	timeout time.Duration
	// fence, when set, guards every state-changing write (not the inbox):
	// see WithFence and WithRepoLocks.
	fence fencer
}

// Open connects to the database dsn names and creates or upgrades the
// tables. Errors never include the DSN (it may hold a password).
func Open(ctx context.Context, dsn string, opts Options) (*Store, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	cfg, err := pgxpool.ParseConfig(dsn)
	if err != nil {
		// The parse error quotes the connection string: not repeated.
		return nil, fmt.Errorf("pgstore: parse DSN: %w", errInvalidDSN)
	}
	if opts.MaxConns > 0 {
		cfg.MaxConns = opts.MaxConns
	}
	if opts.IdleInTransactionTimeout <= 0 {
		opts.IdleInTransactionTimeout = 10 * time.Second
	}
	sessionParams(cfg.ConnConfig.RuntimeParams, opts)
	if opts.DSN != nil {
		cfg.BeforeConnect = func(_ context.Context, cc *pgx.ConnConfig) error {
			fresh, err := pgx.ParseConfig(opts.DSN())
			if err != nil {
				// Keep connecting with the last good value; the parse
				// error quotes the connection string: not repeated.
				return nil
			}
			cc.Config = fresh.Config
			sessionParams(cc.RuntimeParams, opts)
			return nil
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("pgstore: connect: %w", err)
	}
	s := &Store{pool: pool, timeout: opts.Timeout}
	if err := s.migrate(ctx); err != nil {
		pool.Close()
		return nil, err
	}
	return s, nil
}

var errInvalidDSN = errors.New("invalid connection string (not shown: it may hold a password)")

// Migrations are the embedded schema versions, in order.
func migrationFiles() ([]string, error) {
	names, err := fs.Glob(migrations, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	return names, nil
}

// migrationVersion is the version a migration file is named after
// (0001_init.sql: 1).
func migrationVersion(name string) (int, error) {
	base := name[strings.LastIndexByte(name, '/')+1:]
	v, _, _ := strings.Cut(base, "_")
	return strconv.Atoi(v)
}

// SchemaVersion is the newest schema version this build knows.
func SchemaVersion() int {
	names, _ := migrationFiles()
	if len(names) == 0 {
		return 0
	}
	v, _ := migrationVersion(names[len(names)-1])
	return v
}

// migrate applies the migrations the database lacks, in one transaction
// under a transaction-scoped advisory lock: replicas starting together
// take turns, and the later ones find the schema current. The lock is
// transaction-scoped (pg_advisory_xact_lock) because a session-level lock
// does not work behind PgBouncer's transaction pooling (the session is not
// the client's); it is released by the commit or rollback.
func (s *Store) migrate(ctx context.Context) error {
	names, err := migrationFiles()
	if err != nil {
		return fmt.Errorf("pgstore: migrations: %w", err)
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", migrationLock); err != nil {
			return fmt.Errorf("take the migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
			version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
			return fmt.Errorf("create schema_migrations: %w", err)
		}
		var current int
		if err := tx.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&current); err != nil {
			return fmt.Errorf("read the schema version: %w", err)
		}
		latest := 0
		for _, name := range names {
			v, err := migrationVersion(name)
			if err != nil {
				return fmt.Errorf("migration %s: bad name: %w", name, err)
			}
			latest = v
			if v <= current {
				continue
			}
			sql, err := migrations.ReadFile(name)
			if err != nil {
				return err
			}
			if _, err := tx.Exec(ctx, string(sql)); err != nil {
				return fmt.Errorf("migration %s: %w", name, err)
			}
			if _, err := tx.Exec(ctx, "INSERT INTO schema_migrations (version) VALUES ($1)", v); err != nil {
				return fmt.Errorf("record migration %s: %w", name, err)
			}
		}
		if current > latest {
			return fmt.Errorf("the database's schema version %d is newer than this build's %d", current, latest)
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("pgstore: migrate: %w", err)
	}
	return nil
}

// Close closes the connection pool. A second Close does nothing.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Pool is the connection pool, for components that keep their own tables
// in the same database (leases, locks).
func (s *Store) Pool() *pgxpool.Pool { return s.pool }

// ctx is the context of one method call.
func (s *Store) ctx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.timeout)
}

// txAttempts bounds the runs of a transaction that PostgreSQL aborted as
// a deadlock victim or a serialization failure (writers on several
// replicas): such a transaction changed nothing and is run again.
const txAttempts = 3

// tx runs fn in one transaction, wrapping its error with what; with a
// fence (WithFence, WithRepoLocks), the transaction first checks it and
// fails with state.ErrFenced, changing nothing, if this replica leads no
// longer or lost the repo lock it writes under. fn
// may run again (see txAttempts): it must not have effects outside tx.
func (s *Store) tx(what string, fn func(ctx context.Context, tx pgx.Tx) error) error {
	if s.fence == nil {
		return s.inboxTx(what, fn)
	}
	return s.inboxTx(what, func(ctx context.Context, tx pgx.Tx) error {
		if err := s.fence.check(ctx, tx); err != nil {
			return err
		}
		return fn(ctx, tx)
	})
}

// inboxTx is tx without the fence: for the webhook inbox, which every
// replica writes.
func (s *Store) inboxTx(what string, fn func(ctx context.Context, tx pgx.Tx) error) error {
	ctx, cancel := s.ctx()
	defer cancel()
	var err error
	for range txAttempts {
		if err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return fn(ctx, tx) }); !retryable(err) {
			break
		}
	}
	if err != nil {
		return fmt.Errorf("pgstore: %s: %w", what, err)
	}
	return nil
}

// retryable tells a transaction aborted by a deadlock or a serialization
// failure, which is safe to run again.
func retryable(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "40P01" || pgErr.Code == "40001")
}

// read runs fn in one read-only, repeatable-read transaction (a consistent
// snapshot across its statements).
func (s *Store) read(what string, fn func(ctx context.Context, tx pgx.Tx) error) error {
	ctx, cancel := s.ctx()
	defer cancel()
	err := pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly},
		func(tx pgx.Tx) error { return fn(ctx, tx) })
	if err != nil {
		return fmt.Errorf("pgstore: %s: %w", what, err)
	}
	return nil
}

// Repo returns the state of one repo; ok is false if it was never synced.
func (s *Store) Repo(k state.RepoKey) (st state.RepoState, ok bool, err error) {
	ctx, cancel := s.ctx()
	defer cancel()
	if st, ok, err = getRepo(ctx, s.pool, k, false); err != nil {
		return state.RepoState{}, false, fmt.Errorf("pgstore: read repo %s: %w", k, err)
	}
	return st, ok, nil
}

// getRepo reads a repo's state, locking its row if forUpdate (in a
// transaction).
func getRepo(ctx context.Context, tx querier, k state.RepoKey, forUpdate bool) (st state.RepoState, ok bool, err error) {
	q := "SELECT body FROM repos WHERE provider = $1 AND repo_id = $2"
	if forUpdate {
		q += " FOR UPDATE"
	}
	var body []byte
	switch err := tx.QueryRow(ctx, q, k.Provider, k.ID).Scan(&body); {
	case errors.Is(err, pgx.ErrNoRows):
		return st, false, nil
	case err != nil:
		return st, false, err
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return st, false, err
	}
	return st, true, nil
}

func putRepo(ctx context.Context, tx pgx.Tx, st state.RepoState) error {
	body, err := json.Marshal(st)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, putRepoSQL, st.Key.Provider, st.Key.ID, body)
	return err
}

// putRepoSQL stores a repo's state ($3, JSON).
const putRepoSQL = `INSERT INTO repos (provider, repo_id, body) VALUES ($1, $2, $3)
	ON CONFLICT (provider, repo_id) DO UPDATE SET body = EXCLUDED.body`

// PutRepo stores a repo's state.
func (s *Store) PutRepo(st state.RepoState) error {
	return s.tx("put repo "+st.Key.String(), func(ctx context.Context, tx pgx.Tx) error { return putRepo(ctx, tx, st) })
}

// Repos returns every known repo, ordered by provider then full name.
func (s *Store) Repos() ([]state.RepoState, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	var out []state.RepoState
	rows, err := s.pool.Query(ctx, "SELECT body FROM repos")
	if err != nil {
		return nil, fmt.Errorf("pgstore: read repos: %w", err)
	}
	var body []byte
	if _, err := pgx.ForEachRow(rows, []any{&body}, func() error {
		var st state.RepoState
		if err := json.Unmarshal(body, &st); err != nil {
			return err
		}
		out = append(out, st)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("pgstore: read repos: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		if out[i].Key.Provider != out[j].Key.Provider {
			return out[i].Key.Provider < out[j].Key.Provider
		}
		return out[i].Repo.FullName < out[j].Repo.FullName
	})
	return out, nil
}

// RecordRepoFailure marks a repo failed for a pass that could not sync it
// at all, keeping its cursors. A repo not in the state yet is added, so
// the failure is visible.
func (s *Store) RecordRepoFailure(k state.RepoKey, r providers.Repo, f state.Failure) error {
	return s.tx("record failure of "+k.String(), func(ctx context.Context, tx pgx.Tx) error {
		// Insert-if-absent first so that the row exists to be locked:
		// concurrent failures of a new repo count each.
		fresh, err := json.Marshal(state.RepoState{Key: k, Repo: r})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO repos (provider, repo_id, body) VALUES ($1, $2, $3)
			ON CONFLICT (provider, repo_id) DO NOTHING`, k.Provider, k.ID, fresh); err != nil {
			return err
		}
		st, _, err := getRepo(ctx, tx, k, true)
		if err != nil {
			return err
		}
		st.MarkFailed(f)
		return putRepo(ctx, tx, st)
	})
}

// ForgetRepo deletes a repo's state, its indexed commits, the pending
// commits of its unfinished walks, its pending smart commits and its
// builds-and-deployments state (cursors and entries); its link records
// stay.
func (s *Store) ForgetRepo(k state.RepoKey) error {
	return s.tx("forget repo "+k.String(), func(ctx context.Context, tx pgx.Tx) error {
		for _, q := range []string{
			"DELETE FROM repos WHERE provider = $1 AND repo_id = $2",
			"DELETE FROM smart_pending WHERE provider = $1 AND repo_id = $2",
		} {
			if _, err := tx.Exec(ctx, q, k.Provider, k.ID); err != nil {
				return err
			}
		}
		if err := forgetCI(ctx, tx, k); err != nil {
			return err
		}
		return dropHistory(ctx, tx, k)
	})
}

// dropHistory deletes a repo's indexed commits and every unfinished walk's
// pending commits: a walk restarted later must not add to a stale one.
func dropHistory(ctx context.Context, tx pgx.Tx, k state.RepoKey) error {
	for _, q := range []string{
		"DELETE FROM commits WHERE provider = $1 AND repo_id = $2",
		"DELETE FROM walk_commits WHERE provider = $1 AND repo_id = $2",
	} {
		if _, err := tx.Exec(ctx, q, k.Provider, k.ID); err != nil {
			return err
		}
	}
	return nil
}

// ResetRepo forgets a repo's cursors and indexed commits but keeps its
// link records, and stores its new identity with empty cursors.
func (s *Store) ResetRepo(k state.RepoKey, r providers.Repo) error {
	return s.tx("reset repo "+k.String(), func(ctx context.Context, tx pgx.Tx) error {
		if err := dropHistory(ctx, tx, k); err != nil {
			return err
		}
		return putRepo(ctx, tx, state.RepoState{Key: k, Repo: r, Status: state.RepoPending})
	})
}

// Discovery returns the cached discovery result for key within provider.
func (s *Store) Discovery(provider, key string) (d state.Discovery, ok bool, err error) {
	ctx, cancel := s.ctx()
	defer cancel()
	var body []byte
	switch err := s.pool.QueryRow(ctx, "SELECT body FROM discovery WHERE provider = $1 AND key = $2", provider, key).Scan(&body); {
	case errors.Is(err, pgx.ErrNoRows):
		return d, false, nil
	case err != nil:
		return d, false, fmt.Errorf("pgstore: read discovery: %w", err)
	}
	if err := json.Unmarshal(body, &d); err != nil {
		return d, false, fmt.Errorf("pgstore: read discovery: %w", err)
	}
	return d, true, nil
}

// PutDiscovery caches a discovery result.
func (s *Store) PutDiscovery(provider, key string, d state.Discovery) error {
	body, err := json.Marshal(d)
	if err != nil {
		return fmt.Errorf("pgstore: put discovery: %w", err)
	}
	return s.tx("put discovery", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO discovery (provider, key, body) VALUES ($1, $2, $3)
			ON CONFLICT (provider, key) DO UPDATE SET body = EXCLUDED.body`, provider, key, body)
		return err
	})
}

// Probe is what Check finds out about a database, without changing it.
type Probe struct {
	// Version is the database's schema version (0: no jiralinkd tables
	// yet); Latest is this build's.
	Version, Latest int
	// CanCreate tells whether the role may create tables in its schema
	// (needed to create or upgrade the schema).
	CanCreate bool
	// Superuser warns of a role with more rights than jiralinkd needs.
	Superuser bool
	// Database, Schema and Role name where the DSN leads.
	Database, Schema, Role string
}

// Check connects to the database dsn names and reports its schema version
// and the role's rights, changing nothing. Errors never include the DSN.
func Check(ctx context.Context, dsn string) (Probe, error) {
	p := Probe{Latest: SchemaVersion()}
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return p, fmt.Errorf("pgstore: parse DSN: %w", errInvalidDSN)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return p, fmt.Errorf("pgstore: connect: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if err := conn.QueryRow(ctx, `SELECT current_database(), coalesce(current_schema(), ''), current_user,
			coalesce(has_schema_privilege(current_schema(), 'CREATE'), false),
			(SELECT rolsuper FROM pg_roles WHERE rolname = current_user)`).
		Scan(&p.Database, &p.Schema, &p.Role, &p.CanCreate, &p.Superuser); err != nil {
		return p, fmt.Errorf("pgstore: read the role's rights: %w", err)
	}
	var exists bool
	if err := conn.QueryRow(ctx, "SELECT to_regclass('schema_migrations') IS NOT NULL").Scan(&exists); err != nil {
		return p, fmt.Errorf("pgstore: read the schema version: %w", err)
	}
	if exists {
		if err := conn.QueryRow(ctx, "SELECT coalesce(max(version), 0) FROM schema_migrations").Scan(&p.Version); err != nil {
			return p, fmt.Errorf("pgstore: read the schema version: %w", err)
		}
	}
	return p, nil
}
