package smartcommit_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

func TestHandleCarriesOutCommands(t *testing.T) {
	e := newEnv(t, nil)
	x := e.executor(t, nil, nil, nil)
	c := commit(sha1, "ABC-1 Fix the login race\n\nABC-1 #time 2h 30m pairing with Bob #comment fixed the login race #resolve-issue shipped")
	res := handle(t, x, c)
	if got, want := statuses(res), []smartcommit.ResultStatus{"done", "done", "done"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("statuses = %v, want %v (%+v)", got, want, res)
	}

	url := "https://github.com/acme/api/commit/" + sha1
	wls := e.srv.Worklogs("ABC-1")
	wantWorklog := "Ada Lovelace committed 6dcb09b on acme/api/main: pairing with Bob\n" + url + " (jiralinkd:github/" + sha1 + "/0)"
	if len(wls) != 1 || wls[0].TimeSpentSeconds != 9000 || !wls[0].Started.Equal(c.When) || wls[0].Comment != wantWorklog {
		t.Errorf("worklogs = %+v\nwant comment %q", wls, wantWorklog)
	}
	cs := e.srv.Comments("ABC-1")
	want := []string{
		"Ada Lovelace committed 6dcb09b on acme/api/main: fixed the login race\n" + url + " (jiralinkd:github/" + sha1 + "/1)",
		"Ada Lovelace committed 6dcb09b on acme/api/main: shipped\n" + url + " (jiralinkd:github/" + sha1 + "/2)",
	}
	if len(cs) != 2 || cs[0].Body != want[0] || cs[1].Body != want[1] {
		t.Errorf("comments = %+v\nwant %q", cs, want)
	}
	if st := e.srv.Status("ABC-1"); st.Name != "Resolved" {
		t.Errorf("status = %+v, want Resolved", st)
	}
	if res[0].JiraID != wls[0].ID || res[1].JiraID != cs[0].ID || res[2].JiraID != "5" {
		t.Errorf("jira ids = %q %q %q", res[0].JiraID, res[1].JiraID, res[2].JiraID)
	}
	hist, err := x.History("ABC-1")
	if err != nil {
		t.Fatal(err)
	}
	for i, r := range hist {
		if r.State != smartcommit.StateDone || r.Attempts != 1 || r.Index != i || r.ID != smartcommit.CommandID("github", sha1, i) || r.Commit.Message != "" {
			t.Errorf("record %d = %+v", i, r)
		}
	}
	if fs, err := x.Failures("ABC-1"); err != nil || len(fs) != 0 {
		t.Errorf("failures = %+v, %v", fs, err)
	}
}

func TestSameCommitOnAnotherBranchRunsOnce(t *testing.T) {
	e := newEnv(t, nil)
	x := e.executor(t, nil, nil, nil)
	c := commit(sha1, "ABC-1 #comment once #time 1h #start-progress")
	if got := statuses(handle(t, x, c)); !reflect.DeepEqual(got, []smartcommit.ResultStatus{"done", "done", "done"}) {
		t.Fatalf("first: %v", got)
	}
	before := e.srv.Calls()

	c.Branch = "release-1.2"
	if got := statuses(handle(t, x, c)); !reflect.DeepEqual(got, []smartcommit.ResultStatus{"skipped", "skipped", "skipped"}) {
		t.Errorf("other branch: %v", got)
	}
	// A restarted process, and a fork holding the same commit.
	c.Repo, c.Branch = "someone/api-fork", "main"
	x2 := e.executor(t, nil, nil, nil)
	if got := statuses(handle(t, x2, c)); !reflect.DeepEqual(got, []smartcommit.ResultStatus{"skipped", "skipped", "skipped"}) {
		t.Errorf("after restart: %v", got)
	}
	if after := e.srv.Calls(); after.Total != before.Total {
		t.Errorf("%d Jira calls for a commit already handled", after.Total-before.Total)
	}
	if len(e.srv.Comments("ABC-1")) != 1 || len(e.srv.Worklogs("ABC-1")) != 1 || e.srv.Status("ABC-1").Name != "In Progress" {
		t.Errorf("Jira state: %d comments, %d worklogs, status %s", len(e.srv.Comments("ABC-1")), len(e.srv.Worklogs("ABC-1")), e.srv.Status("ABC-1").Name)
	}
}

