package config

import (
	"strings"
	"testing"
	"time"
)

func TestBuildsAndDeploymentsConfig(t *testing.T) {
	cfg := mustParse(t, validJira+validProvider+`    builds: true
    deployments:
      enabled: true
      environments: [production, "staging-*"]
    builds_since: 720h
`, testEnv, nil)
	p := cfg.Providers[0]
	if !p.Builds || p.Deployments == nil || p.BuildsSince != 720*time.Hour {
		t.Fatalf("provider = %+v", p)
	}
	for env, want := range map[string]bool{"production": true, "staging-eu": true, "qa": false} {
		if got := p.Deployments.Matches(env); got != want {
			t.Errorf("Matches(%q) = %v, want %v", env, got, want)
		}
	}

	off := mustParse(t, validJira+validProvider+`    deployments:
      enabled: false
      environments: [production]
`, testEnv, nil).Providers[0]
	if off.Builds || off.Deployments != nil || off.BuildsSince != 90*24*time.Hour {
		t.Errorf("defaults: %+v", off)
	}
	all := mustParse(t, validJira+validProvider+"    deployments: {enabled: true}\n", testEnv, nil).Providers[0]
	if all.Deployments == nil || !all.Deployments.Matches("anything") {
		t.Errorf("no environments should match every one: %+v", all.Deployments)
	}

	got := problems(t, validJira+validProvider+`    builds: "yes"
    deployments: {enabled: true, environments: ["[bad"]}
    builds_since: -1h
`, testEnv, nil)
	joined := strings.Join(got, "\n")
	for _, want := range []string{"providers[0].builds", "providers[0].deployments.environments[0]"} {
		if !strings.Contains(joined, want) {
			t.Errorf("problems lack %s:\n%s", want, joined)
		}
	}
}
