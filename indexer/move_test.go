package indexer_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
)

// A renamed repository's links move in place from jiralinkd's own records:
// no history is listed again, Jira gets exactly one write per link, and
// every link moves — a commit that only an unkeyed tag still reaches
// included.
func TestRenameMovesEveryLinkWithoutReadingHistory(t *testing.T) {
	for _, via := range []string{"pass", "webhook"} {
		t.Run(via, func(t *testing.T) {
			b, shas := smallHistory(t)
			at := time.Date(2024, 1, 1, 7, 0, 0, 0, time.UTC)
			tagOnly := b.Commit([]string{shas["main1"]}, "ZOOKEEPER-8: kept only by a release tag", at)
			b.Branch("release-prep", tagOnly)
			s := newStack(t, b.Build(), nil)
			mustOK(t, s.sync(t))
			// The branch goes; an unkeyed tag keeps its commit reachable.
			s.repo.SetTag("v3.9.0", tagOnly)
			s.repo.DeleteBranch("release-prep")
			mustOK(t, s.sync(t))
			before := jiraLinks(t, s.jira)
			n := countLinks(before)
			if !before["ZOOKEEPER-8"][indexer.GlobalID(keyOf(), indexer.KindCommit, tagOnly)] {
				t.Fatalf("the tag-only commit is not linked before the rename: %v", before)
			}

			s.repo.Rename("apache", "zk")
			s.jira.ResetCalls()
			ghBefore := len(s.gh.Requests())
			switch via {
			case "pass":
				mustOK(t, s.sync(t))
			case "webhook":
				st, _, _ := s.store.Repo(keyOf())
				renamed := st.Repo
				renamed.FullName = "apache/zk"
				renamed.HTMLURL = strings.Replace(renamed.HTMLURL, "/apache/zookeeper", "/apache/zk", 1)
				if _, err := s.ix.RelinkRepo(context.Background(), s.tgt, repoID, renamed); err != nil {
					t.Fatal(err)
				}
			}
			diffLinks(t, before, jiraLinks(t, s.jira)) // same issues, same globalIds
			if c := s.jira.Calls(); c.Writes != n {
				t.Errorf("rename made %d Jira writes, want one per link (%d)", c.Writes, n)
			}
			var history, calls int
			for _, r := range s.gh.Requests()[ghBefore:] {
				calls++
				if strings.HasSuffix(r.Route, "/commits") {
					history++
				}
			}
			if history != 0 {
				t.Errorf("the rename listed history again (%d commit pages)", history)
			}
			if via == "webhook" && calls != 0 {
				t.Errorf("the rename delivery made %d provider calls, want 0", calls)
			}
			for issue := range before {
				for _, l := range s.jira.Links(issue) {
					if !strings.Contains(l.Object.URL, "/apache/zk/") || strings.Contains(l.Object.Summary, "apache/zookeeper") {
						t.Errorf("%s: link %s not moved: %s · %s", issue, l.GlobalID, l.Object.URL, l.Object.Summary)
					}
				}
			}
			// Moved links are what a fresh pass computes: nothing is
			// rewritten afterwards, and the state follows the new name.
			s.jira.ResetCalls()
			mustOK(t, s.sync(t))
			if c := s.jira.Calls(); c.Writes != 0 {
				t.Errorf("the pass after the move rewrote %d links", c.Writes)
			}
			if st, _, _ := s.store.Repo(keyOf()); st.Repo.FullName != "apache/zk" || len(st.Branches) == 0 {
				t.Errorf("state after the move: %s, %d branch cursors", st.Repo.FullName, len(st.Branches))
			}
		})
	}
}

// A move interrupted by Jira failing half-way is finished by the next
// pass, each link written once more at most.
func TestInterruptedMoveIsFinishedByTheNextPass(t *testing.T) {
	hist, err := corpus.ZooKeeper()
	if err != nil {
		t.Fatal(err)
	}
	fj := &failingJira{n: 1 << 30}
	s := newStack(t, hist, func(j indexer.Jira) indexer.Jira { fj.Jira = j; return fj })
	mustOK(t, s.sync(t))
	n := countLinks(jiraLinks(t, s.jira))
	s.repo.Rename("apache", "zk")
	fj.mu.Lock()
	fj.n = n / 2 // Jira goes down half-way through the move
	fj.mu.Unlock()
	if rep := s.sync(t); rep.Failed() == 0 {
		t.Fatal("a move that failed half-way reported success")
	}
	fj.mu.Lock()
	fj.n = 1 << 30
	fj.mu.Unlock()
	s.jira.ResetCalls()
	mustOK(t, s.sync(t))
	if w := s.jira.Calls().Writes; w != n-n/2 {
		t.Errorf("finishing the move wrote %d links; %d were left", w, n-n/2)
	}
	for issue := range jiraLinks(t, s.jira) {
		for _, l := range s.jira.Links(issue) {
			if !strings.Contains(l.Object.URL, "/apache/zk/") {
				t.Errorf("%s: %s not moved", issue, l.Object.URL)
			}
		}
	}
}

func keyOf() state.RepoKey { return state.RepoKey{Provider: "github", ID: repoID} }
