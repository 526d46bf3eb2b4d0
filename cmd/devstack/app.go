package main

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

// The demo's GitHub App (devstack demo --github-app).
const (
	demoAppID          = 424242
	demoInstallationID = 4242421
)

// useGitHubApp makes the stack's GitHub provider authenticate as a GitHub
// App: it generates an RSA key (written to DIR/github-app.pem, 0600),
// registers the App and an installation on the apache organisation (all
// repositories) with the fake GitHub, and rewrites the provider's token
// and repos settings into an app section, so the repositories are
// discovered through the installation.
func (st *stack) useGitHubApp() error {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return fmt.Errorf("generate the App key: %w", err)
	}
	keyPath := filepath.Join(st.dir, "github-app.pem")
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	if err := os.WriteFile(keyPath, pemKey, 0o600); err != nil {
		return err
	}
	st.gh.RegisterApp(githubtest.App{ID: demoAppID, Slug: "jiralinkd-demo", Name: "jiralinkd demo", Owner: "apache", PublicKey: &key.PublicKey})
	st.gh.AddInstallation(githubtest.Installation{ID: demoInstallationID, Account: "apache", RateLimit: 12500})

	cfg, err := os.ReadFile(st.configPath)
	if err != nil {
		return err
	}
	const tokenLines = "    token_env: DEMO_GITHUB_TOKEN\n"
	const repoLines = "    repos: [apache/zookeeper]\n"
	s := string(cfg)
	if !strings.Contains(s, tokenLines) || !strings.Contains(s, repoLines) {
		return fmt.Errorf("devstack: unexpected demo configuration in %s", st.configPath)
	}
	s = strings.Replace(s, tokenLines, fmt.Sprintf("    app:                            # GitHub App (devstack demo --github-app)\n"+
		"      app_id: %d\n      private_key_file: %s\n", demoAppID, keyPath), 1)
	s = strings.Replace(s, repoLines, "    # no orgs or repos: every repository the App's installations can see\n", 1)
	return os.WriteFile(st.configPath, []byte(s), 0o600)
}
