package config

import (
	"time"

	"github.com/spf13/viper"
)

// The raw* types mirror the YAML document key for key; their mapstructure
// tags are the configuration schema. viper decodes into them, and the
// document checker (schema.go) derives the set of known keys and the
// expected type of every value from them by reflection, so the two can
// never disagree. Pointers mark values whose absence differs from their
// zero value (per-provider defaults viper cannot express for list
// elements).
type rawConfig struct {
	State     rawState      `mapstructure:"state"`
	HTTP      rawHTTP       `mapstructure:"http"`
	Log       rawLog        `mapstructure:"log"`
	Jira      rawJira       `mapstructure:"jira"`
	Providers []rawProvider `mapstructure:"providers"`
}

type rawState struct {
	Backend  string     `mapstructure:"backend"`
	Path     string     `mapstructure:"path"`
	Postgres rawStatePG `mapstructure:"postgres"`
}

type rawStatePG struct {
	DSNEnv  string `mapstructure:"dsn_env" secret:"true"`
	DSNFile string `mapstructure:"dsn_file" secret:"true"`
	DSN     string `mapstructure:"dsn" secret:"true"`
}

type rawHTTP struct {
	Listen         string `mapstructure:"listen"`
	AdminTokenEnv  string `mapstructure:"admin_token_env" secret:"true"`
	AdminTokenFile string `mapstructure:"admin_token_file" secret:"true"`
	AdminToken     string `mapstructure:"admin_token" secret:"true"`
}

type rawLog struct {
	Level  string `mapstructure:"level"`
	Format string `mapstructure:"format"`
}

type rawJira struct {
	URL                       string         `mapstructure:"url"`
	TokenEnv                  string         `mapstructure:"token_env" secret:"true"`
	TokenFile                 string         `mapstructure:"token_file" secret:"true"`
	Token                     string         `mapstructure:"token" secret:"true"`
	Username                  string         `mapstructure:"username"`
	PasswordEnv               string         `mapstructure:"password_env" secret:"true"`
	PasswordFile              string         `mapstructure:"password_file" secret:"true"`
	Password                  string         `mapstructure:"password" secret:"true"`
	Projects                  []string       `mapstructure:"projects"`
	KeyPattern                string         `mapstructure:"key_pattern"`
	BranchKeysCaseInsensitive bool           `mapstructure:"branch_keys_case_insensitive"`
	Timeout                   time.Duration  `mapstructure:"timeout"`
	CAFile                    string         `mapstructure:"ca_file"`
	Deployment                string         `mapstructure:"deployment"`
	SecretScan                *rawSecretScan `mapstructure:"secret_scan"`
	StatusIconsURL            string         `mapstructure:"status_icons_url"`
	MaxConcurrency            int            `mapstructure:"max_concurrency"`
}

type rawProvider struct {
	Name             string         `mapstructure:"name"`
	Type             string         `mapstructure:"type"`
	URL              string         `mapstructure:"url"`
	TokenEnv         string         `mapstructure:"token_env"`
	TokenFile        string         `mapstructure:"token_file"`
	Token            string         `mapstructure:"token"`
	Schedule         string         `mapstructure:"schedule"`
	Orgs             []string       `mapstructure:"orgs"`
	Repos            []string       `mapstructure:"repos"`
	Groups           []string       `mapstructure:"groups"`
	Projects         []string       `mapstructure:"projects"`
	IncludeSubgroups *bool          `mapstructure:"include_subgroups"`
	Include          []string       `mapstructure:"include"`
	Exclude          []string       `mapstructure:"exclude"`
	IncludeArchived  bool           `mapstructure:"include_archived"`
	CAFile           string         `mapstructure:"ca_file"`
	Timeout          *time.Duration `mapstructure:"timeout"`
	MaxConcurrency   *int           `mapstructure:"max_concurrency"`
	Webhook          *rawWebhook    `mapstructure:"webhook"`
	PruneUnreachable *bool          `mapstructure:"prune_unreachable"`
	PruneRemoved     bool           `mapstructure:"prune_removed_repos"`
	Reconcile        string         `mapstructure:"reconcile_schedule"`
	SmartCommits     *rawSmart      `mapstructure:"smart_commits"`
	App              *rawApp        `mapstructure:"app"`
	Routes           []rawRoute     `mapstructure:"routes"`
	RoutesDefault    string         `mapstructure:"routes_default"`
	LinkAuthor       string         `mapstructure:"link_author"`
	RotateBefore     string         `mapstructure:"rotate_before"`
	Builds           bool           `mapstructure:"builds"`
	Deployments      *rawDeploy     `mapstructure:"deployments"`
	BuildsSince      *time.Duration `mapstructure:"builds_since"`
	BackfillShare    *float64       `mapstructure:"backfill_budget_share"`
	FullSweep        *time.Duration `mapstructure:"full_sweep_interval"`
}

