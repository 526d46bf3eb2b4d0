package gitlabtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"time"
)

// rotateSelfPath is GitLab's self-rotation endpoint (GitLab 16.10+):
// POST /personal_access_tokens/self/rotate revokes the token that
// authenticates the request and returns a new one with the same scopes,
// expiring at expires_at (default: one week later). A token with neither
// the api nor the self_rotate scope gets 403. See
// https://docs.gitlab.com/api/personal_access_tokens/#rotate-a-personal-access-token
const rotateSelfPath = "/personal_access_tokens/self/rotate"

// tokenState is the accepted token, guarded by Server.mu. An empty value
// accepts every request (Options.Token "").
type tokenState struct {
	value    string
	expires  time.Time // a date, as GitLab keeps it
	id       int64
	rotation int
	revoked  []string // former tokens, rejected with 401
}

// currentToken is the accepted token; ok is false when every request is
// accepted.
func (s *Server) currentToken() (string, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok.value, s.tok.value != ""
}

// Token is the currently accepted token and its expiry (after a rotation
// through the API: the new token).
func (s *Server) Token() (string, time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.tok.value, s.tok.expires
}

// getTokenSelf describes the token: created with the server, expiring at
// Options.TokenExpiresAt (default a year later, GitLab's maximum lifetime),
// used just now. GitLab serves expires_at as a date ("2026-12-31").
func (s *Server) getTokenSelf(c *call) response {
	s.mu.Lock()
	id, exp := s.tok.id, s.tok.expires
	s.mu.Unlock()
	return jsonResponse(200, tokenJSON{
		ID: id, Name: "jiralinkd", CreatedAt: dbTime(s.createdAt), Description: "jiralinkd (gitlabtest)",
		Scopes: s.scopes, UserID: userID, LastUsedAt: dbTime(s.now().UTC().Truncate(time.Millisecond)),
		Active: true, ExpiresAt: exp.Format(time.DateOnly),
	})
}

// rotateTokenSelf is POST /personal_access_tokens/self/rotate: the token
// that authenticated the call is revoked and a new one returned (200,
// the token JSON with "token").
func (s *Server) rotateTokenSelf(c *call) response {
	exp := s.now().UTC().AddDate(0, 0, 7).Truncate(24 * time.Hour)
	v := c.r.URL.Query().Get("expires_at")
	if v == "" && c.r.Body != nil { // client-go sends the parameters as JSON
		var body struct {
			ExpiresAt string `json:"expires_at"`
		}
		_ = json.NewDecoder(io.LimitReader(c.r.Body, 1<<16)).Decode(&body)
		v = body.ExpiresAt
	}
	if v != "" {
		t, err := time.Parse(time.DateOnly, v)
		if err != nil {
			return errorResponse(http.StatusBadRequest, "expires_at is invalid")
		}
		exp = t
	}
	s.mu.Lock()
	s.tok.rotation++
	if s.tok.value != "" {
		s.tok.revoked = append(s.tok.revoked, s.tok.value)
	}
	s.tok.value = fmt.Sprintf("glpat-rotated-%d", s.tok.rotation)
	s.tok.id++
	s.tok.expires = exp
	id, tok := s.tok.id, s.tok.value
	s.mu.Unlock()
	return jsonResponse(http.StatusOK, tokenJSON{
		ID: id, Name: "jiralinkd", CreatedAt: dbTime(s.now().UTC().Truncate(time.Millisecond)), Description: "jiralinkd (gitlabtest)",
		Scopes: s.scopes, UserID: userID, Active: true, ExpiresAt: exp.Format(time.DateOnly), Token: tok,
	})
}
