package jiratest

import (
	"net/http"
	"net/url"
	"time"
)

// Version is the Jira version the fake reports.
const Version = "10.3.24"

// jiraTime is Jira's date-time layout (offset without colon, not RFC 3339).
const jiraTime = "2006-01-02T15:04:05.000-0700"

func (s *Server) serverInfo(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{
		"baseUrl":        s.baseURL(r),
		"version":        Version,
		"versionNumbers": []int{10, 3, 24},
		"deploymentType": "Server",
		"buildNumber":    10030024,
		"buildDate":      "2025-01-01T00:00:00.000+0000",
		"serverTime":     time.Now().Format(jiraTime),
		"scmInfo":        "jiratest",
		"serverTitle":    "Jira (jiratest)",
	})
}

func (s *Server) myself(w http.ResponseWriter, r *http.Request) {
	name := s.opts.Username
	if name == "" {
		name = "jiralinkd"
	}
	writeJSON(w, http.StatusOK, map[string]any{
		"self":         s.baseURL(r) + "/rest/api/2/user?username=" + url.QueryEscape(name),
		"key":          "JIRAUSER10100",
		"name":         name,
		"emailAddress": name + "@example.com",
		"displayName":  "Jira Link Daemon (" + name + ")",
		"active":       true,
		"deleted":      false,
		"timeZone":     "UTC",
		"locale":       "en_US",
	})
}

func (s *Server) listProjects(w http.ResponseWriter, r *http.Request) {
	base := s.baseURL(r)
	out := make([]map[string]any, 0, len(s.projects))
	for _, p := range s.projectOrder() {
		out = append(out, map[string]any{
			"self": base + "/rest/api/2/project/" + p.ID,
			"id":   p.ID,
			"key":  p.Key,
			"name": p.Name,
		})
	}
	writeJSON(w, http.StatusOK, out)
}

// projectOrder returns the projects in the order they were configured.
func (s *Server) projectOrder() []Project {
	return s.projectList
}
