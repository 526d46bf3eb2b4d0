package jiratest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient"
)

// Issue contents, for secret scanning: issues put with PutIssue exist,
// are found by project searches with their fields, and can be edited.
//
// Project searches understand the JQL jiralinkd's scanner sends:
//
//	project in ("A", "B") [AND updated >= "-15m"] ORDER BY key ASC
//
// (project = A also; the relative date in minutes, as Jira reads it
// against its own clock). Hits are ordered by project, then issue number,
// and paged with startAt/maxResults/total as on Jira.
const (
	RouteIssuePut   = "PUT /rest/api/2/issue/{key}"
	RouteCommentPut = "PUT /rest/api/2/issue/{key}/comment/{id}"
)

// Issue is the content of an issue of the fake.
type Issue struct {
	Key         string
	Summary     string
	Description string
	Environment string
	Labels      []string
	// Custom holds text custom fields by id (customfield_10010).
	Custom  map[string]string
	Updated time.Time
}

// scanState is the fake's issue contents; s.mu guards it.
type scanState struct {
	issues map[string]*Issue
}

func (st *scanState) init() {
	if st.issues == nil {
		st.issues = map[string]*Issue{}
	}
}

// PutIssue creates or replaces an issue's content (Updated defaults to
// now). The issue exists from then on.
func (s *Server) PutIssue(is Issue) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.scan.init()
	is.Key = strings.ToUpper(is.Key)
	if is.Updated.IsZero() {
		is.Updated = time.Now()
	}
	is.Labels = slices.Clone(is.Labels)
	custom := make(map[string]string, len(is.Custom))
	for k, v := range is.Custom {
		custom[k] = v
	}
	is.Custom = custom
	s.scan.issues[is.Key] = &is
}

// Issue returns an issue's current content.
func (s *Server) Issue(key string) (Issue, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	is, ok := s.scan.issues[strings.ToUpper(key)]
	if !ok {
		return Issue{}, false
	}
	c := *is
	c.Labels = slices.Clone(is.Labels)
	return c, true
}

// PostComment adds a comment to an issue as another user would, touching
// the issue's updated time. It returns the comment with its id.
func (s *Server) PostComment(key, body string) jiraclient.Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actions.init()
	s.scan.init()
	key = strings.ToUpper(key)
	c := s.actions.addComment(key, body)
	if is, ok := s.scan.issues[key]; ok {
		is.Updated = c.Created
	}
	return c
}

// hasContent reports whether key was put with PutIssue; s.mu is held.
func (s *Server) hasContent(key string) bool {
	_, ok := s.scan.issues[key]
	return ok
}

// matchIssueEdit maps issue/{key}/comment/{id} to its route template.
func matchIssueEdit(seg []string) (tmpl, key, id string, ok bool) {
	if len(seg) == 4 && seg[0] == "issue" && seg[1] != "" && seg[2] == "comment" && seg[3] != "" {
		return "issue/{key}/comment/{id}", strings.ToUpper(seg[1]), seg[3], true
	}
	return "", "", "", false
}

// projectQuery is a parsed scanner JQL.
type projectQuery struct {
	projects     []string
	sinceMinutes int // 0: no updated clause
}

// isProjectJQL reports whether jql is a project search (not a key search).
func isProjectJQL(jql string) bool {
	return strings.HasPrefix(strings.ToLower(strings.TrimSpace(jql)), "project")
}

// parseProjectJQL parses the scanner's JQL (see the package comment).
func parseProjectJQL(jql string) (projectQuery, error) {
	var q projectQuery
	l := &lexer{s: jql}
	if f := strings.ToLower(l.word()); f != "project" {
		return q, fmt.Errorf("expecting 'project', got %q", f)
	}
	switch op := strings.ToLower(l.op()); op {
	case "=":
		v, err := l.value()
		if err != nil {
			return q, err
		}
		q.projects = append(q.projects, strings.ToUpper(v))
	case "in":
		if !l.consume('(') {
			return q, fmt.Errorf("expecting '(' after 'in'")
		}
		for {
			v, err := l.value()
			if err != nil {
				return q, err
			}
			q.projects = append(q.projects, strings.ToUpper(v))
			if l.consume(',') {
				continue
			}
			if l.consume(')') {
				break
			}
			return q, fmt.Errorf("expecting ',' or ')' at position %d", l.i)
		}
	default:
		return q, fmt.Errorf("unsupported operator %q after 'project'", op)
	}
	for {
		w := strings.ToLower(l.word())
		switch w {
		case "":
			l.skipSpace()
			if l.i != len(l.s) {
				return q, fmt.Errorf("unexpected %q at position %d", l.s[l.i:], l.i)
			}
			return q, nil
		case "and":
			if f := strings.ToLower(l.word()); f != "updated" {
				return q, fmt.Errorf("the fake Jira only supports 'updated' after AND, got %q", f)
			}
			l.skipSpace()
			if !strings.HasPrefix(l.s[l.i:], ">=") {
				return q, fmt.Errorf("expecting '>=' after 'updated'")
			}
			l.i += 2
			v, err := l.value()
			if err != nil {
				return q, err
			}
			n, ok := strings.CutSuffix(v, "m")
			m, err := strconv.Atoi(strings.TrimPrefix(n, "-"))
			if !ok || !strings.HasPrefix(n, "-") || err != nil || m <= 0 {
				return q, fmt.Errorf("date value '%s' for field 'updated' is invalid (the fake knows only \"-Nm\")", v)
			}
			q.sinceMinutes = m
		case "order":
			if strings.ToLower(l.word()) != "by" {
				return q, fmt.Errorf("expecting 'by' after 'order'")
			}
			for {
				f := strings.ToLower(l.word())
				if f != "key" && f != "updated" && f != "id" {
					return q, fmt.Errorf("the fake Jira orders only by key, id or updated, got %q", f)
				}
				if d := strings.ToLower(l.word()); d != "" && d != "asc" {
					return q, fmt.Errorf("the fake Jira orders only ascending, got %q", d)
				}
				if !l.consume(',') {
					break
				}
			}
		default:
			return q, fmt.Errorf("unexpected %q", w)
		}
	}
}

