package state

import "time"

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
