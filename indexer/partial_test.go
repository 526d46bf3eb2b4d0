package indexer_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

var errListingDown = errors.New("listing down")

// flakySource fails the commit walk of one head, or the tag list.
type flakySource struct {
	indexer.Source
	failHead string
	failTags bool
}

func (f *flakySource) Commits(ctx context.Context, repo providers.Repo, head string, startPage int, fn func(providers.Commit, int) (bool, error)) error {
	if head == f.failHead {
		return errListingDown
	}
	return f.Source.Commits(ctx, repo, head, startPage, fn)
}

func (f *flakySource) Tags(ctx context.Context, repo providers.Repo, ls providers.ListState) (providers.Listed[providers.Tag], error) {
	if f.failTags {
		return providers.Listed[providers.Tag]{}, errListingDown
	}
	return f.Source.Tags(ctx, repo, ls)
}

// TestFailedBranchDoesNotStopTheRest: when one branch's walk fails, the
// other branches, the tags and the pull requests still advance; the failed
// branch keeps its cursor, unreachable commits are not pruned on that
// partial view, and the next pass finishes the job. Likewise a failed tag
// list does not stop the branches or the pull requests, and postpones
// pruning.
func TestFailedBranchDoesNotStopTheRest(t *testing.T) {
	for _, failing := range []string{"branch", "tags"} {
		t.Run(failing, func(t *testing.T) {
			at := func(h int) time.Time { return time.Date(2024, 3, 1, h, 0, 0, 0, time.UTC) }
			b := corpus.NewBuilder()
			root := b.Commit(nil, "ZOOKEEPER-1: root", at(0))
			gone := b.Commit([]string{root}, "ZOOKEEPER-2: only on a branch that will be deleted", at(1))
			topic1 := b.Commit([]string{root}, "ZOOKEEPER-3: topic work", at(2))
			b.Branch("master", root)
			b.Branch("gone", gone)
			b.Branch("topic", topic1)
			s := newStack(t, b.Build(), nil)
			s.repo.SetDefaultBranch("master")
			s.tgt.PruneUnreachable = true
			mustOK(t, s.sync(t))
			key := state.RepoKey{Provider: "github", ID: repoID}
			gid := func(k indexer.EntityKind, id string) string { return indexer.GlobalID(key, k, id) }
			if !jiraLinks(t, s.jira)["ZOOKEEPER-2"][gid(indexer.KindCommit, gone)] {
				t.Fatal("premise: the doomed commit is not linked")
			}

			// New work everywhere; a branch goes, which makes pruning due.
			master2 := corpus.Commit{SHA: "a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1a1", Parents: []string{root}, AuthorName: "dev",
				AuthorDate: at(5), CommitterDate: at(5), Message: "ZOOKEEPER-4: master work"}
			topic2 := corpus.Commit{SHA: "b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2b2", Parents: []string{topic1}, AuthorName: "dev",
				AuthorDate: at(6), CommitterDate: at(6), Message: "ZOOKEEPER-5: more topic work"}
			s.repo.AddCommit(master2)
			s.repo.AddCommit(topic2)
			s.repo.SetBranch("master", master2.SHA)
			s.repo.SetBranch("topic", topic2.SHA)
			s.repo.DeleteBranch("gone")
			s.repo.SetTag("zookeeper-6-rc1", root)
			s.repo.UpsertPull(githubtest.PullRequest{Number: 7, Title: "ZOOKEEPER-8: a pull request", User: "dev",
				HeadRef: "topic", HeadSHA: topic2.SHA, State: githubtest.PullOpen})

			healthy := s.tgt.Source
			flaky := &flakySource{Source: healthy}
			if failing == "branch" {
				flaky.failHead = topic2.SHA
			} else {
				flaky.failTags = true
			}
			s.tgt.Source = flaky
			rep := s.sync(t)
			if rep.Failed() != 1 || !errors.Is(rep.Repos[0].Err, errListingDown) {
				t.Fatalf("want the repo failed with the listing error, got %+v", rep)
			}
			if want := map[string]string{"branch": "branch topic", "tags": "tags"}[failing]; !strings.Contains(rep.Repos[0].Err.Error(), want) {
				t.Errorf("error %q does not name %q", rep.Repos[0].Err, want)
			}
			got := jiraLinks(t, s.jira)
			if !got["ZOOKEEPER-4"][gid(indexer.KindCommit, master2.SHA)] {
				t.Error("the healthy branch was not walked")
			}
			if !got["ZOOKEEPER-8"][gid(indexer.KindPull, "7")] {
				t.Errorf("pull requests were not synced: %v", got)
			}
			if tagLinked := got["ZOOKEEPER-6"][gid(indexer.KindTag, "zookeeper-6-rc1")]; tagLinked != (failing == "branch") {
				t.Errorf("tag linked = %v with the %s step failing", tagLinked, failing)
			}
			if !got["ZOOKEEPER-2"][gid(indexer.KindCommit, gone)] {
				t.Error("pruned on a partial view")
			}
			st, _, err := s.store.Repo(key)
			if err != nil {
				t.Fatal(err)
			}
			if st.Status != state.RepoFailed || !st.PrunePending {
				t.Errorf("state after the partial pass: status %s, prune pending %v", st.Status, st.PrunePending)
			}
			if st.Branches["master"] != master2.SHA {
				t.Errorf("master's cursor = %s, want %s", st.Branches["master"], master2.SHA)
			}
			wantTopic := topic2.SHA
			if failing == "branch" {
				wantTopic = topic1
				if got["ZOOKEEPER-5"][gid(indexer.KindCommit, topic2.SHA)] {
					t.Error("the failed branch's commit is linked")
				}
			}
			if st.Branches["topic"] != wantTopic {
				t.Errorf("topic's cursor = %s, want %s", st.Branches["topic"], wantTopic)
			}

			// Healthy again: the next pass completes the job and prunes.
			s.tgt.Source = healthy
			mustOK(t, s.sync(t))
			got = jiraLinks(t, s.jira)
			if !got["ZOOKEEPER-5"][gid(indexer.KindCommit, topic2.SHA)] || !got["ZOOKEEPER-6"][gid(indexer.KindTag, "zookeeper-6-rc1")] {
				t.Errorf("the next pass did not complete the job: %v", got)
			}
			if got["ZOOKEEPER-2"][gid(indexer.KindCommit, gone)] {
				t.Error("the unreachable commit was not pruned once the view was complete")
			}
			if st, _, _ := s.store.Repo(key); st.PrunePending || st.Branches["topic"] != topic2.SHA {
				t.Errorf("after recovery: prune pending %v, topic at %s", st.PrunePending, st.Branches["topic"])
			}
		})
	}
}
