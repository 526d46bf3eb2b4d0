package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// Source is a state to import (jiralinkd state migrate): what a backend
// enumerates. boltstore.Store implements it, also when opened read-only.
type Source interface {
	Repos() ([]state.RepoState, error)
	EachDiscovery(fn func(provider, key string, d state.Discovery) error) error
	EachCommits(fn func(k state.RepoKey, commits []state.Commit) error) error
	EachPendingWalk(fn func(k state.RepoKey, branch string, commits []state.Commit) error) error
	// RepoLinks with prefix "" calls fn for every link record.
	RepoLinks(prefix string, fn func(state.Link, state.LinkRecord) error) error
	EachIssue(fn func(key string, st state.IssueStatus) error) error
	Health() ([]state.Health, error)
	// Pending with limit 0 is the whole webhook queue, oldest first.
	Pending(limit int) ([]state.Delivery, error)
	EachDelivery(fn func(provider, id string, received time.Time) error) error
	Ledger() smartcommit.Ledger
	EachSmartPending(fn func(k state.RepoKey, ps []state.SmartPending) error) error
	EachCI(fn func(st state.CIState, ok bool, entries []state.CIEntry) error) error
	StoredFindingSalt() ([]byte, error)
	ScanCursors() ([]state.ScanCursor, error)
	Findings(q state.FindingFilter) ([]state.Finding, error)
	FindingActions(st state.ActionState) ([]state.FindingAction, error)
	EachRouteDrop(fn func(d state.RouteDrop) error) error
}

// ImportCount is what an import did with one kind of item.
type ImportCount struct {
	Kind string `json:"kind"`
	// Source is how many items the source holds.
	Source int `json:"source"`
	// Added were copied (or would have been, with ErrDiverged); Same were
	// already in the database as in the source; Kept are in the database
	// with other content (its state moved on since an earlier import).
	Added int `json:"added"`
	Same  int `json:"same"`
	Kept  int `json:"kept"`
}

// ImportReport is the outcome of an import, one count per kind of item.
type ImportReport []ImportCount

// Added is the number of items the import copied (0: the database was
// already up to date).
func (r ImportReport) Added() int {
	n := 0
	for _, c := range r {
		n += c.Added
	}
	return n
}

// Kept is the number of items the database holds with other content.
func (r ImportReport) Kept() int {
	n := 0
	for _, c := range r {
		n += c.Kept
	}
	return n
}

// importTable is one kind of item to import: rows for a temporary copy of
// some columns of table, merged by key.
type importTable struct {
	kind  string
	table string
	keys  []string // primary key columns
	vals  []string // the other columns copied, compared with the database's
	rows  [][]any  // keys then vals, in insertion order
	// insert, when set, replaces the plain insert-if-absent of the rows
	// (staged in import_<table> with an ord column) for the ordered
	// queues, which are copied as a whole or not at all; such kinds count
	// every row not added as Same. With byFirstImport, $1 is whether
	// the source was imported before.
	insert        string
	byFirstImport bool
}

// ErrDiverged is returned by Import when the database holds some of the
// source's items with other content: its state moved on since an earlier
// import (a daemon ran on it), so the source is older and nothing of it
// may be brought back.
var ErrDiverged = errors.New("the database's state moved on since the source was imported (a daemon ran on it); nothing was copied")

// Import copies src into the database in one transaction (all or
// nothing), so that an installation moves to PostgreSQL without a new
// backfill. Items are added where the database lacks them and never
// overwritten: a second import of the same source adds nothing and
// reports every item as Same. If the database holds any item with other
// content (counted as Kept), it rolls back and returns the report with
// ErrDiverged: an older source must not bring back what the database's
// state has since dropped or changed. The ordered queues are copied whole or not at all: an
// unfinished walk's pending commits only when the database has none for
// that walk and the repo's state is the source's; a webhook delivery only
// if its id was never seen by the database (deliveries without an id: by
// the first import of source only). name identifies the source (a path).
func (s *Store) Import(ctx context.Context, name string, src Source) (ImportReport, error) {
	tables, err := importTables(src)
	if err != nil {
		return nil, fmt.Errorf("pgstore: import: read the source: %w", err)
	}
	var rep ImportReport
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		rep = nil
		var imported bool
		if err := tx.QueryRow(ctx, "SELECT EXISTS (SELECT 1 FROM state_imports WHERE source = $1)", name).Scan(&imported); err != nil {
			return err
		}
		for _, t := range tables {
			c, err := importOne(ctx, tx, t, imported)
			if err != nil {
				return fmt.Errorf("%s: %w", t.kind, err)
			}
			rep = append(rep, c)
		}
		if rep.Kept() > 0 {
			return ErrDiverged
		}
		_, err := tx.Exec(ctx, `INSERT INTO state_imports (source) VALUES ($1)
			ON CONFLICT (source) DO UPDATE SET last_at = now()`, name)
		return err
	})
	if errors.Is(err, ErrDiverged) {
		return rep, fmt.Errorf("pgstore: import: %w", err)
	}
	if err != nil {
		return nil, fmt.Errorf("pgstore: import: %w", err)
	}
	return rep, nil
}

