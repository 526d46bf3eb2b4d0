package admin

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// findingsBackend is fakeBackend with secret-scanning state.
type findingsBackend struct {
	*fakeBackend
	findings []state.Finding
	cursors  []state.ScanCursor
}

func (f *findingsBackend) Findings(q state.FindingFilter) ([]state.Finding, error) {
	var out []state.Finding
	for _, x := range f.findings {
		if q.Matches(x) {
			out = append(out, x)
		}
	}
	return out, nil
}

func (f *findingsBackend) ScanCursors() ([]state.ScanCursor, error) { return f.cursors, nil }

func newFindingsBackend() *findingsBackend {
	mk := func(issue, field, comment, fp string, st state.FindingState) state.Finding {
		f := state.Finding{Project: issue[:3], Issue: issue, Field: field, CommentID: comment, Rule: "aws-access-token",
			Fingerprint: fp, Preview: "AKIA…PLN5", State: st, FirstSeen: testNow.Add(-2 * time.Hour), LastSeen: testNow.Add(-time.Minute)}
		if st == state.FindingResolved {
			f.ResolvedAt = testNow.Add(-time.Minute)
		}
		f.ID = state.FindingID(issue, f.Location(), fp)
		return f
	}
	return &findingsBackend{
		fakeBackend: newFakeBackend(),
		findings: []state.Finding{
			mk("ABC-1", "description", "", "f1", state.FindingOpen),
			mk("ABC-2", "comment", "10042", "f2", state.FindingOpen),
			mk("ABC-3", "summary", "", "f3", state.FindingResolved),
			mk("OPS-1", "environment", "", "f4", state.FindingOpen),
		},
		cursors: []state.ScanCursor{
			{Project: "OPS", Scanned: 40, Total: 100},
			{Project: "ABC", HistoricalDone: true, Scanned: 300, Total: 300, LastError: "jira: POST /rest/api/2/search: HTTP 400"},
		},
	}
}

func TestAPIFindings(t *testing.T) {
	h := newHarness(t, newFindingsBackend(), Options{Token: testToken})
	get := func(path string) (int, FindingsReport) {
		t.Helper()
		r := h.do(t, req{method: "GET", path: path, bearer: testToken})
		var rep FindingsReport
		if r.code == http.StatusOK {
			if err := json.Unmarshal([]byte(r.body), &rep); err != nil {
				t.Fatal(err)
			}
		}
		return r.code, rep
	}
	code, rep := get("/api/v1/findings")
	if code != http.StatusOK || len(rep.Findings) != 3 || len(rep.Projects) != 2 {
		t.Fatalf("%d %+v", code, rep)
	}
	if p := rep.Projects[0]; p.Project != "ABC" || p.Open != 2 || p.Resolved != 1 || !p.HistoricalDone {
		t.Errorf("ABC progress %+v", p)
	}
	if f := rep.Findings[1]; f.Location != "comment/10042" || f.CommentID != "10042" || f.Preview != "AKIA…PLN5" || f.ResolvedAt != nil {
		t.Errorf("finding %+v", f)
	}
	if _, rep = get("/api/v1/findings?project=abc&state=all"); len(rep.Findings) != 3 {
		t.Errorf("project filter: %+v", rep.Findings)
	}
	if _, rep = get("/api/v1/findings?state=resolved"); len(rep.Findings) != 1 || rep.Findings[0].ResolvedAt == nil {
		t.Errorf("resolved: %+v", rep.Findings)
	}
	if _, rep = get("/api/v1/findings?state=all&limit=2"); len(rep.Findings) != 2 || !rep.Truncated {
		t.Errorf("limit: %+v", rep)
	}
	if code, _ = get("/api/v1/findings?state=maybe"); code != http.StatusBadRequest {
		t.Errorf("bad state: %d", code)
	}
	if r := h.do(t, req{method: "GET", path: "/api/v1/findings"}); r.code != http.StatusUnauthorized {
		t.Errorf("without the token: %d", r.code)
	}
	// A backend without secret scanning answers 404.
	h2 := newHarness(t, newFakeBackend(), Options{Token: testToken})
	if r := h2.do(t, req{method: "GET", path: "/api/v1/findings", bearer: testToken}); r.code != http.StatusNotFound || !strings.Contains(r.body, "secret_scan") {
		t.Errorf("scan off: %d %s", r.code, r.body)
	}
}

func TestFindingsPage(t *testing.T) {
	h := newHarness(t, newFindingsBackend(), Options{Token: testToken})
	r := h.do(t, req{method: "GET", path: "/findings", bearer: testToken})
	if r.code != http.StatusOK {
		t.Fatalf("%d", r.code)
	}
	for _, want := range []string{
		"Secrets found in Jira", `data-project="ABC"`, `data-project="OPS"`, "40 of 100", `<meter min="0" max="100" value="40">`,
		"3 open findings", `<a href="/issues?key=ABC-2">ABC-2</a>`, "comment/10042", "<code>AKIA…PLN5</code>",
		"rotate the credential", "HTTP 400",
	} {
		if !strings.Contains(r.body, want) {
			t.Errorf("findings page lacks %q", want)
		}
	}
	if strings.Contains(r.body, "ABC-3") {
		t.Error("a resolved finding is listed among the open ones")
	}
	r = h.do(t, req{method: "GET", path: "/findings?project=ABC&state=resolved", bearer: testToken})
	if !strings.Contains(r.body, "ABC-3") || !strings.Contains(r.body, "1 resolved finding in ABC") {
		t.Errorf("resolved view:\n%s", r.body)
	}
	h2 := newHarness(t, newFakeBackend(), Options{Token: testToken})
	if r := h2.do(t, req{method: "GET", path: "/findings", bearer: testToken}); r.code != http.StatusOK || !strings.Contains(r.body, "secret scanning is off") {
		t.Errorf("scan off: %d", r.code)
	}
	// The status page links to the Findings view.
	if r := h.do(t, req{method: "GET", path: "/", bearer: testToken}); !strings.Contains(r.body, `href="/findings"`) {
		t.Error("no link to /findings on the status page")
	}
}
