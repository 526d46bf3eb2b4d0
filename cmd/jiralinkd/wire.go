package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/config"
	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/keys"
	"github.com/jiralinkd/jiralinkd/indexer/metrics"
	"github.com/jiralinkd/jiralinkd/indexer/redact"
	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/indexer/status"
	"github.com/jiralinkd/jiralinkd/indexer/webhook"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/github"
	"github.com/jiralinkd/jiralinkd/providers/gitlab"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// deps is everything a command needs, built from the configuration in one
// place. Close releases what it opened.
type deps struct {
	cfg     *config.Config
	cfgPath string
	args    []string // the command's positional arguments
	log     *slog.Logger
	jira    *jiraclient.Client
	// jiraLimit bounds the Jira calls of every indexer built from these
	// deps (passes and webhook syncs alike).
	jiraLimit *indexer.JiraLimiter
	github    map[string]*github.Client // by provider name
	apps      map[string]*github.App    // GitHub App providers, by name (wire_app.go)
	gitlab    map[string]*gitlab.Client
	targets   []indexer.Target
	store     stateStore // nil until openStore
	hooks     clientHooks
	noRetry   bool   // one attempt per request, no retry log lines (check)
	cleanup   func() // removes what openStoreReadOnly created; nil if nothing

	// secrets are the live sources of every configured secret (secrets.go);
	// tokenSrc are the provider and Jira tokens among them, by system.
	secrets    []*config.SecretSource
	tokenSrc   map[string]*config.SecretSource
	webhookSrc map[string][2]*config.SecretSource // secret, signing token
	adminToken *config.SecretSource
	// tokens tracks token expiries (expiry.go); shared across reloads.
	tokens *tokenWatch
	// replica is this process's id in a shared state (leases, locks,
	// claims); set by holder on first use.
	replica string
}

// holder is this process's id in a shared state: host, pid and a random
// suffix (a restarted process is a new holder).
func (d *deps) holder() string {
	if d.replica == "" {
		d.replica = newReplicaID()
	}
	return d.replica
}

// depsOption adjusts how buildDeps builds the clients.
type depsOption func(*deps)

// withTokens makes the clients report token expiries to w (shared by the
// configurations serve reloads).
func withTokens(w *tokenWatch) depsOption { return func(d *deps) { d.tokens = w } }

// withoutRetries makes every client try each request once and log no
// retries: check reports each failure at once, in its own table.
func withoutRetries() depsOption { return func(d *deps) { d.noRetry = true } }

// clientHooks let serve observe every outbound request (metrics) and every
// rate-limit wait (status page). They are set before any request is made;
// the clients' retry transports reach them through late-binding closures.
type clientHooks struct {
	observe func(system string, req *http.Request, status int, err error)
	wait    func(system string, d time.Duration, rateLimited bool)
}

// retryOptions is the retry configuration of one system's client.
func (d *deps) retryOptions(system string) httpx.RetryOptions {
	if d.noRetry {
		return httpx.RetryOptions{Name: system, MaxAttempts: 1}
	}
	return httpx.RetryOptions{
		Name:   system,
		Pace:   true,
		Logger: d.log,
		Observe: func(req *http.Request, status int, err error) {
			if system == indexer.JiraSystem && d.jiraLimit != nil {
				d.jiraLimit.ObserveAttempt(req, status, err)
			}
			if h := d.hooks.observe; h != nil {
				h(system, req, status, err)
			}
		},
		OnWait: func(wait time.Duration, rateLimited bool) {
			if h := d.hooks.wait; h != nil {
				h(system, wait, rateLimited)
			}
		},
	}
}

// providerRetry is the retry configuration of provider p's client: its
// backfills may spend only their share of each rate window.
func (d *deps) providerRetry(p config.Provider) httpx.RetryOptions {
	o := d.retryOptions(p.Name)
	o.BackfillShare = p.BackfillBudgetShare
	return o
}

