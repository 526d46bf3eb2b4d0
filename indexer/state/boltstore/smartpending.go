package boltstore

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// bucketSmartPending holds, per repo (a nested bucket named by the repo
// key), the commits whose smart-commit commands have not run yet: binary
// SHA → JSON SmartPending. It is created by the first AddSmartPending.
var bucketSmartPending = []byte("smart_pending")

// AddSmartPending records commits whose commands have not run, in the
// given order (oldest first). A commit already recorded keeps its record.
func (s *Store) AddSmartPending(k state.RepoKey, cs []state.SmartPending) error {
	if len(cs) == 0 {
		return nil
	}
	return s.update("record pending smart commits "+k.String(), func(tx *bolt.Tx) error {
		root, err := tx.CreateBucketIfNotExists(bucketSmartPending)
		if err != nil {
			return err
		}
		b, err := root.CreateBucketIfNotExists(repoKeyBytes(k))
		if err != nil {
			return err
		}
		for _, c := range cs {
			key := state.SHAKey(c.SHA)
			if b.Get(key) != nil {
				continue
			}
			if c.Seq, err = b.NextSequence(); err != nil {
				return err
			}
			v, err := json.Marshal(c)
			if err != nil {
				return err
			}
			if err := b.Put(key, v); err != nil {
				return err
			}
		}
		return nil
	})
}

// SmartPendingCommits returns the repo's commits with commands not run
// yet, oldest first.
func (s *Store) SmartPendingCommits(k state.RepoKey) ([]state.SmartPending, error) {
	var out []state.SmartPending
	err := s.db.View(func(tx *bolt.Tx) error {
		all, err := readSmartPending(tx, k)
		for _, p := range all {
			out = append(out, p)
		}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("state: read pending smart commits of %s: %w", k, err)
	}
	state.SortSmartPending(out)
	return out, nil
}

// SmartPendingReachable returns, oldest first, the pending commits (see
// AddSmartPending) reachable from head, following the stored parents of
// indexed commits, of the commits of branch's unfinished walk (if any),
// and of walked, commits not stored yet (the walk reaching head, before
// the branch cursor advances). Parents of the commits in stop (the
// branch's previous head) are not followed: no pending commit is reachable
// from a head whose advance was already checked, so the search of a
// fast-forward covers only the new commits. The search ends as soon as
// every pending commit is found; with none pending it reads nothing else.
func (s *Store) SmartPendingReachable(k state.RepoKey, branch, head string, stop []string, walked []state.Commit) ([]state.SmartPending, error) {
	var out []state.SmartPending
	err := s.db.View(func(tx *bolt.Tx) error {
		want, err := readSmartPending(tx, k)
		if err != nil || len(want) == 0 {
			return err
		}
		extra := make(map[string][]byte, len(walked))
		for _, c := range walked {
			extra[string(c.Key())] = c.EncodedParents()
		}
		if pend := tx.Bucket(bucketPending).Bucket(pendingKey(k, branch)); pend != nil {
			err := pend.ForEach(func(_, v []byte) error {
				c := pendingCommit(v)
				extra[string(c.Key())] = c.EncodedParents()
				return nil
			})
			if err != nil {
				return err
			}
		}
		halt := make(map[string]bool, len(stop))
		for _, sha := range stop {
			halt[string(state.SHAKey(sha))] = true
		}
		commits := tx.Bucket(bucketCommits).Bucket(repoKeyBytes(k))
		seen := map[string]bool{}
		stack := [][]byte{state.SHAKey(head)}
		for len(stack) > 0 && len(out) < len(want) {
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[string(c)] {
				continue
			}
			seen[string(c)] = true
			if p, ok := want[string(c)]; ok {
				out = append(out, p)
			}
			if halt[string(c)] {
				continue
			}
			v, ok := extra[string(c)]
			if !ok && commits != nil {
				v = commits.Get(c)
			}
			stack = state.AppendParentKeys(stack, v)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("state: find pending smart commits of %s: %w", k, err)
	}
	state.SortSmartPending(out)
	return out, nil
}

// DropSmartPending forgets pending commits: their commands ran, or the
// commits were forgotten.
func (s *Store) DropSmartPending(k state.RepoKey, shas []string) error {
	return s.update("drop pending smart commits "+k.String(), func(tx *bolt.Tx) error {
		return dropSmartPending(tx, k, shas)
	})
}

func dropSmartPending(tx *bolt.Tx, k state.RepoKey, shas []string) error {
	root := tx.Bucket(bucketSmartPending)
	if root == nil {
		return nil
	}
	b := root.Bucket(repoKeyBytes(k))
	if b == nil {
		return nil
	}
	for _, sha := range shas {
		if err := b.Delete(state.SHAKey(sha)); err != nil {
			return err
		}
	}
	return nil
}

// forgetSmartPending drops every pending commit of the repo.
func forgetSmartPending(tx *bolt.Tx, k state.RepoKey) error {
	root := tx.Bucket(bucketSmartPending)
	if root == nil || root.Bucket(repoKeyBytes(k)) == nil {
		return nil
	}
	return root.DeleteBucket(repoKeyBytes(k))
}

// readSmartPending returns the repo's pending commits by binary SHA.
func readSmartPending(tx *bolt.Tx, k state.RepoKey) (map[string]state.SmartPending, error) {
	root := tx.Bucket(bucketSmartPending)
	if root == nil {
		return nil, nil
	}
	b := root.Bucket(repoKeyBytes(k))
	if b == nil {
		return nil, nil
	}
	out := map[string]state.SmartPending{}
	err := b.ForEach(func(key, v []byte) error {
		var p state.SmartPending
		if err := json.Unmarshal(v, &p); err != nil {
			return fmt.Errorf("pending smart commit %s: %w", state.SHAString(key), err)
		}
		out[string(key)] = p
		return nil
	})
	return out, err
}
