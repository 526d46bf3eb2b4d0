package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/jiralinkd/jiralinkd/indexer/status"
)

// TestBackfillMetrics: one series per provider: the remaining estimate
// (0 without a backfill) and the ETA, absent while unknown.
func TestBackfillMetrics(t *testing.T) {
	snap := func() (status.Snapshot, error) {
		return status.Snapshot{
			Providers: []status.Provider{{Name: "github"}, {Name: "gitlab"}, {Name: "idle"}},
			Backfill: &status.Backfill{Providers: []status.BackfillTotals{
				{Provider: "github", Remaining: 120000, ETA: 90 * time.Minute, ETAKnown: true},
				{Provider: "gitlab", Remaining: 300, Unsized: true},
			}},
		}, nil
	}
	reg := prometheus.NewPedanticRegistry()
	New(reg, snap)
	if problems, err := testutil.GatherAndLint(reg); err != nil || len(problems) > 0 {
		t.Fatalf("lint: %v %v", problems, err)
	}
	expect := `
# HELP jiralinkd_backfill_eta_seconds Estimated seconds until the provider's running backfill ends (0 when none runs; absent while no rate was observed).
# TYPE jiralinkd_backfill_eta_seconds gauge
jiralinkd_backfill_eta_seconds{provider="github"} 5400
jiralinkd_backfill_eta_seconds{provider="idle"} 0
# HELP jiralinkd_backfill_remaining_estimate Estimated commits the provider's running backfill still has to list (0 when none runs).
# TYPE jiralinkd_backfill_remaining_estimate gauge
jiralinkd_backfill_remaining_estimate{provider="github"} 120000
jiralinkd_backfill_remaining_estimate{provider="gitlab"} 300
jiralinkd_backfill_remaining_estimate{provider="idle"} 0
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(expect), "jiralinkd_backfill_eta_seconds", "jiralinkd_backfill_remaining_estimate"); err != nil {
		t.Error(err)
	}
}
