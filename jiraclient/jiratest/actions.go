package jiratest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient"
)

// Routes of the issue actions the fake serves (smart commits): the issue
// itself (status only), comments, worklogs and workflow transitions.
//
// Permissions (Options.Permissions) apply as on Jira: adding a comment
// without ADD_COMMENTS or a worklog without WORK_ON_ISSUES answers 403;
// transitions the user may not perform (TRANSITION_ISSUES, or a
// transition's own Permission) are not listed, and performing one answers
// 400 like any transition not valid for the issue.
const (
	RouteIssueGet         = "GET /rest/api/2/issue/{key}"
	RouteComments         = "GET /rest/api/2/issue/{key}/comment"
	RouteCommentAdd       = "POST /rest/api/2/issue/{key}/comment"
	RouteWorklogs         = "GET /rest/api/2/issue/{key}/worklog"
	RouteWorklogAdd       = "POST /rest/api/2/issue/{key}/worklog"
	RouteTransitions      = "GET /rest/api/2/issue/{key}/transitions"
	RouteTransitionCreate = "POST /rest/api/2/issue/{key}/transitions"
)

// Workflow is the workflow every issue of the fake follows.
type Workflow struct {
	// Initial is the id of the status of an issue never transitioned.
	Initial  string
	Statuses []jiraclient.IssueStatus
	// Transitions in the order GET .../transitions lists them.
	Transitions []WorkflowTransition
}

// WorkflowTransition is a transition of a Workflow.
type WorkflowTransition struct {
	ID, Name string
	From     []string // status ids it is available from; empty: every status
	To       string   // status id
	// Permission, if set, is a project permission (Options.Permissions)
	// the user needs besides TRANSITION_ISSUES, like the permission
	// conditions of Jira's default workflow.
	Permission string
}

// DefaultWorkflow is Jira's classic default workflow ("jira") with its
// status and transition ids and permission conditions: Open, In Progress,
// Reopened, Resolved, Closed; Start Progress, Stop Progress, Resolve Issue
// and Reopen Issue (Resolve Issues permission), Close Issue (Close Issues).
func DefaultWorkflow() Workflow {
	return Workflow{
		Initial: "1",
		Statuses: []jiraclient.IssueStatus{
			{ID: "1", Name: "Open"}, {ID: "3", Name: "In Progress"}, {ID: "4", Name: "Reopened"},
			{ID: "5", Name: "Resolved"}, {ID: "6", Name: "Closed"},
		},
		Transitions: []WorkflowTransition{
			{ID: "4", Name: "Start Progress", From: []string{"1", "4"}, To: "3"},
			{ID: "301", Name: "Stop Progress", From: []string{"3"}, To: "1"},
			{ID: "5", Name: "Resolve Issue", From: []string{"1", "3", "4"}, To: "5", Permission: "RESOLVE_ISSUES"},
			{ID: "2", Name: "Close Issue", From: []string{"1", "3", "4"}, To: "6", Permission: "CLOSE_ISSUES"},
			{ID: "701", Name: "Close Issue", From: []string{"5"}, To: "6", Permission: "CLOSE_ISSUES"},
			{ID: "3", Name: "Reopen Issue", From: []string{"5", "6"}, To: "4", Permission: "RESOLVE_ISSUES"},
		},
	}
}

// actionState is the fake's comments, worklogs and issue statuses; the
// zero value is ready (maps are made on first write). s.mu guards it.
type actionState struct {
	workflow *Workflow
	comments map[string][]jiraclient.Comment
	worklogs map[string][]jiraclient.Worklog
	status   map[string]string // issue → status id; absent: Initial
	nextID   int64
}

func (a *actionState) init() {
	if a.comments == nil {
		a.comments = map[string][]jiraclient.Comment{}
		a.worklogs = map[string][]jiraclient.Worklog{}
		a.status = map[string]string{}
		a.nextID = 10000
	}
	if a.workflow == nil {
		w := DefaultWorkflow()
		a.workflow = &w
	}
}

func (a *actionState) newID() string {
	a.nextID++
	return strconv.FormatInt(a.nextID, 10)
}

func (a *actionState) statusOf(key string) jiraclient.IssueStatus {
	id, ok := a.status[key]
	if !ok {
		id = a.workflow.Initial
	}
	for _, st := range a.workflow.Statuses {
		if st.ID == id {
			return st
		}
	}
	return jiraclient.IssueStatus{ID: id, Name: id}
}

