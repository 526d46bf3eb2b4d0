package indexer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

// repoSync is the work on one repository during one pass.
type repoSync struct {
	ix   *Indexer
	t    Target
	repo providers.Repo
	st   state.RepoState
	lk   *linker
	rep  *RepoReport
	// indexed holds the commits indexed during this sync (keyed by the
	// compact binary SHA), so later branches stop at them even in a dry run
	// (which stores nothing).
	indexed map[string]struct{}
	bf      *backfillRun // set while the repo backfills (backfill.go)
}

// Scope says which parts of a repo a sync reads. A pass reads all; a
// webhook names the part that changed (a push: branches or tags; a pull
// request event: pull requests; a run or deployment event: CI).
type Scope struct {
	Branches, Tags, Pulls bool
	CI                    bool // builds and deployments (see ci.go)
}

// FullScope syncs everything.
var FullScope = Scope{Branches: true, Tags: true, Pulls: true, CI: true}

func (ix *Indexer) syncRepo(ctx context.Context, t Target, r providers.Repo, projects map[string]bool, scope Scope) RepoReport {
	start := ix.opts.Now()
	key := state.RepoKey{Provider: t.Name, ID: r.ID}
	ctx, unlock, err := ix.lockRepo(ctx, key)
	if err != nil {
		return RepoReport{Repo: r.FullName, Err: err}
	}
	defer unlock()
	if ix.opts.OnRepoStart != nil {
		ix.opts.OnRepoStart(key)
	}

	rep := RepoReport{Repo: r.FullName}
	if ix.opts.OnRepoDone != nil {
		defer func() { ix.opts.OnRepoDone(key, rep) }()
	}
	st, known, err := ix.opts.Store.Repo(key)
	if err != nil {
		rep.Err = err
		return rep
	}
	if known && st.Repo.HTMLURL != "" && st.Repo.HTMLURL != r.HTMLURL && !ix.opts.DryRun {
		// Renamed or transferred (same id, new URL): every link's URL
		// changes; they are moved in place (same globalIds).
		if st, _, err = ix.renamed(ctx, t, st, r); err != nil {
			rep.Err = err
			st.MarkFailed(ix.failure(err, t.Name))
			if perr := ix.opts.Store.PutRepo(st); perr != nil {
				rep.Err = errors.Join(err, perr)
			}
			return rep
		}
	}
	st.Key = key
	st.Repo = r
	if st.Branches == nil {
		st.Branches = map[string]string{}
	}
	if st.Tags == nil {
		st.Tags = map[string]string{}
	}
	rs := &repoSync{ix: ix, t: t, repo: r, st: st, lk: ix.newLinker(projects).withRoute(t, r.FullName), rep: &rep, indexed: map[string]struct{}{}}
	ctx = rs.startBackfill(ctx)
	rs.lk.keys = keyBrokerOf(ctx) // nil for a targeted sync: it asks Jira itself

	// The steps are independent: one failing does not keep the others from
	// advancing their cursors. Pruning needs a complete view of branches and
	// tags, so any failure there postpones it (PrunePending stays set).
	var errs []error
	canPrune := true
	// Pull requests are listed beside the branches (see listPulls), with a
	// linker of their own (keys checked by it: the pass's key broker counts
	// one waiter per repo). A dry run lists them after the branches, so
	// that its output comes in order.
	var pullsDone chan pullRead
	var readPulls func() pullRead
	if scope.Pulls {
		plk := ix.newLinker(projects).withRoute(t, r.FullName)
		mark, prev := rs.st.PullWatermark, rs.st.PullList
		readPulls = func() pullRead { return rs.listPulls(ctx, plk, mark, prev) }
		if !ix.opts.DryRun {
			pullsDone = make(chan pullRead, 1)
			go func() { pullsDone <- readPulls() }()
		}
	}
	if scope.Branches {
		if err := rs.branches(ctx); err != nil {
			errs = append(errs, err)
			canPrune = false
		}
	}
	if scope.Tags && ctx.Err() == nil {
		if err := rs.tags(ctx); err != nil {
			errs = append(errs, fmt.Errorf("tags: %w", err))
			canPrune = false
		}
	}
	if scope.Pulls {
		var pr pullRead
		switch {
		case pullsDone != nil:
			pr = <-pullsDone
		case ctx.Err() == nil:
			pr = readPulls()
		default:
			pr.unchanged = true // skipped
		}
		if err := rs.applyPulls(pr); err != nil {
			errs = append(errs, fmt.Errorf("pull requests: %w", err))
		}
	}
	if scope.CI && ctx.Err() == nil {
		if err := rs.ci(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if canPrune && ctx.Err() == nil {
		if err := rs.pruneUnreachable(ctx); err != nil {
			errs = append(errs, err)
		}
	}
	if err := rs.lk.settle(); err != nil {
		errs = append(errs, err) // writes a failed step left running
	}
	if ctx.Err() != nil && len(errs) == 0 {
		errs = append(errs, ctx.Err()) // steps were skipped
	}
	err = errors.Join(errs...)
	if err == nil && scope == FullScope && rs.t.SmartCommits != nil && !rs.st.SmartCommitsArmed && !ix.opts.DryRun {
		rs.st.SmartCommitsArmed = true // from now on, new commits run their commands
	}
	rep.Err = err
	rep.LinksWritten, rep.LinksDeleted, rep.LinksUpdated = rs.lk.written, rs.lk.deleted, rs.lk.updated
	rep.Duration = ix.opts.Now().Sub(start)

	switch {
	case err == nil:
		rs.st.MarkOK(ix.opts.Now())
	case Classify(err) == FailureInterrupted:
		// Stopped, not failed: the next pass resumes; the last outcome stands.
	default:
		f := ix.failure(err, t.Name)
		rs.st.MarkFailed(f)
		rep.Hint = f.Hint
	}
	rs.st.Links += rs.lk.written
	rs.foldBackfill(err == nil && scope == FullScope)
	if perr := rs.save(); perr != nil && rep.Err == nil {
		rep.Err = perr
	}
	lvl := ix.log.Info
	args := []any{"provider", t.Name, "repo", r.FullName, "commits", rep.Commits, "branches", rep.Branches,
		"pulls", rep.Pulls, "runs", rep.Runs, "deployments", rep.Deployments, "links_written", rep.LinksWritten, "links_deleted", rep.LinksDeleted,
		"duration", rep.Duration.Round(time.Millisecond)}
	if rep.Err != nil {
		lvl = ix.log.Error
		args = append(args, "err", rep.Err)
	}
	lvl("repo synced", args...)
	return rep
}

func (rs *repoSync) save() error {
	if rs.ix.opts.DryRun {
		return nil
	}
	return rs.ix.opts.Store.PutRepo(rs.st)
}

func (rs *repoSync) key() state.RepoKey { return rs.st.Key }

// branches walks the new history of every changed branch, links branch
// names, and unlinks deleted branches. A 304 on the branch list means no
// head moved, so nothing else is read.
//
// Each branch is handled on its own: a branch whose walk fails keeps its
// cursor and the others still advance. The error then joins every
// branch's failure, each naming its branch, and the branch list's ETag is
// not stored, so the next pass lists the branches again and retries the
// failed ones.
func (rs *repoSync) branches(ctx context.Context) error {
	l, err := rs.t.Source.Branches(ctx, rs.repo, rs.st.BranchList)
	if err != nil {
		return fmt.Errorf("list branches: %w", err)
	}
	if l.Unchanged {
		return nil
	}
	bs := l.Items
	// The default branch first: it holds most history, and the other
	// branches' walks then stop where they meet it.
	sort.SliceStable(bs, func(i, j int) bool {
		di, dj := bs[i].Name == rs.repo.DefaultBranch, bs[j].Name == rs.repo.DefaultBranch
		if di != dj {
			return di
		}
		return bs[i].Name < bs[j].Name
	})
	present := map[string]bool{}
	rewritten := false // a head moved backwards or sideways, or a branch went
	var errs []error
	for _, b := range bs {
		present[b.Name] = true
		if rs.st.Branches[b.Name] == b.HeadSHA {
			continue
		}
		if err := ctx.Err(); err != nil {
			errs = append(errs, fmt.Errorf("branch %s and later ones: %w", b.Name, err))
			break
		}
		old, had := rs.st.Branches[b.Name]
		commits, walked := rs.st.Commits, rs.rep.Branches
		forced, err := rs.walk(ctx, b)
		if err != nil {
			errs = append(errs, fmt.Errorf("branch %s: %w", b.Name, err))
			// The cursor stays where it was, whatever the walk got to.
			if had {
				rs.st.Branches[b.Name] = old
			} else {
				delete(rs.st.Branches, b.Name)
			}
			rs.st.Commits, rs.rep.Branches = commits, walked
			if !rs.ix.opts.DryRun {
				// The failed walk's commits are not stored: later walks must
				// not stop at them, or history they share would stay
				// unindexed should this branch go before it is walked again.
				// What is stored, the store still knows.
				rs.indexed = map[string]struct{}{}
			}
			continue
		}
		if forced {
			rs.ix.log.Info("branch history rewritten (force-push)", "provider", rs.t.Name, "repo", rs.repo.FullName, "branch", b.Name)
			rewritten = true
		}
	}
	for name := range rs.st.Branches {
		if present[name] {
			continue
		}
		if err := rs.lk.remove(ctx, GlobalID(rs.key(), KindBranch, name)); err != nil {
			errs = append(errs, fmt.Errorf("deleted branch %s: %w", name, err))
			continue
		}
		delete(rs.st.Branches, name)
		rewritten = true
	}
	for name := range rs.st.Walks {
		if present[name] || rs.ix.opts.DryRun {
			continue
		}
		if err := rs.ix.opts.Store.DiscardWalk(rs.key(), name); err != nil {
			errs = append(errs, fmt.Errorf("deleted branch %s: %w", name, err))
			continue
		}
		delete(rs.st.Walks, name)
	}
	if rewritten && rs.t.PruneUnreachable && !rs.ix.opts.DryRun {
		// Pruning waits for the tags step (a tag may keep commits
		// reachable) and for a pass in which every branch succeeded; the
		// flag is saved with the branch cursors, so a crash in between
		// cannot skip it.
		rs.st.PrunePending = true
	}
	if len(errs) == 0 {
		rs.st.BranchList = l.State
	}
	return errors.Join(append(errs, rs.save())...)
}

// pruneUnreachable removes the links of indexed commits that no branch or
// tag reaches any more (after a force-push or a branch deletion) and
// forgets them. Commits still reachable from another branch or a tag keep
// their links. Reachability is computed from the stored parents of indexed
// commits: no provider call.
func (rs *repoSync) pruneUnreachable(ctx context.Context) error {
	if !rs.st.PrunePending || rs.ix.opts.DryRun {
		return nil
	}
	heads := make([]string, 0, len(rs.st.Branches)+len(rs.st.Tags))
	for _, sha := range rs.st.Branches {
		heads = append(heads, sha)
	}
	for _, sha := range rs.st.Tags {
		heads = append(heads, sha)
	}
	gone, err := rs.ix.opts.Store.Unreachable(rs.key(), heads)
	if err != nil {
		return err
	}
	if len(gone) == 0 {
		rs.st.PrunePending = false
		return rs.save()
	}
	// PrunePending stays set until every unlink succeeded: a failure here
	// (Jira down) leaves it for the next pass, not the weekly reconcile.
	for _, sha := range gone {
		if err := rs.lk.remove(ctx, GlobalID(rs.key(), KindCommit, sha)); err != nil {
			return fmt.Errorf("unlink unreachable commit %s: %w", shortSHA(sha), err)
		}
	}
	rs.ix.log.Info("unreachable commits unlinked", "provider", rs.t.Name, "repo", rs.repo.FullName, "commits", len(gone))
	rs.st.Commits -= len(gone)
	if err := rs.ix.opts.Store.ForgetCommits(rs.key(), gone); err != nil {
		return err
	}
	rs.st.PrunePending = false
	return rs.save()
}

// tags links tag names that carry keys and unlinks deleted tags. History
// reachable only from tags is not walked.
func (rs *repoSync) tags(ctx context.Context) error {
	l, err := rs.t.Source.Tags(ctx, rs.repo, rs.st.TagList)
	if err != nil {
		return fmt.Errorf("list tags: %w", err)
	}
	if l.Unchanged {
		return nil
	}
	now := make(map[string]string, len(l.Items))
	for _, tg := range l.Items {
		now[tg.Name] = tg.SHA
		if _, had := rs.st.Tags[tg.Name]; had {
			continue
		}
		if err := rs.lk.add(ctx, rs.ix.refEntity(rs.t, rs.key(), rs.repo, KindTag, tg.Name)); err != nil {
			return err
		}
	}
	if err := rs.lk.flush(ctx); err != nil {
		return err
	}
	for name := range rs.st.Tags {
		if _, ok := now[name]; ok {
			continue
		}
		if err := rs.lk.remove(ctx, GlobalID(rs.key(), KindTag, name)); err != nil {
			return fmt.Errorf("deleted tag %s: %w", name, err)
		}
	}
	rs.st.Tags = now
	rs.st.TagList = l.State
	return rs.save()
}

// pullRead is what a pull request listing read (listPulls), applied to
// the repo's state by applyPulls.
type pullRead struct {
	ls        providers.ListState
	newest    time.Time
	unchanged bool
	pulls     int
	lk        *linker
	err       error
}

// listPulls links pull requests updated since the watermark mark, with a
// linker of its own. The list is read newest-updated first and stops at
// the watermark; requests updated at exactly the watermark are handled
// again, which is harmless (unchanged links are not re-written) and closes
// the same-second race. It touches nothing of rs but what does not change
// during a sync, so it may run beside the branch walks: one big repo's
// backfill is bound by listing latency, and its pull request pages then
// overlap its commit pages.
func (rs *repoSync) listPulls(ctx context.Context, lk *linker, mark time.Time, prev providers.ListState) pullRead {
	r := pullRead{lk: lk, newest: mark}
	ls, unchanged, err := rs.t.Source.PullRequests(ctx, rs.repo, mark, prev, func(p providers.PullRequest) (bool, error) {
		if !mark.IsZero() && p.UpdatedAt.Before(mark) {
			return true, nil
		}
		if p.UpdatedAt.After(r.newest) {
			r.newest = p.UpdatedAt
		}
		r.pulls++
		return false, lk.add(ctx, rs.ix.pullEntity(rs.t, rs.key(), rs.repo, p))
	})
	switch {
	case err != nil:
		r.err = errors.Join(fmt.Errorf("list pull requests: %w", err), lk.settle())
	case unchanged:
		r.unchanged = true
	default:
		r.ls, r.err = ls, lk.flush(ctx)
	}
	return r
}

// applyPulls records what listPulls read: its counts, and, when all of it
// was linked, the new list state and watermark.
func (rs *repoSync) applyPulls(r pullRead) error {
	rs.rep.Pulls += r.pulls
	if r.lk != nil {
		rs.lk.written += r.lk.written
		rs.lk.updated += r.lk.updated
		rs.lk.deleted += r.lk.deleted
		rs.lk.dropped += r.lk.dropped
	}
	if r.err != nil || r.unchanged {
		return r.err
	}
	rs.st.PullList = r.ls
	rs.st.PullWatermark = r.newest
	return rs.save()
}

func firstNonEmpty(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
