package jiratest

import (
	"net/http"
	"strings"
	"time"
)

// RoutePATList is Jira Data Center's list of the caller's personal access
// tokens (8.14+): GET /rest/pat/latest/tokens answers a JSON array of
// {id, name, createdAt, expiringAt, lastAccessedAt}, timestamps like
// "2021-06-08T14:23:55.000+0000", never the token values; expiringAt is
// absent for a token that never expires. See
// https://confluence.atlassian.com/enterprise/using-personal-access-tokens-1026032365.html
const (
	patPath      = "/rest/pat/latest/tokens"
	RoutePATList = "GET " + patPath
)

// patTimeLayout is the PAT API's timestamp format.
const patTimeLayout = "2006-01-02T15:04:05.000-0700"

type patJSON struct {
	ID             int64  `json:"id"`
	Name           string `json:"name"`
	CreatedAt      string `json:"createdAt"`
	ExpiringAt     string `json:"expiringAt,omitempty"`
	LastAccessedAt string `json:"lastAccessedAt,omitempty"`
}

// listPATs answers RoutePATList: the configured token (bearer callers
// only; basic-auth users get an empty list), or 404 with NoPATList.
// s.mu is held.
func (s *Server) listPATs(w http.ResponseWriter) {
	if s.opts.NoPATList {
		writeErrors(w, http.StatusNotFound, []string{"null for uri: " + patPath}, nil)
		return
	}
	out := []patJSON{}
	if s.opts.Token != "" {
		now := s.now().UTC()
		p := patJSON{ID: 1, Name: "jiralinkd", CreatedAt: now.AddDate(0, -1, 0).Format(patTimeLayout),
			LastAccessedAt: now.Format(patTimeLayout)}
		if !s.opts.TokenExpiringAt.IsZero() {
			p.ExpiringAt = s.opts.TokenExpiringAt.UTC().Format(patTimeLayout)
		}
		out = append(out, p)
	}
	writeJSON(w, http.StatusOK, out)
}

// SetToken replaces the accepted personal access token and its expiry
// (zero: none); the former token gets 401 from now on, as after it was
// revoked. Tests use it to rotate the token behind the client's back.
func (s *Server) SetToken(token string, expiringAt time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.opts.Token, s.opts.TokenExpiringAt = token, expiringAt
}

// credentialOf is the bearer token or basic-auth password of r.
func credentialOf(r *http.Request) string {
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		return t
	}
	if _, p, ok := r.BasicAuth(); ok {
		return p
	}
	return ""
}
