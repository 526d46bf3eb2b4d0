// Package state holds what jiralinkd remembers, independent of where it is
// kept: per-repo cursors, the set of indexed commits with their parents,
// the links written to Jira and why, the issue-existence cache, webhook
// deliveries, smart-commit bookkeeping and the health of the last passes.
//
// The storage backends (boltstore, embedded; pgstore, shared) implement
// the small interfaces the indexer, the webhook queue, the smart-commit
// executor and the status views declare where they use them; one
// conformance suite (statetest) runs against each. Every step a backend
// offers is atomic, so a crash leaves either the state before or after a
// step, never half of it: the indexer's rule is that a cursor is stored
// only after the Jira writes it covers succeeded.
package state

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
)

// ErrLocked is returned when another process holds the state (the bbolt
// file's lock).
var ErrLocked = errors.New("state file is locked by another jiralinkd process")

// ErrFenced is returned by a state-changing write made under a lease or
// lock of the shared state that its writer holds no longer: a replica
// that leads no longer (the leader lease has a newer epoch, another
// holder, or expired), or a sync whose repo lock expired or was taken
// over. The write changed nothing; the writer must stop (the new leader
// or lock holder carries on).
var ErrFenced = errors.New("state write refused: this replica no longer holds the leader lease or repo lock it writes under")

// ErrRepoBusy is returned when a repo is being synced by another process
// sharing the state (its lock in the database has not expired).
var ErrRepoBusy = errors.New("repo is being synced by another jiralinkd replica")

// RepoKey identifies a repository across renames: provider name + numeric id.
type RepoKey struct {
	Provider string
	ID       int64
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
	// Backfill is the progress of the repo's backfill (nil for repos
	// indexed before it was recorded; see BackfillProgress).
	Backfill *BackfillProgress `json:"backfill,omitempty"`
}

// Discovery is the cached result of a repo-discovery call (an org listing
// or an explicit repo), reused when the provider answers 304.
type Discovery struct {
	State providers.ListState `json:"state"`
	Repos []providers.Repo    `json:"repos"`
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
	key, val := SHAKey(sha), EncodeParents(parents)
	rec := make([]byte, 0, len(key)+len(val))
	rec = append(append(rec, key...), val...)
	return Commit{rec: rec, keyLen: len(key)}
}

// CommitFromRecord rebuilds a commit from its stored key and encoded
// parents (both are copied).
func CommitFromRecord(key, parents []byte) Commit {
	rec := make([]byte, 0, len(key)+len(parents))
	rec = append(append(rec, key...), parents...)
	return Commit{rec: rec, keyLen: len(key)}
}

// Key is the commit's id in stored form (SHAKey).
func (c Commit) Key() []byte { return c.rec[:c.keyLen] }

// EncodedParents is the commit's parents in stored form (EncodeParents).
func (c Commit) EncodedParents() []byte { return c.rec[c.keyLen:] }

// SHA is the commit's id.
func (c Commit) SHA() string { return SHAString(c.Key()) }

// Parents are the commit's parents' ids.
func (c Commit) Parents() []string { return DecodeParents(c.EncodedParents()) }

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

// EncodeParents packs parent ids: binary SHAs back to back when all are
// 20-byte hex ids (the norm), else a 0x00 marker and NUL-separated text.
func EncodeParents(ps []string) []byte {
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

// DecodeParents unpacks EncodeParents.
func DecodeParents(v []byte) []string {
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

// SHAString turns a stored commit key back into the commit id.
func SHAString(key []byte) string {
	if len(key) == 20 {
		return hex.EncodeToString(key)
	}
	return string(key)
}

// SHAKey stores a hex SHA in binary form (half the bytes); non-hex ids
// (never seen from GitHub/GitLab, but cheap to support) are stored as is.
func SHAKey(sha string) []byte {
	if b, err := hex.DecodeString(sha); err == nil && len(b) > 0 {
		return b
	}
	return []byte(sha)
}

// AppendParentKeys appends the stored keys (SHAKey) of the parents encoded
// in v (EncodeParents) to keys, without decoding them to text.
func AppendParentKeys(keys [][]byte, v []byte) [][]byte {
	if len(v) == 0 {
		return keys
	}
	if v[0] == 0 && len(v)%20 != 0 {
		for _, p := range bytes.Split(v[1:], []byte{0}) {
			keys = append(keys, SHAKey(string(p)))
		}
		return keys
	}
	for i := 0; i+20 <= len(v); i += 20 {
		keys = append(keys, v[i:i+20:i+20])
	}
	return keys
}
