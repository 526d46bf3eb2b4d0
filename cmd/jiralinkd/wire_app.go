package main

import (
	"fmt"
	"net/http"

	"github.com/jiralinkd/jiralinkd/config"
	"github.com/jiralinkd/jiralinkd/indexer/status"
	"github.com/jiralinkd/jiralinkd/providers/github"
)

// newGitHubApp builds the client of a provider that authenticates as a
// GitHub App and registers it in d.apps. It contacts nothing.
func (d *deps) newGitHubApp(p config.Provider, hc *http.Client, key *config.SecretSource) (*github.App, error) {
	a, err := github.NewApp(github.AppOptions{
		Name:             p.Name,
		BaseURL:          p.URL,
		AppID:            p.App.AppID,
		InstallationID:   p.App.InstallationID,
		PrivateKey:       []byte(p.App.PrivateKey.Reveal()),
		PrivateKeySource: key.Value,
		HTTPClient:       hc,
		Retry:            d.providerRetry(p),
		Logger:           d.log,
	})
	if err != nil {
		return nil, fmt.Errorf("provider %s: %w", p.Name, err)
	}
	d.apps[p.Name] = a
	return a, nil
}

// appOwners is what an App provider's discovery lists: its orgs, or,
// with neither orgs nor repos configured, every repository its
// installations can see (github.AllInstallations). include and exclude
// narrow either.
func appOwners(p config.Provider) []string {
	if len(p.Orgs) == 0 && len(p.Repos) == 0 {
		return []string{github.AllInstallations}
	}
	return p.Orgs
}

// installationBudgets are the App's per-installation budgets for the
// status snapshot.
func installationBudgets(a *github.App) []status.InstallationBudget {
	var out []status.InstallationBudget
	for _, in := range a.RateLimits() {
		out = append(out, status.InstallationBudget{ID: in.InstallationID, RateLimit: status.RateLimit{
			Known: in.Known, Limit: in.Limit, Remaining: in.Remaining, Reset: in.Reset}})
	}
	return out
}
