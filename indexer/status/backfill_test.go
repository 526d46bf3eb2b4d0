package status

import (
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

func repoWith(provider string, id int64, name string, p *state.BackfillProgress) state.RepoState {
	return state.RepoState{Key: state.RepoKey{Provider: provider, ID: id}, Repo: providers.Repo{ID: id, FullName: name}, Backfill: p}
}

// TestBuildBackfill: the running repo, the one finished just before it in
// the same episode and the queued ones (sized at the mean) make up the
// provider's backfill; an old finished backfill and a repo without a
// record do not.
func TestBuildBackfill(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	now := t0.Add(20 * time.Minute)
	repos := []state.RepoState{
		repoWith("gh", 1, "acme/old", &state.BackfillProgress{Started: t0.Add(-72 * time.Hour), Done: t0.Add(-71 * time.Hour), Listed: 9000, Walked: 9000, Estimate: 9000, EstimateSource: state.EstimateAPI}),
		repoWith("gh", 2, "acme/a", &state.BackfillProgress{Started: t0, Done: t0.Add(10 * time.Minute), Listed: 1000, Walked: 1000, Estimate: 1000, EstimateSource: state.EstimateAPI, Calls: 12, Links: 5}),
		repoWith("gh", 3, "acme/b", &state.BackfillProgress{Started: t0.Add(10 * time.Minute), Listed: 600, Walked: 500, Estimate: 2000, EstimateSource: state.EstimateAPI, Calls: 8, Busy: 10 * time.Minute, Links: 3}),
		repoWith("gh", 4, "acme/indexed", nil),
	}
	b := BuildBackfill(BackfillInput{Now: now, Repos: repos, Queued: map[string]int{"gh": 2},
		Budgets: map[string]RateLimit{"gh": {Known: true, Limit: 5000, Remaining: 4000, Reset: now.Add(30 * time.Minute)}},
		Types:   map[string]string{"gh": "github"}})
	if b == nil || len(b.Providers) != 1 {
		t.Fatalf("backfill = %+v", b)
	}
	p := b.Providers[0]
	// 1,500 left of acme/b, 2 queued at the mean of 1,000 and 2,000.
	if p.Running != 1 || p.Done != 1 || p.Queued != 2 || p.Listed != 1600 || p.Walked != 1500 || p.Remaining != 1500+2*1500 || p.Unsized {
		t.Errorf("totals %+v", p)
	}
	if p.Percent != 25 || p.Links != 8 || p.Calls != 20 || p.CallsLeft != 4000-1500 || !p.Started.Equal(t0) {
		t.Errorf("totals %+v", p)
	}
	// 1,500 commits in 20 minutes: 4,500 more take an hour; the budget
	// does not bind (60 calls).
	if !p.ETAKnown || p.ETA != time.Hour || !p.FinishAt.Equal(now.Add(time.Hour)) || b.Overall.ETA != time.Hour {
		t.Errorf("ETA %v (%v), overall %v", p.ETA, p.ETAKnown, b.Overall.ETA)
	}
	if len(b.Repos) != 2 || b.Repos[0].FullName != "acme/b" || b.Repos[0].Remaining != 1500 || b.Repos[0].Percent != 25 {
		t.Errorf("repos %+v", b.Repos)
	}
	// acme/b alone: 500 in 10 minutes, 1,500 more in 30.
	if r := b.Repos[0]; !r.ETAKnown || r.ETA != 30*time.Minute {
		t.Errorf("acme/b ETA %v %v", r.ETA, r.ETAKnown)
	}

	// Nothing running or queued: no section.
	if b := BuildBackfill(BackfillInput{Now: now, Repos: repos[:2]}); b != nil {
		t.Errorf("finished backfills only: %+v", b)
	}
	// Queued repos and nothing sized yet: the ETA is not known.
	b = BuildBackfill(BackfillInput{Now: now, Queued: map[string]int{"gl": 3}})
	if b == nil || !b.Providers[0].Unsized || b.Overall.ETAKnown {
		t.Errorf("unsized queue: %+v", b)
	}
}
