package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
)

// scaleLatency is the simulated GitHub round trip of the latency scenarios.
const scaleLatency = 50 * time.Millisecond

// scale prints the "real-world limits" figures: an idle pass over a large
// organisation, a very long history, and backfills behind a slow API. They
// are measurements, not assertions; each line says what it should be
// compared with. Every scenario gets its own fakes on 127.0.0.1 and its own
// directory, so the state file and the fakes' counters hold that scenario
// only. st provides the ZooKeeper history. names selects scenarios by
// name (idle-org, long-history, latency, ci, large-org, jira); none means all.
func scale(ctx context.Context, st *stack, bin string, names []string, out, errw io.Writer) int {
	all := []struct {
		name string
		run  func(ctx context.Context, dir, bin string, out io.Writer) error
	}{
		{"idle-org", scaleIdleOrg},
		{"long-history", scaleLongHistory},
		{"latency", func(ctx context.Context, dir, bin string, out io.Writer) error {
			return scaleLatencyRuns(ctx, dir, bin, st.hist, out)
		}},
		{"ci", func(ctx context.Context, _, bin string, out io.Writer) error { return ciBench(ctx, bin, out) }},
		{"large-org", scaleLargeOrg},
		{"jira", func(ctx context.Context, _, _ string, out io.Writer) error { return scaleJira(ctx, out) }},
	}
	chosen := all[:0:0]
	for _, sc := range all {
		if len(names) == 0 || slices.Contains(names, sc.name) {
			chosen = append(chosen, sc)
		}
	}
	if len(chosen) == 0 {
		fmt.Fprintf(errw, "devstack: scale: no scenario named %v (idle-org, long-history, latency, ci, large-org, jira)\n", names)
		return 2
	}
	root, err := os.MkdirTemp("", "devstack-scale-")
	if err != nil {
		fmt.Fprintf(errw, "devstack: %v\n", err)
		return 1
	}
	defer os.RemoveAll(root)
	fmt.Fprintf(out, "jiralinkd scale figures (binary %s, scratch %s)\n", bin, root)
	for _, sc := range chosen {
		if ctx.Err() != nil {
			return 1
		}
		if err := sc.run(ctx, filepath.Join(root, sc.name), bin, out); err != nil {
			fmt.Fprintf(errw, "devstack: scale %s: %v\n", sc.name, err)
			return 1
		}
	}
	return 0
}

// newScaleStack starts a fake GitHub seeded by seed (its handler wrapped by
// wrap, if not nil) and a fake Jira with the demo issues, and writes a
// config in dir with one GitHub provider selecting repos by sel (a YAML line
// such as "orgs: [acme]"). The GitLab fake exists only so that measured can
// reset it; nothing points at it.
func newScaleStack(dir string, seed func(*githubtest.Server), wrap func(http.Handler) http.Handler, sel string) (*stack, error) {
	return newScaleStackClock(dir, nil, seed, wrap, sel)
}

// newScaleStackClock is newScaleStack with the fake GitHub's clock (nil:
// time.Now).
func newScaleStackClock(dir string, now func() time.Time, seed func(*githubtest.Server), wrap func(http.Handler) http.Handler, sel string) (*stack, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, err
	}
	s := &stack{dir: dir}
	s.gh = githubtest.NewServer(githubtest.Options{Token: demoGitHubToken, RateLimit: 10_000_000, Now: now})
	seed(s.gh)
	s.gl = gitlabtest.NewServer(gitlabtest.Options{Token: demoGitLabToken})
	s.jira = jiratest.NewServer(jiratest.Options{Token: demoJiraToken, IssueExists: jiratest.DemoIssues})
	h := s.gh.Handler()
	if wrap != nil {
		h = wrap(h)
	}
	srv, u, err := serve(h)
	if err != nil {
		return nil, err
	}
	s.servers = append(s.servers, srv)
	s.ghURL = u + "/"
	if srv, s.jiraURL, err = serve(s.jira.Handler()); err != nil {
		s.close()
		return nil, err
	}
	s.servers = append(s.servers, srv)
	s.configPath = filepath.Join(dir, "config.yaml")
	cfg := fmt.Sprintf(`state:
  path: %s
log:
  level: warn
jira:
  url: %s
  token_env: DEMO_JIRA_TOKEN
providers:
  - name: github
    type: github
    url: %s
    token_env: DEMO_GITHUB_TOKEN
    max_concurrency: 8
    %s
`, s.statePath(), s.jiraURL, s.ghURL, sel)
	if err := os.WriteFile(s.configPath, []byte(cfg), 0o600); err != nil {
		s.close()
		return nil, err
	}
	return s, nil
}

