package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
)

// Ledger is the smart-commit ledger (smartcommit.Ledger) in the ledger
// table.
type Ledger struct {
	s *Store
}

// Ledger returns the store's smart-commit ledger.
func (s *Store) Ledger() smartcommit.Ledger { return &Ledger{s: s} }

// Get implements smartcommit.Ledger.
func (l *Ledger) Get(id string) (r smartcommit.Record, ok bool, err error) {
	ctx, cancel := l.s.ctx()
	defer cancel()
	var body []byte
	switch err := l.s.pool.QueryRow(ctx, "SELECT body FROM ledger WHERE id = $1", id).Scan(&body); {
	case errors.Is(err, pgx.ErrNoRows):
		return r, false, nil
	case err != nil:
		return r, false, fmt.Errorf("smartcommit: read %s: %w", id, err)
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return smartcommit.Record{}, false, fmt.Errorf("smartcommit: read %s: %w", id, err)
	}
	return r, true, nil
}

// Put implements smartcommit.Ledger: the records are stored, replacing
// those with the same ids, all or none (of the same id twice, the last).
func (l *Ledger) Put(recs ...smartcommit.Record) error {
	if len(recs) == 0 {
		return nil
	}
	last := make(map[string]int, len(recs))
	for i, r := range recs {
		if r.ID == "" {
			return fmt.Errorf("smartcommit: record %d command(s): record without id", len(recs))
		}
		last[r.ID] = i
	}
	// In id order: concurrent writers lock rows in the same order.
	ids := make([]string, 0, len(last))
	for id := range last {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, strings.Compare)
	issues, states, bodies := make([]string, len(ids)), make([]string, len(ids)), make([][]byte, len(ids))
	for i, id := range ids {
		r := recs[last[id]]
		b, err := json.Marshal(r)
		if err != nil {
			return fmt.Errorf("smartcommit: record %d command(s): %w", len(recs), err)
		}
		issues[i], states[i], bodies[i] = r.Issue, string(r.State), b
	}
	err := l.s.tx("ledger put", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO ledger (id, issue, state, body)
			SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bytea[])
			ON CONFLICT (id) DO UPDATE SET issue = EXCLUDED.issue, state = EXCLUDED.state, body = EXCLUDED.body`, ids, issues, states, bodies)
		return err
	})
	if err != nil {
		return fmt.Errorf("smartcommit: record %d command(s): %w", len(recs), err)
	}
	return nil
}

// list returns the records a query selects, in SortRecords order.
func (l *Ledger) list(what, q string, args ...any) ([]smartcommit.Record, error) {
	ctx, cancel := l.s.ctx()
	defer cancel()
	rows, err := l.s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("smartcommit: %s: %w", what, err)
	}
	var out []smartcommit.Record
	var body []byte
	if _, err := pgx.ForEachRow(rows, []any{&body}, func() error {
		var r smartcommit.Record
		if err := json.Unmarshal(body, &r); err != nil {
			return err
		}
		out = append(out, r)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("smartcommit: %s: %w", what, err)
	}
	smartcommit.SortRecords(out)
	return out, nil
}

// Pending implements smartcommit.Ledger.
func (l *Ledger) Pending() ([]smartcommit.Record, error) {
	return l.list("list pending commands", "SELECT body FROM ledger WHERE state = $1 ORDER BY id", string(smartcommit.StatePending))
}

// ByIssue implements smartcommit.Ledger.
func (l *Ledger) ByIssue(issue string) ([]smartcommit.Record, error) {
	if issue == "" {
		return l.list(`list commands of ""`, "SELECT body FROM ledger ORDER BY id")
	}
	return l.list(fmt.Sprintf("list commands of %q", issue), "SELECT body FROM ledger WHERE issue = $1 ORDER BY id", issue)
}

// CountFailed implements smartcommit.Ledger: the commands that failed for
// good.
func (l *Ledger) CountFailed() (int, error) {
	ctx, cancel := l.s.ctx()
	defer cancel()
	var n int
	if err := l.s.pool.QueryRow(ctx, "SELECT count(*) FROM ledger WHERE state = $1", string(smartcommit.StateFailed)).Scan(&n); err != nil {
		return 0, fmt.Errorf("smartcommit: count failed commands: %w", err)
	}
	return n, nil
}
