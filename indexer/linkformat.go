package indexer

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
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
	up, deferred, err := ix.upgradeLinks(ctx, t, r, projects)
	if err != nil {
		err = fmt.Errorf("rewrite links of an older format: %w", err)
		ix.log.Error("repo not synced", "provider", t.Name, "repo", r.FullName, "err", err)
		return RepoReport{Repo: r.FullName, LinksWritten: up.written, LinksUpdated: up.updated, Err: err}
	}
	rep := ix.syncRepo(ctx, t, r, projects, scope)
	rep.LinksWritten += up.written
	rep.LinksUpdated += up.updated
	if rep.Err == nil && !deferred {
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
// only when a pull request link's title does not carry the provider's
// label (GitHub's "PR #N" never changed, so GitHub repos read nothing). The repo is then recorded as
// current: the pull request reset is saved with that mark, so an
// interrupted sync still re-reads them next time.
//
// A renamed repo is first moved by syncRepo (its links keep their format);
// deferred then reports that the upgrade waits for the next pass, where
// the repo's stored URL is the new one.
// A dry run prints the ref links it would rewrite and saves nothing.
func (ix *Indexer) upgradeLinks(ctx context.Context, t Target, r providers.Repo, projects map[string]bool) (lk *linker, deferred bool, err error) {
	key := state.RepoKey{Provider: t.Name, ID: r.ID}
	mu := ix.repoLock(key)
	mu.Lock()
	defer mu.Unlock()
	lk = ix.newLinker(projects).withRoute(t, r.FullName)
	// No background write outlives the repo lock (nothing is left after
	// a flush; this is for the early returns).
	defer func() { err = errors.Join(err, lk.settle()) }()
	st, known, err := ix.opts.Store.Repo(key)
	if err != nil || !known || st.LinkFormat >= linkFormat {
		return lk, false, err
	}
	if st.Repo.HTMLURL != r.HTMLURL {
		return lk, true, nil
	}
	for name := range st.Branches {
		if err := lk.add(ctx, ix.refEntity(t, key, r, KindBranch, name)); err != nil {
			return lk, false, err
		}
	}
	for name := range st.Tags {
		if err := lk.add(ctx, ix.refEntity(t, key, r, KindTag, name)); err != nil {
			return lk, false, err
		}
	}
	if err := lk.flush(ctx); err != nil {
		return lk, false, err
	}
	if ix.opts.DryRun {
		return lk, false, nil
	}
	reread, err := ix.pullTitlesStale(t, key)
	if err != nil {
		return lk, false, err
	}
	if reread {
		st.PullList, st.PullWatermark = providers.ListState{}, time.Time{}
	}
	st.LinkFormat = linkFormat
	if err := ix.opts.Store.PutRepo(st); err != nil {
		return lk, false, err
	}
	ix.log.Info("links of an older format rewritten", "provider", t.Name, "repo", r.FullName,
		"links_written", lk.written, "pull_requests_reread", reread)
	return lk, false, nil
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

// pullTitlesStale reports whether any recorded pull request link of the
// repo is titled otherwise than with the provider's label for its number.
func (ix *Indexer) pullTitlesStale(t Target, key state.RepoKey) (bool, error) {
	prefix := repoGlobalIDPrefix(key) + string(KindPull) + "/"
	stale := false
	err := ix.opts.Store.RepoLinks(prefix, func(l state.Link, rec state.LinkRecord) error {
		n, err := strconv.Atoi(strings.TrimPrefix(l.GlobalID, prefix))
		if err != nil || !strings.HasPrefix(rec.Info.Title, t.Source.PullLabel(n)+": ") {
			stale = true
			return errStop
		}
		return nil
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return stale, err
}

var errStop = errors.New("stop")
