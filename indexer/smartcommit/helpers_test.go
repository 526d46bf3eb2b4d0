package smartcommit_test

import (
	"context"
	"errors"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

const testToken = "pat-smartcommit-test"

// clock is a settable test clock.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// env is a fake Jira, a client for it and a ledger in a bbolt file.
type env struct {
	srv    *jiratest.Server
	client *jiraclient.Client
	ledger smartcommit.Ledger
	clock  *clock
}

func newEnv(t *testing.T, mod func(*jiratest.Options)) *env {
	t.Helper()
	opts := jiratest.Options{
		Token:       testToken,
		Projects:    []jiraclient.Project{{ID: "10000", Key: "ABC", Name: "Alpha"}, {ID: "10001", Key: "DEF", Name: "Delta"}},
		IssueExists: jiratest.AllIssues,
	}
	if mod != nil {
		mod(&opts)
	}
	srv := jiratest.Start(t, opts)
	client, err := jiraclient.New(jiraclient.Options{
		BaseURL: srv.URL(),
		Auth:    jiraclient.Auth{Token: testToken},
		// One attempt per call: the tests count requests exactly.
		Retry: httpx.RetryOptions{MaxAttempts: 1, Sleep: func(context.Context, time.Duration) error { return nil }},
	})
	if err != nil {
		t.Fatal(err)
	}
	ledger := openStore(t, filepath.Join(t.TempDir(), "state.db")).Ledger()
	return &env{srv: srv, client: client, ledger: ledger,
		clock: &clock{now: time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)}}
}

func openStore(t *testing.T, path string) *boltstore.Store {
	t.Helper()
	st, err := boltstore.Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// executor returns an executor on e's fake Jira and ledger, unless jira or
// ledger replace them.
func (e *env) executor(t *testing.T, jira smartcommit.Jira, ledger smartcommit.Ledger, mod func(*smartcommit.Options)) *smartcommit.Executor {
	t.Helper()
	if jira == nil {
		jira = e.client
	}
	if ledger == nil {
		ledger = e.ledger
	}
	opts := smartcommit.Options{Jira: jira, Ledger: ledger, Keys: matcher(t), Now: e.clock.Now}
	if mod != nil {
		mod(&opts)
	}
	x, err := smartcommit.NewExecutor(opts)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

// commit is a commit on main of acme/api carrying msg.
func commit(sha, msg string) smartcommit.CommitInfo {
	return smartcommit.CommitInfo{
		Provider: "github", Repo: "acme/api", Branch: "main", SHA: sha,
		URL:    "https://github.com/acme/api/commit/" + sha,
		Author: "Ada Lovelace", Message: msg,
		When: time.Date(2025, 6, 2, 9, 15, 0, 0, time.UTC),
	}
}

const (
	sha1 = "6dcb09b5b57875f334f61aebed695e2e4193db5e"
	sha2 = "7638417db6d59f3c431d3e1f261cc637155684cd"
)

func handle(t *testing.T, x *smartcommit.Executor, c smartcommit.CommitInfo) []smartcommit.Result {
	t.Helper()
	res, err := x.Handle(context.Background(), c)
	if err != nil {
		t.Fatalf("Handle: %v", err)
	}
	return res
}

func statuses(rs []smartcommit.Result) []smartcommit.ResultStatus {
	out := make([]smartcommit.ResultStatus, len(rs))
	for i, r := range rs {
		out[i] = r.Status
	}
	return out
}

var errCrash = errors.New("process died")

// crashLedger fails the first Put of a record that fail selects, like a
// process dying right before it: nothing of that Put is stored.
type crashLedger struct {
	smartcommit.Ledger
	mu      sync.Mutex
	fail    func(smartcommit.Record) bool
	crashed bool
}

func (l *crashLedger) Put(recs ...smartcommit.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, r := range recs {
		if !l.crashed && l.fail(r) {
			l.crashed = true
			return errCrash
		}
	}
	return l.Ledger.Put(recs...)
}

// lossyJira passes every call through to Jira but, for the methods in
// lose, drops the answer of the next call: the write happened, the caller
// sees a gateway timeout.
type lossyJira struct {
	smartcommit.Jira
	mu   sync.Mutex
	lose map[string]int
}

func (j *lossyJira) lost(method string) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.lose[method] == 0 {
		return nil
	}
	j.lose[method]--
	return &jiraclient.Error{Method: http.MethodPost, Path: "/rest/api/2/...", Status: http.StatusGatewayTimeout}
}

func (j *lossyJira) AddComment(ctx context.Context, issue, body string) (string, error) {
	id, err := j.Jira.AddComment(ctx, issue, body)
	if err == nil {
		err = j.lost("AddComment")
	}
	return id, err
}

func (j *lossyJira) AddWorklog(ctx context.Context, issue string, d time.Duration, comment string, started time.Time) (string, error) {
	id, err := j.Jira.AddWorklog(ctx, issue, d, comment, started)
	if err == nil {
		err = j.lost("AddWorklog")
	}
	return id, err
}

func (j *lossyJira) DoTransition(ctx context.Context, issue, id, comment string) error {
	err := j.Jira.DoTransition(ctx, issue, id, comment)
	if err == nil {
		err = j.lost("DoTransition")
	}
	return err
}
