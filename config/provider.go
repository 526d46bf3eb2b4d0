package config

import (
	"fmt"
	"path"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"github.com/jiralinkd/jiralinkd/providers"
)

// providerNameRE is what a provider name must look like: it is used in
// state keys, metric labels and log lines.
var providerNameRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,62}$`)

// Defaults of a large installation's pass planning (see Provider).
const (
	DefaultBackfillBudgetShare = 0.7
	DefaultFullSweepInterval   = time.Hour
)

// MaxConcurrencyLimit is the largest accepted providers[].max_concurrency.
const MaxConcurrencyLimit = 64

func buildProviders(raws []rawProvider, env func(string) string, readFile func(string) ([]byte, error), c *collector) []Provider {
	out := make([]Provider, 0, len(raws))
	names := make(map[string]int) // name -> index of first use
	for i := range raws {
		pp := fmt.Sprintf("providers[%d]", i)
		p := buildProvider(pp, &raws[i], env, readFile, c)
		if p.Name != "" {
			if first, dup := names[p.Name]; dup {
				c.check(pp+".name", fmt.Sprintf("duplicate name %q (also used by providers[%d])", p.Name, first))
			} else {
				names[p.Name] = i
			}
		}
		out = append(out, p)
	}
	return out
}

func buildProvider(pp string, raw *rawProvider, env func(string) string, readFile func(string) ([]byte, error), c *collector) Provider {
	p := Provider{
		Name:              raw.Name,
		Type:              providers.Type(raw.Type),
		Schedule:          raw.Schedule,
		Orgs:              raw.Orgs,
		Repos:             raw.Repos,
		Groups:            raw.Groups,
		Projects:          raw.Projects,
		IncludeSubgroups:  defaultIncludeSubgroups,
		Include:           raw.Include,
		Exclude:           raw.Exclude,
		IncludeArchived:   raw.IncludeArchived,
		CAFile:            raw.CAFile,
		Timeout:           DefaultTimeout,
		MaxConcurrency:    DefaultMaxConcurrency,
		PruneUnreachable:  true,
		PruneRemovedRepos: raw.PruneRemoved,
	}
	if raw.PruneUnreachable != nil {
		p.PruneUnreachable = *raw.PruneUnreachable
	}
	if raw.IncludeSubgroups != nil {
		p.IncludeSubgroups = *raw.IncludeSubgroups
	}
	if raw.Timeout != nil {
		p.Timeout = *raw.Timeout
	}
	if raw.MaxConcurrency != nil {
		p.MaxConcurrency = *raw.MaxConcurrency
	}
	p.BackfillBudgetShare = DefaultBackfillBudgetShare
	if raw.BackfillShare != nil {
		p.BackfillBudgetShare = *raw.BackfillShare
	}
	p.FullSweepInterval = DefaultFullSweepInterval
	if raw.FullSweep != nil {
		p.FullSweepInterval = *raw.FullSweep
	}
	if p.Schedule == "" {
		p.Schedule = DefaultSchedule
	}
	p.ReconcileSchedule = raw.Reconcile
	if p.ReconcileSchedule == "" {
		p.ReconcileSchedule = DefaultReconcileSchedule
	}

	switch {
	case p.Name == "":
		c.check(pp+".name", "required")
	case !providerNameRE.MatchString(p.Name):
		c.check(pp+".name", fmt.Sprintf("invalid name %q: must match %s (lowercase letters, digits, - and _)", p.Name, providerNameRE))
	}

	defaultURL := ""
	switch p.Type {
	case providers.TypeGitHub:
		defaultURL = DefaultGitHubURL
		checkGitHubTargets(pp, raw, raw.App != nil, c)
	case providers.TypeGitLab:
		defaultURL = DefaultGitLabURL
		checkGitLabTargets(pp, raw, c)
	case "":
		c.check(pp+".type", fmt.Sprintf("required (%s or %s)", providers.TypeGitHub, providers.TypeGitLab))
	default:
		c.check(pp+".type", fmt.Sprintf("must be %s or %s, got %q", providers.TypeGitHub, providers.TypeGitLab, p.Type))
	}

	switch {
	case raw.URL != "":
		if u, ok := checkURL(pp+".url", raw.URL, c); ok {
			if !strings.HasSuffix(u.Path, "/") {
				u.Path += "/"
				u.RawPath = ""
			}
			p.URL = u.String()
		}
	default:
		p.URL = defaultURL
	}

	var tokenSet bool
	p.Token, tokenSet = resolveSecret(pp, secretKeys{"token_env", "token_file", "token"},
		raw.TokenEnv, raw.TokenFile, raw.Token, env, readFile, c)
	switch {
	case raw.App != nil:
		p.App = buildApp(pp, p.Type, raw.App, tokenSet, env, readFile, c)
	case !tokenSet:
		c.check(pp, "token required: set token_env, token_file or token")
	}

	if raw.SmartCommits != nil && raw.SmartCommits.Enabled {
		p.SmartCommits = &SmartCommits{Branches: raw.SmartCommits.Branches}
		if len(raw.SmartCommits.Branches) == 0 {
			c.check(pp+".smart_commits.branches", "required when smart commits are enabled: the branches whose commits run commands, e.g. [main]")
		}
		checkGlobs(pp+".smart_commits.branches", raw.SmartCommits.Branches, c)
	}
	if raw.RotateBefore != "" {
		p.RotateBefore = checkRotateBefore(pp+".rotate_before", p, raw.RotateBefore, c)
	}
	p.Builds = raw.Builds
	if raw.Deployments != nil && raw.Deployments.Enabled {
		p.Deployments = &Deployments{Environments: raw.Deployments.Environments}
		checkGlobs(pp+".deployments.environments", raw.Deployments.Environments, c)
	}
	p.BuildsSince = 90 * 24 * time.Hour
	if raw.BuildsSince != nil {
		p.BuildsSince = *raw.BuildsSince
		if p.BuildsSince <= 0 {
			c.check(pp+".builds_since", "must be positive, e.g. 2160h (90 days)")
		}
	}
	if raw.Webhook != nil {
		p.Webhook = resolveWebhook(pp+".webhook", p.Type, raw.Webhook, env, readFile, c)
	}

	if msg := checkSchedule(p.Schedule); msg != "" {
		c.check(pp+".schedule", msg)
	}
	if p.ReconcileSchedule != "off" {
		if msg := checkSchedule(p.ReconcileSchedule); msg != "" {
			c.check(pp+".reconcile_schedule", msg+` (or "off")`)
		}
	}
	checkGlobs(pp+".include", p.Include, c)
	checkGlobs(pp+".exclude", p.Exclude, c)
	checkCAFile(pp+".ca_file", p.CAFile, readFile, c)
	checkTimeout(pp+".timeout", p.Timeout, c)
	if p.MaxConcurrency < 1 || p.MaxConcurrency > MaxConcurrencyLimit {
		c.check(pp+".max_concurrency", fmt.Sprintf("must be between 1 and %d, got %d", MaxConcurrencyLimit, p.MaxConcurrency))
	}
	if s := p.BackfillBudgetShare; !(s > 0 && s <= 1) {
		c.check(pp+".backfill_budget_share", fmt.Sprintf("must be greater than 0 and at most 1, got %g", s))
	}
	if p.FullSweepInterval < 0 {
		c.check(pp+".full_sweep_interval", fmt.Sprintf("must not be negative, got %s", p.FullSweepInterval))
	}
	buildRouting(pp, raw, &p, c) // routes.go
	return p
}

// checkGitHubTargets checks the repository selection of a GitHub provider.
// A GitHub App provider may select nothing: it then indexes every
// repository its installations can see.
func checkGitHubTargets(pp string, raw *rawProvider, app bool, c *collector) {
	for _, k := range []struct {
		key string
		set bool
	}{
		{"groups", len(raw.Groups) > 0},
		{"projects", len(raw.Projects) > 0},
		{"include_subgroups", raw.IncludeSubgroups != nil},
	} {
		if k.set {
			c.check(pp+"."+k.key, "only for gitlab providers (github providers use orgs and repos)")
		}
	}
	if len(raw.Orgs) == 0 && len(raw.Repos) == 0 && !app {
		c.check(pp, "nothing to index: set orgs or repos")
	}
	checkNames(pp+".orgs", raw.Orgs, 1, 1, "an organisation or user name such as acme (use repos for a single repository)", c)
	checkNames(pp+".repos", raw.Repos, 2, 2, "owner/name", c)
}

// checkGitLabTargets checks the repository selection of a GitLab provider.
func checkGitLabTargets(pp string, raw *rawProvider, c *collector) {
	for _, k := range []struct {
		key string
		set bool
	}{
		{"orgs", len(raw.Orgs) > 0},
		{"repos", len(raw.Repos) > 0},
	} {
		if k.set {
			c.check(pp+"."+k.key, "only for github providers (gitlab providers use groups and projects)")
		}
	}
	if len(raw.Groups) == 0 && len(raw.Projects) == 0 {
		c.check(pp, "nothing to index: set groups or projects")
	}
	checkNames(pp+".groups", raw.Groups, 1, 0, "a group path such as platform or platform/backend", c)
	checkNames(pp+".projects", raw.Projects, 2, 0, "a full project path such as group/name or group/subgroup/name", c)
}

// checkNames checks a list of slash-separated names with between minParts
// and maxParts (0: unlimited) non-empty segments, reporting duplicates
// (case-insensitively, as GitHub and GitLab compare names).
func checkNames(p string, names []string, minParts, maxParts int, want string, c *collector) {
	seen := make(map[string]bool)
	for i, name := range names {
		ip := fmt.Sprintf("%s[%d]", p, i)
		parts := strings.Split(name, "/")
		ok := len(parts) >= minParts && (maxParts == 0 || len(parts) <= maxParts) &&
			!strings.ContainsAny(name, " \t\r\n")
		for _, part := range parts {
			ok = ok && part != ""
		}
		key := strings.ToLower(name)
		switch {
		case name == "":
			c.check(ip, "must not be empty")
		case !ok:
			c.check(ip, fmt.Sprintf("must be %s, got %q", want, name))
		case seen[key]:
			c.check(ip, fmt.Sprintf("duplicate %q", name))
		}
		seen[key] = true
	}
}

// checkSchedule returns why spec is not a valid robfig/cron/v3 standard
// spec (5 fields, or a descriptor like @hourly or @every 2m), or "".
func checkSchedule(spec string) string {
	fields := strings.Fields(spec)
	if len(fields) > 0 && (strings.HasPrefix(fields[0], "TZ=") || strings.HasPrefix(fields[0], "CRON_TZ=")) {
		fields = fields[1:]
	}
	// Count fields here: the parser's own message appends the fields.
	if len(fields) > 0 && !strings.HasPrefix(fields[0], "@") && len(fields) != 5 {
		return fmt.Sprintf("invalid cron expression %q: expected exactly 5 fields, found %d", spec, len(fields))
	}
	if _, err := cron.ParseStandard(spec); err != nil {
		return fmt.Sprintf("invalid cron expression %q: %v", spec, err)
	}
	return ""
}

// checkGlobs checks include/exclude patterns.
func checkGlobs(p string, patterns []string, c *collector) {
	for i, pat := range patterns {
		ip := fmt.Sprintf("%s[%d]", p, i)
		if pat == "" {
			c.check(ip, "must not be empty")
			continue
		}
		if _, err := path.Match(pat, ""); err != nil {
			c.check(ip, fmt.Sprintf("invalid glob pattern %q: %v", pat, err))
		}
	}
}

// resolveWebhook resolves a provider's webhook secrets. A webhook section
// without a secret is an error: an unverified webhook endpoint would let
// anyone trigger syncs.
func resolveWebhook(wp string, typ providers.Type, raw *rawWebhook, env func(string) string, readFile func(string) ([]byte, error), c *collector) *Webhook {
	w := &Webhook{}
	var secretSet, signingSet bool
	w.Secret, secretSet = resolveSecret(wp, secretKeys{"secret_env", "secret_file", "secret"},
		raw.SecretEnv, raw.SecretFile, raw.Secret, env, readFile, c)
	w.SigningToken, signingSet = resolveSecret(wp, secretKeys{"signing_token_env", "signing_token_file", "signing_token"},
		raw.SigningTokenEnv, raw.SigningTokenFile, raw.SigningToken, env, readFile, c)
	switch {
	case typ == providers.TypeGitHub && signingSet:
		c.check(wp, "signing_token is only for gitlab providers (GitHub signs with the secret)")
	case typ == providers.TypeGitHub && !secretSet:
		c.check(wp, "secret required: set secret_env, secret_file or secret (the webhook's secret in GitHub)")
	case typ == providers.TypeGitLab && !secretSet && !signingSet:
		c.check(wp, "secret or signing token required: set secret_env/secret_file/secret (the webhook's secret token) or signing_token_env/signing_token_file/signing_token")
	}
	return w
}

// checkRotateBefore parses rotate_before ("7d", "36h") of the provider p
// and checks that self-rotation can work: GitLab, with a token file to
// write the new token to.
func checkRotateBefore(path string, p Provider, v string, c *collector) time.Duration {
	d, err := parseDays(v)
	if err != nil {
		c.check(path, err.Error())
		return 0
	}
	switch {
	case d <= 0:
		c.check(path, fmt.Sprintf("must be positive, got %q", v))
	case p.Type != providers.TypeGitLab:
		c.check(path, "only GitLab tokens can rotate themselves: remove rotate_before")
	case p.Token.Source != SourceFile:
		c.check(path, "needs token_file: the rotated token is written to it before use (token_env and token cannot be updated)")
	default:
		return d
	}
	return 0
}

// parseDays parses a duration that may also be given in whole days
// ("7d").
func parseDays(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil {
			return 0, fmt.Errorf(`invalid duration %q: use days such as "7d" or a duration such as "36h"`, s)
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf(`invalid duration %q: use days such as "7d" or a duration such as "36h"`, s)
	}
	return d, nil
}
