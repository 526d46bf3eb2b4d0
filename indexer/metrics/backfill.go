package metrics

// backfill.go: the backfill gauges, per provider (per-repo figures are on
// the status page and the API, not in metrics: thousands of repos would
// be thousands of series).

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/jiralinkd/jiralinkd/indexer/status"
)

var (
	backfillRemainingDesc = prometheus.NewDesc(ns+"_backfill_remaining_estimate",
		"Estimated commits the provider's running backfill still has to list (0 when none runs).", []string{"provider"}, nil)
	backfillETADesc = prometheus.NewDesc(ns+"_backfill_eta_seconds",
		"Estimated seconds until the provider's running backfill ends (0 when none runs; absent while no rate was observed).", []string{"provider"}, nil)
)

// collectBackfill exports the backfill gauges of every configured provider.
func collectBackfill(ch chan<- prometheus.Metric, s status.Snapshot) {
	byName := map[string]status.BackfillTotals{}
	if s.Backfill != nil {
		for _, t := range s.Backfill.Providers {
			byName[t.Provider] = t
		}
	}
	for _, p := range s.Providers {
		t, running := byName[p.Name]
		ch <- prometheus.MustNewConstMetric(backfillRemainingDesc, prometheus.GaugeValue, float64(t.Remaining), p.Name)
		if running && !t.ETAKnown {
			continue
		}
		ch <- prometheus.MustNewConstMetric(backfillETADesc, prometheus.GaugeValue, t.ETA.Seconds(), p.Name)
	}
}
