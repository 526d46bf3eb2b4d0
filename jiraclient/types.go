package jiraclient

import (
	"log/slog"
	"regexp"
)

// ServerInfo is the part of GET /rest/api/2/serverInfo that jiralinkd uses.
type ServerInfo struct {
	BaseURL        string `json:"baseUrl"`
	Version        string `json:"version"`
	DeploymentType string `json:"deploymentType"` // "Server" on Data Center
	ServerTitle    string `json:"serverTitle"`
}

// User is the part of GET /rest/api/2/myself that jiralinkd uses.
type User struct {
	Name         string `json:"name"`
	Key          string `json:"key"`
	DisplayName  string `json:"displayName"`
	EmailAddress string `json:"emailAddress,omitempty"`
}

// LogValue leaves out the e-mail address, which is personal data.
func (u User) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("name", u.Name),
		slog.String("key", u.Key),
		slog.String("display_name", u.DisplayName),
	)
}

// Project is one element of GET /rest/api/2/project. Jira sends the id as a
// string.
type Project struct {
	ID   string `json:"id"`
	Key  string `json:"key"`
	Name string `json:"name"`
}

// RemoteLink is Jira's remote issue link resource, as sent to
// POST /rest/api/2/issue/{key}/remotelink and returned by GET. ID and Self
// are set by Jira and ignored when sent.
type RemoteLink struct {
	ID           int64        `json:"id,omitempty"`
	Self         string       `json:"self,omitempty"`
	GlobalID     string       `json:"globalId,omitempty"`
	Application  *Application `json:"application,omitempty"`
	Relationship string       `json:"relationship,omitempty"`
	Object       Object       `json:"object"`
}

// Application groups links in Jira's UI and selects a renderer.
type Application struct {
	Type string `json:"type,omitempty"`
	Name string `json:"name,omitempty"`
}

// Object is the linked remote object. URL and Title are required by Jira.
type Object struct {
	URL     string  `json:"url"`
	Title   string  `json:"title"`
	Summary string  `json:"summary,omitempty"`
	Icon    *Icon   `json:"icon,omitempty"`
	Status  *Status `json:"status,omitempty"`
}

// Icon is a 16×16 icon with a tooltip and an optional link.
type Icon struct {
	URL16 string `json:"url16x16,omitempty"`
	Title string `json:"title,omitempty"`
	Link  string `json:"link,omitempty"`
}

// Status marks the remote object resolved (Jira strikes the title through).
type Status struct {
	Resolved bool  `json:"resolved"`
	Icon     *Icon `json:"icon,omitempty"`
}

// issueKeyPattern is the default Jira issue key format: a project key of
// upper-case letters, digits and underscores starting with a letter, a dash
// and a positive number without leading zero.
var issueKeyPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]*-[1-9][0-9]{0,17}$`)

// ValidIssueKey reports whether key has the form of a Jira issue key such as
// "ABC-123". Only such keys are put into JQL or URL paths.
func ValidIssueKey(key string) bool {
	return issueKeyPattern.MatchString(key)
}
