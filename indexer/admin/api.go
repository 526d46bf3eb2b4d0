package admin

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/status"
	"github.com/jiralinkd/jiralinkd/jiraclient"
)

// ValidIssueKey reports whether k looks like a Jira issue key (ABC-1): the
// same rule the Jira client applies before a key goes into a URL or JQL.
func ValidIssueKey(k string) bool { return jiraclient.ValidIssueKey(k) }

// NormalizeIssueKey is the canonical form of an issue key as a user types
// it: upper case (zookeeper-2014 is ZOOKEEPER-2014). Every entry point
// (API, page, explain) normalises before ValidIssueKey; forms that accept
// typed input also trim surrounding space first.
func NormalizeIssueKey(k string) string { return strings.ToUpper(k) }

// Explanation is what jiralinkd linked to one issue, and why: the body of
// GET /api/v1/issues/{KEY} and of `jiralinkd explain --json`.
type Explanation struct {
	Issue string          `json:"issue"`
	Links []ExplainedLink `json:"links"` // never null
	// SmartCommits are the smart-commit commands addressed to the issue,
	// with their outcome (done, failed and why, pending a retry).
	SmartCommits []ExplainedCommand `json:"smart_commits"` // never null
	// DroppedByRoute are mentions of the issue that a provider's routes
	// kept from being linked (routes.go).
	DroppedByRoute []ExplainedDrop `json:"dropped_by_route,omitempty"`
	// Builds and Deployments are the build and deployment links among
	// Links (one per repo and workflow, one per repo and environment),
	// with the state each shows.
	Builds      []ExplainedCI `json:"builds"`      // never null
	Deployments []ExplainedCI `json:"deployments"` // never null
}

// ExplainedCI is one build or deployment link on the issue: the latest
// run of a workflow, or the latest deployment to an environment, that
// concerns the issue.
type ExplainedCI struct {
	GlobalID string `json:"global_id"`
	Repo     string `json:"repo"` // provider/owner/name
	Title    string `json:"title"`
	Summary  string `json:"summary"`
	URL      string `json:"url"`
	// Status is the run's or deployment's state as the link shows it
	// (success, failure, running, pending, cancelled; "" if unknown).
	Status  string    `json:"status"`
	Sources []string  `json:"sources"` // why the issue gets it; never null
	Written time.Time `json:"written"`
}

// ciStates are the states a build or deployment link's title names.
var ciStates = map[string]bool{"success": true, "failure": true, "running": true, "pending": true, "cancelled": true}

// ciStatus finds the state in a build or deployment link's title
// ("CI · build #8 · success · main@a1b2c3d", "Deployed to production ·
// success · v1.4.2 · 2026-12-04").
func ciStatus(title string) string {
	parts := strings.Split(title, " · ")
	for _, p := range parts[min(1, len(parts)):] {
		if ciStates[p] {
			return p
		}
	}
	return ""
}

// ExplainedCommand is one smart-commit command and what became of it.
type ExplainedCommand struct {
	Command  string `json:"command"` // as written
	Kind     string `json:"kind"`    // comment, time, transition
	State    string `json:"state"`
	Error    string `json:"error,omitempty"`
	Attempts int    `json:"attempts"`
	Repo     string `json:"repo"`
	Branch   string `json:"branch"`
	Commit   string `json:"commit"`
	URL      string `json:"url"`
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

// Explain builds the Explanation of issue from its recorded links and
// smart-commit commands.
func Explain(issue string, links []state.IssueLink, cmds ...smartcommit.Record) Explanation {
	e := Explanation{Issue: issue, Links: make([]ExplainedLink, 0, len(links)), SmartCommits: make([]ExplainedCommand, 0, len(cmds)),
		Builds: []ExplainedCI{}, Deployments: []ExplainedCI{}}
	for _, c := range cmds {
		e.SmartCommits = append(e.SmartCommits, ExplainedCommand{
			Command: c.Command, Kind: string(c.Kind), State: string(c.State), Error: c.Error, Attempts: c.Attempts,
			Repo: c.Commit.Provider + "/" + c.Commit.Repo, Branch: c.Commit.Branch, Commit: c.Commit.SHA, URL: c.Commit.URL,
		})
	}
	for _, l := range links {
		src := l.Sources
		if src == nil {
			src = []string{}
		}
		e.Links = append(e.Links, ExplainedLink{
			GlobalID: l.GlobalID, Kind: l.Kind, Repo: l.Repo, URL: l.URL,
			Title: l.Title, Sources: src, Written: l.Written,
		})
		ci := ExplainedCI{GlobalID: l.GlobalID, Repo: l.Repo, Title: l.Title, Summary: l.Summary, URL: l.URL,
			Status: ciStatus(l.Title), Sources: src, Written: l.Written}
		switch l.Kind {
		case "build":
			e.Builds = append(e.Builds, ci)
		case "deployment":
			e.Deployments = append(e.Deployments, ci)
		}
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
	key := NormalizeIssueKey(mux.Vars(r)["key"])
	links, err := s.issueLinks(key)
	switch {
	case errors.Is(err, errMalformedKey):
		writeError(w, http.StatusBadRequest, "malformed issue key: want PROJECT-123")
	case err != nil:
		writeError(w, http.StatusInternalServerError, "cannot read the links (see the daemon's log)")
	default:
		e := Explain(key, links, s.smartCommits(key)...)
		s.addDrops(&e)
		writeJSON(w, http.StatusOK, e)
	}
}

// SmartCommitSource is implemented by backends that run smart commits.
type SmartCommitSource interface {
	SmartCommits(issue string) ([]smartcommit.Record, error)
}

// smartCommits returns the issue's smart-commit records, if the backend
// has any (a read failure is logged, not fatal to the page).
func (s *Server) smartCommits(key string) []smartcommit.Record {
	src, ok := s.b.(SmartCommitSource)
	if !ok {
		return nil
	}
	recs, err := src.SmartCommits(key)
	if err != nil {
		s.log.Error("admin: read smart commits", "issue", key, "err", err)
	}
	return recs
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
