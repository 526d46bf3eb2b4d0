// Package boltstore keeps jiralinkd's state (package state) in an embedded
// bbolt file: the default backend for a single node.
//
// Every write is a bbolt transaction, so a crash leaves either the state
// before or after a step, never half of it. The file is locked by the
// process that opened it; a second opener fails with state.ErrLocked.
package boltstore

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/jiralinkd/jiralinkd/indexer/state"

	"github.com/jiralinkd/jiralinkd/providers"
)

var (
	bucketMeta      = []byte("meta")
	bucketRepos     = []byte("repos")
	bucketDiscovery = []byte("discovery")
	bucketCommits   = []byte("commits") // nested: one bucket per repo
	bucketPending   = []byte("pending") // nested: one bucket per repo+branch walk in progress
	bucketLinks     = []byte("links")
	bucketByIssue   = []byte("links_by_issue") // issue\x00globalId → nil
	bucketIssues    = []byte("issues")
	bucketQueue     = []byte("queue")      // webhook deliveries accepted, not yet processed
	bucketDeliv     = []byte("deliveries") // delivery ids seen, for deduplication
	bucketHealth    = []byte("health")     // per provider and Jira: outcome of the last pass
)

// schemaVersion is bumped on incompatible layout changes.
const schemaVersion = "1"

// Store is the state database. It is safe for concurrent use.
type Store struct {
	db   *bolt.DB
	path string
}

// Open opens (creating it 0600, and its directory 0700, if needed) the state
// file. If another process holds it, Open fails after lockTimeout with an
// error naming the file instead of hanging.
func Open(path string, lockTimeout time.Duration) (*Store, error) {
	if lockTimeout <= 0 {
		lockTimeout = 2 * time.Second
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("state: create directory for %s: %w", path, err)
		}
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("state: open %s: %w (waited %s)", path, state.ErrLocked, lockTimeout)
		}
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketRepos, bucketDiscovery, bucketCommits, bucketPending, bucketLinks, bucketByIssue, bucketIssues, bucketQueue, bucketDeliv, bucketHealth, bucketRecords, bucketSCPending, bucketSCByIssue, bucketFindings, bucketScan, bucketFindingActions, bucketRouteDrops, bucketCIState, bucketCIEntries} {
			if _, err := tx.CreateBucketIfNotExists(b); err != nil {
				return err
			}
		}
		meta := tx.Bucket(bucketMeta)
		switch v := meta.Get([]byte("schema")); {
		case v == nil:
			return meta.Put([]byte("schema"), []byte(schemaVersion))
		case string(v) != schemaVersion:
			return fmt.Errorf("schema version %s, this build understands %s", v, schemaVersion)
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("state: initialise %s: %w", path, err)
	}
	return s, nil
}

// OpenReadOnly opens an existing state file for reading only (sync
// --dry-run): it creates no file, directory or bucket and never writes, so
// the file stays byte-identical; any write through the Store fails with
// bolt.ErrDatabaseReadOnly. Readers share the file with each other but not
// with a writer: if serve holds it, OpenReadOnly fails with ErrLocked after
// lockTimeout. A missing file is an error matching fs.ErrNotExist.
func OpenReadOnly(path string, lockTimeout time.Duration) (*Store, error) {
	if lockTimeout <= 0 {
		lockTimeout = 2 * time.Second
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: lockTimeout, ReadOnly: true})
	if err != nil {
		if errors.Is(err, bolt.ErrTimeout) {
			return nil, fmt.Errorf("state: open %s: %w (waited %s)", path, state.ErrLocked, lockTimeout)
		}
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		meta := tx.Bucket(bucketMeta)
		if meta == nil {
			return errors.New("not a jiralinkd state file (no schema version)")
		}
		if v := meta.Get([]byte("schema")); string(v) != schemaVersion {
			return fmt.Errorf("schema version %s, this build understands %s", v, schemaVersion)
		}
		return nil
	})
	if err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	return &Store{db: db, path: path}, nil
}

// DB is the underlying bbolt database, for components that keep their own
// buckets in the same file (the smart-commit ledger).
func (s *Store) DB() *bolt.DB { return s.db }

// Path is the file the store lives in.
func (s *Store) Path() string { return s.path }

