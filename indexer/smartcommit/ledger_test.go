package smartcommit_test

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
)

func TestBoltLedger(t *testing.T) {
	path := filepath.Join(t.TempDir(), "state.db")
	st := openStore(t, path)
	l := st.Ledger()
	t0 := time.Date(2025, 6, 2, 10, 0, 0, 0, time.UTC)
	rec := func(sha string, i int, issue string, st smartcommit.State, created time.Time) smartcommit.Record {
		return smartcommit.Record{
			ID: smartcommit.CommandID("github", sha, i), Index: i, Issue: issue, Kind: smartcommit.KindComment,
			Command: issue + " #comment x", Text: "x", State: st, Created: created, Updated: created,
			Commit: smartcommit.CommitInfo{Provider: "github", SHA: sha},
		}
	}
	a0 := rec(sha1, 0, "ABC-1", smartcommit.StatePending, t0.Add(time.Minute))
	a1 := rec(sha1, 1, "ABC-12", smartcommit.StateFailed, t0.Add(time.Minute))
	a10 := rec(sha1, 10, "ABC-1", smartcommit.StateDone, t0.Add(time.Minute))
	b0 := rec(sha2, 0, "ABC-1", smartcommit.StatePending, t0)
	if err := l.Put(a10, a0, a1, b0); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := l.Get("github/none/0"); ok || err != nil {
		t.Errorf("Get of a missing id: ok=%v err=%v", ok, err)
	}
	got, ok, err := l.Get(a1.ID)
	if !ok || err != nil || !reflect.DeepEqual(got, a1) {
		t.Errorf("Get = %+v, %v, %v", got, ok, err)
	}

	ids := func(rs []smartcommit.Record, err error) []string {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, r := range rs {
			out = append(out, r.ID)
		}
		return out
	}
	// Oldest first, then by position in the message (10 after 0).
	if got, want := ids(l.ByIssue("ABC-1")), []string{b0.ID, a0.ID, a10.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("ByIssue(ABC-1) = %q, want %q", got, want)
	}
	if got, want := ids(l.ByIssue("")), []string{b0.ID, a0.ID, a1.ID, a10.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("ByIssue() = %q, want %q", got, want)
	}
	if got, want := ids(l.Pending()), []string{b0.ID, a0.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("Pending = %q, want %q", got, want)
	}

	// A pending record that is done leaves the pending index; it survives
	// a reopen of the file.
	a0.State = smartcommit.StateDone
	if err := l.Put(a0); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	l2 := openStore(t, path).Ledger()
	if got, want := ids(l2.Pending()), []string{b0.ID}; !reflect.DeepEqual(got, want) {
		t.Errorf("Pending after reopen = %q, want %q", got, want)
	}
	if got, ok, _ := l2.Get(a0.ID); !ok || got.State != smartcommit.StateDone {
		t.Errorf("after reopen: %+v", got)
	}
	if err := l2.Put(smartcommit.Record{Issue: "ABC-1"}); err == nil {
		t.Error("record without id stored")
	}
}

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
