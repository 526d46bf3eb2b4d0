package gitlabtest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
)

// scopeNeed is what a token must be allowed to do to use a route.
type scopeNeed int

const (
	needAPI    scopeNeed = iota // api or read_api
	needUser                    // read_user, api or read_api
	needAny                     // any scope
	needRotate                  // api or self_rotate
)

// route is one endpoint under /api/v4, in GitLab's notation: ":x" matches
// one (URL-encoded) path segment, "*x" the rest of the path, and a literal
// ending in "*" any segment with that prefix.
type route struct {
	pattern   string
	segs      []string
	fn        handlerFunc
	need      scopeNeed
	forbidden bool
}

// handlerFunc serves one route; projectHandlerFunc one under
// /projects/:id once the project is resolved, groupHandlerFunc one under
// /groups/:id.
type (
	handlerFunc        func(c *call) response
	projectHandlerFunc func(c *call, snap *projectSnapshot) response
	groupHandlerFunc   func(c *call, g groupState) response
)

func newRoute(pattern string, fn handlerFunc, need scopeNeed, forbidden bool) *route {
	return &route{pattern: pattern, segs: strings.Split(strings.TrimPrefix(pattern, "/"), "/"), fn: fn, need: need, forbidden: forbidden}
}

func (s *Server) routeTable() []*route {
	api := func(p string, fn handlerFunc) *route { return newRoute(p, fn, needAPI, false) }
	proj := func(p string, fn projectHandlerFunc) *route { return newRoute(p, s.withProject(fn), needAPI, false) }
	group := func(p string, fn groupHandlerFunc) *route { return newRoute(p, s.withGroup(fn), needAPI, false) }
	// Endpoints that can return code or diffs: answered plausibly, marked
	// Forbidden.
	bad := func(p string, fn projectHandlerFunc) *route { return newRoute(p, s.withProject(fn), needAPI, true) }
	return []*route{
		newRoute("/user", s.getUser, needUser, false),
		newRoute("/version", s.getMetadata, needUser, false),
		newRoute("/metadata", s.getMetadata, needUser, false),
		newRoute("/personal_access_tokens/self", s.getTokenSelf, needAny, false),
		newRoute(rotateSelfPath, s.rotateTokenSelf, needRotate, false),
		group("/groups/:id", s.getGroup),
		group("/groups/:id/projects", s.listGroupProjects),
		group("/groups/:id/subgroups", s.listSubgroups),
		group("/groups/:id/merge_requests", s.listGroupMergeRequests),
		api("/projects", s.listProjects),
		proj("/projects/:id", s.getProject),
		proj("/projects/:id/repository/branches", s.listBranches),
		proj("/projects/:id/repository/branches/:branch", s.getBranch),
		proj("/projects/:id/repository/tags", s.listTags),
		proj("/projects/:id/repository/tags/:tag", s.getTag),
		proj("/projects/:id/repository/commits", s.listCommits),
		proj("/projects/:id/merge_requests", s.listMergeRequests),
		proj("/projects/:id/merge_requests/:iid", s.getMergeRequest),
		proj("/projects/:id/pipelines", s.listPipelines),
		proj("/projects/:id/deployments", s.listDeployments),

		bad("/projects/:id/repository/commits/:sha", s.getCommit),
		bad("/projects/:id/repository/commits/:sha/diff", s.commitDiff),
		bad("/projects/:id/repository/commits/:sha/*rest", s.emptyList),
		bad("/projects/:id/repository/files/*path", s.getFile),
		bad("/projects/:id/repository/blobs/*rest", s.rawBlob),
		bad("/projects/:id/repository/tree", s.listTree),
		bad("/projects/:id/repository/archive*", s.archive),
		bad("/projects/:id/repository/compare", s.compare),
		bad("/projects/:id/merge_requests/:iid/changes", s.mergeRequestChanges),
		bad("/projects/:id/merge_requests/:iid/diffs", s.mergeRequestDiffs),
		bad("/projects/:id/merge_requests/:iid/raw_diffs", s.rawBlob),
		bad("/projects/:id/merge_requests/:iid/versions", s.emptyList),
		bad("/projects/:id/snippets", s.emptyList),
		// Jobs, their traces (logs) and artifacts can hold source code,
		// build output and secrets.
		bad("/projects/:id/pipelines/:pipeline/jobs", s.emptyList),
		bad("/projects/:id/jobs", s.emptyList),
		bad("/projects/:id/jobs/:job/trace", s.jobTrace),
		bad("/projects/:id/jobs/:job/artifacts*", s.archive),
		bad("/projects/:id/jobs/artifacts/*rest", s.archive),
		bad("/projects/:id/snippets/*rest", s.rawBlob),
		newRoute("/snippets", func(*call) response { return listResponse([]struct{}{}, nil) }, needAPI, true),
		newRoute("/snippets/*rest", func(*call) response { return textResponse(http.StatusOK, "fake snippet\n") }, needAPI, true),
	}
}

