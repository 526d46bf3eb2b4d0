package status

// eta.go: when a backfill will end, from what it did so far and the rate
// budget it may still spend. A pure function, so it can be checked against
// simulated backfills (indexer's BenchmarkBackfillETA).

import (
	"math"
	"time"
)

// DefaultBackfillShare is the share of each rate-limit window a backfill
// may spend when none is configured (backfill_budget_share).
const DefaultBackfillShare = 0.7

// ETAInput is what an ETA is computed from.
type ETAInput struct {
	// Remaining is the estimated number of commits still to list.
	Remaining int
	// Listed commits were listed, with Calls provider calls, in Elapsed
	// (rate-limit waits included): the observed rates.
	Listed  int
	Calls   int
	Elapsed time.Duration
	// Budget is the provider's rate-limit budget now; Share the part of
	// each window the backfill may spend (0: DefaultBackfillShare); Window
	// the window's length (0: one hour, GitHub's primary limit).
	Budget RateLimit
	Share  float64
	Window time.Duration
	Now    time.Time
}

// EstimateETA is how long the backfill still takes, ok false when nothing
// was observed yet to tell a rate. It is the longer of two bounds:
//
//   - the listing rate: Remaining at the rate observed so far (commits per
//     second of Elapsed, which includes past rate-limit waits, so after a
//     window or two it is the budget-bound rate itself);
//   - the budget: the calls still needed (Remaining at the observed calls
//     per commit) against what the backfill may spend: in the current
//     window what is left above the reserve kept for fresh work
//     ((1-Share) of the limit), then Share of each later window, the last
//     window's part at the observed call rate.
func EstimateETA(in ETAInput) (time.Duration, bool) {
	if in.Remaining <= 0 {
		return 0, true
	}
	if in.Listed <= 0 || in.Elapsed <= 0 {
		return 0, false
	}
	secs := in.Elapsed.Seconds()
	byRate := float64(in.Remaining) / (float64(in.Listed) / secs)
	return seconds(math.Max(byRate, budgetBound(in).Seconds())), true
}

// budgetBound is the budget's lower bound on the time left (0 when the
// budget is unknown or does not bind).
func budgetBound(in ETAInput) time.Duration {
	b := in.Budget
	if !b.Known || b.Limit <= 0 || in.Calls <= 0 {
		return 0
	}
	share := in.Share
	if share <= 0 || share > 1 {
		share = DefaultBackfillShare
	}
	window := in.Window
	if window <= 0 {
		window = time.Hour
	}
	perCommit := float64(in.Calls) / float64(in.Listed)
	need := float64(in.Remaining) * perCommit
	usableNow := math.Max(0, float64(b.Remaining)-(1-share)*float64(b.Limit))
	if need <= usableNow {
		return 0
	}
	perWindow := share * float64(b.Limit)
	rest := need - usableNow
	windows := math.Ceil(rest / perWindow)
	last := rest - (windows-1)*perWindow
	untilReset := window // reset unknown: a whole window
	if !b.Reset.IsZero() {
		untilReset = max(b.Reset.Sub(in.Now), 0)
	}
	callRate := float64(in.Calls) / in.Elapsed.Seconds() // calls per second
	return untilReset + time.Duration(windows-1)*window + seconds(last/callRate)
}

// seconds converts float seconds to a Duration, saturating.
func seconds(s float64) time.Duration {
	if s >= math.MaxInt64/float64(time.Second) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s * float64(time.Second))
}
