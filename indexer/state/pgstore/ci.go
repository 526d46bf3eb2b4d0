package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// CIState returns the builds-and-deployments cursors of a repo; ok is false
// if none were stored.
func (s *Store) CIState(k state.RepoKey) (st state.CIState, ok bool, err error) {
	ctx, cancel := s.ctx()
	defer cancel()
	var body []byte
	switch err := s.pool.QueryRow(ctx, "SELECT body FROM ci_state WHERE provider = $1 AND repo_id = $2", k.Provider, k.ID).Scan(&body); {
	case errors.Is(err, pgx.ErrNoRows):
		return st, false, nil
	case err != nil:
		return st, false, fmt.Errorf("pgstore: read CI state of %s: %w", k, err)
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return state.CIState{}, false, fmt.Errorf("pgstore: read CI state of %s: %w", k, err)
	}
	return st, true, nil
}

// CIEntries returns the stored entries among ids (absent ones are missing
// from the map).
func (s *Store) CIEntries(k state.RepoKey, ids []state.CIEntryID) (map[state.CIEntryID]state.CIEntry, error) {
	out := make(map[state.CIEntryID]state.CIEntry, len(ids))
	if len(ids) == 0 {
		return out, nil
	}
	kinds, names, issues := make([]string, len(ids)), make([]string, len(ids)), make([]string, len(ids))
	for i, id := range ids {
		kinds[i], names[i], issues[i] = string(id.Kind), id.Name, id.Issue
	}
	ctx, cancel := s.ctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT e.kind, e.name, e.issue, e.body
		FROM unnest($3::text[], $4::text[], $5::text[]) AS w(kind, name, issue)
		JOIN ci_entries e ON e.provider = $1 AND e.repo_id = $2 AND e.kind = w.kind AND e.name = w.name AND e.issue = w.issue`,
		k.Provider, k.ID, kinds, names, issues)
	if err != nil {
		return nil, fmt.Errorf("pgstore: read CI entries of %s: %w", k, err)
	}
	var kind, name, issue string
	var body []byte
	if _, err := pgx.ForEachRow(rows, []any{&kind, &name, &issue, &body}, func() error {
		var e state.CIEntry
		if err := json.Unmarshal(body, &e); err != nil {
			return err
		}
		out[state.CIEntryID{Kind: state.CIKind(kind), Name: name, Issue: issue}] = e
		return nil
	}); err != nil {
		return nil, fmt.Errorf("pgstore: read CI entries of %s: %w", k, err)
	}
	return out, nil
}

// putCIEntriesSQL upserts CI entries given as parallel arrays.
const putCIEntriesSQL = `INSERT INTO ci_entries (provider, repo_id, kind, name, issue, body)
	SELECT $1, $2, kind, name, issue, body FROM unnest($3::text[], $4::text[], $5::text[], $6::bytea[]) AS e(kind, name, issue, body)
	ON CONFLICT (provider, repo_id, kind, name, issue) DO UPDATE SET body = EXCLUDED.body`

// putCIStateSQL upserts a repo's CI state.
const putCIStateSQL = `INSERT INTO ci_state (provider, repo_id, body) VALUES ($1, $2, $3)
	ON CONFLICT (provider, repo_id) DO UPDATE SET body = EXCLUDED.body`

// ciEntryArrays is entries as the parallel arrays of putCIEntriesSQL.
func ciEntryArrays(entries []state.CIEntry) (kinds, names, issues []string, bodies [][]byte, err error) {
	for _, e := range entries {
		body, err := json.Marshal(e)
		if err != nil {
			return nil, nil, nil, nil, err
		}
		kinds, names, issues = append(kinds, string(e.ID.Kind)), append(names, e.ID.Name), append(issues, e.ID.Issue)
		bodies = append(bodies, body)
	}
	return kinds, names, issues, bodies, nil
}

// PutCI stores entries and st in one transaction.
func (s *Store) PutCI(st state.CIState, entries []state.CIEntry) error {
	body, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("pgstore: put CI state %s: %w", st.Key, err)
	}
	kinds, names, issues, bodies, err := ciEntryArrays(entries)
	if err != nil {
		return fmt.Errorf("pgstore: put CI state %s: %w", st.Key, err)
	}
	return s.tx("put CI state "+st.Key.String(), func(ctx context.Context, tx pgx.Tx) error {
		if len(entries) > 0 {
			if _, err := tx.Exec(ctx, putCIEntriesSQL, st.Key.Provider, st.Key.ID, kinds, names, issues, bodies); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, putCIStateSQL, st.Key.Provider, st.Key.ID, body)
		return err
	})
}

// ForgetCI drops a repo's CI state and entries.
func (s *Store) ForgetCI(k state.RepoKey) error {
	return s.tx("forget CI state "+k.String(), func(ctx context.Context, tx pgx.Tx) error {
		return forgetCI(ctx, tx, k)
	})
}

func forgetCI(ctx context.Context, tx pgx.Tx, k state.RepoKey) error {
	for _, q := range []string{
		"DELETE FROM ci_state WHERE provider = $1 AND repo_id = $2",
		"DELETE FROM ci_entries WHERE provider = $1 AND repo_id = $2",
	} {
		if _, err := tx.Exec(ctx, q, k.Provider, k.ID); err != nil {
			return err
		}
	}
	return nil
}

// CommitRange lists the indexed commits reachable from head and from none
// of stop, at most limit of them (truncated then reports that there were
// more). Commits that are not indexed are neither listed nor walked
// through: a head that is not indexed yields nothing.
//
// As in IsAncestor, the usual case (a linear stretch since the previous
// run or deployment) is answered by one recursive query following first
// parents, at most limit+1 index lookups; a range across a merge loads
// the repo's graph in one query and walks it in memory like the bbolt
// backend (which also walks everything the stop commits reach).
func (s *Store) CommitRange(k state.RepoKey, head string, stop []string, limit int) (shas []string, truncated bool, err error) {
	ctx, cancel := s.ctx()
	defer cancel()
	err = pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, func(tx pgx.Tx) error {
		chain, err := firstParentChain(ctx, tx, k, head, stop, limit)
		if err != nil {
			return err
		}
		if lin, ok := linearRange(chain, head, stop, limit); ok {
			shas = lin
			return nil
		}
		g, err := loadGraph(ctx, tx, k)
		if err != nil {
			return err
		}
		shas, truncated = commitRange(g, head, stop, limit)
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("pgstore: commit range of %s: %w", k, err)
	}
	return shas, truncated, nil
}

// firstParentChain reads the indexed commits on head's first-parent line
// up to a stop commit, a merge or a root, at most limit+1 of them.
func firstParentChain(ctx context.Context, q querier, k state.RepoKey, head string, stop []string, limit int) (graph, error) {
	rows, err := q.Query(ctx, `WITH RECURSIVE line(sha, parents, n) AS (
			SELECT c.sha, c.parents, 0 FROM commits c WHERE c.provider = $1 AND c.repo_id = $2 AND c.sha = $3
			UNION ALL
			SELECT c.sha, c.parents, line.n + 1 FROM line
			JOIN commits c ON c.provider = $1 AND c.repo_id = $2 AND c.sha = line.parents[1]
			WHERE cardinality(line.parents) = 1 AND NOT (line.sha = ANY($4::bytea[])) AND line.n < $5
		)
		SELECT sha, parents FROM line`, k.Provider, k.ID, state.SHAKey(head), shaKeys(stop), limit)
	if err != nil {
		return nil, err
	}
	g := graph{}
	var key []byte
	var parents [][]byte
	_, err = pgx.ForEachRow(rows, []any{&key, &parents}, func() error {
		g[string(key)] = slices.Clone(parents)
		return nil
	})
	return g, err
}

// linearRange follows first parents from head to one of stop in g. ok is
// false (and the general walk needed) when it meets a merge, a commit not
// in g, the history's root or more than limit commits before a stop
// commit.
func linearRange(g graph, head string, stop []string, limit int) (shas []string, ok bool) {
	isStop := make(map[string]bool, len(stop))
	for _, s := range stop {
		isStop[string(state.SHAKey(s))] = true
	}
	for c := string(state.SHAKey(head)); ; {
		if isStop[c] {
			return shas, true
		}
		ps, indexed := g[c]
		if !indexed || len(shas) == limit || len(ps) != 1 {
			return nil, false
		}
		shas = append(shas, state.SHAString([]byte(c)))
		c = string(ps[0])
	}
}

// commitRange is CommitRange's general walk over a repo's whole graph, in
// the order of the bbolt backend's.
func commitRange(g graph, head string, stop []string, limit int) (shas []string, truncated bool) {
	excluded := map[string]bool{}
	stack := shaKeys(stop)
	for len(stack) > 0 {
		c := string(stack[len(stack)-1])
		stack = stack[:len(stack)-1]
		if excluded[c] {
			continue
		}
		ps, ok := g[c]
		if !ok {
			continue
		}
		excluded[c] = true
		stack = append(stack, ps...)
	}
	seen := map[string]bool{}
	stack = [][]byte{state.SHAKey(head)}
	for len(stack) > 0 {
		c := string(stack[len(stack)-1])
		stack = stack[:len(stack)-1]
		if seen[c] || excluded[c] {
			continue
		}
		ps, ok := g[c]
		if !ok {
			continue
		}
		seen[c] = true
		if len(shas) == limit {
			return shas, true
		}
		shas = append(shas, state.SHAString([]byte(c)))
		stack = append(stack, ps...)
	}
	return shas, false
}