// available returns the transitions open to the user on the issue in its
// status: like Jira, it leaves out those the user lacks permission for.
// s.mu is held.
func (s *Server) available(key string) []WorkflowTransition {
	project, _ := projectOf(key)
	if !s.granted(project, "TRANSITION_ISSUES") {
		return nil
	}
	a := &s.actions
	cur := a.statusOf(key).ID
	var out []WorkflowTransition
	for _, t := range a.workflow.Transitions {
		if (len(t.From) == 0 || slices.Contains(t.From, cur)) && (t.Permission == "" || s.granted(project, t.Permission)) {
			out = append(out, t)
		}
	}
	return out
}

// SetWorkflow replaces the workflow (default DefaultWorkflow). Issues keep
// their status ids.
func (s *Server) SetWorkflow(w Workflow) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actions.init()
	w.Statuses = append([]jiraclient.IssueStatus(nil), w.Statuses...)
	w.Transitions = append([]WorkflowTransition(nil), w.Transitions...)
	s.actions.workflow = &w
}

// Comments returns the issue's comments, oldest first.
func (s *Server) Comments(issueKey string) []jiraclient.Comment {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]jiraclient.Comment(nil), s.actions.comments[strings.ToUpper(issueKey)]...)
}

// Worklogs returns the issue's worklogs, oldest first.
func (s *Server) Worklogs(issueKey string) []jiraclient.Worklog {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]jiraclient.Worklog(nil), s.actions.worklogs[strings.ToUpper(issueKey)]...)
}

// Status returns the issue's workflow status.
func (s *Server) Status(issueKey string) jiraclient.IssueStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actions.init()
	return s.actions.statusOf(strings.ToUpper(issueKey))
}

// SetStatus puts the issue into the status with the given id, as if
// someone had moved it.
func (s *Server) SetStatus(issueKey, statusID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.actions.init()
	s.actions.status[strings.ToUpper(issueKey)] = statusID
}

// matchAction maps the path segments below /rest/api/2/ of an issue action
// to its route template and issue key.
func matchAction(seg []string) (tmpl, key string, ok bool) {
	if len(seg) < 2 || len(seg) > 3 || seg[0] != "issue" || seg[1] == "" {
		return "", "", false
	}
	key = strings.ToUpper(seg[1])
	if len(seg) == 2 {
		return "issue/{key}", key, true
	}
	switch seg[2] {
	case "comment", "worklog", "transitions":
		return "issue/{key}/" + seg[2], key, true
	}
	return "", "", false
}

// serveAction serves the action routes; s.mu is held.
func (s *Server) serveAction(w http.ResponseWriter, r *http.Request, route, key string) {
	s.actions.init()
	if !s.issueExists(key) {
		writeIssueNotFound(w)
		return
	}
	switch route {
	case RouteIssueGet:
		s.getIssue(w, r, key)
	case RouteComments:
		s.listComments(w, r, key)
	case RouteCommentAdd:
		s.addComment(w, r, key)
	case RouteWorklogs:
		s.listWorklogs(w, r, key)
	case RouteWorklogAdd:
		s.addWorklog(w, r, key)
	case RouteTransitions:
		s.listTransitions(w, r, key)
	case RouteTransitionCreate:
		s.doTransition(w, r, key)
	}
}

func (s *Server) statusJSON(r *http.Request, st jiraclient.IssueStatus) map[string]any {
	return map[string]any{
		"self":        s.baseURL(r) + "/rest/api/2/status/" + st.ID,
		"description": "",
		"iconUrl":     s.baseURL(r) + "/images/icons/statuses/generic.png",
		"name":        st.Name,
		"id":          st.ID,
	}
}

func (s *Server) userJSON(r *http.Request) map[string]any {
	name := s.opts.Username
	if name == "" {
		name = "jiralinkd"
	}
	return map[string]any{
		"self":         s.baseURL(r) + "/rest/api/2/user?username=" + url.QueryEscape(name),
		"name":         name,
		"key":          "JIRAUSER10100",
		"emailAddress": name + "@example.com",
		"displayName":  "Jira Link Daemon (" + name + ")",
		"active":       true,
	}
}

