package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/keys"
	"github.com/jiralinkd/jiralinkd/indexer/smartcommit"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore"
	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore/pgtest"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// migrateStack is a fake GitHub serving the ZooKeeper corpus and a fake
// Jira, with an indexer built on whichever store a test passes.
type migrateStack struct {
	gh   *githubtest.Server
	jira *jiratest.Server
	tgt  indexer.Target
	jc   *jiraclient.Client
	m    *keys.Matcher
}

func newMigrateStack(t *testing.T) *migrateStack {
	t.Helper()
	hist, err := corpus.ZooKeeper()
	if err != nil {
		t.Fatal(err)
	}
	s := &migrateStack{}
	s.gh = githubtest.Start(t, githubtest.Options{Token: ghToken, RateLimit: 1_000_000})
	s.gh.AddCorpusRepo("apache", "zookeeper", 1001, hist)
	s.jira = jiratest.Start(t, jiratest.Options{Token: jiraToken, IssueExists: jiratest.DemoIssues})
	noSleep := func(context.Context, time.Duration) error { return nil }
	gc, err := github.New(github.Options{Name: "github", BaseURL: s.gh.URL(), Token: ghToken, Retry: httpx.RetryOptions{Sleep: noSleep}})
	if err != nil {
		t.Fatal(err)
	}
	s.tgt = indexer.Target{Name: "github", Type: providers.TypeGitHub, Source: gc, Repos: []string{"apache/zookeeper"}}
	if s.jc, err = jiraclient.New(jiraclient.Options{BaseURL: s.jira.URL(), Auth: jiraclient.Auth{Token: jiraToken}, Retry: httpx.RetryOptions{Sleep: noSleep}}); err != nil {
		t.Fatal(err)
	}
	if s.m, err = keys.NewMatcher("", true); err != nil {
		t.Fatal(err)
	}
	return s
}

// sync runs one pass of the indexer on store and fails the test if a repo
// failed.
func (s *migrateStack) sync(t *testing.T, store indexer.Store) indexer.Report {
	t.Helper()
	ix, err := indexer.New(indexer.Options{Store: store, Jira: s.jc, Matcher: s.m})
	if err != nil {
		t.Fatal(err)
	}
	rep := ix.Sync(context.Background(), s.tgt, "")
	if rep.Err != nil {
		t.Fatalf("pass failed: %v", rep.Err)
	}
	for _, r := range rep.Repos {
		if r.Err != nil {
			t.Fatalf("repo %s failed: %v", r.Repo, r.Err)
		}
	}
	return rep
}

