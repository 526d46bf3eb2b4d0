package pgstore

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// FindingSalt returns the salt of finding fingerprints, creating a random
// one on first use. It never changes afterwards (replicas creating it
// together agree on the first one stored), so fingerprints stay comparable
// across scans.
func (s *Store) FindingSalt() ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, fmt.Errorf("pgstore: create the finding salt: %w", err)
	}
	var salt []byte
	err := s.tx("read the finding salt", func(ctx context.Context, tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, "INSERT INTO finding_salt (salt) VALUES ($1) ON CONFLICT DO NOTHING", fresh); err != nil {
			return err
		}
		return tx.QueryRow(ctx, "SELECT salt FROM finding_salt").Scan(&salt)
	})
	return salt, err
}

// ScanCursor returns the scan progress of a project.
func (s *Store) ScanCursor(project string) (c state.ScanCursor, ok bool, err error) {
	ctx, cancel := s.ctx()
	defer cancel()
	var body []byte
	switch err := s.pool.QueryRow(ctx, "SELECT body FROM scan_cursors WHERE project = $1", project).Scan(&body); {
	case errors.Is(err, pgx.ErrNoRows):
		return c, false, nil
	case err != nil:
		return c, false, fmt.Errorf("pgstore: scan cursor of %s: %w", project, err)
	}
	if err := json.Unmarshal(body, &c); err != nil {
		return state.ScanCursor{}, false, fmt.Errorf("pgstore: scan cursor of %s: %w", project, err)
	}
	return c, true, nil
}

// ScanCursors returns the scan progress of every project scanned so far,
// ordered by project.
func (s *Store) ScanCursors() ([]state.ScanCursor, error) {
	var out []state.ScanCursor
	err := s.each("scan cursors", "SELECT body FROM scan_cursors ORDER BY project", nil, func(body []byte) error {
		var c state.ScanCursor
		if err := json.Unmarshal(body, &c); err != nil {
			return err
		}
		out = append(out, c)
		return nil
	})
	return out, err
}

// each calls fn with the single bytea column of every row q returns.
func (s *Store) each(what, q string, args []any, fn func(body []byte) error) error {
	ctx, cancel := s.ctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("pgstore: %s: %w", what, err)
	}
	var body []byte
	if _, err := pgx.ForEachRow(rows, []any{&body}, func() error { return fn(body) }); err != nil {
		return fmt.Errorf("pgstore: %s: %w", what, err)
	}
	return nil
}

const putScanCursorSQL = `INSERT INTO scan_cursors (project, body) VALUES ($1, $2)
	ON CONFLICT (project) DO UPDATE SET body = EXCLUDED.body`

// PutScanCursor stores a project's scan progress.
func (s *Store) PutScanCursor(c state.ScanCursor) error {
	body, err := json.Marshal(c)
	if err != nil {
		return fmt.Errorf("pgstore: store the scan cursor of %s: %w", c.Project, err)
	}
	return s.tx("store the scan cursor of "+c.Project, func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, putScanCursorSQL, c.Project, body)
		return err
	})
}

// findingIssue is the issue part of a finding id (upper case).
func findingIssue(id string) string {
	issue, _, _ := strings.Cut(id, "\x00")
	return issue
}

const putFindingsSQL = `INSERT INTO findings (id, issue, state, body)
	SELECT id, issue, state, body FROM unnest($1::bytea[], $2::text[], $3::text[], $4::bytea[]) AS f(id, issue, state, body)
	ON CONFLICT (id) DO UPDATE SET issue = EXCLUDED.issue, state = EXCLUDED.state, body = EXCLUDED.body`

// findingArrays is fs as the parallel arrays of putFindingsSQL.
func findingArrays(fs []state.Finding) (ids [][]byte, issues, states []string, bodies [][]byte, err error) {
	for _, f := range fs {
		body, err := json.Marshal(f)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		ids, issues, states = append(ids, []byte(f.ID)), append(issues, findingIssue(f.ID)), append(states, string(f.State))
		bodies = append(bodies, body)
	}
	return ids, issues, states, bodies, nil
}

// PutIssueFindings records what a scan of one issue found, in one
// transaction. A finding already known keeps its FirstSeen and becomes
// open again if it was resolved; a new one is stored open. When complete
// (every field and comment of the issue was scanned in full), the issue's
// open findings not in found become resolved at now. It returns the
// findings that are new or reopened.
func (s *Store) PutIssueFindings(issue string, found []state.Finding, complete bool, now time.Time) ([]state.Finding, error) {
	var fresh []state.Finding
	err := s.tx("record the findings of "+issue, func(ctx context.Context, tx pgx.Tx) error {
		fresh = nil
		ids := make([][]byte, len(found))
		for i, f := range found {
			ids[i] = []byte(f.ID)
		}
		// The issue's findings, locked: a concurrent scan of the issue waits.
		rows, err := tx.Query(ctx, "SELECT id, body FROM findings WHERE issue = $1 OR id = ANY($2) ORDER BY id FOR UPDATE",
			strings.ToUpper(issue), ids)
		if err != nil {
			return err
		}
		old := map[string]state.Finding{}
		var order []string
		var id, body []byte
		if _, err := pgx.ForEachRow(rows, []any{&id, &body}, func() error {
			var f state.Finding
			if err := json.Unmarshal(body, &f); err != nil {
				return err
			}
			old[string(id)] = f
			order = append(order, string(id))
			return nil
		}); err != nil {
			return err
		}
		var put []state.Finding
		seen := make(map[string]bool, len(found))
		for _, f := range found {
			seen[f.ID] = true
			if o, ok := old[f.ID]; ok {
				f.FirstSeen = o.FirstSeen
				if o.State == state.FindingResolved {
					fresh = append(fresh, f)
				}
			} else {
				f.FirstSeen = now
				fresh = append(fresh, f)
			}
			f.State, f.LastSeen, f.ResolvedAt = state.FindingOpen, now, time.Time{}
			old[f.ID] = f // a finding listed twice is stored once, as its last listing
			put = append(put, f)
		}
		if complete {
			prefix := state.FindingIssuePrefix(issue)
			for _, id := range order {
				f := old[id]
				if seen[id] || !strings.HasPrefix(id, prefix) || f.State != state.FindingOpen {
					continue
				}
				f.State, f.ResolvedAt = state.FindingResolved, now
				put = append(put, f)
			}
		}
		put = lastByID(put)
		if len(put) == 0 {
			return nil
		}
		ids, issues, states, bodies, err := findingArrays(put)
		if err != nil {
			return err
		}
		_, err = tx.Exec(ctx, putFindingsSQL, ids, issues, states, bodies)
		return err
	})
	return fresh, err
}