// crashCases are one command of each kind, its write route, and how to
// count its effect in the fake.
var crashCases = []struct {
	name, msg string
	route     string
	effects   func(*jiratest.Server) int
}{
	{"comment", "ABC-1 #comment hello", jiratest.RouteCommentAdd, func(s *jiratest.Server) int { return len(s.Comments("ABC-1")) }},
	{"worklog", "ABC-1 #time 1h hello", jiratest.RouteWorklogAdd, func(s *jiratest.Server) int { return len(s.Worklogs("ABC-1")) }},
	{"transition", "ABC-1 #resolve-issue", jiratest.RouteTransitionCreate, func(s *jiratest.Server) int {
		if s.Status("ABC-1").Name == "Resolved" {
			return 1
		}
		return 0
	}},
}

// TestExactlyOnceAcrossCrash: Jira took the write, then the process died
// before the ledger said done. The restarted process, offered the commit
// again (here on another branch), finds the write and does not repeat it.
func TestExactlyOnceAcrossCrash(t *testing.T) {
	for _, tc := range crashCases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			crash := &crashLedger{Ledger: e.ledger, fail: func(r smartcommit.Record) bool { return r.State == smartcommit.StateDone }}
			x := e.executor(t, nil, crash, nil)
			c := commit(sha1, tc.msg)
			res := handle(t, x, c)
			if len(res) != 1 || res[0].Status != smartcommit.StatusPending || !strings.Contains(res[0].Error, errCrash.Error()) {
				t.Fatalf("crashed run: %+v", res)
			}
			if n := tc.effects(e.srv); n != 1 {
				t.Fatalf("effects after the crashed run = %d", n)
			}

			restarted := e.executor(t, nil, nil, nil)
			c.Branch = "develop"
			res = handle(t, restarted, c)
			if len(res) != 1 || res[0].Status != smartcommit.StatusDone {
				t.Fatalf("after restart: %+v", res)
			}
			if n, sent := tc.effects(e.srv), e.srv.Calls().ByRoute[tc.route]; n != 1 || sent != 1 {
				t.Errorf("effects = %d, writes sent = %d; want 1 and 1", n, sent)
			}
			if more, err := restarted.Retry(context.Background()); err != nil || len(more) != 0 {
				t.Errorf("Retry after done = %+v, %v", more, err)
			}
			r, _, _ := e.ledger.Get(res[0].ID)
			if r.State != smartcommit.StateDone || r.Attempts != 2 || r.JiraID == "" {
				t.Errorf("record = %+v", r)
			}
		})
	}
}

// lookupRoutes are the reads that find each kind's effect.
var lookupRoutes = map[string]string{
	"comment": jiratest.RouteComments, "worklog": jiratest.RouteWorklogs, "transition": jiratest.RouteIssueGet,
}

// TestLostAnswerNotRepeated: Jira took the write but its answer was lost.
// The same attempt looks for the write, finds it and is done; when that
// look fails too, the retry after the backoff finds it. Either way the
// write is sent once.
func TestLostAnswerNotRepeated(t *testing.T) {
	methods := map[string]string{"comment": "AddComment", "worklog": "AddWorklog", "transition": "DoTransition"}
	for _, tc := range crashCases {
		for _, lookupFails := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/lookup fails=%v", tc.name, lookupFails), func(t *testing.T) {
				e := newEnv(t, nil)
				jira := &lossyJira{Jira: e.client, lose: map[string]int{methods[tc.name]: 1}}
				x := e.executor(t, jira, nil, nil)
				if lookupFails {
					// The client makes one attempt per call here.
					e.srv.FailNext(lookupRoutes[tc.name], 1, http.StatusServiceUnavailable, nil, "")
				}
				res := handle(t, x, commit(sha1, tc.msg))
				ctx := context.Background()
				if !lookupFails {
					if len(res) != 1 || res[0].Status != smartcommit.StatusDone || res[0].JiraID == "" {
						t.Fatalf("first attempt: %+v", res)
					}
				} else {
					if len(res) != 1 || res[0].Status != smartcommit.StatusPending || !strings.Contains(res[0].Error, "504") {
						t.Fatalf("first attempt: %+v", res)
					}
					if got, err := x.Retry(ctx); err != nil || len(got) != 0 {
						t.Fatalf("Retry during the backoff = %+v, %v", got, err)
					}
					e.clock.Advance(smartcommit.DefaultRetryBackoff)
					got, err := x.Retry(ctx)
					if err != nil || len(got) != 1 || got[0].Status != smartcommit.StatusDone {
						t.Fatalf("Retry = %+v, %v", got, err)
					}
				}
				if n, sent := tc.effects(e.srv), e.srv.Calls().ByRoute[tc.route]; n != 1 || sent != 1 {
					t.Errorf("effects = %d, writes sent = %d; want 1 and 1", n, sent)
				}
			})
		}
	}
}