// searchProjects serves a project search; s.mu is held.
func (s *Server) searchProjects(w http.ResponseWriter, r *http.Request, q searchRequest) {
	pq, err := parseProjectJQL(q.JQL)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, []string{"Error in the JQL Query: " + err.Error()}, nil)
		return
	}
	for _, p := range pq.projects {
		if _, ok := s.projects[p]; !ok || !s.granted(p, "BROWSE_PROJECTS") {
			writeErrors(w, http.StatusBadRequest, []string{fmt.Sprintf("The value '%s' does not exist for the field 'project'.", p)}, nil)
			return
		}
	}
	var since time.Time
	if pq.sinceMinutes > 0 {
		since = time.Now().Add(-time.Duration(pq.sinceMinutes) * time.Minute)
	}
	var hits []string
	for k, is := range s.scan.issues {
		p, _ := projectOf(k)
		if slices.Contains(pq.projects, p) && (since.IsZero() || !is.Updated.Before(since)) {
			hits = append(hits, k)
		}
	}
	slices.SortFunc(hits, compareKeys)
	maxResults := defaultMaxResults
	if q.MaxResults != nil && *q.MaxResults >= 0 {
		maxResults = min(*q.MaxResults, maxMaxResults)
	}
	start := min(max(q.StartAt, 0), len(hits))
	page := hits[start:min(start+maxResults, len(hits))]
	issues := make([]map[string]any, 0, len(page))
	for _, k := range page {
		issues = append(issues, s.issueJSON(r, k, q.Fields))
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"expand": "schema,names", "startAt": start, "maxResults": maxResults, "total": len(hits), "issues": issues,
	})
}

// issueJSON is an issue bean with the asked fields; s.mu is held.
func (s *Server) issueJSON(r *http.Request, key string, fields []string) map[string]any {
	id := strconv.FormatInt(s.issueID(key), 10)
	is := s.scan.issues[key]
	out := map[string]any{}
	for _, f := range fields {
		for _, f := range strings.Split(f, ",") {
			switch f = strings.TrimSpace(f); {
			case is == nil:
			case f == "summary":
				out[f] = is.Summary
			case f == "description":
				out[f] = nullable(is.Description)
			case f == "environment":
				out[f] = nullable(is.Environment)
			case f == "labels":
				out[f] = append([]string{}, is.Labels...)
			case f == "updated":
				out[f] = is.Updated.Format(jiraTime)
			case f == "project":
				p, _ := projectOf(key)
				out[f] = map[string]any{"key": p, "name": s.projects[p].Name}
			case strings.HasPrefix(f, "customfield_"):
				if v, ok := is.Custom[f]; ok {
					out[f] = v
				} else {
					out[f] = nil
				}
			case f == "status":
				s.actions.init()
				out[f] = s.statusJSON(r, s.actions.statusOf(key))
			}
		}
	}
	return map[string]any{
		"expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
		"id":     id,
		"self":   s.baseURL(r) + "/rest/api/2/issue/" + id,
		"key":    key,
		"fields": out,
	}
}

// nullable is Jira's rendering of an empty text field: null.
func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// getIssueContent serves GET /issue/{key}?fields=... for an issue with
// content; s.mu is held.
func (s *Server) getIssueContent(w http.ResponseWriter, r *http.Request, key string) {
	fields := r.URL.Query()["fields"]
	if len(fields) == 0 {
		fields = []string{"summary,description,environment,labels,updated,status"}
	}
	writeJSON(w, http.StatusOK, s.issueJSON(r, key, fields))
}

