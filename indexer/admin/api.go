package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"time"

	"github.com/gorilla/mux"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/status"
)

// issueKeyRE is the shape of a Jira issue key as the API accepts it.
var issueKeyRE = regexp.MustCompile(`^[A-Z][A-Z0-9_]*-[1-9][0-9]*$`)

// ValidIssueKey reports whether k looks like a Jira issue key (ABC-1).
func ValidIssueKey(k string) bool { return issueKeyRE.MatchString(k) }

// Explanation is what jiralinkd linked to one issue, and why: the body of
// GET /api/v1/issues/{KEY} and of `jiralinkd explain --json`.
type Explanation struct {
	Issue string          `json:"issue"`
	Links []ExplainedLink `json:"links"` // never null
}

// ExplainedLink is one remote link written on the issue.
type ExplainedLink struct {
	GlobalID string    `json:"global_id"`
	Kind     string    `json:"kind"` // commit, branch, tag, pr
	Repo     string    `json:"repo"` // provider/owner/name
	URL      string    `json:"url"`
	Title    string    `json:"title"`
	Sources  []string  `json:"sources"` // which texts named the issue; never null
	Written  time.Time `json:"written"`
}

// Explain builds the Explanation of issue from its recorded links.
func Explain(issue string, links []state.IssueLink) Explanation {
	e := Explanation{Issue: issue, Links: make([]ExplainedLink, 0, len(links))}
	for _, l := range links {
		src := l.Sources
		if src == nil {
			src = []string{}
		}
		e.Links = append(e.Links, ExplainedLink{
			GlobalID: l.GlobalID, Kind: l.Kind, Repo: l.Repo, URL: l.URL,
			Title: l.Title, Sources: src, Written: l.Written,
		})
	}
	return e
}

// apiError is the body of every API error.
type apiError struct {
	Error string `json:"error"`
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(code)
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	_ = enc.Encode(v)
}

func writeError(w http.ResponseWriter, code int, msg string) {
	writeJSON(w, code, apiError{Error: msg})
}

// snapshot reads the backend's snapshot, logging a failure (whose text
// may name internal paths) rather than showing it.
func (s *Server) snapshot() (status.Snapshot, bool) {
	snap, err := s.b.Snapshot()
	if err != nil {
		s.log.Error("admin: read status", "err", err)
		return snap, false
	}
	if snap.Repos == nil {
		snap.Repos = []status.Repo{}
	}
	if snap.Providers == nil {
		snap.Providers = []status.Provider{}
	}
	return snap, true
}

func (s *Server) apiStatus(w http.ResponseWriter, _ *http.Request) {
	snap, ok := s.snapshot()
	if !ok {
		writeError(w, http.StatusInternalServerError, "cannot read the status (see the daemon's log)")
		return
	}
	writeJSON(w, http.StatusOK, snap)
}

func (s *Server) apiRepos(w http.ResponseWriter, _ *http.Request) {
	snap, ok := s.snapshot()
	if !ok {
		writeError(w, http.StatusInternalServerError, "cannot read the status (see the daemon's log)")
		return
	}
	writeJSON(w, http.StatusOK, snap.Repos)
}

func (s *Server) apiIssue(w http.ResponseWriter, r *http.Request) {
	key := mux.Vars(r)["key"]
	links, err := s.issueLinks(key)
	switch {
	case errors.Is(err, errMalformedKey):
		writeError(w, http.StatusBadRequest, "malformed issue key: want PROJECT-123")
	case err != nil:
		writeError(w, http.StatusInternalServerError, "cannot read the links (see the daemon's log)")
	default:
		writeJSON(w, http.StatusOK, Explain(key, links))
	}
}

// issueLinks validates key and reads its links, logging a backend failure.
func (s *Server) issueLinks(key string) ([]state.IssueLink, error) {
	if !ValidIssueKey(key) {
		return nil, errMalformedKey
	}
	links, err := s.b.IssueLinks(key)
	if err != nil {
		s.log.Error("admin: read issue links", "issue", key, "err", err)
		return nil, fmt.Errorf("read links of %s: %w", key, err)
	}
	return links, nil
}

func (s *Server) apiResync(w http.ResponseWriter, r *http.Request) {
	v := mux.Vars(r)
	switch err := s.resync(v["provider"], v["path"]); {
	case err == nil:
		writeJSON(w, http.StatusAccepted, map[string]string{"status": "started"})
	case errors.Is(err, ErrUnknownRepo):
		writeError(w, http.StatusNotFound, ErrUnknownRepo.Error())
	case errors.Is(err, ErrBusy):
		writeError(w, http.StatusConflict, ErrBusy.Error())
	default:
		writeError(w, http.StatusInternalServerError, "cannot start the sync (see the daemon's log)")
	}
}

// resync asks the backend for a sync and logs the outcome.
func (s *Server) resync(provider, fullName string) error {
	err := s.b.Resync(provider, fullName)
	switch {
	case err == nil:
		s.log.Info("admin: resync requested", "provider", provider, "repo", fullName)
	case errors.Is(err, ErrUnknownRepo), errors.Is(err, ErrBusy):
		s.log.Info("admin: resync refused", "provider", provider, "repo", fullName, "err", err)
	default:
		s.log.Error("admin: resync failed", "provider", provider, "repo", fullName, "err", err)
	}
	return err
}