func (st *stack) statePath() string { return filepath.Join(st.dir, "state.db") }

// syncOK runs one measured sync and fails unless it exits 0.
func (st *stack) syncOK(ctx context.Context, bin, what string) (runStats, error) {
	r, err := st.measured(ctx, bin, "sync")
	if err != nil {
		return r, fmt.Errorf("%s: %w", what, err)
	}
	if r.exit != 0 {
		return r, fmt.Errorf("%s: jiralinkd sync exit %d:\n%s", what, r.exit, indent(r.output))
	}
	return r, nil
}

// tinyHistory is a repository with two commits on main, the second naming
// an issue.
func tinyHistory(i int) *corpus.History {
	b := corpus.NewBuilder()
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC).Add(time.Duration(i) * time.Minute)
	root := b.Commit(nil, fmt.Sprintf("Initial import of service %d", i), at)
	b.Branch("main", b.Commit([]string{root}, fmt.Sprintf("HADOOP-%d: configure service %d", i+1, i), at.Add(time.Hour)))
	return b.Build()
}

// smallHistory is a repository of n commits on main, every fifth naming an
// issue.
func smallHistory(i, n int) *corpus.History {
	b := corpus.NewBuilder()
	at := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	var parents []string
	for j := range n {
		msg := fmt.Sprintf("Service %d: change %d", i, j)
		if j%5 == 0 {
			msg = fmt.Sprintf("HADOOP-%d: service %d change %d", i*1000+j+1, i, j)
		}
		parents = []string{b.Commit(parents, msg, at.Add(time.Duration(j)*time.Minute))}
	}
	b.Branch("main", parents[0])
	return b.Build()
}

func seedOrg(org string, n int, hist func(i int) *corpus.History) func(*githubtest.Server) {
	return func(gh *githubtest.Server) {
		for i := range n {
			gh.AddCorpusRepo(org, fmt.Sprintf("service-%04d", i), int64(100_000+i), hist(i))
		}
	}
}

// scaleIdleOrg is scenario (a): a second pass over 1,000 unchanged repos of
// one organisation must cost only conditional requests.
func scaleIdleOrg(ctx context.Context, dir, bin string, out io.Writer) error {
	const repos = 1000
	s, err := newScaleStack(dir, seedOrg("fleet", repos, tinyHistory), nil, "orgs: [fleet]")
	if err != nil {
		return err
	}
	defer s.close()
	first, err := s.syncOK(ctx, bin, "backfill")
	if err != nil {
		return err
	}
	second, err := s.syncOK(ctx, bin, "idle pass")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n(a) idle pass: %d unchanged repositories in one organisation (2 commits, 1 branch each)\n\n", repos)
	runTable(out, []string{"backfill", "idle pass"}, first, second)
	fmt.Fprintf(out, "\nidle pass: %d GitHub calls (%.1f per repo), %d counted against the rate limit (target 0), %d answered 304, %d Jira writes (target 0), %s\n",
		second.gh.calls, float64(second.gh.calls)/repos, second.gh.counted, second.gh.notModified, second.jiraWrites, second.wall.Round(time.Millisecond))
	if second.gh.counted > 0 {
		fmt.Fprintf(out, "counted calls on the idle pass, by route: %s\n", routeCounts(s.gh.Requests(), func(r githubtest.Request) bool { return r.Counted }))
	}
	return nil
}

// linearHistory is n commits on main, every tenth naming an issue, with
// merges: four times a side line of three old-dated commits forks 25,000
// commits back and is merged, so the walk's frontier has to reach deep.
func linearHistory(n int) *corpus.History {
	b := corpus.NewBuilder()
	at := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	when := func(i int) time.Time { return at.Add(time.Duration(i) * time.Minute) }
	var head, fork string
	var forkAt int
	for i := range n {
		msg := fmt.Sprintf("Refactor the cache layer, step %d", i)
		if i%10 == 0 {
			msg = fmt.Sprintf("HADOOP-%d: change %d", i/10+1, i)
		}
		var parents []string
		if head != "" {
			parents = []string{head}
		}
		head = b.Commit(parents, msg, when(i))
		switch i % 50_000 {
		case 25_000:
			fork, forkAt = head, i
		case 49_999:
			side := fork
			for j := 1; j <= 3; j++ {
				side = b.Commit([]string{side}, fmt.Sprintf("HADOOP-%d: side work %d", 900_000+i+j, j), when(forkAt).Add(time.Duration(j)*time.Second))
			}
			head = b.Commit([]string{head, side}, fmt.Sprintf("Merge branch 'side-%d'", i), when(i).Add(30*time.Second))
		}
	}
	b.Branch("main", head)
	return b.Build()
}

