package jirascan

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// The fake credentials are assembled at run time so that this file does
// not trip secret scanners; none is or was valid.
const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

func gen(seed uint64, alphabet string, n int) string {
	rng := rand.New(rand.NewPCG(seed, 0x7363616e))
	b := make([]byte, n)
	for i := range b {
		b[i] = alphabet[rng.IntN(len(alphabet))]
	}
	return string(b)
}

func ghToken(seed uint64) string { return "ghp_" + gen(seed, alnum, 36) }

const token = "scan-test-token"

type env struct {
	jira   *jiratest.Server
	client *jiraclient.Client
	store  *boltstore.Store
	path   string
	perms  map[string]bool // permission → denied
}

func newEnv(t *testing.T) *env {
	t.Helper()
	e := &env{perms: map[string]bool{}}
	e.jira = jiratest.Start(t, jiratest.Options{
		Token:    token,
		Projects: []jiratest.Project{{ID: "10000", Key: "ABC", Name: "Alpha"}, {ID: "10001", Key: "XYZ", Name: "Other"}},
		Permissions: func(_, perm string) bool {
			return !e.perms[perm]
		},
	})
	c, err := jiraclient.New(jiraclient.Options{BaseURL: e.jira.URL(), Auth: jiraclient.Auth{Token: token},
		Retry: httpx.RetryOptions{Sleep: func(context.Context, time.Duration) error { return nil }}})
	if err != nil {
		t.Fatal(err)
	}
	e.client = c
	e.path = filepath.Join(t.TempDir(), "state.db")
	e.store, err = boltstore.Open(e.path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.store.Close() })
	return e
}