// Close closes the database file.
func (s *Store) Close() error { return s.db.Close() }

// Size is the size of the state file in bytes.
func (s *Store) Size() (int64, error) {
	var n int64
	err := s.db.View(func(tx *bolt.Tx) error { n = tx.Size(); return nil })
	return n, err
}

// repoKeyBytes is a repo's key in the repos bucket (and the prefix of its
// other keys).
func repoKeyBytes(k state.RepoKey) []byte {
	return []byte(k.Provider + "\x00" + strconv.FormatInt(k.ID, 10))
}

// Repo returns the state of one repo; ok is false if it was never synced.
func (s *Store) Repo(k state.RepoKey) (st state.RepoState, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRepos).Get(repoKeyBytes(k))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &st)
	})
	if err != nil {
		return state.RepoState{}, false, fmt.Errorf("state: read repo %s: %w", k, err)
	}
	return st, ok, nil
}

// PutRepo stores a repo's state.
func (s *Store) PutRepo(st state.RepoState) error {
	return s.update("put repo "+st.Key.String(), func(tx *bolt.Tx) error { return putRepo(tx, st) })
}

func putRepo(tx *bolt.Tx, st state.RepoState) error {
	v, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketRepos).Put(repoKeyBytes(st.Key), v)
}

// Repos returns every known repo, ordered by provider then full name.
func (s *Store) Repos() ([]state.RepoState, error) {
	var out []state.RepoState
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRepos).ForEach(func(_, v []byte) error {
			var st state.RepoState
			if err := json.Unmarshal(v, &st); err != nil {
				return err
			}
			out = append(out, st)
			return nil
		})
	})
	sort.Slice(out, func(i, j int) bool {
		if out[i].Key.Provider != out[j].Key.Provider {
			return out[i].Key.Provider < out[j].Key.Provider
		}
		return out[i].Repo.FullName < out[j].Repo.FullName
	})
	return out, err
}

// Discovery returns the cached discovery result for key within provider.
func (s *Store) Discovery(provider, key string) (d state.Discovery, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketDiscovery).Get([]byte(provider + "\x00" + key))
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &d)
	})
	return d, ok, err
}

// PutDiscovery caches a discovery result.
func (s *Store) PutDiscovery(provider, key string, d state.Discovery) error {
	return s.update("put discovery", func(tx *bolt.Tx) error {
		v, err := json.Marshal(d)
		if err != nil {
			return err
		}
		return tx.Bucket(bucketDiscovery).Put([]byte(provider+"\x00"+key), v)
	})
}

// KnownCommits reports which of shas are already indexed for the repo. A
// commit is only recorded together with its whole ancestry, so a known
// commit's history never needs to be read again.
func (s *Store) KnownCommits(k state.RepoKey, shas []string) (map[string]bool, error) {
	known := make(map[string]bool, len(shas))
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCommits).Bucket(repoKeyBytes(k))
		if b == nil {
			return nil
		}
		for _, sha := range shas {
			if b.Get(state.SHAKey(sha)) != nil {
				known[sha] = true
			}
		}
		return nil
	})
	return known, err
}

// CommitCount is the number of indexed commits of the repo.
func (s *Store) CommitCount(k state.RepoKey) (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketCommits).Bucket(repoKeyBytes(k)); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
}

func pendingKey(k state.RepoKey, branch string) []byte {
	return []byte(string(repoKeyBytes(k)) + "\x00" + branch)
}

// CheckpointWalk saves, in one transaction, commits walked on branch (their
// links are written) and st with its Walks checkpoint. Pending commits are
// appended under sequence numbers (dense, fast pages); they are sorted
// once, when the walk completes.
func (s *Store) CheckpointWalk(st state.RepoState, branch string, commits []state.Commit) error {
	return s.update("checkpoint walk "+st.Key.String(), func(tx *bolt.Tx) error {
		b, err := tx.Bucket(bucketPending).CreateBucketIfNotExists(pendingKey(st.Key, branch))
		if err != nil {
			return err
		}
		b.FillPercent = 1
		for _, c := range commits {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			key, parents := c.Key(), c.EncodedParents()
			rec := append(append(append(make([]byte, 0, 1+len(key)+len(parents)), byte(len(key))), key...), parents...)
			if err := b.Put(binary.BigEndian.AppendUint64(nil, seq), rec); err != nil {
				return err
			}
		}
		return putRepo(tx, st)
	})
}

