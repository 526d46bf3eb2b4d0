package metrics

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/status"
)

func snapshot() (status.Snapshot, error) {
	return status.Snapshot{
		Providers: []status.Provider{
			{Name: "github", RateLimit: status.RateLimit{Known: true, Limit: 5000, Remaining: 4321, Reset: time.Unix(1700000000, 0)}},
			{Name: "gitlab", PausedUntil: time.Now().Add(time.Minute)},
		},
		Repos: []status.Repo{
			{Provider: "github", FullName: "acme/a", State: state.RepoOK, Commits: 10, LastSuccess: time.Unix(1700000100, 0)},
			{Provider: "github", FullName: "acme/b", State: state.RepoOK, Commits: 5, LastSuccess: time.Unix(1700000200, 0)},
			{Provider: "github", FullName: "acme/c", State: state.RepoFailed, Failures: 3},
		},
		QueueDepth: 3,
	}, nil
}

func TestMetricsNamesAndValues(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	m := New(reg, snapshot)

	m.PassDone("github", indexer.Report{Repos: []indexer.RepoReport{{}, {Err: errors.New("x")}}}, 2*time.Second)
	m.RepoDone("github", indexer.RepoReport{Commits: 7, Branches: 2, Pulls: 1, LinksWritten: 9, LinksUpdated: 4, LinksDeleted: 1})
	m.Webhook("github", "queued", 3*time.Millisecond)
	obs := m.RequestObserver("jira", ClassifyJira)
	req, _ := http.NewRequest("POST", "https://jira.example.com/jira/rest/api/2/issue/ABC-12/remotelink", nil)
	obs(req, 201, nil)
	obs(req, 429, nil)
	obs(req, 0, errors.New("refused"))
	gh := m.RequestObserver("github", func(string) string { return "/repos/{owner}/{repo}/branches" })
	obs304, _ := http.NewRequest("GET", "https://api.github.com/repos/a/b/branches", nil)
	gh(obs304, 304, nil)

	problems, err := testutil.GatherAndLint(reg)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("lint %s: %s", p.Metric, p.Text)
	}

	expect := `
# HELP jiralinkd_links_total Remote links created, updated and deleted in Jira.
# TYPE jiralinkd_links_total counter
jiralinkd_links_total{op="created",provider="github"} 5
jiralinkd_links_total{op="deleted",provider="github"} 1
jiralinkd_links_total{op="updated",provider="github"} 4
# HELP jiralinkd_last_success_timestamp_seconds When the repository was last known up to date: its last successful sync, or a later pass that found it unchanged (Unix time; 0 if never).
# TYPE jiralinkd_last_success_timestamp_seconds gauge
jiralinkd_last_success_timestamp_seconds{provider="github",repo="acme/a"} 1.7000001e+09
jiralinkd_last_success_timestamp_seconds{provider="github",repo="acme/b"} 1.7000002e+09
jiralinkd_last_success_timestamp_seconds{provider="github",repo="acme/c"} 0
# HELP jiralinkd_repo_consecutive_failures Failed syncs of the repository in a row (0 after a success).
# TYPE jiralinkd_repo_consecutive_failures gauge
jiralinkd_repo_consecutive_failures{provider="github",repo="acme/a"} 0
jiralinkd_repo_consecutive_failures{provider="github",repo="acme/b"} 0
jiralinkd_repo_consecutive_failures{provider="github",repo="acme/c"} 3
# HELP jiralinkd_repos Repositories by provider and sync state.
# TYPE jiralinkd_repos gauge
jiralinkd_repos{provider="github",state="failed"} 1
jiralinkd_repos{provider="github",state="ok"} 2
jiralinkd_repos{provider="github",state="pending"} 0
jiralinkd_repos{provider="gitlab",state="failed"} 0
jiralinkd_repos{provider="gitlab",state="ok"} 0
jiralinkd_repos{provider="gitlab",state="pending"} 0
# HELP jiralinkd_sync_passes_total Sync passes by provider and result (ok: every repo synced).
# TYPE jiralinkd_sync_passes_total counter
jiralinkd_sync_passes_total{provider="github",result="failed"} 1
# HELP jiralinkd_webhook_queue_depth Webhook deliveries accepted and not yet processed.
# TYPE jiralinkd_webhook_queue_depth gauge
jiralinkd_webhook_queue_depth 3
# HELP jiralinkd_rate_limit_remaining Requests left in the provider's current rate-limit window.
# TYPE jiralinkd_rate_limit_remaining gauge
jiralinkd_rate_limit_remaining{provider="github"} 4321
# HELP jiralinkd_provider_paused 1 while the provider's requests wait for a rate-limit reset.
# TYPE jiralinkd_provider_paused gauge
jiralinkd_provider_paused{provider="github"} 0
jiralinkd_provider_paused{provider="gitlab"} 1
# HELP jiralinkd_jira_errors_total Failed Jira requests by kind.
# TYPE jiralinkd_jira_errors_total counter
jiralinkd_jira_errors_total{kind="network"} 1
jiralinkd_jira_errors_total{kind="rate_limited"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(expect),
		"jiralinkd_links_total", "jiralinkd_repos", "jiralinkd_sync_passes_total", "jiralinkd_webhook_queue_depth",
		"jiralinkd_rate_limit_remaining", "jiralinkd_provider_paused", "jiralinkd_jira_errors_total",
		"jiralinkd_last_success_timestamp_seconds", "jiralinkd_repo_consecutive_failures"); err != nil {
		t.Error(err)
	}
	if n := testutil.ToFloat64(m.requests.WithLabelValues("jira", "issue/{key}/remotelink", "201")); n != 1 {
		t.Errorf("jira remotelink 201 = %v", n)
	}
	if n := testutil.ToFloat64(m.requests.WithLabelValues("github", "/repos/{owner}/{repo}/branches", "304")); n != 1 {
		t.Errorf("github 304 = %v", n)
	}
}

func TestClassifyJira(t *testing.T) {
	for path, want := range map[string]string{
		"/rest/api/2/issue/ABC-1/remotelink":           "issue/{key}/remotelink",
		"/jira/rest/api/latest/issue/ABC-1/remotelink": "issue/{key}/remotelink",
		"/rest/api/2/issue/ABC-1/remotelink/10001":     "issue/{key}/remotelink/{id}",
		"/rest/api/2/search":                           "search",
		"/rest/api/2/project":                          "project",
		"/jira/secure/Dashboard.jspa":                  "other",
	} {
		if got := ClassifyJira(path); got != want {
			t.Errorf("ClassifyJira(%q) = %q, want %q", path, got, want)
		}
	}
}

func TestJiraConcurrencyGauge(t *testing.T) {
	reg := prometheus.NewRegistry()
	lim := indexer.NewJiraLimiter(indexer.JiraLimitOptions{Max: 8})
	JiraConcurrency(reg, lim.Limit)
	want := `# HELP jiralinkd_jira_concurrency Current bound of concurrent Jira calls (adapts between 1 and jira.max_concurrency).
# TYPE jiralinkd_jira_concurrency gauge
jiralinkd_jira_concurrency 4
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "jiralinkd_jira_concurrency"); err != nil {
		t.Error(err)
	}
}
