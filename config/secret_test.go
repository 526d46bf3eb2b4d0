package config

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"reflect"
	"strings"
	"testing"
)

func TestSecretSources(t *testing.T) {
	files := map[string]string{
		"/run/secrets/jira":  "file-secret\n",
		"/run/secrets/crlf":  "crlf-secret \r\n",
		"/run/secrets/empty": "\n",
	}
	tests := []struct {
		name       string
		lines      []string // the jira credential keys
		wantValue  string
		wantSource string
		wantSecret Secret
	}{
		{"env", []string{"token_env: JIRA_TOKEN"}, "jira-secret-token", SourceEnv,
			Secret{Env: "JIRA_TOKEN", Source: SourceEnv}},
		{"file, trailing newline trimmed", []string{"token_file: /run/secrets/jira"}, "file-secret", SourceFile,
			Secret{File: "/run/secrets/jira", Source: SourceFile}},
		{"file, trailing whitespace trimmed", []string{"token_file: /run/secrets/crlf"}, "crlf-secret", SourceFile,
			Secret{File: "/run/secrets/crlf", Source: SourceFile}},
		{"literal", []string{"token: literal-secret"}, "literal-secret", SourceLiteral,
			Secret{Value: "literal-secret", Source: SourceLiteral}},
		{"empty literal counts as unset", []string{"token: \"\"", "token_env: JIRA_TOKEN"}, "jira-secret-token", SourceEnv,
			Secret{Env: "JIRA_TOKEN", Source: SourceEnv}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "jira:\n  url: https://jira.example.com\n"
			for _, l := range tt.lines {
				doc += "  " + l + "\n"
			}
			cfg := mustParse(t, doc+validProvider, testEnv, files)
			tok := cfg.Jira.Token
			if tok.Reveal() != tt.wantValue || !tok.IsSet() || tok.Source != tt.wantSource {
				t.Errorf("token: revealed %q set %v source %q, want %q from %q", tok.Reveal(), tok.IsSet(), tok.Source, tt.wantValue, tt.wantSource)
			}
			if tok.Literal() != (tt.wantSource == SourceLiteral) {
				t.Errorf("Literal() = %v for source %q", tok.Literal(), tok.Source)
			}
			tt.wantSecret.value = tt.wantValue
			if !reflect.DeepEqual(tok, tt.wantSecret) {
				t.Errorf("token = %#v, want %#v", tok, tt.wantSecret) // GoString redacts both
			}
			if cfg.Jira.Password.IsSet() {
				t.Errorf("password set without being configured")
			}
		})
	}
}