// importOne stages t's rows in a temporary table and merges them.
func importOne(ctx context.Context, tx pgx.Tx, t importTable, imported bool) (ImportCount, error) {
	c := ImportCount{Kind: t.kind, Source: len(t.rows)}
	cols := append(append([]string(nil), t.keys...), t.vals...)
	stage := "import_" + t.table
	if _, err := tx.Exec(ctx, fmt.Sprintf("CREATE TEMP TABLE %s ON COMMIT DROP AS SELECT %s FROM %s WITH NO DATA",
		stage, strings.Join(cols, ", "), t.table)); err != nil {
		return c, err
	}
	if _, err := tx.Exec(ctx, "ALTER TABLE "+stage+" ADD COLUMN ord bigint"); err != nil {
		return c, err
	}
	rows := make([][]any, len(t.rows))
	for i, r := range t.rows {
		rows[i] = append(r[:len(r):len(r)], int64(i))
	}
	if _, err := tx.CopyFrom(ctx, pgx.Identifier{stage}, append(cols, "ord"), pgx.CopyFromRows(rows)); err != nil {
		return c, err
	}
	if t.insert != "" {
		var args []any
		if t.byFirstImport {
			args = append(args, imported)
		}
		tag, err := tx.Exec(ctx, t.insert, args...)
		if err != nil {
			return c, err
		}
		c.Added = int(tag.RowsAffected())
		c.Same = c.Source - c.Added
		return c, nil
	}
	on := make([]string, len(t.keys))
	for i, k := range t.keys {
		on[i] = fmt.Sprintf("t.%s = s.%s", k, k)
	}
	tv, sv := make([]string, len(t.vals)), make([]string, len(t.vals))
	for i, v := range t.vals {
		tv[i], sv[i] = "t."+v, "s."+v
	}
	var same int
	if err := tx.QueryRow(ctx, fmt.Sprintf(`SELECT count(*) FILTER (WHERE t.%s IS NOT NULL AND ROW(%s) IS NOT DISTINCT FROM ROW(%s))
		FROM %s s LEFT JOIN %s t ON %s`,
		t.keys[0], strings.Join(tv, ", "), strings.Join(sv, ", "), stage, t.table, strings.Join(on, " AND "))).Scan(&same); err != nil {
		return c, err
	}
	tag, err := tx.Exec(ctx, fmt.Sprintf("INSERT INTO %s (%s) SELECT %s FROM %s ORDER BY ord ON CONFLICT DO NOTHING",
		t.table, strings.Join(cols, ", "), strings.Join(cols, ", "), stage))
	if err != nil {
		return c, err
	}
	// Of duplicate keys in the source (none from bbolt), the first is
	// added and the others count as kept.
	c.Added, c.Same = int(tag.RowsAffected()), same
	c.Kept = c.Source - c.Added - c.Same
	return c, nil
}

// walkInsertSQL adds the pending commits of the unfinished walks the
// database has none of, when the repo's state is the source's (its Walks
// checkpoint matches them).
const walkInsertSQL = `INSERT INTO walk_commits (provider, repo_id, branch, sha, parents)
	SELECT s.provider, s.repo_id, s.branch, s.sha, s.parents FROM import_walk_commits s
	WHERE NOT EXISTS (SELECT 1 FROM walk_commits w WHERE w.provider = s.provider AND w.repo_id = s.repo_id AND w.branch = s.branch)
	  AND EXISTS (SELECT 1 FROM repos r JOIN import_repos ir USING (provider, repo_id)
		WHERE r.provider = s.provider AND r.repo_id = s.repo_id AND r.body = ir.body)
	ORDER BY s.ord`

