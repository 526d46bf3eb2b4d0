package indexer

// feeds.go: optional capabilities of a Source that let a pass over a large
// installation cost in proportion to what changed, not to how many
// repositories there are.

import (
	"context"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
)

// PushFeed is implemented by sources that can list an owner's repositories
// most recently pushed first (GitHub: GET /orgs/{org}/repos?sort=pushed).
type PushFeed interface {
	// OwnerReposPushedSince lists owner's repositories most recently
	// pushed first and stops at the first one pushed before since: Items
	// holds the repositories pushed at or after since. prev is the state
	// of the previous call; a first page answering 304 returns Unchanged
	// (nothing was pushed since that call), free of rate limit.
	OwnerReposPushedSince(ctx context.Context, owner string, since time.Time, prev providers.ListState) (providers.Listed[providers.Repo], error)
}

// PullActivity names a repository in which a pull/merge request changed
// (see providers.PullActivity). It is an alias so that the provider
// packages implement PullFeed without importing the indexer.
type PullActivity = providers.PullActivity

// PullFeed is implemented by sources that can tell, in a few calls for a
// whole owner, in which repositories pull/merge requests changed (opened,
// edited, closed, from forks too) since a time: GitHub one issue search
// per org (is:pr org:X updated:>=T), GitLab one group-level MR listing
// (updated_after). The pass then reads the pull requests of those
// repositories only.
type PullFeed interface {
	OwnerPullActivity(ctx context.Context, owner string, since time.Time) ([]PullActivity, error)
}

// HistorySizer is implemented by sources that can tell, in one call, how
// many commits the history of head holds (the backfill estimate).
type HistorySizer interface {
	HistorySize(ctx context.Context, repo providers.Repo, head string) (int, error)
}
