// Package jirascan scans Jira issues for leaked credentials: a historical
// scan of every issue of the configured projects, then live passes over
// the issues updated since the last one. Secrets are found with the
// redaction rules (package redact: gitleaks' rule set and jiralinkd's own)
// and stored without the secret: a salted fingerprint and a masked
// preview. Opt-in actions tell the reporter (a comment, written exactly
// once), label the issue, or mask the secret in Jira.
package jirascan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/redact"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/jiraclient"
)

// Jira is what the scanner asks of Jira (*jiraclient.Client).
type Jira interface {
	Search(ctx context.Context, jql string, startAt, maxResults int, fields []string) (jiraclient.SearchPage, error)
	Issue(ctx context.Context, issueKey string, fields []string) (jiraclient.SearchIssue, error)
	CommentsPage(ctx context.Context, issueKey string, startAt, maxResults int) (jiraclient.CommentPage, error)
	AddComment(ctx context.Context, issueKey, body string) (string, error)
	AddLabel(ctx context.Context, issueKey, label string) error
	EditIssue(ctx context.Context, issueKey string, fields, update map[string]any) error
	UpdateComment(ctx context.Context, issueKey, commentID, body string) error
}

// Store is the state the scanner keeps (state/boltstore implements it).
// Each method is one atomic step.
type Store interface {
	// FindingSalt is the installation's fingerprint salt, created once.
	FindingSalt() ([]byte, error)
	ScanCursor(project string) (state.ScanCursor, bool, error)
	ScanCursors() ([]state.ScanCursor, error)
	PutScanCursor(c state.ScanCursor) error
	// PutIssueFindings records the findings of one scan of an issue; when
	// complete, the issue's other open findings become resolved. It
	// returns the findings that are new or reopened.
	PutIssueFindings(issue string, found []state.Finding, complete bool, now time.Time) ([]state.Finding, error)
	Findings(q state.FindingFilter) ([]state.Finding, error)
	FindingAction(id string) (state.FindingAction, bool, error)
	PutFindingActions(as ...state.FindingAction) error
	FindingActions(st state.ActionState) ([]state.FindingAction, error)
}

// Action kinds.
const (
	ActionComment = "comment"
	ActionLabel   = "label"
	ActionMask    = "mask"
)

// Fields that are always text.
const (
	FieldSummary     = "summary"
	FieldDescription = "description"
	FieldEnvironment = "environment"
	FieldComment     = "comment"
)

// Defaults of Options.
const (
	DefaultPageSize        = 25
	DefaultCommentPageSize = 50
	DefaultMaxFieldBytes   = 1 << 20
	DefaultMaxComments     = 5000
	DefaultOverlap         = 10 * time.Minute
	DefaultLabel           = "secret-detected"
	// pageOverlap is how many issues each page re-reads of the previous
	// one, so that an issue deleted or moved between two pages (which
	// shifts the rest back) does not make the scan skip one.
	pageOverlap = 5
)

// Options configures a Scanner.
type Options struct {
	Jira  Jira  // required
	Store Store // required
	// Rules finds the secrets; nil: redact.New().
	Rules *redact.Redactor
	// Projects are the Jira project keys to scan; required.
	Projects []string
	// Fields are the fields to scan: summary, description, environment,
	// comment and text custom fields by id; default the first four.
	Fields []string
	// Actions are the opt-in actions on new findings (comment, label,
	// mask), carried out in that order.
	Actions []string
	// Label is the label of the label action (default DefaultLabel).
	Label string
	// Overlap is how far before the last pass's start the live scan
	// reads, for clock skew and slow indexing (default DefaultOverlap).
	Overlap time.Duration
	// PageSize, CommentPageSize, MaxFieldBytes and MaxComments bound
	// memory and time per issue; zero means the default.
	PageSize, CommentPageSize, MaxFieldBytes, MaxComments int
	Logger                                                *slog.Logger
	Now                                                   func() time.Time
}

