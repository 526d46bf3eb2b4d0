package boltstore

import (
	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"

	"bytes"
	"encoding/json"
	"errors"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

var (
	bucketRecords   = []byte("smartcommits")
	bucketSCPending = []byte("smartcommits_pending")  // id → nil
	bucketSCByIssue = []byte("smartcommits_by_issue") // issue \x00 id → nil
)

// Ledger is the smart-commit ledger (smartcommit.Ledger) in three buckets
// of the state file, created when the file is opened for writing.
type Ledger struct {
	db *bolt.DB
}

// Ledger returns the store's smart-commit ledger.
func (s *Store) Ledger() smartcommit.Ledger { return &Ledger{db: s.db} }

// Get implements Ledger.
func (l *Ledger) Get(id string) (r smartcommit.Record, ok bool, err error) {
	err = l.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRecords)
		if b == nil { // a read-only file of a version without the ledger
			return nil
		}
		v := b.Get([]byte(id))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &r)
	})
	if err != nil {
		return smartcommit.Record{}, false, fmt.Errorf("smartcommit: read %s: %w", id, err)
	}
	return r, ok, nil
}

// Put implements Ledger.
func (l *Ledger) Put(recs ...smartcommit.Record) error {
	if len(recs) == 0 {
		return nil
	}
	err := l.db.Update(func(tx *bolt.Tx) error {
		records, pending, byIssue := tx.Bucket(bucketRecords), tx.Bucket(bucketSCPending), tx.Bucket(bucketSCByIssue)
		for _, r := range recs {
			if r.ID == "" {
				return errors.New("record without id")
			}
			v, err := json.Marshal(r)
			if err != nil {
				return err
			}
			id := []byte(r.ID)
			if err := records.Put(id, v); err != nil {
				return err
			}
			if r.State == smartcommit.StatePending {
				err = pending.Put(id, nil)
			} else {
				err = pending.Delete(id)
			}
			if err != nil {
				return err
			}
			if err := byIssue.Put(commandIssueKey(r.Issue, r.ID), nil); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("smartcommit: record %d command(s): %w", len(recs), err)
	}
	return nil
}

func commandIssueKey(issue, id string) []byte { return []byte(issue + "\x00" + id) }

// Pending implements Ledger.
func (l *Ledger) Pending() ([]smartcommit.Record, error) {
	var out []smartcommit.Record
	err := l.db.View(func(tx *bolt.Tx) error {
		records := tx.Bucket(bucketRecords)
		if records == nil {
			return nil
		}
		return tx.Bucket(bucketSCPending).ForEach(func(id, _ []byte) error {
			return appendRecord(&out, records.Get(id))
		})
	})
	if err != nil {
		return nil, fmt.Errorf("smartcommit: list pending commands: %w", err)
	}
	smartcommit.SortRecords(out)
	return out, nil
}

// ByIssue implements Ledger.
func (l *Ledger) ByIssue(issue string) ([]smartcommit.Record, error) {
	var out []smartcommit.Record
	err := l.db.View(func(tx *bolt.Tx) error {
		records := tx.Bucket(bucketRecords)
		if records == nil {
			return nil
		}
		if issue == "" {
			return records.ForEach(func(_, v []byte) error { return appendRecord(&out, v) })
		}
		prefix := commandIssueKey(issue, "")
		c := tx.Bucket(bucketSCByIssue).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			if err := appendRecord(&out, records.Get(k[len(prefix):])); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("smartcommit: list commands of %q: %w", issue, err)
	}
	smartcommit.SortRecords(out)
	return out, nil
}

func appendRecord(out *[]smartcommit.Record, v []byte) error {
	if v == nil {
		return nil // an index entry without record; cannot happen, harmless
	}
	var r smartcommit.Record
	if err := json.Unmarshal(v, &r); err != nil {
		return err
	}
	*out = append(*out, r)
	return nil
}

// CountFailed counts the commands that failed for good, reading only: a
// file without the ledger's buckets has none. It is the count status views
// show next to explain's list of failures.
func (l *Ledger) CountFailed() (int, error) {
	n := 0
	err := l.db.View(func(tx *bolt.Tx) error {
		records := tx.Bucket(bucketRecords)
		if records == nil {
			return nil
		}
		return records.ForEach(func(_, v []byte) error {
			var r struct {
				State smartcommit.State `json:"state"`
			}
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if r.State == smartcommit.StateFailed {
				n++
			}
			return nil
		})
	})
	if err != nil {
		return 0, fmt.Errorf("smartcommit: count failed commands: %w", err)
	}
	return n, nil
}
