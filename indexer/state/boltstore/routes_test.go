package boltstore

import (
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// routeDropStore is what routing needs of a backend (indexer.RouteDropRecorder
// and explain's reader); the test takes it so that it can move into the
// shared conformance suite.
type routeDropStore interface {
	PutRouteDrops(ds []state.RouteDrop) error
	RouteDrops(issue string) ([]state.RouteDrop, error)
}

func TestRouteDropStore(t *testing.T) {
	testRouteDropStore(t, func(t *testing.T) routeDropStore { s, _ := open(t); return s })
}

func testRouteDropStore(t *testing.T, newStore func(*testing.T) routeDropStore) {
	s := newStore(t)
	at := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	d := func(issue, gid, reason string) state.RouteDrop {
		return state.RouteDrop{Issue: issue, GlobalID: gid, Kind: "commit", Repo: "github/acme/api", Reason: reason, At: at}
	}
	if ds, err := s.RouteDrops("OPS-1"); err != nil || len(ds) != 0 {
		t.Fatalf("empty: %v %v", ds, err)
	}
	if err := s.PutRouteDrops([]state.RouteDrop{d("OPS-1", "g1", "r1"), d("OPS-1", "g2", "r1"), d("OPS-10", "g1", "r1")}); err != nil {
		t.Fatal(err)
	}
	// The same issue and entity again replaces the record.
	if err := s.PutRouteDrops([]state.RouteDrop{d("OPS-1", "g1", "r2")}); err != nil {
		t.Fatal(err)
	}
	ds, err := s.RouteDrops("ops-1")
	if err != nil || len(ds) != 2 || ds[0].GlobalID != "g1" || ds[0].Reason != "r2" || !ds[0].At.Equal(at) {
		t.Fatalf("OPS-1 drops: %+v %v", ds, err)
	}
	if ds, _ := s.RouteDrops("OPS-10"); len(ds) != 1 {
		t.Errorf("OPS-10 drops: %+v", ds)
	}
}