// Scanner runs scan passes. It is safe for concurrent use; passes do not
// overlap (a second Run waits).
type Scanner struct {
	opts    Options
	det     *detector
	fields  []string // issue fields a search asks for
	text    []string // text fields scanned (not comment)
	comment bool
	log     *slog.Logger
	now     func() time.Time
	mu      sync.Mutex // one pass at a time
}

// ErrBadOptions is returned by New for incomplete options.
var ErrBadOptions = errors.New("jirascan: bad options")

// New returns a scanner; it reads (or creates) the fingerprint salt.
func New(opts Options) (*Scanner, error) {
	if opts.Jira == nil || opts.Store == nil || len(opts.Projects) == 0 {
		return nil, fmt.Errorf("%w: Jira, Store and Projects are required", ErrBadOptions)
	}
	if opts.Rules == nil {
		r, err := redact.New()
		if err != nil {
			return nil, err
		}
		opts.Rules = r
	}
	if len(opts.Fields) == 0 {
		opts.Fields = []string{FieldSummary, FieldDescription, FieldEnvironment, FieldComment}
	}
	for _, a := range opts.Actions {
		if a != ActionComment && a != ActionLabel && a != ActionMask {
			return nil, fmt.Errorf("%w: unknown action %q", ErrBadOptions, a)
		}
	}
	def := func(v *int, d int) {
		if *v <= 0 {
			*v = d
		}
	}
	def(&opts.PageSize, DefaultPageSize)
	def(&opts.CommentPageSize, DefaultCommentPageSize)
	def(&opts.MaxFieldBytes, DefaultMaxFieldBytes)
	def(&opts.MaxComments, DefaultMaxComments)
	if opts.Overlap <= 0 {
		opts.Overlap = DefaultOverlap
	}
	if opts.Label == "" {
		opts.Label = DefaultLabel
	}
	salt, err := opts.Store.FindingSalt()
	if err != nil {
		return nil, fmt.Errorf("jirascan: %w", err)
	}
	s := &Scanner{opts: opts, det: &detector{rules: opts.Rules, salt: salt}, log: opts.Logger, now: opts.Now}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.fields = []string{"reporter"}
	for _, f := range opts.Fields {
		if f == FieldComment {
			s.comment = true
			continue
		}
		s.text = append(s.text, f)
		s.fields = append(s.fields, f)
	}
	return s, nil
}

// ProjectReport is what one pass did in one project.
type ProjectReport struct {
	Project    string
	Historical bool // the pass (also) advanced the historical scan
	Issues     int  // issues scanned
	New        int  // findings new or reopened
	Skipped    int  // fields or comments not scanned in full
	Err        error
}

// Report is what one pass did.
type Report struct {
	Projects []ProjectReport
	Actions  ActionReport
}

// Err joins the projects' errors.
func (r Report) Err() error {
	var errs []error
	for _, p := range r.Projects {
		if p.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", p.Project, p.Err))
		}
	}
	return errors.Join(errs...)
}

// Run runs one pass: pending actions first, then, per project, the
// historical scan until it is complete and the live scan of the issues
// updated since the last complete pass.
func (s *Scanner) Run(ctx context.Context) Report {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rep Report
	rep.Actions = s.retryActions(ctx)
	for _, p := range s.opts.Projects {
		pr := s.scanProject(ctx, p)
		rep.Projects = append(rep.Projects, pr)
		if ctx.Err() != nil {
			break
		}
	}
	return rep
}

