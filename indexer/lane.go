package indexer

// lane.go: the backfill lane. Repositories never synced completely
// (newly configured ones, a first install) may take hours to backfill; a
// daemon runs them here, beside its scheduled passes, so that the passes
// of indexed repositories and webhooks keep their pace. Backfill requests
// are marked (httpx.WithBackfill) so that they spend at most their share
// of the provider's rate budget (backfill_budget_share).

import (
	"context"

	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// Backfill syncs, most recently pushed first, the repositories of t that
// were never synced completely, as the last discovery knows them (no
// discovery call), each once. It returns when they are done or ctx is.
// A repository that fails stays a backfill and is tried again by the next
// call.
func (ix *Indexer) Backfill(ctx context.Context, t Target) []RepoReport {
	states, err := ix.repoStates(t.Name)
	if err != nil {
		ix.log.Error("backfill: read the state", "provider", t.Name, "err", err)
		return nil
	}
	var p passPlan
	for _, r := range ix.coveredRepos(t) {
		p.add(r, states, Scope{})
	}
	p.order()
	if len(p.backfill) == 0 || ctx.Err() != nil {
		return nil
	}
	projects, err := ix.cachedProjects(ctx)
	if err != nil {
		ix.log.Warn("backfill waits: Jira projects unreadable", "provider", t.Name, "err", err)
		return nil
	}
	if !ix.opts.DryRun {
		ix.backfill.queue(t, p.backfill, states)
	}
	ix.log.Info("backfill started", "provider", t.Name, "repos", len(p.backfill))
	reps := ix.syncBackfills(ctx, t, p.backfill, projects)
	failed := Report{Repos: reps}.Failed()
	ix.log.Info("backfill round done", "provider", t.Name, "repos", len(reps), "failed", failed, "left", len(p.backfill)-len(reps)+failed)
	return reps
}

// syncBackfills syncs backfills whole, in the order given, with up to
// t.MaxConcurrency at once, their requests marked as backfill work.
func (ix *Indexer) syncBackfills(ctx context.Context, t Target, repos []providers.Repo, projects map[string]bool) []RepoReport {
	if len(repos) == 0 {
		return nil
	}
	ctx = httpx.WithBackfill(ctx)
	planned := make([]plannedRepo, len(repos))
	for i, r := range repos {
		planned[i] = plannedRepo{repo: r, scope: FullScope}
	}
	return ix.syncPlanned(ctx, t, planned, projects)
}