// pendingCommit decodes a pending record: key length, key, parents.
func pendingCommit(v []byte) state.Commit {
	n := int(v[0])
	return state.CommitFromRecord(v[1:1+n], v[1+n:])
}

// PendingCommits calls fn with every commit an unfinished walk of branch
// has already handled.
func (s *Store) PendingCommits(k state.RepoKey, branch string, fn func(state.Commit)) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPending).Bucket(pendingKey(k, branch))
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error { fn(pendingCommit(v)); return nil })
	})
}

// DiscardWalk drops an unfinished walk's pending commits (its branch moved
// or went away; the walk starts over).
func (s *Store) DiscardWalk(k state.RepoKey, branch string) error {
	return s.update("discard walk "+k.String(), func(tx *bolt.Tx) error {
		if tx.Bucket(bucketPending).Bucket(pendingKey(k, branch)) == nil {
			return nil
		}
		return tx.Bucket(bucketPending).DeleteBucket(pendingKey(k, branch))
	})
}

// putCommits inserts commits in key order: bbolt's inserts of random keys
// in one transaction slow down quadratically (200,000 commits: 86 s random,
// under 1 s sorted), and ordered appends can fill pages.
func putCommits(b *bolt.Bucket, commits []state.Commit) error {
	sorted := slices.Clone(commits)
	slices.SortFunc(sorted, func(a, b state.Commit) int { return bytes.Compare(a.Key(), b.Key()) })
	b.FillPercent = 0.9
	for _, c := range sorted {
		if err := b.Put(c.Key(), c.EncodedParents()); err != nil {
			return err
		}
	}
	return nil
}

// AdvanceBranch records, in one transaction, that branch's walk is
// complete: its pending commits and commits (together a history closed
// under ancestry with the already indexed commits) become indexed, and st
// is saved with the advanced cursor.
func (s *Store) AdvanceBranch(st state.RepoState, branch string, commits []state.Commit) error {
	return s.update("advance cursor "+st.Key.String(), func(tx *bolt.Tx) error {
		pend := tx.Bucket(bucketPending).Bucket(pendingKey(st.Key, branch))
		if len(commits) > 0 || pend != nil {
			b, err := tx.Bucket(bucketCommits).CreateBucketIfNotExists(repoKeyBytes(st.Key))
			if err != nil {
				return err
			}
			if pend != nil {
				all := make([]state.Commit, 0, pend.Stats().KeyN+len(commits))
				if err := pend.ForEach(func(_, v []byte) error { all = append(all, pendingCommit(v)); return nil }); err != nil {
					return err
				}
				commits = append(all, commits...)
				if err := tx.Bucket(bucketPending).DeleteBucket(pendingKey(st.Key, branch)); err != nil {
					return err
				}
			}
			if err := putCommits(b, commits); err != nil {
				return err
			}
		}
		return putRepo(tx, st)
	})
}

// IsAncestor reports whether ancestor is reachable from any of from,
// following the stored parents of indexed commits.
func (s *Store) IsAncestor(k state.RepoKey, ancestor string, from []string) (bool, error) {
	found := false
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCommits).Bucket(repoKeyBytes(k))
		if b == nil {
			return nil
		}
		seen := map[string]bool{}
		stack := append([]string(nil), from...)
		for len(stack) > 0 && !found {
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[c] {
				continue
			}
			seen[c] = true
			if c == ancestor {
				found = true
				break
			}
			stack = append(stack, state.DecodeParents(b.Get(state.SHAKey(c)))...)
		}
		return nil
	})
	return found, err
}

