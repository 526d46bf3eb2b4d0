package pgstore

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// insertChunk is how many commits one INSERT statement carries (two
// parameters each; PostgreSQL allows 65535).
const insertChunk = 1000

// KnownCommits reports which of shas are already indexed for the repo. A
// commit is only recorded together with its whole ancestry, so a known
// commit's history never needs to be read again.
func (s *Store) KnownCommits(k state.RepoKey, shas []string) (map[string]bool, error) {
	known := make(map[string]bool, len(shas))
	if len(shas) == 0 {
		return known, nil
	}
	byKey := make(map[string][]string, len(shas))
	keys := make([][]byte, 0, len(shas))
	for _, sha := range shas {
		key := state.SHAKey(sha)
		if _, dup := byKey[string(key)]; !dup {
			keys = append(keys, key)
		}
		byKey[string(key)] = append(byKey[string(key)], sha)
	}
	ctx, cancel := s.ctx()
	defer cancel()
	// One index lookup per sha, whatever the planner's statistics say (a
	// plain sha = ANY($3) scanned the repo's commits when the table had
	// not been analyzed since a backfill: 30 ms to 230 ms for a page).
	rows, err := s.pool.Query(ctx, `SELECT c.sha FROM unnest($3::bytea[]) AS w(sha),
		LATERAL (SELECT sha FROM commits WHERE provider = $1 AND repo_id = $2 AND sha = w.sha OFFSET 0) AS c`, k.Provider, k.ID, keys)
	if err != nil {
		return nil, fmt.Errorf("pgstore: known commits of %s: %w", k, err)
	}
	var key []byte
	if _, err := pgx.ForEachRow(rows, []any{&key}, func() error {
		for _, sha := range byKey[string(key)] {
			known[sha] = true
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("pgstore: known commits of %s: %w", k, err)
	}
	return known, nil
}

// CommitCount is the number of indexed commits of the repo.
func (s *Store) CommitCount(k state.RepoKey) (int, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM commits WHERE provider = $1 AND repo_id = $2", k.Provider, k.ID).Scan(&n); err != nil {
		return 0, fmt.Errorf("pgstore: count commits of %s: %w", k, err)
	}
	return n, nil
}

// CheckpointWalk saves, in one transaction, commits walked on branch
// (their links are written) as the walk's pending commits, and st with its
// Walks checkpoint.
func (s *Store) CheckpointWalk(st state.RepoState, branch string, commits []state.Commit) error {
	return s.tx("checkpoint walk "+st.Key.String(), func(ctx context.Context, tx pgx.Tx) error {
		if len(commits) > 0 {
			keys, parents := make([][]byte, len(commits)), make([][]byte, len(commits))
			for i, c := range commits {
				keys[i], parents[i] = c.Key(), c.EncodedParents()
			}
			if _, err := tx.Exec(ctx, `INSERT INTO walk_commits (provider, repo_id, branch, sha, parents)
				SELECT $1, $2, $3, k, p FROM unnest($4::bytea[], $5::bytea[]) WITH ORDINALITY AS c(k, p, n) ORDER BY n`,
				st.Key.Provider, st.Key.ID, branch, keys, parents); err != nil {
				return err
			}
		}
		return putRepo(ctx, tx, st)
	})
}

// PendingCommits calls fn with every commit an unfinished walk of branch
// has already handled, in the order they were checkpointed.
func (s *Store) PendingCommits(k state.RepoKey, branch string, fn func(state.Commit)) error {
	ctx, cancel := s.ctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, "SELECT sha, parents FROM walk_commits WHERE provider = $1 AND repo_id = $2 AND branch = $3 ORDER BY seq",
		k.Provider, k.ID, branch)
	if err != nil {
		return fmt.Errorf("pgstore: pending commits of %s: %w", k, err)
	}
	var key, parents []byte
	if _, err := pgx.ForEachRow(rows, []any{&key, &parents}, func() error {
		fn(state.CommitFromRecord(key, parents))
		return nil
	}); err != nil {
		return fmt.Errorf("pgstore: pending commits of %s: %w", k, err)
	}
	return nil
}

