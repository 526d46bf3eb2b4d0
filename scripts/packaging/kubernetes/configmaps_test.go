// Package kubernetes holds the example Kubernetes manifests for jiralinkd;
// its test keeps the configuration they carry valid for this build.
package kubernetes

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/jiralinkd/jiralinkd/config"
)

// TestConfigMapsHoldValidConfigurations loads the config.yaml embedded in
// each ConfigMap with jiralinkd's own loader (secrets from stand-in env
// variables and files) and checks the parts the manifests rely on.
func TestConfigMapsHoldValidConfigurations(t *testing.T) {
	for _, c := range []struct {
		file    string
		backend string
	}{
		{"configmap.yaml", config.BackendBolt},
		{"ha/configmap.yaml", config.BackendPostgres},
	} {
		t.Run(c.file, func(t *testing.T) {
			raw, err := os.ReadFile(c.file)
			if err != nil {
				t.Fatal(err)
			}
			var cm struct {
				Kind string            `yaml:"kind"`
				Data map[string]string `yaml:"data"`
			}
			if err := yaml.Unmarshal(raw, &cm); err != nil {
				t.Fatal(err)
			}
			body, ok := cm.Data["config.yaml"]
			if cm.Kind != "ConfigMap" || !ok {
				t.Fatalf("not a ConfigMap with data.config.yaml: %+v", cm)
			}
			env := func(name string) string { // the tokens' variables, not JIRALINKD_* overrides
				if strings.HasPrefix(name, "JIRALINKD_") {
					return ""
				}
				return "stand-in-secret-0123456789"
			}
			files := func(p string) ([]byte, error) {
				if strings.HasSuffix(p, "/dsn") {
					return []byte("postgres://jiralinkd:pw@db.example.com:5432/jiralinkd"), nil
				}
				return []byte("stand-in-secret-0123456789"), nil
			}
			cfg, err := config.Parse([]byte(body), c.file+": config.yaml", env, files)
			if err != nil {
				t.Fatalf("embedded configuration is invalid:\n%v", err)
			}
			got := cfg.State.Backend
			if got == "" {
				got = config.BackendBolt
			}
			if got != c.backend {
				t.Errorf("state.backend %q, want %q", got, c.backend)
			}
			if len(cfg.Providers) == 0 || cfg.Jira.URL == "" {
				t.Errorf("configuration without Jira or providers: %+v", cfg)
			}
		})
	}
}
