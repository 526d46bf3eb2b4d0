package admin

import (
	"slices"
	"testing"

	"github.com/jiralinkd/jiralinkd/indexer/admin/browsertest"
)

// TestStatusPageInBrowser drives a real chromium through the page over a
// fake backend (see scripts/browser-test/status.mjs for the steps).
func TestStatusPageInBrowser(t *testing.T) {
	b := newFakeBackend()
	h := newHarness(t, b, Options{Token: testToken, Version: "v1.2.3"})
	browsertest.Run(t, browsertest.Options{
		URL: h.ts.URL, Token: testToken, ResyncRepo: "github/acme/web", ExplainKey: "ABC-1",
		ExpectText: []string{
			"version v1.2.3", "github", "gitlab", "*/5 * * * *", "4,990 / 5,000", "paused until 12:10:00",
			"acme/api", "acme/web", "group/sub/tool", "list branches: 403 Forbidden", "3 min ago",
			"Health: degraded", "provider github: 1 of 2 repositories failed", "partly failed",
			"Fix: the token lacks access", "3 failed passes in a row",
			"Backfill", "1,500 of about 6,000 commits walked", "acme/big",
		},
		ExpectBackfill: "25",
	})
	if calls := b.calls(); !slices.Equal(calls, []string{"github acme/web"}) {
		t.Errorf("backend resyncs %q, want one of github acme/web", calls)
	}
}