// match reports whether segs (unescaped path segments after /api/v4)
// match rt, and the values of its parameters.
func (rt *route) match(segs []string) (map[string]string, bool) {
	params := make(map[string]string)
	for i, p := range rt.segs {
		if strings.HasPrefix(p, "*") {
			if i >= len(segs) {
				return nil, false
			}
			params[p[1:]] = strings.Join(segs[i:], "/")
			return params, true
		}
		if i >= len(segs) || segs[i] == "" {
			return nil, false
		}
		switch {
		case strings.HasPrefix(p, ":"):
			params[p[1:]] = segs[i]
		case strings.HasSuffix(p, "*"):
			if !strings.HasPrefix(segs[i], strings.TrimSuffix(p, "*")) {
				return nil, false
			}
		case p != segs[i]:
			return nil, false
		}
	}
	return params, len(segs) == len(rt.segs)
}

// dispatch finds the route of r and serves it.
func (s *Server) dispatch(w http.ResponseWriter, r *http.Request) {
	escaped := r.URL.EscapedPath()
	c := &call{r: r, path: escaped, origin: fakeserver.Origin(r), reqID: s.nextRequestID()}
	rest, ok := strings.CutPrefix(escaped, s.prefix+apiPath+"/")
	if s.prefix != "" {
		if p, ok := strings.CutPrefix(escaped, s.prefix); ok && (p == "" || strings.HasPrefix(p, "/")) {
			c.path = p
		}
	}
	if !ok {
		// Web pages, raw files, archives and .diff/.patch URLs of the
		// instance: nothing jiralinkd may fetch.
		s.finish(w, c, fakeserver.Forbidden(textResponse(http.StatusNotFound, "Not Found\n")))
		return
	}
	var segs []string
	for _, seg := range strings.Split(rest, "/") {
		u, err := url.PathUnescape(seg)
		if err != nil {
			segs = nil
			break
		}
		segs = append(segs, u)
	}
	for _, rt := range s.routes {
		if params, ok := rt.match(segs); ok {
			c.route, c.params = rt, params
			break
		}
	}
	method := r.Method
	if method == http.MethodHead {
		method = http.MethodGet
	}
	if c.route != nil {
		c.name = method + " " + c.route.pattern
	}
	var fn handlerFunc
	switch {
	case method == http.MethodPost && c.route != nil && c.route.pattern == rotateSelfPath:
		fn = c.route.fn
	case method != http.MethodGet:
		fn = func(*call) response {
			return fakeserver.Forbidden(messageResponse(http.StatusForbidden, "403 Forbidden"))
		}
	case c.route == nil:
		fn = func(*call) response {
			return fakeserver.Forbidden(jsonResponse(http.StatusNotFound, map[string]string{"error": "404 Not Found"}))
		}
	default:
		fn = c.route.fn
	}
	s.finish(w, c, s.process(c, fn))
}

// withProject resolves the project of /projects/:id: by id, by current
// path (case-insensitive) or by a former path (301 to the id form, as
// GitLab 16.7 and later answer GET requests after a rename or transfer).
func (s *Server) withProject(fn projectHandlerFunc) handlerFunc {
	return func(c *call) response {
		id := c.params["id"]
		s.stateMu.RLock()
		var st *projectState
		if n, err := strconv.ParseInt(id, 10, 64); err == nil {
			st = s.projects[n]
		} else if n, ok := s.byPath[strings.ToLower(id)]; ok {
			st = s.projects[n]
		} else if n, ok := s.moved[strings.ToLower(id)]; ok {
			s.stateMu.RUnlock()
			return s.redirectProject(c, n)
		}
		if st == nil {
			s.stateMu.RUnlock()
			return messageResponse(http.StatusNotFound, "404 Project Not Found")
		}
		snap := s.snapshotLocked(st)
		s.stateMu.RUnlock()
		return fn(c, &snap)
	}
}

// redirectProject answers a request naming a project by a former path
// like GitLab's API: 301 to the same endpoint under the project's id.
func (s *Server) redirectProject(c *call, id int64) response {
	// c.path is {prefix}/api/v4/projects/{old path}/{rest}.
	after, _ := strings.CutPrefix(c.path, apiPath+"/projects/")
	_, rest, _ := strings.Cut(after, "/")
	loc := c.origin + s.prefix + apiPath + "/projects/" + strconv.FormatInt(id, 10)
	if rest != "" {
		loc += "/" + rest
	}
	if c.r.URL.RawQuery != "" {
		loc += "?" + c.r.URL.RawQuery
	}
	resp := textResponse(http.StatusMovedPermanently, "This resource has been moved permanently to "+loc+".")
	resp.Header.Set("Location", loc)
	return resp
}

// withGroup resolves the group of /groups/:id by id or full path
// (case-insensitive).
func (s *Server) withGroup(fn groupHandlerFunc) handlerFunc {
	return func(c *call) response {
		g, ok := s.lookupGroup(c.params["id"])
		if !ok {
			return messageResponse(http.StatusNotFound, "404 Group Not Found")
		}
		return fn(c, g)
	}
}

func (s *Server) lookupGroup(id string) (groupState, bool) {
	s.stateMu.RLock()
	defer s.stateMu.RUnlock()
	n, err := strconv.ParseInt(id, 10, 64)
	if err != nil {
		var ok bool
		if n, ok = s.groupByPath[strings.ToLower(id)]; !ok {
			return groupState{}, false
		}
	}
	g, ok := s.groups[n]
	if !ok {
		return groupState{}, false
	}
	return *g, true
}