// TestServerErrorAfterWriteResolvedAtOnce: Jira carries out a smart
// commit's write, then answers 500, and the read that looks for it fails
// once with 500 too. The write is not repeated (it is sent once), the read
// is retried at once by the transport, and the command is done in the same
// attempt instead of waiting a minute for its retry.
func TestServerErrorAfterWriteResolvedAtOnce(t *testing.T) {
	const internal = `{"errorMessages":["Internal server error"],"errors":{}}`
	for _, tc := range crashCases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			client, err := jiraclient.New(jiraclient.Options{
				BaseURL: e.srv.URL(), Auth: jiraclient.Auth{Token: testToken},
				Retry: httpx.RetryOptions{Sleep: func(context.Context, time.Duration) error { return nil }},
			})
			if err != nil {
				t.Fatal(err)
			}
			x := e.executor(t, client, nil, nil)
			e.srv.FailNextAfterApply(tc.route, 1, http.StatusInternalServerError, nil, internal)
			e.srv.FailNext(lookupRoutes[tc.name], 1, http.StatusInternalServerError, nil, internal)

			res := handle(t, x, commit(sha1, tc.msg))
			if len(res) != 1 || res[0].Status != smartcommit.StatusDone || res[0].JiraID == "" {
				t.Fatalf("result = %+v, want done in the first attempt", res)
			}
			calls := e.srv.Calls().ByRoute
			if n := tc.effects(e.srv); n != 1 || calls[tc.route] != 1 {
				t.Errorf("effects = %d, writes sent = %d; want 1 and 1", n, calls[tc.route])
			}
			if n := calls[lookupRoutes[tc.name]]; n != 2 {
				t.Errorf("lookups sent = %d, want 2 (a 500, then the answer)", n)
			}
			r, _, _ := e.ledger.Get(res[0].ID)
			if r.State != smartcommit.StateDone || r.Attempts != 1 || !r.NextAttempt.IsZero() {
				t.Errorf("record = %+v, want done after one attempt", r)
			}
		})
	}
}

func TestTransitionNamesMatchLikeJira(t *testing.T) {
	e := newEnv(t, nil)
	x := e.executor(t, nil, nil, nil)
	c := commit(sha1, "ABC-1 #resolve-issue\nABC-2 #Start\nABC-3 #CLOSE_ISSUE\nABC-4 #resolve")
	res := handle(t, x, c)
	if got := statuses(res); !reflect.DeepEqual(got, []smartcommit.ResultStatus{"done", "done", "done", "done"}) {
		t.Fatalf("statuses = %v (%+v)", got, res)
	}
	for key, want := range map[string]string{"ABC-1": "Resolved", "ABC-2": "In Progress", "ABC-3": "Closed", "ABC-4": "Resolved"} {
		if got := e.srv.Status(key).Name; got != want {
			t.Errorf("%s is %s, want %s", key, got, want)
		}
	}
	if n := len(e.srv.Comments("ABC-1")); n != 0 {
		t.Errorf("a transition without text added %d comments", n)
	}
}

