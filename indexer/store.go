package indexer

import (
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

// Store is the state the indexer reads and advances. Each method is one
// atomic step: a crash leaves the state before or after it. Backends
// (state/boltstore, state/pgstore) implement it; state/statetest is the
// conformance suite they all pass.
type Store interface {
	RepoStore
	CommitGraph
	LinkStore
	IssueCache
	HealthRecorder
	SmartPendingStore
}

// RepoStore keeps each repository's cursors and outcome, and the cached
// repository discovery.
type RepoStore interface {
	Repo(k state.RepoKey) (st state.RepoState, ok bool, err error)
	PutRepo(st state.RepoState) error
	Repos() ([]state.RepoState, error)
	// RecordRepoFailure marks a repo failed without touching its cursors
	// (adding it if unknown).
	RecordRepoFailure(k state.RepoKey, r providers.Repo, f state.Failure) error
	// ForgetRepo drops a repo and everything indexed for it but its link
	// records; ResetRepo keeps the link records and stores the new identity
	// with empty cursors.
	ForgetRepo(k state.RepoKey) error
	ResetRepo(k state.RepoKey, r providers.Repo) error
	Discovery(provider, key string) (d state.Discovery, ok bool, err error)
	PutDiscovery(provider, key string, d state.Discovery) error
}

// CommitGraph is the set of indexed commits of each repo with their
// parents: closed under ancestry, so a known commit's history is known.
// Ancestry and reachability are answered from it, without the provider.
type CommitGraph interface {
	KnownCommits(k state.RepoKey, shas []string) (map[string]bool, error)
	// CheckpointWalk saves commits an unfinished walk of branch handled
	// (kept apart as pending) together with st; AdvanceBranch makes the
	// walk's pending and given commits indexed together with st.
	CheckpointWalk(st state.RepoState, branch string, commits []state.Commit) error
	PendingCommits(k state.RepoKey, branch string, fn func(state.Commit)) error
	DiscardWalk(k state.RepoKey, branch string) error
	AdvanceBranch(st state.RepoState, branch string, commits []state.Commit) error
	IsAncestor(k state.RepoKey, ancestor string, from []string) (bool, error)
	// Unreachable lists the indexed commits no head reaches.
	Unreachable(k state.RepoKey, heads []string) ([]string, error)
	ForgetCommits(k state.RepoKey, shas []string) error
}

// LinkStore records the links written to Jira: their content hash (to
// skip unchanged rewrites) and what they point at and why.
type LinkStore interface {
	LinkHashes(links []state.Link) (map[state.Link]uint64, error)
	PutLinks(links map[state.Link]state.LinkRecord) error
	LinksOf(globalID string) ([]state.Link, error)
	DeleteLinks(links []state.Link) error
	GlobalIDsWithPrefix(prefix string) ([]string, error)
	RepoLinks(prefix string, fn func(state.Link, state.LinkRecord) error) error
}

// IssueCache remembers whether issue keys exist in Jira.
type IssueCache interface {
	Issues(keys []string) (map[string]state.IssueStatus, error)
	PutIssues(st map[string]state.IssueStatus) error
}

// HealthRecorder keeps the outcome of each system's last pass.
type HealthRecorder interface {
	UpdateHealth(system string, fn func(*state.Health)) error
	// Health is every system's recorded health (the pass planner reads
	// its sweep time and feed marks there).
	Health() ([]state.Health, error)
}

// SmartPendingStore remembers commits whose smart-commit commands wait for
// the commit to reach a configured branch.
type SmartPendingStore interface {
	AddSmartPending(k state.RepoKey, cs []state.SmartPending) error
	SmartPendingReachable(k state.RepoKey, branch, head string, stop []string, walked []state.Commit) ([]state.SmartPending, error)
	DropSmartPending(k state.RepoKey, shas []string) error
}

// Fenced is implemented by a store whose writes may be refused with
// state.ErrFenced: the views of a shared state that the leader's passes
// write through (pgstore.WithFence: refused once the replica lost the
// leadership) and that webhook syncs write through (pgstore.WithRepoLocks:
// refused once the sync's repo lock was taken over). CheckFence fails the
// same way if a write would be refused now.
//
// The indexer asks before it deletes links in Jira. Refusing the store
// write that follows a deletion cannot undo it, and would leave the state
// recording a link Jira no longer has, which later passes would not
// rewrite: a writer that lost its lease or lock must not start one.
// (Upserts need no such check: they are idempotent by globalId, and the
// store write after them is refused.) What is left is the window between
// the check and the Jira call: a replica paused exactly there can still
// delete one entity's links, where without the check it would delete every
// link its stale view condemns.
type Fenced interface {
	CheckFence() error
}
