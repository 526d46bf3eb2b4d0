package admin

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

type dropsBackend struct {
	*fakeBackend
	drops map[string][]state.RouteDrop
}

func (d *dropsBackend) RouteDrops(issue string) ([]state.RouteDrop, error) {
	return d.drops[issue], nil
}

func TestExplainShowsRouteDrops(t *testing.T) {
	b := &dropsBackend{fakeBackend: newFakeBackend(), drops: map[string][]state.RouteDrop{"OPS-5": {{
		Issue: "OPS-5", GlobalID: "jiralinkd/github/77/commit/abc", Kind: "commit", Repo: "github/acme/api",
		Title: "abc1234 OPS-5: rotate", URL: "https://github.com/acme/api/commit/abc", Reason: "project OPS is not in routes[0].projects [ABC]",
		At: testNow}}}}
	h := newHarness(t, b, Options{Token: testToken})
	r := h.do(t, req{method: "GET", path: "/api/v1/issues/OPS-5", bearer: testToken})
	var e Explanation
	if err := json.Unmarshal([]byte(r.body), &e); err != nil || len(e.DroppedByRoute) != 1 || e.DroppedByRoute[0].Reason == "" {
		t.Fatalf("api: %v %s", err, r.body)
	}
	r = h.do(t, req{method: "GET", path: "/issues?key=ops-5", bearer: testToken})
	for _, want := range []string{"Not linked: dropped by a route", "project OPS is not in routes[0].projects [ABC]", "abc1234 OPS-5: rotate"} {
		if !strings.Contains(r.body, want) {
			t.Errorf("explain page lacks %q", want)
		}
	}
	// An issue with links and no drops has no such section, and its JSON
	// no dropped_by_route key.
	r = h.do(t, req{method: "GET", path: "/api/v1/issues/ABC-1", bearer: testToken})
	if strings.Contains(r.body, "dropped_by_route") {
		t.Errorf("empty drops in JSON: %s", r.body)
	}
}
