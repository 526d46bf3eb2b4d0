package config

import (
	"fmt"
	"slices"
	"strings"
)

// rawRoute is one entry of providers[].routes.
type rawRoute struct {
	Repos    []string `mapstructure:"repos"`
	Projects []string `mapstructure:"projects"`
}

// Link author modes (providers[].link_author).
const (
	LinkAuthorName  = "name"
	LinkAuthorLogin = "login"
	LinkAuthorNone  = "none"
)

// Route says that repos matching Repos (path.Match globs on the full
// name, case-insensitive) link only to issues of Projects.
type Route struct {
	Repos    []string
	Projects []string
}

// RouteDecision is what the routes say about one repo.
type RouteDecision struct {
	// Restricted is false when no route matched and the default allows:
	// every project is allowed.
	Restricted bool
	// Projects are the allowed projects when Restricted (empty: none).
	Projects []string
	// Route is the index of the matching route, -1 for none.
	Route int
}

// Allows reports whether a key of project may be linked.
func (d RouteDecision) Allows(project string) bool {
	return !d.Restricted || slices.Contains(d.Projects, project)
}

// Reason says why a key of project was dropped, for explain and dry runs.
func (d RouteDecision) Reason(project string) string {
	if d.Route < 0 {
		return fmt.Sprintf("project %s: the repo matches no route and routes_default is deny", project)
	}
	return fmt.Sprintf("project %s is not in routes[%d].projects %v", project, d.Route, d.Projects)
}

// RouteFor returns the routing decision for the repo fullName: the first
// route whose globs match it.
func (p Provider) RouteFor(fullName string) RouteDecision {
	name := strings.ToLower(fullName)
	for i, r := range p.Routes {
		if matchAny(r.Repos, name) {
			return RouteDecision{Restricted: true, Projects: r.Projects, Route: i}
		}
	}
	return RouteDecision{Restricted: p.RoutesDefaultDeny, Route: -1}
}

// buildRouting validates routes, routes_default and link_author.
func buildRouting(pp string, raw *rawProvider, p *Provider, c *collector) {
	for i, r := range raw.Routes {
		rp := fmt.Sprintf("%s.routes[%d]", pp, i)
		if len(r.Repos) == 0 {
			c.check(rp+".repos", "required: globs of the repos this route applies to, e.g. [\"acme/payments-*\"]")
		}
		checkGlobs(rp+".repos", r.Repos, c)
		if len(r.Projects) == 0 {
			c.check(rp+".projects", "required: the Jira project keys these repos may link to")
		}
		for j, key := range r.Projects {
			if !projectKeyRE.MatchString(key) {
				c.check(fmt.Sprintf("%s.projects[%d]", rp, j), fmt.Sprintf("invalid project key %q: must match %s", key, projectKeyRE))
			}
		}
		p.Routes = append(p.Routes, Route{Repos: r.Repos, Projects: r.Projects})
	}
	switch raw.RoutesDefault {
	case "", "allow":
	case "deny":
		p.RoutesDefaultDeny = true
	default:
		c.check(pp+".routes_default", fmt.Sprintf("invalid value %q: want allow or deny", raw.RoutesDefault))
	}
	p.LinkAuthor = raw.LinkAuthor // "" is the default, name
	switch p.LinkAuthor {
	case "", LinkAuthorName, LinkAuthorLogin, LinkAuthorNone:
	default:
		c.check(pp+".link_author", fmt.Sprintf("invalid value %q: want name, login or none", raw.LinkAuthor))
	}
}
