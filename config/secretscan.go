package config

import (
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// rawSecretScan is jira.secret_scan.
type rawSecretScan struct {
	Enabled  bool           `mapstructure:"enabled"`
	Projects []string       `mapstructure:"projects"`
	Schedule string         `mapstructure:"schedule"`
	Fields   []string       `mapstructure:"fields"`
	Actions  []string       `mapstructure:"actions"`
	Label    string         `mapstructure:"label"`
	Overlap  *time.Duration `mapstructure:"overlap"`
}

// Secret scanning defaults.
const (
	DefaultSecretScanSchedule = "*/15 * * * *"
	DefaultSecretScanLabel    = "secret-detected"
	DefaultSecretScanOverlap  = 10 * time.Minute
)

// DefaultSecretScanFields are the fields scanned when fields is not set.
var DefaultSecretScanFields = []string{"summary", "description", "environment", "comment"}

// SecretScan configures Jira secret scanning (jira.secret_scan).
type SecretScan struct {
	// Projects are the project keys scanned (default jira.projects).
	Projects []string
	Schedule string // cron schedule of scan passes
	// Fields are summary, description, environment, comment and text
	// custom fields by id (customfield_10010).
	Fields []string
	// Actions are the opt-in actions on new findings: comment, label, mask.
	Actions []string
	Label   string        // the label action's label
	Overlap time.Duration // how far before the last pass a live pass reads
}

// Has reports whether an action is enabled.
func (s *SecretScan) Has(action string) bool { return slices.Contains(s.Actions, action) }

var (
	customFieldRE = regexp.MustCompile(`^customfield_[0-9]+$`)
	// labelRE is a Jira label: no whitespace, at most 255 characters.
	labelRE = regexp.MustCompile(`^[^\s]{1,255}$`)
)

// buildSecretScan validates jira.secret_scan; nil unless enabled.
func buildSecretScan(raw *rawSecretScan, jiraProjects []string, c *collector) *SecretScan {
	const p = "jira.secret_scan"
	if raw == nil || !raw.Enabled {
		return nil
	}
	s := &SecretScan{Projects: raw.Projects, Schedule: raw.Schedule, Fields: raw.Fields, Actions: raw.Actions,
		Label: raw.Label, Overlap: DefaultSecretScanOverlap}
	if len(s.Projects) == 0 {
		s.Projects = jiraProjects
	}
	if s.Schedule == "" {
		s.Schedule = DefaultSecretScanSchedule
	}
	if len(s.Fields) == 0 {
		s.Fields = DefaultSecretScanFields
	}
	if s.Label == "" {
		s.Label = DefaultSecretScanLabel
	}
	if raw.Overlap != nil {
		s.Overlap = *raw.Overlap
	}
	if len(s.Projects) == 0 {
		c.check(p+".projects", "required when jira.projects is empty: the project keys to scan, e.g. [ABC, OPS]")
	}
	seen := map[string]bool{}
	for i, key := range raw.Projects {
		ip := fmt.Sprintf("%s.projects[%d]", p, i)
		switch {
		case !projectKeyRE.MatchString(key):
			c.check(ip, fmt.Sprintf("invalid project key %q: must match %s", key, projectKeyRE))
		case seen[key]:
			c.check(ip, fmt.Sprintf("duplicate project %q", key))
		}
		seen[key] = true
	}
	if msg := checkSchedule(s.Schedule); msg != "" {
		c.check(p+".schedule", msg)
	}
	for i, f := range raw.Fields {
		switch {
		case slices.Contains(DefaultSecretScanFields, f), customFieldRE.MatchString(f):
		default:
			c.check(fmt.Sprintf("%s.fields[%d]", p, i), fmt.Sprintf("unknown field %q: want summary, description, environment, comment or a text custom field id such as customfield_10010", f))
		}
	}
	for i, a := range raw.Actions {
		switch a {
		case "comment", "label", "mask":
		default:
			c.check(fmt.Sprintf("%s.actions[%d]", p, i), fmt.Sprintf("unknown action %q: want comment, label or mask", a))
		}
	}
	if !labelRE.MatchString(s.Label) {
		c.check(p+".label", fmt.Sprintf("invalid label %q: Jira labels have no spaces", strings.TrimSpace(s.Label)))
	}
	if s.Overlap < 0 || s.Overlap > 24*time.Hour {
		c.check(p+".overlap", "must be between 0s and 24h")
	}
	return s
}
