package smartcommit_test

import (
	"context"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
)

// TestAttemptNotRecordedIsNotMade: if the ledger cannot count an attempt,
// Jira is not called; the command stays pending and is done later, once.
func TestAttemptNotRecordedIsNotMade(t *testing.T) {
	e := newEnv(t, nil)
	crash := &crashLedger{Ledger: e.ledger, fail: func(r smartcommit.Record) bool { return r.Attempts == 1 }}
	x := e.executor(t, nil, crash, nil)
	res := handle(t, x, commit(sha1, "ABC-1 #comment hi"))
	if len(res) != 1 || res[0].Status != smartcommit.StatusPending || e.srv.Calls().Total != 0 {
		t.Fatalf("result %+v, %d calls", res, e.srv.Calls().Total)
	}
	got, err := x.Retry(context.Background())
	if err != nil || len(got) != 1 || got[0].Status != smartcommit.StatusDone || len(e.srv.Comments("ABC-1")) != 1 {
		t.Errorf("Retry = %+v, %v; %d comments", got, err, len(e.srv.Comments("ABC-1")))
	}
}

// TestTransitionTargetNotRecorded: the target of a transition must be in
// the ledger before the transition is sent.
func TestTransitionTargetNotRecorded(t *testing.T) {
	e := newEnv(t, nil)
	crash := &crashLedger{Ledger: e.ledger, fail: func(r smartcommit.Record) bool { return r.Target != "" }}
	x := e.executor(t, nil, crash, nil)
	res := handle(t, x, commit(sha1, "ABC-1 #resolve-issue"))
	if len(res) != 1 || res[0].Status != smartcommit.StatusPending || e.srv.Calls().ByRoute[jiratest.RouteTransitionCreate] != 0 {
		t.Fatalf("result %+v; calls %+v", res, e.srv.Calls().ByRoute)
	}
	e.clock.Advance(time.Minute)
	if got, _ := x.Retry(context.Background()); len(got) != 1 || got[0].Status != smartcommit.StatusDone || e.srv.Status("ABC-1").Name != "Resolved" {
		t.Errorf("Retry = %+v, status %s", got, e.srv.Status("ABC-1").Name)
	}
}
