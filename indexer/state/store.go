// Package state is jiralinkd's persistent state in an embedded bbolt file:
// per-repo cursors, the set of indexed commits, the links written to Jira and
// the issue-existence cache.
//
// Every write is a bbolt transaction, so a crash leaves either the state
// before or after a step, never half of it. The indexer's rule is that a
// cursor is stored only after the Jira writes it covers succeeded; this
// package makes each such step atomic.
package state

import (
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	bolt "go.etcd.io/bbolt"

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

// ErrLocked is returned by Open when another process holds the file.
var ErrLocked = errors.New("state file is locked by another jiralinkd process")

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
			return nil, fmt.Errorf("state: open %s: %w (waited %s)", path, ErrLocked, lockTimeout)
		}
		return nil, fmt.Errorf("state: open %s: %w", path, err)
	}
	s := &Store{db: db, path: path}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range [][]byte{bucketMeta, bucketRepos, bucketDiscovery, bucketCommits, bucketPending, bucketLinks, bucketByIssue, bucketIssues, bucketQueue, bucketDeliv, bucketHealth} {
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
			return nil, fmt.Errorf("state: open %s: %w (waited %s)", path, ErrLocked, lockTimeout)
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

// RepoKey identifies a repository across renames: provider name + numeric id.
type RepoKey struct {
	Provider string
	ID       int64
}

func (k RepoKey) bytes() []byte {
	return []byte(k.Provider + "\x00" + strconv.FormatInt(k.ID, 10))
}

func (k RepoKey) String() string { return k.Provider + "/" + strconv.FormatInt(k.ID, 10) }

// RepoStatus is the outcome of a repo's last sync.
type RepoStatus string

// Repo states.
const (
	RepoPending RepoStatus = "pending"
	RepoOK      RepoStatus = "ok"
	RepoFailed  RepoStatus = "failed"
)

// RepoState is everything jiralinkd remembers about one repository.
type RepoState struct {
	Key  RepoKey        `json:"key"`
	Repo providers.Repo `json:"repo"`
	// Branches maps branch name → the head commit whose history is fully
	// indexed and linked (the branch cursor).
	Branches map[string]string `json:"branches,omitempty"`
	// Tags maps tag name → the commit it pointed to when it was handled.
	Tags       map[string]string   `json:"tags,omitempty"`
	BranchList providers.ListState `json:"branch_list"`
	TagList    providers.ListState `json:"tag_list"`
	PullList   providers.ListState `json:"pull_list"`
	// Walks holds the checkpoints of branch walks in progress (a long
	// backfill interrupted by a crash resumes from them).
	Walks map[string]WalkCheckpoint `json:"walks,omitempty"`
	// PrunePending is set when a force-push or branch deletion may have
	// left indexed commits unreachable; cleared once they are unlinked.
	PrunePending bool `json:"prune_pending,omitempty"`
	// SmartCommitsArmed is set after the first complete sync with smart
	// commits enabled: that sync (a backfill, or history pushed before
	// enablement) runs no command; later ones run commands of new commits.
	SmartCommitsArmed bool `json:"smart_commits_armed,omitempty"`
	// PullWatermark is the newest updated_at of a handled pull request.
	PullWatermark time.Time  `json:"pull_watermark"`
	Status        RepoStatus `json:"status"`
	LastError     string     `json:"last_error,omitempty"`
	LastSync      time.Time  `json:"last_sync"`
	LastSuccess   time.Time  `json:"last_success"`
	Commits       int        `json:"commits"` // commits indexed so far
	Links         int        `json:"links"`   // links written so far
	// Failures counts the passes that failed in a row (0 after a success).
	Failures int `json:"failures,omitempty"`
	// FailureKind classifies LastError (token_rejected, unreachable, ...)
	// and Hint says which setting to fix, when one is known.
	FailureKind string `json:"failure_kind,omitempty"`
	Hint        string `json:"hint,omitempty"`
	// LinkFormat is the version of the indexer's link construction the
	// repo's links are known to be written in (0: before versioning); the
	// indexer rewrites older ones.
	LinkFormat int `json:"link_format,omitempty"`
}

// Repo returns the state of one repo; ok is false if it was never synced.
func (s *Store) Repo(k RepoKey) (st RepoState, ok bool, err error) {
	err = s.db.View(func(tx *bolt.Tx) error {
		v := tx.Bucket(bucketRepos).Get(k.bytes())
		if v == nil {
			return nil
		}
		ok = true
		return json.Unmarshal(v, &st)
	})
	if err != nil {
		return RepoState{}, false, fmt.Errorf("state: read repo %s: %w", k, err)
	}
	return st, ok, nil
}

// PutRepo stores a repo's state.
func (s *Store) PutRepo(st RepoState) error {
	return s.update("put repo "+st.Key.String(), func(tx *bolt.Tx) error { return putRepo(tx, st) })
}

func putRepo(tx *bolt.Tx, st RepoState) error {
	v, err := json.Marshal(st)
	if err != nil {
		return err
	}
	return tx.Bucket(bucketRepos).Put(st.Key.bytes(), v)
}

// Repos returns every known repo, ordered by provider then full name.
func (s *Store) Repos() ([]RepoState, error) {
	var out []RepoState
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketRepos).ForEach(func(_, v []byte) error {
			var st RepoState
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

// Discovery is the cached result of a repo-discovery call (an org listing
// or an explicit repo), reused when the provider answers 304.
type Discovery struct {
	State providers.ListState `json:"state"`
	Repos []providers.Repo    `json:"repos"`
}

// Discovery returns the cached discovery result for key within provider.
func (s *Store) Discovery(provider, key string) (d Discovery, ok bool, err error) {
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
func (s *Store) PutDiscovery(provider, key string, d Discovery) error {
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
func (s *Store) KnownCommits(k RepoKey, shas []string) (map[string]bool, error) {
	known := make(map[string]bool, len(shas))
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCommits).Bucket(k.bytes())
		if b == nil {
			return nil
		}
		for _, sha := range shas {
			if b.Get(shaKey(sha)) != nil {
				known[sha] = true
			}
		}
		return nil
	})
	return known, err
}

// CommitCount is the number of indexed commits of the repo.
func (s *Store) CommitCount(k RepoKey) (int, error) {
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		if b := tx.Bucket(bucketCommits).Bucket(k.bytes()); b != nil {
			n = b.Stats().KeyN
		}
		return nil
	})
	return n, err
}

