package providers

import (
	"errors"
	"fmt"
)

// EventKind names what a webhook delivery tells jiralinkd. Webhooks are
// hints: each kind maps to a targeted sync through the normal listing path,
// so a lost, duplicated or reordered delivery never corrupts anything.
type EventKind string

// Event kinds.
const (
	// EventPing is a provider's test delivery (GitHub ping); acknowledged only.
	EventPing EventKind = "ping"
	// EventPush: commits pushed to a branch, or a tag created or moved.
	// Also sent for a force-push (Forced) and for a branch or tag deleted
	// by a push (Deleted).
	EventPush EventKind = "push"
	// EventRefCreated: a branch or tag was created (GitHub create).
	EventRefCreated EventKind = "ref_created"
	// EventRefDeleted: a branch or tag was deleted (GitHub delete).
	EventRefDeleted EventKind = "ref_deleted"
	// EventPullRequest: a pull/merge request was opened, edited, updated,
	// closed, merged, reopened or reviewed.
	EventPullRequest EventKind = "pull_request"
	// EventRepoDeleted: the repository/project was deleted.
	EventRepoDeleted EventKind = "repo_deleted"
	// EventRepoRenamed: renamed or transferred; Repo has the new name,
	// OldFullName the old one, the id is unchanged.
	EventRepoRenamed EventKind = "repo_renamed"
	// EventRepoArchived: archived or unarchived (Repo.Archived tells).
	EventRepoArchived EventKind = "repo_archived"
	// EventRun: a CI run was requested, started or completed (GitHub
	// workflow_run, GitLab Pipeline Hook).
	EventRun EventKind = "run"
	// EventDeployment: a deployment was created or its state changed
	// (GitHub deployment and deployment_status, GitLab Deployment Hook).
	EventDeployment EventKind = "deployment"
)

// RefType says whether Event.Ref is a branch or a tag.
type RefType string

// Ref types.
const (
	RefBranch RefType = "branch"
	RefTag    RefType = "tag"
)

// Event is one webhook delivery, parsed into the domain model. Fields not
// relevant to a kind are zero.
type Event struct {
	Kind EventKind
	// Action is the provider's own verb (GitHub "opened", "synchronize",
	// GitLab "open", "merge", ...), kept for logs.
	Action string
	// Repo identifies the repository. ID is always set (it is how state is
	// keyed); FullName and HTMLURL as the payload gives them.
	Repo        Repo
	OldFullName string // EventRepoRenamed
	// Ref is the branch or tag name without refs/heads/ or refs/tags/.
	Ref     string
	RefType RefType
	// Before and After are the ref's old and new head (push). A deleted
	// ref has After all zeros and Deleted set; a created one Before zeros.
	Before, After string
	Created       bool
	Deleted       bool
	Forced        bool
	// Commits are the commits the payload carries, newest last as the
	// providers send them. Payloads are capped (GitHub 2,048, GitLab 20);
	// TotalCommits is the real count when the provider says it (GitLab),
	// else len(Commits). The listing path completes what is missing.
	Commits      []Commit
	TotalCommits int
	// PullRequest is set for EventPullRequest.
	PullRequest *PullRequest
	// Run is set for EventRun, Deployment for EventDeployment, as far as
	// the payload tells (the targeted sync reads the lists anyway).
	Run        *Run
	Deployment *Deployment
}

// ErrIgnored marks a delivery that needs no work (an event type jiralinkd
// does not use, or an action that changes nothing it indexes). The HTTP
// layer acknowledges such deliveries with 2xx.
var ErrIgnored = errors.New("event ignored")

// IgnoredError is the typed "ignore" a webhook parser returns. It matches
// ErrIgnored with errors.Is.
type IgnoredError struct {
	EventType string // the provider's event type header value
	Reason    string
}

func (e *IgnoredError) Error() string {
	return fmt.Sprintf("%s event ignored: %s", e.EventType, e.Reason)
}

// Is makes errors.Is(err, ErrIgnored) true.
func (e *IgnoredError) Is(target error) bool { return target == ErrIgnored }

// ErrBadPayload marks a delivery whose body does not parse or lacks what
// its event type must carry (answered 400, nothing processed).
var ErrBadPayload = errors.New("invalid webhook payload")

// ErrBadSignature marks a delivery whose signature or token does not
// verify (answered 401, nothing processed).
var ErrBadSignature = errors.New("webhook signature does not verify")
