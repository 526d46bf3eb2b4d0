// Package status assembles what an administrator sees: every provider with
// its schedule, rate-limit budget and pause, every repo with its sync state,
// and the webhook queue. The status page, the admin API, `jiralinkd status`
// and the Prometheus gauges all read the same Snapshot.
package status

import (
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// Health is the overall verdict of a snapshot, for alerting and the page.
type Health string

// Overall health values.
const (
	HealthOK       Health = "ok"       // every pass of every provider succeeded
	HealthDegraded Health = "degraded" // something failed; links still flow elsewhere
	HealthFailing  Health = "failing"  // nothing is being linked (Jira or every provider failing)
)

// Snapshot is the state of the daemon at one moment.
type Snapshot struct {
	Time    time.Time `json:"time"`
	Version string    `json:"version"`
	// Health is ok, degraded or failing; Problems says why, one line each.
	Health     Health     `json:"health"`
	Problems   []string   `json:"problems,omitempty"`
	Jira       System     `json:"jira"`
	Providers  []Provider `json:"providers"`
	Repos      []Repo     `json:"repos"`
	QueueDepth int        `json:"webhook_queue_depth"`
	// SmartCommitsFailed counts smart-commit commands that failed for
	// good (explain ISSUE tells which and why).
	SmartCommitsFailed int `json:"smart_commits_failed"`
	// Replicas are the replicas sharing the state (PostgreSQL), by id;
	// empty with a single-node (bbolt) state.
	Replicas []Replica `json:"replicas,omitempty"`
	// Backfill is the progress of running backfills (backfill.go); absent
	// when none runs.
	Backfill *Backfill `json:"backfill,omitempty"`
}

// Replica is one replica of a shared state as its heartbeat shows it.
type Replica struct {
	ID        string    `json:"id"` // host, pid and a random suffix
	Host      string    `json:"host"`
	Version   string    `json:"version"`
	Heartbeat time.Time `json:"heartbeat"`
	// Leader is true for the replica holding the live leader lease.
	Leader bool `json:"leader"`
	// Epoch is the lease epoch the replica last saw.
	Epoch int64 `json:"epoch"`
	// Self marks the replica that answered.
	Self bool `json:"self,omitempty"`
}

// System is the outcome of the last pass that reached a system (Jira, or
// one provider): what failed, in plain words, and which setting to fix.
type System struct {
	// State is ok, failed (the pass could not sync anything), partial
	// (some repositories failed) or "" (no pass yet).
	State       state.HealthState `json:"state"`
	LastPass    time.Time         `json:"last_pass,omitzero"`
	LastSuccess time.Time         `json:"last_success,omitzero"`
	LastError   string            `json:"last_error,omitempty"`
	FailureKind string            `json:"failure_kind,omitempty"`
	Hint        string            `json:"hint,omitempty"`
	// Blame is the system whose failure failed the pass ("jira" when a
	// provider's pass could not use Jira).
	Blame string `json:"blame,omitempty"`
	// Failures counts failed passes in a row.
	Failures    int `json:"consecutive_failures"`
	ReposFailed int `json:"repos_failed"`
	// Token is when the credentials expire, when the server says (nil
	// when unknown or never).
	Token *TokenExpiry `json:"token,omitempty"`
}

// TokenExpiry is when a system's token expires.
type TokenExpiry struct {
	Expires time.Time `json:"expires"`
	// DaysLeft is the whole days left (negative once expired).
	DaysLeft int `json:"days_left"`
	// Setting names the setting that holds the token (never the token).
	Setting string `json:"setting,omitempty"`
}

// NewTokenExpiry is the TokenExpiry of a token expiring at exp, seen at now.
func NewTokenExpiry(exp, now time.Time, setting string) *TokenExpiry {
	return &TokenExpiry{Expires: exp, DaysLeft: DaysLeft(exp, now), Setting: setting}
}

// DaysLeft is the number of whole days from now until exp, rounded down
// (negative once expired: -1 on the day after).
func DaysLeft(exp, now time.Time) int {
	d := exp.Sub(now)
	days := int(d / (24 * time.Hour))
	if d < 0 && d%(24*time.Hour) != 0 {
		days--
	}
	return days
}

// InstallationBudget is the rate-limit budget of one GitHub App
// installation.
type InstallationBudget struct {
	ID int64 `json:"id"`
	RateLimit
}

// Provider is one configured provider at runtime.
type Provider struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Schedule string `json:"schedule"`
	// NextRun is the next scheduled pass (zero outside serve).
	NextRun time.Time `json:"next_run,omitzero"`
	// Running is true while a pass of this provider runs.
	Running bool `json:"running"`
	// LastSweep is when the last full sweep (every repository's lists
	// read) started; passes in between read only what changed.
	LastSweep time.Time `json:"last_sweep,omitzero"`
	// System is the outcome of its last pass (flattened in JSON).
	System
	// RateLimit is the latest budget the provider reported.
	RateLimit RateLimit `json:"rate_limit"`
	// PausedUntil is set while requests wait for a rate-limit reset.
	PausedUntil time.Time `json:"paused_until,omitzero"`
	Webhook     bool      `json:"webhook"`
	// Installations are the budgets of a GitHub App provider's
	// installations (each has its own).
	Installations []InstallationBudget `json:"installations,omitempty"`
}

