package jirascan

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// FindingsReader is what the findings views read.
type FindingsReader interface {
	Findings(q state.FindingFilter) ([]state.Finding, error)
	ScanCursors() ([]state.ScanCursor, error)
}

// Collector exports jiralinkd_jira_secret_findings{project,rule,state},
// the number of findings, read from the store at scrape time (so never
// stale), and jiralinkd_jira_secret_scan_issues{project,kind} (scanned,
// total) for the historical scan's progress. Labels carry no secret: the
// rule id names the kind of credential only.
type Collector struct {
	store    FindingsReader
	findings *prometheus.Desc
	progress *prometheus.Desc
}

// NewCollector returns the collector. Only combinations with findings
// are exported (78 rules × projects × states would be mostly zeros): alert
// on sum by (project) (jiralinkd_jira_secret_findings{state="open"}) > 0.
func NewCollector(store FindingsReader) *Collector {
	return &Collector{
		store: store,
		findings: prometheus.NewDesc("jiralinkd_jira_secret_findings",
			"Secrets found in Jira issues by project, rule and state (open: still in Jira; resolved: gone at the last scan).",
			[]string{"project", "rule", "state"}, nil),
		progress: prometheus.NewDesc("jiralinkd_jira_secret_scan_issues",
			"Historical secret scan progress by project: issues scanned, and issues in the project.",
			[]string{"project", "kind"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *Collector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.findings
	ch <- c.progress
}

// Collect implements prometheus.Collector.
func (c *Collector) Collect(ch chan<- prometheus.Metric) {
	fs, err := c.store.Findings(state.FindingFilter{})
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.findings, err)
		return
	}
	type key struct{ project, rule, state string }
	counts := map[key]int{}
	for _, f := range fs {
		counts[key{f.Project, f.Rule, string(f.State)}]++
	}
	for k, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.findings, prometheus.GaugeValue, float64(n), k.project, k.rule, k.state)
	}
	cs, err := c.store.ScanCursors()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(c.progress, err)
		return
	}
	for _, cur := range cs {
		ch <- prometheus.MustNewConstMetric(c.progress, prometheus.GaugeValue, float64(cur.Scanned), cur.Project, "scanned")
		ch <- prometheus.MustNewConstMetric(c.progress, prometheus.GaugeValue, float64(cur.Total), cur.Project, "total")
	}
}
