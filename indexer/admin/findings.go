package admin

import (
	"errors"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// FindingsSource is implemented by backends that scan Jira for secrets.
// ErrScanOff says scanning is not configured.
type FindingsSource interface {
	Findings(q state.FindingFilter) ([]state.Finding, error)
	ScanCursors() ([]state.ScanCursor, error)
}

// ErrScanOff is returned by a FindingsSource when secret scanning is off.
var ErrScanOff = errors.New("jira secret scanning is not enabled (jira.secret_scan.enabled)")

// Finding is a secret found in Jira as the API shows it: never the
// secret, only its masked preview and fingerprint.
type Finding struct {
	Project     string     `json:"project"`
	Issue       string     `json:"issue"`
	Location    string     `json:"location"` // field, or comment/<id>
	Field       string     `json:"field"`
	CommentID   string     `json:"comment_id,omitempty"`
	Rule        string     `json:"rule"`
	Fingerprint string     `json:"fingerprint"`
	Preview     string     `json:"preview"`
	State       string     `json:"state"`
	FirstSeen   time.Time  `json:"first_seen"`
	LastSeen    time.Time  `json:"last_seen"`
	ResolvedAt  *time.Time `json:"resolved_at,omitempty"`
}

// ScanProgress is one project's scan state and finding counts.
type ScanProgress struct {
	Project        string    `json:"project"`
	HistoricalDone bool      `json:"historical_done"`
	Scanned        int       `json:"scanned"`
	Total          int       `json:"total"`
	Watermark      time.Time `json:"watermark,omitzero"`
	LastPass       time.Time `json:"last_pass,omitzero"`
	LastError      string    `json:"last_error,omitempty"`
	Skipped        int       `json:"skipped"`
	Open           int       `json:"open"`
	Resolved       int       `json:"resolved"`
}

// FindingsReport is GET /api/v1/findings: per-project progress and the
// findings the query selects (open ones by default).
type FindingsReport struct {
	Projects  []ScanProgress `json:"projects"`  // never null
	Findings  []Finding      `json:"findings"`  // never null
	Truncated bool           `json:"truncated"` // more findings matched than limit
}

// maxFindings caps one answer.
const maxFindings = 5000

// BuildFindingsReport reads the report from src for the query (state ""
// means open; "all" every state).
func BuildFindingsReport(src FindingsSource, q state.FindingFilter) (FindingsReport, error) {
	rep := FindingsReport{Projects: []ScanProgress{}, Findings: []Finding{}}
	cursors, err := src.ScanCursors()
	if err != nil {
		return rep, err
	}
	all, err := src.Findings(state.FindingFilter{})
	if err != nil {
		return rep, err
	}
	byProject := map[string]*ScanProgress{}
	for _, c := range cursors {
		rep.Projects = append(rep.Projects, ScanProgress{Project: c.Project, HistoricalDone: c.HistoricalDone, Scanned: c.Scanned,
			Total: c.Total, Watermark: c.Watermark, LastPass: c.LastPass, LastError: c.LastError, Skipped: c.Skipped})
	}
	sort.Slice(rep.Projects, func(i, j int) bool { return rep.Projects[i].Project < rep.Projects[j].Project })
	for i := range rep.Projects {
		byProject[rep.Projects[i].Project] = &rep.Projects[i]
	}
	limit := q.Limit
	if limit <= 0 || limit > maxFindings {
		limit = maxFindings
	}
	for _, f := range all {
		if p := byProject[f.Project]; p != nil {
			if f.State == state.FindingOpen {
				p.Open++
			} else {
				p.Resolved++
			}
		}
		if !q.Matches(f) {
			continue
		}
		if len(rep.Findings) >= limit {
			rep.Truncated = true
			continue
		}
		af := Finding{Project: f.Project, Issue: f.Issue, Location: f.Location(), Field: f.Field, CommentID: f.CommentID,
			Rule: f.Rule, Fingerprint: f.Fingerprint, Preview: f.Preview, State: string(f.State), FirstSeen: f.FirstSeen, LastSeen: f.LastSeen}
		if !f.ResolvedAt.IsZero() {
			t := f.ResolvedAt
			af.ResolvedAt = &t
		}
		rep.Findings = append(rep.Findings, af)
	}
	return rep, nil
}

// findingsQuery reads ?project=&state=&issue=&limit= (state open by
// default, "all" for every state).
func findingsQuery(r *http.Request) (state.FindingFilter, error) {
	v := r.URL.Query()
	q := state.FindingFilter{Project: strings.ToUpper(strings.TrimSpace(v.Get("project"))),
		Issue: NormalizeIssueKey(strings.TrimSpace(v.Get("issue")))}
	switch st := v.Get("state"); st {
	case "", "open":
		q.State = state.FindingOpen
	case "resolved":
		q.State = state.FindingResolved
	case "all":
	default:
		return q, errors.New("state: want open, resolved or all")
	}
	if s := v.Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			return q, errors.New("limit: want a positive number")
		}
		q.Limit = n
	}
	return q, nil
}

// findingsReport serves the API and the page from the backend.
func (s *Server) findingsReport(q state.FindingFilter) (FindingsReport, error) {
	src, ok := s.b.(FindingsSource)
	if !ok {
		return FindingsReport{}, ErrScanOff
	}
	rep, err := BuildFindingsReport(src, q)
	if err != nil && !errors.Is(err, ErrScanOff) {
		s.log.Error("admin: read findings", "err", err)
	}
	return rep, err
}

func (s *Server) apiFindings(w http.ResponseWriter, r *http.Request) {
	q, err := findingsQuery(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, err.Error())
		return
	}
	rep, err := s.findingsReport(q)
	switch {
	case errors.Is(err, ErrScanOff):
		writeError(w, http.StatusNotFound, ErrScanOff.Error())
	case err != nil:
		writeError(w, http.StatusInternalServerError, "cannot read the findings (see the daemon's log)")
	default:
		writeJSON(w, http.StatusOK, rep)
	}
}

// findingsView is the data of the Findings page.
type findingsView struct {
	Version, Now, CSRF string
	Problem            string
	Off                bool
	Query              state.FindingFilter
	StateParam         string
	Report             FindingsReport
	Rows               []findingRow
}

type findingRow struct {
	Finding
	First, Last when
}

func (s *Server) findingsPage(w http.ResponseWriter, r *http.Request) {
	now := s.now()
	v := findingsView{Version: s.version, Now: now.Format(timeLayout), CSRF: s.csrfFor(r), StateParam: r.URL.Query().Get("state")}
	code := http.StatusOK
	q, err := findingsQuery(r)
	v.Query = q
	if err != nil {
		v.Problem, code = err.Error(), http.StatusBadRequest
		render(w, code, s.pages.findings, v)
		return
	}
	rep, err := s.findingsReport(q)
	switch {
	case errors.Is(err, ErrScanOff):
		v.Off = true
	case err != nil:
		v.Problem, code = "Could not read the findings: see the daemon's log.", http.StatusInternalServerError
	}
	v.Report = rep
	for _, f := range rep.Findings {
		v.Rows = append(v.Rows, findingRow{Finding: f, First: at(f.FirstSeen, now, "—"), Last: at(f.LastSeen, now, "—")})
	}
	render(w, code, s.pages.findings, v)
}
