package main

import (
	"github.com/jiralinkd/jiralinkd/indexer/status"
)

// newTracker is the one place a status.Tracker is built, for serve and for
// status reading the state file, so that every view (status, status
// --json, the status page, the admin API, metrics) counts the same things
// as explain lists: it wires the count of smart-commit commands that
// failed for good, read from the ledger in st without writing to it.
func newTracker(st stateStore, ps []status.ProviderInfo) *status.Tracker {
	t := status.NewTracker(st, version, ps)
	t.SmartCommitFailures = func() (int, error) { return st.Ledger().CountFailed() }
	return t
}
