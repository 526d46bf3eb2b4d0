package indexer

import (
	"fmt"

	"github.com/jiralinkd/jiralinkd/indexer/keys"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

// RouteDropRecorder is implemented by stores that keep the keys routes
// dropped, for explain. Stores without it only log the drops.
type RouteDropRecorder interface {
	PutRouteDrops(ds []state.RouteDrop) error
}

// RouteFunc says whether a repo's keys of project may be linked, and why
// not (Target.Route).
type RouteFunc func(fullName, project string) (ok bool, reason string)

// withRoute restricts the linker to the projects t's routes allow for the
// repo fullName.
func (l *linker) withRoute(t Target, fullName string) *linker {
	if t.Route != nil {
		l.route = func(project string) (bool, string) { return t.Route(fullName, project) }
	}
	return l
}

// routeAllows applies the route to one key of an entity; a dropped key is
// printed (dry run) or logged and remembered for explain.
func (l *linker) routeAllows(e entity, key string) bool {
	if l.route == nil {
		return true
	}
	ok, reason := l.route(keys.ProjectOf(key))
	if ok {
		return true
	}
	if l.ix.opts.DryRun {
		fmt.Fprintf(l.ix.opts.DryRunOut, "drop %s ← %s %s (%s): %s\n", key, e.link.Relationship, e.link.Object.Title, e.link.Object.URL, reason)
	} else {
		l.ix.log.Info("issue key dropped by a route", "issue", key, "repo", e.repo, "kind", e.kind, "reason", reason)
		l.drops = append(l.drops, state.RouteDrop{Issue: key, GlobalID: e.link.GlobalID, Kind: string(e.kind), Repo: e.repo,
			Title: e.link.Object.Title, URL: e.link.Object.URL, Reason: reason, At: l.ix.opts.Now()})
	}
	l.dropped++
	return false
}

// saveDrops stores the drops of a flush, if the store keeps them.
func (l *linker) saveDrops() error {
	ds := l.drops
	l.drops = nil
	if r, ok := l.ix.opts.Store.(RouteDropRecorder); ok && len(ds) > 0 {
		return r.PutRouteDrops(ds)
	}
	return nil
}

// issueAllowed is the route as a test of issue keys, for smart commits;
// nil when the repo is not restricted.
func (l *linker) issueAllowed() func(issue string) bool {
	if l.route == nil {
		return nil
	}
	return func(issue string) bool {
		ok, _ := l.route(keys.ProjectOf(issue))
		return ok
	}
}

// authorOf is how links and smart-commit comments name a commit's author
// under t.LinkAuthor: the name (default, else the login), the login, or
// nobody.
func authorOf(t Target, c providers.Commit) string {
	switch t.LinkAuthor {
	case "login":
		return c.AuthorLogin
	case "none":
		return ""
	}
	return firstNonEmpty(c.AuthorName, c.AuthorLogin)
}
