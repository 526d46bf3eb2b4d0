package status

// backfill.go: the backfill section of a snapshot — per repo and per
// provider, commits listed, estimated remaining, links written, calls
// spent and left, and an ETA (eta.go) — built from the repos' progress
// records (state.BackfillProgress).

import (
	"math"
	"sort"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

// commitPageSize is the commits of one list page (indexer.CommitPageSize).
const commitPageSize = 100

// Backfill is the progress of the backfills running (nil in a snapshot
// when none runs).
type Backfill struct {
	// Overall sums the providers; its ETA is the longest of theirs.
	Overall   BackfillTotals   `json:"overall"`
	Providers []BackfillTotals `json:"providers"`
	// Repos are the repos of the running backfills, running ones first.
	Repos []BackfillRepo `json:"repos"`
}

// BackfillTotals is the progress of one provider's backfill (or of all).
//
// A provider's backfill is the set of its repos whose backfill runs, those
// a running pass will start (Queued, sized at the mean of the others'
// estimates), and those that finished in the same episode: since the
// oldest running one began, or before it with no gap longer than
// episodeGap between one's end and the next's start.
type BackfillTotals struct {
	Provider string `json:"provider,omitempty"`
	Running  int    `json:"repos_running"`
	Queued   int    `json:"repos_queued"`
	Done     int    `json:"repos_done"`
	// Listed counts the commits read (every branch, re-reads included);
	// Walked those of the default branches' histories, the unit of
	// Remaining: the estimated commits still to walk. Unsized says it
	// leaves out queued repos no size was known for.
	Listed    int     `json:"commits_listed"`
	Walked    int     `json:"commits_walked"`
	Remaining int     `json:"remaining_estimate"`
	Unsized   bool    `json:"remaining_unsized,omitempty"`
	Percent   float64 `json:"percent"`
	Links     int     `json:"links_written"`
	// Calls counts the provider calls the backfill spent; CallsLeft the
	// calls the backfill may still spend in the current rate-limit window
	// (-1 when the budget is unknown).
	Calls     int `json:"calls_spent"`
	CallsLeft int `json:"calls_left"`
	// ETA is the estimated time left (ETAKnown false before any rate was
	// observed); FinishAt is Time + ETA.
	ETA      time.Duration `json:"eta_ns"`
	ETAKnown bool          `json:"eta_known"`
	FinishAt time.Time     `json:"finish_at,omitzero"`
	Started  time.Time     `json:"started,omitzero"`
}

// BackfillRepo is one repository's backfill.
type BackfillRepo struct {
	Provider       string    `json:"provider"`
	FullName       string    `json:"full_name"`
	Listed         int       `json:"commits_listed"`
	Walked         int       `json:"commits_walked"`
	Estimate       int       `json:"estimate"`
	EstimateSource string    `json:"estimate_source"`
	Remaining      int       `json:"remaining_estimate"`
	Percent        float64   `json:"percent"`
	Pages          int       `json:"pages"`
	Links          int       `json:"links_written"`
	Calls          int       `json:"calls_spent"`
	Started        time.Time `json:"started"`
	Done           time.Time `json:"done,omitzero"`
	// ETA is the repo's own: its remaining commits at its own rate,
	// bounded by its provider's budget as if it had it alone.
	ETA      time.Duration `json:"eta_ns"`
	ETAKnown bool          `json:"eta_known"`
}

// BackfillInput is what BuildBackfill reads.
type BackfillInput struct {
	Now   time.Time
	Repos []state.RepoState
	// Queued counts, per provider, the repos running passes will backfill
	// and have not started.
	Queued map[string]int
	// Budgets are the providers' rate-limit budgets, Types their types
	// (the window: GitHub's is an hour, GitLab's a minute).
	Budgets map[string]RateLimit
	Types   map[string]string
	// Shares is each provider's backfill share of each window
	// (backfill_budget_share; absent or 0: the default).
	Shares map[string]float64
}

// BuildBackfill assembles the backfill section; nil when no backfill runs.
func BuildBackfill(in BackfillInput) *Backfill {
	type acc struct {
		t            BackfillTotals
		sizes        []int // estimates of sized repos, for the queued ones
		busy, waited time.Duration
		// Calls that listed commits, and the others (fixed per repo),
		// of done and of running repos.
		pages, fixedDone, fixedRunning, done int
	}
	byProv := map[string]*acc{}
	get := func(p string) *acc {
		if byProv[p] == nil {
			byProv[p] = &acc{t: BackfillTotals{Provider: p}}
		}
		return byProv[p]
	}
	// The oldest running backfill of each provider starts its set.
	for _, r := range in.Repos {
		if p := r.Backfill; p.Backfilling() {
			a := get(r.Key.Provider)
			if a.t.Started.IsZero() || p.Started.Before(a.t.Started) {
				a.t.Started = p.Started
			}
		}
	}
	for p, n := range in.Queued {
		if n > 0 {
			a := get(p)
			a.t.Queued = n
			if a.t.Started.IsZero() {
				a.t.Started = in.Now // between two repos of a pass
			}
		}
	}
	if len(byProv) == 0 {
		return nil
	}
	chainDone(in.Repos, func(p string) *time.Time {
		if a := byProv[p]; a != nil {
			return &a.t.Started
		}
		return nil
	})
	out := &Backfill{}
	for _, r := range in.Repos {
		p, a := r.Backfill, byProv[r.Key.Provider]
		if p == nil || a == nil || (!p.Backfilling() && (a.t.Started.IsZero() || p.Done.Before(a.t.Started))) {
			continue
		}
		br := BackfillRepo{Provider: r.Key.Provider, FullName: r.Repo.FullName, Listed: p.Listed, Walked: p.Walked, Estimate: p.Estimate,
			EstimateSource: p.EstimateSource, Remaining: p.Remaining(commitPageSize), Pages: p.Pages, Links: p.Links,
			Calls: p.Calls, Started: p.Started, Done: p.Done}
		br.Percent = percent(br.Walked, br.Remaining)
		br.ETA, br.ETAKnown = EstimateETA(ETAInput{Remaining: br.Remaining, Done: p.Walked, Calls: p.Calls, Elapsed: p.Busy, Waited: p.Waited,
			Budget: in.Budgets[br.Provider], Share: in.share(br.Provider), Window: window(in.Types[br.Provider]), Now: in.Now})
		out.Repos = append(out.Repos, br)
		a.t.Listed += p.Listed
		a.t.Walked += p.Walked
		a.t.Remaining += br.Remaining
		a.t.Links += p.Links
		a.t.Calls += p.Calls
		a.busy += p.Busy
		a.waited += p.Waited
		a.pages += p.Pages
		if p.Backfilling() {
			a.t.Running++
			a.fixedRunning += max(p.Calls-p.Pages, 0)
		} else {
			a.t.Done++
			if !p.Done.Before(a.t.Started) {
				a.fixedDone += max(p.Calls-p.Pages, 0)
				a.done++
			}
		}
		if p.EstimateSource == state.EstimateAPI || !p.Backfilling() {
			a.sizes = append(a.sizes, max(p.Estimate, p.Walked))
		}
	}
	names := make([]string, 0, len(byProv))
	for p := range byProv {
		names = append(names, p)
	}
	sort.Strings(names)
	o := &out.Overall
	o.ETAKnown, o.CallsLeft = true, 0
	for _, name := range names {
		a := byProv[name]
		t := &a.t
		if t.Queued > 0 {
			if len(a.sizes) == 0 {
				t.Unsized = true
			} else {
				sum := 0
				for _, s := range a.sizes {
					sum += s
				}
				t.Remaining += t.Queued * sum / len(a.sizes)
			}
		}
		t.Percent = percent(t.Walked, t.Remaining)
		b := in.Budgets[name]
		share := in.share(name)
		t.CallsLeft = -1
		if b.Known {
			t.CallsLeft = max(0, b.Remaining-int((1-share)*float64(b.Limit)))
		}
		// Wall time since the episode began; the share of it spent waiting
		// is the repos' (whose syncs may overlap).
		elapsed, waited := time.Duration(0), time.Duration(0)
		if !t.Started.IsZero() {
			elapsed = in.Now.Sub(t.Started)
		}
		if a.busy > 0 {
			waited = time.Duration(float64(elapsed) * min(1, a.waited.Seconds()/a.busy.Seconds()))
		}
		// Calls per repository that do not list commits, as the repos
		// done in this backfill spent them (else twice what the running
		// ones spent so far: about half come before the walk); those the
		// unfinished repos still need.
		perRepo := 0.0
		switch {
		case a.done > 0:
			perRepo = float64(a.fixedDone) / float64(a.done)
		case t.Running > 0:
			perRepo = 2 * float64(a.fixedRunning) / float64(t.Running)
		}
		fixed := perRepo*float64(t.Queued) + math.Max(0, perRepo*float64(t.Running)-float64(a.fixedRunning))
		t.ETA, t.ETAKnown = EstimateETA(ETAInput{Remaining: t.Remaining, Done: t.Walked, Calls: t.Calls, Elapsed: elapsed, Waited: waited,
			PageCalls: a.pages, FixedCalls: fixed, Budget: b, Share: share, Window: window(in.Types[name]), Now: in.Now})
		t.ETAKnown = t.ETAKnown && !t.Unsized
		if t.ETAKnown {
			t.FinishAt = in.Now.Add(t.ETA)
		}
		out.Providers = append(out.Providers, *t)

		o.Running += t.Running
		o.Queued += t.Queued
		o.Done += t.Done
		o.Listed += t.Listed
		o.Walked += t.Walked
		o.Remaining += t.Remaining
		o.Unsized = o.Unsized || t.Unsized
		o.Links += t.Links
		o.Calls += t.Calls
		if t.CallsLeft < 0 || o.CallsLeft < 0 {
			o.CallsLeft = -1
		} else {
			o.CallsLeft += t.CallsLeft
		}
		o.ETAKnown = o.ETAKnown && t.ETAKnown
		o.ETA = max(o.ETA, t.ETA)
		if o.Started.IsZero() || (!t.Started.IsZero() && t.Started.Before(o.Started)) {
			o.Started = t.Started
		}
	}
	o.Percent = percent(o.Walked, o.Remaining)
	if o.ETAKnown {
		o.FinishAt = in.Now.Add(o.ETA)
	} else {
		o.ETA = 0
	}
	sort.SliceStable(out.Repos, func(i, j int) bool {
		ri, rj := out.Repos[i], out.Repos[j]
		if ri.Done.IsZero() != rj.Done.IsZero() {
			return ri.Done.IsZero()
		}
		if ri.Provider != rj.Provider {
			return ri.Provider < rj.Provider
		}
		return ri.FullName < rj.FullName
	})
	return out
}

// episodeGap is the longest pause between two repos' backfills of one
// episode (a pass starts the next repo as the last one ends).
const episodeGap = 15 * time.Minute

// chainDone moves each provider's start back over the finished backfills
// of the same episode: those that ended at most episodeGap before the
// start, then before theirs, and so on.
func chainDone(repos []state.RepoState, start func(provider string) *time.Time) {
	done := make([]state.RepoState, 0, len(repos))
	for _, r := range repos {
		if r.Backfill != nil && !r.Backfill.Backfilling() {
			done = append(done, r)
		}
	}
	sort.Slice(done, func(i, j int) bool { return done[i].Backfill.Done.After(done[j].Backfill.Done) })
	for _, r := range done {
		s := start(r.Key.Provider)
		if s == nil || s.IsZero() {
			continue
		}
		if p := r.Backfill; !p.Done.Before(s.Add(-episodeGap)) && p.Started.Before(*s) {
			*s = p.Started
		}
	}
}

// percent is done/(done+left) in percent, 0 when both are 0.
func percent(done, left int) float64 {
	if done+left == 0 {
		return 0
	}
	return 100 * float64(done) / float64(done+left)
}

// window is the rate-limit window of a provider type: GitHub's primary
// limit is per hour, GitLab.com's per minute.
func window(typ string) time.Duration {
	if typ == string(providers.TypeGitLab) {
		return time.Minute
	}
	return time.Hour
}

// share is provider's backfill share, DefaultBackfillShare unless set.
func (in BackfillInput) share(provider string) float64 {
	if s := in.Shares[provider]; s > 0 && s <= 1 {
		return s
	}
	return DefaultBackfillShare
}
