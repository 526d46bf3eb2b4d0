package githubtest

import (
	"encoding/base64"
	"fmt"
	"hash/fnv"
	"strings"
	"time"
)

// JSON encodings of GitHub's objects. Field order follows GitHub's own
// examples (testdata/), which keeps responses diffable against them.

// ghTime renders like GitHub: UTC, whole seconds, null when zero.
type ghTime time.Time

func (t ghTime) MarshalJSON() ([]byte, error) {
	tt := time.Time(t)
	if tt.IsZero() {
		return []byte("null"), nil
	}
	return []byte(`"` + tt.UTC().Format("2006-01-02T15:04:05Z") + `"`), nil
}

// legacyNodeID is GitHub's original global node id: base64 of
// "<len(type)>:<Type><id>".
func legacyNodeID(typ, id string) string {
	return base64.StdEncoding.EncodeToString([]byte(fmt.Sprintf("%02d:%s%s", len(typ), typ, id)))
}

// webFlow is the account GitHub commits web merges as.
const (
	webFlowLogin = "web-flow"
	webFlowID    = 19864447
)

// userID derives a stable account id from a login; the token's user is 1,
// matching the "user ID 1" of the rate-limit message.
func (s *Server) userID(login string) int64 {
	switch {
	case strings.EqualFold(login, s.login):
		return 1
	case login == webFlowLogin:
		return webFlowID
	}
	h := fnv.New32a()
	h.Write([]byte(strings.ToLower(login)))
	return int64(h.Sum32()%90_000_000) + 10_000_000
}

type userJSON struct {
	Login             string `json:"login"`
	ID                int64  `json:"id"`
	NodeID            string `json:"node_id"`
	AvatarURL         string `json:"avatar_url"`
	GravatarID        string `json:"gravatar_id"`
	URL               string `json:"url"`
	HTMLURL           string `json:"html_url"`
	FollowersURL      string `json:"followers_url"`
	FollowingURL      string `json:"following_url"`
	GistsURL          string `json:"gists_url"`
	StarredURL        string `json:"starred_url"`
	SubscriptionsURL  string `json:"subscriptions_url"`
	OrganizationsURL  string `json:"organizations_url"`
	ReposURL          string `json:"repos_url"`
	EventsURL         string `json:"events_url"`
	ReceivedEventsURL string `json:"received_events_url"`
	Type              string `json:"type"`
	SiteAdmin         bool   `json:"site_admin"`
}

func (s *Server) user(c *call, login string, org bool) userJSON {
	id := s.userID(login)
	typ, nodeType := "User", "User"
	if org {
		typ, nodeType = "Organization", "Organization"
	}
	u := c.base + "/users/" + login
	return userJSON{
		Login:             login,
		ID:                id,
		NodeID:            legacyNodeID(nodeType, fmt.Sprint(id)),
		AvatarURL:         fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", id),
		GravatarID:        "",
		URL:               u,
		HTMLURL:           s.web + "/" + login,
		FollowersURL:      u + "/followers",
		FollowingURL:      u + "/following{/other_user}",
		GistsURL:          u + "/gists{/gist_id}",
		StarredURL:        u + "/starred{/owner}{/repo}",
		SubscriptionsURL:  u + "/subscriptions",
		OrganizationsURL:  u + "/orgs",
		ReposURL:          u + "/repos",
		EventsURL:         u + "/events{/privacy}",
		ReceivedEventsURL: u + "/received_events",
		Type:              typ,
		SiteAdmin:         false,
	}
}

// fullUserJSON is GET /user and GET /users/{user}.
type fullUserJSON struct {
	userJSON
	Name            *string `json:"name"`
	Company         *string `json:"company"`
	Blog            string  `json:"blog"`
	Location        *string `json:"location"`
	Email           *string `json:"email"`
	Hireable        *bool   `json:"hireable"`
	Bio             *string `json:"bio"`
	TwitterUsername *string `json:"twitter_username"`
	PublicRepos     int     `json:"public_repos"`
	PublicGists     int     `json:"public_gists"`
	Followers       int     `json:"followers"`
	Following       int     `json:"following"`
	CreatedAt       ghTime  `json:"created_at"`
	UpdatedAt       ghTime  `json:"updated_at"`
}

var accountsCreated = time.Date(2015, 3, 1, 9, 0, 0, 0, time.UTC)

func (s *Server) fullUser(c *call, login string, publicRepos int) fullUserJSON {
	return fullUserJSON{
		userJSON:    s.user(c, login, false),
		Name:        &login,
		Blog:        "",
		PublicRepos: publicRepos,
		CreatedAt:   ghTime(accountsCreated),
		UpdatedAt:   ghTime(accountsCreated),
	}
}

type orgJSON struct {
	Login                   string  `json:"login"`
	ID                      int64   `json:"id"`
	NodeID                  string  `json:"node_id"`
	URL                     string  `json:"url"`
	ReposURL                string  `json:"repos_url"`
	EventsURL               string  `json:"events_url"`
	HooksURL                string  `json:"hooks_url"`
	IssuesURL               string  `json:"issues_url"`
	MembersURL              string  `json:"members_url"`
	PublicMembersURL        string  `json:"public_members_url"`
	AvatarURL               string  `json:"avatar_url"`
	Description             *string `json:"description"`
	Name                    string  `json:"name"`
	Company                 *string `json:"company"`
	Blog                    string  `json:"blog"`
	Location                *string `json:"location"`
	Email                   *string `json:"email"`
	IsVerified              bool    `json:"is_verified"`
	HasOrganizationProjects bool    `json:"has_organization_projects"`
	HasRepositoryProjects   bool    `json:"has_repository_projects"`
	PublicRepos             int     `json:"public_repos"`
	PublicGists             int     `json:"public_gists"`
	Followers               int     `json:"followers"`
	Following               int     `json:"following"`
	HTMLURL                 string  `json:"html_url"`
	CreatedAt               ghTime  `json:"created_at"`
	UpdatedAt               ghTime  `json:"updated_at"`
	Type                    string  `json:"type"`
}

func (s *Server) org(c *call, login string, publicRepos int) orgJSON {
	id := s.userID(login)
	u := c.base + "/orgs/" + login
	return orgJSON{
		Login:                   login,
		ID:                      id,
		NodeID:                  legacyNodeID("Organization", fmt.Sprint(id)),
		URL:                     u,
		ReposURL:                u + "/repos",
		EventsURL:               u + "/events",
		HooksURL:                u + "/hooks",
		IssuesURL:               u + "/issues",
		MembersURL:              u + "/members{/member}",
		PublicMembersURL:        u + "/public_members{/member}",
		AvatarURL:               fmt.Sprintf("https://avatars.githubusercontent.com/u/%d?v=4", id),
		Name:                    login,
		HasOrganizationProjects: true,
		HasRepositoryProjects:   true,
		PublicRepos:             publicRepos,
		HTMLURL:                 s.web + "/" + login,
		CreatedAt:               ghTime(accountsCreated),
		UpdatedAt:               ghTime(accountsCreated),
		Type:                    "Organization",
	}
}
