package githubtest

// search.go: GET /search/issues, restricted to what the fake holds (pull
// requests; it has no issues), with the qualifiers an owner-wide change
// feed uses and the search API's own limits.

import (
	"cmp"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
)

const (
	routeSearchIssues = "GET /search/issues"
	// searchRateLimit is the search API's budget per minute for an
	// authenticated client (X-RateLimit-Resource: search).
	searchRateLimit = 30
	// searchMaxResults is how many results a search serves, whatever
	// total_count says.
	searchMaxResults = 1000
	searchDocs       = "https://docs.github.com/rest/search/search#search-issues-and-pull-requests"
)

// SetSearchRemaining sets what is left of the current minute's search
// budget (30 requests a minute).
func (s *Server) SetSearchRemaining(n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.search.roll(s.now())
	s.search.used = s.search.limit - max(0, min(n, s.search.limit))
}

// SetSearchIncomplete makes searches answer incomplete_results: true, as
// GitHub does when a search times out (the results are then partial).
func (s *Server) SetSearchIncomplete(incomplete bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.searchIncomplete = incomplete
}

// issueQuery is a parsed q: the qualifiers the fake understands; any other
// term must appear in the title (case-insensitive).
type issueQuery struct {
	kind         string // "pr", "issue" or "" for both
	state        string // "open", "closed", "merged", "unmerged" or ""
	owner        string
	ownerIsOrg   bool // org: rather than user:
	repo         string
	updated      []dateBound
	created      []dateBound
	words        []string
	ownerMissing bool
}

// dateBound is one side of a date qualifier: updated:>=2026-12-04T10:00:00Z.
type dateBound struct {
	op string // ">", ">=", "<", "<="
	t  time.Time
}

func (b dateBound) holds(t time.Time) bool {
	switch b.op {
	case ">":
		return t.After(b.t)
	case ">=":
		return !t.Before(b.t)
	case "<":
		return t.Before(b.t)
	}
	return !t.After(b.t)
}

// parseSearchDate reads a date qualifier's value: ISO 8601, a date or a
// date and time with Z or an offset, after an optional comparison; a
// range a..b becomes two bounds.
func parseSearchDate(v string) ([]dateBound, bool) {
	parse := func(s string) (time.Time, bool) {
		for _, layout := range []string{time.RFC3339, "2006-01-02T15:04:05", "2006-01-02T15:04Z07:00", time.DateOnly} {
			if t, err := time.Parse(layout, s); err == nil {
				return t, true
			}
		}
		return time.Time{}, false
	}
	if lo, hi, ok := strings.Cut(v, ".."); ok {
		var out []dateBound
		if lo != "*" {
			t, ok := parse(lo)
			if !ok {
				return nil, false
			}
			out = append(out, dateBound{">=", t})
		}
		if hi != "*" {
			t, ok := parse(hi)
			if !ok {
				return nil, false
			}
			out = append(out, dateBound{"<=", t})
		}
		return out, true
	}
	op := ""
	for _, p := range []string{">=", "<=", ">", "<"} {
		if strings.HasPrefix(v, p) {
			op, v = p, v[len(p):]
			break
		}
	}
	t, ok := parse(v)
	if !ok {
		return nil, false
	}
	if op == "" { // a bare date: that day, or that instant
		if len(v) == len(time.DateOnly) {
			return []dateBound{{">=", t}, {"<", t.AddDate(0, 0, 1)}}, true
		}
		return []dateBound{{">=", t}, {"<=", t}}, true
	}
	return []dateBound{{op, t}}, true
}

// parseIssueQuery parses q; it answers GitHub's 422 for a term the fake
// cannot read (a date qualifier that is not ISO 8601).
func parseIssueQuery(q string) (issueQuery, *response) {
	var iq issueQuery
	for _, term := range strings.Fields(q) {
		key, val, ok := strings.Cut(term, ":")
		if !ok || val == "" {
			iq.words = append(iq.words, strings.ToLower(term))
			continue
		}
		switch strings.ToLower(key) {
		case "is", "type", "state":
			switch v := strings.ToLower(val); v {
			case "pr", "issue":
				iq.kind = v
			case "open", "closed", "merged", "unmerged":
				iq.state = v
			}
		case "org", "user":
			iq.owner, iq.ownerIsOrg = val, strings.EqualFold(key, "org")
		case "repo":
			iq.repo = val
		case "updated", "created":
			b, ok := parseSearchDate(val)
			if !ok {
				r := validationFailed("invalid", fmt.Sprintf("The %s qualifier value %q is not a valid date.", key, val))
				return iq, &r
			}
			if strings.EqualFold(key, "updated") {
				iq.updated = append(iq.updated, b...)
			} else {
				iq.created = append(iq.created, b...)
			}
		default:
			iq.words = append(iq.words, strings.ToLower(term))
		}
	}
	return iq, nil
}

