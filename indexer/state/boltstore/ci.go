package boltstore

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

var (
	bucketCIState   = []byte("ci_state")   // repo key → state.CIState
	bucketCIEntries = []byte("ci_entries") // repo key \x00 kind \x00 name \x00 issue → state.CIEntry
)

func ciEntryKey(k state.RepoKey, id state.CIEntryID) []byte {
	return []byte(string(repoKeyBytes(k)) + "\x00" + string(id.Kind) + "\x00" + id.Name + "\x00" + id.Issue)
}

// CIState returns the builds-and-deployments cursors of a repo; ok is false
// if none were stored.
func (s *Store) CIState(k state.RepoKey) (st state.CIState, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCIState)
		if b == nil { // a read-only open of a file from before builds
			return nil
		}
		v := b.Get(repoKeyBytes(k))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &st)
	})
	if err != nil {
		return state.CIState{}, false, fmt.Errorf("state: read CI state of %s: %w", k, err)
	}
	return st, ok, nil
}

// CIEntries returns the stored entries among ids (absent ones are missing
// from the map).
func (s *Store) CIEntries(k state.RepoKey, ids []state.CIEntryID) (map[state.CIEntryID]state.CIEntry, error) {
	out := make(map[state.CIEntryID]state.CIEntry, len(ids))
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCIEntries)
		if b == nil {
			return nil
		}
		for _, id := range ids {
			v := b.Get(ciEntryKey(k, id))
			if v == nil {
				continue
			}
			var e state.CIEntry
			if err := json.Unmarshal(v, &e); err != nil {
				return err
			}
			out[id] = e
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("state: read CI entries of %s: %w", k, err)
	}
	return out, nil
}

// PutCI stores entries and st in one transaction.
func (s *Store) PutCI(st state.CIState, entries []state.CIEntry) error {
	return s.update("put CI state "+st.Key.String(), func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCIEntries)
		for _, e := range entries {
			v, err := json.Marshal(e)
			if err != nil {
				return err
			}
			if err := b.Put(ciEntryKey(st.Key, e.ID), v); err != nil {
				return err
			}
		}
		v, err := json.Marshal(st)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketCIState).Put(repoKeyBytes(st.Key), v)
	})
}

// ForgetCI drops a repo's CI state and entries.
func (s *Store) ForgetCI(k state.RepoKey) error {
	return s.update("forget CI state "+k.String(), func(tx *bolt.Tx) error { return forgetCI(tx, k) })
}

// forgetCI drops a repo's CI state and entries within tx.
func forgetCI(tx *bolt.Tx, k state.RepoKey) error {
	if b := tx.Bucket(bucketCIState); b != nil {
		if err := b.Delete(repoKeyBytes(k)); err != nil {
			return err
		}
	}
	entries := tx.Bucket(bucketCIEntries)
	if entries == nil {
		return nil
	}
	prefix := append(repoKeyBytes(k), 0)
	c := entries.Cursor()
	var del [][]byte
	for key, _ := c.Seek(prefix); key != nil && hasPrefix(key, prefix); key, _ = c.Next() {
		del = append(del, append([]byte(nil), key...))
	}
	for _, key := range del {
		if err := entries.Delete(key); err != nil {
			return err
		}
	}
	return nil
}

func hasPrefix(b, prefix []byte) bool {
	return len(b) >= len(prefix) && string(b[:len(prefix)]) == string(prefix)
}

// linearRange follows first parents from head to one of stop. ok is false
// (and the general walk needed) when it meets a merge, an unindexed
// commit, the history's root or more than limit commits before a stop
// commit.
func linearRange(b *bolt.Bucket, head string, stop []string, limit int) (shas []string, ok bool) {
	isStop := make(map[string]bool, len(stop))
	for _, s := range stop {
		isStop[s] = true
	}
	for c := head; ; {
		if isStop[c] {
			return shas, true
		}
		v := b.Get(state.SHAKey(c))
		if v == nil || len(shas) == limit {
			return nil, false
		}
		ps := state.DecodeParents(v)
		if len(ps) != 1 {
			return nil, false
		}
		shas = append(shas, c)
		c = ps[0]
	}
}

// CommitRange lists the indexed commits reachable from head and from none
// of stop, at most limit of them (truncated then reports that there were
// more). Commits that are not indexed are neither listed nor walked
// through: a head that is not indexed yields nothing.
func (s *Store) CommitRange(k state.RepoKey, head string, stop []string, limit int) (shas []string, truncated bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCommits).Bucket(repoKeyBytes(k))
		if b == nil {
			return nil
		}
		// Fast path, exact for a linear stretch (the usual run or
		// deployment after the previous one on the same line): follow
		// single parents from head until a stop commit.
		if lin, ok := linearRange(b, head, stop, limit); ok {
			shas = lin
			return nil
		}
		// Everything the stop commits reach is excluded.
		excluded := map[string]bool{}
		stack := append([]string(nil), stop...)
		for len(stack) > 0 {
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if excluded[c] {
				continue
			}
			v := b.Get(state.SHAKey(c))
			if v == nil {
				continue
			}
			excluded[c] = true
			stack = append(stack, state.DecodeParents(v)...)
		}
		seen := map[string]bool{}
		stack = []string{head}
		for len(stack) > 0 {
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[c] || excluded[c] {
				continue
			}
			v := b.Get(state.SHAKey(c))
			if v == nil {
				continue
			}
			seen[c] = true
			if len(shas) == limit {
				truncated = true
				return nil
			}
			shas = append(shas, c)
			stack = append(stack, state.DecodeParents(v)...)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("state: commit range of %s: %w", k, err)
	}
	return shas, truncated, nil
}
