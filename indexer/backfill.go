package indexer

// backfill.go: the progress of each repository's backfill (its first
// complete sync), kept in its RepoState (state.BackfillProgress) and
// updated at every walk checkpoint, so status, the API and metrics can
// show commits listed, the estimate still to list, links written and
// provider calls spent, and an ETA (status.EstimateETA).

import (
	"context"
	"sync"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

// progressPages is how many commit pages a backfill lists between saves
// of its progress (checkpoints save it too).
const progressPages = 5

// CommitPageSize is how many commits one commit-list page holds (GitHub
// and GitLab lists are read 100 at a time): the unit of the page-based
// estimate.
const CommitPageSize = 100

// backfillRun is a backfilling repo's sync in progress: the counters not
// yet folded into its record (rs.st.Backfill).
type backfillRun struct {
	calls   providers.CallCounter
	started time.Time // of this sync, or of the last fold
	// What was already folded into the record.
	foldCalls  int
	foldWaited time.Duration
	foldLinks  int
	lastPage   int // the page of the last commit seen (0: none)
	lastBranch string
}

// startBackfill decides whether this sync is part of the repo's backfill:
// a repo without a complete sync yet (no record and never succeeded, or a
// record not done). If so it opens or resumes the record and returns a
// context whose provider requests are counted.
func (rs *repoSync) startBackfill(ctx context.Context) context.Context {
	rs.ix.backfill.started(rs.st.Key)
	if rs.ix.opts.DryRun {
		return ctx
	}
	switch {
	case rs.st.Backfill.Backfilling():
	case rs.st.Backfill == nil && rs.st.LastSuccess.IsZero() && len(rs.st.Branches) == 0:
		rs.st.Backfill = &state.BackfillProgress{Started: rs.ix.opts.Now()}
		// Stored at once: it leaves the queue now, and until its first
		// checkpoint the views would otherwise not see it at all.
		if err := rs.save(); err != nil {
			rs.ix.log.Warn("backfill progress not saved", "provider", rs.t.Name, "repo", rs.repo.FullName, "err", err)
		}
	default:
		return ctx
	}
	rs.bf = &backfillRun{started: rs.ix.opts.Now()}
	return providers.WithCallCounter(ctx, &rs.bf.calls)
}

// backfillWalk is called as a walk of branch b begins, from the
// checkpoint that holds pending commits (0 when it starts afresh): the
// default branch's walk counts from there (Walked), so a walk resumed
// after a failure does not count the pages it lists again twice.
func (rs *repoSync) backfillWalk(b providers.Branch, pending int) {
	if rs.bf == nil || b.Name != rs.repo.DefaultBranch {
		return
	}
	p := rs.st.Backfill
	p.Walked = pending
	if p.EstimateSource != state.EstimateAPI {
		p.Estimate, p.EstimateSource = p.Walked+CommitPageSize, state.EstimatePages
	}
}

// backfillCommit counts a commit a walk of branch read from the list, on
// page.
func (rs *repoSync) backfillCommit(branch string, page int) {
	if rs.bf == nil {
		return
	}
	p := rs.st.Backfill
	p.Listed++
	if page != rs.bf.lastPage || branch != rs.bf.lastBranch {
		p.Pages++
		rs.bf.lastPage, rs.bf.lastBranch = page, branch
		if p.Pages%progressPages == 0 && !rs.ix.opts.DryRun {
			// Between checkpoints too, so the views' remaining estimate
			// is never more than a few pages behind (links and calls are
			// folded at checkpoints).
			if err := rs.save(); err != nil {
				rs.ix.log.Debug("backfill progress not saved", "provider", rs.t.Name, "repo", rs.repo.FullName, "err", err)
			}
		}
	}
	if branch != rs.repo.DefaultBranch {
		return
	}
	p.Walked++
	if p.EstimateSource != state.EstimateAPI {
		p.Estimate = p.Walked + CommitPageSize
	}
}

// sizeBackfill asks the provider, once per head of the default branch, how
// many commits its history holds: the backfill's estimate. Other
// branches' history mostly overlaps it and is not asked for. A failure
// leaves the page-based estimate; the walk's own requests will meet it
// if it matters.
func (rs *repoSync) sizeBackfill(ctx context.Context, b providers.Branch) {
	hs, ok := rs.t.Source.(HistorySizer)
	p := rs.st.Backfill
	if rs.bf == nil || !ok || b.Name != rs.repo.DefaultBranch || p.SizedHead == b.HeadSHA {
		return
	}
	p.SizedHead = b.HeadSHA
	n, err := hs.HistorySize(ctx, rs.repo, b.HeadSHA)
	if err != nil {
		rs.ix.log.Warn("history size unknown; the backfill estimate counts pages", "provider", rs.t.Name, "repo", rs.repo.FullName, "err", err)
		return
	}
	if n > 0 {
		p.Estimate, p.EstimateSource = n, state.EstimateAPI
		// Stored at once, so the views count the repo's whole size from
		// now on, not only from its first checkpoint.
		if err := rs.save(); err != nil {
			rs.ix.log.Warn("backfill progress not saved", "provider", rs.t.Name, "repo", rs.repo.FullName, "err", err)
		}
	}
}

// foldBackfill adds what this sync did since the last fold (calls, links,
// time) to the record, before the record is saved; done marks the
// backfill complete.
func (rs *repoSync) foldBackfill(done bool) {
	if rs.bf == nil {
		return
	}
	p, now := rs.st.Backfill, rs.ix.opts.Now()
	calls, waited := rs.bf.calls.Load(), rs.bf.calls.Waited()
	p.Calls += calls - rs.bf.foldCalls
	p.Waited += waited - rs.bf.foldWaited
	p.Links += rs.lk.written - rs.bf.foldLinks
	p.Busy += now.Sub(rs.bf.started)
	rs.bf.foldCalls, rs.bf.foldWaited, rs.bf.foldLinks, rs.bf.started = calls, waited, rs.lk.written, now
	if done {
		p.Done = now
		if p.EstimateSource == state.EstimatePages {
			p.Estimate = p.Walked
		}
	}
}

// backfillQueue holds, per provider, the repos a running pass will
// backfill and has not started yet: they have no progress record, and
// status estimates their size from the others'.
type backfillQueue struct {
	mu     sync.Mutex
	queued map[string]map[state.RepoKey]bool
}

// queue records the repos of a pass of t that have no complete sync and
// no backfill record yet (replacing the previous pass's), from the stored
// states the pass planned with (stored, by repo id).
func (q *backfillQueue) queue(t Target, repos []providers.Repo, stored map[int64]state.RepoState) {
	indexed := map[int64]bool{} // or backfilling with a record
	for id, st := range stored {
		if st.Backfill != nil || !st.LastSuccess.IsZero() || len(st.Branches) > 0 {
			indexed[id] = true
		}
	}
	set := map[state.RepoKey]bool{}
	for _, r := range repos {
		if !indexed[r.ID] {
			set[state.RepoKey{Provider: t.Name, ID: r.ID}] = true
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.queued == nil {
		q.queued = map[string]map[state.RepoKey]bool{}
	}
	q.queued[t.Name] = set
}

// started drops a repo from the queue: its sync began.
func (q *backfillQueue) started(k state.RepoKey) {
	q.mu.Lock()
	defer q.mu.Unlock()
	delete(q.queued[k.Provider], k)
}

// BackfillQueued returns, per provider, how many repos the running passes
// will backfill and have not started (for status.Tracker.BackfillQueued).
func (ix *Indexer) BackfillQueued() map[string]int {
	q := &ix.backfill
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make(map[string]int, len(q.queued))
	for p, set := range q.queued {
		out[p] = len(set)
	}
	return out
}
