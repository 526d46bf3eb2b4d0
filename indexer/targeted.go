package indexer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

// ErrUnknownRepo is returned for a repo jiralinkd has never synced; the
// caller may fall back to a pass over that repo, which checks that the
// configuration covers it.
var ErrUnknownRepo = errors.New("repository not indexed yet")

// SyncRepo syncs one known repo (by provider id), limited to scope. It is
// what a webhook triggers: the repo's stored identity is used, so no
// discovery call is made. Repos never synced answer ErrUnknownRepo.
func (ix *Indexer) SyncRepo(ctx context.Context, t Target, id int64, scope Scope) (RepoReport, error) {
	st, ok, err := ix.opts.Store.Repo(state.RepoKey{Provider: t.Name, ID: id})
	if err != nil {
		return RepoReport{}, err
	}
	if !ok {
		return RepoReport{}, fmt.Errorf("%s repo id %d: %w", t.Name, id, ErrUnknownRepo)
	}
	if ix.opts.BackfillLane && st.LastSuccess.IsZero() {
		// A backfill (on any replica) reads the branches as they are when
		// it gets there; waiting for its lock would hold a webhook worker
		// for hours.
		ix.log.Info("webhook sync skipped: the repository is being backfilled, which covers the change", "provider", t.Name, "repo", st.Repo.FullName)
		return RepoReport{Repo: st.Repo.FullName}, nil
	}
	projects, err := ix.cachedProjects(ctx)
	if err != nil {
		err = fmt.Errorf("read Jira projects: %w", err)
		if f := ix.failure(err, t.Name); f.Kind != string(FailureInterrupted) && !ix.opts.DryRun {
			if jiraWide(FailureKind(f.Kind)) {
				ix.recordJira(&f)
			}
			if rerr := ix.opts.Store.RecordRepoFailure(st.Key, st.Repo, f); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
		return RepoReport{Repo: st.Repo.FullName, Err: err}, err
	}
	return ix.syncRepoCurrent(ctx, t, st.Repo, projects, scope), nil
}

// RemoveRepo deletes every link jiralinkd wrote for a repo and forgets the
// repo (a deleted repository). Safe to run again after an interruption:
// links already deleted are gone from the state too.
func (ix *Indexer) RemoveRepo(ctx context.Context, t Target, id int64) (deleted int, err error) {
	key := state.RepoKey{Provider: t.Name, ID: id}
	ctx, unlock, err := ix.lockRepo(ctx, key)
	if err != nil {
		return 0, err
	}
	defer unlock()
	lk := ix.newLinker(nil)
	prefix := repoGlobalIDPrefix(key)
	ids, err := ix.opts.Store.GlobalIDsWithPrefix(prefix)
	if err != nil {
		return 0, err
	}
	for _, gid := range ids {
		if err := lk.remove(ctx, gid); err != nil {
			return lk.deleted, err
		}
	}
	if ix.opts.DryRun {
		return lk.deleted, nil
	}
	ix.log.Info("repository removed", "provider", t.Name, "repo_id", id, "links_deleted", lk.deleted)
	if cs, ok := ix.opts.Store.(CIStore); ok {
		if err := cs.ForgetCI(key); err != nil {
			return lk.deleted, err
		}
	}
	return lk.deleted, ix.opts.Store.ForgetRepo(key)
}

// RelinkRepo moves a renamed or transferred repo's links to its new URLs
// in place (same globalIds, never duplicated), from jiralinkd's own link
// records: no provider call, one Jira write per link.
func (ix *Indexer) RelinkRepo(ctx context.Context, t Target, id int64, renamed providers.Repo) (RepoReport, error) {
	rep := RepoReport{Repo: renamed.FullName}
	reread, err := ix.relink(ctx, t, state.RepoKey{Provider: t.Name, ID: id}, renamed)
	if err != nil || !reread {
		rep.Err = err
		return rep, err
	}
	// An old-format state was reset: read the history again.
	return ix.SyncRepo(ctx, t, id, FullScope)
}

func (ix *Indexer) relink(ctx context.Context, t Target, key state.RepoKey, renamed providers.Repo) (reread bool, err error) {
	ctx, unlock, err := ix.lockRepo(ctx, key)
	if err != nil {
		return false, err
	}
	defer unlock()
	st, ok, err := ix.opts.Store.Repo(key)
	if err != nil || !ok {
		if err == nil {
			err = fmt.Errorf("%s repo id %d: %w", key.Provider, key.ID, ErrUnknownRepo)
		}
		return false, err
	}
	if st.Repo.HTMLURL == renamed.HTMLURL || renamed.HTMLURL == "" || ix.opts.DryRun {
		return false, nil
	}
	st, reread, err = ix.renamed(ctx, t, st, renamed)
	if err != nil {
		return false, err
	}
	return reread, ix.opts.Store.PutRepo(st)
}

func repoGlobalIDPrefix(key state.RepoKey) string {
	return "jiralinkd/" + key.Provider + "/" + strconv.FormatInt(key.ID, 10) + "/"
}

// pruneVanished handles indexed repos that discovery no longer returns:
// deleted on the provider (Source.Lookup answers not found) → their links
// are removed; still there but no longer configured (or filtered, or
// archived) → kept unless the target prunes removed repos. Discovery must
// have succeeded completely, or a transient error would look like a
// deletion.
func (ix *Indexer) pruneVanished(ctx context.Context, t Target, discovered []providers.Repo) ([]string, error) {
	seen := make(map[int64]bool, len(discovered))
	for _, r := range discovered {
		seen[r.ID] = true
	}
	all, err := ix.opts.Store.Repos()
	if err != nil {
		return nil, err
	}
	var gone []state.RepoState
	for _, st := range all {
		if st.Key.Provider == t.Name && !seen[st.Key.ID] {
			gone = append(gone, st)
		}
	}
	return ix.removeVanished(ctx, t, gone, false)
}

// pruneGone handles, between sweeps, the repos of rep whose sync failed
// with a 404: each is looked up, and one deleted (or no longer visible,
// with prune_removed_repos) loses its links and leaves rep.Repos (it is
// gone, not failed). One that still exists stays failed.
func (ix *Indexer) pruneGone(ctx context.Context, t Target, rep *Report) ([]string, error) {
	var gone []state.RepoState
	names := map[string]bool{}
	for _, rr := range rep.Repos {
		if !errors.Is(rr.Err, providers.ErrNotFound) {
			continue
		}
		names[rr.Repo] = true
	}
	if len(names) == 0 {
		return nil, nil
	}
	all, err := ix.opts.Store.Repos()
	if err != nil {
		return nil, err
	}
	for _, st := range all {
		if st.Key.Provider == t.Name && names[st.Repo.FullName] {
			gone = append(gone, st)
		}
	}
	removed, err := ix.removeVanished(ctx, t, gone, true)
	if len(removed) > 0 {
		drop := map[string]bool{}
		for _, n := range removed {
			drop[n] = true
		}
		keep := rep.Repos[:0]
		for _, rr := range rep.Repos {
			if !drop[rr.Repo] {
				keep = append(keep, rr)
			}
		}
		rep.Repos = keep
	}
	return removed, err
}

// removeVanished looks each repo up and removes the links of those deleted
// on the provider, of those no longer visible when the target prunes
// removed repos, and, unless configured (the repos are still covered by the
// configuration), of those still there when it does.
func (ix *Indexer) removeVanished(ctx context.Context, t Target, repos []state.RepoState, configured bool) ([]string, error) {
	var removed []string
	var errs []error
	for _, st := range repos {
		_, err := t.Source.Lookup(ctx, st.Repo)
		var why string
		switch {
		case errors.Is(err, providers.ErrNotVisible) && t.PruneRemovedRepos:
			why = "no longer visible to the provider's credentials (prune_removed_repos)"
		case errors.Is(err, providers.ErrNotVisible):
			ix.log.Info("repository no longer visible; it keeps its links (prune_removed_repos is off)", "provider", t.Name, "repo", st.Repo.FullName)
			continue
		case errors.Is(err, providers.ErrNotFound):
			why = "deleted on the provider (or no longer visible to the token)"
		case err != nil:
			errs = append(errs, fmt.Errorf("check vanished repo %s: %w", st.Repo.FullName, err))
			continue
		case t.PruneRemovedRepos && !configured:
			why = "no longer configured (prune_removed_repos)"
		default:
			continue // still there: configured, or keeps its links
		}
		n, err := ix.RemoveRepo(ctx, t, st.Key.ID)
		if err != nil {
			errs = append(errs, fmt.Errorf("remove links of %s: %w", st.Repo.FullName, err))
			continue
		}
		ix.log.Warn("repository links removed", "provider", t.Name, "repo", st.Repo.FullName, "reason", why, "links_deleted", n)
		removed = append(removed, st.Repo.FullName)
	}
	return removed, errors.Join(errs...)
}

// reconcileLookback is how far back a reconciliation re-reads pull
// requests before the watermark.
const reconcileLookback = 7 * 24 * time.Hour

// Reconcile is a pass that trusts no cached list: the stored ETags of every
// branch, tag and pull request list are dropped (pull requests re-read a
// week back from the watermark) and pruning is re-checked, so anything a
// missed webhook, a provider hiccup or a bug left behind is repaired.
// History already indexed is not re-read: branch heads are compared with
// the cursors, which costs a few calls per repo.
func (ix *Indexer) Reconcile(ctx context.Context, t Target) Report {
	if !ix.opts.DryRun {
		repos, err := ix.opts.Store.Repos()
		if err != nil {
			return Report{Provider: t.Name, Err: err}
		}
		for _, st := range repos {
			if st.Key.Provider != t.Name {
				continue
			}
			_, unlock, err := ix.lockRepo(ctx, st.Key)
			if errors.Is(err, state.ErrRepoBusy) {
				continue // synced elsewhere now; reconciled next time
			}
			if err != nil {
				return Report{Provider: t.Name, Err: err}
			}
			cur, ok, err := ix.opts.Store.Repo(st.Key)
			if err == nil && ok {
				cur.BranchList, cur.TagList, cur.PullList = providers.ListState{}, providers.ListState{}, providers.ListState{}
				if !cur.PullWatermark.IsZero() {
					cur.PullWatermark = cur.PullWatermark.Add(-reconcileLookback)
				}
				cur.PrunePending = t.PruneUnreachable
				err = ix.opts.Store.PutRepo(cur)
			}
			unlock()
			if err != nil {
				return Report{Provider: t.Name, Err: err}
			}
		}
	}
	ix.log.Info("reconciliation pass", "provider", t.Name)
	return ix.Sync(ctx, t, "")
}
