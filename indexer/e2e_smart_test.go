package indexer_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
)

func TestSmartCommitsRunOnceForNewCommitsOnConfiguredBranches(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2024, 4, 1, h, 0, 0, 0, time.UTC) }
	b := corpus.NewBuilder()
	old := b.Commit(nil, "ZOOKEEPER-1 #comment from the backfill: must never run", at(0))
	b.Branch("master", old)
	b.Branch("release", old)
	b.Branch("feature/x", old)
	s := newStack(t, b.Build(), nil)
	s.repo.SetDefaultBranch("master")
	ledger := s.store.Ledger()
	ex, err := smartcommit.NewExecutor(smartcommit.Options{Jira: s.jc, Ledger: ledger, Keys: s.m, IssueExists: s.jc.ExistingIssues})
	if err != nil {
		t.Fatal(err)
	}
	s.ix, err = indexer.New(indexer.Options{Store: s.store, Jira: s.jc, Matcher: s.m, SmartCommits: ex})
	if err != nil {
		t.Fatal(err)
	}
	s.tgt.SmartCommits = func(branch string) bool { return branch == "master" || branch == "release" }

	mustOK(t, s.sync(t)) // backfill: arms smart commits, runs nothing
	if c := s.jira.Comments("ZOOKEEPER-1"); len(c) != 0 {
		t.Fatalf("a backfilled commit ran its command: %+v", c)
	}

	// New commits: one on master (comment + time), one only on a branch
	// that is not configured.
	c1 := corpus.Commit{SHA: "9191919191919191919191919191919191919191", Parents: []string{old}, AuthorName: "Ada", AuthorDate: at(2), CommitterDate: at(2),
		Message: "ZOOKEEPER-2 #comment fixed the session leak #time 1h 30m"}
	c2 := corpus.Commit{SHA: "9292929292929292929292929292929292929292", Parents: []string{old}, AuthorName: "Bob", AuthorDate: at(3), CommitterDate: at(3),
		Message: "ZOOKEEPER-3 #comment on a feature branch"}
	s.repo.AddCommit(c1)
	s.repo.AddCommit(c2)
	s.repo.SetBranch("master", c1.SHA)
	s.repo.SetBranch("feature/x", c2.SHA)
	mustOK(t, s.sync(t))
	comments := s.jira.Comments("ZOOKEEPER-2")
	if len(comments) != 1 || !strings.Contains(comments[0].Body, "fixed the session leak") || !strings.Contains(comments[0].Body, "Ada") ||
		!strings.Contains(comments[0].Body, c1.SHA) {
		t.Errorf("comment on ZOOKEEPER-2: %+v", comments)
	}
	if wl := s.jira.Worklogs("ZOOKEEPER-2"); len(wl) != 1 || wl[0].TimeSpentSeconds != 5400 {
		t.Errorf("worklog on ZOOKEEPER-2: %+v", wl)
	}
	if c := s.jira.Comments("ZOOKEEPER-3"); len(c) != 0 {
		t.Errorf("a commit on an unconfigured branch ran its command: %+v", c)
	}

	// The same commit reaches the release branch: not run again.
	s.repo.SetBranch("release", c1.SHA)
	mustOK(t, s.sync(t))
	if c := s.jira.Comments("ZOOKEEPER-2"); len(c) != 1 {
		t.Errorf("commit seen on a second branch ran again: %d comments", len(c))
	}
}

// newSmartStack is a stack whose indexer runs smart commits on master
// only, synced once (the backfill that arms them), over a history of one
// commit on master and feature/x; it returns that commit. mod, if set,
// adjusts the executor's options.
func newSmartStack(t *testing.T, mod ...func(*smartcommit.Options)) (*stack, string) {
	t.Helper()
	b := corpus.NewBuilder()
	old := b.Commit(nil, "ZOOKEEPER-1 #comment from the backfill: must never run", smartAt(0))
	b.Branch("master", old)
	b.Branch("feature/x", old)
	s := newStack(t, b.Build(), nil)
	s.repo.SetDefaultBranch("master")
	ledger := s.store.Ledger()
	opts := smartcommit.Options{Jira: s.jc, Ledger: ledger, Keys: s.m, IssueExists: s.jc.ExistingIssues}
	for _, f := range mod {
		f(&opts)
	}
	ex, err := smartcommit.NewExecutor(opts)
	if err != nil {
		t.Fatal(err)
	}
	s.ix, err = indexer.New(indexer.Options{Store: s.store, Jira: s.jc, Matcher: s.m, SmartCommits: ex})
	if err != nil {
		t.Fatal(err)
	}
	s.tgt.SmartCommits = func(branch string) bool { return branch == "master" }
	mustOK(t, s.sync(t))
	if c := s.jira.Comments("ZOOKEEPER-1"); len(c) != 0 {
		t.Fatalf("a backfilled commit ran its command: %+v", c)
	}
	return s, old
}

func smartAt(h int) time.Time { return time.Date(2024, 4, 1, h, 0, 0, 0, time.UTC) }

// pendingSmart returns the SHAs of the repo's pending smart commits.
func pendingSmart(t *testing.T, s *stack) []string {
	t.Helper()
	ps, err := s.store.SmartPendingCommits(state.RepoKey{Provider: s.provider, ID: repoID})
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, p := range ps {
		out = append(out, p.SHA)
	}
	return out
}