// validationFailed is the search API's 422 body.
func validationFailed(code, message string) response {
	e := map[string]string{"resource": "Search", "field": "q", "code": code}
	if message != "" {
		e["message"] = message
	}
	return fakeserver.JSON(http.StatusUnprocessableEntity, struct {
		Message          string              `json:"message"`
		Errors           []map[string]string `json:"errors"`
		DocumentationURL string              `json:"documentation_url"`
	}{"Validation Failed", []map[string]string{e}, searchDocs})
}

// searchHit is one matching pull request and its repository.
type searchHit struct {
	repo Repo
	pull PullRequest
}

// searchIssues serves GET /search/issues: q (the qualifiers of
// issueQuery), sort (updated, created; anything else is best match, here
// newest first) and order (desc by default), paginated with Link. Only the
// first 1,000 results are served (a page beyond: 422); total_count counts
// them all. org: naming a user or an unknown account, user: or repo:
// naming an unknown one answer 422 as GitHub does.
func (s *Server) searchIssues(c *call) response {
	params := c.r.URL.Query()
	q := strings.TrimSpace(params.Get("q"))
	if q == "" {
		return validationFailed("missing", "")
	}
	iq, bad := parseIssueQuery(q)
	if bad != nil {
		return *bad
	}
	if iq.owner != "" {
		o, ok := s.owners()[strings.ToLower(iq.owner)]
		if !ok || (iq.ownerIsOrg && !o.org) {
			return validationFailed("invalid", "The listed users and repositories cannot be searched either because the resources do not exist or you do not have permission to view them.")
		}
	}
	hits := s.searchHits(c, iq)
	if iq.repo != "" && hits == nil && !s.repoExists(iq.repo) {
		return validationFailed("invalid", "The listed users and repositories cannot be searched either because the resources do not exist or you do not have permission to view them.")
	}
	key := func(h searchHit) time.Time { return h.pull.CreatedAt }
	if params.Get("sort") == "updated" {
		key = func(h searchHit) time.Time { return h.pull.UpdatedAt }
	}
	asc := params.Get("order") == "asc"
	slices.SortFunc(hits, func(a, b searchHit) int {
		r := cmp.Or(key(a).Compare(key(b)), cmp.Compare(a.repo.ID, b.repo.ID), cmp.Compare(a.pull.Number, b.pull.Number))
		if asc {
			return r
		}
		return -r
	})
	total := len(hits)
	served := hits[:min(total, searchMaxResults)]
	perPage, _ := strconv.Atoi(params.Get("per_page"))
	perPage = cmp.Or(min(max(perPage, 0), maxPerPage), defaultPerPage)
	if page, _ := strconv.Atoi(params.Get("page")); page > 1 && (page-1)*perPage >= searchMaxResults {
		return fakeserver.JSON(http.StatusUnprocessableEntity, basicError{"Only the first 1000 search results are available", searchDocs})
	}
	items, link := paginate(c, served, c.base+"/search/issues")
	s.mu.Lock()
	incomplete := s.searchIncomplete
	s.mu.Unlock()
	out := make([]issueSearchItemJSON, 0, len(items))
	for _, h := range items {
		out = append(out, s.issueSearchItem(c, h))
	}
	resp := fakeserver.JSON(http.StatusOK, struct {
		TotalCount        int                   `json:"total_count"`
		IncompleteResults bool                  `json:"incomplete_results"`
		Items             []issueSearchItemJSON `json:"items"`
	}{total, incomplete, out})
	if link != "" {
		resp.Header = http.Header{"Link": {link}}
	}
	return resp
}

// searchHits collects the pull requests matching iq that c may see.
func (s *Server) searchHits(c *call, iq issueQuery) []searchHit {
	if iq.kind == "issue" {
		return nil // the fake has no issues
	}
	s.stateMu.RLock()
	defer s.stateMu.RUnlock()
	var hits []searchHit
	for _, st := range s.repos {
		r := st.repo
		switch {
		case iq.owner != "" && !strings.EqualFold(r.Owner, iq.owner),
			iq.repo != "" && !strings.EqualFold(r.Owner+"/"+r.Name, iq.repo),
			!s.visibleTo(c, r.ID, r.Owner):
			continue
		}
		for _, p := range st.pulls {
			if iq.matches(p) {
				hits = append(hits, searchHit{repo: r, pull: p})
			}
		}
	}
	return hits
}