// getIssue serves GET /issue/{key}: id, key and the status field, whatever
// fields were asked for.
func (s *Server) getIssue(w http.ResponseWriter, r *http.Request, key string) {
	if s.hasContent(key) { // issues.go
		s.getIssueContent(w, r, key)
		return
	}
	id := strconv.FormatInt(s.issueID(key), 10)
	writeJSON(w, http.StatusOK, map[string]any{
		"expand": "renderedFields,names,schema,operations,editmeta,changelog,versionedRepresentations",
		"id":     id,
		"self":   s.baseURL(r) + "/rest/api/2/issue/" + id,
		"key":    key,
		"fields": map[string]any{"status": s.statusJSON(r, s.actions.statusOf(key))},
	})
}

func (s *Server) commentJSON(r *http.Request, key string, c jiraclient.Comment) map[string]any {
	id := strconv.FormatInt(s.issueID(key), 10)
	return map[string]any{
		"self":         s.baseURL(r) + "/rest/api/2/issue/" + id + "/comment/" + c.ID,
		"id":           c.ID,
		"author":       s.userJSON(r),
		"body":         c.Body,
		"updateAuthor": s.userJSON(r),
		"created":      c.Created.Format(jiraTime),
		"updated":      c.Updated.Format(jiraTime),
	}
}

