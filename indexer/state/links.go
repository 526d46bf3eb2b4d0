package state

import "time"

// Link identifies one remote link: a Jira issue and the globalId of the
// entity linked to it.
type Link struct {
	GlobalID string
	Issue    string
}

// LinkInfo is what jiralinkd remembers about a link it wrote: what it
// points at and why (which text named the issue), for explain and the
// admin API.
type LinkInfo struct {
	Kind    string    `json:"k"`           // commit, branch, tag, pr
	Repo    string    `json:"r"`           // provider/owner/name
	URL     string    `json:"u"`           // object.url
	Title   string    `json:"t"`           // object.title
	Sources []string  `json:"s,omitempty"` // e.g. "commit message", "PR title"
	Written time.Time `json:"w"`
	// Summary and Resolved (object.status.resolved, nil when the link has
	// no status) complete the link's content, so that a renamed repo's
	// links can be rewritten from the records alone. Complete is false for
	// records written before they were kept.
	Summary  string `json:"m,omitempty"`
	Resolved *bool  `json:"x,omitempty"`
	Complete bool   `json:"c,omitempty"`
}

// LinkRecord is a link's content hash (to skip unchanged rewrites) and
// its info. Stored as 8 hash bytes followed by the info as JSON, so hash
// lookups do not decode JSON.
type LinkRecord struct {
	Hash uint64
	Info LinkInfo
}

// IssueLink is one link recorded on an issue.
type IssueLink struct {
	Link
	LinkInfo
}

// IssueStatus is the cached answer to "does this issue exist in Jira".
type IssueStatus struct {
	Exists    bool      `json:"exists"`
	CheckedAt time.Time `json:"checked_at"`
}
