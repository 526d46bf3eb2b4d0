package jiratest

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient"
)

// Cloud-mode routes. The /rest/api/3/ routes exist only with Options.Cloud
// (Data Center has no REST API v3).
const (
	// RouteSearchJQL is Cloud's enhanced search.
	RouteSearchJQL = "POST /rest/api/3/search/jql"
	// RouteSearchV3Get and RouteSearchV3Post are Cloud's removed v3
	// searches; they answer 410 Gone like the v2 ones in Cloud mode.
	RouteSearchV3Get  = "GET /rest/api/3/search"
	RouteSearchV3Post = "POST /rest/api/3/search"
)

// Cloud-mode constants.
const (
	// CloudVersion is the version Jira Cloud reports in serverInfo.
	CloudVersion = "1001.0.0-SNAPSHOT"
	// CloudMaxRemoteLinks is Jira Cloud's per-issue limit of remote links.
	CloudMaxRemoteLinks = 2000
	// CloudAccountID is the accountId of the fake's Cloud user.
	CloudAccountID = "5b10ac8d82e05b22cc7d4ef5"
)

// searchGoneMessage is the body Jira Cloud sends for the removed searches,
// as reported verbatim in public issue trackers (pycontribs/jira#2369,
// open-webui/oikb#16, dapplo/Dapplo.Jira#79).
const searchGoneMessage = "The requested API has been removed. Please migrate to the /rest/api/3/search/jql API. " +
	"A full migration guideline is available at https://developer.atlassian.com/changelog/#CHANGE-2046"

// linkLimitMessage is the fake's 413 body text. Atlassian documents the
// status ("413: Returned if the per-issue limit for remote links has been
// breached") but no body; the wording follows that description.
const linkLimitMessage = "The per-issue limit for remote links has been breached."

// Clock is a source of the current time.
type Clock func() time.Time

// stampDate sets the Date header from Options.Now; without it net/http
// stamps the real time.
func (s *Server) stampDate(w http.ResponseWriter) {
	if s.opts.Now != nil {
		w.Header().Set("Date", s.opts.Now().UTC().Format(http.TimeFormat))
	}
}

// now is Options.Now or the real clock.
func (s *Server) now() time.Time {
	if s.opts.Now != nil {
		return s.opts.Now()
	}
	return time.Now()
}

// matchExtra maps the paths of permissions.go and cloud.go below
// /rest/api/{version}/ to their route templates.
func (s *Server) matchExtra(version, rest string) (string, bool) {
	switch {
	case (version == "2" || version == "latest") && rest == "mypermissions":
		return "/rest/api/2/mypermissions", true
	case version == "3" && s.opts.Cloud && (rest == "search" || rest == "search/jql"):
		return "/rest/api/3/" + rest, true
	}
	return "", false
}

// intercept serves the routes of permissions.go and cloud.go, and the
// routes whose Cloud answers differ; it reports whether it answered. It
// runs after authentication with s.mu held.
func (s *Server) intercept(w http.ResponseWriter, r *http.Request, route, key string) bool {
	cloud := s.opts.Cloud
	switch route {
	case RouteMyPermissions:
		s.myPermissions(w, r)
		return true
	case RouteSearchJQL:
		s.searchJQL(w, r)
		return true
	case RouteSearchGet, RouteSearchPost, RouteSearchV3Get, RouteSearchV3Post:
		if cloud {
			writeErrors(w, http.StatusGone, []string{searchGoneMessage}, nil)
		}
		return cloud
	case RouteServerInfo:
		if cloud {
			s.cloudServerInfo(w, r)
		}
		return cloud
	case RouteMyself:
		if cloud {
			s.cloudMyself(w, r)
		}
		return cloud
	case RouteRemoteLinkDelete, RouteRemoteLinkPut, RouteRemoteLinkDelID:
		return s.denyLinkWrite(w, key)
	case RouteRemoteLinkUpsert:
		return s.denyLinkWrite(w, key) || s.linkLimitReached(w, r, key)
	}
	return false
}

func (s *Server) cloudServerInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"baseUrl":        s.baseURL(r),
		"displayUrl":     s.baseURL(r),
		"version":        CloudVersion,
		"versionNumbers": []int{1001, 0, 0},
		"deploymentType": "Cloud",
		"buildNumber":    100291,
		"buildDate":      "2026-06-06T00:00:00.000+0000",
		"serverTime":     s.now().Format(jiraTime),
		"scmInfo":        "jiratest",
		"serverTitle":    "Jira",
		"defaultLocale":  map[string]string{"locale": "en_US"},
		"serverTimeZone": "Etc/UTC",
	})
}

// cloudMyself is Cloud's user: an accountId and no name or key (removed
// from Cloud's user objects for privacy).
func (s *Server) cloudMyself(w http.ResponseWriter, r *http.Request) {
	email := s.opts.Username
	if email == "" {
		email = "jiralinkd@example.com"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"self":         s.baseURL(r) + "/rest/api/2/user?accountId=" + url.QueryEscape(CloudAccountID),
		"accountId":    CloudAccountID,
		"accountType":  "atlassian",
		"emailAddress": email,
		"displayName":  "Jira Link Daemon",
		"active":       true,
		"timeZone":     "Etc/UTC",
		"locale":       "en_US",
		"expand":       "groups,applicationRoles",
	})
}

