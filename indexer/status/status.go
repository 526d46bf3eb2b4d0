// Package status assembles what an administrator sees: every provider with
// its schedule, rate-limit budget and pause, every repo with its sync state,
// and the webhook queue. The status page, the admin API, `jiralinkd status`
// and the Prometheus gauges all read the same Snapshot.
package status

import (
	"sort"
	"sync"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// Snapshot is the state of the daemon at one moment.
type Snapshot struct {
	Time       time.Time  `json:"time"`
	Version    string     `json:"version"`
	Providers  []Provider `json:"providers"`
	Repos      []Repo     `json:"repos"`
	QueueDepth int        `json:"webhook_queue_depth"`
	// SmartCommitsFailed counts smart-commit commands that failed for
	// good (explain ISSUE tells which and why).
	SmartCommitsFailed int `json:"smart_commits_failed"`
}

// Provider is one configured provider at runtime.
type Provider struct {
	Name     string `json:"name"`
	Type     string `json:"type"`
	Schedule string `json:"schedule"`
	// NextRun is the next scheduled pass (zero outside serve).
	NextRun time.Time `json:"next_run,omitzero"`
	// Running is true while a pass of this provider runs.
	Running  bool      `json:"running"`
	LastPass time.Time `json:"last_pass,omitzero"`
	// RateLimit is the latest budget the provider reported.
	RateLimit RateLimit `json:"rate_limit"`
	// PausedUntil is set while requests wait for a rate-limit reset.
	PausedUntil time.Time `json:"paused_until,omitzero"`
	Webhook     bool      `json:"webhook"`
}

// RateLimit is a provider's request budget.
type RateLimit struct {
	Known     bool      `json:"known"`
	Limit     int       `json:"limit"`
	Remaining int       `json:"remaining"`
	Reset     time.Time `json:"reset,omitzero"`
}

// Repo is one repository's sync state.
type Repo struct {
	Provider    string           `json:"provider"`
	ID          int64            `json:"id"`
	FullName    string           `json:"full_name"`
	URL         string           `json:"url"`
	State       state.RepoStatus `json:"state"`
	Syncing     bool             `json:"syncing"`
	LastSync    time.Time        `json:"last_sync,omitzero"`
	LastSuccess time.Time        `json:"last_success,omitzero"`
	LastError   string           `json:"last_error,omitempty"`
	Branches    int              `json:"branches"`
	Commits     int              `json:"commits_indexed"`
	Links       int              `json:"links_written"`
}

// ProviderInfo supplies a provider's live figures.
type ProviderInfo struct {
	Name, Type, Schedule string
	Webhook              bool
	RateLimit            func() httpx.RateLimit // nil if unknown
	NextRun              func() time.Time       // nil outside serve
}

// Tracker collects runtime facts the state file does not hold (running
// passes, rate-limit pauses) and builds snapshots. Safe for concurrent use.
type Tracker struct {
	store     *state.Store
	version   string
	providers []ProviderInfo
	now       func() time.Time

	// SmartCommitFailures, if set, counts failed smart-commit commands.
	SmartCommitFailures func() (int, error)

	mu       sync.Mutex
	running  map[string]bool
	lastPass map[string]time.Time
	paused   map[string]time.Time
	syncing  map[state.RepoKey]bool
}

// NewTracker creates a tracker over the store.
func NewTracker(store *state.Store, version string, ps []ProviderInfo) *Tracker {
	return &Tracker{
		store: store, version: version, providers: ps, now: time.Now,
		running: map[string]bool{}, lastPass: map[string]time.Time{},
		paused: map[string]time.Time{}, syncing: map[state.RepoKey]bool{},
	}
}

// PassStarted and PassDone bracket a provider's pass.
func (t *Tracker) PassStarted(provider string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.running[provider] = true
}

// PassDone records the end of a provider's pass.
func (t *Tracker) PassDone(provider string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.running[provider] = false
	t.lastPass[provider] = t.now()
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
	if s.QueueDepth, err = t.store.QueueDepth(); err != nil {
		return s, err
	}
	if t.SmartCommitFailures != nil {
		if s.SmartCommitsFailed, err = t.SmartCommitFailures(); err != nil {
			return s, err
		}
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	for _, p := range t.providers {
		sp := Provider{Name: p.Name, Type: p.Type, Schedule: p.Schedule, Webhook: p.Webhook,
			Running: t.running[p.Name], LastPass: t.lastPass[p.Name]}
		if p.NextRun != nil {
			sp.NextRun = p.NextRun()
		}
		if p.RateLimit != nil {
			rl := p.RateLimit()
			sp.RateLimit = RateLimit{Known: rl.Known, Limit: rl.Limit, Remaining: rl.Remaining, Reset: rl.Reset}
		}
		if until := t.paused[p.Name]; until.After(now) {
			sp.PausedUntil = until
		}
		s.Providers = append(s.Providers, sp)
	}
	for _, r := range repos {
		s.Repos = append(s.Repos, Repo{
			Provider: r.Key.Provider, ID: r.Key.ID, FullName: r.Repo.FullName, URL: r.Repo.HTMLURL,
			State: r.Status, Syncing: t.syncing[r.Key], LastSync: r.LastSync, LastSuccess: r.LastSuccess,
			LastError: r.LastError, Branches: len(r.Branches), Commits: r.Commits, Links: r.Links,
		})
	}
	sort.SliceStable(s.Repos, func(i, j int) bool {
		if s.Repos[i].Provider != s.Repos[j].Provider {
			return s.Repos[i].Provider < s.Repos[j].Provider
		}
		return s.Repos[i].FullName < s.Repos[j].FullName
	})
	return s, nil
}
