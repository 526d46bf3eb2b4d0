package boltstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"

	bolt "go.etcd.io/bbolt"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// linkKey is a link's key in the links bucket.
func linkKey(l state.Link) []byte { return []byte(l.GlobalID + "\x00" + l.Issue) }

// issueKey is a link's key in the by-issue index.
func issueKey(l state.Link) []byte { return []byte(l.Issue + "\x00" + l.GlobalID) }

// LinkHashes returns the stored content hash of each link that is known to
// be in Jira (absent links are missing from the map).
func (s *Store) LinkHashes(links []state.Link) (map[state.Link]uint64, error) {
	out := make(map[state.Link]uint64, len(links))
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLinks)
		for _, l := range links {
			if v := b.Get(linkKey(l)); len(v) >= 8 {
				out[l] = u64(v[:8])
			}
		}
		return nil
	})
	return out, err
}

// PutLinks records links written to Jira.
func (s *Store) PutLinks(links map[state.Link]state.LinkRecord) error {
	if len(links) == 0 {
		return nil
	}
	return s.update("record links", func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLinks)
		byIssue := tx.Bucket(bucketByIssue)
		for l, r := range links {
			info, err := json.Marshal(r.Info)
			if err != nil {
				return err
			}
			// A fresh slice per Put: bbolt keeps the value until commit.
			v := append(binary.BigEndian.AppendUint64(make([]byte, 0, 8+len(info)), r.Hash), info...)
			if err := b.Put(linkKey(l), v); err != nil {
				return err
			}
			if err := byIssue.Put(issueKey(l), nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// IssueLinks returns what jiralinkd linked to an issue, ordered by globalId.
func (s *Store) IssueLinks(issue string) ([]state.IssueLink, error) {
	var out []state.IssueLink
	prefix := []byte(issue + "\x00")
	err := s.db.View(func(tx *bolt.Tx) error {
		links := tx.Bucket(bucketLinks)
		c := tx.Bucket(bucketByIssue).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			l := state.Link{Issue: issue, GlobalID: string(k[len(prefix):])}
			il := state.IssueLink{Link: l}
			if v := links.Get(linkKey(l)); len(v) > 8 {
				if err := json.Unmarshal(v[8:], &il.LinkInfo); err != nil {
					return err
				}
			}
			out = append(out, il)
		}
		return nil
	})
	return out, err
}

// LinksOf returns the issues linked to an entity's globalId.
func (s *Store) LinksOf(globalID string) ([]state.Link, error) {
	var out []state.Link
	prefix := []byte(globalID + "\x00")
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLinks).Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			out = append(out, state.Link{GlobalID: globalID, Issue: string(k[len(prefix):])})
		}
		return nil
	})
	return out, err
}

// DeleteLinks forgets links that were removed from Jira.
func (s *Store) DeleteLinks(links []state.Link) error {
	return s.update("forget links", func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLinks)
		byIssue := tx.Bucket(bucketByIssue)
		for _, l := range links {
			if err := b.Delete(linkKey(l)); err != nil {
				return err
			}
			if err := byIssue.Delete(issueKey(l)); err != nil {
				return err
			}
		}
		return nil
	})
}

// AllLinks calls fn for every recorded link, in key order.
func (s *Store) AllLinks(fn func(state.Link) error) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketLinks).ForEach(func(k, _ []byte) error {
			i := bytes.LastIndexByte(k, 0)
			return fn(state.Link{GlobalID: string(k[:i]), Issue: string(k[i+1:])})
		})
	})
}

// Issues returns cached statuses for the keys that have one.
func (s *Store) Issues(keys []string) (map[string]state.IssueStatus, error) {
	out := make(map[string]state.IssueStatus, len(keys))
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIssues)
		for _, k := range keys {
			if v := b.Get([]byte(k)); v != nil {
				var st state.IssueStatus
				if err := json.Unmarshal(v, &st); err != nil {
					return err
				}
				out[k] = st
			}
		}
		return nil
	})
	return out, err
}

// PutIssues caches issue statuses.
func (s *Store) PutIssues(st map[string]state.IssueStatus) error {
	if len(st) == 0 {
		return nil
	}
	return s.update("cache issues", func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIssues)
		for k, v := range st {
			data, err := json.Marshal(v)
			if err != nil {
				return err
			}
			if err := b.Put([]byte(k), data); err != nil {
				return err
			}
		}
		return nil
	})
}

// GlobalIDsWithPrefix returns the distinct globalIds starting with prefix
// (all entities of one repo share a prefix).
func (s *Store) GlobalIDsWithPrefix(prefix string) ([]string, error) {
	var out []string
	p := []byte(prefix)
	err := s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLinks).Cursor()
		last := ""
		for k, _ := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, _ = c.Next() {
			gid := string(k[:bytes.IndexByte(k, 0)])
			if gid != last {
				out = append(out, gid)
				last = gid
			}
		}
		return nil
	})
	return out, err
}

// RepoLinks calls fn with every link record whose globalId starts with
// prefix (all the links of one repo share one), in key order.
func (s *Store) RepoLinks(prefix string, fn func(state.Link, state.LinkRecord) error) error {
	p := []byte(prefix)
	return s.db.View(func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketLinks).Cursor()
		for k, v := c.Seek(p); k != nil && bytes.HasPrefix(k, p); k, v = c.Next() {
			i := bytes.LastIndexByte(k, 0)
			rec := state.LinkRecord{Hash: u64(v[:min(8, len(v))])}
			if len(v) > 8 {
				if err := json.Unmarshal(v[8:], &rec.Info); err != nil {
					return err
				}
			}
			if err := fn(state.Link{GlobalID: string(k[:i]), Issue: string(k[i+1:])}, rec); err != nil {
				return err
			}
		}
		return nil
	})
}