// lastByID keeps, of findings with the same id, the last one (an upsert
// may not touch a row twice).
func lastByID(fs []state.Finding) []state.Finding {
	at := make(map[string]int, len(fs))
	var out []state.Finding
	for _, f := range fs {
		if i, ok := at[f.ID]; ok {
			out[i] = f
			continue
		}
		at[f.ID] = len(out)
		out = append(out, f)
	}
	return out
}

// Findings returns the findings the filter selects, in id order (by
// issue, then location).
func (s *Store) Findings(q state.FindingFilter) ([]state.Finding, error) {
	sql, args := "SELECT body FROM findings", []any{}
	var where []string
	if q.Issue != "" {
		args = append(args, strings.ToUpper(q.Issue))
		where = append(where, fmt.Sprintf("issue = $%d", len(args)))
	}
	if q.State != "" {
		args = append(args, string(q.State))
		where = append(where, fmt.Sprintf("state = $%d", len(args)))
	}
	if len(where) > 0 {
		sql += " WHERE " + strings.Join(where, " AND ")
	}
	sql += " ORDER BY id"
	var out []state.Finding
	errEnough := errors.New("enough")
	err := s.each("findings", sql, args, func(body []byte) error {
		var f state.Finding
		if err := json.Unmarshal(body, &f); err != nil {
			return err
		}
		if !q.Matches(f) {
			return nil
		}
		out = append(out, f)
		if q.Limit > 0 && len(out) >= q.Limit {
			return errEnough
		}
		return nil
	})
	if err != nil && !errors.Is(err, errEnough) {
		return nil, err
	}
	return out, nil
}

// FindingAction returns the ledger entry of an action.
func (s *Store) FindingAction(id string) (a state.FindingAction, ok bool, err error) {
	ctx, cancel := s.ctx()
	defer cancel()
	var body []byte
	switch err := s.pool.QueryRow(ctx, "SELECT body FROM finding_actions WHERE id = $1", []byte(id)).Scan(&body); {
	case errors.Is(err, pgx.ErrNoRows):
		return a, false, nil
	case err != nil:
		return a, false, fmt.Errorf("pgstore: finding action: %w", err)
	}
	if err := json.Unmarshal(body, &a); err != nil {
		return state.FindingAction{}, false, fmt.Errorf("pgstore: finding action: %w", err)
	}
	return a, true, nil
}

const putFindingActionsSQL = `INSERT INTO finding_actions (id, state, body)
	SELECT id, state, body FROM unnest($1::bytea[], $2::text[], $3::bytea[]) AS a(id, state, body)
	ON CONFLICT (id) DO UPDATE SET state = EXCLUDED.state, body = EXCLUDED.body`

// findingActionArrays is as as the parallel arrays of
// putFindingActionsSQL, the last of entries with the same id winning (as
// in a sequence of puts).
func findingActionArrays(as []state.FindingAction) (ids [][]byte, states []string, bodies [][]byte, err error) {
	at := map[string]int{}
	for _, a := range as {
		body, err := json.Marshal(a)
		if err != nil {
			return nil, nil, nil, err
		}
		if i, ok := at[a.ID]; ok {
			states[i], bodies[i] = string(a.State), body
			continue
		}
		at[a.ID] = len(ids)
		ids, states, bodies = append(ids, []byte(a.ID)), append(states, string(a.State)), append(bodies, body)
	}
	return ids, states, bodies, nil
}

// PutFindingActions stores ledger entries, all or none.
func (s *Store) PutFindingActions(as ...state.FindingAction) error {
	if len(as) == 0 {
		return nil
	}
	ids, states, bodies, err := findingActionArrays(as)
	if err != nil {
		return fmt.Errorf("pgstore: record finding actions: %w", err)
	}
	return s.tx("record finding actions", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, putFindingActionsSQL, ids, states, bodies)
		return err
	})
}

// FindingActions returns the ledger entries in the given state ("" for
// all), in id order.
func (s *Store) FindingActions(st state.ActionState) ([]state.FindingAction, error) {
	sql, args := "SELECT body FROM finding_actions ORDER BY id", []any(nil)
	if st != "" {
		sql, args = "SELECT body FROM finding_actions WHERE state = $1 ORDER BY id", []any{string(st)}
	}
	var out []state.FindingAction
	err := s.each("finding actions", sql, args, func(body []byte) error {
		var a state.FindingAction
		if err := json.Unmarshal(body, &a); err != nil {
			return err
		}
		out = append(out, a)
		return nil
	})
	return out, err
}
