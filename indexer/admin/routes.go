package admin

import (
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// RouteDropSource is implemented by backends that remember the issue keys
// providers' routes kept from being linked.
type RouteDropSource interface {
	RouteDrops(issue string) ([]state.RouteDrop, error)
}

// ExplainedDrop is a mention of the issue that a route kept from being
// linked: the entity that named it and the route's reason.
type ExplainedDrop struct {
	GlobalID string    `json:"global_id"`
	Kind     string    `json:"kind"`
	Repo     string    `json:"repo"`
	Title    string    `json:"title"`
	URL      string    `json:"url"`
	Reason   string    `json:"reason"`
	At       time.Time `json:"at"`
}

// AddDrops adds the recorded route drops of the issue to e.
func (e *Explanation) AddDrops(ds []state.RouteDrop) {
	for _, d := range ds {
		e.DroppedByRoute = append(e.DroppedByRoute, ExplainedDrop{GlobalID: d.GlobalID, Kind: d.Kind, Repo: d.Repo,
			Title: d.Title, URL: d.URL, Reason: d.Reason, At: d.At})
	}
}

// addDrops adds the backend's route drops of e's issue, if it keeps any
// (a read failure is logged, not fatal).
func (s *Server) addDrops(e *Explanation) {
	src, ok := s.b.(RouteDropSource)
	if !ok {
		return
	}
	ds, err := src.RouteDrops(e.Issue)
	if err != nil {
		s.log.Error("admin: read route drops", "issue", e.Issue, "err", err)
		return
	}
	e.AddDrops(ds)
}
