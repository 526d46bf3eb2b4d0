// Package metrics defines jiralinkd's Prometheus metrics (namespace
// jiralinkd). Counters are fed by hooks wired in cmd/jiralinkd; gauges are
// read from a status snapshot at scrape time, so they are never stale.
package metrics

import (
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/status"
)

const ns = "jiralinkd"

// Metrics holds the counters and histograms.
type Metrics struct {
	passes       *prometheus.CounterVec
	passDuration *prometheus.HistogramVec
	indexed      *prometheus.CounterVec
	links        *prometheus.CounterVec
	requests     *prometheus.CounterVec
	webhooks     *prometheus.CounterVec
	webhookAck   *prometheus.HistogramVec
	jiraErrors   *prometheus.CounterVec
	redactions   *prometheus.CounterVec
}

// New creates the metrics and registers them, with a collector of the
// snapshot gauges, on reg.
func New(reg prometheus.Registerer, snap func() (status.Snapshot, error)) *Metrics {
	m := &Metrics{
		passes: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "sync_passes_total",
			Help: "Sync passes by provider and result (ok: every repo synced)."}, []string{"provider", "result"}),
		passDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "sync_pass_duration_seconds",
			Help:    "Duration of sync passes.",
			Buckets: []float64{0.1, 0.5, 1, 5, 15, 60, 300, 900, 3600, 14400}}, []string{"provider"}),
		indexed: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "indexed_total",
			Help: "New commits, branches and pull requests indexed."}, []string{"provider", "kind"}),
		links: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "links_total",
			Help: "Remote links created, updated and deleted in Jira."}, []string{"provider", "op"}),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "api_requests_total",
			Help: "HTTP requests to providers and Jira by system, endpoint class and status code (304 included; code 'error' when no response arrived)."},
			[]string{"system", "endpoint", "code"}),
		webhooks: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "webhook_deliveries_total",
			Help: "Webhook deliveries by provider and result."}, []string{"provider", "result"}),
		webhookAck: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "webhook_ack_duration_seconds",
			Help:    "Time from a delivery's arrival to its answer.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, 1}}, []string{"provider"}),
		jiraErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "jira_errors_total",
			Help: "Failed Jira requests by kind."}, []string{"kind"}),
		redactions: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "redactions_total",
			Help: "Credentials replaced by [REDACTED:rule] before text was written to Jira, by rule."}, []string{"rule"}),
	}
	reg.MustRegister(m.passes, m.passDuration, m.indexed, m.links, m.requests, m.webhooks, m.webhookAck, m.jiraErrors, m.redactions)
	if snap != nil {
		reg.MustRegister(&snapshotCollector{snap: snap})
	}
	return m
}

// JiraConcurrency registers the jiralinkd_jira_concurrency gauge: the
// adaptive bound of concurrent Jira calls (indexer.JiraLimiter.Limit), read
// at scrape time.
func JiraConcurrency(reg prometheus.Registerer, limit func() int) {
	reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Namespace: ns, Name: "jira_concurrency",
		Help: "Current bound of concurrent Jira calls (adapts between 1 and jira.max_concurrency)."},
		func() float64 { return float64(limit()) }))
}

// PassDone counts a finished pass.
func (m *Metrics) PassDone(provider string, rep indexer.Report, d time.Duration) {
	result := "ok"
	if rep.Failed() > 0 {
		result = "failed"
	}
	m.passes.WithLabelValues(provider, result).Inc()
	m.passDuration.WithLabelValues(provider).Observe(d.Seconds())
}

// RepoDone counts what one repo sync did.
func (m *Metrics) RepoDone(provider string, r indexer.RepoReport) {
	m.indexed.WithLabelValues(provider, "commit").Add(float64(r.Commits))
	m.indexed.WithLabelValues(provider, "branch").Add(float64(r.Branches))
	m.indexed.WithLabelValues(provider, "pull_request").Add(float64(r.Pulls))
	m.links.WithLabelValues(provider, "created").Add(float64(r.LinksWritten - r.LinksUpdated))
	m.links.WithLabelValues(provider, "updated").Add(float64(r.LinksUpdated))
	m.links.WithLabelValues(provider, "deleted").Add(float64(r.LinksDeleted))
}

// Redaction counts a credential removed from text bound for Jira.
func (m *Metrics) Redaction(rule string) { m.redactions.WithLabelValues(rule).Inc() }

// Webhook counts a delivery and its acknowledgement latency.
func (m *Metrics) Webhook(provider, result string, d time.Duration) {
	m.webhooks.WithLabelValues(provider, result).Inc()
	m.webhookAck.WithLabelValues(provider).Observe(d.Seconds())
}