// editIssue serves PUT /issue/{key}: fields sets summary, description,
// environment, labels or text custom fields; update.labels adds or
// removes labels. Jira's answers: 204, 400 (with the bodies of a real
// server) and 403 without EDIT_ISSUES.
func (s *Server) editIssue(w http.ResponseWriter, r *http.Request, key string) {
	is, ok := s.scan.issues[key]
	if !ok || !s.issueExists(key) {
		writeIssueNotFound(w)
		return
	}
	if project, _ := projectOf(key); !s.granted(project, "EDIT_ISSUES") {
		writeErrors(w, http.StatusForbidden, []string{"You do not have permission to edit issues in this project."}, nil)
		return
	}
	var in struct {
		Fields map[string]json.RawMessage              `json:"fields"`
		Update map[string][]map[string]json.RawMessage `json:"update"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		writeMappingError(w, err)
		return
	}
	if len(in.Fields) == 0 && len(in.Update) == 0 {
		writeErrors(w, http.StatusBadRequest, []string{"one of 'fields' or 'update' required"}, nil)
		return
	}
	next := *is
	next.Labels = slices.Clone(is.Labels)
	next.Custom = make(map[string]string, len(is.Custom))
	for k, v := range is.Custom {
		next.Custom[k] = v
	}
	bad := map[string]string{}
	for f, raw := range in.Fields {
		var text *string
		if f != "labels" {
			if err := json.Unmarshal(raw, &text); err != nil {
				bad[f] = "Field '" + f + "' is not valid for this operation."
				continue
			}
		}
		v := ""
		if text != nil {
			v = *text
		}
		switch {
		case f == "summary":
			if strings.TrimSpace(v) == "" {
				bad[f] = "You must specify a summary of the issue."
				continue
			}
			next.Summary = v
		case f == "description":
			next.Description = v
		case f == "environment":
			next.Environment = v
		case f == "labels":
			var ls []string
			if err := json.Unmarshal(raw, &ls); err != nil {
				bad[f] = "Field '" + f + "' is not valid for this operation."
				continue
			}
			next.Labels = ls
		case strings.HasPrefix(f, "customfield_"):
			if _, ok := is.Custom[f]; !ok {
				bad[f] = "Field '" + f + "' cannot be set. It is not on the appropriate screen, or unknown."
				continue
			}
			next.Custom[f] = v
		default:
			bad[f] = "Field '" + f + "' is not valid for this operation."
		}
	}
	for f, ops := range in.Update {
		if f != "labels" {
			bad[f] = "Field '" + f + "' is not valid for this operation."
			continue
		}
		for _, op := range ops {
			for verb, raw := range op {
				var label string
				if err := json.Unmarshal(raw, &label); err != nil || strings.ContainsAny(label, " \t\n") || label == "" {
					bad[f] = "The label '" + string(raw) + "' contains spaces which is invalid."
					continue
				}
				switch verb {
				case "add":
					if !slices.Contains(next.Labels, label) {
						next.Labels = append(next.Labels, label)
					}
				case "remove":
					next.Labels = slices.DeleteFunc(next.Labels, func(l string) bool { return l == label })
				default:
					bad[f] = "Field '" + f + "' does not support operation '" + verb + "'"
				}
			}
		}
	}
	if len(bad) > 0 {
		writeErrors(w, http.StatusBadRequest, nil, bad)
		return
	}
	next.Updated = time.Now()
	*is = next
	w.WriteHeader(http.StatusNoContent)
}

// editComment serves PUT /issue/{key}/comment/{id}: 200 with the comment;
// 403 without EDIT_ALL_COMMENTS; 404 for an unknown comment.
func (s *Server) editComment(w http.ResponseWriter, r *http.Request, key, id string) {
	s.actions.init()
	if !s.issueExists(key) {
		writeIssueNotFound(w)
		return
	}
	cs := s.actions.comments[key]
	i := slices.IndexFunc(cs, func(c jiraclient.Comment) bool { return c.ID == id })
	if i < 0 {
		writeErrors(w, http.StatusNotFound, []string{"Can not find a comment for the id: " + id + "."}, nil)
		return
	}
	if project, _ := projectOf(key); !s.granted(project, "EDIT_ALL_COMMENTS") {
		writeErrors(w, http.StatusForbidden, []string{"You do not have the permission to edit this comment."}, nil)
		return
	}
	var in struct {
		Body string `json:"body"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		writeMappingError(w, err)
		return
	}
	if strings.TrimSpace(in.Body) == "" {
		writeErrors(w, http.StatusBadRequest, nil, map[string]string{"comment": "Comment body can not be empty!"})
		return
	}
	cs[i].Body = in.Body
	cs[i].Updated = time.Now().Truncate(time.Millisecond)
	if is, ok := s.scan.issues[key]; ok {
		is.Updated = cs[i].Updated
	}
	writeJSON(w, http.StatusOK, s.commentJSON(r, key, cs[i]))
}
