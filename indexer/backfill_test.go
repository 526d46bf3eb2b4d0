package indexer_test

import (
	"net/url"
	"strings"
	"testing"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

// TestBackfillProgressRecorded: a backfill records, with the repo's state,
// the commits it listed, the history size the provider gave (one request,
// the commit list's last page), the pages, the links written and every
// provider request of the repo's sync; it is done after the first complete
// sync, and later syncs leave the record alone.
func TestBackfillProgressRecorded(t *testing.T) {
	hist, err := corpus.ZooKeeper()
	if err != nil {
		t.Fatal(err)
	}
	s := newStack(t, hist, nil)
	if q := s.ix.BackfillQueued(); q["github"] != 0 {
		t.Fatalf("queued before any pass: %v", q)
	}
	rep := s.sync(t)
	if rep.Failed() > 0 {
		t.Fatalf("sync: %+v", rep)
	}
	st, ok, err := s.store.Repo(state.RepoKey{Provider: "github", ID: repoID})
	if err != nil || !ok || st.Backfill == nil {
		t.Fatalf("no backfill record: ok %v err %v", ok, err)
	}
	p := *st.Backfill
	master, _ := hist.Branch("master")
	size := len(hist.Log(master.SHA))
	if p.EstimateSource != state.EstimateAPI || p.Estimate != size || p.SizedHead != master.SHA {
		t.Errorf("estimate %d (%s, head %s), want %d from the API", p.Estimate, p.EstimateSource, p.SizedHead, size)
	}
	if p.Walked != size || p.Listed < size {
		t.Errorf("walked %d, listed %d; the default branch has %d commits", p.Walked, p.Listed, size)
	}
	if want := (size + 99) / 100; p.Pages < want {
		t.Errorf("pages %d, want at least %d", p.Pages, want)
	}
	var calls int
	for _, r := range s.gh.Requests() {
		if r.Path != "/repos/apache/zookeeper" { // discovery: the pass's, not the repo sync's
			calls++
		}
	}
	if p.Calls != calls {
		t.Errorf("calls %d, the repo's sync sent %d", p.Calls, calls)
	}
	if p.Links != rep.Repos[0].LinksWritten || p.Links == 0 {
		t.Errorf("links %d, the sync wrote %d", p.Links, rep.Repos[0].LinksWritten)
	}
	if p.Backfilling() || p.Done.IsZero() || p.Started.IsZero() || p.Busy <= 0 || p.Remaining(100) != 0 {
		t.Errorf("not done after a complete sync: %+v", p)
	}
	if q := s.ix.BackfillQueued(); q["github"] != 0 {
		t.Errorf("still queued after the pass: %v", q)
	}

	s.sync(t)
	st, _, _ = s.store.Repo(state.RepoKey{Provider: "github", ID: repoID})
	if st.Backfill == nil || *st.Backfill != p {
		t.Errorf("a later sync changed the finished record: %+v, was %+v", st.Backfill, p)
	}
}

// TestBackfillProgressSurvivesAFailedSync: a backfill that fails deep into
// the default branch keeps its record, backfilling; the next sync resumes
// and finishes it. The default branch's walk counts every commit once
// (from the checkpoint when resumed); pages and calls count all the work
// of both syncs.
func TestBackfillProgressSurvivesAFailedSync(t *testing.T) {
	hist, err := corpus.ZooKeeper()
	if err != nil {
		t.Fatal(err)
	}
	// master: 2,718 commits on 28 pages, a checkpoint at page 21; Jira
	// fails after 2,000 commit link writes, on page ~24.
	s := newStack(t, hist, func(j indexer.Jira) indexer.Jira { return &failingJira{Jira: j, n: 2000, only: "/commit/"} })
	s.repo.SetDefaultBranch("master")
	if rep := s.sync(t); rep.Failed() == 0 {
		t.Fatal("first pass should fail with Jira down")
	}
	key := state.RepoKey{Provider: "github", ID: repoID}
	st, _, _ := s.store.Repo(key)
	p := st.Backfill
	master, _ := hist.Branch("master")
	size := len(hist.Log(master.SHA))
	if !p.Backfilling() || p.Walked < 2000 || p.Walked >= size || p.Estimate != size || p.Calls == 0 {
		t.Fatalf("after the failed sync: %+v", p)
	}
	pages, calls := 0, 0
	count := func(reqs []githubtest.Request) {
		for _, r := range reqs {
			if r.Path == "/repos/apache/zookeeper" {
				continue // discovery: the pass's, not the repo sync's
			}
			calls++
			if q, _ := url.ParseQuery(r.RawQuery); strings.HasSuffix(r.Path, "/commits") && q.Get("per_page") == "100" {
				pages++
			}
		}
	}
	count(s.gh.Requests())
	s.ix = s.newIndexer(t, nil)
	s.gh.ResetRequests()
	mustOK(t, s.sync(t))
	count(s.gh.Requests())
	st, _, _ = s.store.Repo(key)
	p = st.Backfill
	if p.Backfilling() || p.Walked != size || p.Pages != pages || p.Calls != calls || p.Listed <= size {
		t.Errorf("after the resumed sync: walked %d of %d, pages %d (%d read), calls %d (%d sent): %+v", p.Walked, size, p.Pages, pages, p.Calls, calls, p)
	}
}