// RateLimit is a provider's request budget.
type RateLimit struct {
	Known     bool      `json:"known"`
	Limit     int       `json:"limit"`
	Remaining int       `json:"remaining"`
	Reset     time.Time `json:"reset,omitzero"`
	// SeenAt is set when the figure comes from the state file (the last
	// pass, e.g. a CLI sync) rather than from this process's own requests.
	SeenAt time.Time `json:"seen_at,omitzero"`
}

// Repo is one repository's sync state.
type Repo struct {
	Provider string           `json:"provider"`
	ID       int64            `json:"id"`
	FullName string           `json:"full_name"`
	URL      string           `json:"url"`
	State    state.RepoStatus `json:"state"`
	Syncing  bool             `json:"syncing"`
	LastSync time.Time        `json:"last_sync,omitzero"`
	// LastSuccess is when the repository was last known up to date: its
	// last successful sync, or a later pass that found it unchanged.
	LastSuccess time.Time `json:"last_success,omitzero"`
	LastError   string    `json:"last_error,omitempty"`
	FailureKind string    `json:"failure_kind,omitempty"`
	Hint        string    `json:"hint,omitempty"`
	// Failures counts failed passes in a row (0 once one succeeds).
	Failures int `json:"consecutive_failures"`
	Branches int `json:"branches"`
	Commits  int `json:"commits_indexed"`
	Links    int `json:"links_written"`
	// Resync is the outcome of the last Resync asked on the page or API.
	Resync *Resync `json:"resync,omitempty"`
}

// ResyncState is where a manual resync is.
type ResyncState string

// Resync states.
const (
	ResyncStarted   ResyncState = "started"
	ResyncSucceeded ResyncState = "succeeded"
	ResyncFailed    ResyncState = "failed"
)

// Resync is the outcome of a manual resync.
type Resync struct {
	State ResyncState `json:"state"`
	At    time.Time   `json:"at"`
	Error string      `json:"error,omitempty"`
}

// Reader is the state a snapshot reads.
type Reader interface {
	Repos() ([]state.RepoState, error)
	Health() ([]state.Health, error)
	QueueDepth() (int, error)
}

// ProviderInfo supplies a provider's live figures.
type ProviderInfo struct {
	Name, Type, Schedule string
	Webhook              bool
	RateLimit            func() httpx.RateLimit // nil if unknown
	NextRun              func() time.Time       // nil outside serve
	// TokenExpiry returns when the provider's token expires; ok false
	// when unknown. nil: never known (GitHub Apps).
	TokenExpiry func() (exp time.Time, ok bool)
	// TokenSetting names the setting holding the token.
	TokenSetting string
	// Installations returns a GitHub App's per-installation budgets.
	Installations func() []InstallationBudget
	// BackfillShare is the share of each rate-limit window the provider's
	// backfills may spend (backfill_budget_share; 0: the default).
	BackfillShare float64
}

// Tracker collects runtime facts the state file does not hold (running
// passes, rate-limit pauses) and builds snapshots. Safe for concurrent use.
type Tracker struct {
	store     Reader
	version   string
	providers []ProviderInfo
	now       func() time.Time

	// SmartCommitFailures, if set, counts failed smart-commit commands.
	SmartCommitFailures func() (int, error)
	// JiraTokenExpiry, if set, returns when the Jira token expires (ok
	// false when unknown); JiraTokenSetting names its setting.
	JiraTokenExpiry  func() (exp time.Time, ok bool)
	JiraTokenSetting string
	// Replicas, if set, lists the replicas sharing the state.
	Replicas func() ([]Replica, error)
	// BackfillQueued, if set, counts per provider the repos running
	// passes will backfill and have not started (indexer.BackfillQueued).
	BackfillQueued func() map[string]int

	mu      sync.Mutex
	running map[string]bool
	paused  map[string]time.Time
	syncing map[state.RepoKey]bool
	resyncs map[state.RepoKey]Resync
}

