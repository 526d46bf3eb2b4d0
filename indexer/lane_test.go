package indexer_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// heldJira holds the link writes whose globalId contains hold until
// release is closed, telling started once one is held.
type heldJira struct {
	indexer.Jira
	hold    string
	release chan struct{}
	started chan struct{}
	once    sync.Once
}

func (g *heldJira) UpsertRemoteLink(ctx context.Context, issue string, l jiraclient.RemoteLink) (int64, error) {
	if strings.Contains(l.GlobalID, g.hold) {
		g.once.Do(func() { close(g.started) })
		select {
		case <-g.release:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return g.Jira.UpsertRemoteLink(ctx, issue, l)
}

// TestBackfillLaneKeepsFreshWorkFirst: with a backfill lane, a pass syncs
// the indexed repositories and leaves the new ones to Backfill, which
// takes them most recently pushed first; while a backfill is stuck (its
// Jira writes held), a push to an indexed repository is linked by the next
// pass and a webhook for a repository being backfilled does not wait.
func TestBackfillLaneKeepsFreshWorkFirst(t *testing.T) {
	b := corpus.NewBuilder()
	prev := []string(nil)
	for i := range 300 {
		sha := b.Commit(prev, fmt.Sprintf("ZOOKEEPER-%d: change %d", 100+i, i), time.Date(2025, 1, 1, 0, i, 0, 0, time.UTC))
		prev = []string{sha}
	}
	b.Branch("master", prev[0])
	hist := b.Build()
	var clockMu sync.Mutex
	clock := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	now := func() time.Time { clockMu.Lock(); defer clockMu.Unlock(); return clock }
	tick := func() { clockMu.Lock(); clock = clock.Add(time.Hour); clockMu.Unlock() }

	s := newStack(t, hist, nil)
	s.gh = githubtest.Start(t, githubtest.Options{Token: ghToken, Now: now})
	s.gh.AddOrg("acme")
	small, smallSHAs := smallRepo(s.gh, 11, "indexed")
	gc, err := github.New(github.Options{Name: "github", BaseURL: s.gh.URL(), Token: ghToken, Retry: httpx.RetryOptions{Sleep: noSleep}})
	if err != nil {
		t.Fatal(err)
	}
	s.tgt.Source = gc
	s.tgt.Repos, s.tgt.Owners = nil, []string{"acme"}
	mustOK(t, s.sync(t)) // acme/indexed is indexed

	// Three new repositories, pushed at different times: the big one in
	// the middle.
	tick()
	_, _ = smallRepo(s.gh, 21, "older")
	tick()
	s.gh.AddCorpusRepo("acme", "big", 22, hist)
	tick()
	_, _ = smallRepo(s.gh, 23, "newest")

	gate := &heldJira{hold: "/22/", release: make(chan struct{}), started: make(chan struct{})}
	var startedMu sync.Mutex
	var started []int64
	ix, err := indexer.New(indexer.Options{Store: s.store, Jira: gate, Matcher: s.m, BackfillLane: true,
		OnRepoStart: func(k state.RepoKey) { startedMu.Lock(); started = append(started, k.ID); startedMu.Unlock() }})
	if err != nil {
		t.Fatal(err)
	}
	gate.Jira = s.jc
	rep := ix.Sync(context.Background(), s.tgt, "")
	mustOK(t, rep)
	var order []string
	for _, r := range rep.Backfilling {
		order = append(order, r.FullName)
	}
	if got, want := strings.Join(order, " "), "acme/newest acme/big acme/older"; got != want {
		t.Fatalf("backfills %q, want most recently pushed first %q", got, want)
	}
	if len(rep.Repos) != 1 || rep.Repos[0].Repo != "acme/indexed" {
		t.Fatalf("the pass synced %+v, want only the indexed repository", rep.Repos)
	}

	done := make(chan []indexer.RepoReport)
	go func() { done <- ix.Backfill(context.Background(), s.tgt) }()
	select {
	case <-gate.started:
	case <-time.After(30 * time.Second):
		t.Fatal("the backfill of acme/big never wrote a link")
	}

	// Fresh work while the backfill is stuck: a push to the indexed repo.
	sha := small.AddCommit(corpus.Commit{Parents: []string{smallSHAs["main"]}, Message: "ZOOKEEPER-42: fresh fix", AuthorName: "Dev", AuthorDate: now()})
	small.SetBranch("main", sha)
	rep = ix.Sync(context.Background(), s.tgt, "")
	mustOK(t, rep)
	// (acme/newest, backfilled before acme/big, is indexed by now too.)
	if len(rep.Repos) == 0 || rep.Repos[0].Repo != "acme/indexed" || rep.Repos[0].Commits != 1 || rep.Repos[0].LinksWritten == 0 {
		t.Fatalf("pass during the backfill: %+v, want the fresh commit linked", rep.Repos)
	}
	for _, r := range rep.Backfilling {
		if r.FullName == "acme/newest" {
			t.Error("acme/newest is still a backfill after the lane synced it")
		}
	}
	if !jiraLinks(t, s.jira)["ZOOKEEPER-42"][indexer.GlobalID(state.RepoKey{Provider: "github", ID: 11}, indexer.KindCommit, sha)] {
		t.Error("the fresh commit is not linked while the backfill runs")
	}
	// A webhook for the repository being backfilled returns at once.
	whDone := make(chan error, 1)
	go func() {
		_, err := ix.SyncRepo(context.Background(), s.tgt, 22, indexer.FullScope)
		if err == nil { // the fallback of a webhook for a repo not indexed yet
			err = ix.Sync(context.Background(), s.tgt, "acme/big").Err
		}
		whDone <- err
	}()
	select {
	case err := <-whDone:
		if err != nil {
			t.Errorf("webhook sync of a backfilling repo: %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Error("a webhook sync waited for the backfill")
	}
	select {
	case <-done:
		t.Fatal("the backfill finished while its writes were held")
	default:
	}

	close(gate.release)
	var reps []indexer.RepoReport
	select {
	case reps = <-done:
	case <-time.After(2 * time.Minute):
		t.Fatal("the backfill did not finish")
	}
	for _, r := range reps {
		if r.Err != nil {
			t.Errorf("backfill %s: %v", r.Repo, r.Err)
		}
	}
	startedMu.Lock()
	var lane []int64
	seen := map[int64]bool{11: true}
	for _, id := range started {
		if !seen[id] { // (later starts are passes)
			seen[id] = true
			lane = append(lane, id)
		}
	}
	startedMu.Unlock()
	if len(lane) != 3 || lane[0] != 23 || lane[1] != 22 || lane[2] != 21 {
		t.Errorf("backfill order by id %v, want [23 22 21]", lane)
	}
	// All indexed now: the next pass leaves nothing to the lane.
	if rep := ix.Sync(context.Background(), s.tgt, ""); len(rep.Backfilling) != 0 || rep.Failed() != 0 {
		t.Errorf("after the backfill: %d backfills left, %d failed", len(rep.Backfilling), rep.Failed())
	}
	if reps := ix.Backfill(context.Background(), s.tgt); len(reps) != 0 {
		t.Errorf("a second Backfill synced %d repos", len(reps))
	}

	// A one-repo pass (a webhook for a repo not indexed yet) leaves its
	// backfill to the lane too.
	_, _ = smallRepo(s.gh, 24, "brand-new")
	rep = ix.Sync(context.Background(), s.tgt, "acme/brand-new")
	if len(rep.Repos) != 0 || len(rep.Backfilling) != 1 || rep.Backfilling[0].FullName != "acme/brand-new" {
		t.Errorf("one-repo pass of a new repo: synced %+v, left to the lane %+v", rep.Repos, rep.Backfilling)
	}
	if reps := ix.Backfill(context.Background(), s.tgt); len(reps) != 1 || reps[0].Err != nil {
		t.Errorf("the lane after it: %+v", reps)
	}
}

// smallRepo adds acme/name with two commits on main naming ZOOKEEPER-1.
func smallRepo(gh *githubtest.Server, id int64, name string) (*githubtest.RepoHandle, map[string]string) {
	h := gh.AddRepo(githubtest.Repo{ID: id, Owner: "acme", Name: name, OwnerIsOrg: true})
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	root := h.AddCommit(corpus.Commit{Message: "ZOOKEEPER-1: import " + name, AuthorName: "Dev", AuthorDate: at})
	main := h.AddCommit(corpus.Commit{Parents: []string{root}, Message: "ZOOKEEPER-2: work on " + name, AuthorName: "Dev", AuthorDate: at.Add(time.Hour)})
	h.SetBranch("main", main)
	return h, map[string]string{"root": root, "main": main}
}
