package state

import (
	"cmp"
	"slices"
	"time"
)

// SmartPending is a commit whose smart-commit commands have not run: it
// was first indexed, after the repo's smart commits were armed, on a
// branch where they do not run. Its commands run when it becomes
// reachable from a branch where they do. It holds what running them
// needs, since the commit is not read from the provider again.
type SmartPending struct {
	SHA     string    `json:"sha"`
	Message string    `json:"message"` // redacted
	Author  string    `json:"author,omitempty"`
	URL     string    `json:"url,omitempty"`
	When    time.Time `json:"when"` // author date
	// Seq orders commits recorded with the same date: the order they were
	// added in.
	Seq uint64 `json:"seq"`
}

// SortSmartPending orders pending smart commits oldest first, as they were
// committed (by author date, then by the order they were recorded), the
// order their commands run in.
func SortSmartPending(ps []SmartPending) {
	slices.SortStableFunc(ps, func(a, b SmartPending) int {
		if c := a.When.Compare(b.When); c != 0 {
			return c
		}
		return cmp.Compare(a.Seq, b.Seq)
	})
}
