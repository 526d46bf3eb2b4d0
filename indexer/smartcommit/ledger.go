package smartcommit

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"time"

	bolt "go.etcd.io/bbolt"
)

// State is where a command stands in the ledger.
type State string

// States. A pending command has been accepted and may have been attempted
// (Attempts > 0): a later attempt first checks Jira for the effect of an
// earlier one. Done and failed are final.
const (
	StatePending State = "pending"
	StateDone    State = "done"
	StateFailed  State = "failed"
)

// Record is the ledger entry of one command: the command itself and the
// commit it came from (enough to carry it out again after a restart), and
// its outcome so far.
type Record struct {
	ID         string        `json:"id"`
	Index      int           `json:"index"` // Command.Index
	Issue      string        `json:"issue"`
	Kind       CommandKind   `json:"kind"`
	Command    string        `json:"command"` // as written, for people
	Text       string        `json:"text,omitempty"`
	Duration   time.Duration `json:"duration,omitempty"`
	Transition string        `json:"transition,omitempty"`
	Commit     CommitInfo    `json:"commit"` // without Message

	State    State  `json:"state"`
	Attempts int    `json:"attempts"`        // attempts started
	Error    string `json:"error,omitempty"` // why it failed, or the last transient error
	// JiraID is the comment or worklog id, or the id of the transition
	// performed.
	JiraID string `json:"jira_id,omitempty"`
	// Target is, for a transition, the id of the status it leads to,
	// recorded before the transition is attempted: finding the issue in
	// that status tells a later attempt the transition was done.
	Target string `json:"target,omitempty"`

	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
}

// Ledger stores Records durably: a Put that returned nil survives a crash.
// Implementations must be safe for concurrent use.
type Ledger interface {
	// Get returns the record with the id; ok is false if there is none.
	Get(id string) (r Record, ok bool, err error)
	// Put stores the records, replacing those with the same ids, all or
	// none.
	Put(recs ...Record) error
	// Pending returns every record in StatePending.
	Pending() ([]Record, error)
	// ByIssue returns the records of an issue ("" for all), oldest first.
	ByIssue(issue string) ([]Record, error)
}

var (
	bucketRecords = []byte("smartcommits")
	bucketPending = []byte("smartcommits_pending")  // id → nil
	bucketByIssue = []byte("smartcommits_by_issue") // issue \x00 id → nil
)

// BoltLedger is a Ledger in three buckets of a bbolt database, which it
// may share with other users (jiralinkd's state file).
type BoltLedger struct {
	db *bolt.DB
}

// NewBoltLedger creates the ledger's buckets in db if needed.
func NewBoltLedger(db *bolt.DB) (*BoltLedger, error) {
	err := db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketRecords, bucketPending, bucketByIssue} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("smartcommit: create ledger buckets: %w", err)
	}
	return &BoltLedger{db: db}, nil
}

// Get implements Ledger.
func (l *BoltLedger) Get(id string) (r Record, ok bool, err error) {
	err = l.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRecords).Get([]byte(id))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &r)
	})
	if err != nil {
		return Record{}, false, fmt.Errorf("smartcommit: read %s: %w", id, err)
	}
	return r, ok, nil
}

// Put implements Ledger.
func (l *BoltLedger) Put(recs ...Record) error {
	if len(recs) == 0 {
		return nil
	}
	err := l.db.Update(func(tx *bolt.Tx) error {
		records, pending, byIssue := tx.Bucket(bucketRecords), tx.Bucket(bucketPending), tx.Bucket(bucketByIssue)
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
			if r.State == StatePending {
				err = pending.Put(id, nil)
			} else {
				err = pending.Delete(id)
			}
			if err != nil {
				return err
			}
			if err := byIssue.Put(issueKey(r.Issue, r.ID), nil); err != nil {
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

func issueKey(issue, id string) []byte { return []byte(issue + "\x00" + id) }

// Pending implements Ledger.
func (l *BoltLedger) Pending() ([]Record, error) {
	var out []Record
	err := l.db.View(func(tx *bolt.Tx) error {
		records := tx.Bucket(bucketRecords)
		return tx.Bucket(bucketPending).ForEach(func(id, _ []byte) error {
			return appendRecord(&out, records.Get(id))
		})
	})
	if err != nil {
		return nil, fmt.Errorf("smartcommit: list pending commands: %w", err)
	}
	sortRecords(out)
	return out, nil
}

// ByIssue implements Ledger.
func (l *BoltLedger) ByIssue(issue string) ([]Record, error) {
	var out []Record
	err := l.db.View(func(tx *bolt.Tx) error {
		records := tx.Bucket(bucketRecords)
		if issue == "" {
			return records.ForEach(func(_, v []byte) error { return appendRecord(&out, v) })
		}
		prefix := issueKey(issue, "")
		c := tx.Bucket(bucketByIssue).Cursor()
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
	sortRecords(out)
	return out, nil
}

func appendRecord(out *[]Record, v []byte) error {
	if v == nil {
		return nil // an index entry without record; cannot happen, harmless
	}
	var r Record
	if err := json.Unmarshal(v, &r); err != nil {
		return err
	}
	*out = append(*out, r)
	return nil
}

// sortRecords orders by creation, then commit, then position in the
// message.
func sortRecords(rs []Record) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		switch {
		case !a.Created.Equal(b.Created):
			return a.Created.Before(b.Created)
		case a.Commit.SHA != b.Commit.SHA:
			return a.Commit.SHA < b.Commit.SHA
		}
		return a.Index < b.Index
	})
}

// CountFailed counts the commands that failed for good in the ledger kept
// in db, reading only: a database without the ledger's buckets has none.
// It is the count status views show next to explain's list of failures.
func CountFailed(db *bolt.DB) (int, error) {
	n := 0
	err := db.View(func(tx *bolt.Tx) error {
		records := tx.Bucket(bucketRecords)
		if records == nil {
			return nil
		}
		return records.ForEach(func(_, v []byte) error {
			var r struct {
				State State `json:"state"`
			}
			if err := json.Unmarshal(v, &r); err != nil {
				return err
			}
			if r.State == StateFailed {
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