// scanProject runs the historical scan (if unfinished) and the live scan
// of one project.
func (s *Scanner) scanProject(ctx context.Context, project string) ProjectReport {
	pr := ProjectReport{Project: project}
	cur, ok, err := s.opts.Store.ScanCursor(project)
	if err != nil {
		pr.Err = err
		return pr
	}
	passStart := s.now()
	if !ok {
		// Live passes start from the beginning of the historical scan:
		// issues changed while it runs are read again.
		cur = state.ScanCursor{Project: project, Watermark: passStart}
	}
	finish := func(err error) ProjectReport {
		pr.Err = err
		cur.LastPass = s.now()
		cur.LastError = ""
		if err != nil {
			cur.LastError = err.Error()
		}
		cur.Skipped += pr.Skipped
		if perr := s.opts.Store.PutScanCursor(cur); perr != nil && pr.Err == nil {
			pr.Err = perr
		}
		return pr
	}
	if !cur.HistoricalDone {
		pr.Historical = true
		jql := "project = " + quoteJQL(project) + " ORDER BY key ASC"
		err := s.scanQuery(ctx, jql, &cur, &pr, true)
		if err != nil {
			return finish(err)
		}
		cur.HistoricalDone = true
		return finish(nil) // the watermark stays at the historical scan's start
	}
	minutes := int(math.Ceil((passStart.Sub(cur.Watermark) + s.opts.Overlap).Minutes()))
	minutes = max(minutes, 1)
	jql := "project = " + quoteJQL(project) + ` AND updated >= "-` + strconv.Itoa(minutes) + `m" ORDER BY key ASC`
	live := cur
	live.LastIssueNum = 0
	if err := s.scanQuery(ctx, jql, &live, &pr, false); err != nil {
		return finish(err)
	}
	cur.Watermark = passStart
	return finish(nil)
}

// scanQuery reads every issue the JQL finds, in key order, page by page,
// and scans each. Pages overlap by pageOverlap issues; issues whose number
// is at most cur.LastIssueNum are skipped, so a restart resumes after the
// last issue scanned. When historical, the cursor is stored after every
// page.
func (s *Scanner) scanQuery(ctx context.Context, jql string, cur *state.ScanCursor, pr *ProjectReport, historical bool) error {
	start := 0
	if historical {
		start = max(0, cur.Scanned-pageOverlap)
	}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		page, err := s.searchPage(ctx, jql, start)
		if err != nil {
			return err
		}
		if historical {
			cur.Total = page.Total
		}
		for _, is := range page.Issues {
			num := issueNum(is.Key)
			if num <= cur.LastIssueNum {
				continue
			}
			if err := s.scanIssue(ctx, is, pr); err != nil {
				return fmt.Errorf("%s: %w", is.Key, err)
			}
			cur.LastIssueNum = num
			if historical {
				cur.Scanned++
			}
		}
		if historical {
			if err := s.opts.Store.PutScanCursor(*cur); err != nil {
				return err
			}
		}
		next := page.StartAt + len(page.Issues)
		if len(page.Issues) == 0 || next >= page.Total {
			return nil
		}
		start = max(next-pageOverlap, start+1)
	}
}

// searchPage reads one page; a page too large for the client's response
// limit is read again one issue at a time, without fields, each issue
// then fetched alone (an issue too large even alone is skipped by
// scanIssue's caller with the error).
func (s *Scanner) searchPage(ctx context.Context, jql string, start int) (jiraclient.SearchPage, error) {
	page, err := s.opts.Jira.Search(ctx, jql, start, s.opts.PageSize, s.fields)
	if !errors.Is(err, jiraclient.ErrTooLarge) {
		return page, err
	}
	s.log.Warn("secret scan: search page too large, reading its issues one by one", "start", start)
	page, err = s.opts.Jira.Search(ctx, jql, start, s.opts.PageSize, []string{"key"})
	if err != nil {
		return page, err
	}
	for i, is := range page.Issues {
		full, err := s.opts.Jira.Issue(ctx, is.Key, s.fields)
		if errors.Is(err, jiraclient.ErrTooLarge) {
			page.Issues[i].Fields = map[string]json.RawMessage{tooLargeField: nil}
			continue
		}
		if err != nil {
			return page, err
		}
		page.Issues[i] = full
	}
	return page, nil
}

// tooLargeField marks an issue whose fields could not be read at all.
const tooLargeField = "\x00too-large"