func newLogger(cfg *config.Config, w io.Writer) *slog.Logger {
	lvl := slog.LevelInfo
	_ = lvl.UnmarshalText([]byte(cfg.Log.Level))
	opts := &slog.HandlerOptions{Level: lvl}
	if strings.EqualFold(cfg.Log.Format, "json") {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// httpClient builds an HTTP client with the configured per-attempt timeout
// and, if given, a custom CA bundle (self-hosted servers with an internal
// CA). The timeout bounds each attempt's wait for response headers, not the
// whole call: http.Client.Timeout would also cover the retry transport's
// waits for a rate-limit reset and turn every long wait into a failure.
func httpClient(timeout time.Duration, caFile string) (*http.Client, error) {
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConnsPerHost = 16
	tr.ResponseHeaderTimeout = timeout
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("read CA bundle: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA bundle %s holds no PEM certificate", caFile)
		}
		tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	}
	return &http.Client{Transport: tr}, nil
}

// buildDeps creates the clients. It contacts nothing.
func buildDeps(cfg *config.Config, log *slog.Logger, opts ...depsOption) (*deps, error) {
	d := &deps{cfg: cfg, log: log, github: map[string]*github.Client{}, apps: map[string]*github.App{}, gitlab: map[string]*gitlab.Client{},
		tokenSrc: map[string]*config.SecretSource{}, webhookSrc: map[string][2]*config.SecretSource{}}
	for _, o := range opts {
		o(d)
	}
	if d.tokens == nil {
		d.tokens = newTokenWatch(log)
	}
	d.adminToken = d.secret(cfg.HTTP.AdminToken, "http.admin_token")
	jiraSecret := d.secret(cfg.Jira.Token, "jira.token")
	if cfg.Jira.Username != "" {
		jiraSecret = d.secret(cfg.Jira.Password, "jira.password")
	}
	d.tokenSrc[indexer.JiraSystem] = jiraSecret
	hc, err := httpClient(cfg.Jira.Timeout, cfg.Jira.CAFile)
	if err != nil {
		return nil, fmt.Errorf("jira: %w", err)
	}
	dep, err := jiraclient.ParseDeployment(cfg.Jira.Deployment)
	if err != nil {
		return nil, fmt.Errorf("jira.deployment: %w", err)
	}
	d.jiraLimit = indexer.NewJiraLimiter(indexer.JiraLimitOptions{Max: cfg.Jira.MaxConcurrency,
		Budget: func() httpx.RateLimit { return d.jira.RateLimit() }})
	d.jira, err = jiraclient.New(jiraclient.Options{
		Deployment: dep,
		BaseURL:    cfg.Jira.URL,
		Auth:       jiraclient.Auth{Token: cfg.Jira.Token.Reveal(), Username: cfg.Jira.Username, Password: cfg.Jira.Password.Reveal(), Secret: jiraSecret.Value},
		HTTPClient: hc,
		Retry:      d.retryOptions("jira"),
		UserAgent:  "jiralinkd/" + version,
		Logger:     log,
	})
	if err != nil {
		return nil, fmt.Errorf("jira: %w", err)
	}
	for i, p := range cfg.Providers {
		key := fmt.Sprintf("providers[%d]", i)
		if p.Webhook != nil {
			d.webhookSrc[p.Name] = [2]*config.SecretSource{d.secret(p.Webhook.Secret, key+".webhook.secret"), d.secret(p.Webhook.SigningToken, key+".webhook.signing_token")}
		}
		hc, err := httpClient(p.Timeout, p.CAFile)
		if err != nil {
			return nil, fmt.Errorf("provider %s: %w", p.Name, err)
		}
		var (
			src           indexer.Source
			owners, repos []string
			rateLimit     func() httpx.RateLimit
		)
		switch {
		case p.App != nil:
			a, err := d.newGitHubApp(p, hc, d.secret(p.App.PrivateKey, key+".app.private_key"))
			if err != nil {
				return nil, err
			}
			src, owners, repos, rateLimit = a, appOwners(p), p.Repos, a.RateLimit
		case p.Type == providers.TypeGitHub:
			tok := d.secret(p.Token, key+".token")
			d.tokenSrc[p.Name] = tok
			c, err := github.New(github.Options{Name: p.Name, BaseURL: p.URL, Token: p.Token.Reveal(), TokenSource: tok.Value, HTTPClient: hc, Logger: log, Retry: d.providerRetry(p)})
			if err != nil {
				return nil, err
			}
			d.github[p.Name], src, owners, repos, rateLimit = c, c, p.Orgs, p.Repos, c.RateLimit
		case p.Type == providers.TypeGitLab:
			tok := d.secret(p.Token, key+".token")
			d.tokenSrc[p.Name] = tok
			c, err := gitlab.New(gitlab.Options{Name: p.Name, BaseURL: p.URL, Token: p.Token.Reveal(), TokenSource: tok.Value, HTTPClient: hc, Logger: log, Retry: d.providerRetry(p), ExcludeSubgroups: !p.IncludeSubgroups})
			if err != nil {
				return nil, err
			}
			d.gitlab[p.Name], src, owners, repos, rateLimit = c, c, p.Groups, p.Projects, c.RateLimit
		default:
			return nil, fmt.Errorf("provider %s: unknown type %s", p.Name, p.Type)
		}
		d.targets = append(d.targets, indexer.Target{
			Name: p.Name, Type: p.Type, Source: src, Owners: owners, Repos: repos,
			Match: p.Matches, IncludeArchived: p.IncludeArchived, PruneRemovedRepos: p.PruneRemovedRepos,
			PruneUnreachable: p.PruneUnreachable, MaxConcurrency: p.MaxConcurrency, SmartCommits: smartBranches(p),
			RateLimit: rateLimit, Route: routeOf(p), LinkAuthor: p.LinkAuthor, // routes.go
			Builds: p.Builds, Deployments: deployEnvs(p), BuildsSince: p.BuildsSince,
			FullSweepInterval: p.FullSweepInterval,
		})
	}
	return d, nil
}