// DiscardWalk drops an unfinished walk's pending commits (its branch moved
// or went away; the walk starts over).
func (s *Store) DiscardWalk(k state.RepoKey, branch string) error {
	return s.tx("discard walk "+k.String(), func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM walk_commits WHERE provider = $1 AND repo_id = $2 AND branch = $3", k.Provider, k.ID, branch)
		return err
	})
}

// AdvanceBranch records, in one transaction, that branch's walk is
// complete: its pending commits and commits (together a history closed
// under ancestry with the already indexed commits) become indexed, and st
// is saved with the advanced cursor. The statements go in one round trip
// (a pipelined batch); a walk that had checkpointed commits takes one more
// to index them.
func (s *Store) AdvanceBranch(st state.RepoState, branch string, commits []state.Commit) error {
	body, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("pgstore: advance cursor %s: %w", st.Key, err)
	}
	return s.tx("advance cursor "+st.Key.String(), func(ctx context.Context, tx pgx.Tx) error {
		k := st.Key
		b := &pgx.Batch{}
		b.Queue("DELETE FROM walk_commits WHERE provider = $1 AND repo_id = $2 AND branch = $3 RETURNING sha, parents", k.Provider, k.ID, branch)
		inserts := queueInsertCommits(b, k, commits)
		b.Queue(putRepoSQL, k.Provider, k.ID, body)
		br := tx.SendBatch(ctx, b)
		rows, err := br.Query()
		if err != nil {
			_ = br.Close()
			return err
		}
		var pending []state.Commit
		var key, parents []byte
		if _, err := pgx.ForEachRow(rows, []any{&key, &parents}, func() error {
			pending = append(pending, state.CommitFromRecord(key, parents))
			return nil
		}); err != nil {
			_ = br.Close()
			return err
		}
		for range inserts + 1 {
			if _, err := br.Exec(); err != nil {
				_ = br.Close()
				return err
			}
		}
		if err := br.Close(); err != nil {
			return err
		}
		if len(pending) == 0 {
			return nil
		}
		b = &pgx.Batch{}
		queueInsertCommits(b, k, pending)
		return tx.SendBatch(ctx, b).Close()
	})
}

// queueInsertCommits queues the statements adding commits to the indexed
// set (those already there are kept: a commit's parents never change),
// insertChunk per statement, in key order: concurrent writers of
// overlapping commits (two branches of a repo) then take the rows' locks
// in the same order and wait for each other rather than deadlock. It
// returns how many statements it queued.
func queueInsertCommits(b *pgx.Batch, k state.RepoKey, commits []state.Commit) int {
	commits = slices.Clone(commits)
	slices.SortFunc(commits, func(a, b state.Commit) int { return bytes.Compare(a.Key(), b.Key()) })
	n := 0
	for len(commits) > 0 {
		chunk := commits[:min(insertChunk, len(commits))]
		commits = commits[len(chunk):]
		var q strings.Builder
		q.WriteString("INSERT INTO commits (provider, repo_id, sha, parents) VALUES ")
		args := make([]any, 0, 2+2*len(chunk))
		args = append(args, k.Provider, k.ID)
		for i, c := range chunk {
			if i > 0 {
				q.WriteByte(',')
			}
			n := 3 + 2*i
			q.WriteString("($1,$2,$" + strconv.Itoa(n) + ",$" + strconv.Itoa(n+1) + ")")
			args = append(args, c.Key(), parentKeys(nil, c.EncodedParents()))
		}
		q.WriteString(" ON CONFLICT DO NOTHING")
		b.Queue(q.String(), args...)
		n++
	}
	return n
}

// parentKeys is state.AppendParentKeys, never nil (an empty array, not
// NULL, in a query).
func parentKeys(keys [][]byte, v []byte) [][]byte {
	if keys == nil {
		keys = [][]byte{}
	}
	return state.AppendParentKeys(keys, v)
}

