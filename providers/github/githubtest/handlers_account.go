package githubtest

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
)

// allRepos snapshots every repository's encoding inputs.
func (s *Server) allRepos() []repoInfo {
	s.stateMu.RLock()
	defer s.stateMu.RUnlock()
	out := make([]repoInfo, 0, len(s.repos))
	for _, st := range s.repos {
		out = append(out, repoInfo{Repo: st.repo, createdAt: st.createdAt, updatedAt: st.updatedAt, pushedAt: st.pushedAt})
	}
	return out
}

// owners maps every known account (lower-case login) to its login as
// spelled and whether it is an organization.
func (s *Server) owners() map[string]owner {
	out := map[string]owner{strings.ToLower(s.login): {login: s.login}}
	for _, r := range s.allRepos() {
		out[strings.ToLower(r.Owner)] = owner{login: r.Owner, org: r.OwnerIsOrg}
	}
	s.stateMu.RLock()
	for k, v := range s.orgs {
		out[k] = owner{login: v, org: true}
	}
	s.stateMu.RUnlock()
	return out
}

type owner struct {
	login string
	org   bool
}

// ownerFromPath finds the account of {user}, {org} or, in the id-based
// forms GitHub uses in Link headers, {id}.
func (s *Server) ownerFromPath(c *call, key string) (owner, bool) {
	all := s.owners()
	if idStr := c.r.PathValue("id"); idStr != "" {
		id, err := strconv.ParseInt(idStr, 10, 64)
		if err != nil {
			return owner{}, false
		}
		for _, o := range all {
			if s.userID(o.login) == id {
				return o, true
			}
		}
		return owner{}, false
	}
	o, ok := all[strings.ToLower(c.r.PathValue(key))]
	return o, ok
}

func (s *Server) root(c *call) response {
	b := c.base
	return fakeserver.JSON(http.StatusOK, map[string]string{
		"current_user_url":                     b + "/user",
		"rate_limit_url":                       b + "/rate_limit",
		"repository_url":                       b + "/repos/{owner}/{repo}",
		"organization_url":                     b + "/orgs/{org}",
		"organization_repositories_url":        b + "/orgs/{org}/repos{?type,page,per_page,sort}",
		"current_user_repositories_url":        b + "/user/repos{?type,page,per_page,sort}",
		"user_url":                             b + "/users/{user}",
		"user_repositories_url":                b + "/users/{user}/repos{?type,page,per_page,sort}",
		"user_organizations_url":               b + "/user/orgs",
		"current_user_authorizations_html_url": s.web + "/settings/connections/applications{/client_id}",
	})
}

func (s *Server) meta(c *call) response {
	m := map[string]any{"verifiable_password_authentication": false}
	if s.prefix != "" {
		m["installed_version"] = "3.13.0"
	}
	return fakeserver.JSON(http.StatusOK, m)
}

// rateLimit serves GET /rate_limit, which costs nothing.
func (s *Server) rateLimit(c *call) response {
	s.mu.Lock()
	b := s.budgetOf(c)
	b.roll(s.now())
	core := rateJSON{Limit: b.limit, Used: b.used, Remaining: max(0, b.limit-b.used), Reset: b.resetAt.Unix()}
	s.search.roll(s.now())
	search := rateJSON{Limit: s.search.limit, Used: s.search.used, Remaining: max(0, s.search.limit-s.search.used), Reset: s.search.resetAt.Unix()}
	s.mu.Unlock()
	other := func(limit int) rateJSON {
		return rateJSON{Limit: limit, Remaining: limit, Reset: s.now().Add(time.Hour).Unix()}
	}
	return fakeserver.JSON(http.StatusOK, struct {
		Resources map[string]rateJSON `json:"resources"`
		Rate      rateJSON            `json:"rate"`
	}{
		Resources: map[string]rateJSON{
			"core":                 core,
			"search":               search,
			"graphql":              other(5000),
			"integration_manifest": other(5000),
			"code_scanning_upload": other(500),
		},
		Rate: core,
	})
}

type rateJSON struct {
	Limit     int   `json:"limit"`
	Remaining int   `json:"remaining"`
	Reset     int64 `json:"reset"`
	Used      int   `json:"used"`
}

