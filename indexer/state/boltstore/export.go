package boltstore

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// Enumeration of everything the file holds, for copying it to another
// backend (jiralinkd state migrate). Each method reads in one bbolt read
// transaction and works on a store opened with OpenReadOnly (buckets a
// file from an older version lacks yield nothing). fn's error stops the
// enumeration and is returned as is.

// parseRepoKey is the inverse of repoKeyBytes; rest is what follows the
// key after a NUL (a walk's branch), "" if nothing does.
func parseRepoKey(b []byte) (k state.RepoKey, rest string, err error) {
	provider, tail, ok := strings.Cut(string(b), "\x00")
	if !ok {
		return k, "", fmt.Errorf("malformed repo key %q", b)
	}
	id, rest, _ := strings.Cut(tail, "\x00")
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		return k, "", fmt.Errorf("malformed repo key %q: %w", b, err)
	}
	return state.RepoKey{Provider: provider, ID: n}, rest, nil
}

// view runs fn in a read transaction, wrapping its errors with what.
func (s *Store) view(what string, fn func(tx *bolt.Tx) error) error {
	if err := s.db.View(fn); err != nil {
		return fmt.Errorf("state: %s: %w", what, err)
	}
	return nil
}

// EachDiscovery calls fn with every cached discovery result, in key order.
func (s *Store) EachDiscovery(fn func(provider, key string, d state.Discovery) error) error {
	return s.view("export discovery", func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDiscovery)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			provider, key, _ := strings.Cut(string(k), "\x00")
			var d state.Discovery
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			return fn(provider, key, d)
		})
	})
}

// EachCommits calls fn once per repo with its indexed commits (with their
// parents), in key order.
func (s *Store) EachCommits(fn func(k state.RepoKey, commits []state.Commit) error) error {
	return s.view("export commits", func(tx *bolt.Tx) error {
		return eachRepoBucket(tx, bucketCommits, func(k state.RepoKey, _ string, b *bolt.Bucket) error {
			commits := make([]state.Commit, 0, b.Stats().KeyN)
			if err := b.ForEach(func(key, v []byte) error {
				commits = append(commits, state.CommitFromRecord(bytes.Clone(key), bytes.Clone(v)))
				return nil
			}); err != nil {
				return err
			}
			return fn(k, commits)
		})
	})
}

// EachPendingWalk calls fn with every unfinished walk: its repo, branch
// and checkpointed commits in the order they were checkpointed.
func (s *Store) EachPendingWalk(fn func(k state.RepoKey, branch string, commits []state.Commit) error) error {
	return s.view("export unfinished walks", func(tx *bolt.Tx) error {
		return eachRepoBucket(tx, bucketPending, func(k state.RepoKey, branch string, b *bolt.Bucket) error {
			var commits []state.Commit
			if err := b.ForEach(func(_, v []byte) error {
				commits = append(commits, pendingCommit(bytes.Clone(v)))
				return nil
			}); err != nil {
				return err
			}
			return fn(k, branch, commits)
		})
	})
}

// EachIssue calls fn with every cached issue status, in key order.
func (s *Store) EachIssue(fn func(key string, st state.IssueStatus) error) error {
	return s.view("export issue cache", func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketIssues)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			var st state.IssueStatus
			if err := json.Unmarshal(v, &st); err != nil {
				return err
			}
			return fn(string(k), st)
		})
	})
}

// EachDelivery calls fn with every remembered webhook delivery id and
// when it was received.
func (s *Store) EachDelivery(fn func(provider, id string, received time.Time) error) error {
	return s.view("export delivery ids", func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketDeliv)
		if b == nil {
			return nil
		}
		return b.ForEach(func(k, v []byte) error {
			provider, id, _ := strings.Cut(string(k), "\x00")
			return fn(provider, id, time.Unix(0, int64(u64(v))))
		})
	})
}

// EachSmartPending calls fn once per repo with its pending smart commits,
// oldest first.
func (s *Store) EachSmartPending(fn func(k state.RepoKey, ps []state.SmartPending) error) error {
	return s.view("export pending smart commits", func(tx *bolt.Tx) error {
		return eachRepoBucket(tx, bucketSmartPending, func(k state.RepoKey, _ string, _ *bolt.Bucket) error {
			all, err := readSmartPending(tx, k)
			if err != nil {
				return err
			}
			ps := make([]state.SmartPending, 0, len(all))
			for _, p := range all {
				ps = append(ps, p)
			}
			state.SortSmartPending(ps)
			return fn(k, ps)
		})
	})
}

// EachCI calls fn once per repo with builds-and-deployments state: its
// cursors (ok false if only entries are stored) and its entries.
func (s *Store) EachCI(fn func(st state.CIState, ok bool, entries []state.CIEntry) error) error {
	type repoCI struct {
		st      state.CIState
		ok      bool
		entries []state.CIEntry
	}
	var repos []*repoCI
	byKey := map[state.RepoKey]*repoCI{}
	get := func(k state.RepoKey) *repoCI {
		r := byKey[k]
		if r == nil {
			r = &repoCI{st: state.CIState{Key: k}}
			byKey[k] = r
			repos = append(repos, r)
		}
		return r
	}
	err := s.view("export CI state", func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketCIState); b != nil {
			if err := b.ForEach(func(key, v []byte) error {
				k, _, err := parseRepoKey(key)
				if err != nil {
					return err
				}
				r := get(k)
				r.ok = true
				return json.Unmarshal(v, &r.st)
			}); err != nil {
				return err
			}
		}
		if b := tx.Bucket(bucketCIEntries); b != nil {
			return b.ForEach(func(key, v []byte) error {
				k, _, err := parseRepoKey(key)
				if err != nil {
					return err
				}
				var e state.CIEntry
				if err := json.Unmarshal(v, &e); err != nil {
					return err
				}
				r := get(k)
				r.entries = append(r.entries, e)
				return nil
			})
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, r := range repos {
		if err := fn(r.st, r.ok, r.entries); err != nil {
			return err
		}
	}
	return nil
}

// StoredFindingSalt returns the finding salt, nil if none was created
// (unlike FindingSalt, it never creates one: it works read-only).
func (s *Store) StoredFindingSalt() ([]byte, error) {
	var salt []byte
	err := s.view("export the finding salt", func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketScan); b != nil {
			salt = bytes.Clone(b.Get([]byte(saltKey)))
		}
		return nil
	})
	return salt, err
}

// EachRouteDrop calls fn with every recorded route drop, by issue then
// globalId.
func (s *Store) EachRouteDrop(fn func(d state.RouteDrop) error) error {
	return s.view("export route drops", func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketRouteDrops)
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error {
			var d state.RouteDrop
			if err := json.Unmarshal(v, &d); err != nil {
				return err
			}
			return fn(d)
		})
	})
}

// eachRepoBucket calls fn with every nested bucket of the top-level bucket
// name, keyed by repo (and, for walks, a branch after the repo key): the
// repo, the rest of the name and the bucket. A missing top-level bucket
// (an older read-only file) has none.
func eachRepoBucket(tx *bolt.Tx, name []byte, fn func(k state.RepoKey, rest string, b *bolt.Bucket) error) error {
	root := tx.Bucket(name)
	if root == nil {
		return nil
	}
	return root.ForEachBucket(func(child []byte) error {
		k, rest, err := parseRepoKey(child)
		if err != nil {
			return err
		}
		return fn(k, rest, root.Bucket(child))
	})
}
