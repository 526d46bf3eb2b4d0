package boltstore

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// Enqueue persists a delivery unless its id was already seen within the
// retention window. It reports whether the delivery is new. Deduplication
// and enqueueing are one transaction: a delivery is either queued and
// remembered, or neither, so a crash cannot lose it nor run it twice.
func (s *Store) Enqueue(d state.Delivery, retention time.Duration) (seq uint64, fresh bool, err error) {
	err = s.update("enqueue delivery", func(tx *bolt.Tx) error {
		seen := tx.Bucket(bucketDeliv)
		dkey := []byte(d.Provider + "\x00" + d.ID)
		if d.ID != "" {
			if v := seen.Get(dkey); v != nil {
				if at := time.Unix(0, int64(u64(v))); d.ReceivedAt.Sub(at) < retention {
					return nil
				}
			}
		}
		q := tx.Bucket(bucketQueue)
		n, err := q.NextSequence()
		if err != nil {
			return err
		}
		v, err := json.Marshal(d)
		if err != nil {
			return err
		}
		if err := q.Put(binary.BigEndian.AppendUint64(nil, n), v); err != nil {
			return err
		}
		if d.ID != "" {
			if err := seen.Put(dkey, binary.BigEndian.AppendUint64(nil, uint64(d.ReceivedAt.UnixNano()))); err != nil {
				return err
			}
		}
		seq, fresh = n, true
		return nil
	})
	return seq, fresh, err
}

// Pending returns up to limit queued deliveries, oldest first.
func (s *Store) Pending(limit int) ([]state.Delivery, error) {
	var out []state.Delivery
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketQueue).Cursor()
		for k, v := c.First(); k != nil && (limit <= 0 || len(out) < limit); k, v = c.Next() {
			var d state.Delivery
			if err := json.Unmarshal(v, &d); err != nil {
				return fmt.Errorf("queue item %d: %w", u64(k), err)
			}
			d.Seq = u64(k)
			out = append(out, d)
		}
		return nil
	})
	return out, err
}

// QueueDepth is the number of deliveries waiting.
func (s *Store) QueueDepth() (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error { n = tx.Bucket(bucketQueue).Stats().KeyN; return nil })
	return n, err
}

// Ack removes processed deliveries from the queue.
func (s *Store) Ack(seqs ...uint64) error {
	return s.update("ack deliveries", func(tx *bolt.Tx) error {
		q := tx.Bucket(bucketQueue)
		for _, n := range seqs {
			if err := q.Delete(binary.BigEndian.AppendUint64(nil, n)); err != nil {
				return err
			}
		}
		return nil
	})
}

// ForgetDeliveries drops delivery ids older than the retention window, so
// the deduplication set does not grow forever. It returns how many it
// dropped.
func (s *Store) ForgetDeliveries(now time.Time, retention time.Duration) (int, error) {
	n := 0
	err := s.update("forget old deliveries", func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketDeliv).Cursor()
		for k, v := c.First(); k != nil; {
			if now.Sub(time.Unix(0, int64(u64(v)))) >= retention {
				key := append([]byte(nil), k...) // k is invalid after Delete
				if err := c.Delete(); err != nil {
					return err
				}
				n++
				k, v = c.Seek(key)
				continue
			}
			k, v = c.Next()
		}
		return nil
	})
	return n, err
}
