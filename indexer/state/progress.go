package state

// progress.go: how far a repository's backfill (its first complete sync)
// has come, kept with its RepoState so that status, the API and metrics
// can show it and a restart does not lose it.

import "time"

// Estimate sources of BackfillProgress.EstimateSource.
const (
	// EstimateAPI: the provider told the size of the default branch's
	// history (GitHub: the commit list's last page at one commit per page;
	// GitLab: the project's statistics.commit_count).
	EstimateAPI = "api"
	// EstimatePages: no size was available; the estimate is what was
	// walked so far plus one page while the backfill runs (a lower bound,
	// never a guess of the whole).
	EstimatePages = "pages"
)

// BackfillProgress is the progress of one repository's backfill: from its
// first sync until the first one that completes. A repository is
// backfilling while its RepoState.Backfill is set and Done is zero; a
// repository indexed before the record existed has none and is not
// backfilling.
type BackfillProgress struct {
	// Started is when the backfill's first sync began.
	Started time.Time `json:"started"`
	// Listed counts the commits read from the provider's commit lists:
	// every branch, every sync of the backfill, pages read again after a
	// failure included (the work done).
	Listed int `json:"listed"`
	// Walked counts the commits of the default branch's history walked,
	// the unit of Estimate: a walk resumed from its checkpoint counts from
	// the checkpoint's, so it is never counted twice.
	Walked int `json:"walked"`
	// Estimate is the estimated number of commits of the default
	// branch's history (0: unknown), from EstimateSource. Other branches'
	// history mostly overlaps it; what they add shows in the listing
	// rate, not in the estimate.
	Estimate       int    `json:"estimate,omitempty"`
	EstimateSource string `json:"estimate_source,omitempty"`
	// SizedHead is the head the provider was asked the history size of
	// (asked once per backfilling default-branch head).
	SizedHead string `json:"sized_head,omitempty"`
	// Pages counts the commit pages read.
	Pages int `json:"pages"`
	// Links counts the links written by the backfill's syncs.
	Links int `json:"links"`
	// Calls counts the provider API requests the backfill's syncs sent
	// (each request once, whatever its retries; conditional requests
	// answered 304 included).
	Calls int `json:"calls"`
	// Busy is the time spent in the backfill's syncs (their wall time),
	// Waited the part of it its provider requests waited (rate-limit
	// resets and pacing, retry backoffs): Busy-Waited is the time the
	// listing really took.
	Busy   time.Duration `json:"busy"`
	Waited time.Duration `json:"waited,omitempty"`
	// Done is when the first complete sync ended (zero while backfilling).
	Done time.Time `json:"done,omitzero"`
}

// Backfilling reports whether the record is of a backfill still running.
func (p *BackfillProgress) Backfilling() bool { return p != nil && p.Done.IsZero() }

// Remaining is the estimated number of default-branch commits still to
// walk: the estimate minus what was walked, at least one page (pageSize
// commits) while the backfill runs (other branches, a lagging count); 0
// once done.
func (p *BackfillProgress) Remaining(pageSize int) int {
	if !p.Backfilling() {
		return 0
	}
	if r := p.Estimate - p.Walked; r > 0 {
		return r
	}
	return pageSize
}
