package jiratest

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/jiralinkd/jiralinkd/jiraclient"
)

// maxGlobalIDLength is Jira's documented limit on a remote link's globalId.
const maxGlobalIDLength = 255

// issueExists reports whether key names an issue: its project exists and
// Options.IssueExists says so. s.mu is held.
func (s *Server) issueExists(key string) bool {
	project, ok := projectOf(key)
	if !ok {
		return false
	}
	if _, ok := s.projects[project]; !ok {
		return false
	}
	return s.hasContent(key) || s.opts.IssueExists != nil && s.opts.IssueExists(key)
}

// projectOf returns the project key of an issue key such as "ABC-12".
func projectOf(key string) (string, bool) {
	i := strings.LastIndexByte(key, '-')
	if i <= 0 {
		return "", false
	}
	n, err := strconv.ParseUint(key[i+1:], 10, 63)
	if err != nil || n == 0 {
		return "", false
	}
	return key[:i], true
}

func writeIssueNotFound(w http.ResponseWriter) {
	writeErrors(w, http.StatusNotFound, []string{"Issue Does Not Exist"}, nil)
}

func (s *Server) linkSelf(r *http.Request, key string, id int64) string {
	return s.baseURL(r) + "/rest/api/2/issue/" + key + "/remotelink/" + strconv.FormatInt(id, 10)
}

// withSelf returns a copy of l as served, with its self URL.
func (s *Server) withSelf(r *http.Request, key string, l jiraclient.RemoteLink) jiraclient.RemoteLink {
	l = cloneLink(l)
	l.Self = s.linkSelf(r, key, l.ID)
	return l
}

// getLinks serves GET .../remotelink: all links, or with ?globalId= the one
// link (an object, not an array) or 404.
func (s *Server) getLinks(w http.ResponseWriter, r *http.Request, key string) {
	if !s.issueExists(key) {
		writeIssueNotFound(w)
		return
	}
	if q := r.URL.Query(); q.Has("globalId") {
		gid := q.Get("globalId")
		for _, l := range s.links[key] {
			if l.GlobalID == gid {
				writeJSON(w, http.StatusOK, s.withSelf(r, key, l))
				return
			}
		}
		writeErrors(w, http.StatusNotFound, []string{"No remote issue link with global id '" + gid + "' exists on issue " + key + "."}, nil)
		return
	}
	out := make([]jiraclient.RemoteLink, 0, len(s.links[key]))
	for _, l := range s.links[key] {
		out = append(out, s.withSelf(r, key, l))
	}
	writeJSON(w, http.StatusOK, out)
}

// upsertLink serves POST .../remotelink: update in place the issue's link
// with the same globalId (200, same id) or create one (201 + Location).
func (s *Server) upsertLink(w http.ResponseWriter, r *http.Request, key string) {
	if !s.issueExists(key) {
		writeIssueNotFound(w)
		return
	}
	link, ok := decodeLink(w, r)
	if !ok {
		return
	}
	if link.GlobalID != "" {
		for i, old := range s.links[key] {
			if old.GlobalID == link.GlobalID {
				link.ID = old.ID
				s.links[key][i] = link
				writeJSON(w, http.StatusOK, map[string]any{"id": link.ID, "self": s.linkSelf(r, key, link.ID)})
				return
			}
		}
	}
	link.ID = s.nextLinkID
	s.nextLinkID++
	s.links[key] = append(s.links[key], link)
	self := s.linkSelf(r, key, link.ID)
	w.Header().Set("Location", self)
	writeJSON(w, http.StatusCreated, map[string]any{"id": link.ID, "self": self})
}

// deleteLinksByGlobalID serves DELETE .../remotelink?globalId=: removes
// every link of the issue with that globalId.
func (s *Server) deleteLinksByGlobalID(w http.ResponseWriter, r *http.Request, key string) {
	if !s.issueExists(key) {
		writeIssueNotFound(w)
		return
	}
	gid := r.URL.Query().Get("globalId")
	if gid == "" {
		writeErrors(w, http.StatusBadRequest, []string{"The global id of the remote issue link to delete must be specified."}, nil)
		return
	}
	kept := s.links[key][:0]
	for _, l := range s.links[key] {
		if l.GlobalID != gid {
			kept = append(kept, l)
		}
	}
	if len(kept) == len(s.links[key]) {
		writeErrors(w, http.StatusNotFound, []string{"No remote issue link with global id '" + gid + "' exists on issue " + key + "."}, nil)
		return
	}
	s.setLinks(key, kept)
	w.WriteHeader(http.StatusNoContent)
}