// scaleLongHistory is scenario (b): the backfill of a 200,000-commit
// repository, its memory and its state file.
func scaleLongHistory(ctx context.Context, dir, bin string, out io.Writer) error {
	start := time.Now()
	hist := linearHistory(200_000)
	tip, _ := hist.Branch("main")
	commits := len(hist.Reachable(tip.SHA))
	built := time.Since(start)
	// The time the last commit page was served splits the backfill into
	// the walk and what follows it (recording the walked commits).
	var lastPage atomic.Int64
	s, err := newScaleStack(dir, func(gh *githubtest.Server) { gh.AddCorpusRepo("big", "monolith", 4242, hist) }, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			h.ServeHTTP(w, r)
			if strings.HasSuffix(r.URL.Path, "/commits") {
				lastPage.Store(time.Now().UnixNano())
			}
		})
	}, "repos: [big/monolith]")
	if err != nil {
		return err
	}
	defer s.close()
	started := time.Now()
	first, err := s.syncOK(ctx, bin, "backfill")
	walk := time.Unix(0, lastPage.Load()).Sub(started)
	if err != nil {
		return err
	}
	links := 0
	for _, ls := range s.jira.AllLinks() {
		links += len(ls)
	}
	second, err := s.syncOK(ctx, bin, "idle pass")
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "\n(b) long history: %d commits on one branch (4 merges of old-dated side lines), every tenth naming an issue (history built in %s)\n\n",
		commits, built.Round(time.Millisecond))
	runTable(out, []string{"backfill", "idle pass"}, first, second)
	lower := ceilDiv(commits, 100)
	fmt.Fprintf(out, "\nprovider calls: %d, of which %d commit pages; ⌈%d/100⌉ = %d (%s)\n", first.gh.calls, first.gh.commitPages, commits, lower, ratio(first.gh.commitPages, lower))
	fmt.Fprintf(out, "links written: %d; Jira calls %d (%s over links)\n", links, first.jiraCalls, ratio(first.jiraCalls, links))
	fmt.Fprintf(out, "wall %s (%.0f commits/s), peak RSS %.1f MB (%.0f bytes per commit)\n", first.wall.Round(time.Millisecond), float64(commits)/first.wall.Seconds(),
		float64(first.maxRSSKB)/1024, float64(first.maxRSSKB)*1024/float64(commits))
	fmt.Fprintf(out, "  start → last commit page served (the walk and its link writes): %s; last commit page → exit (recording %d commits, tags, pull requests): %s\n",
		walk.Round(time.Millisecond), commits, (first.wall - walk).Round(time.Millisecond))
	return printStateFile(out, s.statePath(), commits)
}

// printStateFile reports the bbolt file's size, per commit, and how the
// top-level buckets use it.
func printStateFile(out io.Writer, path string, commits int) error {
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "state file: %.1f MB, %.0f bytes per commit\n", float64(fi.Size())/(1<<20), float64(fi.Size())/float64(commits))
	// Read-write, so that bbolt loads the free list (the run is over; no
	// transaction writes).
	st, err := boltstore.Open(path, time.Second)
	if err != nil {
		return err
	}
	defer st.Close()
	uses, free, err := st.Usage()
	if err != nil {
		return err
	}
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "  bucket\tkeys\tbytes in use\tbytes allocated\tallocated per commit\t")
	rest := int(fi.Size())
	for _, u := range uses {
		if u.Allocated == 0 {
			continue // inline in its parent's page
		}
		rest -= u.Allocated
		fmt.Fprintf(tw, "  %s\t%d\t%d\t%d\t%.1f\t\n", u.Name, u.Keys, u.InUse, u.Allocated, float64(u.Allocated)/float64(commits))
	}
	fmt.Fprintf(tw, "  (free pages)\t\t\t%d\t%.1f\t\n", free, float64(free)/float64(commits))
	fmt.Fprintf(tw, "  (meta, free list, growth slack)\t\t\t%d\t%.1f\t\n", rest-free, float64(rest-free)/float64(commits))
	return tw.Flush()
}

