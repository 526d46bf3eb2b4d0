package jiratest

import (
	"net/http"
	"slices"
	"strings"
)

// RouteMyPermissions is GET /rest/api/2/mypermissions.
const RouteMyPermissions = "GET /rest/api/2/mypermissions"

// permission is one project permission as mypermissions describes it.
type permission struct {
	id, key, name, description string
}

// projectPermissions are Jira's built-in project permissions that matter
// to jiralinkd and its smart commits, with Jira's ids.
var projectPermissions = []permission{
	{"10", "BROWSE_PROJECTS", "Browse Projects", "Ability to browse projects and the issues within them."},
	{"11", "CREATE_ISSUES", "Create Issues", "Ability to create issues."},
	{"12", "EDIT_ISSUES", "Edit Issues", "Ability to edit issues."},
	{"13", "ASSIGN_ISSUES", "Assign Issues", "Ability to assign issues to other people."},
	{"14", "RESOLVE_ISSUES", "Resolve Issues", "Ability to resolve and reopen issues. This includes the ability to set a fix version."},
	{"15", "ADD_COMMENTS", "Add Comments", "Ability to comment on issues."},
	{"34", "EDIT_ALL_COMMENTS", "Edit All Comments", "Ability to edit all comments made on issues."},
	{"16", "DELETE_ISSUES", "Delete Issues", "Ability to delete issues."},
	{"18", "CLOSE_ISSUES", "Close Issues", "Ability to close issues. Often useful where your developers resolve issues, and a QA department closes them."},
	{"20", "WORK_ON_ISSUES", "Work On Issues", "Ability to log work done against an issue. Only useful if Time Tracking is turned on."},
	{"21", "LINK_ISSUES", "Link Issues", "Ability to link issues together and create linked issues. Only useful if issue linking is turned on."},
	{"23", "ADMINISTER_PROJECTS", "Administer Projects", "Ability to administer a project in Jira."},
	{"29", "VIEW_DEV_TOOLS", "View Development Tools", "Allows users in a software project to view development-related information on the issue, such as commits, reviews and build information."},
	{"46", "TRANSITION_ISSUES", "Transition Issues", "Ability to transition issues."},
}

// granted reports whether the user holds perm in project; s.mu is held.
func (s *Server) granted(project, perm string) bool {
	return s.opts.Permissions == nil || s.opts.Permissions(project, perm)
}

// myPermissions serves GET /rest/api/2/mypermissions?projectKey=K: every
// project permission with havePermission as Options.Permissions says.
// Without projectKey the context is global: a permission held in any
// project counts. An unknown project answers 404.
//
// permissions=A,B is Jira Cloud's parameter: Cloud requires it (400
// without it), answers only the asked permissions and 400 for an unknown
// key (that message's wording is the fake's own). Data Center's REST
// reference has no such parameter, and Data Center ignores query
// parameters it does not know, so in Data Center mode it changes nothing:
// every permission is listed.
func (s *Server) myPermissions(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	project := q.Get("projectKey")
	if project != "" {
		if _, ok := s.projects[project]; !ok {
			writeErrors(w, http.StatusNotFound, []string{"No project could be found with key '" + project + "'."}, nil)
			return
		}
	}
	var asked []permission
	switch list := q.Get("permissions"); {
	case !s.opts.Cloud:
		asked = projectPermissions
	case list == "":
		writeErrors(w, http.StatusBadRequest, []string{"The 'permissions' query parameter is required."}, nil)
		return
	default:
		for _, k := range strings.Split(list, ",") {
			k = strings.TrimSpace(k)
			i := slices.IndexFunc(projectPermissions, func(p permission) bool { return p.key == k })
			if i < 0 {
				writeErrors(w, http.StatusBadRequest, []string{"Unrecognized permission key: '" + k + "'."}, nil)
				return
			}
			asked = append(asked, projectPermissions[i])
		}
	}
	out := make(map[string]any, len(asked))
	for _, p := range asked {
		out[p.key] = map[string]any{
			"id": p.id, "key": p.key, "name": p.name, "type": "PROJECT",
			"description": p.description, "havePermission": s.holds(project, p.key),
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"permissions": out})
}

// holds is granted for one project, or for any project when project is
// empty (mypermissions' global context); s.mu is held.
func (s *Server) holds(project, perm string) bool {
	if project != "" {
		return s.granted(project, perm)
	}
	for _, p := range s.projectList {
		if s.granted(p.Key, perm) {
			return true
		}
	}
	return false
}

// denyLinkWrite answers 403, as Jira does, a remote-link write on an
// existing issue of a project where the user lacks Link Issues; it reports
// whether it answered. s.mu is held.
func (s *Server) denyLinkWrite(w http.ResponseWriter, key string) bool {
	project, ok := projectOf(key)
	if !ok || !s.issueExists(key) || s.granted(project, "LINK_ISSUES") {
		return false
	}
	writeErrors(w, http.StatusForbidden, []string{"You do not have the permission to link issues."}, nil)
	return true
}
