package indexer_test

import (
	"context"
	"errors"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore"
	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore/pgtest"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
)

// gatedJira holds every link upsert, once armed, until released: a
// replica whose pass is stuck in a Jira call (a slow Jira, a GC pause, a
// SIGSTOP) while another replica takes the lease over.
type gatedJira struct {
	indexer.Jira
	mu      sync.Mutex
	armed   bool
	held    chan struct{} // closed when the first upsert is held
	release chan struct{} // closed by open
}

func (g *gatedJira) arm() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed, g.held, g.release = true, make(chan struct{}), make(chan struct{})
	return g.held
}

// open lets the held upserts (and every later one) through.
func (g *gatedJira) open() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.armed = false
	close(g.release)
}

func (g *gatedJira) UpsertRemoteLink(ctx context.Context, key string, l jiraclient.RemoteLink) (int64, error) {
	g.mu.Lock()
	armed, held, release := g.armed, g.held, g.release
	if armed {
		select {
		case <-held:
		default:
			close(held)
		}
	}
	g.mu.Unlock()
	if armed {
		select {
		case <-release:
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	}
	return g.Jira.UpsertRemoteLink(ctx, key, l)
}

// TestStaleLeaderPassIsFenced runs the real indexer for two replicas of a
// PostgreSQL state, wired as serve wires its leader's passes (a store
// fenced by the epoch, repo locks that preempt an earlier leader's). A
// leads with epoch 1; its pass lists the branches (master moved, a
// feature branch deleted) and is then held in a Jira upsert. Its lease
// ends; B takes over with epoch 2 while master moves again and the feature
// branch comes back, and B's pass advances master to the newest head.
// When A's upsert goes through, A's pass goes on with its stale view:
// every state write it attempts (recording the link, the cursor, the
// repo) is refused, the deletion of the feature branch's links that its
// stale branch list asks for is refused before Jira is touched, and the
// pass reports an interruption, not a provider or Jira failure. The
// database keeps B's cursors, and Jira holds exactly the links of a clean
// run, each once.
func TestStaleLeaderPassIsFenced(t *testing.T) {
	ctx := context.Background()
	b, shas := smallHistory(t)
	s := newStack(t, b.Build(), nil) // its GitHub, Jira and matcher; the state is PostgreSQL's
	pg, err := pgstore.Open(ctx, pgtest.Start(t), pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	lease := pg.Lease(pgstore.LeaderLease)
	fa, fb := pgstore.NewFence("a"), pgstore.NewFence("b")
	gate := &gatedJira{Jira: s.jc}
	replica := func(f *pgstore.Fence, holder string, j indexer.Jira) *indexer.Indexer {
		ix, err := indexer.New(indexer.Options{Store: pg.WithFence(f), Jira: j, Matcher: s.m,
			RepoLocker: pg.RepoLocks(holder+"/pass", time.Minute).Preempting("/pass")})
		if err != nil {
			t.Fatal(err)
		}
		return ix
	}
	ixA, ixB := replica(fa, "a", gate), replica(fb, "b", s.jc)
	key := state.RepoKey{Provider: "github", ID: repoID}
	const feature = "feature/zookeeper-4-side"
	featureLink := indexer.GlobalID(key, indexer.KindBranch, feature)

	epoch, leading, err := lease.Acquire(ctx, "a", time.Minute)
	if err != nil || !leading {
		t.Fatalf("a: %v %v", leading, err)
	}
	fa.Set(epoch)
	mustOK(t, ixA.Sync(ctx, s.tgt, ""))
	if !jiraLinks(t, s.jira)["ZOOKEEPER-4"][featureLink] {
		t.Fatal("the feature branch is not linked after the first pass")
	}

	// A's pass sees master moved and the feature branch gone, and is held
	// in the upsert of the new commit's link.
	at := func(h int) time.Time { return time.Date(2024, 1, 2, h, 0, 0, 0, time.UTC) }
	c2 := s.repo.AddCommit(corpus.Commit{Parents: []string{shas["main1"]}, AuthorName: "a", AuthorDate: at(1), CommitterDate: at(1), Message: "ZOOKEEPER-8: more work"})
	s.repo.SetBranch("master", c2)
	s.repo.DeleteBranch(feature)
	held := gate.arm()
	reportA := make(chan indexer.Report, 1)
	go func() { reportA <- ixA.Sync(ctx, s.tgt, "") }()
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("A's pass never reached a Jira upsert")
	}

	// A's lease ends (as when it expires while A is stuck); B takes over.
	if err := lease.Release(ctx, "a"); err != nil {
		t.Fatal(err)
	}
	epoch2, leading, err := lease.Acquire(ctx, "b", time.Minute)
	if err != nil || !leading || epoch2 != epoch+1 {
		t.Fatalf("b: epoch %d leading %v %v, want epoch %d", epoch2, leading, err, epoch+1)
	}
	fb.Set(epoch2)
	c3 := s.repo.AddCommit(corpus.Commit{Parents: []string{c2}, AuthorName: "a", AuthorDate: at(2), CommitterDate: at(2), Message: "ZOOKEEPER-9: newer work"})
	s.repo.SetBranch("master", c3)
	s.repo.SetBranch(feature, shas["side1"]) // pushed again: A's branch list is stale
	mustOK(t, ixB.Sync(ctx, s.tgt, ""))
	cursor := func() state.RepoState {
		t.Helper()
		st, ok, err := pg.Repo(key)
		if err != nil || !ok {
			t.Fatalf("read the repo state: %v %v", ok, err)
		}
		return st
	}
	if got := cursor().Branches["master"]; got != c3 {
		t.Fatalf("B's pass left master at %.7s, want %.7s", got, c3)
	}

	// A resumes with its stale view.
	s.jira.ResetCalls()
	gate.open()
	var rep indexer.Report
	select {
	case rep = <-reportA:
	case <-time.After(30 * time.Second):
		t.Fatal("A's pass did not end after its upsert went through")
	}
	if len(rep.Repos) != 1 || !errors.Is(rep.Repos[0].Err, state.ErrFenced) {
		t.Fatalf("A's pass: %+v, want its repo refused with ErrFenced", rep.Repos)
	}
	t.Logf("A's repo sync: %v", rep.Repos[0].Err)
	if k := indexer.Classify(rep.Repos[0].Err); k != indexer.FailureInterrupted {
		t.Errorf("A's fenced repo sync classified %q, want %q", k, indexer.FailureInterrupted)
	}
	if rep.Stopped() == 0 {
		t.Error("A's fenced pass is not counted as stopped")
	}
	st := cursor()
	if st.Branches["master"] != c3 || st.Branches[feature] != shas["side1"] {
		t.Errorf("cursors after A's pass: master %.7s, %s %.7s; want B's %.7s and %.7s",
			st.Branches["master"], feature, st.Branches[feature], c3, shas["side1"])
	}
	if st.LastError != "" {
		t.Errorf("A's pass stored a failure: %s", st.LastError)
	}
	for _, r := range s.jira.Requests() {
		if r.Route == jiratest.RouteRemoteLinkDelete || r.Route == jiratest.RouteRemoteLinkDelID {
			t.Errorf("A deleted a link after losing the lease: %s %s?%s", r.Method, r.Path, r.RawQuery)
		}
	}
	if ls, err := pg.LinksOf(featureLink); err != nil || len(ls) != 1 {
		t.Errorf("recorded links of the feature branch: %v %v, want one", ls, err)
	}
	hs, err := pg.Health()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if h.State != state.HealthOK {
			t.Errorf("health of %s after A's pass: %s (%s), want B's ok", h.System, h.State, h.LastError)
		}
	}

	// Jira: exactly a clean run's links over the final history, each once.
	clean := jiratest.Start(t, jiratest.Options{Token: jiraToken, IssueExists: jiratest.DemoIssues})
	cleanStore, err := boltstore.Open(filepath.Join(t.TempDir(), "clean.db"), time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cleanStore.Close() })
	cjc, err := jiraclient.New(jiraclient.Options{BaseURL: clean.URL(), Auth: jiraclient.Auth{Token: jiraToken}})
	if err != nil {
		t.Fatal(err)
	}
	cix, err := indexer.New(indexer.Options{Store: cleanStore, Jira: cjc, Matcher: s.m})
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, cix.Sync(ctx, s.tgt, ""))
	want, got := jiraLinks(t, clean), jiraLinks(t, s.jira)
	diffLinks(t, want, got)
	if !got["ZOOKEEPER-8"][indexer.GlobalID(key, indexer.KindCommit, c2)] || !got["ZOOKEEPER-9"][indexer.GlobalID(key, indexer.KindCommit, c3)] {
		t.Errorf("new commits not linked: %v", got)
	}

	// B, the leader, goes on: its next pass has nothing to do.
	s.jira.ResetCalls()
	mustOK(t, ixB.Sync(ctx, s.tgt, ""))
	if c := s.jira.Calls(); c.Writes != 0 {
		t.Errorf("B's next pass made %d Jira writes, want 0", c.Writes)
	}
}
