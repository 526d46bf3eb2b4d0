package smartcommit

import (
	"sort"
	"time"
)

// State is where a command stands in the ledger.
type State string

// States. A pending command has been accepted and may have been attempted
// (Attempts > 0): a later attempt first checks Jira for the effect of an
// earlier one. Done and failed are final.
const (
	StatePending State = "pending"
	StateDone    State = "done"
	StateFailed  State = "failed"
)

// Record is the ledger entry of one command: the command itself and the
// commit it came from (enough to carry it out again after a restart), and
// its outcome so far.
type Record struct {
	ID         string        `json:"id"`
	Index      int           `json:"index"` // Command.Index
	Issue      string        `json:"issue"`
	Kind       CommandKind   `json:"kind"`
	Command    string        `json:"command"` // as written, for people
	Text       string        `json:"text,omitempty"`
	Duration   time.Duration `json:"duration,omitempty"`
	Transition string        `json:"transition,omitempty"`
	Commit     CommitInfo    `json:"commit"` // without Message

	State    State  `json:"state"`
	Attempts int    `json:"attempts"`        // attempts started
	Error    string `json:"error,omitempty"` // why it failed, or the last transient error
	// JiraID is the comment or worklog id, or the id of the transition
	// performed.
	JiraID string `json:"jira_id,omitempty"`
	// Target is, for a transition, the id of the status it leads to,
	// recorded before the transition is attempted: finding the issue in
	// that status tells a later attempt the transition was done.
	Target string `json:"target,omitempty"`

	Created     time.Time `json:"created"`
	Updated     time.Time `json:"updated"`
	NextAttempt time.Time `json:"next_attempt,omitzero"`
}

// Ledger stores Records durably: a Put that returned nil survives a crash.
// Implementations must be safe for concurrent use.
type Ledger interface {
	// Get returns the record with the id; ok is false if there is none.
	Get(id string) (r Record, ok bool, err error)
	// Put stores the records, replacing those with the same ids, all or
	// none.
	Put(recs ...Record) error
	// Pending returns every record in StatePending.
	Pending() ([]Record, error)
	// ByIssue returns the records of an issue ("" for all), oldest first.
	ByIssue(issue string) ([]Record, error)
	// CountFailed counts the records in StateFailed.
	CountFailed() (int, error)
}

// SortRecords orders records by creation, then commit, then position in
// the message: the order ByIssue and Pending return.
func SortRecords(rs []Record) {
	sort.SliceStable(rs, func(i, j int) bool {
		a, b := rs[i], rs[j]
		switch {
		case !a.Created.Equal(b.Created):
			return a.Created.Before(b.Created)
		case a.Commit.SHA != b.Commit.SHA:
			return a.Commit.SHA < b.Commit.SHA
		}
		return a.Index < b.Index
	})
}