// linkByID serves GET, PUT and DELETE .../remotelink/{id}.
func (s *Server) linkByID(w http.ResponseWriter, r *http.Request, key, idStr string) {
	if !s.issueExists(key) {
		writeIssueNotFound(w)
		return
	}
	id, err := strconv.ParseInt(idStr, 10, 64)
	if err != nil {
		writeErrors(w, http.StatusBadRequest, []string{"Invalid remote issue link id '" + idStr + "'."}, nil)
		return
	}
	idx := -1
	for i, l := range s.links[key] {
		if l.ID == id {
			idx = i
		}
	}
	if idx < 0 {
		for other, ls := range s.links {
			for _, l := range ls {
				if l.ID == id && other != key {
					writeErrors(w, http.StatusBadRequest, []string{fmt.Sprintf("Remote issue link %d does not belong to issue %s.", id, key)}, nil)
					return
				}
			}
		}
		writeErrors(w, http.StatusNotFound, []string{fmt.Sprintf("No remote issue link with id %d exists.", id)}, nil)
		return
	}
	switch r.Method {
	case http.MethodGet:
		writeJSON(w, http.StatusOK, s.withSelf(r, key, s.links[key][idx]))
	case http.MethodPut:
		// A full update: fields not sent become empty.
		link, ok := decodeLink(w, r)
		if !ok {
			return
		}
		link.ID = id
		s.links[key][idx] = link
		w.WriteHeader(http.StatusNoContent)
	case http.MethodDelete:
		s.setLinks(key, append(s.links[key][:idx], s.links[key][idx+1:]...))
		w.WriteHeader(http.StatusNoContent)
	}
}

func (s *Server) setLinks(key string, ls []jiraclient.RemoteLink) {
	if len(ls) == 0 {
		delete(s.links, key)
		return
	}
	s.links[key] = ls
}

// decodeLink reads and validates a create/update body, writing Jira's 400
// when it is not acceptable. Jira-assigned fields (id, self) are ignored and
// a blank globalId counts as none.
func decodeLink(w http.ResponseWriter, r *http.Request) (jiraclient.RemoteLink, bool) {
	var link jiraclient.RemoteLink
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20)).Decode(&link); err != nil {
		writeMappingError(w, err)
		return link, false
	}
	link.ID, link.Self = 0, ""
	if strings.TrimSpace(link.GlobalID) == "" {
		link.GlobalID = ""
	}
	if errs := validateLink(link); len(errs) > 0 {
		writeErrors(w, http.StatusBadRequest, nil, errs)
		return link, false
	}
	return link, true
}

// validateLink applies Jira's checks, keyed by the field names Jira reports:
// url and title required, URIs valid, globalId at most 255 characters.
func validateLink(l jiraclient.RemoteLink) map[string]string {
	errs := map[string]string{}
	switch {
	case strings.TrimSpace(l.Object.URL) == "":
		errs["url"] = "'url' is required."
	case !validURI(l.Object.URL):
		errs["url"] = "'url' is not a valid URL."
	}
	if strings.TrimSpace(l.Object.Title) == "" {
		errs["title"] = "'title' is required."
	}
	if utf8.RuneCountInString(l.GlobalID) > maxGlobalIDLength {
		errs["globalId"] = fmt.Sprintf("'globalId' must not exceed %d characters.", maxGlobalIDLength)
	}
	optionalURI := func(field, v string) {
		if v != "" && !validURI(v) {
			errs[field] = "'" + field + "' is not a valid URL."
		}
	}
	if ic := l.Object.Icon; ic != nil {
		optionalURI("iconUrl", ic.URL16)
	}
	if st := l.Object.Status; st != nil && st.Icon != nil {
		optionalURI("statusIconUrl", st.Icon.URL16)
		optionalURI("statusIconLink", st.Icon.Link)
	}
	return errs
}

// validURI accepts what Jira's URI check accepts, except that the fake also
// demands a scheme: a relative URL in a remote link is a jiralinkd bug even
// though Jira would store it.
func validURI(v string) bool {
	if strings.IndexFunc(v, func(r rune) bool { return unicode.IsSpace(r) || unicode.IsControl(r) }) >= 0 {
		return false
	}
	u, err := url.Parse(v)
	return err == nil && u.Scheme != ""
}
