package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// LeaderLease is the name of the lease row of the leader election.
const LeaderLease = "leader"

// Lease is a named lease row, implementing leader.Lease: holder, epoch and
// expiry by the database's clock (now()), so replicas' clocks need not
// agree. It is one row and plain statements: it works through PgBouncer's
// transaction pooling, where session advisory locks do not.
type Lease struct {
	s    *Store
	name string
}

// Lease returns the lease called name (LeaderLease for the election).
func (s *Store) Lease(name string) *Lease { return &Lease{s: s, name: name} }

// Acquire takes the lease for holder, or renews it if holder has it, for
// ttl from the database's clock, in one statement. A lease that expired
// is taken (by anyone, its last holder included) with epoch+1; a live
// lease of another holder is left alone and leading is false, with its
// epoch.
func (l *Lease) Acquire(ctx context.Context, holder string, ttl time.Duration) (epoch int64, leading bool, err error) {
	err = l.s.pool.QueryRow(ctx, `INSERT INTO lease AS l (name, holder, epoch, expires_at)
		VALUES ($1, $2, 1, now() + $3 * interval '1 millisecond')
		ON CONFLICT (name) DO UPDATE SET
			holder = EXCLUDED.holder,
			epoch = CASE WHEN l.holder = EXCLUDED.holder AND l.expires_at > now() THEN l.epoch ELSE l.epoch + 1 END,
			expires_at = EXCLUDED.expires_at
		WHERE l.holder = EXCLUDED.holder AND l.expires_at > now() OR l.expires_at <= now()
		RETURNING epoch`, l.name, holder, ttl.Milliseconds()).Scan(&epoch)
	switch {
	case err == nil:
		return epoch, true, nil
	case !errors.Is(err, pgx.ErrNoRows):
		return 0, false, fmt.Errorf("pgstore: acquire lease %s: %w", l.name, err)
	}
	if err := l.s.pool.QueryRow(ctx, "SELECT epoch FROM lease WHERE name = $1", l.name).Scan(&epoch); err != nil {
		return 0, false, fmt.Errorf("pgstore: read lease %s: %w", l.name, err)
	}
	return epoch, false, nil
}

// Release ends holder's lease at once (it expires now), so a successor
// need not wait; the next taker gets epoch+1. It does nothing if holder
// does not hold the lease.
func (l *Lease) Release(ctx context.Context, holder string) error {
	if _, err := l.s.pool.Exec(ctx, "UPDATE lease SET expires_at = now() WHERE name = $1 AND holder = $2 AND expires_at > now()",
		l.name, holder); err != nil {
		return fmt.Errorf("pgstore: release lease %s: %w", l.name, err)
	}
	return nil
}

// Fence is the epoch a replica leads under, set from the election's
// callbacks: 0 while it does not lead. A Store with a fence (WithFence)
// refuses its state-changing writes with state.ErrFenced unless the
// leader lease is held by Holder under that epoch and has not expired.
// The check reads the lease row FOR SHARE in the write's transaction, so
// a successor's takeover waits for a write in flight, and every write
// after the takeover is refused.
type Fence struct {
	holder string
	epoch  atomic.Int64
}

// NewFence creates the fence of holder (the elector's holder id), not
// leading.
func NewFence(holder string) *Fence { return &Fence{holder: holder} }

// Set records the epoch this replica leads under; 0 when it stops leading.
func (f *Fence) Set(epoch int64) { f.epoch.Store(epoch) }

// Epoch is the epoch set, 0 if not leading.
func (f *Fence) Epoch() int64 { return f.epoch.Load() }

// check fails with state.ErrFenced unless the fence's epoch is the live
// lease's.
func (f *Fence) check(ctx context.Context, tx pgx.Tx) error {
	want := f.epoch.Load()
	if want == 0 {
		return state.ErrFenced
	}
	var (
		holder string
		epoch  int64
		live   bool
	)
	err := tx.QueryRow(ctx, "SELECT holder, epoch, expires_at > now() FROM lease WHERE name = $1 FOR SHARE", LeaderLease).
		Scan(&holder, &epoch, &live)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return state.ErrFenced
	case err != nil:
		return fmt.Errorf("check the leader lease: %w", err)
	case holder != f.holder || epoch != want || !live:
		return fmt.Errorf("%w (epoch %d, lease epoch %d)", state.ErrFenced, want, epoch)
	}
	return nil
}