func TestSecretProblems(t *testing.T) {
	files := map[string]string{"/run/secrets/empty": " \n", "/run/secrets/jira": "s"}
	readErr := errors.New("permission denied")
	readFile := func(name string) ([]byte, error) {
		if name == "/run/secrets/locked" {
			return nil, readErr
		}
		return mapFiles(files)(name)
	}
	tests := []struct {
		name  string
		lines []string
		want  []string
	}{
		{"missing env var", []string{"token_env: NOPE"}, []string{
			"jira.token_env: environment variable NOPE is not set or empty"}},
		{"dollar in env name", []string{"token_env: $JIRA_TOKEN"}, []string{
			"jira.token_env: names the variable: write JIRA_TOKEN, not $JIRA_TOKEN"}},
		{"invalid env name", []string{"token_env: JIRA TOKEN"}, []string{
			`jira.token_env: "JIRA TOKEN" is not an environment variable name`}},
		{"missing file", []string{"token_file: /run/secrets/missing"}, []string{
			`jira.token_file: cannot read "/run/secrets/missing": file does not exist`}},
		{"unreadable file", []string{"token_file: /run/secrets/locked"}, []string{
			`jira.token_file: cannot read "/run/secrets/locked": permission denied`}},
		{"empty file", []string{"token_file: /run/secrets/empty"}, []string{
			`jira.token_file: "/run/secrets/empty" is empty`}},
		{"two sources", []string{"token_env: JIRA_TOKEN", "token_file: /run/secrets/jira"}, []string{
			"jira: set only one of token_env, token_file or token (found token_env and token_file)"}},
		{"three sources", []string{"token_env: JIRA_TOKEN", "token_file: /run/secrets/jira", "token: x"}, []string{
			"jira: set only one of token_env, token_file or token (found token_env and token_file and token)"}},
		{"two password sources", []string{"username: bob", "password_env: JIRA_TOKEN", "password: x"}, []string{
			"jira: set only one of password_env, password_file or password (found password_env and password)"}},
		{"token and basic auth", []string{"token_env: JIRA_TOKEN", "username: bob", "password: x"}, []string{
			"jira: set either a token (token_env, token_file or token) or username and password, not both"}},
		{"username without password", []string{"username: bob"}, []string{
			"jira: username is set but no password: set password_env, password_file or password"}},
		{"password without username", []string{"password_file: /run/secrets/jira"}, []string{
			"jira.username: required with a password"}},
		{"no credentials", nil, []string{
			"jira: credentials required: set token_env, token_file or token to a personal access token, " +
				"or username with password_env, password_file or password"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := "jira:\n  url: https://jira.example.com\n"
			for _, l := range tt.lines {
				doc += "  " + l + "\n"
			}
			cfg, err := Parse([]byte(doc+validProvider), "t.yaml", mapEnv(testEnv), readFile)
			var cerr *Error
			if !errors.As(err, &cerr) {
				t.Fatalf("Parse = %+v, %v; want *Error", cfg, err)
			}
			var got []string
			for _, p := range cerr.Problems {
				got = append(got, p.String())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestProviderSecretProblems(t *testing.T) {
	got := problems(t, validJira+"providers:\n  - name: gh\n    type: github\n    token_env: GH_TOKEN\n    token: x\n    orgs: [a]\n"+
		"  - name: gh2\n    type: github\n    token_env: UNSET\n    orgs: [a]\n", testEnv, nil)
	want := []string{
		"providers[0]: set only one of token_env, token_file or token (found token_env and token)",
		"providers[1].token_env: environment variable UNSET is not set or empty",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("problems =\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestSecretNeverPrinted checks every way a Secret, or a Config holding
// secrets, is commonly turned into text.
func TestSecretNeverPrinted(t *testing.T) {
	const (
		jiraSecret = "jira-literal-sekrit"
		ghSecret   = "gh-env-sekrit"
	)
	cfg := mustParse(t, "jira:\n  url: https://jira.example.com\n  token: "+jiraSecret+"\n"+validProvider,
		map[string]string{"GH_TOKEN": ghSecret}, nil)
	if cfg.Jira.Token.Reveal() != jiraSecret || cfg.Providers[0].Token.Reveal() != ghSecret {
		t.Fatalf("secrets not resolved")
	}

	var outputs []string
	for _, format := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		outputs = append(outputs,
			fmt.Sprintf(format, cfg.Jira.Token),
			fmt.Sprintf(format, &cfg.Jira.Token),
		)
	}
	for _, format := range []string{"%v", "%+v", "%#v"} {
		outputs = append(outputs,
			fmt.Sprintf(format, cfg),
			fmt.Sprintf(format, *cfg),
			fmt.Sprintf(format, cfg.Jira),
			fmt.Sprintf(format, cfg.Providers),
		)
	}
	var buf bytes.Buffer
	for _, h := range []slog.Handler{slog.NewTextHandler(&buf, nil), slog.NewJSONHandler(&buf, nil)} {
		l := slog.New(h)
		l.Info("secret", "token", cfg.Jira.Token, "provider_token", cfg.Providers[0].Token)
		l.Info("config", "config", cfg, "jira", cfg.Jira, "providers", cfg.Providers)
	}
	outputs = append(outputs, buf.String())
	js, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	outputs = append(outputs, string(js))

	for _, out := range outputs {
		if strings.Contains(out, ghSecret) {
			t.Errorf("output discloses the resolved secret: %s", out)
		}
		if strings.Contains(out, jiraSecret) {
			t.Errorf("output discloses the literal secret: %s", out)
		}
	}
	if got := fmt.Sprint(cfg.Jira.Token); got != "[redacted]" {
		t.Errorf("Sprint(secret) = %q, want [redacted]", got)
	}
	if got := cfg.Jira.Token.LogValue().String(); got != "[redacted]" {
		t.Errorf("LogValue = %q, want [redacted]", got)
	}
	if got := cfg.Jira.Token.GoString(); got != "[redacted]" {
		t.Errorf("GoString = %q, want [redacted]", got)
	}
}

func TestSecretZeroValue(t *testing.T) {
	var s Secret
	if s.IsSet() || s.Literal() || s.Reveal() != "" || s.String() != "[redacted]" {
		t.Errorf("zero Secret: set %v literal %v revealed %q string %q", s.IsSet(), s.Literal(), s.Reveal(), s.String())
	}
}
