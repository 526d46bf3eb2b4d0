//go:build ignore

// gen_rules extracts the curated subset of gitleaks' default rules into
// rules/gitleaks.json. It is run by hand when the rule set is updated:
//
//	curl -fsSLo /tmp/gitleaks.toml https://raw.githubusercontent.com/gitleaks/gitleaks/v8.30.1/config/gitleaks.toml
//	go run gen_rules.go -in /tmp/gitleaks.toml -out rules/gitleaks.json
//
// The input must have the SHA-256 recorded below, so the JSON is always a
// verbatim copy of the cited release (fields are copied, never edited). To
// move to a newer release, change source and wantSHA256 together, rerun,
// and rerun the package's tests (the corpus test guards against new false
// positives).
package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"

	"github.com/pelletier/go-toml/v2"
)

const (
	source     = "github.com/gitleaks/gitleaks v8.30.1, config/gitleaks.toml (MIT License, Copyright (c) 2019 Zachary Rice)"
	wantSHA256 = "e163e53b9e7e8a8511e77271e2b323ed057759542a6d988258afe3a1fa329caf"
)

// selected are the rule ids copied. The choice, and why others are left
// out, is explained in rules/README.md.
var selected = []string{
	// Cloud providers.
	"aws-access-token", "aws-amazon-bedrock-api-key-long-lived", "gcp-api-key",
	"azure-ad-client-secret", "alibaba-access-key-id",
	"digitalocean-access-token", "digitalocean-pat", "digitalocean-refresh-token",
	"heroku-api-key-v2",
	// GitHub.
	"github-app-token", "github-fine-grained-pat", "github-oauth", "github-pat", "github-refresh-token",
	// GitLab.
	"gitlab-cicd-job-token", "gitlab-deploy-token", "gitlab-feature-flag-client-token",
	"gitlab-feed-token", "gitlab-incoming-mail-token", "gitlab-kubernetes-agent-token",
	"gitlab-oauth-app-secret", "gitlab-pat", "gitlab-pat-routable", "gitlab-ptt", "gitlab-rrt",
	"gitlab-runner-authentication-token", "gitlab-runner-authentication-token-routable",
	"gitlab-scim-token", "gitlab-session-cookie",
	// Slack.
	"slack-app-token", "slack-bot-token", "slack-config-access-token", "slack-config-refresh-token",
	"slack-legacy-bot-token", "slack-legacy-token", "slack-legacy-workspace-token",
	"slack-user-token", "slack-webhook-url",
	// Atlassian (the tokens of the system jiralinkd writes to).
	"atlassian-api-token",
	// Private keys, JWTs, credentials on curl command lines.
	"private-key", "age-secret-key", "jwt", "jwt-base64", "curl-auth-header", "curl-auth-user",
	// Self-identifying tokens of common developer services.
	"anthropic-admin-api-key", "anthropic-api-key", "openai-api-key", "huggingface-access-token",
	"npm-access-token", "pypi-upload-token", "rubygems-api-token",
	"hashicorp-tf-api-token", "vault-batch-token", "vault-service-token",
	"databricks-api-token", "doppler-api-token", "dynatrace-api-token",
	"grafana-api-key", "grafana-cloud-api-token", "grafana-service-account-token",
	"sentry-org-token", "sentry-user-token", "postman-api-token", "pulumi-api-token",
	"sendgrid-api-token", "stripe-access-token", "linear-api-key", "notion-api-token",
	"shopify-access-token", "shopify-custom-access-token", "shopify-private-app-access-token",
	"shopify-shared-secret", "microsoft-teams-webhook",
}

type allowlist struct {
	Description string   `toml:"description" json:"description,omitempty"`
	Condition   string   `toml:"condition" json:"condition,omitempty"`
	RegexTarget string   `toml:"regexTarget" json:"regexTarget,omitempty"`
	Regexes     []string `toml:"regexes" json:"regexes,omitempty"`
	StopWords   []string `toml:"stopwords" json:"stopwords,omitempty"`
	Paths       []string `toml:"paths" json:"-"`
	Commits     []string `toml:"commits" json:"-"`
}

type rule struct {
	ID          string      `toml:"id" json:"id"`
	Description string      `toml:"description" json:"description"`
	Regex       string      `toml:"regex" json:"regex"`
	SecretGroup int         `toml:"secretGroup" json:"secretGroup,omitempty"`
	Entropy     float64     `toml:"entropy" json:"entropy,omitempty"`
	Keywords    []string    `toml:"keywords" json:"keywords"`
	Path        string      `toml:"path" json:"-"`
	Allowlists  []allowlist `toml:"allowlists" json:"allowlists,omitempty"`
}

type file struct {
	Source    string    `toml:"-" json:"source"`
	Allowlist allowlist `toml:"allowlist" json:"allowlist"`
	Rules     []rule    `toml:"rules" json:"rules"`
}

func main() {
	in := flag.String("in", "", "gitleaks.toml of the cited release")
	out := flag.String("out", "rules/gitleaks.json", "output")
	flag.Parse()
	data, err := os.ReadFile(*in)
	if err != nil {
		log.Fatal(err)
	}
	if sum := sha256.Sum256(data); hex.EncodeToString(sum[:]) != wantSHA256 {
		log.Fatalf("%s: sha256 %x, want %s (not the cited release)", *in, sum, wantSHA256)
	}
	var f file
	if err := toml.Unmarshal(data, &f); err != nil {
		log.Fatal(err)
	}
	got := file{Source: source, Allowlist: f.Allowlist}
	for _, r := range f.Rules {
		if !slices.Contains(selected, r.ID) {
			continue
		}
		if r.Path != "" || r.Regex == "" {
			log.Fatalf("%s: path rules do not apply to text", r.ID)
		}
		r.Allowlists, err = textAllowlists(r.ID, r.Allowlists)
		if err != nil {
			log.Fatal(err)
		}
		got.Rules = append(got.Rules, r)
	}
	if len(got.Rules) != len(selected) {
		log.Fatalf("found %d of the %d selected rules", len(got.Rules), len(selected))
	}
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false) // keep regexes readable: & < > verbatim
	enc.SetIndent("", "  ")
	if err := enc.Encode(got); err != nil {
		log.Fatal(err)
	}
	if err := os.WriteFile(*out, b.Bytes(), 0o644); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%s: %d rules\n", *out, len(got.Rules))
}

// textAllowlists keeps what applies to text without a file or commit:
// path and commit criteria can never match, so an OR allowlist keeps only
// its regexes and stopwords (and is dropped if nothing is left), and an AND
// allowlist with them could never apply at all, which the selection avoids.
func textAllowlists(id string, in []allowlist) ([]allowlist, error) {
	var out []allowlist
	for _, a := range in {
		pathOrCommit := len(a.Paths) > 0 || len(a.Commits) > 0
		if a.Condition == "AND" && pathOrCommit {
			return nil, fmt.Errorf("%s: AND allowlist with paths or commits cannot be applied to text", id)
		}
		if len(a.Regexes) == 0 && len(a.StopWords) == 0 {
			continue
		}
		out = append(out, a)
	}
	return out, nil
}
