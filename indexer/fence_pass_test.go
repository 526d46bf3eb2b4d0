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

// fenceStack is a stack (GitHub, Jira, matcher) whose state is a
// PostgreSQL database shared by the indexers of several replicas.
type fenceStack struct {
	*stack
	shas map[string]string
	pg   *pgstore.Store
	gate *gatedJira // the stale writer's Jira
}

func newFenceStack(t *testing.T) *fenceStack {
	t.Helper()
	b, shas := smallHistory(t)
	s := newStack(t, b.Build(), nil) // its GitHub, Jira and matcher; the state is PostgreSQL's
	pg, err := pgstore.Open(context.Background(), pgtest.Start(t), pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pg.Close() })
	return &fenceStack{stack: s, shas: shas, pg: pg, gate: &gatedJira{Jira: s.jc}}
}

// leader is a replica's indexer for its leader's passes, wired as serve
// wires it: the store fenced by the lease, repo locks that preempt an
// earlier leader's passes.
func (fs *fenceStack) leader(t *testing.T, f *pgstore.Fence, holder string, j indexer.Jira) *indexer.Indexer {
	t.Helper()
	return fs.indexer(t, fs.pg.WithFence(f), fs.pg.RepoLocks(holder+"/pass", time.Minute).Preempting("/pass"), j)
}

func (fs *fenceStack) indexer(t *testing.T, st indexer.Store, locks indexer.RepoLocker, j indexer.Jira) *indexer.Indexer {
	t.Helper()
	ix, err := indexer.New(indexer.Options{Store: st, Jira: j, Matcher: fs.m, RepoLocker: locks})
	if err != nil {
		t.Fatal(err)
	}
	return ix
}

const featureBranch = "feature/zookeeper-4-side"