// IsAncestor reports whether ancestor is reachable from any of from,
// following the stored parents of indexed commits. A near ancestor (a
// fast-forward, the usual case) is found by a recursive query in a few
// index lookups; a walk that reaches cteWalkLimit commits without an
// answer (a force-push: the whole history) loads the repo's graph in one
// query and finishes in memory, which is faster for long walks
// (BenchmarkGraphStrategies).
func (s *Store) IsAncestor(k state.RepoKey, ancestor string, from []string) (bool, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	found, err := isAncestorHybrid(ctx, s.pool, k, ancestor, from)
	if err != nil {
		return false, fmt.Errorf("pgstore: ancestry in %s: %w", k, err)
	}
	return found, nil
}

// cteWalkLimit is how many commits IsAncestor walks in the database before
// it loads the graph instead (about 25 ms of walking: a tenth of loading a
// 200,000-commit graph).
const cteWalkLimit = 10_000

func isAncestorHybrid(ctx context.Context, q querier, k state.RepoKey, ancestor string, from []string) (bool, error) {
	var answer int
	err := q.QueryRow(ctx, `WITH RECURSIVE walk(sha) AS (
			SELECT unnest($3::bytea[])
			UNION
			SELECT p.p FROM walk, LATERAL (
				SELECT unnest(c.parents) FROM commits c WHERE c.provider = $1 AND c.repo_id = $2 AND c.sha = walk.sha
			) AS p(p)
		)
		SELECT CASE
			WHEN EXISTS (SELECT 1 FROM (SELECT sha FROM walk LIMIT $5) AS w WHERE w.sha = $4) THEN 1
			WHEN (SELECT count(*) FROM (SELECT 1 FROM walk LIMIT $5) AS w) < $5 THEN 0
			ELSE -1
		END`,
		k.Provider, k.ID, shaKeys(from), state.SHAKey(ancestor), cteWalkLimit).Scan(&answer)
	if err != nil || answer >= 0 {
		return answer == 1, err
	}
	return isAncestorMem(ctx, q, k, ancestor, from)
}