// addEverything puts into a bbolt store one or more items of every kind
// a sync of the corpus does not write: an unfinished walk, the webhook
// queue, the smart-commit ledger and pending commits, CI state, secret
// scanning state, route drops, discovery and health.
func addEverything(t *testing.T, s *boltstore.Store) {
	t.Helper()
	at := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	k := state.RepoKey{Provider: "github", ID: 2002}
	sha := func(c string) string { return strings.Repeat(c, 40) }
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	walkSt := state.RepoState{Key: k, Repo: providers.Repo{ID: 2002, FullName: "acme/walking"}, Status: state.RepoPending,
		Walks: map[string]state.WalkCheckpoint{"main": {}}}
	must(s.CheckpointWalk(walkSt, "main", []state.Commit{state.NewCommit(sha("c"), []string{sha("b")}), state.NewCommit(sha("b"), []string{sha("a")})}))
	must(s.CheckpointWalk(walkSt, "main", []state.Commit{state.NewCommit(sha("a"), nil)}))
	must(s.PutDiscovery("github", "org:acme", state.Discovery{Repos: []providers.Repo{{ID: 2002, FullName: "acme/walking"}}}))
	for i, id := range []string{"d-1", "", "d-2"} {
		_, _, err := s.Enqueue(state.Delivery{Provider: "github", ID: id, Event: providers.Event{Kind: providers.EventPush, Action: "push",
			Repo: providers.Repo{ID: 1001, FullName: "apache/zookeeper"}}, ReceivedAt: at.Add(time.Duration(i) * time.Second)}, time.Hour)
		must(err)
	}
	_, _, err := s.Enqueue(state.Delivery{Provider: "gitlab", ID: "acked", ReceivedAt: at}, time.Hour)
	must(err)
	pend, _ := s.Pending(0)
	must(s.Ack(pend[len(pend)-1].Seq)) // its id is remembered, the delivery gone
	must(s.UpdateHealth("github", func(h *state.Health) { h.State = state.HealthOK; h.LastPass = at; h.Repos = 1 }))
	must(s.Ledger().Put(smartcommit.Record{ID: "c1/0", Issue: "ZOOKEEPER-1", Command: "#comment hi", State: smartcommit.StatePending},
		smartcommit.Record{ID: "c1/1", Issue: "ZOOKEEPER-2", Command: "#time 1h", State: smartcommit.StateFailed, Error: "no worklog permission"}))
	must(s.AddSmartPending(k, []state.SmartPending{{SHA: sha("e"), Message: "ZOOKEEPER-3 #comment later", When: at},
		{SHA: sha("f"), Message: "ZOOKEEPER-4 #comment same time", When: at}, {SHA: sha("d"), Message: "older", When: at.Add(-time.Hour)}}))
	ci := state.CIState{Key: k, RunList: providers.ListState{ETags: []string{`"r"`}}, RunWatermark: at,
		Environments: map[string]state.EnvCursor{"production": {Successes: []state.EnvDeployment{{ID: 7, SHA: sha("a"), At: at}}}},
		Workflows:    map[string]state.EnvCursor{"77\x00main": {Successes: []state.EnvDeployment{{ID: 9, SHA: sha("b"), At: at}}}}}
	must(s.PutCI(ci, []state.CIEntry{
		{ID: state.CIEntryID{Kind: state.CIBuild, Name: "77", Issue: "ZOOKEEPER-1"}, SourceID: 812, Status: providers.CISuccess, SHA: sha("a"), CreatedAt: at},
		{ID: state.CIEntryID{Kind: state.CIDeployment, Name: "production", Issue: "ZOOKEEPER-1"}, SourceID: 7, Status: providers.CISuccess, SHA: sha("a"), CreatedAt: at}}))
	_, err = s.FindingSalt()
	must(err)
	f := state.Finding{Project: "ZOOKEEPER", Issue: "ZOOKEEPER-5", Field: "comment", CommentID: "100", Rule: "aws-access-token", Fingerprint: "fp", Preview: "AKIA…MPLE"}
	f.ID = state.FindingID(f.Issue, f.Location(), f.Fingerprint)
	g := state.Finding{Project: "ZOOKEEPER", Issue: "ZOOKEEPER-5", Field: "description", Rule: "github-pat", Fingerprint: "fp2", Preview: "ghp_…abcd"}
	g.ID = state.FindingID(g.Issue, g.Location(), g.Fingerprint)
	_, err = s.PutIssueFindings("ZOOKEEPER-5", []state.Finding{f, g}, true, at)
	must(err)
	_, err = s.PutIssueFindings("ZOOKEEPER-5", []state.Finding{f}, true, at.Add(time.Hour)) // g resolved
	must(err)
	must(s.PutScanCursor(state.ScanCursor{Project: "ZOOKEEPER", LastIssueNum: 5, Scanned: 5, Total: 9, Watermark: at}))
	must(s.PutFindingActions(state.FindingAction{ID: state.FindingActionID(f.ID, "comment"), FindingID: f.ID, Issue: f.Issue, Kind: "comment",
		State: state.ActionDone, Attempts: 1, JiraID: "10100", Created: at, Updated: at}))
	must(s.PutRouteDrops([]state.RouteDrop{{Issue: "OPS-1", GlobalID: "github-commit-2002-" + sha("a"), Kind: "commit", Repo: "github/acme/walking",
		Reason: "route acme/* allows ZOOKEEPER only", At: at}}))
}

func fileSum(t *testing.T, path string) [32]byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return sha256.Sum256(b)
}