// RequestObserver returns an httpx Observe hook counting requests of one
// system; classify turns a URL path into a low-cardinality endpoint class.
func (m *Metrics) RequestObserver(system string, classify func(path string) string) func(*http.Request, int, error) {
	isJira := system == "jira"
	return func(req *http.Request, status int, err error) {
		code := "error"
		if err == nil {
			code = strconv.Itoa(status)
		}
		m.requests.WithLabelValues(system, classify(req.URL.EscapedPath()), code).Inc()
		if isJira {
			if kind := jiraErrorKind(status, err); kind != "" {
				m.jiraErrors.WithLabelValues(kind).Inc()
			}
		}
	}
}

func jiraErrorKind(status int, err error) string {
	switch {
	case err != nil:
		return "network"
	case status < 400:
		return ""
	case status == 401:
		return "unauthorized"
	case status == 403:
		return "forbidden"
	case status == 404:
		return "not_found"
	case status == 429:
		return "rate_limited"
	case status >= 500:
		return "server"
	default:
		return "bad_request"
	}
}

var (
	jiraIssueRE  = regexp.MustCompile(`/issue/[^/]+/`)
	numericSegRE = regexp.MustCompile(`/[0-9]+(/|$)`)
)

// ClassifyJira maps a Jira REST path to its endpoint class, e.g.
// "issue/{key}/remotelink".
func ClassifyJira(path string) string {
	i := strings.Index(path, "/rest/api/")
	if i < 0 {
		return "other"
	}
	p := path[i+len("/rest/api/"):]
	if j := strings.IndexByte(p, '/'); j >= 0 {
		p = p[j+1:] // drop the version (2, latest)
	}
	p = jiraIssueRE.ReplaceAllString("/"+p+"/", "/issue/{key}/")
	p = numericSegRE.ReplaceAllString(p, "/{id}$1")
	return strings.Trim(p, "/")
}

// snapshotCollector exports the gauges of a status snapshot.
type snapshotCollector struct {
	snap func() (status.Snapshot, error)
}

var (
	reposDesc     = prometheus.NewDesc(ns+"_repos", "Repositories by provider and sync state.", []string{"provider", "state"}, nil)
	remainingDesc = prometheus.NewDesc(ns+"_rate_limit_remaining", "Requests left in the provider's current rate-limit window.", []string{"provider"}, nil)
	limitDesc     = prometheus.NewDesc(ns+"_rate_limit_limit", "Size of the provider's rate-limit window.", []string{"provider"}, nil)
	resetDesc     = prometheus.NewDesc(ns+"_rate_limit_reset_timestamp_seconds", "When the provider's rate-limit window resets (Unix time).", []string{"provider"}, nil)
	pausedDesc    = prometheus.NewDesc(ns+"_provider_paused", "1 while the provider's requests wait for a rate-limit reset.", []string{"provider"}, nil)
	queueDesc     = prometheus.NewDesc(ns+"_webhook_queue_depth", "Webhook deliveries accepted and not yet processed.", nil, nil)
	commitsDesc   = prometheus.NewDesc(ns+"_commits_indexed", "Commits indexed per provider (all repos).", []string{"provider"}, nil)
	successDesc   = prometheus.NewDesc(ns+"_last_success_timestamp_seconds", "When the repository was last known up to date: its last successful sync, or a later pass that found it unchanged (Unix time; 0 if never).", []string{"provider", "repo"}, nil)
	failuresDesc  = prometheus.NewDesc(ns+"_repo_consecutive_failures", "Failed syncs of the repository in a row (0 after a success).", []string{"provider", "repo"}, nil)
	healthDesc    = prometheus.NewDesc(ns+"_health", "Overall health: 1 for the current state (ok, degraded, failing), 0 for the others.", []string{"state"}, nil)
	expiryDesc    = prometheus.NewDesc(ns+"_token_expiry_timestamp_seconds", "When the token of the system (github, gitlab or jira) of the provider (jira for Jira) expires (Unix time); absent when unknown or never.", []string{"system", "provider"}, nil)
	installDesc   = prometheus.NewDesc(ns+"_installation_rate_limit_remaining", "Requests left in the current rate-limit window of a GitHub App installation.", []string{"provider", "installation"}, nil)
	installLimit  = prometheus.NewDesc(ns+"_installation_rate_limit_limit", "Size of the rate-limit window of a GitHub App installation.", []string{"provider", "installation"}, nil)
	systemDesc    = prometheus.NewDesc(ns+"_system_up", "1 if the last pass that reached the system (jira or a provider) succeeded, 0 if it failed or partly failed; absent before the first pass.", []string{"system"}, nil)
)

