package state

import "time"

// HealthState is the outcome of a system's last pass.
type HealthState string

// Health states.
const (
	HealthUnknown HealthState = ""        // never ran
	HealthOK      HealthState = "ok"      // the last pass succeeded
	HealthFailed  HealthState = "failed"  // the last pass failed as a whole (nothing synced)
	HealthPartial HealthState = "partial" // the pass ran; some repositories failed
)

// JiraSystem is the Health.System of Jira itself.
const JiraSystem = "jira"

// Health is what the last pass of a system (a provider, or Jira) came to.
// It is kept in the state file so that every view (the status page, the
// API, `jiralinkd status` after a CLI sync, metrics) tells the same story.
type Health struct {
	System      string      `json:"system"` // provider name, or JiraSystem
	State       HealthState `json:"state"`
	LastPass    time.Time   `json:"last_pass,omitzero"`
	LastSuccess time.Time   `json:"last_success,omitzero"`
	// LastError, FailureKind and Hint describe the failure in plain words,
	// its class and the setting to fix; empty after a success.
	LastError   string `json:"last_error,omitempty"`
	FailureKind string `json:"failure_kind,omitempty"`
	Hint        string `json:"hint,omitempty"`
	// Blame is the system whose failure failed the pass (JiraSystem for a
	// provider's pass that Jira failed); empty after a success.
	Blame string `json:"blame,omitempty"`
	// Failures counts failed passes in a row.
	Failures    int `json:"failures,omitempty"`
	Repos       int `json:"repos,omitempty"`
	ReposFailed int `json:"repos_failed,omitempty"`
	// RateLimit is the last request budget the system reported.
	RateLimit *RateLimitSeen `json:"rate_limit,omitempty"`
	// LastChecked is when a pass last finished checking every repository
	// of the provider (its own failures aside): a repository whose last
	// sync succeeded and that the pass found unchanged is up to date as of
	// then, though the pass did not sync it.
	LastChecked time.Time `json:"last_checked,omitzero"`
	// LastSweep is when the last full sweep (a pass reading every
	// repository's lists) started; passes in between read only what the
	// provider reports as changed since the marks in Feeds.
	LastSweep time.Time `json:"last_sweep,omitzero"`
	// Feeds holds the marks of the change feeds ("pushed:<owner>": the
	// newest push seen; "pulls:<owner>": when the last pull request
	// activity read started), by the provider's or the pass's clock.
	Feeds map[string]time.Time `json:"feeds,omitempty"`
}

// RateLimitSeen is a request budget as of SeenAt.
type RateLimitSeen struct {
	Limit     int       `json:"limit"`
	Remaining int       `json:"remaining"`
	Reset     time.Time `json:"reset,omitzero"`
	SeenAt    time.Time `json:"seen_at"`
}

// Failure describes why a repo's pass failed.
type Failure struct {
	// System is what failed: JiraSystem or the provider's name.
	System string
	Err    string // plain words
	Kind   string // class (token_rejected, unreachable, ...)
	Hint   string // the setting to fix, if known
	At     time.Time
}

// MarkFailed records a failed pass on the repo state.
func (st *RepoState) MarkFailed(f Failure) {
	st.Status, st.LastError, st.FailureKind, st.Hint = RepoFailed, f.Err, f.Kind, f.Hint
	st.LastSync = f.At
	st.Failures++
}

// MarkOK records a successful pass on the repo state.
func (st *RepoState) MarkOK(at time.Time) {
	st.Status, st.LastError, st.FailureKind, st.Hint = RepoOK, "", "", ""
	st.LastSync, st.LastSuccess = at, at
	st.Failures = 0
}
