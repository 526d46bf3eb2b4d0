package config

import (
	"strings"
	"testing"
)

func TestWebhookSection(t *testing.T) {
	base := `jira:
  url: https://jira.example.com
  token_env: JT
providers:
  - name: gh
    type: github
    token_env: GT
    repos: [a/b]
`
	env := func(k string) string {
		return map[string]string{"JT": "j", "GT": "g", "WH": "hook-secret", "SIG": "whsec_c2lnbmluZw=="}[k]
	}
	cases := []struct {
		name, yaml, wantErr string
		check               func(t *testing.T, c *Config)
	}{
		{"github secret", base + "    webhook:\n      secret_env: WH\n", "", func(t *testing.T, c *Config) {
			if c.Providers[0].Webhook == nil || c.Providers[0].Webhook.Secret.Reveal() != "hook-secret" {
				t.Errorf("webhook = %+v", c.Providers[0].Webhook)
			}
		}},
		{"no webhook section", base, "", func(t *testing.T, c *Config) {
			if c.Providers[0].Webhook != nil {
				t.Error("webhook enabled without a section")
			}
		}},
		{"github without secret", base + "    webhook: {}\n", "providers[0].webhook: secret required", nil},
		{"github signing token", base + "    webhook:\n      secret_env: WH\n      signing_token_env: SIG\n", "providers[0].webhook: signing_token is only for gitlab", nil},
		{"unset secret variable", base + "    webhook:\n      secret_env: NOPE\n", "providers[0].webhook.secret_env: environment variable NOPE is not set", nil},
		{"unknown key", base + "    webhook:\n      secrets_env: WH\n", `providers[0].webhook.secrets_env: unknown key (did you mean "secret_env"?)`, nil},
		{"gitlab signing only", strings.Replace(strings.Replace(base, "type: github", "type: gitlab", 1), "repos: [a/b]", "projects: [g/p]", 1) +
			"    webhook:\n      signing_token_env: SIG\n", "", func(t *testing.T, c *Config) {
			w := c.Providers[0].Webhook
			if w == nil || w.SigningToken.Reveal() != "whsec_c2lnbmluZw==" || w.Secret.IsSet() {
				t.Errorf("webhook = %+v", w)
			}
		}},
		{"gitlab nothing", strings.Replace(strings.Replace(base, "type: github", "type: gitlab", 1), "repos: [a/b]", "projects: [g/p]", 1) +
			"    webhook: {}\n", "providers[0].webhook: secret or signing token required", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse([]byte(tc.yaml), "test.yaml", env, nil)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("want error containing %q, got %v", tc.wantErr, err)
				}
				if strings.Contains(err.Error(), "hook-secret") {
					t.Error("error shows the secret")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tc.check(t, c)
		})
	}
}

func TestAdminToken(t *testing.T) {
	base := "jira:\n  url: https://jira.example.com\n  token_env: JT\nproviders:\n  - name: gh\n    type: github\n    token_env: JT\n    repos: [a/b]\n"
	env := func(k string) string {
		return map[string]string{"JT": "j", "ADM": "0123456789abcdef0123", "SHORT": "abc"}[k]
	}
	c, err := Parse([]byte("http:\n  admin_token_env: ADM\n"+base), "t.yaml", env, nil)
	if err != nil || c.HTTP.AdminToken.Reveal() != "0123456789abcdef0123" {
		t.Fatalf("admin token: %v", err)
	}
	if c, _ := Parse([]byte(base), "t.yaml", env, nil); c.HTTP.AdminToken.IsSet() {
		t.Error("admin token set without configuration")
	}
	// The problem names the key that was set.
	for doc, key := range map[string]string{
		"http:\n  admin_token_env: SHORT\n":       "http.admin_token_env: too short",
		"http:\n  admin_token_file: /short\n":     "http.admin_token_file: too short",
		"http:\n  admin_token: abcabcabcabcabc\n": "http.admin_token: too short",
	} {
		readFile := func(string) ([]byte, error) { return []byte("abc\n"), nil }
		_, err = Parse([]byte(doc+base), "t.yaml", env, readFile)
		if err == nil || !strings.Contains(err.Error(), key) || strings.Contains(err.Error(), "abc") {
			t.Errorf("short admin token %q: %v", doc, err)
		}
	}
}

func TestEnvSecretsAreTrimmed(t *testing.T) {
	y := "jira:\n  url: https://jira.example.com\n  token_env: JT\nproviders:\n  - name: gh\n    type: github\n    token_env: GT\n    repos: [a/b]\n"
	c, err := Parse([]byte(y), "t.yaml", func(k string) string { return map[string]string{"JT": "jira-tok\n", "GT": "  gh-tok\r\n"}[k] }, nil)
	if err != nil {
		t.Fatal(err)
	}
	if c.Jira.Token.Reveal() != "jira-tok" || c.Providers[0].Token.Reveal() != "gh-tok" {
		t.Errorf("env secrets not trimmed: %q %q", c.Jira.Token.Reveal(), c.Providers[0].Token.Reveal())
	}
}
