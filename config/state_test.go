package config

import (
	"fmt"
	"slices"
	"strings"
	"testing"
)

func TestStatePostgres(t *testing.T) {
	const dsn = "postgres://jiralinkd:hunter2-pg-password@db:5432/jiralinkd"
	env := map[string]string{"PG_DSN": dsn}
	for k, v := range testEnv {
		env[k] = v
	}
	files := map[string]string{"/run/secrets/dsn": dsn + "\n"}
	for _, keys := range []string{"dsn_env: PG_DSN", "dsn_file: /run/secrets/dsn"} {
		doc := "state:\n  backend: postgres\n  postgres:\n    " + keys + "\n" + validJira + validProvider
		cfg := mustParse(t, doc, env, files)
		if cfg.State.Backend != BackendPostgres || cfg.State.Postgres.DSN.Reveal() != dsn {
			t.Errorf("%s: state = %+v, want postgres with the DSN", keys, cfg.State)
		}
		if s := fmt.Sprintf("%v %+v %#v", cfg, cfg, cfg); strings.Contains(s, "hunter2") {
			t.Errorf("%s: the DSN's password shows in the printed configuration", keys)
		}
	}
	if cfg := mustParse(t, validJira+validProvider, testEnv, nil); cfg.State.Backend != BackendBolt {
		t.Errorf("default backend = %q, want bbolt", cfg.State.Backend)
	}

	for _, tt := range []struct {
		doc  string
		want string
	}{
		{"state:\n  backend: postgres\n", "state.postgres.dsn_env: required"},
		{"state:\n  backend: mysql\n", "state.backend: must be one of bbolt, postgres"},
		{"state:\n  postgres:\n    dsn_env: PG_DSN\n", "state.postgres: set only with state.backend: postgres"},
		{"state:\n  backend: postgres\n  postgres:\n    dsn_env: NOPE\n", "state.postgres.dsn_env: environment variable NOPE is not set"},
	} {
		got := problems(t, tt.doc+validJira+validProvider, env, files)
		if !slices.ContainsFunc(got, func(p string) bool { return strings.HasPrefix(p, tt.want) }) {
			t.Errorf("%q: problems %q, want one starting %q", tt.doc, got, tt.want)
		}
		for _, p := range got {
			if strings.Contains(p, "hunter2") {
				t.Errorf("problem %q shows the DSN's password", p)
			}
		}
	}
}
