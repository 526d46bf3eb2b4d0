package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"

	"github.com/jackc/pgx/v5"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// Health returns the recorded health of every system, Jira first, then
// providers by name.
func (s *Store) Health() ([]state.Health, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, "SELECT body FROM health")
	if err != nil {
		return nil, fmt.Errorf("pgstore: read health: %w", err)
	}
	var out []state.Health
	var body []byte
	if _, err := pgx.ForEachRow(rows, []any{&body}, func() error {
		var h state.Health
		if err := json.Unmarshal(body, &h); err != nil {
			return err
		}
		out = append(out, h)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("pgstore: read health: %w", err)
	}
	sort.Slice(out, func(i, j int) bool {
		if (out[i].System == state.JiraSystem) != (out[j].System == state.JiraSystem) {
			return out[i].System == state.JiraSystem
		}
		return out[i].System < out[j].System
	})
	return out, nil
}

// UpdateHealth reads a system's health, lets fn change it and stores it, in
// one transaction holding the system's row lock (passes of several
// providers, on several replicas, update Jira's at once). fn may be
// called again if PostgreSQL aborts the transaction (a deadlock victim):
// each call gets the stored health, so fn should only change h.
func (s *Store) UpdateHealth(system string, fn func(*state.Health)) error {
	return s.tx("health of "+system, func(ctx context.Context, tx pgx.Tx) error {
		empty, err := json.Marshal(state.Health{System: system})
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, "INSERT INTO health (system, body) VALUES ($1, $2) ON CONFLICT (system) DO NOTHING", system, empty); err != nil {
			return err
		}
		var body []byte
		if err := tx.QueryRow(ctx, "SELECT body FROM health WHERE system = $1 FOR UPDATE", system).Scan(&body); err != nil {
			return err
		}
		var h state.Health
		if err := json.Unmarshal(body, &h); err != nil {
			return err
		}
		h.System = system
		fn(&h)
		if body, err = json.Marshal(h); err != nil {
			return err
		}
		_, err = tx.Exec(ctx, "UPDATE health SET body = $2 WHERE system = $1", system, body)
		return err
	})
}