// maxRemoteLinks is the per-issue cap in force, 0 for none.
func (s *Server) maxRemoteLinks() int {
	switch {
	case s.opts.MaxRemoteLinks > 0:
		return s.opts.MaxRemoteLinks
	case s.opts.Cloud:
		return CloudMaxRemoteLinks
	}
	return 0
}

// linkLimitReached answers 413 to a POST that would create a remote link
// on an issue already at the cap; updates (a globalId the issue already
// has) pass. It peeks at the body and puts it back for the real handler.
func (s *Server) linkLimitReached(w http.ResponseWriter, r *http.Request, key string) bool {
	limit := s.maxRemoteLinks()
	if limit == 0 || !s.issueExists(key) || len(s.links[key]) < limit {
		return false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	r.Body = io.NopCloser(bytes.NewReader(body))
	var l struct {
		GlobalID string `json:"globalId"`
	}
	if err != nil || json.Unmarshal(body, &l) != nil {
		return false // the real handler reports the bad body
	}
	if l.GlobalID != "" && slices.ContainsFunc(s.links[key], func(x jiraclient.RemoteLink) bool { return x.GlobalID == l.GlobalID }) {
		return false
	}
	writeErrors(w, http.StatusRequestEntityTooLarge, []string{linkLimitMessage}, nil)
	return true
}

// jqlSearchRequest is SearchAndReconcileRequestBean, every field Cloud
// knows; anything else is refused like Jira refuses unknown JSON fields.
type jqlSearchRequest struct {
	JQL             string   `json:"jql"`
	Fields          []string `json:"fields"`
	MaxResults      *int     `json:"maxResults"`
	NextPageToken   string   `json:"nextPageToken"`
	Expand          string   `json:"expand"`
	Properties      []string `json:"properties"`
	FieldsByKeys    bool     `json:"fieldsByKeys"`
	ReconcileIssues []int64  `json:"reconcileIssues"`
}

// Cloud's page caps: up to 5,000 issues when only id and key are asked,
// fewer otherwise (the fake uses 100).
const (
	cloudMaxResultsKeysOnly = 5000
	cloudMaxResults         = 100
)

// searchJQL serves POST /rest/api/3/search/jql for the JQL the fake knows
// (see parseKeyJQL). Keys of missing issues are skipped silently; there is
// no validateQuery. Pages chain through an opaque nextPageToken tied to
// the query; the last page has isLast true and no token.
func (s *Server) searchJQL(w http.ResponseWriter, r *http.Request) {
	var q jqlSearchRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&q); err != nil {
		writeMappingError(w, err)
		return
	}
	keys, err := parseKeyJQL(q.JQL)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, []string{"Error in the JQL Query: " + err.Error()}, nil)
		return
	}
	var hits []string
	for _, k := range keys {
		if s.issueExists(k) && !slices.Contains(hits, k) {
			hits = append(hits, k)
		}
	}
	slices.SortFunc(hits, compareKeys)

	pageCap := cloudMaxResultsKeysOnly
	for _, f := range q.Fields {
		if f != "key" && f != "id" {
			pageCap = cloudMaxResults
		}
	}
	size := defaultMaxResults
	if q.MaxResults != nil && *q.MaxResults > 0 {
		size = min(*q.MaxResults, pageCap)
	}
	if s.opts.SearchPageSize > 0 {
		size = min(size, s.opts.SearchPageSize)
	}
	start := 0
	if q.NextPageToken != "" {
		if start, err = parsePageToken(q.NextPageToken, q.JQL); err != nil || start > len(hits) {
			writeErrors(w, http.StatusBadRequest, []string{"The provided next page token is invalid or expired."}, nil)
			return
		}
	}
	end := min(start+size, len(hits))

	base := s.baseURL(r)
	issues := make([]map[string]any, 0, end-start)
	for _, k := range hits[start:end] {
		id := strconv.FormatInt(s.issueID(k), 10)
		issue := map[string]any{"id": id, "self": base + "/rest/api/3/issue/" + id, "key": k}
		if len(q.Fields) > 0 {
			issue["fields"] = map[string]any{}
		}
		issues = append(issues, issue)
	}
	res := map[string]any{"issues": issues, "isLast": end == len(hits)}
	if end < len(hits) {
		res["nextPageToken"] = pageToken(end, q.JQL)
	}
	writeJSON(w, http.StatusOK, res)
}

// pageToken encodes the next offset and a hash of the query, so a token
// only works for the query it came from.
func pageToken(offset int, jql string) string {
	return base64.RawURLEncoding.EncodeToString(fmt.Appendf(nil, "%d:%x", offset, jqlHash(jql)))
}

func parsePageToken(tok, jql string) (int, error) {
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, err
	}
	off, hash, ok := strings.Cut(string(b), ":")
	if !ok || hash != fmt.Sprintf("%x", jqlHash(jql)) {
		return 0, fmt.Errorf("token of another query")
	}
	return strconv.Atoi(off)
}

func jqlHash(jql string) uint64 {
	h := fnv.New64a()
	_, _ = io.WriteString(h, jql)
	return h.Sum64()
}