// querier is a pool, a connection or a transaction.
type querier interface {
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

func shaKeys(shas []string) [][]byte {
	keys := make([][]byte, len(shas))
	for i, sha := range shas {
		keys[i] = state.SHAKey(sha)
	}
	return keys
}

// isAncestorCTE walks the whole ancestry with a recursive query (the
// recursive step is a LATERAL subquery: one index lookup per commit; see
// unreachableCTE), for comparison.
func isAncestorCTE(ctx context.Context, q querier, k state.RepoKey, ancestor string, from []string) (bool, error) {
	var found bool
	err := q.QueryRow(ctx, `WITH RECURSIVE walk(sha) AS (
			SELECT unnest($3::bytea[])
			UNION
			SELECT p.p FROM walk, LATERAL (
				SELECT unnest(c.parents) FROM commits c WHERE c.provider = $1 AND c.repo_id = $2 AND c.sha = walk.sha
			) AS p(p)
		)
		SELECT EXISTS (SELECT 1 FROM walk WHERE sha = $4)`,
		k.Provider, k.ID, shaKeys(from), state.SHAKey(ancestor)).Scan(&found)
	return found, err
}

// graph is a repo's indexed commits: binary key → parents' keys.
type graph map[string][][]byte

// loadGraph reads a repo's indexed commits in one query. The first
// parent comes as a plain bytea and only merges' other parents as an
// array: decoding an array per row doubled the time.
func loadGraph(ctx context.Context, q querier, k state.RepoKey) (graph, error) {
	rows, err := q.Query(ctx, `SELECT sha, parents[1], CASE WHEN cardinality(parents) > 1 THEN parents[2:] END
		FROM commits WHERE provider = $1 AND repo_id = $2`, k.Provider, k.ID)
	if err != nil {
		return nil, err
	}
	g := graph{}
	var key, first []byte
	var rest [][]byte
	_, err = pgx.ForEachRow(rows, []any{&key, &first, &rest}, func() error {
		var parents [][]byte
		if first != nil {
			parents = make([][]byte, 0, 1+len(rest))
			parents = append(append(parents, slices.Clone(first)), rest...)
		}
		g[string(key)] = parents
		rest = nil
		return nil
	})
	return g, err
}

// isAncestorMem walks the ancestry in memory, after loading the repo's
// whole graph.
func isAncestorMem(ctx context.Context, q querier, k state.RepoKey, ancestor string, from []string) (bool, error) {
	g, err := loadGraph(ctx, q, k)
	if err != nil {
		return false, err
	}
	want := string(state.SHAKey(ancestor))
	seen := map[string]bool{}
	stack := shaKeys(from)
	for len(stack) > 0 {
		c := string(stack[len(stack)-1])
		stack = stack[:len(stack)-1]
		if seen[c] {
			continue
		}
		seen[c] = true
		if c == want {
			return true, nil
		}
		stack = append(stack, g[c]...)
	}
	return false, nil
}

// Unreachable returns the indexed commits that no head reaches (heads
// that are not indexed commits are ignored). It reads every indexed commit
// anyway, so it loads the repo's graph in one query and walks it in
// memory: on a 200,000-commit history that measured about twice as fast as
// a recursive query (BenchmarkGraphStrategies).
func (s *Store) Unreachable(k state.RepoKey, heads []string) ([]string, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	out, err := unreachableMem(ctx, s.pool, k, heads)
	if err != nil {
		return nil, fmt.Errorf("pgstore: unreachable commits of %s: %w", k, err)
	}
	return out, nil
}

// unreachableMem loads the repo's graph in one query and walks it in
// memory.
func unreachableMem(ctx context.Context, q querier, k state.RepoKey, heads []string) ([]string, error) {
	g, err := loadGraph(ctx, q, k)
	if err != nil {
		return nil, err
	}
	return unreachable(g, heads), nil
}

func unreachable(g graph, heads []string) []string {
	seen := make(map[string]bool, len(g))
	stack := shaKeys(heads)
	for len(stack) > 0 {
		c := string(stack[len(stack)-1])
		stack = stack[:len(stack)-1]
		if seen[c] {
			continue
		}
		parents, ok := g[c]
		if !ok {
			continue
		}
		seen[c] = true
		stack = append(stack, parents...)
	}
	var out []string
	for key := range g {
		if !seen[key] {
			out = append(out, state.SHAString([]byte(key)))
		}
	}
	return out
}

// unreachableCTE finds the unreachable commits with a recursive query
// (the alternative Unreachable was measured against).
// The recursive step is a LATERAL subquery so that each commit's parents
// are one index lookup (a join lets the planner hash the whole table at
// every step: quadratic), and the difference is an EXCEPT (a hashed set
// operation; NOT EXISTS rescanned the walk for every commit).
func unreachableCTE(ctx context.Context, q querier, k state.RepoKey, heads []string) ([]string, error) {
	rows, err := q.Query(ctx, `WITH RECURSIVE walk(sha) AS (
			SELECT c.sha FROM commits c WHERE c.provider = $1 AND c.repo_id = $2 AND c.sha = ANY($3)
			UNION
			SELECT p.p FROM walk, LATERAL (
				SELECT unnest(c.parents) FROM commits c WHERE c.provider = $1 AND c.repo_id = $2 AND c.sha = walk.sha
			) AS p(p)
		)
		SELECT sha FROM commits WHERE provider = $1 AND repo_id = $2 EXCEPT SELECT sha FROM walk`,
		k.Provider, k.ID, shaKeys(heads))
	if err != nil {
		return nil, err
	}
	var out []string
	var key []byte
	_, err = pgx.ForEachRow(rows, []any{&key}, func() error { out = append(out, state.SHAString(key)); return nil })
	return out, err
}

// ForgetCommits drops commits from the indexed set (they became
// unreachable and their links were removed), and from the pending smart
// commits.
func (s *Store) ForgetCommits(k state.RepoKey, shas []string) error {
	if len(shas) == 0 {
		return nil
	}
	keys := shaKeys(shas)
	return s.tx("forget commits "+k.String(), func(ctx context.Context, tx pgx.Tx) error {
		for _, q := range []string{
			"DELETE FROM commits WHERE provider = $1 AND repo_id = $2 AND sha = ANY($3)",
			"DELETE FROM smart_pending WHERE provider = $1 AND repo_id = $2 AND sha = ANY($3)",
		} {
			if _, err := tx.Exec(ctx, q, k.Provider, k.ID, keys); err != nil {
				return err
			}
		}
		return nil
	})
}