// inboxInsertSQL adds the queued deliveries whose id the database never
// saw (it runs before the delivery ids are imported), and those without
// an id on the first import.
const inboxInsertSQL = `INSERT INTO inbox (provider, delivery_id, body, received_at)
	SELECT s.provider, s.delivery_id, s.body, s.received_at FROM import_inbox s
	WHERE CASE WHEN s.delivery_id = '' THEN NOT $1::boolean
		ELSE NOT EXISTS (SELECT 1 FROM delivery_ids d WHERE d.provider = s.provider AND d.delivery_id = s.delivery_id)
		 AND NOT EXISTS (SELECT 1 FROM inbox i WHERE i.provider = s.provider AND i.delivery_id = s.delivery_id) END
	ORDER BY s.ord`

// importTables reads src into the tables to import, in import order.
func importTables(src Source) ([]importTable, error) {
	var ts []importTable
	add := func(t importTable) { ts = append(ts, t) }

	repos := importTable{kind: "repos", table: "repos", keys: []string{"provider", "repo_id"}, vals: []string{"body"}}
	rs, err := src.Repos()
	if err != nil {
		return nil, err
	}
	for _, r := range rs {
		body, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		repos.rows = append(repos.rows, []any{r.Key.Provider, r.Key.ID, body})
	}
	add(repos)

	disc := importTable{kind: "discovery cache", table: "discovery", keys: []string{"provider", "key"}, vals: []string{"body"}}
	if err := src.EachDiscovery(func(provider, key string, d state.Discovery) error {
		body, err := json.Marshal(d)
		disc.rows = append(disc.rows, []any{provider, key, body})
		return err
	}); err != nil {
		return nil, err
	}
	add(disc)

	commits := importTable{kind: "indexed commits", table: "commits", keys: []string{"provider", "repo_id", "sha"}, vals: []string{"parents"}}
	if err := src.EachCommits(func(k state.RepoKey, cs []state.Commit) error {
		for _, c := range cs {
			commits.rows = append(commits.rows, []any{k.Provider, k.ID, c.Key(), parentKeys(nil, c.EncodedParents())})
		}
		return nil
	}); err != nil {
		return nil, err
	}
	add(commits)

	walks := importTable{kind: "unfinished walks' commits", table: "walk_commits", keys: []string{"provider", "repo_id", "branch"},
		vals: []string{"sha", "parents"}, insert: walkInsertSQL}
	if err := src.EachPendingWalk(func(k state.RepoKey, branch string, cs []state.Commit) error {
		for _, c := range cs {
			walks.rows = append(walks.rows, []any{k.Provider, k.ID, branch, c.Key(), c.EncodedParents()})
		}
		return nil
	}); err != nil {
		return nil, err
	}
	add(walks)

	links := importTable{kind: "link records", table: "links", keys: []string{"global_id", "issue"}, vals: []string{"hash", "info"}}
	if err := src.RepoLinks("", func(l state.Link, r state.LinkRecord) error {
		info, err := json.Marshal(r.Info)
		links.rows = append(links.rows, []any{l.GlobalID, l.Issue, int64(r.Hash), info})
		return err
	}); err != nil {
		return nil, err
	}
	add(links)

	issues := importTable{kind: "issue cache", table: "issues", keys: []string{"key"}, vals: []string{"body"}}
	if err := src.EachIssue(func(key string, st state.IssueStatus) error {
		body, err := json.Marshal(st)
		issues.rows = append(issues.rows, []any{key, body})
		return err
	}); err != nil {
		return nil, err
	}
	add(issues)

	health := importTable{kind: "health", table: "health", keys: []string{"system"}, vals: []string{"body"}}
	hs, err := src.Health()
	if err != nil {
		return nil, err
	}
	for _, h := range hs {
		body, err := json.Marshal(h)
		if err != nil {
			return nil, err
		}
		health.rows = append(health.rows, []any{h.System, body})
	}
	add(health)

	inbox := importTable{kind: "webhook queue", table: "inbox", keys: []string{"provider", "delivery_id"},
		vals: []string{"body", "received_at"}, insert: inboxInsertSQL, byFirstImport: true}
	ds, err := src.Pending(0)
	if err != nil {
		return nil, err
	}
	for _, d := range ds {
		body, err := json.Marshal(d)
		if err != nil {
			return nil, err
		}
		inbox.rows = append(inbox.rows, []any{d.Provider, d.ID, body, d.ReceivedAt})
	}
	add(inbox)

	deliv := importTable{kind: "delivery ids", table: "delivery_ids", keys: []string{"provider", "delivery_id"}, vals: []string{"received_ns"}}
	if err := src.EachDelivery(func(provider, id string, at time.Time) error {
		deliv.rows = append(deliv.rows, []any{provider, id, at.UnixNano()})
		return nil
	}); err != nil {
		return nil, err
	}
	add(deliv)

	ledger := importTable{kind: "smart-commit ledger", table: "ledger", keys: []string{"id"}, vals: []string{"issue", "state", "body"}}
	recs, err := src.Ledger().ByIssue("")
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		body, err := json.Marshal(r)
		if err != nil {
			return nil, err
		}
		ledger.rows = append(ledger.rows, []any{r.ID, r.Issue, string(r.State), body})
	}
	add(ledger)

	smart := importTable{kind: "pending smart commits", table: "smart_pending", keys: []string{"provider", "repo_id", "sha"}, vals: []string{"body"}}
	if err := src.EachSmartPending(func(k state.RepoKey, ps []state.SmartPending) error {
		for _, p := range ps {
			p.Seq = 0 // the row's seq is the record's (rows are added oldest first)
			body, err := json.Marshal(p)
			if err != nil {
				return err
			}
			smart.rows = append(smart.rows, []any{k.Provider, k.ID, state.SHAKey(p.SHA), body})
		}
		return nil
	}); err != nil {
		return nil, err
	}
	add(smart)

	ciState := importTable{kind: "CI cursors", table: "ci_state", keys: []string{"provider", "repo_id"}, vals: []string{"body"}}
	ciEntries := importTable{kind: "CI entries", table: "ci_entries", keys: []string{"provider", "repo_id", "kind", "name", "issue"}, vals: []string{"body"}}
	if err := src.EachCI(func(st state.CIState, ok bool, es []state.CIEntry) error {
		if ok {
			body, err := json.Marshal(st)
			if err != nil {
				return err
			}
			ciState.rows = append(ciState.rows, []any{st.Key.Provider, st.Key.ID, body})
		}
		for _, e := range es {
			body, err := json.Marshal(e)
			if err != nil {
				return err
			}
			ciEntries.rows = append(ciEntries.rows, []any{st.Key.Provider, st.Key.ID, string(e.ID.Kind), e.ID.Name, e.ID.Issue, body})
		}
		return nil
	}); err != nil {
		return nil, err
	}
	add(ciState)
	add(ciEntries)

	salt := importTable{kind: "finding salt", table: "finding_salt", keys: []string{"only_row"}, vals: []string{"salt"}}
	if b, err := src.StoredFindingSalt(); err != nil {
		return nil, err
	} else if b != nil {
		salt.rows = append(salt.rows, []any{true, b})
	}
	add(salt)

	cursors := importTable{kind: "scan cursors", table: "scan_cursors", keys: []string{"project"}, vals: []string{"body"}}
	cs, err := src.ScanCursors()
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		body, err := json.Marshal(c)
		if err != nil {
			return nil, err
		}
		cursors.rows = append(cursors.rows, []any{c.Project, body})
	}
	add(cursors)

	findings := importTable{kind: "findings", table: "findings", keys: []string{"id"}, vals: []string{"issue", "state", "body"}}
	fs, err := src.Findings(state.FindingFilter{})
	if err != nil {
		return nil, err
	}
	ids, fissues, states, bodies, err := findingArrays(fs)
	if err != nil {
		return nil, err
	}
	for i := range ids {
		findings.rows = append(findings.rows, []any{ids[i], fissues[i], states[i], bodies[i]})
	}
	add(findings)

	actions := importTable{kind: "finding actions", table: "finding_actions", keys: []string{"id"}, vals: []string{"state", "body"}}
	as, err := src.FindingActions("")
	if err != nil {
		return nil, err
	}
	aids, astates, abodies, err := findingActionArrays(as)
	if err != nil {
		return nil, err
	}
	for i := range aids {
		actions.rows = append(actions.rows, []any{aids[i], astates[i], abodies[i]})
	}
	add(actions)

	drops := importTable{kind: "route drops", table: "route_drops", keys: []string{"issue", "global_id"}, vals: []string{"body"}}
	var all []state.RouteDrop
	if err := src.EachRouteDrop(func(d state.RouteDrop) error { all = append(all, d); return nil }); err != nil {
		return nil, err
	}
	dissues, dgids, dbodies, err := routeDropArrays(all)
	if err != nil {
		return nil, err
	}
	for i := range dissues {
		drops.rows = append(drops.rows, []any{dissues[i], dgids[i], dbodies[i]})
	}
	add(drops)
	return ts, nil
}
