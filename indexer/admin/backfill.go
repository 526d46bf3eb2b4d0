package admin

// backfill.go: the status page's backfill section (progress bars, overall,
// per provider and per running repo).

import (
	"fmt"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/status"
)

type backfillView struct {
	Overall   backfillTotalsView
	Providers []backfillTotalsView
	Repos     []backfillRepoView // running ones
}

type backfillTotalsView struct {
	status.BackfillTotals
	Pct       string // "42"
	Total     int    // Walked+Remaining
	ETAText   string // "2 h 5 min" or "unknown"
	FinishAt  when
	CallsLeft string // "1,234" or "unknown"
}

type backfillRepoView struct {
	status.BackfillRepo
	Pct     string
	ETAText string
}

// newBackfillView is the page's view of a snapshot's backfill; nil when
// none runs.
func newBackfillView(b *status.Backfill, now time.Time) *backfillView {
	if b == nil {
		return nil
	}
	v := &backfillView{Overall: newBackfillTotalsView(b.Overall, now)}
	for _, p := range b.Providers {
		v.Providers = append(v.Providers, newBackfillTotalsView(p, now))
	}
	for _, r := range b.Repos {
		if r.Done.IsZero() {
			v.Repos = append(v.Repos, backfillRepoView{BackfillRepo: r, Pct: pct(r.Percent), ETAText: etaText(r.ETA, r.ETAKnown)})
		}
	}
	return v
}

func newBackfillTotalsView(t status.BackfillTotals, now time.Time) backfillTotalsView {
	v := backfillTotalsView{BackfillTotals: t, Pct: pct(t.Percent), Total: t.Walked + t.Remaining, ETAText: etaText(t.ETA, t.ETAKnown),
		FinishAt: at(t.FinishAt, now, "—"), CallsLeft: "unknown"}
	if t.CallsLeft >= 0 {
		v.CallsLeft = thousands(t.CallsLeft)
	}
	return v
}

func pct(p float64) string { return fmt.Sprintf("%.0f", p) }

// etaText is a time left in a few words ("unknown" before any rate was
// observed).
func etaText(d time.Duration, known bool) string {
	switch {
	case !known:
		return "unknown"
	case d < time.Second:
		return "done"
	}
	return span(d)
}
