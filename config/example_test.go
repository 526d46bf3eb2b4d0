package config

import (
	"os"
	"reflect"
	"testing"

	"github.com/jiralinkd/jiralinkd/providers"
)

// TestExampleConfig keeps config.example.yaml at the repository root valid.
func TestExampleConfig(t *testing.T) {
	const path = "../config.example.yaml"
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"JIRA_TOKEN": "jira-token", "GITHUB_TOKEN": "github-token"}
	cfg, err := Parse(data, path, mapEnv(env), mapFiles(nil))
	if err != nil {
		t.Fatalf("config.example.yaml is invalid:\n%v", err)
	}
	if ws := Warnings(cfg); len(ws) != 0 {
		t.Errorf("config.example.yaml has warnings: %v", ws)
	}
	if len(cfg.Providers) != 1 {
		t.Fatalf("got %d providers, want the github.com one (the others are commented out)", len(cfg.Providers))
	}
	p := cfg.Providers[0]
	if p.Type != providers.TypeGitHub || p.URL != DefaultGitHubURL || p.Token.Reveal() != "github-token" ||
		!reflect.DeepEqual(p.Orgs, []string{"acme"}) {
		t.Errorf("example provider = %+v", p)
	}
	if cfg.Jira.Token.Reveal() != "jira-token" {
		t.Errorf("example jira token not resolved from JIRA_TOKEN")
	}
}