// NewTracker creates a tracker over the store.
func NewTracker(store Reader, version string, ps []ProviderInfo) *Tracker {
	return &Tracker{
		store: store, version: version, providers: ps, now: time.Now,
		running: map[string]bool{}, paused: map[string]time.Time{},
		syncing: map[state.RepoKey]bool{}, resyncs: map[state.RepoKey]Resync{},
	}
}

// PassStarted and PassDone bracket a provider's pass.
func (t *Tracker) PassStarted(provider string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.running[provider] = true
}

// PassDone records the end of a provider's pass (its outcome is in the
// state file, written by the indexer).
func (t *Tracker) PassDone(provider string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.running[provider] = false
}

// ResyncStarted and ResyncDone record a manual resync of a repo; err is
// its failure, nil on success.
func (t *Tracker) ResyncStarted(k state.RepoKey) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.resyncs[k] = Resync{State: ResyncStarted, At: t.now()}
}

// ResyncDone records the end of a manual resync.
func (t *Tracker) ResyncDone(k state.RepoKey, err error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	r := Resync{State: ResyncSucceeded, At: t.now()}
	if err != nil {
		r.State, r.Error = ResyncFailed, err.Error()
	}
	t.resyncs[k] = r
}

// RepoSyncing marks a repo as being synced (or no longer).
func (t *Tracker) RepoSyncing(k state.RepoKey, on bool) {
	t.mu.Lock()
	defer t.mu.Unlock()
	if on {
		t.syncing[k] = true
	} else {
		delete(t.syncing, k)
	}
}

// Waiting records that a provider's requests wait d for a rate limit.
func (t *Tracker) Waiting(provider string, d time.Duration) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.paused[provider] = t.now().Add(d)
}

