package gitlabtest

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

// boolParam reads a Grape Boolean parameter: absent is def; a value that
// is not a boolean is answered 400 like Grape's coercion does.
func boolParam(c *call, name string, def bool) (bool, *response) {
	v, ok := c.r.URL.Query()[name]
	if !ok || len(v) == 0 || v[len(v)-1] == "" {
		return def, nil
	}
	b, err := strconv.ParseBool(v[len(v)-1])
	if err != nil {
		r := errorResponse(http.StatusBadRequest, name+" is invalid")
		return def, &r
	}
	return b, nil
}

// enumParam reads a parameter restricted to values; absent is def.
func enumParam(c *call, name, def string, values ...string) (string, *response) {
	v := c.r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	if !slices.Contains(values, v) {
		r := errorResponse(http.StatusBadRequest, name+" does not have a valid value")
		return def, &r
	}
	return v, nil
}

// timeParam reads an ISO 8601 parameter (RFC 3339, or a bare date).
func timeParam(c *call, name string) (time.Time, *response) {
	v := c.r.URL.Query().Get(name)
	if v == "" {
		return time.Time{}, nil
	}
	for _, layout := range []string{time.RFC3339Nano, time.DateOnly} {
		if t, err := time.Parse(layout, v); err == nil {
			return t, nil
		}
	}
	r := errorResponse(http.StatusBadRequest, name+" is invalid")
	return time.Time{}, &r
}

func (s *Server) getGroup(c *call, g groupState) response {
	withProjects, bad := boolParam(c, "with_projects", true)
	if bad != nil {
		return *bad
	}
	d := groupDetailJSON{groupJSON: s.groupJSON(g), SharedWithGroups: []struct{}{}}
	if g.ParentID == 0 {
		f := false
		d.PreventSharingGroupsOutsideHierarchy = &f
	}
	if withProjects {
		// Deprecated in the API, and capped at 100 projects.
		projects, shared := []projectJSON{}, []projectJSON{}
		for _, p := range s.allProjects() {
			if p.ns.kind == "group" && p.ns.id == g.ID && len(projects) < 100 {
				projects = append(projects, s.projectJSON(c, &p, false))
			}
		}
		d.Projects, d.SharedProjects = &projects, &shared
	}
	return jsonResponse(http.StatusOK, d)
}

// listGroupProjects serves GET /groups/:id/projects: the group's projects,
// with include_subgroups=true also those of its descendants.
func (s *Server) listGroupProjects(c *call, g groupState) response {
	sub, bad := boolParam(c, "include_subgroups", false)
	if bad != nil {
		return *bad
	}
	prefix := strings.ToLower(g.FullPath) + "/"
	return s.projectList(c, func(p *projectSnapshot) bool {
		if p.ns.kind != "group" {
			return false
		}
		return p.ns.id == g.ID || (sub && strings.HasPrefix(strings.ToLower(p.ns.fullPath)+"/", prefix))
	})
}

// listProjects serves GET /projects: every project the token sees, which
// is all of them (owned=true: those of the user's namespace).
func (s *Server) listProjects(c *call) response {
	owned, bad := boolParam(c, "owned", false)
	if bad != nil {
		return *bad
	}
	return s.projectList(c, func(p *projectSnapshot) bool { return !owned || p.ns.kind == "user" })
}

// projectList filters by archived and search, sorts by order_by (default
// created_at) and sort (default desc), ties broken by id in the same
// direction, and paginates; simple=true sends BasicProjectDetails.
func (s *Server) projectList(c *call, keep func(*projectSnapshot) bool) response {
	q := c.r.URL.Query()
	hasArchived := q.Get("archived") != "" // absent: archived or not
	wantArchived, bad := boolParam(c, "archived", false)
	if bad != nil {
		return *bad
	}
	simple, bad := boolParam(c, "simple", false)
	if bad != nil {
		return *bad
	}
	orderBy, bad := enumParam(c, "order_by", "created_at",
		"id", "name", "path", "created_at", "updated_at", "last_activity_at", "star_count", "similarity")
	if bad != nil {
		return *bad
	}
	sortDir, bad := enumParam(c, "sort", "desc", "asc", "desc")
	if bad != nil {
		return *bad
	}
	search := strings.ToLower(q.Get("search"))

	var list []projectSnapshot
	for _, p := range s.allProjects() {
		if !keep(&p) || (hasArchived && p.p.Archived != wantArchived) {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(p.p.Path), search) {
			continue
		}
		list = append(list, p)
	}
	slices.SortFunc(list, func(a, b projectSnapshot) int {
		var r int
		switch orderBy {
		case "name", "path":
			r = strings.Compare(strings.ToLower(a.p.Path), strings.ToLower(b.p.Path))
		case "created_at":
			r = a.createdAt.Compare(b.createdAt)
		case "updated_at":
			r = a.updatedAt.Compare(b.updatedAt)
		case "last_activity_at":
			r = a.lastActivityAt.Compare(b.lastActivityAt)
		}
		r = cmp.Or(r, cmp.Compare(a.p.ID, b.p.ID))
		if sortDir == "desc" {
			return -r
		}
		return r
	})
	page, header, bad := paginate(c, list, countUpTo10k)
	if bad != nil {
		return *bad
	}
	if simple {
		items := make([]projectSimpleJSON, 0, len(page))
		for _, p := range page {
			items = append(items, s.projectSimple(&p))
		}
		return listResponse(items, header)
	}
	items := make([]projectJSON, 0, len(page))
	for _, p := range page {
		items = append(items, s.projectJSON(c, &p, false))
	}
	return listResponse(items, header)
}

// listSubgroups serves GET /groups/:id/subgroups: the direct children,
// by name.
func (s *Server) listSubgroups(c *call, g groupState) response {
	s.stateMu.RLock()
	var kids []groupState
	for _, k := range s.groups {
		if k.ParentID == g.ID {
			kids = append(kids, *k)
		}
	}
	s.stateMu.RUnlock()
	slices.SortFunc(kids, func(a, b groupState) int {
		return cmp.Or(strings.Compare(strings.ToLower(a.Path), strings.ToLower(b.Path)), cmp.Compare(a.ID, b.ID))
	})
	page, header, bad := paginate(c, kids, countUpTo10k)
	if bad != nil {
		return *bad
	}
	items := make([]groupJSON, 0, len(page))
	for _, k := range page {
		items = append(items, s.groupJSON(k))
	}
	return listResponse(items, header)
}