func TestFailuresRecordedAndNotRetried(t *testing.T) {
	e := newEnv(t, func(o *jiratest.Options) {
		o.Permissions = func(project, perm string) bool { return project != "DEF" || perm != "ADD_COMMENTS" }
	})
	wf := jiratest.DefaultWorkflow()
	wf.Transitions = append(wf.Transitions, jiratest.WorkflowTransition{ID: "11", Name: "Start Review", From: []string{"1"}, To: "3"})
	e.srv.SetWorkflow(wf)
	x := e.executor(t, nil, nil, nil)
	c := commit(sha1, "ABC-1 #reopen-issue\nABC-1 #time lots of it\nDEF-1 #comment hi\nABC-1 #start")
	res := handle(t, x, c)
	if got := statuses(res); !reflect.DeepEqual(got, []smartcommit.ResultStatus{"failed", "failed", "failed", "failed"}) {
		t.Fatalf("statuses = %v (%+v)", got, res)
	}
	wantErr := []string{
		`no transition "reopen-issue"; available: Start Progress, Resolve Issue, Close Issue, Start Review`,
		`invalid #time duration "lots"`,
		"HTTP 403 Forbidden: You do not have the permission to comment on this issue.",
		`transition "start" is ambiguous: it matches Start Progress (to In Progress), Start Review (to In Progress)`,
	}
	for i, w := range wantErr {
		if !strings.Contains(res[i].Error, w) {
			t.Errorf("result %d error = %q, want it to contain %q", i, res[i].Error, w)
		}
	}
	abc, err := x.Failures("ABC-1")
	if err != nil || len(abc) != 3 || abc[0].Command != "ABC-1 #reopen-issue" || abc[0].State != smartcommit.StateFailed {
		t.Errorf("Failures(ABC-1) = %+v, %v", abc, err)
	}
	if def, _ := x.Failures("DEF-1"); len(def) != 1 || !strings.Contains(def[0].Error, "403") {
		t.Errorf("Failures(DEF-1) = %+v", def)
	}
	if all, _ := x.Failures(""); len(all) != 4 {
		t.Errorf("Failures() has %d records, want 4", len(all))
	}

	before := e.srv.Calls().Total
	e.clock.Advance(24 * time.Hour)
	if got, err := x.Retry(context.Background()); err != nil || len(got) != 0 {
		t.Errorf("Retry = %+v, %v", got, err)
	}
	c.Branch = "develop"
	if got := statuses(handle(t, x, c)); !reflect.DeepEqual(got, []smartcommit.ResultStatus{"skipped", "skipped", "skipped", "skipped"}) {
		t.Errorf("again: %v", got)
	}
	if n := e.srv.Calls().Total - before; n != 0 {
		t.Errorf("%d Jira calls for failed commands", n)
	}
}

func TestTransientErrorsRetriedThenGivenUp(t *testing.T) {
	e := newEnv(t, nil)
	x := e.executor(t, nil, nil, func(o *smartcommit.Options) { o.MaxAttempts = 3 })
	ctx := context.Background()

	// Two server errors, then success.
	e.srv.FailNext(jiratest.RouteCommentAdd, 2, http.StatusServiceUnavailable, nil, "")
	res := handle(t, x, commit(sha1, "ABC-1 #comment persistent"))
	if res[0].Status != smartcommit.StatusPending {
		t.Fatalf("first attempt: %+v", res)
	}
	if fs, _ := x.Failures("ABC-1"); len(fs) != 1 || fs[0].State != smartcommit.StatePending || !strings.Contains(fs[0].Error, "503") {
		t.Errorf("a pending command's last error is not shown: %+v", fs)
	}
	e.clock.Advance(time.Minute)
	if got, _ := x.Retry(ctx); len(got) != 1 || got[0].Status != smartcommit.StatusPending {
		t.Fatalf("second attempt: %+v", got)
	}
	e.clock.Advance(time.Minute) // the backoff doubled: not yet
	if got, _ := x.Retry(ctx); len(got) != 0 {
		t.Fatalf("attempt during the backoff: %+v", got)
	}
	e.clock.Advance(time.Minute)
	if got, _ := x.Retry(ctx); len(got) != 1 || got[0].Status != smartcommit.StatusDone {
		t.Fatalf("third attempt: %+v", got)
	}
	calls := e.srv.Calls().ByRoute
	if n := len(e.srv.Comments("ABC-1")); n != 1 || calls[jiratest.RouteCommentAdd] != 3 || calls[jiratest.RouteComments] != 2 {
		t.Errorf("%d comments, %d posts, %d marker checks; want 1, 3, 2", n, calls[jiratest.RouteCommentAdd], calls[jiratest.RouteComments])
	}

	// Failing every time: given up after MaxAttempts.
	e.srv.FailNext(jiratest.RouteWorklogAdd, 100, http.StatusBadGateway, nil, "")
	res = handle(t, x, commit(sha2, "ABC-2 #time 1h"))
	for i := 0; i < 5 && res[0].Status == smartcommit.StatusPending; i++ {
		e.clock.Advance(time.Hour)
		res, _ = x.Retry(ctx)
	}
	if len(res) != 1 || res[0].Status != smartcommit.StatusFailed || !strings.Contains(res[0].Error, "gave up after 3 attempts") {
		t.Fatalf("last attempt: %+v", res)
	}
	e.clock.Advance(24 * time.Hour)
	if got, _ := x.Retry(ctx); len(got) != 0 {
		t.Errorf("retried after giving up: %+v", got)
	}
	if n := e.srv.Calls().ByRoute[jiratest.RouteWorklogAdd]; n != 3 {
		t.Errorf("worklog posts = %d, want 3", n)
	}
}