// staleWriter plays the scenario both tests share. The state is synced.
// Then master moves and the feature branch is deleted; staleSync (the
// stale writer's sync, through fs.gate) lists the branches and is held in
// the upsert of the new commit's link. takeOver ends its right to write;
// then master moves again, the feature branch comes back, and next (the
// new writer's pass) advances master to the newest head. When the held
// upsert goes through, the stale writer goes on with its stale view:
// every state write it attempts (the link record, the cursor, the repo)
// must be refused, the deletion of the feature branch's links its stale
// branch list asks for must be refused before Jira is touched, and its
// sync must report an interruption, not a provider or Jira failure. The
// database must keep the new writer's cursors, and Jira must hold exactly
// the links of a clean run, each once.
func (fs *fenceStack) staleWriter(t *testing.T, staleSync func() indexer.RepoReport, takeOver func(), next *indexer.Indexer) {
	t.Helper()
	ctx := context.Background()
	key := state.RepoKey{Provider: "github", ID: repoID}
	featureLink := indexer.GlobalID(key, indexer.KindBranch, featureBranch)
	if !jiraLinks(t, fs.jira)["ZOOKEEPER-4"][featureLink] {
		t.Fatal("the feature branch is not linked after the first pass")
	}

	at := func(h int) time.Time { return time.Date(2024, 1, 2, h, 0, 0, 0, time.UTC) }
	c2 := fs.repo.AddCommit(corpus.Commit{Parents: []string{fs.shas["main1"]}, AuthorName: "a", AuthorDate: at(1), CommitterDate: at(1), Message: "ZOOKEEPER-8: more work"})
	fs.repo.SetBranch("master", c2)
	fs.repo.DeleteBranch(featureBranch)
	held := fs.gate.arm()
	staleRep := make(chan indexer.RepoReport, 1)
	go func() { staleRep <- staleSync() }()
	select {
	case <-held:
	case <-time.After(30 * time.Second):
		t.Fatal("the stale writer's sync never reached a Jira upsert")
	}

	takeOver()
	c3 := fs.repo.AddCommit(corpus.Commit{Parents: []string{c2}, AuthorName: "a", AuthorDate: at(2), CommitterDate: at(2), Message: "ZOOKEEPER-9: newer work"})
	fs.repo.SetBranch("master", c3)
	fs.repo.SetBranch(featureBranch, fs.shas["side1"]) // pushed again: the stale branch list lacks it
	mustOK(t, next.Sync(ctx, fs.tgt, ""))
	cursor := func() state.RepoState {
		t.Helper()
		st, ok, err := fs.pg.Repo(key)
		if err != nil || !ok {
			t.Fatalf("read the repo state: %v %v", ok, err)
		}
		return st
	}
	if got := cursor().Branches["master"]; got != c3 {
		t.Fatalf("the new writer's pass left master at %.7s, want %.7s", got, c3)
	}

	// The stale writer resumes.
	fs.jira.ResetCalls()
	fs.gate.open()
	var rr indexer.RepoReport
	select {
	case rr = <-staleRep:
	case <-time.After(30 * time.Second):
		t.Fatal("the stale sync did not end after its upsert went through")
	}
	if !errors.Is(rr.Err, state.ErrFenced) {
		t.Fatalf("the stale sync: %+v, want it refused with ErrFenced", rr)
	}
	t.Logf("the stale sync: %v", rr.Err)
	if k := indexer.Classify(rr.Err); k != indexer.FailureInterrupted {
		t.Errorf("the fenced sync classified %q, want %q", k, indexer.FailureInterrupted)
	}
	st := cursor()
	if st.Branches["master"] != c3 || st.Branches[featureBranch] != fs.shas["side1"] {
		t.Errorf("cursors after the stale sync: master %.7s, %s %.7s; want the new writer's %.7s and %.7s",
			st.Branches["master"], featureBranch, st.Branches[featureBranch], c3, fs.shas["side1"])
	}
	if st.LastError != "" {
		t.Errorf("the stale sync stored a failure: %s", st.LastError)
	}
	for _, r := range fs.jira.Requests() {
		if r.Route == jiratest.RouteRemoteLinkDelete || r.Route == jiratest.RouteRemoteLinkDelID {
			t.Errorf("the stale writer deleted a link: %s %s?%s", r.Method, r.Path, r.RawQuery)
		}
	}
	if ls, err := fs.pg.LinksOf(featureLink); err != nil || len(ls) != 1 {
		t.Errorf("recorded links of the feature branch: %v %v, want one", ls, err)
	}
	hs, err := fs.pg.Health()
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		if h.State != state.HealthOK {
			t.Errorf("health of %s after the stale sync: %s (%s), want ok", h.System, h.State, h.LastError)
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
	mustOK(t, fs.indexer(t, cleanStore, nil, cjc).Sync(ctx, fs.tgt, ""))
	want, got := jiraLinks(t, clean), jiraLinks(t, fs.jira)
	diffLinks(t, want, got)
	if !got["ZOOKEEPER-8"][indexer.GlobalID(key, indexer.KindCommit, c2)] || !got["ZOOKEEPER-9"][indexer.GlobalID(key, indexer.KindCommit, c3)] {
		t.Errorf("new commits not linked: %v", got)
	}

	// The new writer's next pass has nothing to do.
	fs.jira.ResetCalls()
	mustOK(t, next.Sync(ctx, fs.tgt, ""))
	if c := fs.jira.Calls(); c.Writes != 0 {
		t.Errorf("the next pass made %d Jira writes, want 0", c.Writes)
	}
}

// TestStaleLeaderPassIsFenced: replica A leads with epoch 1 and its pass
// is stuck in a Jira call when its lease ends and B takes over with epoch
// 2 (see staleWriter): A's pass writes nothing once it resumes.
func TestStaleLeaderPassIsFenced(t *testing.T) {
	ctx := context.Background()
	fs := newFenceStack(t)
	lease := fs.pg.Lease(pgstore.LeaderLease)
	fa, fb := pgstore.NewFence("a"), pgstore.NewFence("b")
	ixA, ixB := fs.leader(t, fa, "a", fs.gate), fs.leader(t, fb, "b", fs.jc)
	epoch, leading, err := lease.Acquire(ctx, "a", time.Minute)
	if err != nil || !leading {
		t.Fatalf("a: %v %v", leading, err)
	}
	fa.Set(epoch)
	mustOK(t, ixA.Sync(ctx, fs.tgt, ""))

	fs.staleWriter(t, func() indexer.RepoReport {
		rep := ixA.Sync(ctx, fs.tgt, "")
		if rep.Stopped() == 0 {
			t.Error("A's fenced pass is not counted as stopped")
		}
		if len(rep.Repos) != 1 {
			t.Errorf("A's pass: %+v, want one repo", rep)
			return indexer.RepoReport{Err: rep.Err}
		}
		return rep.Repos[0]
	}, func() {
		// A's lease ends (as when it expires while A is stuck); B takes over.
		if err := lease.Release(ctx, "a"); err != nil {
			t.Error(err)
		}
		epoch2, leading, err := lease.Acquire(ctx, "b", time.Minute)
		if err != nil || !leading || epoch2 != epoch+1 {
			t.Errorf("b: epoch %d leading %v %v, want epoch %d", epoch2, leading, err, epoch+1)
		}
		fb.Set(epoch2)
	}, ixB)
}

// TestStaleWebhookSyncIsFenced: a follower's webhook sync, wired as serve
// wires it (a store fenced by the sync's repo lock), is stuck in a Jira
// call while the follower is paused past the lock's expiry, and the
// leader's pass takes the repo over (see staleWriter): the webhook sync
// writes nothing once it resumes.
func TestStaleWebhookSyncIsFenced(t *testing.T) {
	ctx := context.Background()
	fs := newFenceStack(t)
	fl := pgstore.NewFence("leader")
	epoch, leading, err := fs.pg.Lease(pgstore.LeaderLease).Acquire(ctx, "leader", time.Minute)
	if err != nil || !leading {
		t.Fatalf("leader: %v %v", leading, err)
	}
	fl.Set(epoch)
	ixLeader := fs.leader(t, fl, "leader", fs.jc)
	mustOK(t, ixLeader.Sync(ctx, fs.tgt, ""))
	locks := fs.pg.RepoLocks("follower/hooks", time.Minute) // not renewed during the test
	hooks := fs.indexer(t, fs.pg.WithRepoLocks(locks), locks, fs.gate)

	fs.staleWriter(t, func() indexer.RepoReport {
		rr, err := hooks.SyncRepo(ctx, fs.tgt, repoID, indexer.Scope{Branches: true})
		if err != nil {
			t.Errorf("SyncRepo: %v", err)
		}
		return rr
	}, func() {
		// The follower's lock expires as it would during a pause longer
		// than its TTL (its renewals paused too); the leader's pass takes
		// it then.
		if _, err := fs.pg.Pool().Exec(ctx, "UPDATE repo_locks SET expires_at = now() WHERE holder = 'follower/hooks'"); err != nil {
			t.Error(err)
		}
	}, ixLeader)
}
