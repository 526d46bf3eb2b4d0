package indexer

import (
	"context"
	"fmt"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

// linkFormat versions what refEntity and pullEntity produce. Bump it
// whenever a ref or pull-request link's URL, title or summary changes for
// an entity that did not change: such links are otherwise never rewritten
// (an unchanged branch list answers 304, a branch link is only written when
// its head moves, a tag link when the tag appears, a pull request link when
// the request is updated).
//
//  1. GitLab branches and tags link to {project}/-/tree/{name} (was
//     /tree/{name}); merge requests are titled "MR !N: …" (was "PR #N: …").
const linkFormat = 1

// syncRepoCurrent is syncRepo for a repo whose links may have been written
// by an older linkFormat: first they are brought up to date (see
// upgradeLinks), then the repo syncs as usual, and a repo whose links are
// all current after a successful sync is recorded as such.
func (ix *Indexer) syncRepoCurrent(ctx context.Context, t Target, r providers.Repo, projects map[string]bool, scope Scope) RepoReport {
	up, err := ix.upgradeLinks(ctx, t, r, projects)
	if err != nil {
		err = fmt.Errorf("rewrite links of an older format: %w", err)
		ix.log.Error("repo not synced", "provider", t.Name, "repo", r.FullName, "err", err)
		return RepoReport{Repo: r.FullName, LinksWritten: up.written, LinksUpdated: up.updated, Err: err}
	}
	rep := ix.syncRepo(ctx, t, r, projects, scope)
	rep.LinksWritten += up.written
	rep.LinksUpdated += up.updated
	if rep.Err == nil {
		if err := ix.markLinkFormat(state.RepoKey{Provider: t.Name, ID: r.ID}); err != nil {
			rep.Err = err
		}
	}
	return rep
}

// upgradeLinks corrects, in place (same globalIds), the links of a known
// repo whose stored LinkFormat is older than linkFormat. Branch and tag
// links are rebuilt from the stored names — no provider call; only links
// whose content changed are written. Pull requests are read again from the
// start by the sync that follows (list state and watermark dropped), but
// only when the repo has pull request links. The repo is then recorded as
// current: the pull request reset is saved with that mark, so an
// interrupted sync still re-reads them next time.
//
// A renamed repo is left to syncRepo, which rewrites all its links anyway.
// A dry run prints the ref links it would rewrite and saves nothing.
func (ix *Indexer) upgradeLinks(ctx context.Context, t Target, r providers.Repo, projects map[string]bool) (*linker, error) {
	key := state.RepoKey{Provider: t.Name, ID: r.ID}
	mu := ix.repoLock(key)
	mu.Lock()
	defer mu.Unlock()
	lk := ix.newLinker(projects)
	st, known, err := ix.opts.Store.Repo(key)
	if err != nil || !known || st.LinkFormat >= linkFormat || st.Repo.HTMLURL != r.HTMLURL {
		return lk, err
	}
	for name := range st.Branches {
		if err := lk.add(ctx, ix.refEntity(t, key, r, KindBranch, name)); err != nil {
			return lk, err
		}
	}
	for name := range st.Tags {
		if err := lk.add(ctx, ix.refEntity(t, key, r, KindTag, name)); err != nil {
			return lk, err
		}
	}
	if err := lk.flush(ctx); err != nil {
		return lk, err
	}
	if ix.opts.DryRun {
		return lk, nil
	}
	pulls, err := ix.opts.Store.GlobalIDsWithPrefix(repoGlobalIDPrefix(key) + string(KindPull) + "/")
	if err != nil {
		return lk, err
	}
	if len(pulls) > 0 {
		st.PullList, st.PullWatermark = providers.ListState{}, time.Time{}
	}
	st.LinkFormat = linkFormat
	if err := ix.opts.Store.PutRepo(st); err != nil {
		return lk, err
	}
	ix.log.Info("links of an older format rewritten", "provider", t.Name, "repo", r.FullName,
		"links_written", lk.written, "pull_requests_reread", len(pulls) > 0)
	return lk, nil
}

// markLinkFormat records that a repo's links are all in the current
// format (after a successful sync of a new or reset repo).
func (ix *Indexer) markLinkFormat(key state.RepoKey) error {
	if ix.opts.DryRun {
		return nil
	}
	mu := ix.repoLock(key)
	mu.Lock()
	defer mu.Unlock()
	st, known, err := ix.opts.Store.Repo(key)
	if err != nil || !known || st.LinkFormat >= linkFormat {
		return err
	}
	st.LinkFormat = linkFormat
	return ix.opts.Store.PutRepo(st)
}
