package config

import (
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEnvOverrides(t *testing.T) {
	env := map[string]string{
		"JIRA_TOKEN":                                  "jira-secret-token",
		"GH_TOKEN":                                    "gh-secret-token",
		"JIRALINKD_JIRA_URL":                          "https://override.example.com/",
		"JIRALINKD_STATE_PATH":                        "/var/lib/jiralinkd.db",
		"JIRALINKD_HTTP_LISTEN":                       "0.0.0.0:9000",
		"JIRALINKD_LOG_LEVEL":                         "debug",
		"JIRALINKD_LOG_FORMAT":                        "json",
		"JIRALINKD_JIRA_TIMEOUT":                      "5s",
		"JIRALINKD_JIRA_BRANCH_KEYS_CASE_INSENSITIVE": "false",
		// Credentials cannot be overridden this way.
		"JIRALINKD_JIRA_TOKEN":     "ignored",
		"JIRALINKD_JIRA_TOKEN_ENV": "IGNORED",
	}
	cfg := mustParse(t, "state:\n  path: ./file.db\nlog:\n  level: warn\n"+validJira+validProvider, env, nil)
	got := []any{cfg.Jira.URL, cfg.State.Path, cfg.HTTP.Listen, cfg.Log.Level, cfg.Log.Format,
		cfg.Jira.Timeout, cfg.Jira.BranchKeysCaseInsensitive, cfg.Jira.Token.Source, cfg.Jira.Token.Env}
	want := []any{"https://override.example.com", "/var/lib/jiralinkd.db", "0.0.0.0:9000", "debug", "json",
		5 * time.Second, false, SourceEnv, "JIRA_TOKEN"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("overridden values = %v, want %v", got, want)
	}
}

func TestEnvOverrideSuppliesMissingKey(t *testing.T) {
	cfg := mustParse(t, "jira:\n  token_env: JIRA_TOKEN\n"+validProvider,
		map[string]string{"JIRA_TOKEN": "t", "GH_TOKEN": "g", "JIRALINKD_JIRA_URL": "https://jira.example.com"}, nil)
	if cfg.Jira.URL != "https://jira.example.com" {
		t.Errorf("jira.url = %q, want it from JIRALINKD_JIRA_URL", cfg.Jira.URL)
	}
}

func TestEnvOverrideEmptyIsIgnored(t *testing.T) {
	env := map[string]string{"JIRA_TOKEN": "t", "GH_TOKEN": "g", "JIRALINKD_LOG_LEVEL": ""}
	cfg := mustParse(t, "log:\n  level: warn\n"+validJira+validProvider, env, nil)
	if cfg.Log.Level != "warn" {
		t.Errorf("log.level = %q, want the file's value", cfg.Log.Level)
	}
}

func TestEnvOverrideProblemsNameTheVariable(t *testing.T) {
	env := map[string]string{
		"JIRA_TOKEN":             "t",
		"GH_TOKEN":               "g",
		"JIRALINKD_JIRA_URL":     "ftp://x",
		"JIRALINKD_JIRA_TIMEOUT": "soon",
		"JIRALINKD_LOG_LEVEL":    "loud",
		"JIRALINKD_JIRA_BRANCH_KEYS_CASE_INSENSITIVE": "maybe",
	}
	got := problems(t, validJira+validProvider, env, nil)
	want := []string{
		// Keys not in the file sort at their section, in schema order.
		`jira.branch_keys_case_insensitive: expected true or false, got "maybe" (set by JIRALINKD_JIRA_BRANCH_KEYS_CASE_INSENSITIVE)`,
		`jira.timeout: invalid duration "soon": use a number with a unit such as "30s", "2m" or "1h" (set by JIRALINKD_JIRA_TIMEOUT)`,
		`jira.url: must be an absolute http or https URL, got "ftp://x" (set by JIRALINKD_JIRA_URL)`,
		`log.level: must be one of debug, info, warn, error; got "loud" (set by JIRALINKD_LOG_LEVEL)`,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestEnvOverrideProcessEnvironment checks that a nil env func reads the
// process environment.
func TestEnvOverrideProcessEnvironment(t *testing.T) {
	t.Setenv("JIRALINKD_TEST_JIRA_TOKEN", "t")
	t.Setenv("JIRALINKD_TEST_GH_TOKEN", "g")
	t.Setenv("JIRALINKD_HTTP_LISTEN", "127.0.0.1:7070")
	doc := "jira:\n  url: https://jira.example.com\n  token_env: JIRALINKD_TEST_JIRA_TOKEN\n" +
		"providers:\n  - name: gh\n    type: github\n    token_env: JIRALINKD_TEST_GH_TOKEN\n    orgs: [acme]\n"
	cfg, err := Parse([]byte(doc), "t.yaml", nil, nil)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if cfg.HTTP.Listen != "127.0.0.1:7070" || cfg.Jira.Token.Reveal() != "t" {
		t.Errorf("http.listen = %q, token resolved %v; want values from the process environment", cfg.HTTP.Listen, cfg.Jira.Token.IsSet())
	}
}

func TestEnvOverridesList(t *testing.T) {
	var got []string
	for _, o := range envOverrides() {
		got = append(got, o.env)
	}
	want := []string{
		"JIRALINKD_STATE_BACKEND", "JIRALINKD_STATE_PATH", "JIRALINKD_HTTP_LISTEN", "JIRALINKD_LOG_LEVEL", "JIRALINKD_LOG_FORMAT",
		"JIRALINKD_JIRA_URL", "JIRALINKD_JIRA_USERNAME", "JIRALINKD_JIRA_KEY_PATTERN",
		"JIRALINKD_JIRA_BRANCH_KEYS_CASE_INSENSITIVE", "JIRALINKD_JIRA_TIMEOUT", "JIRALINKD_JIRA_CA_FILE", "JIRALINKD_JIRA_DEPLOYMENT", "JIRALINKD_JIRA_STATUS_ICONS_URL",
		"JIRALINKD_JIRA_MAX_CONCURRENCY",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("envOverrides =\n%v\nwant\n%v", got, want)
	}
}
