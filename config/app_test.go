package config

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"strings"
	"sync"
	"testing"
)

var (
	testKeyOnce sync.Once
	testKeyPEM  string
)

// rsaPEM returns a PKCS #1 PEM RSA key, as GitHub generates for Apps.
func rsaPEM(t *testing.T) string {
	t.Helper()
	testKeyOnce.Do(func() {
		k, err := rsa.GenerateKey(rand.Reader, 2048)
		if err != nil {
			panic(err)
		}
		testKeyPEM = string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(k)}))
	})
	return testKeyPEM
}

const appProvider = `providers:
  - name: gh
    type: github
    app:
      app_id: 12345
      installation_id: 678
      private_key_file: /keys/app.pem
`

func TestAppProvider(t *testing.T) {
	key := rsaPEM(t)
	cfg := mustParse(t, validJira+appProvider, testEnv, map[string]string{"/keys/app.pem": key})
	p := cfg.Providers[0]
	if p.App == nil || p.App.AppID != 12345 || p.App.InstallationID != 678 || p.App.PrivateKey.Reveal() != strings.TrimSpace(key) {
		t.Fatalf("app = %+v", p.App)
	}
	if p.Token.IsSet() {
		t.Errorf("token set for an App provider")
	}
	if len(p.Orgs)+len(p.Repos) != 0 {
		t.Errorf("orgs/repos = %v %v, want none", p.Orgs, p.Repos)
	}
	// Never printed, logged or encoded.
	js, _ := json.Marshal(cfg)
	for _, out := range []string{fmt.Sprintf("%+v", cfg.Providers), fmt.Sprintf("%#v", *p.App), string(js)} {
		if strings.Contains(out, "PRIVATE KEY") || strings.Contains(out, key[40:80]) {
			t.Errorf("output discloses the private key: %s", out)
		}
	}
	if got := p.App.PrivateKey.Setting("providers[0].app.private_key"); got != "providers[0].app.private_key_file (/keys/app.pem)" {
		t.Errorf("Setting = %q", got)
	}
}

func TestAppKeyFromEnvWithEscapedNewlines(t *testing.T) {
	key := rsaPEM(t)
	env := map[string]string{"JIRA_TOKEN": "j", "APP_KEY": strings.ReplaceAll(key, "\n", `\n`)}
	cfg := mustParse(t, validJira+`providers:
  - name: gh
    type: github
    orgs: [acme]
    app: {app_id: 1, private_key_env: APP_KEY}
`, env, nil)
	if a := cfg.Providers[0].App; a.InstallationID != 0 || a.PrivateKey.Reveal() != strings.TrimSpace(key) {
		t.Errorf("app = %+v", a)
	}
}

func TestAppProblems(t *testing.T) {
	key := rsaPEM(t)
	ecKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ecDER, _ := x509.MarshalPKCS8PrivateKey(ecKey)
	files := map[string]string{
		"/keys/app.pem":  key,
		"/keys/bad.pem":  "-----BEGIN RSA PRIVATE KEY-----\nbm90IGEga2V5\n-----END RSA PRIVATE KEY-----\n",
		"/keys/cert.pem": "hello",
		"/keys/ec.pem":   string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER})),
	}
	for _, tc := range []struct {
		name, provider string
		want           []string
	}{
		{"token and app", `    token_env: GH_TOKEN
    orgs: [acme]
    app: {app_id: 1, private_key_file: /keys/app.pem}
`, []string{"providers[0].app: set either a token (token_env, token_file or token) or app, not both"}},
		{"missing key", `    app: {app_id: 1}
`, []string{"providers[0].app: private key required: set private_key_file, private_key_env or private_key (the .pem generated on the App's settings page)"}},
		{"two keys", `    app: {app_id: 1, private_key_file: /keys/app.pem, private_key_env: APP_KEY}
`, []string{"providers[0].app: set only one of private_key_env, private_key_file or private_key (found private_key_env and private_key_file)"}},
		{"missing app id", `    app: {private_key_file: /keys/app.pem}
`, []string{`providers[0].app.app_id: required: the App's numeric ID (the App's settings page, "App ID")`}},
		{"bad installation", `    app: {app_id: 1, installation_id: -4, private_key_file: /keys/app.pem}
`, []string{"providers[0].app.installation_id: must be a positive installation ID, got -4 (leave it out to use every installation)"}},
		{"unreadable key", `    app: {app_id: 1, private_key_file: /keys/none.pem}
`, []string{`providers[0].app.private_key_file: cannot read "/keys/none.pem": file does not exist`}},
		{"bad PEM", `    app: {app_id: 1, private_key_file: /keys/bad.pem}
`, []string{"providers[0].app.private_key_file: invalid RSA private key: "}},
		{"not PEM", `    app: {app_id: 1, private_key_file: /keys/cert.pem}
`, []string{"providers[0].app.private_key_file: not a PEM-encoded private key (no -----BEGIN ... PRIVATE KEY----- block): use the .pem file"}},
		{"not RSA", `    app: {app_id: 1, private_key_file: /keys/ec.pem}
`, []string{"providers[0].app.private_key_file: not an RSA private key (GitHub Apps sign with RS256)"}},
		{"literal not PEM", `    app: {app_id: 1, private_key: nope}
`, []string{"providers[0].app.private_key: not a PEM-encoded private key"}},
		{"unknown key", `    app: {app_id: 1, private_key_file: /keys/app.pem, client_id: Iv1}
`, []string{"providers[0].app.client_id: unknown key"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := problems(t, validJira+"providers:\n  - name: gh\n    type: github\n"+tc.provider, testEnv, files)
			if len(got) != len(tc.want) {
				t.Fatalf("problems = %q, want %q", got, tc.want)
			}
			for i := range got {
				if !strings.HasPrefix(got[i], tc.want[i]) {
					t.Errorf("problem %d = %q, want prefix %q", i, got[i], tc.want[i])
				}
				if strings.Contains(got[i], "bm90IGEga2V5") {
					t.Errorf("problem quotes the key: %q", got[i])
				}
			}
		})
	}
	// On a gitlab provider, and nothing to index without an App.
	got := problems(t, validJira+`providers:
  - name: gl
    type: gitlab
    groups: [g]
    app: {app_id: 1, private_key_file: /keys/app.pem}
  - name: gh
    type: github
    token_env: GH_TOKEN
`, testEnv, files)
	want := []string{"providers[0].app: only for github providers (GitHub Apps)", "providers[1]: nothing to index: set orgs or repos"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("problems = %q, want %q", got, want)
	}
}

func TestAppLiteralKeyWarning(t *testing.T) {
	key := rsaPEM(t)
	indented := "        " + strings.ReplaceAll(strings.TrimSpace(key), "\n", "\n        ")
	cfg := mustParse(t, validJira+"providers:\n  - name: gh\n    type: github\n    app:\n      app_id: 1\n      private_key: |\n"+indented+"\n", testEnv, nil)
	var found bool
	for _, w := range Warnings(cfg) {
		if w.Path == "providers[0].app.private_key" {
			found = true
		}
	}
	if !found {
		t.Errorf("no warning for a literal private key: %v", Warnings(cfg))
	}
}
