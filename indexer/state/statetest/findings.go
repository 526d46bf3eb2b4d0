package statetest

import (
	"bytes"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// Jira secret scanning's state (jirascan.Store) and the keys routes
// dropped (indexer.RouteDropRecorder, admin.RouteDropSource).

// testFindingsSurviveReopen checks that findings, cursors, the salt and
// the action ledger are durable.
func testFindingsSurviveReopen(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
	salt, err := s.FindingSalt()
	if err != nil || len(salt) != 32 {
		t.Fatalf("salt %x, %v", salt, err)
	}
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	if _, err := s.PutIssueFindings("ABC-1", []state.Finding{finding("ABC-1", "description", "", "fp1")}, true, now); err != nil {
		t.Fatal(err)
	}
	if err := s.PutScanCursor(state.ScanCursor{Project: "ABC", LastIssueNum: 42}); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s2 := open(t)
	salt2, _ := s2.FindingSalt()
	if !bytes.Equal(salt, salt2) {
		t.Error("the salt changed on reopen: fingerprints would no longer match")
	}
	if fs, _ := s2.Findings(state.FindingFilter{}); len(fs) != 1 {
		t.Errorf("findings after reopen: %+v", fs)
	}
	if c, ok, _ := s2.ScanCursor("ABC"); !ok || c.LastIssueNum != 42 {
		t.Errorf("cursor after reopen: %+v %v", c, ok)
	}
}

func finding(issue, field, comment, fp string) state.Finding {
	f := state.Finding{Project: issue[:3], Issue: issue, Field: field, CommentID: comment, Rule: "github-pat",
		Fingerprint: fp, Preview: "ghp_…abcd"}
	f.ID = state.FindingID(issue, f.Location(), fp)
	return f
}

// testFindingStore is the behaviour of the findings store (jirascan.Store).
func testFindingStore(t *testing.T, open func(*testing.T) Backend) {
	t1 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	t2, t3 := t1.Add(time.Hour), t1.Add(2*time.Hour)

	t.Run("salt is stable", func(t *testing.T) {
		s := open(t)
		a, err := s.FindingSalt()
		if err != nil || len(a) < 16 {
			t.Fatalf("salt %d bytes, %v", len(a), err)
		}
		b, _ := s.FindingSalt()
		if !bytes.Equal(a, b) {
			t.Error("salt changed between calls")
		}
	})

	t.Run("findings lifecycle", func(t *testing.T) {
		s := open(t)
		d := finding("ABC-1", "description", "", "fp1")
		c := finding("ABC-1", "comment", "10001", "fp2")
		other := finding("ABC-10", "summary", "", "fp3")
		fresh, err := s.PutIssueFindings("ABC-1", []state.Finding{d, c}, true, t1)
		if err != nil || len(fresh) != 2 {
			t.Fatalf("first scan: %d fresh, %v", len(fresh), err)
		}
		if _, err := s.PutIssueFindings("ABC-10", []state.Finding{other}, true, t1); err != nil {
			t.Fatal(err)
		}
		// Rescan: nothing new, LastSeen moves, FirstSeen stays.
		fresh, err = s.PutIssueFindings("ABC-1", []state.Finding{d, c}, true, t2)
		if err != nil || len(fresh) != 0 {
			t.Fatalf("rescan: %v fresh, %v", fresh, err)
		}
		got, _ := s.Findings(state.FindingFilter{Issue: "ABC-1"})
		if len(got) != 2 || !got[0].FirstSeen.Equal(t1) || !got[0].LastSeen.Equal(t2) || got[0].State != state.FindingOpen {
			t.Fatalf("after rescan: %+v", got)
		}
		// The comment was edited: an incomplete scan resolves nothing...
		if _, err := s.PutIssueFindings("ABC-1", []state.Finding{d}, false, t3); err != nil {
			t.Fatal(err)
		}
		if open, _ := s.Findings(state.FindingFilter{Issue: "ABC-1", State: state.FindingOpen}); len(open) != 2 {
			t.Fatalf("an incomplete scan resolved findings: %+v", open)
		}
		// ...a complete one does, and only on that issue (ABC-10 shares the prefix ABC-1).
		if _, err := s.PutIssueFindings("ABC-1", []state.Finding{d}, true, t3); err != nil {
			t.Fatal(err)
		}
		res, _ := s.Findings(state.FindingFilter{State: state.FindingResolved})
		if len(res) != 1 || res[0].ID != c.ID || !res[0].ResolvedAt.Equal(t3) {
			t.Fatalf("resolved: %+v", res)
		}
		if o, _ := s.Findings(state.FindingFilter{Issue: "ABC-10", State: state.FindingOpen}); len(o) != 1 {
			t.Fatalf("ABC-10 findings touched by a scan of ABC-1: %+v", o)
		}
		// The secret comes back: reopened, reported as fresh, FirstSeen kept.
		fresh, _ = s.PutIssueFindings("ABC-1", []state.Finding{d, c}, true, t3.Add(time.Hour))
		if len(fresh) != 1 || fresh[0].ID != c.ID {
			t.Fatalf("reopened: %+v", fresh)
		}
		got, _ = s.Findings(state.FindingFilter{Issue: "ABC-1", State: state.FindingOpen})
		if len(got) != 2 {
			t.Fatalf("open after reappearance: %+v", got)
		}
		for _, f := range got {
			if !f.FirstSeen.Equal(t1) || !f.ResolvedAt.IsZero() {
				t.Errorf("reopened finding %+v", f)
			}
		}
		if all, _ := s.Findings(state.FindingFilter{Project: "ABC", Limit: 2}); len(all) != 2 {
			t.Errorf("limit: %d findings", len(all))
		}
		if none, _ := s.Findings(state.FindingFilter{Project: "XYZ"}); len(none) != 0 {
			t.Errorf("project filter: %+v", none)
		}
	})

	t.Run("cursors", func(t *testing.T) {
		s := open(t)
		if _, ok, err := s.ScanCursor("ABC"); ok || err != nil {
			t.Fatalf("unknown project: %v %v", ok, err)
		}
		want := state.ScanCursor{Project: "ABC", LastIssueNum: 10042, Scanned: 3, Total: 9, Watermark: t2}
		if err := s.PutScanCursor(want); err != nil {
			t.Fatal(err)
		}
		_ = s.PutScanCursor(state.ScanCursor{Project: "XYZ", HistoricalDone: true})
		got, ok, err := s.ScanCursor("ABC")
		if err != nil || !ok || got.LastIssueNum != want.LastIssueNum || !got.Watermark.Equal(t2) || got.Total != 9 {
			t.Fatalf("cursor %+v %v %v", got, ok, err)
		}
		if all, _ := s.ScanCursors(); len(all) != 2 {
			t.Errorf("cursors: %+v", all)
		}
	})

	t.Run("action ledger", func(t *testing.T) {
		s := open(t)
		id := state.FindingActionID("ABC-1\x00description\x00fp", "comment")
		if _, ok, err := s.FindingAction(id); ok || err != nil {
			t.Fatalf("unknown action: %v %v", ok, err)
		}
		a := state.FindingAction{ID: id, Issue: "ABC-1", Kind: "comment", State: state.ActionPending, Attempts: 1, Created: t1, Updated: t1}
		b := state.FindingAction{ID: id + "x", Issue: "ABC-1", Kind: "label", State: state.ActionDone, Created: t1, Updated: t1}
		if err := s.PutFindingActions(a, b); err != nil {
			t.Fatal(err)
		}
		if p, _ := s.FindingActions(state.ActionPending); len(p) != 1 || p[0].ID != id {
			t.Fatalf("pending: %+v", p)
		}
		a.State, a.JiraID = state.ActionDone, "10100"
		_ = s.PutFindingActions(a)
		got, ok, _ := s.FindingAction(id)
		if !ok || got.State != state.ActionDone || got.JiraID != "10100" || got.Attempts != 1 {
			t.Fatalf("action %+v", got)
		}
		if p, _ := s.FindingActions(state.ActionPending); len(p) != 0 {
			t.Fatalf("pending after done: %+v", p)
		}
	})
}

// testRouteDropStore: the keys routes dropped, per issue (case does not
// matter), one record per issue and entity.
func testRouteDropStore(t *testing.T, open func(*testing.T) Backend) {
	s := open(t)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := func(issue, gid, reason string) state.RouteDrop {
		return state.RouteDrop{Issue: issue, GlobalID: gid, Kind: "commit", Repo: "github/acme/api", Reason: reason, At: at}
	}
	if ds, err := s.RouteDrops("OPS-1"); err != nil || len(ds) != 0 {
		t.Fatalf("empty: %v %v", ds, err)
	}
	if err := s.PutRouteDrops([]state.RouteDrop{d("OPS-1", "g1", "r1"), d("OPS-1", "g2", "r1"), d("OPS-10", "g1", "r1")}); err != nil {
		t.Fatal(err)
	}
	// The same issue and entity again replaces the record.
	if err := s.PutRouteDrops([]state.RouteDrop{d("OPS-1", "g1", "r2")}); err != nil {
		t.Fatal(err)
	}
	ds, err := s.RouteDrops("ops-1")
	if err != nil || len(ds) != 2 || ds[0].GlobalID != "g1" || ds[0].Reason != "r2" || !ds[0].At.Equal(at) {
		t.Fatalf("OPS-1 drops: %+v %v", ds, err)
	}
	if ds, _ := s.RouteDrops("OPS-10"); len(ds) != 1 {
		t.Errorf("OPS-10 drops: %+v", ds)
	}
}
