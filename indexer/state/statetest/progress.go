package statetest

import (
	"reflect"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

// testBackfillProgressRoundTrip: a repo's backfill progress is stored with
// its state by PutRepo, CheckpointWalk and AdvanceBranch, survives a
// reopen, and is listed by Repos.
func testBackfillProgressRoundTrip(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
	at := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	k := state.RepoKey{Provider: "gh", ID: 77}
	want := state.BackfillProgress{Started: at, Listed: 2300, Walked: 2100, Estimate: 5000, EstimateSource: state.EstimateAPI,
		SizedHead: "0123456789abcdef0123456789abcdef01234567", Pages: 21, Links: 40, Calls: 25, Busy: 90 * time.Second}
	bp := want
	st := state.RepoState{Key: k, Repo: providers.Repo{ID: 77, FullName: "acme/big"}, Status: state.RepoPending, Backfill: &bp,
		Walks: map[string]state.WalkCheckpoint{"main": {Head: want.SizedHead, NextPage: 22, Frontier: []string{"aa"}, Walked: 2100}}}
	if err := s.CheckpointWalk(st, "main", []state.Commit{state.NewCommit("89abcdef0123456789abcdef0123456789abcdef", nil)}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s = open(t)
	got, ok, err := s.Repo(k)
	if err != nil || !ok || got.Backfill == nil {
		t.Fatalf("after reopen: ok %v err %v backfill %v", ok, err, got.Backfill)
	}
	if !reflect.DeepEqual(*got.Backfill, want) || !got.Backfill.Backfilling() {
		t.Errorf("backfill = %+v, want %+v", *got.Backfill, want)
	}

	// Done: AdvanceBranch stores the finished record; PutRepo of another
	// repo without one keeps nil.
	got.Backfill.Done, got.Backfill.Listed = at.Add(time.Hour), 5003
	delete(got.Walks, "main")
	if err := s.AdvanceBranch(got, "main", nil); err != nil {
		t.Fatal(err)
	}
	other := state.RepoState{Key: state.RepoKey{Provider: "gh", ID: 78}, Repo: providers.Repo{ID: 78, FullName: "acme/old"}, Status: state.RepoOK}
	if err := s.PutRepo(other); err != nil {
		t.Fatal(err)
	}
	all, err := s.Repos()
	if err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, r := range all {
		switch r.Key {
		case k:
			found++
			if r.Backfill == nil || r.Backfill.Backfilling() || !r.Backfill.Done.Equal(at.Add(time.Hour)) || r.Backfill.Listed != 5003 {
				t.Errorf("finished backfill = %+v", r.Backfill)
			}
		case other.Key:
			found++
			if r.Backfill != nil {
				t.Errorf("a repo without a backfill record got %+v", r.Backfill)
			}
		}
	}
	if found != 2 {
		t.Errorf("Repos listed %d of the 2 repos", found)
	}
}