func TestIssueExistsFilter(t *testing.T) {
	e := newEnv(t, nil)
	var asked [][]string
	exists := func(_ context.Context, keys []string) (map[string]bool, error) {
		asked = append(asked, keys)
		return map[string]bool{"ABC-1": true}, nil
	}
	x := e.executor(t, nil, nil, func(o *smartcommit.Options) { o.IssueExists = exists })
	res := handle(t, x, commit(sha1, "Use UTF-8 #ifdef guards\nABC-1 ABC-99 #comment checked"))
	if got := statuses(res); !reflect.DeepEqual(got, []smartcommit.ResultStatus{"skipped", "done", "skipped"}) {
		t.Fatalf("statuses = %v (%+v)", got, res)
	}
	if !reflect.DeepEqual(asked, [][]string{{"UTF-8", "ABC-1", "ABC-99"}}) {
		t.Errorf("asked %q", asked)
	}
	for _, k := range []string{"UTF-8", "ABC-99"} {
		if h, _ := x.History(k); len(h) != 0 {
			t.Errorf("recorded commands for %s: %+v", k, h)
		}
	}

	// When existence cannot be checked nothing is recorded or sent, and
	// Handle says so: the commit must come again.
	failing := e.executor(t, nil, nil, func(o *smartcommit.Options) {
		o.IssueExists = func(context.Context, []string) (map[string]bool, error) { return nil, errors.New("jira down") }
	})
	before := e.srv.Calls().Total
	if _, err := failing.Handle(context.Background(), commit(sha2, "ABC-1 #comment later")); err == nil {
		t.Error("Handle succeeded without knowing which issues exist")
	}
	if h, _ := x.History("ABC-1"); len(h) != 1 || e.srv.Calls().Total != before {
		t.Errorf("history %+v; %d calls", h, e.srv.Calls().Total-before)
	}
}

func TestHandleErrorWhenLedgerFails(t *testing.T) {
	e := newEnv(t, nil)
	crash := &crashLedger{Ledger: e.ledger, fail: func(smartcommit.Record) bool { return true }}
	x := e.executor(t, nil, crash, nil)
	c := commit(sha1, "ABC-1 #comment hi")
	if _, err := x.Handle(context.Background(), c); !errors.Is(err, errCrash) {
		t.Fatalf("Handle error = %v, want the ledger's", err)
	}
	if n := e.srv.Calls().Total; n != 0 {
		t.Errorf("%d Jira calls with an unrecorded command", n)
	}
	// The crash ledger fails only once: the commit offered again works.
	if got := statuses(handle(t, x, c)); !reflect.DeepEqual(got, []smartcommit.ResultStatus{"done"}) {
		t.Errorf("second Handle: %v", got)
	}
}

func TestSkipsMergesAndGitCopies(t *testing.T) {
	e := newEnv(t, nil)
	x := e.executor(t, nil, nil, nil)
	merge := commit(sha1, "Merge pull request #12 from acme/ABC-1-login\n\nABC-1 #resolve-issue")
	merge.Merge = true
	msgs := []smartcommit.CommitInfo{
		merge,
		commit(sha1, "Revert \"ABC-1 #resolve-issue login\"\n\nThis reverts commit "+sha2+"."),
		commit(sha2, "ABC-1 #time 2h backport\n\n(cherry picked from commit "+sha1+")"),
	}
	for _, c := range msgs {
		if res := handle(t, x, c); len(res) != 0 {
			t.Errorf("%q: %+v", c.Message, res)
		}
	}
	if h, _ := x.History(""); len(h) != 0 || e.srv.Calls().Total != 0 {
		t.Errorf("recorded %+v, %d calls", h, e.srv.Calls().Total)
	}
}

