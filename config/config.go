// Package config loads and validates jiralinkd's configuration file.
//
// The configuration is one YAML file (see config.example.yaml at the
// repository root). Load and Parse read it with viper, which supplies
// defaults and JIRALINKD_* environment overrides, check the document key by
// key, resolve secrets and validate every value. All problems are reported
// at once as *Error, each named by its YAML path, e.g.
//
//	providers[1].schedule: invalid cron expression "*/5 * *": expected exactly 5 fields, found 3
//	jira.url: required
//
// A Config returned without error is complete: defaults are filled in, URLs
// are normalised and secrets are resolved, so consumers need no further
// checks. Warnings lists risky but valid settings.
package config

import (
	"path"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
)

// Config is a validated configuration.
type Config struct {
	Path      string // the file the configuration was loaded from
	State     State
	HTTP      HTTP
	Log       Log
	Jira      Jira
	Providers []Provider // in file order: Providers[i] is providers[i]
}

// State backends, the values of State.Backend.
const (
	BackendBolt     = "bbolt"    // one embedded file: a single node
	BackendPostgres = "postgres" // a shared PostgreSQL database: replicas
)

// State configures where jiralinkd keeps its state.
type State struct {
	// Backend is BackendBolt (default) or BackendPostgres.
	Backend string
	// Path is the bbolt file, relative to the working directory; unused
	// with BackendPostgres.
	Path string
	// Postgres is set with BackendPostgres.
	Postgres StatePostgres
}

// StatePostgres configures the PostgreSQL backend.
type StatePostgres struct {
	// DSN is the connection string (a URL or key=value pairs) of a
	// dedicated non-superuser role owning the jiralinkd database. It may
	// hold a password: a Secret, never logged.
	DSN Secret
}

// HTTP configures the HTTP server.
type HTTP struct {
	Listen string // host:port with a numeric port
	// AdminToken protects the status page, the admin API and /metrics.
	// Unset, those routes are disabled (answer 404); /healthz, /readyz and
	// webhooks never need it.
	AdminToken Secret
}

// Log configures logging.
type Log struct {
	Level  string // debug, info, warn or error
	Format string // text or json
}

// Jira configures the Jira Data Center server links are written to.
type Jira struct {
	// URL is the absolute http(s) base URL, possibly with a context path
	// (https://example.com/jira), without a trailing slash.
	URL string
	// Token is a personal access token, sent as a Bearer token. Exactly one
	// of Token and Username+Password is set.
	Token    Secret
	Username string
	Password Secret
	// Projects optionally restricts linking to these project keys; empty
	// means every project.
	Projects []string
	// KeyPattern is the unanchored regular expression of a project key
	// (Jira's jira.projectkey.pattern). It compiles, cannot match the empty
	// string and contains no anchors; it may contain groups.
	KeyPattern string
	// BranchKeysCaseInsensitive makes issue keys in branch names match
	// regardless of case (feature/abc-123).
	BranchKeysCaseInsensitive bool
	Timeout                   time.Duration // per request, positive
	CAFile                    string        // PEM bundle to trust; "" means the system pool
	// Deployment is auto, datacenter or cloud (see jiraclient.ParseDeployment):
	// auto means Jira Cloud for *.atlassian.net, else asked from serverInfo.
	Deployment string
	// SecretScan is nil unless jira.secret_scan.enabled: then issues of
	// its projects are scanned for leaked credentials.
	SecretScan *SecretScan
	// StatusIconsURL is the base URL (no trailing slash) of the status
	// icons of build and deployment links, ci-<state>.png; "" means none.
	StatusIconsURL string
	// MaxConcurrency is the ceiling, 1..64, of concurrent Jira calls: the
	// adaptive limit climbs to it while Jira keeps up (and stays below
	// what its rate-limit headers allow).
	MaxConcurrency int
}

