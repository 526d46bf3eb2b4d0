package indexer

// walk.go: the commit walk of one branch (frontier, checkpoints, smart commits of walked commits).

import (
	"context"
	"errors"
	"fmt"

	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

// walk indexes the commits reachable from b's head that are not indexed
// yet, then advances the branch cursor. forced reports that the previous
// head is not an ancestor of the new one (a force-push or rebase).
//
// GitHub and GitLab list history newest first, and merges interleave old
// commits from the merged line, so meeting one known commit does not mean
// the rest is known. The walk keeps a frontier of parents it still has to
// meet and stops only when every parent of every new commit is indexed.
func (rs *repoSync) walk(ctx context.Context, b providers.Branch) (forced bool, err error) {
	defer func() {
		if err != nil {
			// No write of this walk outlives it (nor is its error
			// blamed on the next branch).
			err = errors.Join(err, rs.lk.settle())
		}
	}()
	head, old := b.HeadSHA, rs.st.Branches[b.Name]
	w := &walker{rs: rs, branch: b.Name, boundary: map[string]bool{}}
	// Smart commits run for commits first seen now, on accepted branches,
	// once the repo is armed (its first sync with them enabled is a
	// backfill and runs none).
	w.smart = rs.ix.opts.SmartCommits != nil && rs.t.SmartCommits != nil && rs.st.SmartCommitsArmed &&
		rs.t.SmartCommits(b.Name) && !rs.ix.opts.DryRun
	// On other branches, once armed, commits with commands are remembered
	// as pending: they run when a branch where smart commits run reaches
	// them (runReached).
	w.track = rs.ix.opts.SmartCommits != nil && rs.t.SmartCommits != nil && rs.st.SmartCommitsArmed &&
		!rs.t.SmartCommits(b.Name) && !rs.ix.opts.DryRun
	known, err := rs.known(head)
	if err != nil {
		return false, err
	}
	if known[head] {
		w.boundary[head] = true
	} else {
		frontier, start, err := w.resume(head)
		if err != nil {
			return false, err
		}
		w.lastCheckpoint = start
		rs.backfillWalk(b, w.pending)
		sized := false
		err = rs.t.Source.Commits(ctx, rs.repo, head, start, func(c providers.Commit, page int) (bool, error) {
			if page > start && !sized {
				// The history holds more than a page: worth a call to
				// size it (a repo of one page is sized by listing it).
				sized = true
				rs.sizeBackfill(ctx, b)
			}
			if page >= w.lastCheckpoint+checkpointPages && !rs.ix.opts.DryRun {
				// At a page boundary, before this page's first commit is
				// handled: everything so far is written and saved.
				if err := w.checkpoint(ctx, head, page, frontier); err != nil {
					return true, err
				}
			}
			rs.backfillCommit(b.Name, page)
			delete(frontier, c.SHA)
			kn, err := rs.known(append([]string{c.SHA}, c.Parents...)...)
			if err != nil {
				return true, err
			}
			if kn[c.SHA] {
				return len(frontier) == 0, nil
			}
			rs.indexed[compactSHA(c.SHA)] = struct{}{}
			w.fresh = append(w.fresh, state.NewCommit(c.SHA, c.Parents))
			if w.smart || w.track && len(c.Parents) <= 1 && smartcommit.HasCommands(c.Message, rs.ix.opts.Matcher) {
				w.smartQueue = append(w.smartQueue, c)
			}
			for _, p := range c.Parents {
				if kn[p] {
					w.boundary[p] = true
				} else {
					frontier[p] = true
				}
			}
			if err := rs.lk.add(ctx, rs.ix.commitEntity(rs.t, rs.key(), rs.repo, c)); err != nil {
				return true, err
			}
			rs.rep.Commits++
			if p := rs.ix.opts.Progress; p != nil && rs.rep.Commits%500 == 0 {
				p(Progress{Provider: rs.t.Name, Repo: rs.repo.FullName, Branch: b.Name, Commits: rs.rep.Commits})
			}
			return len(frontier) == 0, nil
		})
		if err != nil {
			return false, err
		}
	}
	if err := rs.lk.add(ctx, rs.ix.refEntity(rs.t, rs.key(), rs.repo, KindBranch, b.Name)); err != nil {
		return false, err
	}
	if err := w.runReached(ctx, head, old); err != nil {
		return false, err
	}
	if err := w.flush(ctx); err != nil {
		return false, err
	}
	if old != "" && !w.boundary[old] {
		// Usually the old head is a direct parent of a new commit; if not,
		// ask the stored graph whether it is an ancestor of the boundary.
		from := make([]string, 0, len(w.boundary))
		for p := range w.boundary {
			from = append(from, p)
		}
		anc, err := rs.ix.opts.Store.IsAncestor(rs.key(), old, from)
		if err != nil {
			return false, err
		}
		forced = !anc
	}
	rs.rep.Branches++
	rs.st.Branches[b.Name] = head
	rs.st.Commits += len(w.fresh) + w.pending
	delete(rs.st.Walks, b.Name)
	if rs.ix.opts.DryRun {
		return forced, nil
	}
	rs.foldBackfill(false)
	return forced, rs.ix.opts.Store.AdvanceBranch(rs.st, b.Name, w.fresh)
}

// checkpointPages is how many commit pages a walk reads between
// checkpoints (2,000 commits): a crash costs at most that much listing.
const checkpointPages = 20

// walker is the state of one branch walk.
type walker struct {
	rs             *repoSync
	branch         string
	boundary       map[string]bool // indexed parents of new commits
	fresh          []state.Commit  // walked since the last checkpoint
	pending        int             // walked before it (saved as pending)
	lastCheckpoint int             // page of the last checkpoint (or the start)
	// smart: commands of walked commits run (a configured branch); track:
	// walked commits with commands are recorded as pending instead (any
	// other branch). Neither before the repo is armed, nor in a dry run.
	smart, track bool
	smartQueue   []providers.Commit // newest first, as walked
}

// resume picks up an unfinished walk of the same head from its checkpoint
// (its pending commits count as handled), or drops a stale one. It returns
// the frontier and the page to start from.
func (w *walker) resume(head string) (frontier map[string]bool, startPage int, err error) {
	rs := w.rs
	ck, ok := rs.st.Walks[w.branch]
	if ok && ck.Head == head && ck.NextPage > 1 && !rs.ix.opts.DryRun {
		frontier = make(map[string]bool, len(ck.Frontier))
		for _, p := range ck.Frontier {
			frontier[p] = true
		}
		for _, p := range ck.Boundary {
			w.boundary[p] = true
		}
		err := rs.ix.opts.Store.PendingCommits(rs.key(), w.branch, func(c state.Commit) {
			rs.indexed[string(c.Key())] = struct{}{}
			w.pending++
		})
		if err != nil {
			return nil, 0, err
		}
		rs.ix.log.Info("resuming an interrupted walk", "provider", rs.t.Name, "repo", rs.repo.FullName, "branch", w.branch, "page", ck.NextPage, "commits_done", w.pending)
		return frontier, ck.NextPage, nil
	}
	if ok && !rs.ix.opts.DryRun {
		// The branch moved since: start over (links already written are
		// recorded and not written again).
		if err := rs.ix.opts.Store.DiscardWalk(rs.key(), w.branch); err != nil {
			return nil, 0, err
		}
		delete(rs.st.Walks, w.branch)
	}
	return map[string]bool{head: true}, 1, nil
}

// flush writes the links of what was walked and runs its smart commits,
// or records them as pending. Either happens before the walk's progress is
// saved, so a crash cannot lose them.
func (w *walker) flush(ctx context.Context) error {
	rs := w.rs
	if err := rs.lk.flush(ctx); err != nil {
		return err
	}
	if w.track {
		return w.recordPending()
	}
	// Oldest first, as they were committed. An error means nothing was
	// recorded or sent for that commit: the walk's progress is not saved,
	// and the next pass runs it (exactly once, by the ledger).
	for i := len(w.smartQueue) - 1; i >= 0; i-- {
		c := w.smartQueue[i]
		msg, _ := rs.ix.redact(rs.key(), KindCommit, c.SHA, c.Message) // comments carry its text
		if _, err := rs.ix.opts.SmartCommits.Handle(ctx, smartcommit.CommitInfo{
			Provider: rs.t.Name, Repo: rs.repo.FullName, Branch: w.branch, SHA: c.SHA, URL: c.HTMLURL,
			Author: authorOf(rs.t, c), Message: msg, When: c.AuthorDate, Merge: len(c.Parents) > 1, Allow: rs.lk.issueAllowed(),
		}); err != nil {
			return fmt.Errorf("smart commit %s: %w", shortSHA(c.SHA), err)
		}
	}
	w.smartQueue = w.smartQueue[:0]
	return nil
}

// recordPending stores the queued commits as pending smart commits, with
// their messages redacted (they are stored, and later quoted in Jira).
func (w *walker) recordPending() error {
	rs := w.rs
	if len(w.smartQueue) == 0 {
		return nil
	}
	ps := make([]state.SmartPending, 0, len(w.smartQueue))
	for i := len(w.smartQueue) - 1; i >= 0; i-- { // oldest first
		c := w.smartQueue[i]
		msg, _ := rs.ix.redact(rs.key(), KindCommit, c.SHA, c.Message)
		ps = append(ps, state.SmartPending{SHA: c.SHA, Message: msg, Author: authorOf(rs.t, c), URL: c.HTMLURL, When: c.AuthorDate})
	}
	if err := rs.ix.opts.Store.AddSmartPending(rs.key(), ps); err != nil {
		return err
	}
	w.smartQueue = w.smartQueue[:0]
	return nil
}

// runReached runs, oldest first and before the branch cursor advances, the
// commands of pending smart commits (see recordPending) that the walked
// branch, one where smart commits run, now reaches at head: by a
// fast-forward onto them or by a merge of them. Ran, they stop being
// pending; the ledger keeps each command to one run even if a crash makes
// this happen again. An error leaves the cursor where it was, so the next
// pass tries again.
func (w *walker) runReached(ctx context.Context, head, old string) error {
	if !w.smart {
		return nil
	}
	rs := w.rs
	var stop []string
	if old != "" {
		stop = []string{old}
	}
	reached, err := rs.ix.opts.Store.SmartPendingReachable(rs.key(), w.branch, head, stop, w.fresh)
	if err != nil || len(reached) == 0 {
		return err
	}
	shas := make([]string, len(reached))
	for i, p := range reached {
		shas[i] = p.SHA
		if _, err := rs.ix.opts.SmartCommits.Handle(ctx, smartcommit.CommitInfo{
			Provider: rs.t.Name, Repo: rs.repo.FullName, Branch: w.branch, SHA: p.SHA, URL: p.URL,
			Author: p.Author, Message: p.Message, When: p.When, Allow: rs.lk.issueAllowed(),
		}); err != nil {
			return fmt.Errorf("smart commit %s: %w", shortSHA(p.SHA), err)
		}
	}
	rs.ix.log.Info("pending smart commits reached a smart-commit branch", "provider", rs.t.Name, "repo", rs.repo.FullName,
		"branch", w.branch, "commits", len(reached))
	return rs.ix.opts.Store.DropSmartPending(rs.key(), shas)
}

// checkpoint saves the walk's progress: links written first, then the
// walked commits (as pending) and the frontier in one transaction.
func (w *walker) checkpoint(ctx context.Context, head string, nextPage int, frontier map[string]bool) error {
	rs := w.rs
	if err := w.flush(ctx); err != nil {
		return err
	}
	ck := state.WalkCheckpoint{Head: head, NextPage: nextPage, Walked: w.pending + len(w.fresh)}
	for p := range frontier {
		ck.Frontier = append(ck.Frontier, p)
	}
	for p := range w.boundary {
		ck.Boundary = append(ck.Boundary, p)
	}
	if rs.st.Walks == nil {
		rs.st.Walks = map[string]state.WalkCheckpoint{}
	}
	rs.st.Walks[w.branch] = ck
	rs.foldBackfill(false)
	if err := rs.ix.opts.Store.CheckpointWalk(rs.st, w.branch, w.fresh); err != nil {
		return err
	}
	w.pending += len(w.fresh)
	w.fresh = nil
	w.lastCheckpoint = nextPage
	return nil
}

// known reports which shas are indexed, in the store or in this sync.
func (rs *repoSync) known(shas ...string) (map[string]bool, error) {
	kn, err := rs.ix.opts.Store.KnownCommits(rs.key(), shas)
	if err != nil {
		return nil, err
	}
	for _, s := range shas {
		if _, ok := rs.indexed[compactSHA(s)]; ok {
			kn[s] = true
		}
	}
	return kn, nil
}

// compactSHA is a map key for a commit id: 20 bytes for a hex SHA-1.
func compactSHA(sha string) string { return string(state.SHAKey(sha)) }
