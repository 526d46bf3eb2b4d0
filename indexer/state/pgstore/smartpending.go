package pgstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// AddSmartPending records commits whose commands have not run, in the
// given order (oldest first). A commit already recorded keeps its record.
func (s *Store) AddSmartPending(k state.RepoKey, cs []state.SmartPending) error {
	if len(cs) == 0 {
		return nil
	}
	keys, bodies := make([][]byte, len(cs)), make([][]byte, len(cs))
	for i, c := range cs {
		c.Seq = 0 // the row's seq is the record's
		b, err := json.Marshal(c)
		if err != nil {
			return fmt.Errorf("pgstore: record pending smart commits %s: %w", k, err)
		}
		keys[i], bodies[i] = state.SHAKey(c.SHA), b
	}
	return s.tx("record pending smart commits "+k.String(), func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO smart_pending (provider, repo_id, sha, body)
			SELECT $1, $2, k, b FROM unnest($3::bytea[], $4::bytea[]) WITH ORDINALITY AS c(k, b, n) ORDER BY n
			ON CONFLICT (provider, repo_id, sha) DO NOTHING`, k.Provider, k.ID, keys, bodies)
		return err
	})
}

// readSmartPending returns the repo's pending commits by binary SHA.
func readSmartPending(ctx context.Context, q querier, k state.RepoKey) (map[string]state.SmartPending, error) {
	rows, err := q.Query(ctx, "SELECT sha, seq, body FROM smart_pending WHERE provider = $1 AND repo_id = $2", k.Provider, k.ID)
	if err != nil {
		return nil, err
	}
	out := map[string]state.SmartPending{}
	var key, body []byte
	var seq int64
	_, err = pgx.ForEachRow(rows, []any{&key, &seq, &body}, func() error {
		var p state.SmartPending
		if err := json.Unmarshal(body, &p); err != nil {
			return fmt.Errorf("pending smart commit %s: %w", state.SHAString(key), err)
		}
		p.Seq = uint64(seq)
		out[string(key)] = p
		return nil
	})
	return out, err
}

// SmartPendingCommits returns the repo's commits with commands not run
// yet, oldest first.
func (s *Store) SmartPendingCommits(k state.RepoKey) ([]state.SmartPending, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	all, err := readSmartPending(ctx, s.pool, k)
	if err != nil {
		return nil, fmt.Errorf("pgstore: read pending smart commits of %s: %w", k, err)
	}
	var out []state.SmartPending
	for _, p := range all {
		out = append(out, p)
	}
	state.SortSmartPending(out)
	return out, nil
}

// SmartPendingReachable returns, oldest first, the pending commits (see
// AddSmartPending) reachable from head, following the stored parents of
// indexed commits, of the commits of branch's unfinished walk (if any),
// and of walked, commits not stored yet. Parents of the commits in stop
// (the branch's previous head) are not followed. With none pending it
// reads nothing else.
//
// The commits not stored yet (walked, the walk's) are searched in memory;
// the indexed ones they lead to in the database, with a recursive query
// (indexed commits only have indexed parents).
func (s *Store) SmartPendingReachable(k state.RepoKey, branch, head string, stop []string, walked []state.Commit) ([]state.SmartPending, error) {
	var out []state.SmartPending
	err := s.read("find pending smart commits of "+k.String(), func(ctx context.Context, tx pgx.Tx) error {
		want, err := readSmartPending(ctx, tx, k)
		if err != nil || len(want) == 0 {
			return err
		}
		extra := make(map[string][]byte, len(walked))
		for _, c := range walked {
			extra[string(c.Key())] = c.EncodedParents()
		}
		rows, err := tx.Query(ctx, "SELECT sha, parents FROM walk_commits WHERE provider = $1 AND repo_id = $2 AND branch = $3",
			k.Provider, k.ID, branch)
		if err != nil {
			return err
		}
		var key, parents []byte
		if _, err := pgx.ForEachRow(rows, []any{&key, &parents}, func() error {
			extra[string(key)] = slices.Clone(parents)
			return nil
		}); err != nil {
			return err
		}
		halt := make(map[string]bool, len(stop))
		for _, sha := range stop {
			halt[string(state.SHAKey(sha))] = true
		}
		// In memory through the commits not stored yet; the others are
		// the starts of the search in the database.
		seen, found := map[string]bool{}, map[string]bool{}
		var starts [][]byte
		stack := [][]byte{state.SHAKey(head)}
		for len(stack) > 0 && len(out) < len(want) {
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[string(c)] {
				continue
			}
			seen[string(c)] = true
			v, ok := extra[string(c)]
			if !ok {
				starts = append(starts, c)
				continue
			}
			if p, ok := want[string(c)]; ok {
				found[string(c)] = true
				out = append(out, p)
			}
			if halt[string(c)] {
				continue
			}
			stack = parentKeys(stack, v)
		}
		if len(starts) == 0 || len(out) == len(want) {
			return nil
		}
		haltKeys := make([][]byte, 0, len(halt))
		for h := range halt {
			haltKeys = append(haltKeys, []byte(h))
		}
		// The starts (whether indexed or not: an unknown start is itself
		// a candidate, as in the bbolt backend) and the indexed commits
		// they reach, not going past stop commits: in the database for up
		// to cteWalkLimit commits (a fast-forward), then, if the walk goes
		// on (a pending commit the branch never reaches makes it read the
		// whole history), in memory over the repo's graph loaded at once.
		rows, err = tx.Query(ctx, `WITH RECURSIVE walk(sha) AS (
				SELECT unnest($3::bytea[])
				UNION
				SELECT p.p FROM walk, LATERAL (
					SELECT unnest(c.parents) FROM commits c WHERE c.provider = $1 AND c.repo_id = $2 AND c.sha = walk.sha
				) AS p(p)
				WHERE NOT walk.sha = ANY($4::bytea[])
			)
			SELECT sha FROM walk LIMIT $5`,
			k.Provider, k.ID, starts, haltKeys, cteWalkLimit)
		if err != nil {
			return err
		}
		take := func(key []byte) {
			if p, ok := want[string(key)]; ok && !found[string(key)] {
				found[string(key)] = true
				out = append(out, p)
			}
		}
		walkedN := 0
		if _, err := pgx.ForEachRow(rows, []any{&key}, func() error { walkedN++; take(key); return nil }); err != nil {
			return err
		}
		if walkedN < cteWalkLimit || len(out) == len(want) {
			return nil
		}
		g, err := loadGraph(ctx, tx, k)
		if err != nil {
			return err
		}
		visited := map[string]bool{}
		stack = starts
		for len(stack) > 0 && len(out) < len(want) {
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if visited[string(c)] {
				continue
			}
			visited[string(c)] = true
			take(c)
			if halt[string(c)] {
				continue
			}
			stack = append(stack, g[string(c)]...)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	state.SortSmartPending(out)
	return out, nil
}

// DropSmartPending forgets pending commits: their commands ran, or the
// commits were forgotten.
func (s *Store) DropSmartPending(k state.RepoKey, shas []string) error {
	if len(shas) == 0 {
		return nil
	}
	return s.tx("drop pending smart commits "+k.String(), func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM smart_pending WHERE provider = $1 AND repo_id = $2 AND sha = ANY($3)", k.Provider, k.ID, shaKeys(shas))
		return err
	})
}
