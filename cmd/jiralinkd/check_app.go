package main

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/config"
	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/github"
)

// checkProviderOrApp runs a provider's connection checks: the GitHub App
// checks for a provider with an app section, the token checks otherwise.
func checkProviderOrApp(ctx context.Context, c *checker, d *deps, i int, p config.Provider) (reachable bool) {
	if p.App == nil {
		return checkProvider(ctx, c, d, i, p)
	}
	checkGitHubApp(ctx, c, d, p)
	return true
}

// The App's JWT, as ghinstallation signs it, is issued 30 s before the
// local time and expires 90 s after it; GitHub refuses a JWT issued in its
// future or already expired. So the local clock may run at most 30 s ahead
// of GitHub's and at most 90 s behind it.
const (
	jwtBackdate  = 30 * time.Second
	jwtExpiresIn = 90 * time.Second
)

// appPermissions are the repository permissions the App needs, with what
// each is for.
var appPermissions = []struct{ name, title, use string }{
	{"metadata", "Metadata", "repositories, branches and tags"},
	{"contents", "Contents", "the commit list"},
	{"pull_requests", "Pull requests", "pull requests"},
}

// checkGitHubApp checks a GitHub App provider: the clock (JWTs are
// time-bound), the App itself with its JWT (GET /app: a 401 means the key
// is not the App's), every installation (account, repository selection,
// suspension, a token can be created, permissions), the configured orgs
// and repos, and each installation's rate-limit budget.
func checkGitHubApp(ctx context.Context, c *checker, d *deps, p config.Provider) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	a := d.apps[p.Name]
	key := providerKey(d.cfg, p.Name)
	name := p.Name
	keySetting := p.App.PrivateKey.Setting(key + ".app.private_key")

	skew, skewKnown := time.Duration(0), false
	if t, err := serverDate(ctx, p); err == nil {
		skew, skewKnown = time.Now().Truncate(time.Second).Sub(t.Truncate(time.Second)), true
		checkAppClock(c, name+" app clock", skew)
	}

	info, err := a.Info(ctx)
	switch {
	case errors.Is(err, github.ErrAppKeyRejected) && skewKnown && !jwtClockOK(skew):
		c.result(name+" app", fmt.Errorf("%w: the local clock is off (see %s app clock), so GitHub refuses the App's JWT: synchronise it with NTP",
			err, name), "")
		return
	case errors.Is(err, github.ErrAppKeyRejected):
		c.result(name+" app", fmt.Errorf("%w: the private key does not match the App: check that %s holds a private key of the App "+
			"whose ID is in %s.app.app_id (%d); generate a new key on the App's settings page (Private keys) if unsure",
			err, keySetting, key, p.App.AppID), "")
		return
	case err != nil:
		c.result(name+" app", fmt.Errorf("%w: check %s.url (%s), DNS, proxy and firewall", err, key, p.URL), "")
		return
	}
	c.result(name+" app", nil, fmt.Sprintf("%s (slug %s, ID %d, owned by %s): the private key matches", info.Name, info.Slug, info.ID, info.Owner))

	ins, err := a.Installations(ctx)
	switch {
	case errors.Is(err, github.ErrInstallationNotFound):
		c.result(name+" installations", fmt.Errorf("%w: the App has no installation %d: fix %s.app.installation_id, "+
			"or leave it out to use every installation", err, p.App.InstallationID, key), "")
		return
	case err != nil:
		c.result(name+" installations", err, "")
		return
	case len(ins) == 0:
		c.result(name+" installations", errors.New("the App is not installed anywhere: install it on your organisations "+
			"(the App's page → Install App → choose the account, all or selected repositories)"), "")
		return
	}
	c.result(name+" installations", nil, fmt.Sprintf("%d", len(ins)))
	for _, in := range ins {
		checkInstallation(ctx, c, a, name, in)
	}
	for _, org := range p.Orgs {
		c.result(name+" org "+org, a.Org(ctx, org), "visible to the App's installation on it")
	}
	for _, r := range p.Repos {
		_, err := a.Repo(ctx, r, providers.ListState{})
		c.result(name+" repo "+r, err, "visible")
	}
	for _, rl := range a.RateLimits() {
		rateLine(c, fmt.Sprintf("%s installation %d", name, rl.InstallationID), rl.RateLimit)
	}
}