// scaleLatencyRuns is scenario (c): backfills behind a GitHub that answers
// every request after scaleLatency, against the serial lower bound (calls ×
// latency) — one repository with many branches, and many small ones.
func scaleLatencyRuns(ctx context.Context, dir, bin string, zk *corpus.History, out io.Writer) error {
	var span ghSpan
	s, err := newScaleStack(filepath.Join(dir, "zookeeper"), func(gh *githubtest.Server) { gh.AddCorpusRepo("apache", "zookeeper", 1001, zk) }, span.wrap, "repos: [apache/zookeeper]")
	if err != nil {
		return err
	}
	defer s.close()
	s.gh.SetLatency(scaleLatency)
	started := time.Now()
	one, err := s.syncOK(ctx, bin, "zookeeper backfill")
	if err != nil {
		return err
	}
	first, last := span.times()

	const repos, perRepo = 50, 100
	m, err := newScaleStack(filepath.Join(dir, "fleet"), seedOrg("fleet", repos, func(i int) *corpus.History { return smallHistory(i, perRepo) }), nil, "orgs: [fleet]")
	if err != nil {
		return err
	}
	defer m.close()
	m.gh.SetLatency(scaleLatency)
	many, err := m.syncOK(ctx, bin, "fleet backfill")
	if err != nil {
		return err
	}
	idle, err := m.syncOK(ctx, bin, "fleet idle pass")
	if err != nil {
		return err
	}

	fmt.Fprintf(out, "\n(c) %s GitHub latency (Jira local), config max_concurrency: 8\n\n", scaleLatency)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tGitHub calls\tserial bound\twall\twall / bound\tJira writes\t")
	for _, r := range []struct {
		name string
		s    runStats
	}{
		{fmt.Sprintf("zookeeper backfill (%d branches)", len(zk.Branches())), one},
		{fmt.Sprintf("%d repos × %d commits, backfill", repos, perRepo), many},
		{fmt.Sprintf("%d repos, idle pass", repos), idle},
	} {
		bound := time.Duration(r.s.gh.calls) * scaleLatency
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%.2f\t%d\t\n", r.name, r.s.gh.calls, bound, r.s.wall.Round(time.Millisecond), r.s.wall.Seconds()/bound.Seconds(), r.s.jiraWrites)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(out, "\nwall / bound near 1 (or above) means requests went out one at a time; with N in flight it tends to 1/N.")
	fmt.Fprintf(out, "zookeeper backfill: start → first GitHub request %s; first → last GitHub request answered %s; last → exit %s (links still being written, commits recorded)\n",
		first.Sub(started).Round(time.Millisecond), last.Sub(first).Round(time.Millisecond), (one.wall - last.Sub(started)).Round(time.Millisecond))
	return nil
}

// ghSpan records when the first GitHub request arrived and the last was
// answered, to split a run's wall time into startup, listing and tail.
type ghSpan struct {
	mu          sync.Mutex
	first, last time.Time
}

func (g *ghSpan) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		g.mu.Lock()
		if g.first.IsZero() {
			g.first = time.Now()
		}
		g.mu.Unlock()
		h.ServeHTTP(w, r)
		g.mu.Lock()
		g.last = time.Now()
		g.mu.Unlock()
	})
}

func (g *ghSpan) times() (first, last time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.first, g.last
}

// runTable prints the per-run counts of a scenario.
func runTable(out io.Writer, names []string, runs ...runStats) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tGitHub calls\tcounted\t304s\tcommit pages\tJira calls\tJira writes\tsearches\twall\tpeak RSS\t")
	for i, r := range runs {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%.1f MB\t\n", names[i], r.gh.calls, r.gh.counted, r.gh.notModified,
			r.gh.commitPages, r.jiraCalls, r.jiraWrites, r.searches, r.wall.Round(time.Millisecond), float64(r.maxRSSKB)/1024)
	}
	_ = tw.Flush()
}

// routeCounts summarises the requests keep selects by route, most frequent
// first.
func routeCounts(reqs []githubtest.Request, keep func(githubtest.Request) bool) string {
	n := map[string]int{}
	for _, r := range reqs {
		if keep(r) {
			n[r.Route]++
		}
	}
	var parts []string
	for route, c := range n {
		parts = append(parts, fmt.Sprintf("%s ×%d", route, c))
	}
	sort.Strings(parts)
	return strings.Join(parts, ", ")
}
