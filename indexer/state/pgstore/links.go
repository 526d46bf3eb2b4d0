package pgstore

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// prefixEnd is an upper bound of the strings starting with prefix, for an
// index range scan (text columns compare bytewise: "C" collation).
func prefixEnd(prefix string) string { return prefix + "\U0010FFFF" }

// LinkHashes returns the stored content hash of each link that is known to
// be in Jira (absent links are missing from the map).
func (s *Store) LinkHashes(links []state.Link) (map[state.Link]uint64, error) {
	out := make(map[state.Link]uint64, len(links))
	if len(links) == 0 {
		return out, nil
	}
	gids, issues := make([]string, len(links)), make([]string, len(links))
	for i, l := range links {
		gids[i], issues[i] = l.GlobalID, l.Issue
	}
	ctx, cancel := s.ctx()
	defer cancel()
	// One index lookup per link (see KnownCommits).
	rows, err := s.pool.Query(ctx, `SELECT l.global_id, l.issue, l.hash FROM unnest($1::text[], $2::text[]) AS w(g, i),
		LATERAL (SELECT global_id, issue, hash FROM links WHERE global_id = w.g AND issue = w.i OFFSET 0) AS l`, gids, issues)
	if err != nil {
		return nil, fmt.Errorf("pgstore: read link hashes: %w", err)
	}
	var l state.Link
	var h int64
	if _, err := pgx.ForEachRow(rows, []any{&l.GlobalID, &l.Issue, &h}, func() error { out[l] = uint64(h); return nil }); err != nil {
		return nil, fmt.Errorf("pgstore: read link hashes: %w", err)
	}
	return out, nil
}

// PutLinks records links written to Jira.
func (s *Store) PutLinks(links map[state.Link]state.LinkRecord) error {
	if len(links) == 0 {
		return nil
	}
	// In key order: concurrent writers of overlapping links lock rows in
	// the same order, so they wait for each other instead of deadlocking.
	keys := slices.SortedFunc(maps.Keys(links), func(a, b state.Link) int {
		return cmp.Or(strings.Compare(a.GlobalID, b.GlobalID), strings.Compare(a.Issue, b.Issue))
	})
	gids, issues := make([]string, 0, len(links)), make([]string, 0, len(links))
	hashes, infos := make([]int64, 0, len(links)), make([][]byte, 0, len(links))
	for _, l := range keys {
		r := links[l]
		info, err := json.Marshal(r.Info)
		if err != nil {
			return fmt.Errorf("pgstore: record links: %w", err)
		}
		gids, issues = append(gids, l.GlobalID), append(issues, l.Issue)
		hashes, infos = append(hashes, int64(r.Hash)), append(infos, info)
	}
	return s.tx("record links", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO links (global_id, issue, hash, info)
			SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bytea[])
			ON CONFLICT (global_id, issue) DO UPDATE SET hash = EXCLUDED.hash, info = EXCLUDED.info`, gids, issues, hashes, infos)
		return err
	})
}

// IssueLinks returns what jiralinkd linked to an issue, ordered by globalId.
func (s *Store) IssueLinks(issue string) ([]state.IssueLink, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, "SELECT global_id, info FROM links WHERE issue = $1 ORDER BY global_id", issue)
	if err != nil {
		return nil, fmt.Errorf("pgstore: links of %s: %w", issue, err)
	}
	var out []state.IssueLink
	var gid string
	var info []byte
	if _, err := pgx.ForEachRow(rows, []any{&gid, &info}, func() error {
		il := state.IssueLink{Link: state.Link{GlobalID: gid, Issue: issue}}
		if len(info) > 0 {
			if err := json.Unmarshal(info, &il.LinkInfo); err != nil {
				return err
			}
		}
		out = append(out, il)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("pgstore: links of %s: %w", issue, err)
	}
	return out, nil
}

// LinksOf returns the issues linked to an entity's globalId, ordered by
// issue.
func (s *Store) LinksOf(globalID string) ([]state.Link, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, "SELECT issue FROM links WHERE global_id = $1 ORDER BY issue", globalID)
	if err != nil {
		return nil, fmt.Errorf("pgstore: links of %s: %w", globalID, err)
	}
	var out []state.Link
	var issue string
	if _, err := pgx.ForEachRow(rows, []any{&issue}, func() error {
		out = append(out, state.Link{GlobalID: globalID, Issue: issue})
		return nil
	}); err != nil {
		return nil, fmt.Errorf("pgstore: links of %s: %w", globalID, err)
	}
	return out, nil
}

// DeleteLinks forgets links that were removed from Jira.
func (s *Store) DeleteLinks(links []state.Link) error {
	if len(links) == 0 {
		return nil
	}
	gids, issues := make([]string, len(links)), make([]string, len(links))
	for i, l := range links {
		gids[i], issues[i] = l.GlobalID, l.Issue
	}
	return s.tx("forget links", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM links l USING unnest($1::text[], $2::text[]) AS w(g, i)
			WHERE l.global_id = w.g AND l.issue = w.i`, gids, issues)
		return err
	})
}

