package status

// eta.go: when a backfill will end, from what it did so far and the rate
// budget it may still spend. A pure function, so it can be checked against
// simulated backfills (indexer's BenchmarkBackfillETA).

import (
	"math"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// DefaultBackfillShare is the share of each rate-limit window a backfill
// may spend when none is configured (backfill_budget_share).
const DefaultBackfillShare = 0.7

// ETAInput is what an ETA is computed from.
type ETAInput struct {
	// Remaining is the estimated number of commits still to list.
	Remaining int
	// Done commits (of Remaining's kind) were done, with Calls provider
	// calls, in Elapsed, of which the requests waited Waited for rate
	// limits: the observed rates are of Elapsed-Waited, the time the
	// listing really took.
	Done  int
	Calls int
	// PageCalls, when known, is the part of Calls that listed commits
	// (pages), and FixedCalls the calls still ahead that do not grow with
	// the commits (each unfinished repository's branch, tag and pull
	// request lists): the budget bound then needs Remaining at PageCalls
	// per commit plus FixedCalls, rather than Remaining at Calls per
	// commit, which misses the last repositories' fixed calls.
	PageCalls  int
	FixedCalls float64
	Elapsed    time.Duration
	Waited     time.Duration
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
//   - the listing: Remaining at the rate observed so far, in commits per
//     second of the time the listing took (waits for rate limits left
//     out: the budget bound accounts for them);
//   - the budget: the calls still needed (Remaining at the observed calls
//     per commit) against what the backfill may spend: in the current
//     window what is left above the reserve kept for fresh work
//     ((1-Share) of the limit), then Share of each later window; the
//     backfill ends at the earliest in the last window it needs, after
//     that window's part at the observed call rate.
func EstimateETA(in ETAInput) (time.Duration, bool) {
	if in.Remaining <= 0 {
		return 0, true
	}
	active := activeTime(in)
	if in.Done <= 0 || active <= 0 {
		return 0, false
	}
	byRate := float64(in.Remaining) / (float64(in.Done) / active.Seconds())
	return seconds(math.Max(byRate, budgetBound(in).Seconds())), true
}

// activeTime is the time the listing took: Elapsed without the waits.
func activeTime(in ETAInput) time.Duration {
	if a := in.Elapsed - in.Waited; a > 0 {
		return a
	}
	return 0
}

// budgetBound is the budget's lower bound on the time left (0 when the
// budget is unknown or does not bind).
//
// The retry transport paces requests once less than httpx.PaceReserve of a
// window's budget is left (each then waits its even share of the time to
// the reset), so of the calls a backfill may spend in a window, those
// above 1-PaceReserve of the limit are spread over what is left of the
// window rather than sent at the listing's speed.
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
	limit := float64(b.Limit)
	need := float64(in.Remaining) * float64(in.Calls) / float64(in.Done)
	if in.PageCalls > 0 {
		need = float64(in.Remaining)*float64(in.PageCalls)/float64(in.Done) + in.FixedCalls
	}
	callTime := activeTime(in).Seconds() / float64(in.Calls) // seconds per call
	untilReset := window                                     // reset unknown: a whole window
	if !b.Reset.IsZero() {
		untilReset = max(b.Reset.Sub(in.Now), 0)
	}
	// What the current window still offers: calls at full speed, then
	// paced ones spread until the reset.
	fastShare := min(share, 1-httpx.PaceReserve)
	// (Less one: the request that reaches the reserve may already wait.)
	fastNow := math.Max(0, float64(b.Remaining)-(1-fastShare)*limit-1)
	usableNow := math.Max(0, float64(b.Remaining)-(1-share)*limit)
	if need <= fastNow {
		return 0 // the listing rate bounds it
	}
	if need <= usableNow {
		paced := (need - fastNow) / (usableNow - fastNow)
		return seconds(fastNow*callTime) + time.Duration(paced*float64(untilReset))
	}
	// Later windows: share of each, the last one's calls at full speed
	// up to fastShare of the limit, then paced over the rest of it.
	perWindow := share * limit
	rest := need - usableNow
	windows := math.Ceil(rest / perWindow)
	last := rest - (windows-1)*perWindow
	end := untilReset + time.Duration(windows-1)*window
	fast := fastShare * limit
	if last <= fast {
		return end + seconds(last*callTime)
	}
	paced := (last - fast) / (perWindow - fast)
	return end + seconds(fast*callTime) + time.Duration(paced*float64(window-seconds(fast*callTime)))
}

// seconds converts float seconds to a Duration, saturating.
func seconds(s float64) time.Duration {
	if s >= math.MaxInt64/float64(time.Second) {
		return time.Duration(math.MaxInt64)
	}
	return time.Duration(s * float64(time.Second))
}
