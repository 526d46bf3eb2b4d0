// Package providers holds jiralinkd's domain model of Git hosting metadata.
//
// The types here are what the indexer works with; they import no SDK. Each
// provider implementation (providers/github, later providers/gitlab) converts
// its SDK's types into these in one convert.go, so go-github or GitLab client
// types never leave their package.
package providers

import (
	"errors"
	"net/url"
	"strings"
	"time"
)

// Type names a kind of Git server. It is the `type:` of a provider in the
// configuration.
type Type string

// Provider types.
const (
	TypeGitHub Type = "github"
	TypeGitLab Type = "gitlab"
)

// Repo is one repository (GitHub) or project (GitLab).
//
// ID is the provider's numeric id, which survives renames and transfers; it
// is the identity jiralinkd keys all state and link globalIds on. FullName
// and HTMLURL may change over the repo's life.
type Repo struct {
	ID            int64
	FullName      string // owner/name (GitLab: full path with namespace)
	HTMLURL       string // web URL of the repo, no trailing slash
	DefaultBranch string
	Archived      bool
	// PushedAt is when the repository last received a push, as the
	// provider reports it (GitHub pushed_at; GitLab last_activity_at,
	// which GitLab updates at most once an hour). It orders backfills
	// (most recently pushed first); zero when unknown.
	PushedAt time.Time `json:",omitzero"`
}

// Commit is the metadata of one commit. No file names, contents or diffs.
type Commit struct {
	SHA         string
	Parents     []string // parent SHAs in git order; empty for a root commit
	Message     string   // full message
	AuthorName  string
	AuthorLogin string // provider account of the author when known
	AuthorDate  time.Time
	HTMLURL     string // web URL as the provider reports it
}

// Branch is a branch and the commit at its head.
type Branch struct {
	Name    string
	HeadSHA string
}

// Tag is a tag and the commit it points to (peeled).
type Tag struct {
	Name string
	SHA  string
}

// RefPath is a branch or tag name as a URL path: each "/"-separated
// segment escaped, the slashes kept (as GitHub and GitLab write ref URLs).
func RefPath(name string) string {
	segs := strings.Split(name, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	return strings.Join(segs, "/")
}

// PullRequestState is the lifecycle state of a pull/merge request.
type PullRequestState string

// Pull request states. Closed and merged requests are "resolved" in Jira.
const (
	PullRequestOpen   PullRequestState = "open"
	PullRequestClosed PullRequestState = "closed"
	PullRequestMerged PullRequestState = "merged"
)

// Resolved reports whether the request is finished (closed or merged).
func (s PullRequestState) Resolved() bool {
	return s == PullRequestClosed || s == PullRequestMerged
}

// PullRequest is a GitHub pull request or GitLab merge request.
type PullRequest struct {
	Number     int // GitHub number / GitLab iid
	Title      string
	Body       string
	HeadBranch string
	BaseBranch string
	State      PullRequestState
	Author     string
	CreatedAt  time.Time
	UpdatedAt  time.Time
	MergedAt   time.Time // zero unless merged
	HTMLURL    string
	// Label is how the provider names the request in prose, used in link
	// titles: "PR #96" on GitHub, "MR !96" on GitLab.
	Label string
}

// PullActivity names a repository in which a pull/merge request changed,
// as an owner-wide change feed reports it. A provider fills what it knows:
// RepoID when the listing carries it (GitLab project_id), FullName
// otherwise (GitHub search results name the repository only by URL).
type PullActivity struct {
	RepoID   int64
	FullName string
}

// ListState is the opaque conditional-request state of one paginated list
// (the ETag of each page as last seen). The indexer stores it and hands it
// back on the next call; only the provider interprets it. The zero value
// means "never listed".
type ListState struct {
	ETags []string `json:"etags,omitempty"`
	// LastPageFull records that the last page held a full page of items, so
	// a new item may have started a new page that must be probed.
	LastPageFull bool `json:"last_page_full,omitempty"`
	// Query identifies the request the ETags answer, when it varies (a
	// GitLab merge request list filtered by updated_after): an ETag is
	// only sent with the same query.
	Query string `json:"query,omitempty"`
}

// Sentinel errors shared by every provider. Provider errors wrap one of these
// (errors.Is) when the condition applies, so callers never inspect SDK errors.
var (
	ErrNotFound = errors.New("not found")
	// ErrNotVisible wraps ErrNotFound when the provider cannot tell a
	// deleted repository from one its credentials no longer see (a GitHub
	// App installation that lost access): the repository is then treated
	// as taken out of the configuration, not as deleted.
	ErrNotVisible   = errors.New("no longer visible to the credentials")
	ErrUnauthorized = errors.New("unauthorized (token invalid or expired)")
	ErrForbidden    = errors.New("forbidden (token lacks permission)")
	ErrRateLimited  = errors.New("rate limited")
	// ErrForbiddenEndpoint is returned, without any network traffic, for a
	// request to an endpoint that could return source code or diffs.
	ErrForbiddenEndpoint = errors.New("endpoint refused by metadata-only guard")
	// ErrFeedIncomplete is returned by an owner-wide change feed (a
	// GitHub issue search, a GitLab group merge request listing) that
	// cannot answer completely: more results than the API lets a client
	// read (GitHub search serves at most 1,000), a search that timed out
	// (incomplete_results), or an owner the feed does not cover. The
	// caller falls back to the per-repository lists for that owner.
	ErrFeedIncomplete = errors.New("change feed incomplete; list per repository instead")
)

// Listed is the result of a conditional list call. When Unchanged is true the
// provider confirmed (with 304 answers, which cost no rate limit) that the
// list is exactly as it was when State was recorded, and Items is nil: the
// caller still has what it read last time. State is what to pass next time;
// store it only once everything derived from Items has been handled.
type Listed[T any] struct {
	Items     []T
	State     ListState
	Unchanged bool
}