// Snapshot builds the current picture.
func (t *Tracker) Snapshot() (Snapshot, error) {
	now := t.now()
	s := Snapshot{Time: now, Version: t.version}
	repos, err := t.store.Repos()
	if err != nil {
		return s, err
	}
	health, err := t.store.Health()
	if err != nil {
		return s, err
	}
	byName := map[string]state.Health{}
	for _, h := range health {
		byName[h.System] = h
	}
	if s.QueueDepth, err = t.store.QueueDepth(); err != nil {
		return s, err
	}
	if t.SmartCommitFailures != nil {
		if s.SmartCommitsFailed, err = t.SmartCommitFailures(); err != nil {
			return s, err
		}
	}
	if t.Replicas != nil {
		if s.Replicas, err = t.Replicas(); err != nil {
			return s, err
		}
	}
	s.Jira = systemOf(byName[state.JiraSystem])
	if t.JiraTokenExpiry != nil {
		if exp, ok := t.JiraTokenExpiry(); ok {
			s.Jira.Token = NewTokenExpiry(exp, now, t.JiraTokenSetting)
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.providers {
		h := byName[p.Name]
		sp := Provider{Name: p.Name, Type: p.Type, Schedule: p.Schedule, Webhook: p.Webhook,
			Running: t.running[p.Name], System: systemOf(h), LastSweep: h.LastSweep}
		if p.NextRun != nil {
			sp.NextRun = p.NextRun()
		}
		if p.RateLimit != nil {
			rl := p.RateLimit()
			sp.RateLimit = RateLimit{Known: rl.Known, Limit: rl.Limit, Remaining: rl.Remaining, Reset: rl.Reset}
		}
		if !sp.RateLimit.Known && h.RateLimit != nil {
			rl := h.RateLimit
			sp.RateLimit = RateLimit{Known: true, Limit: rl.Limit, Remaining: rl.Remaining, Reset: rl.Reset, SeenAt: rl.SeenAt}
		}
		if until := t.paused[p.Name]; until.After(now) {
			sp.PausedUntil = until
		}
		if p.TokenExpiry != nil {
			if exp, ok := p.TokenExpiry(); ok {
				sp.Token = NewTokenExpiry(exp, now, p.TokenSetting)
			}
		}
		if p.Installations != nil {
			sp.Installations = p.Installations()
		}
		s.Providers = append(s.Providers, sp)
	}
	for _, r := range repos {
		sr := Repo{
			Provider: r.Key.Provider, ID: r.Key.ID, FullName: r.Repo.FullName, URL: r.Repo.HTMLURL,
			State: r.Status, Syncing: t.syncing[r.Key], LastSync: r.LastSync, LastSuccess: r.LastSuccess,
			LastError: r.LastError, FailureKind: r.FailureKind, Hint: r.Hint, Failures: r.Failures,
			Branches: len(r.Branches), Commits: r.Commits, Links: r.Links,
		}
		if h := byName[r.Key.Provider]; r.Status == state.RepoOK && h.LastChecked.After(sr.LastSuccess) && !r.LastSuccess.IsZero() {
			// A pass between sweeps found it unchanged (it did not sync
			// it): it is up to date as of that pass.
			sr.LastSuccess = h.LastChecked
		}
		if rs, ok := t.resyncs[r.Key]; ok {
			sr.Resync = &rs
		}
		s.Repos = append(s.Repos, sr)
	}
	sort.SliceStable(s.Repos, func(i, j int) bool {
		if s.Repos[i].Provider != s.Repos[j].Provider {
			return s.Repos[i].Provider < s.Repos[j].Provider
		}
		return s.Repos[i].FullName < s.Repos[j].FullName
	})
	bi := BackfillInput{Now: now, Repos: repos, Shares: map[string]float64{}, Budgets: map[string]RateLimit{}, Types: map[string]string{}}
	for _, p := range t.providers {
		bi.Shares[p.Name] = p.BackfillShare
	}
	if t.BackfillQueued != nil {
		bi.Queued = t.BackfillQueued()
	}
	for _, p := range s.Providers {
		bi.Budgets[p.Name], bi.Types[p.Name] = p.RateLimit, p.Type
	}
	s.Backfill = BuildBackfill(bi)
	s.Health, s.Problems = verdict(s)
	return s, nil
}

func systemOf(h state.Health) System {
	return System{State: h.State, LastPass: h.LastPass, LastSuccess: h.LastSuccess, LastError: h.LastError,
		FailureKind: h.FailureKind, Hint: h.Hint, Blame: h.Blame, Failures: h.Failures, ReposFailed: h.ReposFailed}
}

// verdict is the overall health: failing when nothing can be linked (Jira
// failing, or every provider's last pass failed as a whole or in every
// repo), degraded when anything failed, else ok. Problems lists, in plain
// words, what an administrator should look at.
func verdict(s Snapshot) (Health, []string) {
	var problems []string
	describe := func(what string, sys System) string {
		msg := what + ": " + sys.LastError
		if sys.Hint != "" {
			msg += " — " + sys.Hint
		}
		return msg
	}
	jiraDown := s.Jira.State == state.HealthFailed
	if jiraDown {
		problems = append(problems, describe("Jira", s.Jira))
	}
	reposOf := map[string][2]int{} // provider → {repos, failed}
	for _, r := range s.Repos {
		c := reposOf[r.Provider]
		c[0]++
		if r.State == state.RepoFailed {
			c[1]++
		}
		reposOf[r.Provider] = c
	}
	down := 0
	for _, p := range s.Providers {
		c := reposOf[p.Name]
		switch {
		case p.State == state.HealthFailed || (c[0] > 0 && c[0] == c[1]):
			down++
			if jiraDown && p.Blame == state.JiraSystem {
				problems = append(problems, "provider "+p.Name+": nothing synced while Jira fails (above)")
			} else if p.LastError != "" {
				problems = append(problems, describe("provider "+p.Name, p.System))
			} else {
				problems = append(problems, fmt.Sprintf("provider %s: all %d repositories failed", p.Name, c[0]))
			}
		case p.State == state.HealthPartial || c[1] > 0:
			problems = append(problems, fmt.Sprintf("provider %s: %d of %d repositories failed", p.Name, c[1], c[0]))
		}
	}
	switch {
	case jiraDown || (len(s.Providers) > 0 && down == len(s.Providers)):
		return HealthFailing, problems
	case len(problems) > 0:
		return HealthDegraded, problems
	}
	return HealthOK, nil
}
