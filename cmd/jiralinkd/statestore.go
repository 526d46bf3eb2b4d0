package main

import (
	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/status"
	"github.com/jiralinkd/jiralinkd/indexer/webhook"
)

// stateStore is everything the commands use of the state backend: what
// the indexer, the webhook inbox and worker and the status views declare
// they need, plus the reads of explain and purge. A backend
// (state/boltstore; state/pgstore) satisfies it; openState picks it from
// the configuration.
type stateStore interface {
	indexer.Store
	webhook.Inbox
	webhook.Queue
	status.Reader
	// IssueLinks is what jiralinkd linked to an issue, and why.
	IssueLinks(issue string) ([]state.IssueLink, error)
	// AllLinks calls fn for every recorded link.
	AllLinks(fn func(state.Link) error) error
	// Ledger is the smart-commit ledger.
	Ledger() smartcommit.Ledger
	Close() error
}
