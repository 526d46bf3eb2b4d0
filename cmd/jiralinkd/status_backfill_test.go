package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/indexer/status"
	"github.com/jiralinkd/jiralinkd/providers"
)

// TestStatusShowsBackfill: a running backfill is printed with its
// progress, remaining estimate and ETA, overall, per provider and per
// repo, and is in --json.
func TestStatusShowsBackfill(t *testing.T) {
	f := newStatusFixture(t)
	st, err := boltstore.Open(f.statePath, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	err = st.PutRepo(state.RepoState{Key: state.RepoKey{Provider: "github", ID: 79}, Repo: providers.Repo{ID: 79, FullName: "acme/big"},
		Status: state.RepoPending, Backfill: &state.BackfillProgress{Started: now.Add(-10 * time.Minute), Listed: 520, Walked: 500, Estimate: 2000,
			EstimateSource: state.EstimateAPI, Pages: 5, Links: 7, Calls: 9, Busy: 10 * time.Minute}})
	st.Close()
	if err != nil {
		t.Fatal(err)
	}
	cfg := f.config(t, "127.0.0.1:0", "")
	code, out, errOut := f.run(cmdStatus, "--config", cfg)
	if code != exitOK {
		t.Fatalf("exit %d\n%s", code, errOut)
	}
	for s, fields := range map[string][]string{
		"Backfill:":     {"25%", "500 of about 2000 commits walked", "520 listed", "ETA 30m"},
		"CALLS LEFT":    {"REPOS RUNNING/QUEUED/DONE", "REMAINING"},
		"github    1/0": {"500", "1500", "520", "7", "9", "unknown"},
		"acme/big":      {"[##........] 25%", "2000 (api)", "30m0s"},
	} {
		l := lineWith(out, s)
		if l == "" {
			t.Errorf("no line with %q:\n%s", s, out)
			continue
		}
		for _, want := range fields {
			if !strings.Contains(l, want) {
				t.Errorf("line %q lacks %q", l, want)
			}
		}
	}
	_, out, _ = f.run(cmdStatus, "--config", cfg, "--json")
	var snap status.Snapshot
	if err := json.Unmarshal([]byte(out), &snap); err != nil {
		t.Fatal(err)
	}
	if b := snap.Backfill; b == nil || len(b.Repos) != 1 || b.Overall.Remaining != 1500 || !b.Overall.ETAKnown {
		t.Errorf("--json backfill: %+v", snap.Backfill)
	}
}
