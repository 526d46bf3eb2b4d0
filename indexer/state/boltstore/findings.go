package boltstore

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// Jira secret scanning state (see state/findings.go).
var (
	bucketFindings       = []byte("jira_findings")        // finding id → JSON state.Finding
	bucketScan           = []byte("jira_scan")            // "salt" → bytes; "cursor\x00" + project → JSON state.ScanCursor
	bucketFindingActions = []byte("jira_finding_actions") // action id → JSON state.FindingAction
)

const saltKey = "salt"

func cursorKey(project string) []byte { return []byte("cursor\x00" + project) }

// FindingSalt returns the salt of finding fingerprints, creating a random
// one on first use. It never changes afterwards, so fingerprints stay
// comparable across scans.
func (s *Store) FindingSalt() ([]byte, error) {
	var salt []byte
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketScan); b != nil {
			salt = bytes.Clone(b.Get([]byte(saltKey)))
		}
		return nil
	})
	if err != nil || salt != nil {
		return salt, err
	}
	err = s.update("create the finding salt", func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketScan)
		if err != nil {
			return err
		}
		if v := b.Get([]byte(saltKey)); v != nil {
			salt = bytes.Clone(v)
			return nil
		}
		salt = make([]byte, 32)
		if _, err := rand.Read(salt); err != nil {
			return err
		}
		return b.Put([]byte(saltKey), salt)
	})
	return salt, err
}

// ScanCursor returns the scan progress of a project.
func (s *Store) ScanCursor(project string) (c state.ScanCursor, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketScan)
		if b == nil {
			return nil
		}
		v := b.Get(cursorKey(project))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &c)
	})
	if err != nil {
		return c, false, fmt.Errorf("state: scan cursor of %s: %w", project, err)
	}
	return c, ok, nil
}

// ScanCursors returns the scan progress of every project scanned so far.
func (s *Store) ScanCursors() ([]state.ScanCursor, error) {
	var out []state.ScanCursor
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketScan)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		prefix := []byte("cursor\x00")
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var sc state.ScanCursor
			if err := json.Unmarshal(v, &sc); err != nil {
				return err
			}
			out = append(out, sc)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("state: scan cursors: %w", err)
	}
	return out, nil
}

// PutScanCursor stores a project's scan progress.
func (s *Store) PutScanCursor(c state.ScanCursor) error {
	v, err := json.Marshal(c)
	if err != nil {
		return err
	}
	return s.update("store the scan cursor of "+c.Project, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketScan)
		if err != nil {
			return err
		}
		return b.Put(cursorKey(c.Project), v)
	})
}

// PutIssueFindings records what a scan of one issue found, in one step.
// A finding already known keeps its FirstSeen and becomes open again if
// it was resolved; a new one is stored open. When complete (every field
// and comment of the issue was scanned in full), the issue's open
// findings not in found become resolved at now. It returns the findings
// that are new or reopened.
func (s *Store) PutIssueFindings(issue string, found []state.Finding, complete bool, now time.Time) ([]state.Finding, error) {
	var fresh []state.Finding
	err := s.update("record the findings of "+issue, func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketFindings)
		if err != nil {
			return err
		}
		seen := make(map[string]bool, len(found))
		for _, f := range found {
			seen[f.ID] = true
			if v := b.Get([]byte(f.ID)); v != nil {
				var old state.Finding
				if err := json.Unmarshal(v, &old); err != nil {
					return err
				}
				f.FirstSeen = old.FirstSeen
				if old.State == state.FindingResolved {
					fresh = append(fresh, f)
				}
			} else {
				f.FirstSeen = now
				fresh = append(fresh, f)
			}
			f.State, f.LastSeen, f.ResolvedAt = state.FindingOpen, now, time.Time{}
			if err := putJSON(b, []byte(f.ID), f); err != nil {
				return err
			}
		}
		if !complete {
			return nil
		}
		prefix := []byte(state.FindingIssuePrefix(issue))
		c := b.Cursor()
		var resolve []state.Finding
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			if seen[string(k)] {
				continue
			}
			var f state.Finding
			if err := json.Unmarshal(v, &f); err != nil {
				return err
			}
			if f.State == state.FindingOpen {
				f.State, f.ResolvedAt = state.FindingResolved, now
				resolve = append(resolve, f)
			}
		}
		for _, f := range resolve {
			if err := putJSON(b, []byte(f.ID), f); err != nil {
				return err
			}
		}
		return nil
	})
	return fresh, err
}

// Findings returns the findings the filter selects, in id order (by
// issue, then location).
func (s *Store) Findings(q state.FindingFilter) ([]state.Finding, error) {
	var out []state.Finding
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFindings)
		if b == nil {
			return nil
		}
		c := b.Cursor()
		var prefix []byte
		if q.Issue != "" {
			prefix = []byte(state.FindingIssuePrefix(q.Issue))
		}
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			var f state.Finding
			if err := json.Unmarshal(v, &f); err != nil {
				return err
			}
			if !q.Matches(f) {
				continue
			}
			out = append(out, f)
			if q.Limit > 0 && len(out) >= q.Limit {
				break
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("state: findings: %w", err)
	}
	return out, nil
}

// FindingAction returns the ledger entry of an action.
func (s *Store) FindingAction(id string) (a state.FindingAction, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFindingActions)
		if b == nil {
			return nil
		}
		v := b.Get([]byte(id))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &a)
	})
	if err != nil {
		return a, false, fmt.Errorf("state: finding action: %w", err)
	}
	return a, ok, nil
}

// PutFindingActions stores ledger entries, all or none.
func (s *Store) PutFindingActions(as ...state.FindingAction) error {
	if len(as) == 0 {
		return nil
	}
	return s.update("record finding actions", func(tx *bolt.Tx) error {
		b, err := tx.CreateBucketIfNotExists(bucketFindingActions)
		if err != nil {
			return err
		}
		for _, a := range as {
			if err := putJSON(b, []byte(a.ID), a); err != nil {
				return err
			}
		}
		return nil
	})
}

// FindingActions returns the ledger entries in the given state ("" for
// all), in id order.
func (s *Store) FindingActions(st state.ActionState) ([]state.FindingAction, error) {
	var out []state.FindingAction
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketFindingActions)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var a state.FindingAction
			if err := json.Unmarshal(v, &a); err != nil {
				return err
			}
			if st == "" || a.State == st {
				out = append(out, a)
			}
			return nil
		})
	})
	if err != nil {
		return nil, fmt.Errorf("state: finding actions: %w", err)
	}
	return out, nil
}

func putJSON(b *bolt.Bucket, k []byte, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return b.Put(k, data)
}
