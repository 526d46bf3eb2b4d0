package githubtest

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
)

const routeRateLimit = "GET /rate_limit"

// repoHandlerFunc serves a route under /repos/{owner}/{repo} once the
// repository is resolved.
type repoHandlerFunc func(c *call, snap *repoSnapshot) response

func (s *Server) routes() *http.ServeMux {
	mux := http.NewServeMux()
	s.handle(mux, "GET /{$}", "GET /", s.root)
	s.handle(mux, "GET /meta", "GET /meta", s.meta)
	s.handle(mux, routeRateLimit, routeRateLimit, s.rateLimit)
	s.handle(mux, "GET /user", "GET /user", s.authUser)
	s.handle(mux, "GET /user/repos", "GET /user/repos", s.authUserRepos)
	s.handle(mux, "GET /user/orgs", "GET /user/orgs", s.authUserOrgs)
	s.handle(mux, "GET /users/{user}", "GET /users/{user}", s.getUser)
	s.handle(mux, "GET /users/{user}/repos", "GET /users/{user}/repos", s.userRepos)
	s.handle(mux, "GET /user/{id}/repos", "GET /users/{user}/repos", s.userRepos)
	s.handle(mux, "GET /orgs/{org}", "GET /orgs/{org}", s.getOrg)
	s.handle(mux, "GET /orgs/{org}/repos", "GET /orgs/{org}/repos", s.orgRepos)
	s.handle(mux, "GET /organizations/{id}/repos", "GET /orgs/{org}/repos", s.orgRepos)
	s.handle(mux, routeSearchIssues, routeSearchIssues, s.searchIssues)

	// Metadata endpoints of a repository.
	s.repoRoute(mux, "", s.getRepo, false)
	s.repoRoute(mux, "/branches", s.listBranches, false)
	s.repoRoute(mux, "/branches/{branch...}", s.getBranch, false)
	s.repoRoute(mux, "/tags", s.listTags, false)
	s.repoRoute(mux, "/commits", s.listCommits, false)
	s.repoRoute(mux, "/pulls", s.listPulls, true)
	s.repoRoute(mux, "/pulls/{number}", s.getPull, true)
	s.repoRoute(mux, "/actions/runs", s.listRuns, false)
	s.repoRoute(mux, "/deployments", s.listDeployments, false)
	s.repoRoute(mux, "/deployments/{deployment}/statuses", s.listDeploymentStatuses, false)

	// Endpoints that can return code or diffs: answered plausibly, marked
	// Forbidden.
	s.repoRoute(mux, "/commits/{ref}", s.getCommit, false)
	s.repoRoute(mux, "/pulls/{number}/files", s.pullFiles, false)
	s.repoRoute(mux, "/contents/{path...}", s.contents, false)
	s.repoRoute(mux, "/readme", s.contents, false)
	s.repoRoute(mux, "/git/trees/{sha}", s.gitTree, false)
	s.repoRoute(mux, "/git/blobs/{sha}", s.contents, false)
	s.repoRoute(mux, "/compare/{basehead...}", s.compare, false)
	s.repoRoute(mux, "/tarball/{ref...}", s.archive, false)
	s.repoRoute(mux, "/zipball/{ref...}", s.archive, false)
	s.repoRoute(mux, "/actions/runs/{run}/logs", s.archive, false)
	s.repoRoute(mux, "/actions/runs/{run}/artifacts", s.ciForbidden, false)
	s.repoRoute(mux, "/actions/runs/{run}/jobs", s.ciForbidden, false)
	s.repoRoute(mux, "/actions/jobs/{job}/logs", s.ciForbidden, false)

	s.appRoutes(mux)
	s.handle(mux, "/", "", s.other)
	return mux
}

// repoRoute registers suffix under /repos/{owner}/{repo} and under
// /repositories/{id}, both recorded as the /repos form.
func (s *Server) repoRoute(mux *http.ServeMux, suffix string, fn repoHandlerFunc, withPulls bool) {
	route := "GET /repos/{owner}/{repo}" + suffix
	h := func(c *call) response { return s.withRepo(c, fn, withPulls) }
	s.handle(mux, route, route, h)
	s.handle(mux, "GET /repositories/{id}"+suffix, route, h)
}

// withRepo resolves the repository of c: by id, by current name, or by a
// former name (301 to /repositories/{id}, as GitHub redirects renamed and
// transferred repositories).
func (s *Server) withRepo(c *call, fn repoHandlerFunc, withPulls bool) response {
	s.stateMu.RLock()
	var st *repoState
	if idStr := c.r.PathValue("id"); idStr != "" {
		if id, err := strconv.ParseInt(idStr, 10, 64); err == nil {
			st = s.repos[id]
		}
	} else {
		owner, name := c.r.PathValue("owner"), c.r.PathValue("repo")
		key := fullKey(owner, name)
		if id, ok := s.byName[key]; ok {
			st = s.repos[id]
		} else if id, ok := s.moved[key]; ok {
			s.stateMu.RUnlock()
			return s.redirect(c, id)
		}
	}
	if st == nil || !s.visibleTo(c, st.repo.ID, st.repo.Owner) {
		s.stateMu.RUnlock()
		return notFound()
	}
	snap := st.snapshot(withPulls)
	s.stateMu.RUnlock()
	resp := fn(c, &snap)
	return resp
}

// redirect answers a request for a former repository name.
func (s *Server) redirect(c *call, id int64) response {
	// /repos/{owner}/{repo}/rest → /repositories/{id}/rest
	parts := strings.SplitN(c.r.URL.EscapedPath(), "/", 5)
	rest := ""
	if len(parts) == 5 {
		rest = "/" + parts[4]
	}
	loc := c.base + "/repositories/" + strconv.FormatInt(id, 10) + rest
	if c.r.URL.RawQuery != "" {
		loc += "?" + c.r.URL.RawQuery
	}
	resp := fakeserver.JSON(http.StatusMovedPermanently, struct {
		Message          string `json:"message"`
		URL              string `json:"url"`
		DocumentationURL string `json:"documentation_url"`
	}{"Moved Permanently", loc, "https://docs.github.com/v3/#http-redirects"})
	resp.Header = http.Header{"Location": {loc}}
	return resp
}

// repoListBase is where GitHub points a repository's Link headers.
func repoListBase(c *call, snap *repoSnapshot, suffix string) string {
	return c.base + "/repositories/" + strconv.FormatInt(snap.repo.ID, 10) + suffix
}

func (snap *repoSnapshot) info() repoInfo {
	return repoInfo{Repo: snap.repo, createdAt: snap.createdAt, updatedAt: snap.updatedAt, pushedAt: snap.pushedAt}
}
