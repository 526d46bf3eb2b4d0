package indexer_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
)

// deleteFailingJira fails DeleteRemoteLink while failing is set.
type deleteFailingJira struct {
	indexer.Jira
	failing atomic.Bool
}

func (f *deleteFailingJira) DeleteRemoteLink(ctx context.Context, issue, gid string) error {
	if f.failing.Load() {
		return errors.New("jira unavailable")
	}
	return f.Jira.DeleteRemoteLink(ctx, issue, gid)
}

// A prune that fails half-way (Jira refuses the deletes) must stay pending:
// the next ordinary pass, with no branch moving, finishes it instead of
// leaving the unreachable commit linked until the weekly reconcile.
func TestFailedPruneIsRetriedByTheNextPass(t *testing.T) {
	at := func(h int) time.Time { return time.Date(2024, 2, 1, h, 0, 0, 0, time.UTC) }
	b := corpus.NewBuilder()
	root := b.Commit(nil, "ZOOKEEPER-1: root", at(0))
	dropped := b.Commit([]string{root}, "ZOOKEEPER-3: will be force-pushed away", at(2))
	b.Branch("master", dropped)
	var fj *deleteFailingJira
	s := newStack(t, b.Build(), func(j indexer.Jira) indexer.Jira { fj = &deleteFailingJira{Jira: j}; return fj })
	s.tgt.PruneUnreachable = true
	s.repo.SetDefaultBranch("master")
	mustOK(t, s.sync(t))
	key := state.RepoKey{Provider: "github", ID: repoID}
	gid := indexer.GlobalID(key, indexer.KindCommit, dropped)

	rewritten := corpus.Commit{SHA: "7272727272727272727272727272727272727272", Parents: []string{root}, AuthorName: "dev",
		AuthorDate: at(5), CommitterDate: at(5), Message: "ZOOKEEPER-5: rewritten"}
	s.repo.AddCommit(rewritten)
	s.repo.SetBranch("master", rewritten.SHA)
	fj.failing.Store(true)
	if rep := s.sync(t); rep.Failed() == 0 {
		t.Fatal("the pass whose prune failed reported success")
	}
	if !jiraLinks(t, s.jira)["ZOOKEEPER-3"][gid] {
		t.Fatal("the link was deleted although Jira refused")
	}
	st, _, _ := s.store.Repo(key)
	if !st.PrunePending {
		t.Fatal("PrunePending cleared although unlinking failed")
	}

	fj.failing.Store(false)
	mustOK(t, s.sync(t))
	if jiraLinks(t, s.jira)["ZOOKEEPER-3"][gid] {
		t.Error("the next pass did not finish the prune")
	}
	if st, _, _ := s.store.Repo(key); st.PrunePending {
		t.Error("PrunePending still set after a successful prune")
	}
}