// Unreachable returns the indexed commits that no head reaches (heads
// that are not indexed commits are ignored).
func (s *Store) Unreachable(k state.RepoKey, heads []string) ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCommits).Bucket(repoKeyBytes(k))
		if b == nil {
			return nil
		}
		seen := map[string]bool{}
		stack := append([]string(nil), heads...)
		for len(stack) > 0 {
			c := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if seen[c] {
				continue
			}
			// In a read transaction an indexed root commit's empty value
			// comes back non-nil; nil means not indexed (e.g. a commit only
			// a tag reaches).
			v := b.Get(state.SHAKey(c))
			if v == nil {
				continue
			}
			seen[c] = true
			stack = append(stack, state.DecodeParents(v)...)
		}
		return b.ForEach(func(key, _ []byte) error {
			sha := state.SHAString(key)
			if !seen[sha] {
				out = append(out, sha)
			}
			return nil
		})
	})
	return out, err
}

// ForgetCommits drops commits from the indexed set (they became
// unreachable and their links were removed), and from the pending smart
// commits.
func (s *Store) ForgetCommits(k state.RepoKey, shas []string) error {
	return s.update("forget commits "+k.String(), func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCommits).Bucket(repoKeyBytes(k))
		if b == nil {
			return nil
		}
		for _, sha := range shas {
			if err := b.Delete(state.SHAKey(sha)); err != nil {
				return err
			}
		}
		return dropSmartPending(tx, k, shas)
	})
}

func (s *Store) update(what string, fn func(*bolt.Tx) error) error {
	if err := s.db.Update(fn); err != nil {
		return fmt.Errorf("state: %s: %w", what, err)
	}
	return nil
}

func u64(b []byte) uint64 {
	if len(b) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(b)
}

// ForgetRepo deletes a repo's state, its indexed commits, the pending
// commits of its unfinished walks, its pending smart commits and its
// builds-and-deployments state (cursors and entries); its link records
// stay.
func (s *Store) ForgetRepo(k state.RepoKey) error {
	return s.update("forget repo "+k.String(), func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketRepos).Delete(repoKeyBytes(k)); err != nil {
			return err
		}
		if err := forgetSmartPending(tx, k); err != nil {
			return err
		}
		if err := forgetCI(tx, k); err != nil {
			return err
		}
		return dropHistory(tx, k)
	})
}

// dropHistory deletes a repo's indexed commits and every unfinished walk's
// pending commits: a walk restarted later must not add to a stale one.
func dropHistory(tx *bolt.Tx, k state.RepoKey) error {
	if tx.Bucket(bucketCommits).Bucket(repoKeyBytes(k)) != nil {
		if err := tx.Bucket(bucketCommits).DeleteBucket(repoKeyBytes(k)); err != nil {
			return err
		}
	}
	pend := tx.Bucket(bucketPending)
	prefix := append(repoKeyBytes(k), 0)
	var walks [][]byte
	c := pend.Cursor()
	for name, _ := c.Seek(prefix); name != nil && bytes.HasPrefix(name, prefix); name, _ = c.Next() {
		walks = append(walks, bytes.Clone(name))
	}
	for _, name := range walks {
		if err := pend.DeleteBucket(name); err != nil {
			return err
		}
	}
	return nil
}

// ResetRepo forgets a repo's cursors and indexed commits but keeps its
// link records, and stores its new identity: the next sync reads the whole
// history again and rewrites every link whose content changed (after a
// rename, all of them), in place.
func (s *Store) ResetRepo(k state.RepoKey, r providers.Repo) error {
	return s.update("reset repo "+k.String(), func(tx *bolt.Tx) error {
		if err := dropHistory(tx, k); err != nil {
			return err
		}
		st := state.RepoState{Key: k, Repo: r, Status: state.RepoPending}
		return putRepo(tx, st)
	})
}

// BucketUse is how one top-level bucket uses the file.
type BucketUse struct {
	Name             string
	Keys             int
	InUse, Allocated int // bytes
}

// Usage reports the top-level buckets' use of the file, largest first,
// and the bytes held by free pages (for sizing figures).
func (s *Store) Usage() (buckets []BucketUse, free int, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			bs := b.Stats()
			buckets = append(buckets, BucketUse{Name: string(name), Keys: bs.KeyN,
				InUse: bs.BranchInuse + bs.LeafInuse + bs.InlineBucketInuse, Allocated: bs.BranchAlloc + bs.LeafAlloc})
			return nil
		})
	})
	sort.Slice(buckets, func(i, j int) bool { return buckets[i].Allocated > buckets[j].Allocated })
	return buckets, s.db.Stats().FreeAlloc, err
}