func (s *Server) repoExists(fullName string) bool {
	s.stateMu.RLock()
	defer s.stateMu.RUnlock()
	_, ok := s.byName[strings.ToLower(fullName)]
	return ok
}

func (iq issueQuery) matches(p PullRequest) bool {
	switch iq.state {
	case "open":
		if p.State != PullOpen {
			return false
		}
	case "closed":
		if p.State != PullClosed {
			return false
		}
	case "merged":
		if !p.Merged {
			return false
		}
	case "unmerged":
		if p.Merged {
			return false
		}
	}
	for _, b := range iq.updated {
		if !b.holds(p.UpdatedAt) {
			return false
		}
	}
	for _, b := range iq.created {
		if !b.holds(p.CreatedAt) {
			return false
		}
	}
	title := strings.ToLower(p.Title)
	for _, w := range iq.words {
		if !strings.Contains(title, w) {
			return false
		}
	}
	return true
}

// issueSearchItemJSON is an item of a search of issues and pull requests
// (GitHub's issue-search-result-item): a pull request appears as an issue
// with a pull_request object.
type issueSearchItemJSON struct {
	URL               string      `json:"url"`
	RepositoryURL     string      `json:"repository_url"`
	LabelsURL         string      `json:"labels_url"`
	CommentsURL       string      `json:"comments_url"`
	EventsURL         string      `json:"events_url"`
	HTMLURL           string      `json:"html_url"`
	ID                int64       `json:"id"`
	NodeID            string      `json:"node_id"`
	Number            int         `json:"number"`
	Title             string      `json:"title"`
	User              userJSON    `json:"user"`
	Labels            []struct{}  `json:"labels"`
	State             PullState   `json:"state"`
	Locked            bool        `json:"locked"`
	Assignee          *userJSON   `json:"assignee"`
	Assignees         []userJSON  `json:"assignees"`
	Milestone         *struct{}   `json:"milestone"`
	Comments          int         `json:"comments"`
	CreatedAt         ghTime      `json:"created_at"`
	UpdatedAt         ghTime      `json:"updated_at"`
	ClosedAt          ghTime      `json:"closed_at"`
	AuthorAssociation string      `json:"author_association"`
	ActiveLockReason  *string     `json:"active_lock_reason"`
	Draft             bool        `json:"draft"`
	PullRequest       searchPRRef `json:"pull_request"`
	Body              *string     `json:"body"`
	Score             float64     `json:"score"`
	TimelineURL       string      `json:"timeline_url"`
	StateReason       *string     `json:"state_reason"` // issues only
}

type searchPRRef struct {
	URL      string `json:"url"`
	HTMLURL  string `json:"html_url"`
	DiffURL  string `json:"diff_url"`
	PatchURL string `json:"patch_url"`
	MergedAt ghTime `json:"merged_at"`
}

func (s *Server) issueSearchItem(c *call, h searchHit) issueSearchItemJSON {
	r, p := h.repo, h.pull
	full := r.Owner + "/" + r.Name
	repoAPI := c.base + "/repos/" + full
	num := strconv.Itoa(p.Number)
	issue := repoAPI + "/issues/" + num
	web := s.web + "/" + full + "/pull/" + num
	id := r.ID*100_000 + int64(p.Number)
	assoc := "CONTRIBUTOR"
	if strings.EqualFold(p.User, r.Owner) {
		assoc = "OWNER"
	}
	j := issueSearchItemJSON{
		URL: issue, RepositoryURL: repoAPI, LabelsURL: issue + "/labels{/name}", CommentsURL: issue + "/comments",
		EventsURL: issue + "/events", HTMLURL: web, ID: id, NodeID: legacyNodeID("PullRequest", fmt.Sprint(id)),
		Number: p.Number, Title: p.Title, User: s.user(c, p.User, false), Labels: []struct{}{}, State: p.State,
		Assignees: []userJSON{}, CreatedAt: ghTime(p.CreatedAt), UpdatedAt: ghTime(p.UpdatedAt),
		AuthorAssociation: assoc, Draft: p.Draft, Score: 1, TimelineURL: issue + "/timeline",
		PullRequest: searchPRRef{URL: repoAPI + "/pulls/" + num, HTMLURL: web, DiffURL: web + ".diff", PatchURL: web + ".patch"},
	}
	if p.Body != "" {
		b := p.Body
		j.Body = &b
	}
	if p.State == PullClosed {
		j.ClosedAt = ghTime(p.ClosedAt)
	}
	if p.Merged {
		j.PullRequest.MergedAt = ghTime(p.MergedAt)
	}
	return j
}