// scanIssue scans the fields and comments of one issue and records what
// it found.
func (s *Scanner) scanIssue(ctx context.Context, is jiraclient.SearchIssue, pr *ProjectReport) error {
	pr.Issues++
	project, _, _ := strings.Cut(is.Key, "-")
	complete := true
	var found []state.Finding
	add := func(field, commentID, text string) {
		if len(text) > s.opts.MaxFieldBytes {
			text = truncate(text, s.opts.MaxFieldBytes)
			complete = false
			pr.Skipped++
			s.log.Warn("secret scan: field too large, scanned in part", "issue", is.Key, "field", field, "comment", commentID, "scanned_bytes", len(text))
		}
		if binaryLooking(text) {
			complete = false
			pr.Skipped++
			s.log.Warn("secret scan: binary-looking text not scanned", "issue", is.Key, "field", field, "comment", commentID)
			return
		}
		for _, h := range s.det.find(text) {
			secret := text[h.Start:h.End]
			f := state.Finding{Project: project, Issue: is.Key, Field: field, CommentID: commentID, Rule: h.Rule,
				Fingerprint: s.det.fingerprint(secret), Preview: Mask(secret)}
			f.ID = state.FindingID(is.Key, f.Location(), f.Fingerprint)
			if !slices.ContainsFunc(found, func(o state.Finding) bool { return o.ID == f.ID }) {
				found = append(found, f)
			}
		}
	}
	if _, bad := is.Fields[tooLargeField]; bad {
		complete = false
		pr.Skipped++
		s.log.Warn("secret scan: issue too large to read, not scanned", "issue", is.Key)
	}
	for _, f := range s.text {
		raw, ok := is.Fields[f]
		if !ok {
			continue
		}
		var text string
		if err := json.Unmarshal(raw, &text); err != nil {
			continue // null, or not a text field
		}
		add(f, "", text)
	}
	if s.comment {
		for start := 0; ; {
			if start >= s.opts.MaxComments {
				complete = false
				pr.Skipped++
				s.log.Warn("secret scan: too many comments, the rest not scanned", "issue", is.Key, "scanned", start)
				break
			}
			page, err := s.opts.Jira.CommentsPage(ctx, is.Key, start, s.opts.CommentPageSize)
			if errors.Is(err, jiraclient.ErrTooLarge) && s.opts.CommentPageSize > 1 {
				page, err = s.opts.Jira.CommentsPage(ctx, is.Key, start, 1)
			}
			if errors.Is(err, jiraclient.ErrTooLarge) {
				complete = false
				pr.Skipped++
				s.log.Warn("secret scan: comment too large to read, skipped", "issue", is.Key, "index", start)
				start++
				continue
			}
			if err != nil {
				return err
			}
			for _, c := range page.Comments {
				if !ownComment(c.Body) {
					add(FieldComment, c.ID, c.Body)
				}
			}
			start = page.StartAt + len(page.Comments)
			if len(page.Comments) == 0 || start >= page.Total {
				break
			}
		}
	}
	fresh, err := s.opts.Store.PutIssueFindings(is.Key, found, complete, s.now())
	if err != nil {
		return err
	}
	pr.New += len(fresh)
	for _, f := range fresh {
		s.log.Info("secret found in Jira", "issue", f.Issue, "location", f.Location(), "rule", f.Rule, "preview", f.Preview)
	}
	if len(fresh) > 0 && len(s.opts.Actions) > 0 {
		if err := s.startActions(ctx, fresh, reporterOf(is)); err != nil {
			return err
		}
	}
	return nil
}

// reporterOf is the reporter's user name (Data Center), for a mention.
func reporterOf(is jiraclient.SearchIssue) string {
	var u struct {
		Name string `json:"name"`
	}
	if raw, ok := is.Fields["reporter"]; ok {
		_ = json.Unmarshal(raw, &u)
	}
	return u.Name
}

// issueNum is the number of an issue key (ABC-12 → 12).
func issueNum(key string) int64 {
	i := strings.LastIndexByte(key, '-')
	n, _ := strconv.ParseInt(key[i+1:], 10, 64)
	return n
}

// quoteJQL quotes a project key for JQL.
func quoteJQL(s string) string {
	return `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(s) + `"`
}

// jsonString decodes a JSON string (null and other values are errors).
func jsonString(raw json.RawMessage, out *string) error {
	var p *string
	if err := json.Unmarshal(raw, &p); err != nil {
		return err
	}
	if p == nil {
		return errors.New("null")
	}
	*out = *p
	return nil
}