func (s *Server) authUser(c *call) response {
	n := 0
	for _, r := range s.allRepos() {
		if strings.EqualFold(r.Owner, s.login) && !r.Private {
			n++
		}
	}
	return fakeserver.JSON(http.StatusOK, s.fullUser(c, s.login, n))
}

func (s *Server) getUser(c *call) response {
	o, ok := s.ownerFromPath(c, "user")
	if !ok {
		return notFound()
	}
	if o.org {
		u := s.fullUser(c, o.login, 0)
		u.Type = "Organization"
		return fakeserver.JSON(http.StatusOK, u)
	}
	return fakeserver.JSON(http.StatusOK, s.fullUser(c, o.login, 0))
}

func (s *Server) getOrg(c *call) response {
	o, ok := s.ownerFromPath(c, "org")
	if !ok || !o.org {
		return notFound()
	}
	n := 0
	for _, r := range s.allRepos() {
		if strings.EqualFold(r.Owner, o.login) && !r.Private {
			n++
		}
	}
	return fakeserver.JSON(http.StatusOK, s.org(c, o.login, n))
}

func (s *Server) authUserOrgs(c *call) response {
	var orgs []orgJSON
	for _, o := range s.owners() {
		if o.org {
			orgs = append(orgs, s.org(c, o.login, 0))
		}
	}
	slices.SortFunc(orgs, func(a, b orgJSON) int { return cmp.Compare(a.ID, b.ID) })
	page, link := paginate(c, orgs, c.base+"/user/orgs")
	return listResponse(page, link)
}

func (s *Server) orgRepos(c *call) response {
	o, ok := s.ownerFromPath(c, "org")
	if !ok || !o.org {
		return notFound()
	}
	base := c.base + "/organizations/" + strconv.FormatInt(s.userID(o.login), 10) + "/repos"
	return s.repoList(c, func(r repoInfo) bool { return strings.EqualFold(r.Owner, o.login) && s.visibleTo(c, r.ID, r.Owner) }, base)
}

func (s *Server) userRepos(c *call) response {
	o, ok := s.ownerFromPath(c, "user")
	if !ok {
		return notFound()
	}
	base := c.base + "/user/" + strconv.FormatInt(s.userID(o.login), 10) + "/repos"
	return s.repoList(c, func(r repoInfo) bool { return strings.EqualFold(r.Owner, o.login) }, base)
}

// authUserRepos lists every repository: the token sees them all.
func (s *Server) authUserRepos(c *call) response {
	return s.repoList(c, func(repoInfo) bool { return true }, c.base+"/user/repos")
}

// repoList filters by type/visibility, sorts by sort (full_name by
// default; created, updated, pushed) and direction (asc for full_name,
// else desc, by default) and paginates.
func (s *Server) repoList(c *call, keep func(repoInfo) bool, linkBase string) response {
	q := c.r.URL.Query()
	typ := cmp.Or(q.Get("visibility"), q.Get("type"), "all")
	var repos []repoInfo
	for _, r := range s.allRepos() {
		if !keep(r) {
			continue
		}
		switch typ {
		case "public":
			if r.Private {
				continue
			}
		case "private":
			if !r.Private {
				continue
			}
		case "forks":
			continue // the fake has no forks
		}
		repos = append(repos, r)
	}
	sortBy := cmp.Or(q.Get("sort"), "full_name")
	desc := sortBy != "full_name"
	switch q.Get("direction") {
	case "asc":
		desc = false
	case "desc":
		desc = true
	}
	slices.SortFunc(repos, func(a, b repoInfo) int {
		var r int
		switch sortBy {
		case "created":
			r = a.createdAt.Compare(b.createdAt)
		case "updated":
			r = a.updatedAt.Compare(b.updatedAt)
		case "pushed":
			r = a.pushedAt.Compare(b.pushedAt)
		}
		r = cmp.Or(r,
			strings.Compare(strings.ToLower(a.Owner+"/"+a.Name), strings.ToLower(b.Owner+"/"+b.Name)),
			cmp.Compare(a.ID, b.ID))
		if desc {
			return -r
		}
		return r
	})
	page, link := paginate(c, repos, linkBase)
	items := make([]repoJSON, 0, len(page))
	for _, r := range page {
		items = append(items, s.repoJSON(c, r, false))
	}
	return listResponse(items, link)
}