// Provider configures one Git server to index.
type Provider struct {
	Name string // unique, ^[a-z0-9][a-z0-9_-]{0,62}$; names the provider in state and metrics
	Type providers.Type
	// URL is the absolute http(s) API base URL, ending with "/".
	URL string
	// Token is set unless App is: exactly one of them authenticates.
	Token    Secret
	Schedule string // robfig/cron/v3 standard spec or descriptor
	// Orgs and Repos (GitHub) or Groups and Projects (GitLab) select the
	// repositories; at least one is non-empty and the other type's are
	// empty. Repos are owner/name, Projects full paths (group/sub/name).
	Orgs, Repos, Groups, Projects []string
	IncludeSubgroups              bool // GitLab: index subgroups of Groups
	// Include and Exclude are path.Match globs on owner/name; see Matches.
	Include, Exclude []string
	IncludeArchived  bool
	CAFile           string        // PEM bundle to trust; "" means the system pool
	Timeout          time.Duration // per request, positive
	MaxConcurrency   int           // concurrent requests, 1..64
	// PruneUnreachable removes the links of commits no longer reachable
	// from any branch or tag after a force-push (default true).
	PruneUnreachable bool
	// SmartCommits is nil unless smart_commits.enabled: then Jira
	// smart-commit commands (#comment, #time, #<transition>) of new commits
	// on the branches matching SmartCommits.Branches are run.
	SmartCommits *SmartCommits
	// ReconcileSchedule is the cron schedule of reconciliation passes,
	// which re-read every list without ETags (default "@weekly"; "off"
	// disables them).
	ReconcileSchedule string
	// PruneRemovedRepos removes the links of repos that are no longer
	// configured (default false: they keep their links). Deleted repos
	// always lose theirs.
	PruneRemovedRepos bool
	// Webhook is nil unless the provider's webhook section is present;
	// then deliveries to POST /webhooks/{name} are verified with it.
	Webhook *Webhook
	// App is nil unless the (GitHub) provider authenticates as a GitHub
	// App; then Token is unset, and Orgs and Repos may both be empty
	// (everything the installations can see is indexed).
	App *GitHubApp
	// Routes restrict which Jira projects repos may link to (see Route);
	// RoutesDefaultDeny makes a repo that matches no route link nowhere.
	Routes            []Route
	RoutesDefaultDeny bool
	// LinkAuthor is what links say about a commit's author: "" or "name"
	// (the default: the author's name), "login" (the account login, when
	// the provider knows it) or "none".
	LinkAuthor string
	// RotateBefore, when positive (GitLab only, with a token file), makes
	// the daemon rotate the token through GitLab's self-rotation API once
	// it expires within this window, writing the new token to the token
	// file before using it. Zero: off (the default).
	RotateBefore time.Duration
	// Builds links CI runs (GitHub Actions workflow runs, GitLab
	// pipelines) to the issues they build (default false).
	Builds bool
	// Deployments is nil unless deployments.enabled: then deployments to
	// the matching environments are linked to the issues they contain.
	Deployments *Deployments
	// BuildsSince bounds how far back runs and deployments are read
	// (default 90 days).
	BuildsSince time.Duration
	// BackfillBudgetShare is the share of the provider's rate budget that
	// backfills of newly added repositories may spend (0 < share <= 1,
	// default 0.7); the rest stays for scheduled passes and webhooks of
	// indexed repositories, so fresh work is never starved.
	BackfillBudgetShare float64
	// FullSweepInterval is how often a pass reads every repository's
	// lists (conditionally) instead of only those the provider reports
	// as changed (default 1h; 0: every pass is a full sweep).
	FullSweepInterval time.Duration
}

// Deployments configures deployment links for one provider.
type Deployments struct {
	// Environments are path.Match globs on environment names; empty means
	// every environment.
	Environments []string
}

// Matches reports whether deployments to env are linked.
func (d *Deployments) Matches(env string) bool {
	if len(d.Environments) == 0 {
		return true
	}
	for _, g := range d.Environments {
		if ok, _ := path.Match(g, env); ok {
			return true
		}
	}
	return false
}

// GitHubApp is a GitHub App identity (providers[].app).
type GitHubApp struct {
	AppID int64 // positive
	// InstallationID selects one installation; 0 means every installation
	// of the App (GET /app/installations).
	InstallationID int64
	// PrivateKey is the App's private key, a PEM-encoded RSA key; it was
	// checked to parse at load time.
	PrivateKey Secret
}

// SmartCommits configures smart commits for one provider.
type SmartCommits struct {
	Branches []string // path.Match globs on branch names; required
}

// Matches reports whether commands of commits on branch are run.
func (s *SmartCommits) Matches(branch string) bool {
	for _, g := range s.Branches {
		if ok, _ := path.Match(g, branch); ok {
			return true
		}
	}
	return false
}

// Webhook holds the secrets that verify a provider's webhook deliveries.
// GitHub: Secret (X-Hub-Signature-256 HMAC key), required. GitLab: Secret
// (compared with X-Gitlab-Token) and/or SigningToken (the newer
// webhook-signature HMAC, Standard Webhooks style); at least one.
type Webhook struct {
	Secret       Secret
	SigningToken Secret
}

// Matches reports whether the repository fullName (owner/name, or a GitLab
// full path) passes the provider's filters: it matches some Include glob
// (any name does when Include is empty) and no Exclude glob. Matching is
// case-insensitive, like GitHub and GitLab names. Globs follow path.Match,
// so "*" does not cross "/": "acme/*" matches acme/api but not
// acme/sub/api.
func (p Provider) Matches(fullName string) bool {
	name := strings.ToLower(fullName)
	if len(p.Include) > 0 && !matchAny(p.Include, name) {
		return false
	}
	return !matchAny(p.Exclude, name)
}

// matchAny reports whether the lower-cased name matches any of patterns.
// Patterns were validated at load time; a malformed one matches nothing.
func matchAny(patterns []string, name string) bool {
	for _, pat := range patterns {
		if ok, err := path.Match(strings.ToLower(pat), name); err == nil && ok {
			return true
		}
	}
	return false
}
