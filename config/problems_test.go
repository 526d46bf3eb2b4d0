package config

import (
	"reflect"
	"strings"
	"testing"
)

// gh returns a valid github provider document with extra lines appended to
// its mapping (each indented by four spaces).
func gh(extra ...string) string {
	return validProvider + indent(extra)
}

// ghHead and glHead start a provider without repository selection.
const (
	ghHead = "providers:\n  - name: gh\n    type: github\n    token_env: GH_TOKEN\n"
	glHead = "providers:\n  - name: gl\n    type: gitlab\n    token_env: GL_TOKEN\n"
)

// glProvider is a valid gitlab provider.
const glProvider = `providers:
  - name: gl
    type: gitlab
    token_env: GL_TOKEN
    groups: [platform]
`

func gl(extra ...string) string { return glProvider + indent(extra) }

// jira returns a valid jira section with extra lines appended (each
// indented by two spaces).
func jira(extra ...string) string {
	var b strings.Builder
	b.WriteString(validJira)
	for _, l := range extra {
		b.WriteString("  " + l + "\n")
	}
	return b.String()
}

func indent(lines []string) string {
	var b strings.Builder
	for _, l := range lines {
		b.WriteString("    " + l + "\n")
	}
	return b.String()
}

func TestProblems(t *testing.T) {
	files := map[string]string{"/etc/ca.pem": testCAPEM(t), "/etc/not-pem": "hello"}
	tests := []struct {
		name string
		doc  string
		want []string
	}{
		// YAML syntax and document shape.
		{"syntax error names the line", "jira:\n  url: [x\n", []string{
			"invalid YAML: line 2: did not find expected ',' or ']'"}},
		{"syntax error on line 1", "jira: @x\n", []string{
			`invalid YAML: line 1: found character that cannot start any token (quote values that start with "@" or "*", e.g. schedule: "@hourly")`}},
		// yaml.v3 names the line where the enclosing construct starts; the
		// problem's own line is reported.
		{"tab indentation", "jira:\n  url: x\n\ttoken: y\n", []string{
			"invalid YAML: line 3: found a tab character that violates indentation"}},
		{"parser error line", "providers:\n  - name: a\n  b: c\n", []string{
			"invalid YAML: line 3: did not find expected '-' indicator"}},
		{"bad indentation in a nested list", "state:\n  path: x\njira:\n  projects:\n    - A\n   - B\n", []string{
			"invalid YAML: line 6: did not find expected key"}},
		{"unterminated quote", "state:\n  path: x\njira:\n  url: \"https://x\n  token_env: X\n", []string{
			"invalid YAML: line 4: found unexpected end of stream"}},
		{"key without colon", "state:\n  path: x\njira:\n  url: x\nproviders\n", []string{
			"invalid YAML: line 5: could not find expected ':'"}},
		{"unknown alias", "state:\n  path: x\njira:\n  url: *nope\n", []string{
			"invalid YAML: line 4: unknown anchor 'nope' referenced"}},
		{"scanner error after blank lines", "state:\n  path: x\n\n\njira:\n  url: x\n  token: @y\n", []string{
			`invalid YAML: line 7: found character that cannot start any token (quote values that start with "@" or "*", e.g. schedule: "@hourly")`}},
		{"parser error line deep in the file", "state:\n  path: x\nlog:\n  level: info\njira:\n  projects: [A\n", []string{
			"invalid YAML: line 6: did not find expected ',' or ']'"}},
		{"document is a list", "- a\n- b\n", []string{
			"line 1: the configuration must be a mapping of keys (state:, http:, log:, jira:, providers:)"}},
		{"document is a scalar", "hello\n", []string{
			"line 1: the configuration must be a mapping of keys (state:, http:, log:, jira:, providers:)"}},
		{"duplicate key", "jira:\n  url: https://a\n  url: https://b\n  token_env: JIRA_TOKEN\n", []string{
			"jira.url: duplicate key (first set on line 2)"}},

		// Unknown keys at every level.
		{"unknown top-level key", "jiraa: {}\n" + validJira + validProvider, []string{
			`jiraa: unknown key (did you mean "jira"?)`}},
		{"unknown section key", jira("urll: https://x") + validProvider, []string{
			`jira.urll: unknown key (did you mean "url"?)`}},
		{"unknown provider key", validJira + gh(`shedule: "@hourly"`), []string{
			`providers[0].shedule: unknown key (did you mean "schedule"?)`}},
		{"unknown key in second provider", validJira + gh() + "  - name: two\n    type: github\n    token_env: GH_TOKEN\n    orgs: [x]\n    max-concurrency: 2\n",
			[]string{`providers[1].max-concurrency: unknown key (did you mean "max_concurrency"?)`}},
		{"unknown key with other case", "HTTP:\n  listen: 127.0.0.1:1\n" + validJira + validProvider, []string{
			`HTTP: unknown key (did you mean "http"?)`}},
		{"unknown key without suggestion", validJira + gh("colour: blue"), []string{
			"providers[0].colour: unknown key"}},
		{"secret key in provider is not a jira key", validJira + gh("username: bob"), []string{
			"providers[0].username: unknown key"}},

		// Wrong types.
		{"section not a mapping", "log: debug\n" + validJira + validProvider, []string{"log: expected a mapping"}},
		{"list expected", jira("projects: ABC") + validProvider, []string{"jira.projects: expected a list"}},
		{"providers not a list", validJira + "providers:\n  name: gh\n", []string{"providers: expected a list"}},
		{"provider not a mapping", validJira + "providers:\n  - gh\n", []string{"providers[0]: expected a mapping"}},
		{"empty list item", jira("projects: [ABC, ~]") + validProvider, []string{"jira.projects[1]: empty list item"}},
		{"string expected, got integer", jira("username: 0123", "password: x") + validProvider, []string{
			// The credentials problem in the enclosing jira section is
			// suppressed: it may be a consequence of the bad value.
			`jira.username: expected a string, got integer 0123 (quote it to use it as text)`}},
		{"string expected, got list", validJira + "providers:\n  - name: [a]\n    type: github\n    token_env: GH_TOKEN\n    orgs: [acme]\n", []string{
			`providers[0].name: expected a string, got a list`}},
		{"bool expected", jira("branch_keys_case_insensitive: yes") + validProvider, []string{
			`jira.branch_keys_case_insensitive: expected true or false, got "yes"`}},
		{"int expected", validJira + gh("max_concurrency: four"), []string{
			`providers[0].max_concurrency: expected an integer, got "four"`}},
		{"duration expected, got integer", jira("timeout: 30") + validProvider, []string{
			`jira.timeout: expected a duration such as "30s" or "1m30s", got integer 30`}},
		{"int expected, got float", validJira + gh("max_concurrency: 1.5"), []string{
			`providers[0].max_concurrency: expected an integer, got number 1.5`}},
		{"int out of range", validJira + gh("max_concurrency: 9223372036854775808"), []string{
			`providers[0].max_concurrency: integer 9223372036854775808 is out of range`}},
		{"string expected, got timestamp", validJira + gh("schedule: 2024-01-01"), []string{
			`providers[0].schedule: expected a string, got timestamp 2024-01-01 (quote it to use it as text)`}},
		{"string expected, got bool", validJira + "providers:\n  - name: true\n    type: github\n    token_env: GH_TOKEN\n    orgs: [acme]\n", []string{
			`providers[0].name: expected a string, got boolean true (quote it to use it as text)`}},
		{"key is not a string", validJira + gh("[a]: b"), []string{
			`providers[0]: line 9: keys must be plain words, got a list`}},
		{"invalid duration", validJira + gh("timeout: 3 minutes"), []string{
			`providers[0].timeout: invalid duration "3 minutes": use a number with a unit such as "30s", "2m" or "1h"`}},
		{"type error suppresses follow-ups", "jira:\n  url: 123\n  token_env: JIRA_TOKEN\n" + validProvider, []string{
			"jira.url: expected a string, got integer 123 (quote it to use it as text)"}},

		// state, http, log.
		{"state.path empty", "state:\n  path: \"\"\n" + validJira + validProvider, []string{"state.path: required"}},
		{"listen without port", "http:\n  listen: localhost\n" + validJira + validProvider, []string{
			`http.listen: invalid address "localhost": missing port in address (want host:port, e.g. 127.0.0.1:8080)`}},
		{"listen with bad port", "http:\n  listen: \":99999\"\n" + validJira + validProvider, []string{
			`http.listen: invalid port "99999" in ":99999": want a number from 0 to 65535`}},
		{"log level", "log:\n  level: verbose\n  format: xml\n" + validJira + validProvider, []string{
			`log.level: must be one of debug, info, warn, error; got "verbose"`,
			`log.format: must be one of text, json; got "xml"`}},

		// jira.
		{"jira url not http", "jira:\n  url: ftp://jira.example.com\n  token_env: JIRA_TOKEN\n" + validProvider, []string{
			`jira.url: must be an absolute http or https URL, got "ftp://jira.example.com"`}},
		{"jira url relative", "jira:\n  url: jira.example.com\n  token_env: JIRA_TOKEN\n" + validProvider, []string{
			`jira.url: must be an absolute http or https URL, got "jira.example.com"`}},
		{"jira url with query", "jira:\n  url: https://jira.example.com/?a=b\n  token_env: JIRA_TOKEN\n" + validProvider, []string{
			`jira.url: must not contain a query or fragment, got "https://jira.example.com/?a=b"`}},
		{"jira url unparsable", "jira:\n  url: \"https://jira example.com\"\n  token_env: JIRA_TOKEN\n" + validProvider, []string{
			`jira.url: invalid URL: invalid character " " in host name`}},
		{"jira project keys", jira("projects: [ABC, abc, A, ABC]") + validProvider, []string{
			`jira.projects[1]: invalid project key "abc": must match ^[A-Z][A-Z0-9_]+$ (an uppercase letter, then uppercase letters, digits or _)`,
			`jira.projects[2]: invalid project key "A": must match ^[A-Z][A-Z0-9_]+$ (an uppercase letter, then uppercase letters, digits or _)`,
			`jira.projects[3]: duplicate project "ABC"`}},
		{"key pattern does not compile", jira(`key_pattern: "[A-Z"`) + validProvider, []string{
			`jira.key_pattern: invalid regular expression "[A-Z": missing closing ]`}},
		{"key pattern matches empty", jira(`key_pattern: "[A-Z]*"`) + validProvider, []string{
			`jira.key_pattern: "[A-Z]*" matches the empty string; a project key has at least one character`}},
		{"key pattern zero-width", jira(`key_pattern: '\b'`) + validProvider, []string{
			`jira.key_pattern: "\\b" matches the empty string; a project key has at least one character`}},
		{"key pattern anchored", jira(`key_pattern: "^[A-Z]+"`) + validProvider, []string{
			`jira.key_pattern: "^[A-Z]+" must not contain anchors or word boundaries (^ $ \A \z \b \B); it is matched inside branch names and messages`}},
		{"key pattern word boundary", jira(`key_pattern: '[A-Z]+\b'`) + validProvider, []string{
			`jira.key_pattern: "[A-Z]+\\b" must not contain anchors or word boundaries (^ $ \A \z \b \B); it is matched inside branch names and messages`}},
		{"key pattern refused by the matcher", jira(`key_pattern: "[A-Z-]+"`) + validProvider, []string{
			`jira.key_pattern: invalid Jira project key pattern "[A-Z-]+": it can match '-', which separates the project key from the issue number`}},
		{"key pattern empty", jira(`key_pattern: ""`) + validProvider, []string{"jira.key_pattern: required"}},
		{"jira timeout", jira("timeout: 0s") + validProvider, []string{"jira.timeout: must be positive, got 0s"}},
		{"jira ca_file missing", jira("ca_file: /etc/missing.pem") + validProvider, []string{
			`jira.ca_file: cannot read "/etc/missing.pem": file does not exist`}},
		{"jira ca_file not PEM", jira("ca_file: /etc/not-pem") + validProvider, []string{
			`jira.ca_file: "/etc/not-pem" contains no PEM certificates`}},

		// providers.
		{"provider name and type required", validJira + "providers:\n  - token_env: GH_TOKEN\n    orgs: [a]\n", []string{
			"providers[0].name: required", "providers[0].type: required (github or gitlab)"}},
		{"provider name invalid", validJira + "providers:\n  - name: My_GitHub\n    type: github\n    token_env: GH_TOKEN\n    orgs: [a]\n", []string{
			`providers[0].name: invalid name "My_GitHub": must match ^[a-z0-9][a-z0-9_-]{0,62}$ (lowercase letters, digits, - and _)`}},
		{"provider names unique", validJira + gh() + "  - name: gh\n    type: github\n    token_env: GH_TOKEN\n    repos: [a/b]\n", []string{
			`providers[1].name: duplicate name "gh" (also used by providers[0])`}},
		{"provider type unknown", validJira + "providers:\n  - name: bb\n    type: bitbucket\n    token_env: GH_TOKEN\n", []string{
			`providers[0].type: must be github or gitlab, got "bitbucket"`}},
		{"provider token required", validJira + "providers:\n  - name: gh\n    type: github\n    orgs: [a]\n", []string{
			"providers[0]: token required: set token_env, token_file or token"}},
		{"schedule field count", validJira + gh(`schedule: "*/5 * *"`), []string{
			`providers[0].schedule: invalid cron expression "*/5 * *": expected exactly 5 fields, found 3`}},
		{"schedule with seconds", validJira + gh(`schedule: "0 */5 * * * *"`), []string{
			`providers[0].schedule: invalid cron expression "0 */5 * * * *": expected exactly 5 fields, found 6`}},
		{"schedule out of range", validJira + gh(`schedule: "61 * * * *"`), []string{
			`providers[0].schedule: invalid cron expression "61 * * * *": end of range (61) above maximum (59): 61`}},
		{"schedule bad time zone", validJira + gh(`schedule: "CRON_TZ=Mars/Base */5 * * *"`), []string{
			`providers[0].schedule: invalid cron expression "CRON_TZ=Mars/Base */5 * * *": expected exactly 5 fields, found 4`}},
		{"schedule bad descriptor", validJira + gh(`schedule: "@sometimes"`), []string{
			`providers[0].schedule: invalid cron expression "@sometimes": unrecognized descriptor: @sometimes`}},
		{"github with gitlab fields", validJira + gh("groups: [g]", "projects: [g/p]", "include_subgroups: false"), []string{
			"providers[0].groups: only for gitlab providers (github providers use orgs and repos)",
			"providers[0].projects: only for gitlab providers (github providers use orgs and repos)",
			"providers[0].include_subgroups: only for gitlab providers (github providers use orgs and repos)"}},
		{"gitlab with github fields", validJira + gl("orgs: [a]", "repos: [a/b]"), []string{
			"providers[0].orgs: only for github providers (gitlab providers use groups and projects)",
			"providers[0].repos: only for github providers (gitlab providers use groups and projects)"}},
		{"github nothing to index", validJira + "providers:\n  - name: gh\n    type: github\n    token_env: GH_TOKEN\n    orgs: []\n", []string{
			"providers[0]: nothing to index: set orgs or repos"}},
		{"gitlab nothing to index", validJira + "providers:\n  - name: gl\n    type: gitlab\n    token_env: GL_TOKEN\n", []string{
			"providers[0]: nothing to index: set groups or projects"}},
		{"github repos and orgs", validJira + ghHead + indent([]string{"repos: [acme/api, api, a/b/c, acme/API, \"\"]", "orgs: [acme/api]"}), []string{
			`providers[0].repos[1]: must be owner/name, got "api"`,
			`providers[0].repos[2]: must be owner/name, got "a/b/c"`,
			`providers[0].repos[3]: duplicate "acme/API"`,
			`providers[0].repos[4]: must not be empty`,
			`providers[0].orgs[0]: must be an organisation or user name such as acme (use repos for a single repository), got "acme/api"`}},
		{"gitlab groups and projects", validJira + glHead + indent([]string{"projects: [name, group/name, a//b]", "groups: [/x]"}), []string{
			`providers[0].projects[0]: must be a full project path such as group/name or group/subgroup/name, got "name"`,
			`providers[0].projects[2]: must be a full project path such as group/name or group/subgroup/name, got "a//b"`,
			`providers[0].groups[0]: must be a group path such as platform or platform/backend, got "/x"`}},
		{"globs", validJira + gh(`include: ["acme/[", "acme/*"]`, `exclude: [""]`), []string{
			`providers[0].include[0]: invalid glob pattern "acme/[": syntax error in pattern`,
			`providers[0].exclude[0]: must not be empty`}},
		{"backfill share not a number", validJira + gh("backfill_budget_share: most"), []string{
			`providers[0].backfill_budget_share: expected a number, got "most"`}},
		{"backfill share zero", validJira + gh("backfill_budget_share: 0"), []string{
			"providers[0].backfill_budget_share: must be greater than 0 and at most 1, got 0"}},
		{"backfill share above one", validJira + gh("backfill_budget_share: 1.5"), []string{
			"providers[0].backfill_budget_share: must be greater than 0 and at most 1, got 1.5"}},
		{"negative sweep interval", validJira + gh("full_sweep_interval: -1m"), []string{
			"providers[0].full_sweep_interval: must not be negative, got -1m0s"}},
		{"jira max_concurrency low", strings.Replace(validJira, "jira:\n", "jira:\n  max_concurrency: 0\n", 1), []string{
			"jira.max_concurrency: must be between 1 and 64, got 0"}},
		{"jira max_concurrency high", strings.Replace(validJira, "jira:\n", "jira:\n  max_concurrency: 65\n", 1), []string{
			"jira.max_concurrency: must be between 1 and 64, got 65"}},
		{"max_concurrency low", validJira + gh("max_concurrency: 0"), []string{
			"providers[0].max_concurrency: must be between 1 and 64, got 0"}},
		{"max_concurrency high", validJira + gh("max_concurrency: 65"), []string{
			"providers[0].max_concurrency: must be between 1 and 64, got 65"}},
		{"provider timeout", validJira + gh("timeout: -1s"), []string{
			"providers[0].timeout: must be positive, got -1s"}},
		{"provider url", validJira + gh("url: api.github.com"), []string{
			`providers[0].url: must be an absolute http or https URL, got "api.github.com"`}},
		{"provider ca_file", validJira + gh("ca_file: /etc/not-pem"), []string{
			`providers[0].ca_file: "/etc/not-pem" contains no PEM certificates`}},

		// Everything is collected, in document order.
		{"all problems in document order", validProvider + "    schedule: \"* *\"\n" +
			"log:\n  level: loud\njira:\n  url: ftp://x\n  token_env: JIRA_TOKEN\n  bogus: 1\n", []string{
			`providers[0].schedule: invalid cron expression "* *": expected exactly 5 fields, found 2`,
			`log.level: must be one of debug, info, warn, error; got "loud"`,
			`jira.url: must be an absolute http or https URL, got "ftp://x"`,
			`jira.bogus: unknown key`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := problems(t, tt.doc, testEnv, files)
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestProblemsNeverShowURLCredentials(t *testing.T) {
	got := problems(t, "jira:\n  url: https://bob:hunter2@jira.example.com\n  token_env: JIRA_TOKEN\n"+validProvider, testEnv, nil)
	want := []string{"jira.url: must not contain credentials; configure them with token_env or token_file"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems = %q, want %q", got, want)
	}
	got = problems(t, "jira:\n  url: \"ftp://bob:hunter2@jira example.com\"\n  token_env: JIRA_TOKEN\n"+validProvider, testEnv, nil)
	if strings.Contains(strings.Join(got, "\n"), "hunter2") {
		t.Errorf("problems disclose the URL password: %q", got)
	}
}

func TestSuggest(t *testing.T) {
	fields := []schemaField{{key: "schedule"}, {key: "token_env"}, {key: "url"}}
	tests := []struct{ unknown, want string }{
		{"shedule", ` (did you mean "schedule"?)`},
		{"SCHEDULE", ` (did you mean "schedule"?)`},
		{"tokenenv", ` (did you mean "token_env"?)`},
		{"uri", ` (did you mean "url"?)`},
		{"colour", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.unknown, fields); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.unknown, got, tt.want)
		}
	}
}
