// Package statetest is the conformance suite of jiralinkd's state
// backends: the same tests run against every implementation (boltstore,
// pgstore), so that the indexer, the webhook queue, the smart-commit
// ledger and the status views see one behaviour whichever backend holds
// the state.
//
// A backend's tests call Run with a function opening its store, and Bench
// with one opening a store for benchmarks.
package statetest

import (
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/jirascan"
	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/status"
	"github.com/jiralinkd/jiralinkd/indexer/webhook"
)

// Backend is everything the product uses of a state backend: what the
// indexer, the webhook inbox and worker and the status views declare they
// need, the reads of explain and purge, the smart-commit ledger, and the
// counts the end-to-end tests check; the builds-and-deployments state,
// Jira secret scanning's state and the keys routes dropped.
type Backend interface {
	indexer.Store
	indexer.CIStore
	indexer.RouteDropRecorder
	jirascan.Store
	// RouteDrops is what routes dropped for an issue (explain).
	RouteDrops(issue string) ([]state.RouteDrop, error)
	webhook.Inbox
	webhook.Queue
	status.Reader
	// IssueLinks is what jiralinkd linked to an issue, ordered by globalId.
	IssueLinks(issue string) ([]state.IssueLink, error)
	// AllLinks calls fn for every recorded link, ordered by globalId then
	// issue.
	AllLinks(fn func(state.Link) error) error
	// Ledger is the smart-commit ledger.
	Ledger() smartcommit.Ledger
	// CommitCount is the number of indexed commits of a repo.
	CommitCount(k state.RepoKey) (int, error)
	// SmartPendingCommits lists a repo's pending smart commits, oldest
	// first.
	SmartPendingCommits(k state.RepoKey) ([]state.SmartPending, error)
	// ForgetDeliveries drops the delivery ids older than retention as of
	// now, returning how many it dropped.
	ForgetDeliveries(now time.Time, retention time.Duration) (int, error)
	Close() error
}
