package smartcommit_test

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
)

func TestHasCommands(t *testing.T) {
	m := matcher(t)
	for msg, want := range map[string]bool{
		"ABC-1 #comment fixed": true,
		"ABC-1 #time 1h":       true,
		"ABC-1 #time 1x (invalid, but recorded as failed)": true,
		"ABC-1 fix the #123 regression":                    false,
		"no key #comment here":                             false,
		"":                                                 false,
		"Revert \"ABC-1 #comment x\"\n\nThis reverts commit 53a78e36f996.": false,
		"ABC-1 #comment x\n\n(cherry picked from commit 53a78e36f996)":     false,
	} {
		if got := smartcommit.HasCommands(msg, m); got != want {
			t.Errorf("HasCommands(%q) = %v, want %v", msg, got, want)
		}
	}
}

func TestCountFailed(t *testing.T) {
	l := openStore(t, filepath.Join(t.TempDir(), "state.db")).Ledger()
	if n, err := l.CountFailed(); n != 0 || err != nil {
		t.Fatalf("empty ledger: %d, %v", n, err)
	}
	now := time.Now()
	var recs []smartcommit.Record
	for i, st := range []smartcommit.State{smartcommit.StateFailed, smartcommit.StateDone, smartcommit.StatePending, smartcommit.StateFailed} {
		recs = append(recs, smartcommit.Record{ID: smartcommit.CommandID("github", sha1, i), Index: i, Issue: "ABC-1", Kind: smartcommit.KindComment,
			State: st, Created: now, Updated: now, Commit: smartcommit.CommitInfo{Provider: "github", SHA: sha1}})
	}
	recs[2].Error = "503 from Jira; will retry" // pending: not failed for good
	if err := l.Put(recs...); err != nil {
		t.Fatal(err)
	}
	if n, err := l.CountFailed(); n != 2 || err != nil {
		t.Errorf("CountFailed = %d, %v; want 2", n, err)
	}
}
