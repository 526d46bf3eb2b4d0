package indexer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
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
	ledger, err := smartcommit.NewBoltLedger(s.store.DB())
	if err != nil {
		t.Fatal(err)
	}
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
