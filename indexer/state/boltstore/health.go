package boltstore

import (
	"encoding/json"
	"fmt"
	"sort"

	bolt "go.etcd.io/bbolt"

	"github.com/jiralinkd/jiralinkd/indexer/state"

	"github.com/jiralinkd/jiralinkd/providers"
)

// Health returns the recorded health of every system, Jira first, then
// providers by name.
func (s *Store) Health() ([]state.Health, error) {
	var out []state.Health
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketHealth)
		if b == nil { // a read-only file written by an older version
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var h state.Health
			if err := json.Unmarshal(v, &h); err != nil {
				return err
			}
			out = append(out, h)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool {
		if (out[i].System == state.JiraSystem) != (out[j].System == state.JiraSystem) {
			return out[i].System == state.JiraSystem
		}
		return out[i].System < out[j].System
	})
	if err != nil {
		return nil, fmt.Errorf("state: read health: %w", err)
	}
	return out, nil
}

// UpdateHealth reads a system's health, lets fn change it and stores it, in
// one transaction (passes of several providers update Jira's at once).
func (s *Store) UpdateHealth(system string, fn func(*state.Health)) error {
	return s.update("health of "+system, func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketHealth)
		var h state.Health
		if v := b.Get([]byte(system)); v != nil {
			if err := json.Unmarshal(v, &h); err != nil {
				return err
			}
		}
		h.System = system
		fn(&h)
		v, err := json.Marshal(h)
		if err != nil {
			return err
		}
		return b.Put([]byte(system), v)
	})
}

// RecordRepoFailure marks a repo failed for a pass that could not sync it
// at all (Jira or the provider failed before the repo's turn), keeping its
// cursors. A repo not in the state yet is added, so the failure is visible.
func (s *Store) RecordRepoFailure(k state.RepoKey, r providers.Repo, f state.Failure) error {
	return s.update("record failure of "+k.String(), func(tx *bolt.Tx) error {
		var st state.RepoState
		if v := tx.Bucket(bucketRepos).Get(repoKeyBytes(k)); v != nil {
			if err := json.Unmarshal(v, &st); err != nil {
				return err
			}
		} else {
			st = state.RepoState{Key: k, Repo: r}
		}
		st.MarkFailed(f)
		return putRepo(tx, st)
	})
}
