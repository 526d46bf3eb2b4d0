// Package prometheus holds the example Prometheus alerting rules for
// jiralinkd; its test keeps them well-formed.
package prometheus

import (
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

type ruleFile struct {
	Groups []struct {
		Name  string `yaml:"name"`
		Rules []struct {
			Alert       string            `yaml:"alert"`
			Expr        string            `yaml:"expr"`
			For         string            `yaml:"for"`
			Labels      map[string]string `yaml:"labels"`
			Annotations map[string]string `yaml:"annotations"`
		} `yaml:"rules"`
	} `yaml:"groups"`
}

var metricRE = regexp.MustCompile(`jiralinkd_[a-z_]+`)

// TestAlertRules checks the structure Prometheus expects of a rule file and
// that every jiralinkd metric an expression uses exists.
func TestAlertRules(t *testing.T) {
	data, err := os.ReadFile("jiralinkd-alerts.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var f ruleFile
	dec := yaml.NewDecoder(strings.NewReader(string(data)))
	dec.KnownFields(true)
	if err := dec.Decode(&f); err != nil {
		t.Fatalf("jiralinkd-alerts.yaml: %v", err)
	}
	metrics, err := os.ReadFile("../../../indexer/metrics/metrics.go")
	if err != nil {
		t.Fatal(err)
	}
	if len(f.Groups) == 0 {
		t.Fatal("no rule groups")
	}
	seen := map[string]bool{}
	for _, g := range f.Groups {
		if g.Name == "" || len(g.Rules) == 0 {
			t.Errorf("group %q: needs a name and rules", g.Name)
		}
		for _, r := range g.Rules {
			if r.Alert == "" || r.Expr == "" {
				t.Errorf("rule %+v: alert and expr are required", r)
			}
			if seen[r.Alert] {
				t.Errorf("duplicate alert %s", r.Alert)
			}
			seen[r.Alert] = true
			if r.For != "" {
				if _, err := time.ParseDuration(r.For); err != nil {
					t.Errorf("%s: for: %v", r.Alert, err)
				}
			}
			if r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("%s: needs labels.severity and annotations.summary", r.Alert)
			}
			for _, m := range metricRE.FindAllString(r.Expr, -1) {
				suffix := strings.TrimPrefix(m, "jiralinkd_")
				if !strings.Contains(string(metrics), `"_`+suffix+`"`) && !strings.Contains(string(metrics), `Name: "`+suffix+`"`) {
					t.Errorf("%s: metric %s is not defined in indexer/metrics/metrics.go", r.Alert, m)
				}
			}
		}
	}
	for _, want := range []string{"JiralinkdRepoStale", "JiralinkdFailing", "JiralinkdJiraDown"} {
		if !seen[want] {
			t.Errorf("alert %s missing", want)
		}
	}
}
