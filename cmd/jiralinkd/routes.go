package main

import (
	"fmt"
	"io"

	"github.com/jiralinkd/jiralinkd/config"
	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/admin"
	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// routeOf turns a provider's routes into the indexer's filter; nil when
// the provider restricts nothing.
func routeOf(p config.Provider) indexer.RouteFunc {
	if len(p.Routes) == 0 && !p.RoutesDefaultDeny {
		return nil
	}
	return func(fullName, project string) (bool, string) {
		d := p.RouteFor(fullName)
		if d.Allows(project) {
			return true, ""
		}
		return false, d.Reason(project)
	}
}

// routeDropReader is a state backend that remembers the keys routes
// dropped (state/boltstore does).
type routeDropReader interface {
	RouteDrops(issue string) ([]state.RouteDrop, error)
}

// RouteDrops serves explain on the status page and the API
// (admin.RouteDropSource).
func (b *backend) RouteDrops(issue string) ([]state.RouteDrop, error) {
	return routeDropsOf(b.store, issue)
}

// routeDropsOf reads the drops of an issue if the backend keeps them.
func routeDropsOf(st stateStore, issue string) ([]state.RouteDrop, error) {
	r, ok := st.(routeDropReader)
	if !ok {
		return nil, nil
	}
	return r.RouteDrops(issue)
}

// printDrops lists the mentions of an issue that routes kept from being
// linked.
func printDrops(w io.Writer, ds []admin.ExplainedDrop) {
	if len(ds) == 0 {
		return
	}
	fmt.Fprintf(w, "\nnot linked, dropped by a route (%d):\n", len(ds))
	for _, d := range ds {
		fmt.Fprintf(w, "  %-7s %s  %s\n", oneLine(d.Kind), oneLine(d.Repo), oneLine(d.Title))
		fmt.Fprintf(w, "          %s\n", oneLine(d.Reason))
	}
}