// AllLinks calls fn for every recorded link, ordered by globalId then
// issue. The links are read first, so fn may use the store.
func (s *Store) AllLinks(fn func(state.Link) error) error {
	ctx, cancel := s.ctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, "SELECT global_id, issue FROM links ORDER BY global_id, issue")
	if err != nil {
		return fmt.Errorf("pgstore: read links: %w", err)
	}
	var all []state.Link
	var l state.Link
	if _, err := pgx.ForEachRow(rows, []any{&l.GlobalID, &l.Issue}, func() error { all = append(all, l); return nil }); err != nil {
		return fmt.Errorf("pgstore: read links: %w", err)
	}
	for _, l := range all {
		if err := fn(l); err != nil {
			return err
		}
	}
	return nil
}

// GlobalIDsWithPrefix returns the distinct globalIds starting with prefix
// (all entities of one repo share a prefix), in order.
func (s *Store) GlobalIDsWithPrefix(prefix string) ([]string, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT global_id FROM links
		WHERE global_id >= $1 AND global_id < $2 AND starts_with(global_id, $1) ORDER BY global_id`, prefix, prefixEnd(prefix))
	if err != nil {
		return nil, fmt.Errorf("pgstore: globalIds under %s: %w", prefix, err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("pgstore: globalIds under %s: %w", prefix, err)
	}
	return out, nil
}

// RepoLinks calls fn with every link record whose globalId starts with
// prefix (all the links of one repo share one), ordered by globalId then
// issue. The records are read first, so fn may use the store; fn's error
// stops the scan and is returned as is.
func (s *Store) RepoLinks(prefix string, fn func(state.Link, state.LinkRecord) error) error {
	type rec struct {
		l state.Link
		r state.LinkRecord
	}
	var all []rec
	ctx, cancel := s.ctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT global_id, issue, hash, info FROM links
		WHERE global_id >= $1 AND global_id < $2 AND starts_with(global_id, $1) ORDER BY global_id, issue`, prefix, prefixEnd(prefix))
	if err != nil {
		return fmt.Errorf("pgstore: links under %s: %w", prefix, err)
	}
	var l state.Link
	var h int64
	var info []byte
	if _, err := pgx.ForEachRow(rows, []any{&l.GlobalID, &l.Issue, &h, &info}, func() error {
		r := state.LinkRecord{Hash: uint64(h)}
		if len(info) > 0 {
			if err := json.Unmarshal(info, &r.Info); err != nil {
				return err
			}
		}
		all = append(all, rec{l, r})
		return nil
	}); err != nil {
		return fmt.Errorf("pgstore: links under %s: %w", prefix, err)
	}
	for _, x := range all {
		if err := fn(x.l, x.r); err != nil {
			return err
		}
	}
	return nil
}

// Issues returns cached statuses for the keys that have one.
func (s *Store) Issues(keys []string) (map[string]state.IssueStatus, error) {
	out := make(map[string]state.IssueStatus, len(keys))
	if len(keys) == 0 {
		return out, nil
	}
	ctx, cancel := s.ctx()
	defer cancel()
	rows, err := s.pool.Query(ctx, `SELECT i.key, i.body FROM unnest($1::text[]) AS w(k),
		LATERAL (SELECT key, body FROM issues WHERE key = w.k OFFSET 0) AS i`, keys)
	if err != nil {
		return nil, fmt.Errorf("pgstore: read issues: %w", err)
	}
	var key string
	var body []byte
	if _, err := pgx.ForEachRow(rows, []any{&key, &body}, func() error {
		var st state.IssueStatus
		if err := json.Unmarshal(body, &st); err != nil {
			return err
		}
		out[key] = st
		return nil
	}); err != nil {
		return nil, fmt.Errorf("pgstore: read issues: %w", err)
	}
	return out, nil
}

// PutIssues caches issue statuses.
func (s *Store) PutIssues(st map[string]state.IssueStatus) error {
	if len(st) == 0 {
		return nil
	}
	keys := slices.Sorted(maps.Keys(st)) // lock order: see PutLinks
	bodies := make([][]byte, 0, len(st))
	for _, k := range keys {
		b, err := json.Marshal(st[k])
		if err != nil {
			return fmt.Errorf("pgstore: cache issues: %w", err)
		}
		bodies = append(bodies, b)
	}
	return s.tx("cache issues", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, `INSERT INTO issues (key, body) SELECT * FROM unnest($1::text[], $2::bytea[])
			ON CONFLICT (key) DO UPDATE SET body = EXCLUDED.body`, keys, bodies)
		return err
	})
}
