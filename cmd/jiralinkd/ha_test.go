package main

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore/pgtest"
)

// pgPassword is put in the test DSNs (the test cluster trusts local
// connections and ignores it): it must never show in any output.
const pgPassword = "hunter2-pg-secret"

// withPassword adds pgPassword to a pgtest DSN
// (postgres://postgres@host:port/db?…).
func withPassword(dsn string) string {
	return strings.Replace(dsn, "postgres://postgres@", "postgres://postgres:"+pgPassword+"@", 1)
}

// usePostgres points the fixture's state at a fresh PostgreSQL database.
func (f *fixture) usePostgres(t *testing.T, dsn string) {
	t.Helper()
	f.editConfig(t, "state:\n  path: "+filepath.Join(f.dir, "state.db"), "state:\n  backend: postgres\n  postgres:\n    dsn_env: PG_DSN")
	f.env["PG_DSN"] = dsn
}

func noPassword(t *testing.T, what, out string) {
	t.Helper()
	if strings.Contains(out, pgPassword) {
		t.Errorf("%s shows the DSN's password:\n%s", what, out)
	}
}

// TestPostgresBackendCLI: check, sync, a second sync and status against a
// PostgreSQL state, with the DSN's password nowhere in their output; an
// unreachable database fails with the setting named, not the DSN.
func TestPostgresBackendCLI(t *testing.T) {
	f := newFixture(t)
	f.usePostgres(t, withPassword(pgtest.Start(t)))
	ctx := context.Background()

	code, out := f.check(t)
	noPassword(t, "check", out)
	if !strings.Contains(out, "OK   state: postgres database") || !strings.Contains(out, "schema version 0; upgraded to") {
		t.Errorf("check (exit %d) does not report the fresh database:\n%s", code, out)
	}

	for i := range 2 {
		code, o, e := f.run(ctx, "sync", "--config", f.config)
		noPassword(t, "sync", o+e)
		if code != exitOK {
			t.Fatalf("sync %d: exit %d\n%s%s", i+1, code, o, e)
		}
	}
	if n := len(f.jira.Links("ABC-1")); n != 1 {
		t.Errorf("ABC-1 has %d links, want 1", n)
	}
	code, out = f.check(t)
	noPassword(t, "check", out)
	if !strings.Contains(out, "current)") {
		t.Errorf("check after sync (exit %d) does not report a current schema:\n%s", code, out)
	}
	code, o, e := f.run(ctx, "status", "--config", f.config)
	noPassword(t, "status", o+e)
	if code != exitOK || !strings.Contains(o+e, "acme/api") {
		t.Errorf("status: exit %d\n%s%s", code, o, e)
	}

	// An unreachable server: the errors name the setting, never the DSN.
	f.env["PG_DSN"] = withPassword("postgres://postgres@127.0.0.1:1/nope?sslmode=disable&connect_timeout=2")
	code, out = f.check(t)
	noPassword(t, "check of an unreachable database", out)
	if code != exitFailed || !strings.Contains(out, "FAIL state") || !strings.Contains(out, "state.postgres.dsn_env (PG_DSN)") {
		t.Errorf("check of an unreachable database: exit %d\n%s", code, out)
	}
	code, o, e = f.run(ctx, "sync", "--config", f.config)
	noPassword(t, "sync against an unreachable database", o+e)
	if code != exitFailed {
		t.Errorf("sync against an unreachable database: exit %d\n%s%s", code, o, e)
	}
}

// TestPostgresConfigErrors: a postgres backend without a DSN is a
// configuration error (exit 2) naming the key.
func TestPostgresConfigErrors(t *testing.T) {
	f := newFixture(t)
	f.editConfig(t, "state:\n  path: "+filepath.Join(f.dir, "state.db"), "state:\n  backend: postgres")
	code, o, e := f.run(context.Background(), "sync", "--config", f.config)
	if code != exitConfig || !strings.Contains(o+e, "state.postgres.dsn_env: required") {
		t.Errorf("exit %d, want %d naming state.postgres.dsn_env\n%s%s", code, exitConfig, o, e)
	}
}
