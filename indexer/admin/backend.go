// Package admin serves what an administrator uses: the status page at /,
// the JSON admin API under /api/v1/, and /metrics, all behind the admin
// token.
package admin

import (
	"errors"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/status"
)

// Backend is what the admin routes read and trigger.
type Backend interface {
	// Snapshot is the current state of providers, repos and the queue.
	Snapshot() (status.Snapshot, error)
	// IssueLinks is what jiralinkd linked to an issue, and why.
	IssueLinks(issue string) ([]state.IssueLink, error)
	// Resync starts a sync of one repo (provider name, full name
	// owner/name or group/sub/name) in the background and returns at once.
	// It returns ErrUnknownRepo for a repo the provider does not index and
	// ErrBusy when that repo is already being synced.
	Resync(provider, fullName string) error
}

// Errors a Backend returns.
var (
	ErrUnknownRepo = errors.New("no such repository")
	ErrBusy        = errors.New("repository is already syncing")
)
