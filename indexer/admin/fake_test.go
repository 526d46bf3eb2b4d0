package admin

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/mux"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/status"
)

const testToken = "adm-0123456789-secret-token"

var testNow = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

// fakeBackend is a hand-written Backend over an in-memory snapshot. Resync
// behaves like the daemon's: unknown repos and repos already syncing are
// refused, otherwise the repo flips to syncing.
type fakeBackend struct {
	mu        sync.Mutex
	snap      status.Snapshot
	snapErr   error
	links     map[string][]state.IssueLink
	linksErr  error
	resyncErr error // returned by every Resync when set
	resyncs   []string
}

func (f *fakeBackend) Snapshot() (status.Snapshot, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := f.snap
	s.Repos = append([]status.Repo(nil), f.snap.Repos...)
	return s, f.snapErr
}

func (f *fakeBackend) IssueLinks(issue string) ([]state.IssueLink, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.links[issue], f.linksErr
}

func (f *fakeBackend) Resync(provider, fullName string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.resyncs = append(f.resyncs, provider+" "+fullName)
	if f.resyncErr != nil {
		return f.resyncErr
	}
	for i, r := range f.snap.Repos {
		if r.Provider == provider && r.FullName == fullName {
			if r.Syncing {
				return ErrBusy
			}
			f.snap.Repos[i].Syncing = true
			return nil
		}
	}
	return ErrUnknownRepo
}

func (f *fakeBackend) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.resyncs...)
}

// newFakeBackend returns a backend with a GitHub and a GitLab provider and
// three repos in different states.
func newFakeBackend() *fakeBackend {
	at := func(d time.Duration) time.Time { return testNow.Add(d) }
	return &fakeBackend{
		snap: status.Snapshot{
			Time: testNow, Version: "v1.2.3", Health: status.HealthDegraded,
			Problems: []string{"provider github: 1 of 2 repositories failed"},
			Jira:     status.System{State: state.HealthOK, LastPass: at(-2 * time.Minute), LastSuccess: at(-2 * time.Minute)},
			Providers: []status.Provider{
				{Name: "github", Type: "github", Schedule: "*/5 * * * *", NextRun: at(3 * time.Minute), Running: true,
					System: status.System{State: state.HealthPartial, LastPass: at(-2 * time.Minute), LastSuccess: at(-50 * time.Hour),
						LastError: "acme/web: list branches: 403 Forbidden", FailureKind: "forbidden", Failures: 3, ReposFailed: 1}, Webhook: true,
					RateLimit: status.RateLimit{Known: true, Limit: 5000, Remaining: 4990, Reset: at(30 * time.Minute)}},
				{Name: "gitlab", Type: "gitlab", Schedule: "@every 10m", PausedUntil: at(10 * time.Minute)},
			},
			Repos: []status.Repo{
				{Provider: "github", ID: 77, FullName: "acme/api", URL: "https://github.com/acme/api", State: state.RepoOK,
					LastSync: at(-3 * time.Minute), LastSuccess: at(-3 * time.Minute), Branches: 4, Commits: 5343, Links: 1234},
				{Provider: "github", ID: 78, FullName: "acme/web", URL: "https://github.com/acme/web", State: state.RepoFailed,
					LastSync: at(-90 * time.Minute), LastSuccess: at(-50 * time.Hour), LastError: "list branches: 403 Forbidden", Branches: 2,
					FailureKind: "forbidden", Failures: 3, Hint: "the token lacks access: give providers[0].token_env (GITHUB_TOKEN) read access to the repositories (run jiralinkd check)"},
				{Provider: "gitlab", ID: 9, FullName: "group/sub/tool", URL: "https://gitlab.example.com/group/sub/tool", State: state.RepoPending},
			},
			QueueDepth: 7,
			Backfill: &status.Backfill{
				Overall: status.BackfillTotals{Running: 1, Queued: 2, Done: 1, Listed: 1600, Walked: 1500, Remaining: 4500, Percent: 25, Links: 8, Calls: 20,
					CallsLeft: 2500, ETA: time.Hour, ETAKnown: true, FinishAt: at(time.Hour)},
				Providers: []status.BackfillTotals{{Provider: "github", Running: 1, Queued: 2, Done: 1, Listed: 1600, Walked: 1500, Remaining: 4500, Percent: 25,
					Links: 8, Calls: 20, CallsLeft: 2500, ETA: time.Hour, ETAKnown: true, FinishAt: at(time.Hour)}},
				Repos: []status.BackfillRepo{{Provider: "github", FullName: "acme/big", Listed: 520, Walked: 500, Estimate: 2000, EstimateSource: "api",
					Remaining: 1500, Percent: 25, Pages: 5, Links: 3, Calls: 8, Started: at(-10 * time.Minute), ETA: 30 * time.Minute, ETAKnown: true}},
			},
		},
		links: map[string][]state.IssueLink{
			"ABC-1": {
				{Link: state.Link{GlobalID: "jiralinkd/github/77/commit/abc1234", Issue: "ABC-1"},
					LinkInfo: state.LinkInfo{Kind: "commit", Repo: "github/acme/api", URL: "https://github.com/acme/api/commit/abc1234",
						Title: "abc1234 ABC-1: first", Sources: []string{"commit message"}, Written: at(-time.Hour)}},
				{Link: state.Link{GlobalID: "jiralinkd/github/77/pr/5", Issue: "ABC-1"},
					LinkInfo: state.LinkInfo{Kind: "pr", Repo: "github/acme/api", URL: "https://github.com/acme/api/pull/5",
						Title: "PR #5: login", Sources: []string{"PR title", "PR branch"}, Written: at(-10 * time.Minute)}},
			},
		},
	}
}

// harness is an admin Server behind a real HTTP server, on a router that
// also has the caller's own /healthz, as in serve.
type harness struct {
	srv *Server
	ts  *httptest.Server
	b   *fakeBackend
}

func newHarness(t *testing.T, b Backend, opts Options) *harness {
	t.Helper()
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	s := New(b, opts)
	r := mux.NewRouter()
	r.HandleFunc("/healthz", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	s.Route(r)
	ts := httptest.NewServer(r)
	t.Cleanup(ts.Close)
	fb, _ := b.(*fakeBackend)
	return &harness{srv: s, ts: ts, b: fb}
}

// errBackendBroken stands for an internal failure whose text must not
// reach clients.
var errBackendBroken = errors.New("bolt: /secret/path/state.db: disk on fire")