// listComments serves the paginated GET .../comment (startAt, maxResults;
// default 50, at most 1000).
func (s *Server) listComments(w http.ResponseWriter, r *http.Request, key string) {
	all := s.actions.comments[key]
	q := r.URL.Query()
	start, _ := strconv.Atoi(q.Get("startAt"))
	start = min(max(start, 0), len(all))
	maxResults := 50
	if v, err := strconv.Atoi(q.Get("maxResults")); err == nil && v >= 0 {
		maxResults = min(v, 1000)
	}
	page := all[start:min(start+maxResults, len(all))]
	out := make([]map[string]any, 0, len(page))
	for _, c := range page {
		out = append(out, s.commentJSON(r, key, c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"startAt": start, "maxResults": maxResults, "total": len(all), "comments": out})
}

// addComment serves POST .../comment.
func (s *Server) addComment(w http.ResponseWriter, r *http.Request, key string) {
	if project, _ := projectOf(key); !s.granted(project, "ADD_COMMENTS") {
		writeErrors(w, http.StatusForbidden, []string{"You do not have the permission to comment on this issue."}, nil)
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
	c := s.actions.addComment(key, in.Body)
	writeJSON(w, http.StatusCreated, s.commentJSON(r, key, c))
}

func (a *actionState) addComment(key, body string) jiraclient.Comment {
	now := time.Now().Truncate(time.Millisecond)
	c := jiraclient.Comment{ID: a.newID(), Body: body, Created: now, Updated: now}
	a.comments[key] = append(a.comments[key], c)
	return c
}

func (s *Server) worklogJSON(r *http.Request, key string, wl jiraclient.Worklog) map[string]any {
	id := strconv.FormatInt(s.issueID(key), 10)
	return map[string]any{
		"self":             s.baseURL(r) + "/rest/api/2/issue/" + id + "/worklog/" + wl.ID,
		"author":           s.userJSON(r),
		"updateAuthor":     s.userJSON(r),
		"comment":          wl.Comment,
		"started":          wl.Started.Format(jiraTime),
		"timeSpent":        wl.TimeSpent,
		"timeSpentSeconds": wl.TimeSpentSeconds,
		"id":               wl.ID,
		"issueId":          id,
	}
}

// listWorklogs serves GET .../worklog: every worklog in one page, as Jira
// Data Center does.
func (s *Server) listWorklogs(w http.ResponseWriter, r *http.Request, key string) {
	all := s.actions.worklogs[key]
	out := make([]map[string]any, 0, len(all))
	for _, wl := range all {
		out = append(out, s.worklogJSON(r, key, wl))
	}
	writeJSON(w, http.StatusOK, map[string]any{"startAt": 0, "maxResults": len(all), "total": len(all), "worklogs": out})
}

// addWorklog serves POST .../worklog with timeSpentSeconds (or timeSpent
// in minutes/hours, e.g. "90m"), started and comment.
func (s *Server) addWorklog(w http.ResponseWriter, r *http.Request, key string) {
	if project, _ := projectOf(key); !s.granted(project, "WORK_ON_ISSUES") {
		writeErrors(w, http.StatusForbidden, []string{"You do not have the permission to associate a worklog to this issue."}, nil)
		return
	}
	var in struct {
		Comment          string `json:"comment"`
		Started          string `json:"started"`
		TimeSpent        string `json:"timeSpent"`
		TimeSpentSeconds int64  `json:"timeSpentSeconds"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		writeMappingError(w, err)
		return
	}
	secs := in.TimeSpentSeconds
	if secs == 0 && in.TimeSpent != "" {
		if d, err := time.ParseDuration(in.TimeSpent); err == nil {
			secs = int64(d / time.Second)
		}
	}
	if secs <= 0 {
		writeErrors(w, http.StatusBadRequest, nil, map[string]string{"timeLogged": "You must indicate the time spent working."})
		return
	}
	started := time.Now()
	if in.Started != "" {
		t, err := time.Parse(jiraTime, in.Started)
		if err != nil {
			writeErrors(w, http.StatusBadRequest, nil, map[string]string{"started": "Invalid date format. Please enter the date in the format \"" + jiraTime + "\"."})
			return
		}
		started = t
	}
	wl := jiraclient.Worklog{
		ID: s.actions.newID(), Comment: in.Comment, Started: started,
		TimeSpent: formatSpent(secs), TimeSpentSeconds: secs,
	}
	s.actions.worklogs[key] = append(s.actions.worklogs[key], wl)
	writeJSON(w, http.StatusCreated, s.worklogJSON(r, key, wl))
}

// formatSpent formats seconds as Jira does with its default 8-hour days
// and 5-day weeks, e.g. "1w 2d 4h 30m".
func formatSpent(secs int64) string {
	units := []struct {
		n    int64
		unit string
	}{{5 * 8 * 3600, "w"}, {8 * 3600, "d"}, {3600, "h"}, {60, "m"}}
	var parts []string
	for _, u := range units {
		if secs >= u.n {
			parts = append(parts, fmt.Sprintf("%d%s", secs/u.n, u.unit))
			secs %= u.n
		}
	}
	if len(parts) == 0 {
		return "0m"
	}
	return strings.Join(parts, " ")
}

// listTransitions serves GET .../transitions.
func (s *Server) listTransitions(w http.ResponseWriter, r *http.Request, key string) {
	avail := s.available(key)
	out := make([]map[string]any, 0, len(avail))
	for _, t := range avail {
		to := s.actions.statusByID(t.To)
		out = append(out, map[string]any{"id": t.ID, "name": t.Name, "to": s.statusJSON(r, to)})
	}
	writeJSON(w, http.StatusOK, map[string]any{"expand": "transitions", "transitions": out})
}

func (a *actionState) statusByID(id string) jiraclient.IssueStatus {
	for _, st := range a.workflow.Statuses {
		if st.ID == id {
			return st
		}
	}
	return jiraclient.IssueStatus{ID: id, Name: id}
}

// doTransition serves POST .../transitions: the transition must be
// available in the issue's status (else 400, Jira's message); a comment in
// update.comment[].add.body is added with it.
func (s *Server) doTransition(w http.ResponseWriter, r *http.Request, key string) {
	var in struct {
		Transition *struct {
			ID string `json:"id"`
		} `json:"transition"`
		Update struct {
			Comment []struct {
				Add *struct {
					Body string `json:"body"`
				} `json:"add"`
			} `json:"comment"`
		} `json:"update"`
	}
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&in); err != nil {
		writeMappingError(w, err)
		return
	}
	if in.Transition == nil || in.Transition.ID == "" {
		writeErrors(w, http.StatusBadRequest, []string{"Missing 'transition' identifier"}, nil)
		return
	}
	var chosen *WorkflowTransition
	for _, t := range s.available(key) {
		if t.ID == in.Transition.ID {
			chosen = &t
			break
		}
	}
	if chosen == nil {
		writeErrors(w, http.StatusBadRequest, []string{fmt.Sprintf(
			"It seems that you have tried to perform a workflow operation (%s) that is not valid for the current state of this issue (%s). "+
				"The likely cause is that somebody has changed the issue recently, please look at the issue history for details.",
			in.Transition.ID, key)}, nil)
		return
	}
	s.actions.status[key] = chosen.To
	for _, c := range in.Update.Comment {
		if c.Add != nil && strings.TrimSpace(c.Add.Body) != "" {
			s.actions.addComment(key, c.Add.Body)
		}
	}
	w.WriteHeader(http.StatusNoContent)
}