// openStore opens the configured state backend (openState).
func (d *deps) openStore() error {
	st, err := openState(context.Background(), d.cfg.State, d.secret(d.cfg.State.Postgres.DSN, "state.postgres.dsn"))
	if err != nil {
		return err
	}
	d.store = st
	return nil
}

// openStoreReadOnly opens the state file for sync --dry-run without
// writing to it. When there is no state file yet, the pass reads an empty
// temporary one instead, removed by close, so that no file is left behind.
//
// A shared (PostgreSQL) state is opened as for a pass: a dry run writes
// nothing to it.
func (d *deps) openStoreReadOnly() error {
	if shared(d.cfg.State) {
		return d.openStore()
	}
	st, err := boltstore.OpenReadOnly(d.cfg.State.Path, 2*time.Second)
	if errors.Is(err, fs.ErrNotExist) {
		dir, terr := os.MkdirTemp("", "jiralinkd-dry-run-")
		if terr != nil {
			return fmt.Errorf("state: temporary state for the dry run: %w", terr)
		}
		d.cleanup = func() { _ = os.RemoveAll(dir) }
		st, err = boltstore.Open(filepath.Join(dir, "state.db"), 0)
	}
	if err != nil {
		return err
	}
	d.store = st
	return nil
}

func (d *deps) newIndexer(dryRun bool, out io.Writer, progress func(indexer.Progress)) (*indexer.Indexer, error) {
	return d.newIndexerWith(indexer.Options{DryRun: dryRun, DryRunOut: out, Progress: progress})
}

// newIndexerWith builds the indexer from the configuration; opts supplies
// the run-specific options (dry run, progress, hooks).
func (d *deps) newIndexerWith(opts indexer.Options) (*indexer.Indexer, error) {
	m, err := keys.NewMatcher(d.cfg.Jira.KeyPattern, d.cfg.Jira.BranchKeysCaseInsensitive)
	if err != nil {
		return nil, fmt.Errorf("jira.key_pattern: %w", err)
	}
	if opts.Store == nil {
		opts.Store = d.store
	}
	if opts.RepoLocker == nil && !opts.DryRun {
		opts.Store, opts.RepoLocker = repoLocksOf(opts.Store, d.holder())
	}
	opts.Jira, opts.Matcher, opts.Projects, opts.Logger = d.jira, m, d.cfg.Jira.Projects, d.log
	opts.Hint = d.hint
	if opts.JiraLimiter == nil {
		opts.JiraLimiter = d.jiraLimit
	}
	opts.StatusIconsURL = d.cfg.Jira.StatusIconsURL
	rd, err := redact.New()
	if err != nil {
		return nil, fmt.Errorf("secret redaction rules: %w", err)
	}
	opts.Redact = func(text string) (string, []string) {
		out, found := rd.Redact(text)
		if len(found) == 0 {
			return out, nil
		}
		rules := make([]string, len(found))
		for i, f := range found {
			rules[i] = f.Rule
		}
		return out, rules
	}
	if led, ok := opts.Store.(interface{ Ledger() smartcommit.Ledger }); ok && d.smartCommitsEnabled() && !opts.DryRun { // a dry run executes no command and may hold a read-only store
		ex, err := smartcommit.NewExecutor(smartcommit.Options{Jira: d.jira, Ledger: led.Ledger(), Keys: m, IssueExists: d.jira.ExistingIssues, Logger: d.log})
		if err != nil {
			return nil, fmt.Errorf("smart commits: %w", err)
		}
		opts.SmartCommits = ex
	}
	return indexer.New(opts)
}