func (c *snapshotCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{reposDesc, remainingDesc, limitDesc, resetDesc, pausedDesc, queueDesc, commitsDesc, successDesc, failuresDesc, healthDesc, systemDesc, expiryDesc, installDesc, installLimit, backfillRemainingDesc, backfillETADesc} {
		ch <- d
	}
}

func (c *snapshotCollector) Collect(ch chan<- prometheus.Metric) {
	s, err := c.snap()
	if err != nil {
		ch <- prometheus.NewInvalidMetric(reposDesc, err)
		return
	}
	type pk struct{ provider, state string }
	byState := map[pk]int{}
	commits := map[string]int{}
	for _, p := range s.Providers {
		for _, st := range []string{"ok", "failed", "pending"} {
			byState[pk{p.Name, st}] = 0
		}
		commits[p.Name] = 0
	}
	for _, r := range s.Repos {
		byState[pk{r.Provider, string(r.State)}]++
		commits[r.Provider] += r.Commits
	}
	seen := map[pk]bool{} // a deleted repo and its namesake: one series
	for _, r := range s.Repos {
		if seen[pk{r.Provider, r.FullName}] {
			continue
		}
		seen[pk{r.Provider, r.FullName}] = true
		last := 0.0
		if !r.LastSuccess.IsZero() {
			last = float64(r.LastSuccess.Unix())
		}
		ch <- prometheus.MustNewConstMetric(successDesc, prometheus.GaugeValue, last, r.Provider, r.FullName)
		ch <- prometheus.MustNewConstMetric(failuresDesc, prometheus.GaugeValue, float64(r.Failures), r.Provider, r.FullName)
	}
	for _, h := range []status.Health{status.HealthOK, status.HealthDegraded, status.HealthFailing} {
		v := 0.0
		if s.Health == h {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(healthDesc, prometheus.GaugeValue, v, string(h))
	}
	up := func(system string, sys status.System) {
		if sys.State == "" {
			return
		}
		v := 0.0
		if sys.State == state.HealthOK {
			v = 1
		}
		ch <- prometheus.MustNewConstMetric(systemDesc, prometheus.GaugeValue, v, system)
	}
	up("jira", s.Jira)
	for _, p := range s.Providers {
		up(p.Name, p.System)
	}
	for k, n := range byState {
		ch <- prometheus.MustNewConstMetric(reposDesc, prometheus.GaugeValue, float64(n), k.provider, k.state)
	}
	for p, n := range commits {
		ch <- prometheus.MustNewConstMetric(commitsDesc, prometheus.GaugeValue, float64(n), p)
	}
	for _, p := range s.Providers {
		paused := 0.0
		if !p.PausedUntil.IsZero() {
			paused = 1
		}
		ch <- prometheus.MustNewConstMetric(pausedDesc, prometheus.GaugeValue, paused, p.Name)
		if !p.RateLimit.Known {
			continue
		}
		ch <- prometheus.MustNewConstMetric(remainingDesc, prometheus.GaugeValue, float64(p.RateLimit.Remaining), p.Name)
		ch <- prometheus.MustNewConstMetric(limitDesc, prometheus.GaugeValue, float64(p.RateLimit.Limit), p.Name)
		ch <- prometheus.MustNewConstMetric(resetDesc, prometheus.GaugeValue, float64(p.RateLimit.Reset.Unix()), p.Name)
	}
	if s.Jira.Token != nil {
		ch <- prometheus.MustNewConstMetric(expiryDesc, prometheus.GaugeValue, float64(s.Jira.Token.Expires.Unix()), "jira", "jira")
	}
	for _, p := range s.Providers {
		if p.Token != nil {
			ch <- prometheus.MustNewConstMetric(expiryDesc, prometheus.GaugeValue, float64(p.Token.Expires.Unix()), p.Type, p.Name)
		}
		for _, in := range p.Installations {
			if !in.Known {
				continue
			}
			id := strconv.FormatInt(in.ID, 10)
			ch <- prometheus.MustNewConstMetric(installDesc, prometheus.GaugeValue, float64(in.Remaining), p.Name, id)
			ch <- prometheus.MustNewConstMetric(installLimit, prometheus.GaugeValue, float64(in.Limit), p.Name, id)
		}
	}
	ch <- prometheus.MustNewConstMetric(queueDesc, prometheus.GaugeValue, float64(s.QueueDepth))
	collectBackfill(ch, s)
}