// checkInstallation checks one installation: not suspended, a token can be
// created, and it has the permissions jiralinkd needs.
func checkInstallation(ctx context.Context, c *checker, a *github.App, name string, in github.Installation) {
	label := fmt.Sprintf("%s installation %d", name, in.ID)
	where := fmt.Sprintf("%s %s, repositories: %s", strings.ToLower(in.AccountType), in.Account, in.RepositorySelection)
	if in.Suspended {
		c.result(label, fmt.Errorf("%s: suspended: an owner of %s must unsuspend it (%s settings → GitHub Apps → Configure → Unsuspend); "+
			"its repositories are not indexed meanwhile", where, in.Account, in.Account), "")
		return
	}
	exp, err := a.CheckInstallation(ctx, in.ID)
	switch {
	case errors.Is(err, github.ErrInstallationSuspended):
		c.result(label, fmt.Errorf("%s: %w: an owner of %s must unsuspend it", where, err, in.Account), "")
		return
	case err != nil:
		c.result(label, fmt.Errorf("%s: %w", where, err), "")
		return
	}
	n, err := a.InstallationRepoCount(ctx, in.ID)
	if err != nil {
		c.result(label, fmt.Errorf("%s: list its repositories: %w", where, err), "")
		return
	}
	c.result(label, nil, fmt.Sprintf("%s (%d visible); access token valid until %s", where, n, exp.UTC().Format(time.RFC3339)))
	var missing, have []string
	for _, perm := range appPermissions {
		level := in.Permissions[perm.name]
		if level != "read" && level != "write" {
			missing = append(missing, fmt.Sprintf("%s: read (for %s)", perm.title, perm.use))
			continue
		}
		have = append(have, perm.name+": "+level)
	}
	if len(missing) > 0 {
		c.result(label+" permissions", fmt.Errorf("missing %s: add them under the App's settings → Permissions & events → "+
			"Repository permissions, then have an owner of %s accept the new permissions (Settings → GitHub Apps → Review request)",
			strings.Join(missing, ", "), in.Account), "")
		return
	}
	sort.Strings(have)
	c.result(label+" permissions", nil, strings.Join(have, ", "))
}

// jwtClockOK reports whether an App JWT signed with the local clock, skew
// ahead of GitHub's (negative: behind), is accepted.
func jwtClockOK(skew time.Duration) bool {
	return skew <= jwtBackdate && -skew < jwtExpiresIn
}

// checkAppClock fails when the local clock is so far off GitHub's that the
// App's JWTs are refused, and warns when it is within 10 s of that.
func checkAppClock(c *checker, name string, skew time.Duration) {
	off := skew.Abs().Round(time.Second)
	dir := "ahead of"
	if skew < 0 {
		dir = "behind"
	}
	msg := fmt.Sprintf("the local clock is %s %s GitHub's: App JWTs are accepted only within %s ahead and %s behind; "+
		"synchronise it with NTP (chrony, systemd-timesyncd)", off, dir, jwtBackdate, jwtExpiresIn)
	const margin = 10 * time.Second
	switch {
	case !jwtClockOK(skew):
		c.result(name, errors.New(msg), "")
	case !jwtClockOK(skew + margin), !jwtClockOK(skew - margin):
		c.warn(name, msg)
	default:
		c.result(name, nil, fmt.Sprintf("off by %s: within the JWT's window", off))
	}
}

// providerKey is the YAML path of the provider named name.
func providerKey(cfg *config.Config, name string) string {
	for i, p := range cfg.Providers {
		if p.Name == name {
			return fmt.Sprintf("providers[%d]", i)
		}
	}
	return "providers"
}

// appHint names the setting to fix for a failure of a GitHub App provider
// (key is its YAML path), or "" to use the token hints.
func appHint(p config.Provider, key string, kind indexer.FailureKind) string {
	if p.App == nil {
		return ""
	}
	switch kind {
	case indexer.FailureTokenRejected:
		return fmt.Sprintf("GitHub rejected the App's credentials: check that %s is a private key of the App %s.app.app_id (%d), "+
			"that the installation exists and that the clock is right (run jiralinkd check)",
			p.App.PrivateKey.Setting(key+".app.private_key"), key, p.App.AppID)
	case indexer.FailureForbidden:
		return "an installation of the App is suspended or lacks a permission (Metadata, Contents and Pull requests: read): " +
			"run jiralinkd check"
	case indexer.FailureNotFound:
		return fmt.Sprintf("a configured organisation or repository is gone or not covered by an installation of the App: "+
			"check %s.orgs/repos and where the App is installed", key)
	}
	return ""
}