// TestStateMigrate moves a real ZooKeeper state from bbolt to PostgreSQL:
// every item arrives, the file is untouched, a second run copies nothing,
// and a sync on the PostgreSQL state is idle (no history listed, no Jira
// write): no new backfill.
func TestStateMigrate(t *testing.T) {
	dsn := pgtest.Start(t)
	st := newMigrateStack(t)
	dir := t.TempDir()
	path := filepath.Join(dir, "state.db")
	bolt, err := boltstore.Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	rep := st.sync(t, bolt)
	if rep.Repos[0].LinksWritten < 4000 {
		t.Fatalf("the corpus sync wrote %d links", rep.Repos[0].LinksWritten)
	}
	addEverything(t, bolt)
	config := writeSyncConfig(t, dir, "config.yaml", path, st.jira.URL(), st.gh.URL()+"/")
	env := func(k string) string {
		switch k {
		case "GH_TOKEN":
			return ghToken
		case "JIRA_TOKEN":
			return jiraToken
		case "TARGET_DSN":
			return dsn
		}
		return ""
	}
	migrate := func() (int, string, string) {
		var out, errOut bytes.Buffer
		code := cli(context.Background(), []string{"state", "migrate", "--to", "postgres", "--dsn-env", "TARGET_DSN", "--config", config}, &out, &errOut, env)
		return code, out.String(), errOut.String()
	}

	// A daemon holding the file: refused, nothing copied.
	if code, out, errOut := migrate(); code != exitFailed || !strings.Contains(errOut, "stop it first") {
		t.Fatalf("migrate while the file is open: exit %d\n%s%s", code, out, errOut)
	}
	if err := bolt.Close(); err != nil {
		t.Fatal(err)
	}
	before := fileSum(t, path)

	start := time.Now()
	code, out, errOut := migrate()
	if code != exitOK {
		t.Fatalf("migrate: exit %d\n%s%s", code, out, errOut)
	}
	t.Logf("migrated the ZooKeeper state in %s:\n%s", time.Since(start).Round(time.Millisecond), out)
	if strings.Contains(out+errOut, dsn) {
		t.Error("the output shows the DSN")
	}
	if fileSum(t, path) != before {
		t.Error("the migration changed the bbolt file")
	}

	src, err := boltstore.OpenReadOnly(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	ctx := context.Background()
	pg, err := pgstore.Open(ctx, dsn, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	compareStates(t, src, pg)
	if n, _ := pg.QueueDepth(); n != 3 {
		t.Errorf("queue depth after the migration = %d, want 3", n)
	}

	// Again: nothing copied, nothing changed (and nothing differs: that
	// would fail the run).
	code, out2, errOut := migrate()
	if code != exitOK || !strings.Contains(out2, "already up to date") {
		t.Fatalf("second migrate: exit %d\n%s%s", code, out2, errOut)
	}
	compareStates(t, src, pg)
	if n, _ := pg.QueueDepth(); n != 3 {
		t.Errorf("queue depth after the second migration = %d, want 3 (deliveries copied twice?)", n)
	}
	if fileSum(t, path) != before {
		t.Error("the second migration changed the bbolt file")
	}

	// A sync on PostgreSQL: the cursors came along, so only conditional
	// requests answered 304 and nothing is written to Jira.
	st.gh.ResetRequests()
	st.jira.ResetCalls()
	st.sync(t, pg)
	reqs := st.gh.Requests()
	for _, r := range reqs {
		if strings.HasPrefix(r.Path, "/repos/acme/walking") {
			continue // addEverything's repo, known only to the state: gone from GitHub
		}
		if r.Counted || r.Status != 304 {
			t.Errorf("sync after the migration: %s %s?%s → %d (counted %v); want only 304s", r.Method, r.Path, r.RawQuery, r.Status, r.Counted)
		}
	}
	if c := st.jira.Calls(); c.Writes != 0 {
		t.Errorf("sync after the migration wrote %d times to Jira", c.Writes)
	}
	t.Logf("sync on the migrated state: %d GitHub requests; %d Jira calls, no write", len(reqs), st.jira.Calls().Total)

	// The PostgreSQL state moved on (the sync recorded its pass and
	// forgot acme/walking, gone from GitHub): a late third run copies
	// nothing rather than bring the file's older state back.
	moved, err := pg.Repos()
	if err != nil {
		t.Fatal(err)
	}
	code, out3, errOut := migrate()
	if code != exitFailed || !strings.Contains(errOut, "moved on") || !strings.Contains(errOut, "nothing copied") {
		t.Fatalf("third migrate: exit %d\n%s%s", code, out3, errOut)
	}
	after, err := pg.Repos()
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(moved, after) {
		t.Errorf("a late migrate changed the PostgreSQL repo states:\nbefore %+v\nafter  %+v", moved, after)
	}
	t.Logf("third run, after a sync on PostgreSQL:\n%s", out3)
}

// compareStates checks that every item of the bbolt state is in the
// PostgreSQL state, as read through the backends' common interfaces (and
// the tables, for what they do not expose).
func compareStates(t *testing.T, src *boltstore.Store, dst *pgstore.Store) {
	t.Helper()
	ctx := context.Background()
	eq := func(what string, want, got any) {
		t.Helper()
		if !reflect.DeepEqual(want, got) {
			t.Errorf("%s differ:\nbbolt: %+v\npg:    %+v", what, want, got)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	wr, err := src.Repos()
	must(err)
	gr, err := dst.Repos()
	must(err)
	eq("repos", wr, gr)
	if len(wr) != 2 {
		t.Errorf("%d repos in bbolt, want 2", len(wr))
	}

	n := 0
	must(src.EachDiscovery(func(provider, key string, d state.Discovery) error {
		n++
		got, ok, err := dst.Discovery(provider, key)
		must(err)
		if !ok {
			t.Errorf("discovery %s/%s missing", provider, key)
		}
		eq("discovery "+key, d, got)
		return nil
	}))
	if n == 0 {
		t.Error("no discovery entries compared")
	}

	commits := 0
	must(src.EachCommits(func(k state.RepoKey, cs []state.Commit) error {
		want := map[string][]string{}
		for _, c := range cs {
			want[c.SHA()] = c.Parents()
		}
		got := map[string][]string{}
		rows, err := dst.Pool().Query(ctx, "SELECT sha, parents FROM commits WHERE provider = $1 AND repo_id = $2", k.Provider, k.ID)
		must(err)
		var key []byte
		var parents [][]byte
		_, err = pgx.ForEachRow(rows, []any{&key, &parents}, func() error {
			ps := []string{}
			for _, p := range parents {
				ps = append(ps, state.SHAString(p))
			}
			got[state.SHAString(key)] = ps
			return nil
		})
		must(err)
		for sha, ps := range want {
			if ps == nil {
				want[sha] = []string{}
			}
		}
		eq("commits of "+k.String(), want, got)
		commits += len(cs)
		return nil
	}))
	if commits < 1000 {
		t.Errorf("only %d commits compared", commits)
	}

	walks := 0
	must(src.EachPendingWalk(func(k state.RepoKey, branch string, cs []state.Commit) error {
		walks++
		var got []state.Commit
		must(dst.PendingCommits(k, branch, func(c state.Commit) { got = append(got, c) }))
		eq("pending commits of "+k.String()+" "+branch, commitStrings(cs), commitStrings(got))
		return nil
	}))
	if walks != 1 {
		t.Errorf("%d unfinished walks compared, want 1", walks)
	}

	collect := func(s interface {
		RepoLinks(string, func(state.Link, state.LinkRecord) error) error
	}) map[state.Link]state.LinkRecord {
		out := map[state.Link]state.LinkRecord{}
		must(s.RepoLinks("", func(l state.Link, r state.LinkRecord) error { out[l] = r; return nil }))
		return out
	}
	wl := collect(src)
	eq("link records", wl, collect(dst))
	if len(wl) < 4000 {
		t.Errorf("only %d links compared", len(wl))
	}

	var issueKeys []string
	wantIssues := map[string]state.IssueStatus{}
	must(src.EachIssue(func(key string, st state.IssueStatus) error {
		issueKeys = append(issueKeys, key)
		wantIssues[key] = st
		return nil
	}))
	gotIssues, err := dst.Issues(issueKeys)
	must(err)
	eq("issue cache", wantIssues, gotIssues)
	if len(issueKeys) == 0 {
		t.Error("no cached issues compared")
	}

	wh, err := src.Health()
	must(err)
	gh, err := dst.Health()
	must(err)
	eq("health", wh, gh)

	noSeq := func(ds []state.Delivery) []state.Delivery {
		for i := range ds {
			ds[i].Seq = 0
		}
		return ds
	}
	wq, err := src.Pending(0)
	must(err)
	gq, err := dst.Pending(0)
	must(err)
	eq("webhook queue", noSeq(wq), noSeq(gq))

	wd := map[string]int64{}
	must(src.EachDelivery(func(provider, id string, at time.Time) error { wd[provider+"/"+id] = at.UnixNano(); return nil }))
	gd := map[string]int64{}
	rows, err := dst.Pool().Query(ctx, "SELECT provider || '/' || delivery_id, received_ns FROM delivery_ids")
	must(err)
	var id string
	var ns int64
	_, err = pgx.ForEachRow(rows, []any{&id, &ns}, func() error { gd[id] = ns; return nil })
	must(err)
	eq("delivery ids", wd, gd)

	wlr, err := src.Ledger().ByIssue("")
	must(err)
	glr, err := dst.Ledger().ByIssue("")
	must(err)
	eq("smart-commit ledger", wlr, glr)
	wp, err := src.Ledger().Pending()
	must(err)
	gp, err := dst.Ledger().Pending()
	must(err)
	eq("pending smart-commit commands", wp, gp)

	must(src.EachSmartPending(func(k state.RepoKey, ps []state.SmartPending) error {
		got, err := dst.SmartPendingCommits(k)
		must(err)
		eq("pending smart commits of "+k.String(), smartSHAs(ps), smartSHAs(got))
		return nil
	}))

	ciRepos := 0
	must(src.EachCI(func(st state.CIState, ok bool, es []state.CIEntry) error {
		ciRepos++
		got, gok, err := dst.CIState(st.Key)
		must(err)
		if ok != gok {
			t.Errorf("CI state of %s: stored %v in bbolt, %v in pg", st.Key, ok, gok)
		}
		eq("CI state", st, got)
		ids := make([]state.CIEntryID, len(es))
		want := map[state.CIEntryID]state.CIEntry{}
		for i, e := range es {
			ids[i] = e.ID
			want[e.ID] = e
		}
		ge, err := dst.CIEntries(st.Key, ids)
		must(err)
		eq("CI entries", want, ge)
		return nil
	}))
	if ciRepos != 1 {
		t.Errorf("%d repos' CI state compared, want 1", ciRepos)
	}

	ws, err := src.StoredFindingSalt()
	must(err)
	gs, err := dst.FindingSalt()
	must(err)
	if len(ws) == 0 || !bytes.Equal(ws, gs) {
		t.Error("the finding salt was not copied: fingerprints would not match")
	}
	wc, err := src.ScanCursors()
	must(err)
	gc, err := dst.ScanCursors()
	must(err)
	eq("scan cursors", wc, gc)
	wf, err := src.Findings(state.FindingFilter{})
	must(err)
	gf, err := dst.Findings(state.FindingFilter{})
	must(err)
	eq("findings", wf, gf)
	if len(wf) != 2 {
		t.Errorf("%d findings compared, want 2", len(wf))
	}
	wa, err := src.FindingActions("")
	must(err)
	ga, err := dst.FindingActions("")
	must(err)
	eq("finding actions", wa, ga)
	drops := 0
	must(src.EachRouteDrop(func(d state.RouteDrop) error {
		drops++
		got, err := dst.RouteDrops(d.Issue)
		must(err)
		if !slices.ContainsFunc(got, func(g state.RouteDrop) bool { return reflect.DeepEqual(g, d) }) {
			t.Errorf("route drop %+v missing: %+v", d, got)
		}
		return nil
	}))
	if drops != 1 {
		t.Errorf("%d route drops compared, want 1", drops)
	}
}

func commitStrings(cs []state.Commit) []string {
	out := make([]string, len(cs))
	for i, c := range cs {
		out[i] = fmt.Sprintf("%s<%v", c.SHA(), c.Parents())
	}
	return out
}

func smartSHAs(ps []state.SmartPending) []string {
	out := make([]string, len(ps))
	for i, p := range ps {
		out[i] = p.SHA + " " + p.Message
	}
	return out
}

// TestStateMigrateLarge measures the migration of a 200,000-commit state
// (with a link per commit) and of its idempotent second run.
func TestStateMigrateLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("a 200,000-commit state")
	}
	dsn := pgtest.Start(t)
	setup := time.Now()
	path := filepath.Join(t.TempDir(), "state.db")
	bolt, err := boltstore.Open(path, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	const n = 200_000
	k := state.RepoKey{Provider: "github", ID: 1}
	commits := make([]state.Commit, 0, n)
	// Links in batches of ascending keys: one bbolt transaction of 200,000
	// random inserts takes minutes.
	var batches []map[state.Link]state.LinkRecord
	nLinks := 0
	sha := func(i int) string { return fmt.Sprintf("%040x", i+1) }
	for i := range n {
		var parents []string
		switch {
		case i == 0:
		case i%50 == 0 && i > 100: // a merge
			parents = []string{sha(i - 1), sha(i - 77)}
		default:
			parents = []string{sha(i - 1)}
		}
		commits = append(commits, state.NewCommit(sha(i), parents))
		if i%2000 == 0 {
			batches = append(batches, map[state.Link]state.LinkRecord{})
		}
		nLinks++
		batches[len(batches)-1][state.Link{GlobalID: "github-commit-1-" + sha(i), Issue: fmt.Sprintf("BIG-%d", i%5000+1)}] = state.LinkRecord{Hash: uint64(i) * 7919,
			Info: state.LinkInfo{Kind: "commit", Repo: "acme/big", Title: "BIG-1 commit " + sha(i)[:7]}}
	}
	st := state.RepoState{Key: k, Repo: providers.Repo{ID: 1, FullName: "acme/big"}, Branches: map[string]string{"main": sha(n - 1)}, Status: state.RepoOK}
	if err := bolt.AdvanceBranch(st, "main", commits); err != nil {
		t.Fatal(err)
	}
	for _, b := range batches {
		if err := bolt.PutLinks(b); err != nil {
			t.Fatal(err)
		}
	}
	bolt.Close()
	t.Logf("built the bbolt state in %s", time.Since(setup).Round(time.Millisecond))
	env := func(k string) string {
		if k == "TARGET_DSN" {
			return dsn
		}
		return ""
	}
	for _, run := range []string{"first", "second"} {
		var out, errOut bytes.Buffer
		start := time.Now()
		code := cli(context.Background(), []string{"state", "migrate", "--to", "postgres", "--dsn-env", "TARGET_DSN", "--from", path}, &out, &errOut, env)
		if code != exitOK {
			t.Fatalf("%s migrate: exit %d\n%s%s", run, code, out.String(), errOut.String())
		}
		t.Logf("%s run: %d commits and %d links in %s\n%s", run, n, nLinks, time.Since(start).Round(time.Millisecond), out.String())
		if run == "second" && !strings.Contains(out.String(), "already up to date") {
			t.Errorf("second run copied something:\n%s", out.String())
		}
	}
	pg, err := pgstore.Open(context.Background(), dsn, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	if c, _ := pg.CommitCount(k); c != n {
		t.Errorf("%d commits in PostgreSQL, want %d", c, n)
	}
	if ok, err := pg.IsAncestor(k, sha(0), []string{sha(n - 1)}); err != nil || !ok {
		t.Errorf("root not an ancestor of the head after the migration: %v %v", ok, err)
	}
}

// TestStateMigrateUsage: the target, the DSN variable and the state file
// are checked before anything is opened; the DSN is never printed.
func TestStateMigrateUsage(t *testing.T) {
	dir := t.TempDir()
	missing := filepath.Join(dir, "missing.db")
	existing := filepath.Join(dir, "state.db")
	b, err := boltstore.Open(existing, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	b.Close()
	env := func(k string) string {
		if k == "DSN" {
			return "postgres://u:secret-pw@127.0.0.1:1/db"
		}
		return ""
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"state", "migrate", "--help"}, exitOK, "Copy the bbolt state file"},
		{[]string{"state"}, exitConfig, "want a subcommand: migrate"},
		{[]string{"state", "migrate", "--to", "mysql", "--dsn-env", "DSN"}, exitConfig, "only postgres"},
		{[]string{"state", "migrate", "--to", "postgres"}, exitConfig, "--dsn-env is required"},
		{[]string{"state", "migrate", "--to", "postgres", "--dsn-env", "UNSET"}, exitConfig, "UNSET is empty or unset"},
		{[]string{"state", "migrate", "--to", "postgres", "--dsn-env", "DSN", "--from", missing}, exitFailed, "missing.db"},
		{[]string{"state", "migrate", "--to", "postgres", "--dsn-env", "DSN", "--from", existing}, exitFailed, "pgstore: connect"},
	} {
		var out, errOut bytes.Buffer
		code := cli(context.Background(), tc.args, &out, &errOut, env)
		if code != tc.code || !strings.Contains(out.String()+errOut.String(), tc.want) {
			t.Errorf("%q: exit %d, want %d with %q\n%s%s", tc.args, code, tc.code, tc.want, out.String(), errOut.String())
		}
		if strings.Contains(out.String()+errOut.String(), "secret-pw") {
			t.Errorf("%q printed the DSN", tc.args)
		}
	}
}
