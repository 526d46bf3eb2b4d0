package jiratest

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

const (
	defaultMaxResults = 50
	maxMaxResults     = 1000 // Jira's default jira.search.views.default.max
)

type searchRequest struct {
	JQL           string   `json:"jql"`
	StartAt       int      `json:"startAt"`
	MaxResults    *int     `json:"maxResults"`
	ValidateQuery *bool    `json:"validateQuery"`
	Fields        []string `json:"fields"`
}

// search serves GET (query parameters) and POST (JSON) /search for the JQL
// the fake understands: `key in (A-1, "B-2")` and `key = A-1`.
//
// With validateQuery true (the default) a key that names no visible issue
// fails the search with 400, as on Jira; with false it is skipped and
// reported in warningMessages. Hits are ordered by project key, then issue
// number.
func (s *Server) search(w http.ResponseWriter, r *http.Request) {
	q, err := readSearch(w, r)
	if err != nil {
		writeMappingError(w, err)
		return
	}
	if isProjectJQL(q.JQL) { // issues.go
		s.searchProjects(w, r, q)
		return
	}
	keys, err := parseKeyJQL(q.JQL)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, []string{"Error in the JQL Query: " + err.Error()}, nil)
		return
	}
	validate := q.ValidateQuery == nil || *q.ValidateQuery

	var hits, warnings []string
	for _, k := range keys {
		if s.issueExists(k) {
			if !slices.Contains(hits, k) {
				hits = append(hits, k)
			}
			continue
		}
		msg := fmt.Sprintf("An issue with key '%s' does not exist for field 'key'.", k)
		if validate {
			writeErrors(w, http.StatusBadRequest, []string{msg}, nil)
			return
		}
		warnings = append(warnings, msg)
	}
	slices.SortFunc(hits, compareKeys)

	maxResults := defaultMaxResults
	if q.MaxResults != nil && *q.MaxResults >= 0 {
		maxResults = min(*q.MaxResults, maxMaxResults)
	}
	start := min(max(q.StartAt, 0), len(hits))
	page := hits[start:min(start+maxResults, len(hits))]

	base := s.baseURL(r)
	issues := make([]map[string]any, 0, len(page))
	for _, k := range page {
		id := strconv.FormatInt(s.issueID(k), 10)
		issues = append(issues, map[string]any{
			"expand": "operations,versionedRepresentations,editmeta,changelog,renderedFields",
			"id":     id,
			"self":   base + "/rest/api/2/issue/" + id,
			"key":    k,
			"fields": map[string]any{},
		})
	}
	res := map[string]any{
		"expand":     "schema,names",
		"startAt":    start,
		"maxResults": maxResults,
		"total":      len(hits),
		"issues":     issues,
	}
	if len(warnings) > 0 {
		res["warningMessages"] = warnings
	}
	writeJSON(w, http.StatusOK, res)
}

func readSearch(w http.ResponseWriter, r *http.Request) (searchRequest, error) {
	var q searchRequest
	if r.Method == http.MethodPost {
		err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&q)
		return q, err
	}
	v := r.URL.Query()
	q.JQL = v.Get("jql")
	if s := v.Get("startAt"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return q, fmt.Errorf("startAt: %w", err)
		}
		q.StartAt = n
	}
	if s := v.Get("maxResults"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			return q, fmt.Errorf("maxResults: %w", err)
		}
		q.MaxResults = &n
	}
	if s := v.Get("validateQuery"); s != "" {
		b, err := strconv.ParseBool(s)
		if err != nil {
			return q, fmt.Errorf("validateQuery: %w", err)
		}
		q.ValidateQuery = &b
	}
	return q, nil
}

// issueID returns the deterministic numeric id of an issue, assigned on
// first sight. s.mu is held.
func (s *Server) issueID(key string) int64 {
	id, ok := s.issueIDs[key]
	if !ok {
		id = s.nextIssueID
		s.nextIssueID++
		s.issueIDs[key] = id
	}
	return id
}

// compareKeys orders issue keys by project, then number.
func compareKeys(a, b string) int {
	pa, na := splitKey(a)
	pb, nb := splitKey(b)
	if c := strings.Compare(pa, pb); c != 0 {
		return c
	}
	return na - nb
}

func splitKey(k string) (string, int) {
	i := strings.LastIndexByte(k, '-')
	n, _ := strconv.Atoi(k[i+1:])
	return k[:i], n
}

// parseKeyJQL parses `key in (v, ...)` or `key = v` (field "key" or
// "issuekey", any case; values bare or quoted) into upper-case issue keys.
// Anything else is an error, as the fake knows no other JQL.
func parseKeyJQL(jql string) ([]string, error) {
	l := &lexer{s: jql}
	field := strings.ToLower(l.word())
	if field != "key" && field != "issuekey" {
		return nil, fmt.Errorf("the fake Jira only supports 'key in (...)' and 'key = ...', got %q", jql)
	}
	var keys []string
	switch op := strings.ToLower(l.op()); op {
	case "=":
		v, err := l.value()
		if err != nil {
			return nil, err
		}
		keys = append(keys, v)
	case "in":
		if !l.consume('(') {
			return nil, errors.New("expecting '(' after 'in'")
		}
		for {
			v, err := l.value()
			if err != nil {
				return nil, err
			}
			keys = append(keys, v)
			if l.consume(',') {
				continue
			}
			if l.consume(')') {
				break
			}
			return nil, fmt.Errorf("expecting ',' or ')' at position %d", l.i)
		}
	default:
		return nil, fmt.Errorf("expecting '=' or 'in' after %q, got %q", field, op)
	}
	l.skipSpace()
	if l.i != len(l.s) {
		return nil, fmt.Errorf("unexpected %q at position %d", l.s[l.i:], l.i)
	}
	for i, k := range keys {
		k = strings.ToUpper(k)
		if _, ok := projectOf(k); !ok {
			return nil, fmt.Errorf("the issue key '%s' for field 'key' is invalid", keys[i])
		}
		keys[i] = k
	}
	return keys, nil
}

type lexer struct {
	s string
	i int
}

func (l *lexer) skipSpace() {
	for l.i < len(l.s) && (l.s[l.i] == ' ' || l.s[l.i] == '\t' || l.s[l.i] == '\n' || l.s[l.i] == '\r') {
		l.i++
	}
}

func isWordByte(c byte) bool {
	return c == '-' || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func (l *lexer) word() string {
	l.skipSpace()
	start := l.i
	for l.i < len(l.s) && isWordByte(l.s[l.i]) {
		l.i++
	}
	return l.s[start:l.i]
}

// op reads "=" or a word operator such as "in".
func (l *lexer) op() string {
	l.skipSpace()
	if l.consume('=') {
		return "="
	}
	return l.word()
}

func (l *lexer) consume(c byte) bool {
	l.skipSpace()
	if l.i < len(l.s) && l.s[l.i] == c {
		l.i++
		return true
	}
	return false
}

// value reads a bare word or a single- or double-quoted string.
func (l *lexer) value() (string, error) {
	l.skipSpace()
	if l.i < len(l.s) && (l.s[l.i] == '"' || l.s[l.i] == '\'') {
		quote := l.s[l.i]
		end := strings.IndexByte(l.s[l.i+1:], quote)
		if end < 0 {
			return "", errors.New("unterminated quoted value")
		}
		v := l.s[l.i+1 : l.i+1+end]
		l.i += end + 2
		return v, nil
	}
	if v := l.word(); v != "" {
		return v, nil
	}
	return "", fmt.Errorf("expecting a value at position %d", l.i)
}
