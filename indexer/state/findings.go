package state

import (
	"strings"
	"time"
)

// Jira secret scanning (package jirascan) keeps three things: the findings
// (never the secret: a salted fingerprint and a masked preview), a scan
// cursor per Jira project (historical progress and the live watermark),
// and a ledger of the actions taken on findings (comment, label, mask), so
// that each is carried out exactly once.

// FindingState says whether a finding's secret is still in Jira.
type FindingState string

// Finding states. A resolved finding was not found again by a complete
// scan of its issue; it becomes open again if the secret reappears.
const (
	FindingOpen     FindingState = "open"
	FindingResolved FindingState = "resolved"
)

// Finding is one secret found in a Jira issue. It holds no secret: the
// secret is identified by Fingerprint, a salted hash (hex), and shown as
// Preview, a masked form such as "AKIA…MPLE".
type Finding struct {
	// ID is FindingID(Issue, Location(), Fingerprint): one finding per
	// secret and place, however often it is scanned.
	ID      string `json:"id"`
	Project string `json:"project"`
	Issue   string `json:"issue"`
	// Field is the field the secret is in: summary, description,
	// environment, comment or a custom field id (customfield_10010).
	Field string `json:"field"`
	// CommentID is set when Field is comment.
	CommentID   string       `json:"comment_id,omitempty"`
	Rule        string       `json:"rule"`
	Fingerprint string       `json:"fingerprint"`
	Preview     string       `json:"preview"`
	State       FindingState `json:"state"`
	FirstSeen   time.Time    `json:"first_seen"`
	LastSeen    time.Time    `json:"last_seen"`
	ResolvedAt  time.Time    `json:"resolved_at,omitzero"`
}

// Location is where in the issue the finding is: the field, or
// "comment/<id>".
func (f Finding) Location() string {
	if f.CommentID != "" {
		return "comment/" + f.CommentID
	}
	return f.Field
}

// FindingID is the id of the finding of the secret with fingerprint at
// location of issue. Ids of one issue share the prefix FindingIssuePrefix.
func FindingID(issue, location, fingerprint string) string {
	return FindingIssuePrefix(issue) + location + "\x00" + fingerprint
}

// FindingIssuePrefix is the prefix of the ids of an issue's findings.
func FindingIssuePrefix(issue string) string { return strings.ToUpper(issue) + "\x00" }

// FindingFilter selects findings; zero fields match everything.
type FindingFilter struct {
	Project string
	Issue   string
	State   FindingState
	// Limit caps the result (0: no cap); findings come in id order.
	Limit int
}

// Matches reports whether f passes the filter (Limit aside).
func (q FindingFilter) Matches(f Finding) bool {
	return (q.Project == "" || strings.EqualFold(q.Project, f.Project)) &&
		(q.Issue == "" || strings.EqualFold(q.Issue, f.Issue)) &&
		(q.State == "" || q.State == f.State)
}

// ScanCursor is the progress of secret scanning in one Jira project.
type ScanCursor struct {
	Project string `json:"project"`
	// HistoricalDone is set once every issue of the project has been
	// scanned; until then LastIssueNum is how far the historical scan got
	// (the number of the last issue key scanned, issues being read in key
	// order, which is creation order) and a restart resumes after it.
	HistoricalDone bool  `json:"historical_done"`
	LastIssueNum   int64 `json:"last_issue_num"`
	// Scanned counts issues scanned by the historical scan, Total is the
	// number of issues Jira reported for the project at the last page.
	Scanned int `json:"scanned"`
	Total   int `json:"total"`
	// Watermark is when the last complete pass started (Jira's clock as
	// seen by jiralinkd): the live scan reads issues updated since then,
	// with an overlap.
	Watermark time.Time `json:"watermark,omitzero"`
	// LastPass is when the last pass ended; LastError is its error, if any.
	LastPass  time.Time `json:"last_pass,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	// Skipped counts fields or comments not scanned in full (too large,
	// binary-looking, or past the comment limit) since the scan began.
	Skipped int `json:"skipped,omitempty"`
}

// ActionState is where a finding action stands.
type ActionState string

// Action states. A pending action may have been attempted (Attempts > 0):
// the next attempt first looks in Jira for its effect. Done and failed are
// final.
const (
	ActionPending ActionState = "pending"
	ActionDone    ActionState = "done"
	ActionFailed  ActionState = "failed"
)

// FindingAction is the ledger entry of one action on one finding.
type FindingAction struct {
	// ID is FindingActionID(FindingID, Kind).
	ID        string      `json:"id"`
	FindingID string      `json:"finding_id"`
	Issue     string      `json:"issue"`
	Kind      string      `json:"kind"` // comment, label or mask
	State     ActionState `json:"state"`
	Attempts  int         `json:"attempts"`
	// JiraID is the comment written by a comment action.
	JiraID  string    `json:"jira_id,omitempty"`
	Error   string    `json:"error,omitempty"`
	Created time.Time `json:"created"`
	Updated time.Time `json:"updated"`
}

// FindingActionID is the id of the action of kind on a finding.
func FindingActionID(findingID, kind string) string { return findingID + "\x00" + kind }