// WithFence returns a view of s whose state-changing writes are fenced by
// f: cursors, walks, commits, links (recorded and deleted), repos,
// discovery, health, issue cache, smart pending and the ledger. Inbox
// writes (Enqueue, Ack, claims) are not fenced: every replica takes
// webhooks. The view shares s's pool; close s, not the view.
func (s *Store) WithFence(f *Fence) *Store {
	c := *s
	c.fence = nil
	if f != nil {
		c.fence = f
	}
	return &c
}

// Replica is one replica's heartbeat row.
type Replica struct {
	ID        string    `json:"id"`
	Host      string    `json:"host"`
	Version   string    `json:"version"`
	StartedAt time.Time `json:"started_at"`
	Heartbeat time.Time `json:"heartbeat"`
	Leading   bool      `json:"leading"`
	Epoch     int64     `json:"epoch"`
}

// Heartbeat records that replica r is alive (by the database's clock),
// with its view of the election.
func (s *Store) Heartbeat(ctx context.Context, r Replica) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO replicas (id, host, version, heartbeat, is_leader, epoch)
		VALUES ($1, $2, $3, now(), $4, $5)
		ON CONFLICT (id) DO UPDATE SET host = EXCLUDED.host, version = EXCLUDED.version,
			heartbeat = now(), is_leader = EXCLUDED.is_leader, epoch = EXCLUDED.epoch`,
		r.ID, r.Host, r.Version, r.Leading, r.Epoch)
	if err != nil {
		return fmt.Errorf("pgstore: heartbeat: %w", err)
	}
	return nil
}

// Replicas lists the replicas that sent a heartbeat within maxAge, and
// drops older rows. Leading is true only for the live lease's holder.
func (s *Store) Replicas(ctx context.Context, maxAge time.Duration) ([]Replica, error) {
	if _, err := s.pool.Exec(ctx, "DELETE FROM replicas WHERE heartbeat < now() - $1 * interval '1 millisecond'", maxAge.Milliseconds()); err != nil {
		return nil, fmt.Errorf("pgstore: replicas: %w", err)
	}
	rows, err := s.pool.Query(ctx, `SELECT r.id, r.host, r.version, r.started_at, r.heartbeat,
			coalesce(l.holder = r.id AND l.expires_at > now(), false), r.epoch
		FROM replicas r LEFT JOIN lease l ON l.name = $1 ORDER BY r.id`, LeaderLease)
	if err != nil {
		return nil, fmt.Errorf("pgstore: replicas: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Replica, error) {
		var r Replica
		err := row.Scan(&r.ID, &r.Host, &r.Version, &r.StartedAt, &r.Heartbeat, &r.Leading, &r.Epoch)
		return r, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: replicas: %w", err)
	}
	return out, nil
}

// ClaimQueue is the inbox as the webhook worker of one replica of several
// sees it: Pending claims deliveries for the replica (FOR UPDATE SKIP
// LOCKED), so concurrent workers never get the same one; a claim expires
// after TTL, so the deliveries of a worker that died are handed out again.
// Ack deletes.
type ClaimQueue struct {
	s      *Store
	holder string
	ttl    time.Duration
}

// ClaimQueue returns the claiming queue of holder; ttl bounds how long a
// claimed delivery waits for its worker (default 2 minutes).
func (s *Store) ClaimQueue(holder string, ttl time.Duration) *ClaimQueue {
	if ttl <= 0 {
		ttl = 2 * time.Minute
	}
	return &ClaimQueue{s: s, holder: holder, ttl: ttl}
}

// maxClaim bounds one claim: a worker should finish what it claimed well
// within the claim's TTL, or another replica's worker takes it over.
const maxClaim = 100

// Pending claims up to limit (at most maxClaim) unclaimed or
// stale-claimed deliveries, oldest first.
func (q *ClaimQueue) Pending(limit int) ([]state.Delivery, error) {
	if limit <= 0 || limit > maxClaim {
		limit = maxClaim
	}
	var out []state.Delivery
	err := q.s.inboxTx("claim deliveries", func(ctx context.Context, tx pgx.Tx) error {
		out = out[:0]
		rows, err := tx.Query(ctx, `UPDATE inbox SET claimed_by = $1, claimed_until = now() + $2 * interval '1 millisecond'
			WHERE seq IN (SELECT seq FROM inbox WHERE claimed_until IS NULL OR claimed_until < now()
				ORDER BY seq FOR UPDATE SKIP LOCKED LIMIT $3)
			RETURNING seq, body`, q.holder, q.ttl.Milliseconds(), limit)
		if err != nil {
			return err
		}
		var (
			seq  int64
			body []byte
		)
		_, err = pgx.ForEachRow(rows, []any{&seq, &body}, func() error {
			var d state.Delivery
			if err := json.Unmarshal(body, &d); err != nil {
				return fmt.Errorf("queue item %d: %w", seq, err)
			}
			d.Seq = uint64(seq)
			out = append(out, d)
			return nil
		})
		return err
	})
	if err != nil {
		return nil, err
	}
	sortDeliveries(out)
	return out, nil
}

// Ack removes processed deliveries.
func (q *ClaimQueue) Ack(seqs ...uint64) error { return q.s.Ack(seqs...) }

// sortDeliveries orders by seq (RETURNING has no order).
func sortDeliveries(ds []state.Delivery) {
	for i := 1; i < len(ds); i++ {
		for j := i; j > 0 && ds[j].Seq < ds[j-1].Seq; j-- {
			ds[j], ds[j-1] = ds[j-1], ds[j]
		}
	}
}

// RequestResync queues a resync of a repo for the leader (asked of any
// replica).
func (s *Store) RequestResync(ctx context.Context, provider, fullName, by string) error {
	if _, err := s.pool.Exec(ctx, "INSERT INTO resync_requests (provider, full_name, requested_by) VALUES ($1, $2, $3)",
		provider, fullName, by); err != nil {
		return fmt.Errorf("pgstore: request resync: %w", err)
	}
	return nil
}

// ResyncRequest is a queued resync.
type ResyncRequest struct {
	Provider, FullName string
}

// TakeResyncs removes and returns the queued resync requests, oldest
// first (the leader's poll).
func (s *Store) TakeResyncs(ctx context.Context) ([]ResyncRequest, error) {
	rows, err := s.pool.Query(ctx, `DELETE FROM resync_requests WHERE seq IN (
			SELECT seq FROM resync_requests ORDER BY seq FOR UPDATE SKIP LOCKED LIMIT 100)
		RETURNING seq, provider, full_name`)
	if err != nil {
		return nil, fmt.Errorf("pgstore: take resyncs: %w", err)
	}
	type req struct {
		seq int64
		r   ResyncRequest
	}
	rs, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (req, error) {
		var q req
		err := row.Scan(&q.seq, &q.r.Provider, &q.r.FullName)
		return q, err
	})
	if err != nil {
		return nil, fmt.Errorf("pgstore: take resyncs: %w", err)
	}
	for i := 1; i < len(rs); i++ {
		for j := i; j > 0 && rs[j].seq < rs[j-1].seq; j-- {
			rs[j], rs[j-1] = rs[j-1], rs[j]
		}
	}
	out := make([]ResyncRequest, len(rs))
	for i, q := range rs {
		out[i] = q.r
	}
	return out, nil
}

// CheckFence fails with state.ErrFenced if a state-changing write through
// s would be refused now (WithFence, WithRepoLocks); nil for a store
// without a fence. The indexer
// asks before an action the store cannot refuse afterwards (deleting links
// in Jira: see indexer.Fenced).
func (s *Store) CheckFence() error {
	if s.fence == nil {
		return nil
	}
	return s.tx("check the fence", func(context.Context, pgx.Tx) error { return nil })
}
