package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io/fs"
	"math/big"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
)

// mapEnv is an env func backed by a map.
func mapEnv(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

// mapFiles is a readFile func backed by a map; missing files fail like
// os.ReadFile does.
func mapFiles(m map[string]string) func(string) ([]byte, error) {
	return func(name string) ([]byte, error) {
		data, ok := m[name]
		if !ok {
			return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
		}
		return []byte(data), nil
	}
}

// testEnv holds the variables the test documents name.
var testEnv = map[string]string{"JIRA_TOKEN": "jira-secret-token", "GH_TOKEN": "gh-secret-token", "GL_TOKEN": "gl-secret-token"}

const (
	validJira = `jira:
  url: https://jira.example.com
  token_env: JIRA_TOKEN
`
	validProvider = `providers:
  - name: gh
    type: github
    token_env: GH_TOKEN
    orgs: [acme]
`
)

// mustParse parses doc, failing the test on any problem.
func mustParse(t *testing.T, doc string, env map[string]string, files map[string]string) *Config {
	t.Helper()
	cfg, err := Parse([]byte(doc), "test.yaml", mapEnv(env), mapFiles(files))
	if err != nil {
		t.Fatalf("Parse: unexpected error:\n%v", err)
	}
	return cfg
}

// problems parses doc and returns its problems formatted as "path: message".
func problems(t *testing.T, doc string, env map[string]string, files map[string]string) []string {
	t.Helper()
	cfg, err := Parse([]byte(doc), "test.yaml", mapEnv(env), mapFiles(files))
	if err == nil {
		t.Fatalf("Parse succeeded (%+v), want problems", cfg)
	}
	var cerr *Error
	if !errors.As(err, &cerr) {
		t.Fatalf("Parse error is %T (%v), want *Error", err, err)
	}
	if cfg != nil {
		t.Errorf("Parse returned a config along with an error")
	}
	out := make([]string, len(cerr.Problems))
	for i, p := range cerr.Problems {
		out[i] = p.String()
	}
	if got := err.Error(); got != strings.Join(out, "\n") {
		t.Errorf("Error() = %q, want one problem per line", got)
	}
	return out
}

func TestParseDefaults(t *testing.T) {
	cfg := mustParse(t, validJira+validProvider, testEnv, nil)
	want := &Config{
		Path:  "test.yaml",
		State: State{Backend: BackendBolt, Path: "./data/jiralinkd.db"},
		HTTP:  HTTP{Listen: "127.0.0.1:8080"},
		Log:   Log{Level: "info", Format: "text"},
		Jira: Jira{
			URL:                       "https://jira.example.com",
			Token:                     Secret{Env: "JIRA_TOKEN", Source: SourceEnv, value: "jira-secret-token"},
			KeyPattern:                "[A-Z][A-Z0-9_]+",
			BranchKeysCaseInsensitive: true,
			Timeout:                   30 * time.Second,
			Deployment:                "auto",
			MaxConcurrency:            8,
		},
		Providers: []Provider{{
			Name:                "gh",
			Type:                providers.TypeGitHub,
			URL:                 "https://api.github.com/",
			Token:               Secret{Env: "GH_TOKEN", Source: SourceEnv, value: "gh-secret-token"},
			Schedule:            "*/5 * * * *",
			Orgs:                []string{"acme"},
			IncludeSubgroups:    true,
			Timeout:             30 * time.Second,
			MaxConcurrency:      4,
			PruneUnreachable:    true,
			ReconcileSchedule:   "@weekly",
			BuildsSince:         90 * 24 * time.Hour,
			BackfillBudgetShare: 0.7,
			FullSweepInterval:   time.Hour,
		}},
	}
	if !reflect.DeepEqual(cfg, want) {
		t.Errorf("Parse =\n%#v\nwant\n%#v", *cfg, *want)
	}
}

func TestParseGitLabDefaults(t *testing.T) {
	cfg := mustParse(t, validJira+`providers:
  - name: gl
    type: gitlab
    token_env: GL_TOKEN
    groups: [platform]
`, testEnv, nil)
	p := cfg.Providers[0]
	if p.URL != DefaultGitLabURL || !p.IncludeSubgroups || p.Type != providers.TypeGitLab {
		t.Errorf("gitlab provider = %+v, want url %s and include_subgroups true", p, DefaultGitLabURL)
	}
}

func TestParseExplicitValues(t *testing.T) {
	cfg := mustParse(t, `state:
  path: /var/lib/jiralinkd/state.db
http:
  listen: ":9090"
log:
  level: DEBUG
  format: json
jira:
  url: https://example.com/jira/
  username: svc
  password_env: JIRA_PASSWORD
  projects: [ABC, OPS_2]
  key_pattern: "[A-Z]{2,}"
  branch_keys_case_insensitive: false
  timeout: 1m30s
providers:
  - name: gl
    type: gitlab
    url: https://gitlab.example.com/sub
    token: literal-token
    schedule: "@every 2m"
    groups: [platform, platform/backend]
    projects: [tools/deploy/cli]
    include_subgroups: false
    include: ["platform/*"]
    exclude: ["platform/sandbox"]
    include_archived: true
    timeout: 5s
    max_concurrency: 64
    backfill_budget_share: 0.5
    full_sweep_interval: 0s
`, map[string]string{"JIRA_PASSWORD": "pw"}, nil)

	if cfg.State.Path != "/var/lib/jiralinkd/state.db" || cfg.HTTP.Listen != ":9090" {
		t.Errorf("state/http = %+v %+v", cfg.State, cfg.HTTP)
	}
	if cfg.Log != (Log{Level: "debug", Format: "json"}) {
		t.Errorf("log = %+v, want level normalised to lower case", cfg.Log)
	}
	j := cfg.Jira
	if j.URL != "https://example.com/jira" {
		t.Errorf("jira.url = %q, want context path kept and trailing slash removed", j.URL)
	}
	if j.Token.IsSet() || j.Username != "svc" || j.Password.Reveal() != "pw" || j.Password.Source != SourceEnv {
		t.Errorf("jira credentials = token %v user %q password source %q", j.Token.IsSet(), j.Username, j.Password.Source)
	}
	if !reflect.DeepEqual(j.Projects, []string{"ABC", "OPS_2"}) || j.KeyPattern != "[A-Z]{2,}" ||
		j.BranchKeysCaseInsensitive || j.Timeout != 90*time.Second {
		t.Errorf("jira = %+v", j)
	}
	want := Provider{
		Name:                "gl",
		Type:                providers.TypeGitLab,
		URL:                 "https://gitlab.example.com/sub/",
		Token:               Secret{Value: "literal-token", Source: SourceLiteral, value: "literal-token"},
		Schedule:            "@every 2m",
		Groups:              []string{"platform", "platform/backend"},
		Projects:            []string{"tools/deploy/cli"},
		IncludeSubgroups:    false,
		Include:             []string{"platform/*"},
		Exclude:             []string{"platform/sandbox"},
		IncludeArchived:     true,
		Timeout:             5 * time.Second,
		MaxConcurrency:      64,
		PruneUnreachable:    true,
		ReconcileSchedule:   "@weekly",
		BuildsSince:         90 * 24 * time.Hour,
		BackfillBudgetShare: 0.5,
	}
	if !reflect.DeepEqual(cfg.Providers[0], want) {
		t.Errorf("provider =\n%#v\nwant\n%#v", cfg.Providers[0], want)
	}
}

func TestParseEmptyDocumentReportsRequiredKeys(t *testing.T) {
	for _, doc := range []string{"", "# only a comment\n", "---\n"} {
		got := problems(t, doc, nil, nil)
		want := []string{
			"jira.url: required",
			"jira: credentials required: set token_env, token_file or token to a personal access token, " +
				"or username with password_env, password_file or password",
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("Parse(%q) problems =\n%s\nwant\n%s", doc, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}
}

func TestParseNullSectionsTakeDefaults(t *testing.T) {
	cfg := mustParse(t, "state:\nhttp: ~\nlog:\n  level:\n"+validJira+"  timeout:\n"+validProvider, testEnv, nil)
	if cfg.State.Path != DefaultStatePath || cfg.HTTP.Listen != DefaultHTTPListen ||
		cfg.Log.Level != DefaultLogLevel || cfg.Jira.Timeout != DefaultTimeout {
		t.Errorf("null values did not take defaults: %+v", cfg)
	}
}

func TestParseAnchorsAndMergeKeys(t *testing.T) {
	cfg := mustParse(t, validJira+`providers:
  - &gh
    name: one
    type: github
    token_env: GH_TOKEN
    schedule: "@hourly"
    orgs: [acme]
  - <<: *gh
    name: two
    schedule: "@daily"
    orgs: [other]
`, testEnv, nil)
	if len(cfg.Providers) != 2 {
		t.Fatalf("got %d providers, want 2", len(cfg.Providers))
	}
	two := cfg.Providers[1]
	if two.Name != "two" || two.Type != providers.TypeGitHub || two.Token.Reveal() != "gh-secret-token" ||
		two.Schedule != "@daily" || !reflect.DeepEqual(two.Orgs, []string{"other"}) {
		t.Errorf("merged provider = %+v, want explicit keys to override merged ones", two)
	}

	// Unknown keys brought in by a merge are reported too.
	got := problems(t, validJira+`providers:
  - &gh
    name: one
    type: github
    token_env: GH_TOKEN
    orgs: [acme]
    colour: blue
  - <<: *gh
    name: two
`, testEnv, nil)
	want := []string{"providers[0].colour: unknown key", "providers[1].colour: unknown key"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems = %q, want %q", got, want)
	}
}

func TestLoad(t *testing.T) {
	files := map[string]string{"/etc/jiralinkd.yaml": validJira + validProvider}
	cfg, err := Load("/etc/jiralinkd.yaml", mapEnv(testEnv), mapFiles(files))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Path != "/etc/jiralinkd.yaml" || cfg.Jira.URL != "https://jira.example.com" {
		t.Errorf("Load = %+v", cfg)
	}

	_, err = Load("/missing.yaml", mapEnv(testEnv), mapFiles(files))
	var cerr *Error
	if !errors.Is(err, fs.ErrNotExist) || errors.As(err, &cerr) {
		t.Errorf("Load(missing) error = %v (%T), want a wrapped fs.ErrNotExist that is not *Error", err, err)
	}
}

func TestLoadFromDisk(t *testing.T) {
	dir := t.TempDir()
	path := dir + "/jiralinkd.yaml"
	if err := os.WriteFile(path, []byte(validJira+validProvider), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := Load(path, mapEnv(testEnv), nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if cfg.Path != path {
		t.Errorf("Path = %q, want %q", cfg.Path, path)
	}
}

func TestProviderMatches(t *testing.T) {
	tests := []struct {
		name             string
		include, exclude []string
		fullName         string
		want             bool
	}{
		{"no filters", nil, nil, "acme/api", true},
		{"included", []string{"acme/*"}, nil, "acme/api", true},
		{"not included", []string{"acme/*"}, nil, "other/api", false},
		{"star does not cross slash", []string{"acme/*"}, nil, "acme/sub/api", false},
		{"second include", []string{"x/*", "acme/a?i"}, nil, "acme/api", true},
		{"excluded", nil, []string{"acme/*-archive"}, "acme/api-archive", false},
		{"exclude wins over include", []string{"acme/*"}, []string{"acme/secret"}, "acme/secret", false},
		{"case-insensitive name", []string{"acme/api"}, nil, "ACME/Api", true},
		{"case-insensitive pattern", []string{"ACME/*"}, []string{"Acme/SECRET"}, "acme/secret", false},
		{"character class", []string{"acme/[a-c]*"}, nil, "acme/Billing", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := Provider{Include: tt.include, Exclude: tt.exclude}
			if got := p.Matches(tt.fullName); got != tt.want {
				t.Errorf("Matches(%q) with include %q exclude %q = %v, want %v", tt.fullName, tt.include, tt.exclude, got, tt.want)
			}
		})
	}
}

// testCAPEM returns a freshly generated self-signed CA certificate in PEM.
func testCAPEM(t *testing.T) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "jiralinkd test CA"},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return string(pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}))
}

func TestCAFileAccepted(t *testing.T) {
	files := map[string]string{"/etc/ca.pem": testCAPEM(t)}
	cfg := mustParse(t, jira("ca_file: /etc/ca.pem")+gh("ca_file: /etc/ca.pem"), testEnv, files)
	if cfg.Jira.CAFile != "/etc/ca.pem" || cfg.Providers[0].CAFile != "/etc/ca.pem" {
		t.Errorf("ca_file = %q, %q", cfg.Jira.CAFile, cfg.Providers[0].CAFile)
	}
}

func TestScheduleForms(t *testing.T) {
	for _, spec := range []string{"*/5 * * * *", "0 9-17 * * MON-FRI", "@hourly", "@every 90s", "CRON_TZ=UTC 0 3 * * *", "TZ=UTC @daily"} {
		if msg := checkSchedule(spec); msg != "" {
			t.Errorf("checkSchedule(%q) = %q, want valid", spec, msg)
		}
	}
}
