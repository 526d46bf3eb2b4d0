package config

import (
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/jiralinkd/jiralinkd/providers"
)

// buildApp validates the app section of a provider (path pp.app): only
// for GitHub, not together with a token, a positive app_id, an optional
// positive installation_id and exactly one private key source holding a
// PEM-encoded RSA private key. Messages name the key to fix, never the key
// material.
func buildApp(pp string, typ providers.Type, raw *rawApp, tokenSet bool,
	env func(string) string, readFile func(string) ([]byte, error), c *collector) *GitHubApp {
	ap := pp + ".app"
	if typ != "" && typ != providers.TypeGitHub {
		c.check(ap, "only for github providers (GitHub Apps)")
	}
	if tokenSet {
		c.check(ap, "set either a token (token_env, token_file or token) or app, not both")
	}
	a := &GitHubApp{AppID: int64(raw.AppID)}
	if raw.AppID <= 0 {
		c.check(ap+".app_id", "required: the App's numeric ID (the App's settings page, \"App ID\")")
	}
	if raw.InstallationID != nil {
		a.InstallationID = int64(*raw.InstallationID)
		if a.InstallationID <= 0 {
			c.check(ap+".installation_id", fmt.Sprintf("must be a positive installation ID, got %d (leave it out to use every installation)", a.InstallationID))
		}
	}
	var keySet bool
	a.PrivateKey, keySet = resolveSecret(ap, secretKeys{"private_key_env", "private_key_file", "private_key"},
		raw.PrivateKeyEnv, raw.PrivateKeyFile, raw.PrivateKey, env, readFile, c)
	if !keySet {
		c.check(ap, "private key required: set private_key_file, private_key_env or private_key (the .pem generated on the App's settings page)")
		return a
	}
	if !a.PrivateKey.IsSet() {
		return a // unreadable or empty: already reported
	}
	if a.PrivateKey.Source == SourceEnv && !strings.Contains(a.PrivateKey.value, "\n") {
		// A PEM squeezed into one line of an env file, newlines escaped.
		a.PrivateKey.value = strings.TrimSpace(strings.ReplaceAll(a.PrivateKey.value, `\n`, "\n"))
	}
	if err := checkRSAKey(a.PrivateKey.value); err != nil {
		key := "private_key"
		switch a.PrivateKey.Source {
		case SourceEnv:
			key = "private_key_env"
		case SourceFile:
			key = "private_key_file"
		}
		c.check(childPath(ap, key), fmt.Sprintf("%s: use the .pem file generated on the App's settings page (Private keys → Generate a private key)", err))
	}
	return a
}

// errNotPEM and friends describe a private key that cannot be used.
var (
	errNotPEM    = errors.New("not a PEM-encoded private key (no -----BEGIN ... PRIVATE KEY----- block)")
	errNotRSAKey = errors.New("not an RSA private key (GitHub Apps sign with RS256)")
)

// checkRSAKey reports why pemData is not a PEM-encoded RSA private key
// (PKCS #1, as GitHub generates it, or PKCS #8). The error never quotes the
// key.
func checkRSAKey(pemData string) error {
	block, _ := pem.Decode([]byte(strings.TrimSpace(pemData)))
	if block == nil {
		return errNotPEM
	}
	switch block.Type {
	case "RSA PRIVATE KEY":
		if _, err := x509.ParsePKCS1PrivateKey(block.Bytes); err != nil {
			return fmt.Errorf("invalid RSA private key: %w", err)
		}
	case "PRIVATE KEY":
		k, err := x509.ParsePKCS8PrivateKey(block.Bytes)
		if err != nil {
			return fmt.Errorf("invalid PKCS #8 private key: %w", err)
		}
		if _, ok := k.(*rsa.PrivateKey); !ok {
			return errNotRSAKey
		}
	default:
		return fmt.Errorf("PEM block is %q, want \"RSA PRIVATE KEY\"", block.Type)
	}
	return nil
}