// onFeature pushes a commit with a smart-commit comment to feature/x (not
// a smart-commit branch) and syncs: nothing runs, the commit is pending.
func onFeature(t *testing.T, s *stack, parent string) corpus.Commit {
	t.Helper()
	c := corpus.Commit{SHA: "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1", Parents: []string{parent}, AuthorName: "Ada",
		AuthorDate: smartAt(2), CommitterDate: smartAt(2), Message: "ZOOKEEPER-5 #comment hi from the feature"}
	s.repo.AddCommit(c)
	s.repo.SetBranch("feature/x", c.SHA)
	mustOK(t, s.sync(t))
	if cs := s.jira.Comments("ZOOKEEPER-5"); len(cs) != 0 {
		t.Fatalf("a commit on feature/x ran its command: %+v", cs)
	}
	if p := pendingSmart(t, s); len(p) != 1 || p[0] != c.SHA {
		t.Fatalf("pending smart commits %v, want [%s]", p, c.SHA)
	}
	return c
}

// wantCommentOnce checks that ZOOKEEPER-5 has the feature commit's comment
// once, naming the branch it ran on, and that nothing is pending.
func wantCommentOnce(t *testing.T, s *stack, c corpus.Commit) {
	t.Helper()
	cs := s.jira.Comments("ZOOKEEPER-5")
	if len(cs) != 1 || !strings.Contains(cs[0].Body, "hi from the feature") || !strings.Contains(cs[0].Body, "Ada") ||
		!strings.Contains(cs[0].Body, c.SHA) || !strings.Contains(cs[0].Body, "apache/zookeeper/master") {
		t.Fatalf("comments on ZOOKEEPER-5: %+v", cs)
	}
	if p := pendingSmart(t, s); len(p) != 0 {
		t.Errorf("still pending after running: %v", p)
	}
}

func TestSmartCommitsRunWhenFastForwardedOntoConfiguredBranch(t *testing.T) {
	s, old := newSmartStack(t)
	c := onFeature(t, s, old)

	s.repo.SetBranch("master", c.SHA) // fast-forward: master's head is already indexed
	mustOK(t, s.sync(t))
	wantCommentOnce(t, s, c)

	mustOK(t, s.sync(t))
	wantCommentOnce(t, s, c)
}

func TestSmartCommitsRunWhenMergedIntoConfiguredBranch(t *testing.T) {
	s, old := newSmartStack(t)
	c := onFeature(t, s, old)

	m1 := corpus.Commit{SHA: "b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1b1", Parents: []string{old}, AuthorName: "Bob",
		AuthorDate: smartAt(3), CommitterDate: smartAt(3), Message: "unrelated work on master"}
	merge := corpus.Commit{SHA: "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2", Parents: []string{m1.SHA, c.SHA}, AuthorName: "Bob",
		AuthorDate: smartAt(4), CommitterDate: smartAt(4), Message: "Merge branch 'feature/x'\n\nZOOKEEPER-5 #comment from the merge: skipped"}
	s.repo.AddCommit(m1)
	s.repo.AddCommit(merge)
	s.repo.SetBranch("master", merge.SHA)
	mustOK(t, s.sync(t))
	wantCommentOnce(t, s, c)

	mustOK(t, s.sync(t))
	wantCommentOnce(t, s, c)
}

func TestSmartCommitsOnlyOnUnconfiguredBranchNeverRun(t *testing.T) {
	s, old := newSmartStack(t)
	s.tgt.PruneUnreachable = true
	c := onFeature(t, s, old)

	m1 := corpus.Commit{SHA: "c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1c1", Parents: []string{old}, AuthorName: "Bob",
		AuthorDate: smartAt(3), CommitterDate: smartAt(3), Message: "ZOOKEEPER-6 #comment on master"}
	s.repo.AddCommit(m1)
	s.repo.SetBranch("master", m1.SHA)
	mustOK(t, s.sync(t))
	if cs := s.jira.Comments("ZOOKEEPER-6"); len(cs) != 1 {
		t.Errorf("the new master commit's comment: %+v", cs)
	}
	if cs := s.jira.Comments("ZOOKEEPER-5"); len(cs) != 0 {
		t.Errorf("a commit only on feature/x ran its command: %+v", cs)
	}
	if p := pendingSmart(t, s); len(p) != 1 || p[0] != c.SHA {
		t.Errorf("pending smart commits %v, want [%s]", p, c.SHA)
	}

	// The branch goes: its commit is pruned, and no longer pending.
	s.repo.DeleteBranch("feature/x")
	mustOK(t, s.sync(t))
	if p := pendingSmart(t, s); len(p) != 0 {
		t.Errorf("a pruned commit is still pending: %v", p)
	}
	if cs := s.jira.Comments("ZOOKEEPER-5"); len(cs) != 0 {
		t.Errorf("a commit only on feature/x ran its command: %+v", cs)
	}
}

// TestSmartCommitsReachedDuringAnOutageRunOnTheNextPass: when the pending
// commands cannot be recorded (Jira cannot say whether the issue exists),
// master's cursor stays, and the next pass runs them.
func TestSmartCommitsReachedDuringAnOutageRunOnTheNextPass(t *testing.T) {
	down := false
	s, old := newSmartStack(t, func(o *smartcommit.Options) {
		exists := o.IssueExists
		o.IssueExists = func(ctx context.Context, keys []string) (map[string]bool, error) {
			if down {
				return nil, errors.New("jira is down")
			}
			return exists(ctx, keys)
		}
	})
	c := onFeature(t, s, old)

	down = true
	s.repo.SetBranch("master", c.SHA)
	if rep := s.sync(t); rep.Err == nil && (len(rep.Repos) == 0 || rep.Repos[0].Err == nil) {
		t.Fatal("the pass succeeded although the commands could not be recorded")
	}
	if cs := s.jira.Comments("ZOOKEEPER-5"); len(cs) != 0 {
		t.Fatalf("comments during the outage: %+v", cs)
	}
	down = false
	mustOK(t, s.sync(t))
	wantCommentOnce(t, s, c)
}
