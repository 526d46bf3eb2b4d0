package indexer

import (
	"fmt"

	"github.com/jiralinkd/jiralinkd/indexer/keys"
	"github.com/jiralinkd/jiralinkd/indexer/state"
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
