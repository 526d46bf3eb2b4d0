package pgstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// Enqueue persists a delivery unless its id was already seen within the
// retention window (by any replica: the ids are shared). It reports
// whether the delivery is new. Deduplication and enqueueing are one
// transaction: a delivery is either queued and remembered, or neither.
func (s *Store) Enqueue(d state.Delivery, retention time.Duration) (seq uint64, fresh bool, err error) {
	body, err := json.Marshal(d)
	if err != nil {
		return 0, false, fmt.Errorf("pgstore: enqueue delivery: %w", err)
	}
	ctx, cancel := s.ctx()
	defer cancel()
	// One statement (one round trip, its own transaction): remember the
	// id if it is new or was seen before the window, and queue the
	// delivery if so (or if it has no id). A concurrent insert of the same
	// id waits for this one and then finds it within the window.
	var n int64
	err = s.pool.QueryRow(ctx, `WITH seen AS (
			INSERT INTO delivery_ids (provider, delivery_id, received_ns) SELECT $1, $2, $3 WHERE $2 <> ''
			ON CONFLICT (provider, delivery_id) DO UPDATE SET received_ns = EXCLUDED.received_ns
			WHERE EXCLUDED.received_ns - delivery_ids.received_ns >= $4
			RETURNING 1
		)
		INSERT INTO inbox (provider, delivery_id, body, received_at)
		SELECT $1, $2, $5, $6 WHERE $2 = '' OR EXISTS (SELECT 1 FROM seen)
		RETURNING seq`,
		d.Provider, d.ID, d.ReceivedAt.UnixNano(), retention.Nanoseconds(), body, d.ReceivedAt).Scan(&n)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, false, nil // a duplicate
	case err != nil:
		return 0, false, fmt.Errorf("pgstore: enqueue delivery: %w", err)
	}
	return uint64(n), true, nil
}

// Pending returns up to limit (all if limit <= 0) queued deliveries,
// oldest first.
func (s *Store) Pending(limit int) ([]state.Delivery, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	q := "SELECT seq, body FROM inbox ORDER BY seq"
	args := []any{}
	if limit > 0 {
		q += " LIMIT $1"
		args = append(args, limit)
	}
	rows, err := s.pool.Query(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("pgstore: read queue: %w", err)
	}
	var out []state.Delivery
	var seq int64
	var body []byte
	if _, err := pgx.ForEachRow(rows, []any{&seq, &body}, func() error {
		var d state.Delivery
		if err := json.Unmarshal(body, &d); err != nil {
			return fmt.Errorf("queue item %d: %w", seq, err)
		}
		d.Seq = uint64(seq)
		out = append(out, d)
		return nil
	}); err != nil {
		return nil, fmt.Errorf("pgstore: read queue: %w", err)
	}
	return out, nil
}

// QueueDepth is the number of deliveries waiting.
func (s *Store) QueueDepth() (int, error) {
	ctx, cancel := s.ctx()
	defer cancel()
	var n int
	if err := s.pool.QueryRow(ctx, "SELECT count(*) FROM inbox").Scan(&n); err != nil {
		return 0, fmt.Errorf("pgstore: queue depth: %w", err)
	}
	return n, nil
}

// Ack removes processed deliveries from the queue.
func (s *Store) Ack(seqs ...uint64) error {
	if len(seqs) == 0 {
		return nil
	}
	ns := make([]int64, len(seqs))
	for i, n := range seqs {
		ns[i] = int64(n)
	}
	return s.inboxTx("ack deliveries", func(ctx context.Context, tx pgx.Tx) error {
		_, err := tx.Exec(ctx, "DELETE FROM inbox WHERE seq = ANY($1)", ns)
		return err
	})
}

// ForgetDeliveries drops delivery ids older than the retention window, so
// the deduplication set does not grow forever. It returns how many it
// dropped.
func (s *Store) ForgetDeliveries(now time.Time, retention time.Duration) (int, error) {
	n := 0
	err := s.inboxTx("forget old deliveries", func(ctx context.Context, tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, "DELETE FROM delivery_ids WHERE received_ns <= $1", now.UnixNano()-retention.Nanoseconds())
		n = int(tag.RowsAffected())
		return err
	})
	return n, err
}
