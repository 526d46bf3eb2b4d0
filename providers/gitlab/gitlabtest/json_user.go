package gitlabtest

import (
	"crypto/sha256"
	"encoding/hex"
	"hash/fnv"
	"strings"
	"time"
)

// dbTime is a database timestamp as GitLab's API renders it (Rails):
// UTC with milliseconds and "Z", null when zero.
type dbTime time.Time

func (t dbTime) MarshalJSON() ([]byte, error) {
	if time.Time(t).IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + time.Time(t).UTC().Format("2006-01-02T15:04:05.000Z") + `"`), nil
}

// gitTime is a commit date as GitLab renders it from Gitaly: in the
// author's or committer's own offset, with milliseconds ("+00:00", not
// "Z", for UTC).
type gitTime time.Time

func (t gitTime) MarshalJSON() ([]byte, error) {
	return []byte(`"` + time.Time(t).Format("2006-01-02T15:04:05.000-07:00") + `"`), nil
}

// userJSON is GitLab's UserBasic entity, as authors and assignees are
// embedded.
type userJSON struct {
	ID        int64  `json:"id"`
	Username  string `json:"username"`
	Name      string `json:"name"`
	State     string `json:"state"`
	Locked    bool   `json:"locked"`
	AvatarURL string `json:"avatar_url"`
	WebURL    string `json:"web_url"`
}

// accountID is the user id of username: 1 for the token's user, else a
// stable number derived from the name.
func (s *Server) accountID(username string) int64 {
	if strings.EqualFold(username, s.username) {
		return userID
	}
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(username)))
	return 100_000 + int64(h.Sum32()%9_000_000)
}

func (s *Server) user(username string) userJSON {
	sum := sha256.Sum256([]byte(strings.ToLower(username)))
	return userJSON{
		ID: s.accountID(username), Username: username, Name: username, State: "active",
		AvatarURL: "https://secure.gravatar.com/avatar/" + hex.EncodeToString(sum[:16]) + "?s=80&d=identicon",
		WebURL:    s.web + "/" + username,
	}
}

// currentUserJSON is GET /user for a regular (non-admin) user.
type currentUserJSON struct {
	userJSON
	Email            string     `json:"email"`
	CreatedAt        dbTime     `json:"created_at"`
	Bio              string     `json:"bio"`
	Location         *string    `json:"location"`
	PublicEmail      string     `json:"public_email"`
	Skype            string     `json:"skype"`
	Linkedin         string     `json:"linkedin"`
	Twitter          string     `json:"twitter"`
	Discord          string     `json:"discord"`
	WebsiteURL       string     `json:"website_url"`
	Organization     string     `json:"organization"`
	JobTitle         string     `json:"job_title"`
	Pronouns         *string    `json:"pronouns"`
	Bot              bool       `json:"bot"`
	WorkInformation  *string    `json:"work_information"`
	Followers        int        `json:"followers"`
	Following        int        `json:"following"`
	LocalTime        *string    `json:"local_time"`
	LastSignInAt     dbTime     `json:"last_sign_in_at"`
	ConfirmedAt      dbTime     `json:"confirmed_at"`
	ThemeID          int        `json:"theme_id"`
	LastActivityOn   string     `json:"last_activity_on"`
	ColorSchemeID    int        `json:"color_scheme_id"`
	ProjectsLimit    int        `json:"projects_limit"`
	CurrentSignInAt  dbTime     `json:"current_sign_in_at"`
	Identities       []struct{} `json:"identities"`
	CanCreateGroup   bool       `json:"can_create_group"`
	CanCreateProject bool       `json:"can_create_project"`
	TwoFactorEnabled bool       `json:"two_factor_enabled"`
	External         bool       `json:"external"`
	PrivateProfile   bool       `json:"private_profile"`
	CommitEmail      string     `json:"commit_email"`
}

func (s *Server) getUser(c *call) response {
	email := s.username + "@example.com"
	return jsonResponse(200, currentUserJSON{
		userJSON: s.user(s.username), Email: email, CreatedAt: dbTime(s.createdAt),
		LastSignInAt: dbTime(s.createdAt), ConfirmedAt: dbTime(s.createdAt), CurrentSignInAt: dbTime(s.createdAt),
		ThemeID: 1, ColorSchemeID: 1, ProjectsLimit: 100000, LastActivityOn: s.now().UTC().Format(time.DateOnly),
		Identities: []struct{}{}, CommitEmail: email,
	})
}

// tokenJSON is GET /personal_access_tokens/self.
type tokenJSON struct {
	ID          int64    `json:"id"`
	Name        string   `json:"name"`
	Revoked     bool     `json:"revoked"`
	CreatedAt   dbTime   `json:"created_at"`
	Description string   `json:"description"`
	Scopes      []string `json:"scopes"`
	UserID      int64    `json:"user_id"`
	LastUsedAt  dbTime   `json:"last_used_at"`
	Active      bool     `json:"active"`
	ExpiresAt   string   `json:"expires_at"`
	// Token is the new token's value, only in the answer to a rotation.
	Token string `json:"token,omitempty"`
}

// Version and revision of the GitLab the fake claims to be.
const (
	gitlabVersion  = "17.11.1-ee"
	gitlabRevision = "4e963fe2f31"
)

type kasJSON struct {
	Enabled             bool    `json:"enabled"`
	ExternalURL         *string `json:"externalUrl"`
	ExternalK8sProxyURL *string `json:"externalK8sProxyUrl"`
	Version             *string `json:"version"`
}

// getMetadata serves GET /metadata and GET /version, which since GitLab
// 15.5 answer the same.
func (s *Server) getMetadata(c *call) response {
	return jsonResponse(200, struct {
		Version    string  `json:"version"`
		Revision   string  `json:"revision"`
		KAS        kasJSON `json:"kas"`
		Enterprise bool    `json:"enterprise"`
	}{gitlabVersion, gitlabRevision, kasJSON{}, true})
}