// Commit is an indexed commit in its stored form: its key (the binary
// SHA) and its encoded parents, in one allocation. Parents are kept so that
// ancestry (force-push detection) and reachability (pruning) can be decided
// locally, without asking the provider. A walk holds every new commit of a
// branch until the branch is done, so the form is compact: about 70 bytes
// for a commit with one parent, against about 150 as hex strings.
type Commit struct {
	rec    []byte // key followed by the encoded parents
	keyLen int
}

// NewCommit encodes a commit and its parents.
func NewCommit(sha string, parents []string) Commit {
	key, val := shaKey(sha), encodeParents(parents)
	rec := make([]byte, 0, len(key)+len(val))
	rec = append(append(rec, key...), val...)
	return Commit{rec: rec, keyLen: len(key)}
}

func (c Commit) key() []byte   { return c.rec[:c.keyLen] }
func (c Commit) value() []byte { return c.rec[c.keyLen:] }

// WalkCheckpoint is how far an unfinished branch walk got: the head it
// walks, the page to continue from, the parents still to meet, and the
// indexed parents met so far (for force-push detection). The commits it
// walked are kept apart (pending) until the walk completes, because the
// set of indexed commits must stay closed under ancestry.
type WalkCheckpoint struct {
	Head     string   `json:"head"`
	NextPage int      `json:"next_page"`
	Frontier []string `json:"frontier"`
	Boundary []string `json:"boundary,omitempty"`
	Walked   int      `json:"walked"` // commits pending so far
}

func pendingKey(k RepoKey, branch string) []byte { return []byte(string(k.bytes()) + "\x00" + branch) }

// CheckpointWalk saves, in one transaction, commits walked on branch (their
// links are written) and st with its Walks checkpoint. Pending commits are
// appended under sequence numbers (dense, fast pages); they are sorted
// once, when the walk completes.
func (s *Store) CheckpointWalk(st RepoState, branch string, commits []Commit) error {
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
			rec := append([]byte{byte(c.keyLen)}, c.rec...)
			if err := b.Put(binary.BigEndian.AppendUint64(nil, seq), rec); err != nil {
				return err
			}
		}
		return putRepo(tx, st)
	})
}

// pendingCommit decodes a pending record: key length, key, parents.
func pendingCommit(v []byte) Commit {
	n := int(v[0])
	return Commit{rec: bytes.Clone(v[1:]), keyLen: n}
}

// PendingCommits calls fn with the key of every commit an unfinished walk
// of branch has already handled.
func (s *Store) PendingCommits(k RepoKey, branch string, fn func(key []byte)) error {
	return s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketPending).Bucket(pendingKey(k, branch))
		if b == nil {
			return nil
		}
		return b.ForEach(func(_, v []byte) error { fn(pendingCommit(v).key()); return nil })
	})
}