func (e *env) scanner(t *testing.T, mod func(*Options)) *Scanner {
	t.Helper()
	opts := Options{Jira: e.client, Store: e.store, Projects: []string{"ABC"},
		Fields: []string{"summary", "description", "environment", "comment", "customfield_10100"}}
	if mod != nil {
		mod(&opts)
	}
	s, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func run(t *testing.T, s *Scanner) Report {
	t.Helper()
	rep := s.Run(context.Background())
	if err := rep.Err(); err != nil {
		t.Fatalf("pass: %v", err)
	}
	return rep
}

func (e *env) findings(t *testing.T, q state.FindingFilter) []state.Finding {
	t.Helper()
	fs, err := e.store.Findings(q)
	if err != nil {
		t.Fatal(err)
	}
	return fs
}

// TestHistoricalScanFindsEveryPlacedSecret pages through 60 issues (three
// search pages) and 120 comments of one issue (three comment pages) and
// finds the secrets in every field kind, storing none of them.
func TestHistoricalScanFindsEveryPlacedSecret(t *testing.T) {
	e := newEnv(t)
	var secrets []string
	for i := 1; i <= 60; i++ {
		is := jiratest.Issue{Key: fmt.Sprintf("ABC-%d", i), Summary: fmt.Sprintf("Issue %d", i),
			Description: "Steps to reproduce: run the build.", Custom: map[string]string{"customfield_10100": "n/a"}}
		switch i {
		case 3:
			secrets = append(secrets, ghToken(3))
			is.Description = "CI fails, I used GH_TOKEN=" + ghToken(3) + " locally"
		case 26:
			secrets = append(secrets, ghToken(26))
			is.Environment = "token " + ghToken(26)
		case 51:
			secrets = append(secrets, ghToken(51))
			is.Custom["customfield_10100"] = "deploy with " + ghToken(51)
		}
		e.jira.PutIssue(is)
	}
	e.jira.PutIssue(jiratest.Issue{Key: "XYZ-1", Description: "other project " + ghToken(99)})
	for i := range 120 {
		body := fmt.Sprintf("comment %d", i)
		if i == 110 {
			secrets = append(secrets, ghToken(110))
			body = "here is my token: " + ghToken(110)
		}
		e.jira.PostComment("ABC-7", body)
	}

	rep := run(t, e.scanner(t, nil))
	if got := rep.Projects[0]; got.Issues != 60 || got.New != 4 || !got.Historical {
		t.Fatalf("report %+v", got)
	}
	fs := e.findings(t, state.FindingFilter{Project: "ABC"})
	where := map[string]bool{}
	for _, f := range fs {
		where[f.Issue+" "+f.Location()] = true
		if f.Rule != "github-pat" || f.State != state.FindingOpen || !strings.HasPrefix(f.Preview, "ghp_") || len(f.Fingerprint) != 32 {
			t.Errorf("finding %+v", f)
		}
	}
	for _, w := range []string{"ABC-3 description", "ABC-26 environment", "ABC-51 customfield_10100"} {
		if !where[w] {
			t.Errorf("no finding at %s: %v", w, where)
		}
	}
	if len(fs) != 4 || !strings.HasPrefix(fs[len(fs)-1].Issue+fs[len(fs)-1].Field, "ABC-7comment") {
		t.Errorf("findings: %+v", fs)
	}
	if x := e.findings(t, state.FindingFilter{Project: "XYZ"}); len(x) != 0 {
		t.Errorf("a project not configured was scanned: %+v", x)
	}
	cur, _, _ := e.store.ScanCursor("ABC")
	if !cur.HistoricalDone || cur.Scanned != 60 || cur.Total != 60 {
		t.Errorf("cursor %+v", cur)
	}
	// Nothing of a secret reaches the state file.
	e.store.Close()
	db, err := os.ReadFile(e.path)
	if err != nil {
		t.Fatal(err)
	}
	for _, sec := range secrets {
		if bytes.Contains(db, []byte(sec)) || bytes.Contains(db, []byte(sec[4:20])) {
			t.Errorf("the state file holds (part of) a secret")
		}
	}
}

// TestHistoricalScanResumes: a pass stopped after its first page (as by a
// crash or shutdown) resumes after the last issue scanned instead of
// starting over.
func TestHistoricalScanResumes(t *testing.T) {
	e := newEnv(t)
	for i := 1; i <= 60; i++ {
		e.jira.PutIssue(jiratest.Issue{Key: fmt.Sprintf("ABC-%d", i), Summary: "s", Description: "d " + ghToken(uint64(i))})
	}
	s := e.scanner(t, func(o *Options) { o.Fields = []string{"description"} })
	ctx := context.Background()
	// Run one page by hand: scan with a cancelled context after page one.
	cctx, cancel := context.WithCancel(ctx)
	pages := 0
	s.opts.Jira = &cancelAfter{Jira: e.client, pages: &pages, after: 1, cancel: cancel}
	r1 := s.Run(cctx)
	if r1.Err() == nil {
		t.Fatal("the interrupted pass reported no error")
	}
	cur, _, _ := e.store.ScanCursor("ABC")
	if cur.HistoricalDone || cur.Scanned != 25 || cur.LastIssueNum != 25 {
		t.Fatalf("cursor after the interruption: %+v", cur)
	}
	s.opts.Jira = e.client
	r2 := run(t, s)
	if r2.Projects[0].Issues != 35 {
		t.Errorf("the resumed pass scanned %d issues, want 35", r2.Projects[0].Issues)
	}
	if fs := e.findings(t, state.FindingFilter{}); len(fs) != 60 {
		t.Errorf("%d findings, want 60", len(fs))
	}
}

// cancelAfter cancels the pass's context after some search pages.
type cancelAfter struct {
	Jira
	pages  *int
	after  int
	cancel func()
}

func (c *cancelAfter) Search(ctx context.Context, jql string, startAt, maxResults int, fields []string) (jiraclient.SearchPage, error) {
	p, err := c.Jira.Search(ctx, jql, startAt, maxResults, fields)
	*c.pages++
	if *c.pages >= c.after {
		c.cancel()
	}
	return p, err
}

// TestLiveScanFindsNewCommentAndResolvesRemoved: after the historical
// scan, a pass reads only issues updated since, finds a secret in a new
// comment and resolves it once the comment no longer holds it.
func TestLiveScanFindsNewCommentAndResolvesRemoved(t *testing.T) {
	e := newEnv(t)
	for i := 1; i <= 30; i++ {
		e.jira.PutIssue(jiratest.Issue{Key: fmt.Sprintf("ABC-%d", i), Summary: "s", Updated: time.Now().Add(-48 * time.Hour)})
	}
	s := e.scanner(t, nil)
	run(t, s)
	if fs := e.findings(t, state.FindingFilter{}); len(fs) != 0 {
		t.Fatalf("findings in clean issues: %+v", fs)
	}
	c := e.jira.PostComment("ABC-12", "try with this: "+ghToken(7))
	e.jira.ResetCalls()
	rep := run(t, s)
	if rep.Projects[0].Historical || rep.Projects[0].Issues != 1 || rep.Projects[0].New != 1 {
		t.Fatalf("live pass %+v (it must read only the updated issue)", rep.Projects[0])
	}
	fs := e.findings(t, state.FindingFilter{State: state.FindingOpen})
	if len(fs) != 1 || fs[0].CommentID != c.ID {
		t.Fatalf("findings %+v", fs)
	}
	// The reporter edits the comment; the next pass resolves the finding.
	if err := e.client.UpdateComment(context.Background(), "ABC-12", c.ID, "token removed"); err != nil {
		t.Fatal(err)
	}
	run(t, s)
	fs = e.findings(t, state.FindingFilter{})
	if len(fs) != 1 || fs[0].State != state.FindingResolved || fs[0].ResolvedAt.IsZero() {
		t.Fatalf("after removal: %+v", fs)
	}
}

// TestActionsCommentOnceLabelAndMask: the comment is written exactly once
// even when Jira stores it but its answer is lost; the label is added;
// the secret is masked in the description and in the comment.
func TestActionsCommentOnceLabelAndMask(t *testing.T) {
	e := newEnv(t)
	secret, secret2 := ghToken(1), ghToken(2)
	e.jira.PutIssue(jiratest.Issue{Key: "ABC-1", Summary: "s", Description: "Build log:\nGH_TOKEN=" + secret + "\nend",
		Labels: []string{"ci"}})
	cm := e.jira.PostComment("ABC-1", "also "+secret2)
	// The comment write reaches Jira but its answer is a 502.
	e.jira.FailNextAfterApply(jiratest.RouteCommentAdd, 1, http.StatusBadGateway, nil, "<html>502 Bad Gateway</html>")
	s := e.scanner(t, func(o *Options) { o.Actions = []string{ActionComment, ActionLabel, ActionMask} })
	rep := run(t, s)
	if rep.Projects[0].New != 2 {
		t.Fatalf("report %+v", rep.Projects[0])
	}
	is, _ := e.jira.Issue("ABC-1")
	if strings.Contains(is.Description, secret) || !strings.Contains(is.Description, "GH_TOKEN=[secret removed: github-pat]\nend") {
		t.Errorf("description not masked: %q", is.Description)
	}
	if strings.Join(is.Labels, ",") != "ci,secret-detected" {
		t.Errorf("labels %v", is.Labels)
	}
	comments := e.jira.Comments("ABC-1")
	var ours int
	for _, c := range comments {
		if c.ID == cm.ID && c.Body != "also [secret removed: github-pat]" {
			t.Errorf("comment not masked: %q", c.Body)
		}
		if strings.Contains(c.Body, "(jiralinkd-secret:") {
			ours++
			if strings.Contains(c.Body, secret[:10]) || strings.Contains(c.Body, secret[len(secret)-4:]) {
				t.Errorf("our comment quotes the secret: %q", c.Body)
			}
		}
	}
	if ours != 2 {
		t.Fatalf("%d comments by jiralinkd, want one per finding (2): %+v", ours, comments)
	}
	as, _ := e.store.FindingActions("")
	for _, a := range as {
		if a.State != state.ActionDone {
			t.Errorf("action %+v", a)
		}
	}
	// Later passes resolve the masked findings and comment no more.
	run(t, s)
	run(t, s)
	if n := len(e.jira.Comments("ABC-1")); n != len(comments) {
		t.Errorf("comments %d → %d", len(comments), n)
	}
	if open := e.findings(t, state.FindingFilter{State: state.FindingOpen}); len(open) != 0 {
		t.Errorf("masked secrets still open: %+v", open)
	}
}

// TestActionPendingAfterCrashIsNotRepeated: an action recorded pending with
// an attempt (the process died after sending the comment) is completed by
// the next pass by finding its comment, not by writing a second one.
func TestActionPendingAfterCrashIsNotRepeated(t *testing.T) {
	e := newEnv(t)
	e.jira.PutIssue(jiratest.Issue{Key: "ABC-1", Summary: "s", Description: "token " + ghToken(5)})
	s := e.scanner(t, nil)
	run(t, s)
	f := e.findings(t, state.FindingFilter{})[0]
	id := state.FindingActionID(f.ID, ActionComment)
	// As if a pass had sent the comment and crashed before recording it.
	e.jira.PostComment("ABC-1", commentBody(f, "", marker(id)))
	now := time.Now()
	if err := e.store.PutFindingActions(state.FindingAction{ID: id, FindingID: f.ID, Issue: "ABC-1", Kind: ActionComment,
		State: state.ActionPending, Attempts: 1, Created: now, Updated: now}); err != nil {
		t.Fatal(err)
	}
	s2 := e.scanner(t, func(o *Options) { o.Actions = []string{ActionComment} })
	rep := run(t, s2)
	if rep.Actions.Done != 1 {
		t.Fatalf("actions %+v", rep.Actions)
	}
	if n := len(e.jira.Comments("ABC-1")); n != 1 {
		t.Errorf("%d comments, want 1", n)
	}
}

// TestActionWithoutPermissionFails: Jira's 403 fails the action for good,
// with Jira's message recorded, and the scan goes on.
func TestActionWithoutPermissionFails(t *testing.T) {
	e := newEnv(t)
	e.perms["EDIT_ISSUES"] = true
	e.jira.PutIssue(jiratest.Issue{Key: "ABC-1", Summary: "s", Description: "token " + ghToken(5)})
	s := e.scanner(t, func(o *Options) { o.Actions = []string{ActionLabel} })
	run(t, s)
	as, _ := e.store.FindingActions("")
	if len(as) != 1 || as[0].State != state.ActionFailed || !strings.Contains(as[0].Error, "403") {
		t.Fatalf("actions %+v", as)
	}
	if len(e.findings(t, state.FindingFilter{})) != 1 {
		t.Error("the finding was not kept")
	}
}

// TestBadInputIsBoundedAndReported: a huge description, binary-looking
// text and many comments are scanned within limits and reported as
// skipped; the secret within the limit is found.
func TestBadInputIsBoundedAndReported(t *testing.T) {
	e := newEnv(t)
	huge := "token " + ghToken(1) + "\n" + strings.Repeat("log line without secrets\n", 120_000) + ghToken(2)
	e.jira.PutIssue(jiratest.Issue{Key: "ABC-1", Summary: "s", Description: huge})
	e.jira.PutIssue(jiratest.Issue{Key: "ABC-2", Summary: "s", Description: "\x00\x01\x02\x03binary" + strings.Repeat("\x00ab", 100) + ghToken(3)})
	e.jira.PutIssue(jiratest.Issue{Key: "ABC-3", Summary: "s"})
	for i := range 130 {
		e.jira.PostComment("ABC-3", fmt.Sprintf("comment %d", i))
	}
	s := e.scanner(t, func(o *Options) { o.MaxFieldBytes = 1 << 20; o.MaxComments = 100 })
	rep := run(t, s)
	if rep.Projects[0].Skipped != 3 {
		t.Errorf("skipped %d, want 3 (huge, binary, comments)", rep.Projects[0].Skipped)
	}
	fs := e.findings(t, state.FindingFilter{})
	if len(fs) != 1 || fs[0].Issue != "ABC-1" {
		t.Errorf("findings %+v", fs)
	}
	if cur, _, _ := e.store.ScanCursor("ABC"); cur.Skipped != 3 {
		t.Errorf("cursor skipped %d", cur.Skipped)
	}
}

func TestMask(t *testing.T) {
	for in, want := range map[string]string{
		"AKIA" + "Z7QW2XK4VM3PLN5R":  "AKIA…LN5R",
		"hunter2":                    "…(7 chars)",
		"abcdefgh":                   "ab…gh",
		"ab\ncdefghijklmnopqrstuvwx": "ab?c…uvwx",
	} {
		if got := Mask(in); got != want {
			t.Errorf("Mask(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestThousandsOfCommentsArePaged: an issue with 3,000 comments is read 50
// at a time (never all at once) and a secret in the last one is found.
func TestThousandsOfCommentsArePaged(t *testing.T) {
	e := newEnv(t)
	e.jira.PutIssue(jiratest.Issue{Key: "ABC-1", Summary: "s"})
	for i := range 3000 {
		body := fmt.Sprintf("comment %d: retried the build, still red", i)
		if i == 2999 {
			body = "last try with " + ghToken(9)
		}
		e.jira.PostComment("ABC-1", body)
	}
	e.jira.ResetCalls()
	rep := run(t, e.scanner(t, nil))
	if rep.Projects[0].New != 1 || rep.Projects[0].Skipped != 0 {
		t.Fatalf("report %+v", rep.Projects[0])
	}
	pages := 0
	for _, r := range e.jira.Requests() {
		if r.Route != jiratest.RouteComments {
			continue
		}
		pages++
		if !strings.Contains(r.RawQuery, "maxResults=50") {
			t.Errorf("comment request %s asks for more than a page", r.RawQuery)
		}
	}
	if pages != 60 {
		t.Errorf("%d comment pages, want 60", pages)
	}
}

// jiralinkd's own comments about findings are never scanned: their
// random-looking marker ("secret:<hex>") could pass for a credential and
// start a loop of comments about comments.
func TestOwnCommentsAreNotScanned(t *testing.T) {
	e := newEnv(t)
	e.jira.PutIssue(jiratest.Issue{Key: "ABC-1", Summary: "s", Description: "nothing here"})
	e.jira.PostComment("ABC-1", "jiralinkd found what looks like a credential. "+markerPrefix+"0f501752d013a2e4) token: "+ghToken(3))
	rep := run(t, e.scanner(t, nil))
	if rep.Projects[0].New != 0 {
		t.Errorf("a jiralinkd comment produced findings: %+v", rep.Projects[0])
	}
}