// rawDeploy configures deployment links for a provider.
type rawDeploy struct {
	Enabled      bool     `mapstructure:"enabled"`
	Environments []string `mapstructure:"environments"`
}

// rawApp makes a GitHub provider authenticate as a GitHub App instead of
// with a token.
type rawApp struct {
	AppID          int    `mapstructure:"app_id"`
	InstallationID *int   `mapstructure:"installation_id"`
	PrivateKeyFile string `mapstructure:"private_key_file"`
	PrivateKeyEnv  string `mapstructure:"private_key_env"`
	PrivateKey     string `mapstructure:"private_key"`
}

// rawSmart configures smart commits for a provider.
type rawSmart struct {
	Enabled  bool     `mapstructure:"enabled"`
	Branches []string `mapstructure:"branches"`
}

// rawWebhook enables inbound webhooks for a provider.
type rawWebhook struct {
	SecretEnv        string `mapstructure:"secret_env"`
	SecretFile       string `mapstructure:"secret_file"`
	Secret           string `mapstructure:"secret"`
	SigningTokenEnv  string `mapstructure:"signing_token_env"`
	SigningTokenFile string `mapstructure:"signing_token_file"`
	SigningToken     string `mapstructure:"signing_token"`
}

// Defaults. Provider defaults are applied per list element in validation
// because viper defaults cannot address elements of a list.
const (
	DefaultStatePath                 = "./data/jiralinkd.db"
	DefaultStateBackend              = BackendBolt
	DefaultHTTPListen                = "127.0.0.1:8080"
	DefaultLogLevel                  = "info"
	DefaultLogFormat                 = "text"
	DefaultKeyPattern                = "[A-Z][A-Z0-9_]+"
	DefaultTimeout                   = 30 * time.Second
	DefaultSchedule                  = "*/5 * * * *"
	DefaultReconcileSchedule         = "@weekly"
	DefaultMaxConcurrency            = 4
	DefaultJiraMaxConcurrency        = 8
	DefaultGitHubURL                 = "https://api.github.com/"
	DefaultGitLabURL                 = "https://gitlab.com/"
	defaultBranchKeysCaseInsensitive = true
	defaultIncludeSubgroups          = true
)

// setDefaults installs the defaults of the non-list keys in v.
func setDefaults(v *viper.Viper) {
	v.SetDefault("state.backend", DefaultStateBackend)
	v.SetDefault("state.path", DefaultStatePath)
	v.SetDefault("http.listen", DefaultHTTPListen)
	v.SetDefault("log.level", DefaultLogLevel)
	v.SetDefault("log.format", DefaultLogFormat)
	v.SetDefault("jira.key_pattern", DefaultKeyPattern)
	v.SetDefault("jira.branch_keys_case_insensitive", defaultBranchKeysCaseInsensitive)
	v.SetDefault("jira.timeout", DefaultTimeout)
	v.SetDefault("jira.deployment", "auto")
	v.SetDefault("jira.max_concurrency", DefaultJiraMaxConcurrency)
}

// EnvPrefix prefixes the environment variables that override scalar keys of
// the configuration file: jira.url is overridden by JIRALINKD_JIRA_URL.
const EnvPrefix = "JIRALINKD"