// TestConcurrentHandlesOfOneCommit: forks of a repository hold the same
// commit and may be synced at the same time.
func TestConcurrentHandlesOfOneCommit(t *testing.T) {
	e := newEnv(t, nil)
	x := e.executor(t, nil, nil, nil)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := commit(sha1, "ABC-1 #comment once #time 1h")
			c.Repo = fmt.Sprintf("fork%d/api", i)
			res, err := x.Handle(context.Background(), c)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for _, r := range res {
				if r.Status == smartcommit.StatusDone {
					done++
				}
			}
		}()
	}
	wg.Wait()
	if done != 2 || len(e.srv.Comments("ABC-1")) != 1 || len(e.srv.Worklogs("ABC-1")) != 1 {
		t.Errorf("%d done, %d comments, %d worklogs; want 2, 1, 1", done, len(e.srv.Comments("ABC-1")), len(e.srv.Worklogs("ABC-1")))
	}
}

func TestNewExecutorValidates(t *testing.T) {
	e := newEnv(t, nil)
	m := matcher(t)
	bad := []smartcommit.Options{
		{Ledger: e.ledger, Keys: m},
		{Jira: e.client, Keys: m},
		{Jira: e.client, Ledger: e.ledger},
		{Jira: e.client, Ledger: e.ledger, Keys: m, Units: smartcommit.Units{HoursPerDay: 25}},
		{Jira: e.client, Ledger: e.ledger, Keys: m, Units: smartcommit.Units{DaysPerWeek: -1}},
	}
	for i, o := range bad {
		if _, err := smartcommit.NewExecutor(o); err == nil {
			t.Errorf("options %d accepted", i)
		}
	}
	if _, err := e.executor(t, nil, nil, nil).Handle(context.Background(), smartcommit.CommitInfo{Message: "ABC-1 #close"}); err == nil {
		t.Error("commit without provider and SHA accepted")
	}
}

func TestMatchTransition(t *testing.T) {
	open := []jiraclient.Transition{
		{ID: "4", Name: "Start Progress", To: jiraclient.IssueStatus{ID: "3", Name: "In Progress"}},
		{ID: "5", Name: "Resolve Issue", To: jiraclient.IssueStatus{ID: "5", Name: "Resolved"}},
		{ID: "2", Name: "Close Issue", To: jiraclient.IssueStatus{ID: "6", Name: "Closed"}},
		{ID: "12", Name: "Close Issue", To: jiraclient.IssueStatus{ID: "6", Name: "Closed"}},
		{ID: "21", Name: "Send to QA", To: jiraclient.IssueStatus{ID: "7", Name: "QA"}},
		{ID: "22", Name: "Send to Backlog", To: jiraclient.IssueStatus{ID: "8", Name: "Backlog"}},
		{ID: "31", Name: "Résoudre", To: jiraclient.IssueStatus{ID: "5", Name: "Resolved"}},
	}
	tests := []struct {
		written, wantID string
		wantErr         error
	}{
		{"resolve-issue", "5", nil},
		{"Resolve_Issue", "5", nil},
		{"RESOLVE", "5", nil},
		{"start", "4", nil},
		{"close", "2", nil}, // two transitions, one name and target: one
		{"send-to-qa", "21", nil},
		{"send-to", "", smartcommit.ErrAmbiguousTransition},
		{"send", "", smartcommit.ErrAmbiguousTransition},
		{"résoudre", "31", nil},
		{"res", "", smartcommit.ErrNoTransition}, // whole words only
		{"reopen-issue", "", smartcommit.ErrNoTransition},
		{"start-progress-now", "", smartcommit.ErrNoTransition},
		{"-", "", smartcommit.ErrNoTransition},
	}
	for _, tc := range tests {
		got, err := smartcommit.MatchTransition(open, tc.written)
		if got.ID != tc.wantID || !errors.Is(err, tc.wantErr) || (tc.wantErr == nil) != (err == nil) {
			t.Errorf("MatchTransition(%q) = %+v, %v; want id %q, %v", tc.written, got, err, tc.wantID, tc.wantErr)
		}
	}
	var te *smartcommit.TransitionError
	_, err := smartcommit.MatchTransition(open[:3], "reopen")
	if !errors.As(err, &te) || !reflect.DeepEqual(te.Available, []string{"Start Progress", "Resolve Issue", "Close Issue"}) {
		t.Errorf("error = %#v", err)
	}
	if _, err := smartcommit.MatchTransition(nil, "close"); err == nil || !strings.Contains(err.Error(), "none is available") {
		t.Errorf("no transitions: %v", err)
	}
}
