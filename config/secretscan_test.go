package config

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const scanBase = `jira:
  url: https://jira.example.com
  token: t
  projects: [ABC]
`

const providerBase = `providers:
  - name: gh
    type: github
    token: t
    orgs: [acme]
`

func TestSecretScanDefaultsAndValues(t *testing.T) {
	if cfg := mustParse(t, scanBase+"  secret_scan:\n    enabled: false\n    actions: [comment]\n"+providerBase, nil, nil); cfg.Jira.SecretScan != nil {
		t.Errorf("disabled scan configured: %+v", cfg.Jira.SecretScan)
	}
	cfg := mustParse(t, scanBase+"  secret_scan:\n    enabled: true\n"+providerBase, nil, nil)
	s := cfg.Jira.SecretScan
	if s == nil || !slices.Equal(s.Projects, []string{"ABC"}) || s.Schedule != DefaultSecretScanSchedule ||
		!slices.Equal(s.Fields, DefaultSecretScanFields) || len(s.Actions) != 0 || s.Label != "secret-detected" || s.Overlap != 10*time.Minute {
		t.Errorf("defaults: %+v", s)
	}
	cfg = mustParse(t, scanBase+`  secret_scan:
    enabled: true
    projects: [OPS]
    schedule: "@hourly"
    fields: [description, customfield_10010]
    actions: [comment, mask]
    label: leaked
    overlap: 1h
`+providerBase, nil, nil)
	s = cfg.Jira.SecretScan
	if !slices.Equal(s.Projects, []string{"OPS"}) || s.Schedule != "@hourly" || !s.Has("mask") || s.Has("label") ||
		!slices.Equal(s.Fields, []string{"description", "customfield_10010"}) || s.Label != "leaked" || s.Overlap != time.Hour {
		t.Errorf("values: %+v", s)
	}
}

func TestSecretScanProblems(t *testing.T) {
	doc := `jira:
  url: https://jira.example.com
  token: t
  secret_scan:
    enabled: true
    schedule: "* *"
    fields: [description, attachment]
    actions: [comment, delete]
    label: "two words"
` + providerBase
	got := strings.Join(problems(t, doc, nil, nil), "\n")
	for _, want := range []string{
		"jira.secret_scan.projects: required when jira.projects is empty",
		"jira.secret_scan.schedule: invalid cron expression",
		`jira.secret_scan.fields[1]: unknown field "attachment"`,
		`jira.secret_scan.actions[1]: unknown action "delete"`,
		"jira.secret_scan.label: invalid label",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing problem %q in:\n%s", want, got)
		}
	}
}

func TestRoutes(t *testing.T) {
	cfg := mustParse(t, scanBase+providerBase+`    routes:
      - repos: ["acme/payments-*", "acme/ledger"]
        projects: [PAY]
      - repos: ["acme/*"]
        projects: [ABC, OPS]
    routes_default: deny
    link_author: login
`, nil, nil)
	p := cfg.Providers[0]
	if !p.RoutesDefaultDeny || p.LinkAuthor != LinkAuthorLogin || len(p.Routes) != 2 {
		t.Fatalf("provider %+v", p)
	}
	for _, tc := range []struct {
		repo, project string
		allow         bool
		route         int
	}{
		{"acme/payments-api", "PAY", true, 0},
		{"ACME/Payments-API", "ABC", false, 0},
		{"acme/ledger", "PAY", true, 0},
		{"acme/web", "ABC", true, 1},
		{"acme/web", "PAY", false, 1},
		{"other/web", "ABC", false, -1},
	} {
		d := p.RouteFor(tc.repo)
		if d.Allows(tc.project) != tc.allow || d.Route != tc.route {
			t.Errorf("%s → %s: %+v", tc.repo, tc.project, d)
		}
		if !tc.allow && d.Reason(tc.project) == "" {
			t.Errorf("no reason")
		}
	}
	// Without routes_default: deny, unmatched repos link anywhere.
	cfg = mustParse(t, scanBase+providerBase+"    routes:\n      - repos: [\"acme/x\"]\n        projects: [PAY]\n", nil, nil)
	if d := cfg.Providers[0].RouteFor("acme/y"); !d.Allows("ANY") || d.Restricted {
		t.Errorf("default allow: %+v", d)
	}
	got := strings.Join(problems(t, scanBase+providerBase+`    routes:
      - repos: ["[bad"]
        projects: [pay]
      - projects: [PAY]
    routes_default: maybe
    link_author: email
`, nil, nil), "\n")
	for _, want := range []string{
		"providers[0].routes[0].repos[0]: invalid glob pattern",
		`providers[0].routes[0].projects[0]: invalid project key "pay"`,
		"providers[0].routes[1].repos: required",
		`providers[0].routes_default: invalid value "maybe"`,
		`providers[0].link_author: invalid value "email"`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing problem %q in:\n%s", want, got)
		}
	}
}