// DiscardWalk drops an unfinished walk's pending commits (its branch moved
// or went away; the walk starts over).
func (s *Store) DiscardWalk(k RepoKey, branch string) error {
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
func putCommits(b *bolt.Bucket, commits []Commit) error {
	sorted := slices.Clone(commits)
	slices.SortFunc(sorted, func(a, b Commit) int { return bytes.Compare(a.key(), b.key()) })
	b.FillPercent = 0.9
	for _, c := range sorted {
		if err := b.Put(c.key(), c.value()); err != nil {
			return err
		}
	}
	return nil
}

// AdvanceBranch records, in one transaction, that branch's walk is
// complete: its pending commits and commits (together a history closed
// under ancestry with the already indexed commits) become indexed, and st
// is saved with the advanced cursor.
func (s *Store) AdvanceBranch(st RepoState, branch string, commits []Commit) error {
	return s.update("advance cursor "+st.Key.String(), func(tx *bolt.Tx) error {
		pend := tx.Bucket(bucketPending).Bucket(pendingKey(st.Key, branch))
		if len(commits) > 0 || pend != nil {
			b, err := tx.Bucket(bucketCommits).CreateBucketIfNotExists(st.Key.bytes())
			if err != nil {
				return err
			}
			if pend != nil {
				all := make([]Commit, 0, pend.Stats().KeyN+len(commits))
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

// encodeParents packs parent ids: binary SHAs back to back when all are
// 20-byte hex ids (the norm), else a 0x00 marker and NUL-separated text.
func encodeParents(ps []string) []byte {
	out := make([]byte, 0, 20*len(ps))
	for _, p := range ps {
		b, err := hex.DecodeString(p)
		if err != nil || len(b) != 20 {
			out = []byte{0}
			for i, p := range ps {
				if i > 0 {
					out = append(out, 0)
				}
				out = append(out, p...)
			}
			return out
		}
		out = append(out, b...)
	}
	return out
}

func decodeParents(v []byte) []string {
	if len(v) == 0 {
		return nil
	}
	if v[0] == 0 && len(v)%20 != 0 {
		return strings.Split(string(v[1:]), "\x00")
	}
	out := make([]string, 0, len(v)/20)
	for i := 0; i+20 <= len(v); i += 20 {
		out = append(out, hex.EncodeToString(v[i:i+20]))
	}
	return out
}

// IsAncestor reports whether ancestor is reachable from any of from,
// following the stored parents of indexed commits.
func (s *Store) IsAncestor(k RepoKey, ancestor string, from []string) (bool, error) {
	found := false
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCommits).Bucket(k.bytes())
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
			stack = append(stack, decodeParents(b.Get(shaKey(c)))...)
		}
		return nil
	})
	return found, err
}

// Unreachable returns the indexed commits that no head reaches (heads
// that are not indexed commits are ignored).
func (s *Store) Unreachable(k RepoKey, heads []string) ([]string, error) {
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCommits).Bucket(k.bytes())
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
			v := b.Get(shaKey(c))
			if v == nil {
				continue
			}
			seen[c] = true
			stack = append(stack, decodeParents(v)...)
		}
		return b.ForEach(func(key, _ []byte) error {
			sha := shaString(key)
			if !seen[sha] {
				out = append(out, sha)
			}
			return nil
		})
	})
	return out, err
}

func shaString(key []byte) string {
	if len(key) == 20 {
		return hex.EncodeToString(key)
	}
	return string(key)
}

// ForgetCommits drops commits from the indexed set (they became
// unreachable and their links were removed), and from the pending smart
// commits.
func (s *Store) ForgetCommits(k RepoKey, shas []string) error {
	return s.update("forget commits "+k.String(), func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketCommits).Bucket(k.bytes())
		if b == nil {
			return nil
		}
		for _, sha := range shas {
			if err := b.Delete(shaKey(sha)); err != nil {
				return err
			}
		}
		return dropSmartPending(tx, k, shas)
	})
}

// shaKey stores a hex SHA in binary form (half the bytes); non-hex ids
// (never seen from GitHub/GitLab, but cheap to support) are stored as is.
func shaKey(sha string) []byte {
	if b, err := hex.DecodeString(sha); err == nil && len(b) > 0 {
		return b
	}
	return []byte(sha)
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
// commits of its unfinished walks and its pending smart commits.
func (s *Store) ForgetRepo(k RepoKey) error {
	return s.update("forget repo "+k.String(), func(tx *bolt.Tx) error {
		if err := tx.Bucket(bucketRepos).Delete(k.bytes()); err != nil {
			return err
		}
		if err := forgetSmartPending(tx, k); err != nil {
			return err
		}
		return dropHistory(tx, k)
	})
}

// dropHistory deletes a repo's indexed commits and every unfinished walk's
// pending commits: a walk restarted later must not add to a stale one.
func dropHistory(tx *bolt.Tx, k RepoKey) error {
	if tx.Bucket(bucketCommits).Bucket(k.bytes()) != nil {
		if err := tx.Bucket(bucketCommits).DeleteBucket(k.bytes()); err != nil {
			return err
		}
	}
	pend := tx.Bucket(bucketPending)
	prefix := append(k.bytes(), 0)
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
func (s *Store) ResetRepo(k RepoKey, r providers.Repo) error {
	return s.update("reset repo "+k.String(), func(tx *bolt.Tx) error {
		if err := dropHistory(tx, k); err != nil {
			return err
		}
		st := RepoState{Key: k, Repo: r, Status: RepoPending}
		return putRepo(tx, st)
	})
}
