package metrics

import (
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/jiralinkd/jiralinkd/indexer/status"
)

// TestTokenExpiryAndInstallationMetrics: token expiries per system and
// provider, and each GitHub App installation's budget; the provider's own
// rate-limit series are unchanged.
func TestTokenExpiryAndInstallationMetrics(t *testing.T) {
	exp := time.Unix(1800000000, 0)
	snap := func() (status.Snapshot, error) {
		s := status.Snapshot{
			Jira: status.System{Token: status.NewTokenExpiry(exp.Add(time.Hour), time.Now(), "jira.token_env (JIRA_TOKEN)")},
			Providers: []status.Provider{
				{Name: "gh", Type: "github", System: status.System{Token: status.NewTokenExpiry(exp, time.Now(), "")},
					RateLimit: status.RateLimit{Known: true, Limit: 5000, Remaining: 4000}},
				{Name: "app", Type: "github", RateLimit: status.RateLimit{Known: true, Limit: 5000, Remaining: 100},
					Installations: []status.InstallationBudget{
						{ID: 11, RateLimit: status.RateLimit{Known: true, Limit: 5000, Remaining: 100}},
						{ID: 12, RateLimit: status.RateLimit{Known: true, Limit: 12500, Remaining: 9000}},
						{ID: 13}, // not used yet: no series
					}},
			},
		}
		return s, nil
	}
	reg := prometheus.NewPedanticRegistry()
	New(reg, snap)
	want := `
# HELP jiralinkd_token_expiry_timestamp_seconds When the token of the system (github, gitlab or jira) of the provider (jira for Jira) expires (Unix time); absent when unknown or never.
# TYPE jiralinkd_token_expiry_timestamp_seconds gauge
jiralinkd_token_expiry_timestamp_seconds{provider="gh",system="github"} 1.8e+09
jiralinkd_token_expiry_timestamp_seconds{provider="jira",system="jira"} 1.8000036e+09
# HELP jiralinkd_installation_rate_limit_remaining Requests left in the current rate-limit window of a GitHub App installation.
# TYPE jiralinkd_installation_rate_limit_remaining gauge
jiralinkd_installation_rate_limit_remaining{installation="11",provider="app"} 100
jiralinkd_installation_rate_limit_remaining{installation="12",provider="app"} 9000
# HELP jiralinkd_rate_limit_remaining Requests left in the provider's current rate-limit window.
# TYPE jiralinkd_rate_limit_remaining gauge
jiralinkd_rate_limit_remaining{provider="app"} 100
jiralinkd_rate_limit_remaining{provider="gh"} 4000
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want),
		"jiralinkd_token_expiry_timestamp_seconds", "jiralinkd_installation_rate_limit_remaining", "jiralinkd_rate_limit_remaining"); err != nil {
		t.Error(err)
	}
}