func (d *deps) smartCommitsEnabled() bool {
	for _, p := range d.cfg.Providers {
		if p.SmartCommits != nil {
			return true
		}
	}
	return false
}

func (d *deps) close() {
	if d.store != nil {
		if err := d.store.Close(); err != nil {
			d.log.Error("close state file", "err", err)
		}
	}
	if d.cleanup != nil {
		d.cleanup()
	}
}

// selectTargets narrows the targets to one provider when name is set.
func (d *deps) selectTargets(name string) ([]indexer.Target, error) {
	if name == "" {
		return d.targets, nil
	}
	for _, t := range d.targets {
		if t.Name == name {
			return []indexer.Target{t}, nil
		}
	}
	return nil, fmt.Errorf("no provider named %q in the configuration", name)
}

// receivers returns a webhook receiver for each provider with a webhook
// section; the others answer 404 at /webhooks/{name}.
func (d *deps) receivers() map[string]webhook.Receiver {
	m := map[string]webhook.Receiver{}
	for _, p := range d.cfg.Providers {
		if p.Webhook == nil {
			continue
		}
		src := d.webhookSrc[p.Name]
		switch p.Type {
		case providers.TypeGitHub:
			m[p.Name] = github.NewWebhookSource(src[0].Value)
		case providers.TypeGitLab:
			m[p.Name] = gitlab.NewWebhookSource(src[0].Value, src[1].Value)
		}
	}
	return m
}

// classify returns the endpoint classifier of a system's client (metrics).
func (d *deps) classify(system string) func(string) string {
	if c, ok := d.github[system]; ok {
		return c.Classify
	}
	if c, ok := d.gitlab[system]; ok {
		return c.Classify
	}
	if a, ok := d.apps[system]; ok {
		return a.Classify
	}
	return metrics.ClassifyJira
}

// providerInfos describes the providers for status snapshots; nextRun may
// be nil (outside serve).
func (d *deps) providerInfos(nextRun func(name string) time.Time) []status.ProviderInfo {
	var out []status.ProviderInfo
	for i, p := range d.cfg.Providers {
		pi := status.ProviderInfo{Name: p.Name, Type: string(p.Type), Schedule: p.Schedule, Webhook: p.Webhook != nil,
			TokenSetting: p.Token.Setting(fmt.Sprintf("providers[%d].token", i)), BackfillShare: p.BackfillBudgetShare}
		if c, ok := d.github[p.Name]; ok {
			pi.RateLimit = c.RateLimit
		}
		if c, ok := d.gitlab[p.Name]; ok {
			pi.RateLimit = c.RateLimit
		}
		if a, ok := d.apps[p.Name]; ok {
			pi.RateLimit = a.RateLimit
			pi.Installations = func() []status.InstallationBudget { return installationBudgets(a) }
		} else {
			name := p.Name
			pi.TokenExpiry = func() (time.Time, bool) { return d.tokens.get(name) }
		}
		if nextRun != nil {
			name := p.Name
			pi.NextRun = func() time.Time { return nextRun(name) }
		}
		out = append(out, pi)
	}
	return out
}

// smartBranches is the target's smart-commit branch filter (nil: off).
func smartBranches(p config.Provider) func(string) bool {
	if p.SmartCommits == nil {
		return nil
	}
	return p.SmartCommits.Matches
}

// deployEnvs is the environment filter of a provider's deployment links
// (nil: deployments off).
func deployEnvs(p config.Provider) func(string) bool {
	if p.Deployments == nil {
		return nil
	}
	return p.Deployments.Matches
}
