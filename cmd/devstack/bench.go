package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore/pgtest"
)

// bench prints the figures the foundation issue asks for: provider calls
// against their lower bound, Jira calls against links written, wall time
// and peak memory, for a backfill and an immediate second run; then the
// same backfill, second run and webhooks with the state in PostgreSQL (a
// fresh stack from newStack, its database in a throwaway cluster), side by
// side with bbolt.
func bench(ctx context.Context, st *stack, newStack func(dir, dsn string) (*stack, error), bin string, out, errw io.Writer) int {
	bolt, err := backfillRuns(ctx, st, bin)
	if err != nil {
		fmt.Fprintf(errw, "devstack: %v\n", err)
		return 1
	}
	first, second, links := bolt.first, bolt.second, bolt.links

	// Lower bound on provider calls: each list read once in pages of 100.
	var heads []string
	for _, b := range st.hist.Branches() {
		heads = append(heads, b.SHA)
	}
	reachable := len(st.hist.Reachable(heads...))
	pulls := len(st.hist.PullRequests())
	lower := 1 + // the repo
		ceilDiv(len(st.hist.Branches()), 100) +
		ceilDiv(len(st.hist.Tags()), 100) +
		ceilDiv(max(pulls, 1), 100) +
		ceilDiv(reachable, 100)

	fmt.Fprintf(out, "jiralinkd backfill benchmark: the apache/zookeeper corpus (%d reachable commits, %d branches, %d tags, %d pull requests)\nserved by both a fake GitHub and a fake GitLab, synced in one pass (both providers concurrently)\n\n",
		reachable, len(st.hist.Branches()), len(st.hist.Tags()), pulls)
	bolt.table(out)
	perRef := lower - ceilDiv(reachable, 100) + perRefCommitPages(st)
	for _, p := range []struct {
		name string
		s    provStats
	}{{"GitHub", first.gh}, {"GitLab", first.gl}} {
		fmt.Fprintf(out, "%s calls vs lower bound (%d = 1 repo + pages of 100 of branches, tags, PRs, commits): %d (%s; target within +10%%)\n",
			p.name, lower, p.s.calls, ratio(p.s.calls, lower))
		fmt.Fprintf(out, "  commits can only be listed per ref, so each branch's new commits end on their own page: per-ref lower bound %d, measured %d (%s)\n",
			perRef, p.s.calls, ratio(p.s.calls, perRef))
	}
	fmt.Fprintf(out, "Jira calls vs links written: %d vs %d (%s; target at most +5%%)\n", first.jiraCalls, links, ratio(first.jiraCalls, links))
	fmt.Fprintf(out, "second run: GitHub %d rate-limit-counted calls; GitLab %d calls, %d answered 304 (the merge request list's moved watermark asks once more); %d Jira writes (target 0)\n",
		second.gh.counted, second.gl.calls, second.gl.notModified, second.jiraWrites)
	if bolt.hooks, err = webhookBench(ctx, st, bin); err != nil {
		fmt.Fprintf(errw, "devstack: webhook benchmark: %v\n", err)
		return 1
	}
	bolt.hooks.print(out, "bbolt")
	if err := ciBench(ctx, bin, out); err != nil {
		fmt.Fprintf(errw, "devstack: builds and deployments benchmark: %v\n", err)
		return 1
	}
	return benchPostgres(ctx, st.dir, newStack, bin, bolt, out, errw)
}

// backendRuns are the figures of one state backend on the corpus.
type backendRuns struct {
	backend       string
	first, second runStats
	links         int // in Jira after the backfill
	hooks         hookStats
}

// backfillRuns runs the backfill and the immediate second run.
func backfillRuns(ctx context.Context, st *stack, bin string) (backendRuns, error) {
	r := backendRuns{backend: st.backendName()}
	var err error
	r.first, err = st.measured(ctx, bin, "sync")
	if err != nil || r.first.exit != 0 {
		return r, fmt.Errorf("%s backfill failed: %v\n%s", r.backend, err, r.first.output)
	}
	for _, ls := range st.jira.AllLinks() {
		r.links += len(ls)
	}
	r.second, err = st.measured(ctx, bin, "sync")
	if err != nil || r.second.exit != 0 {
		return r, fmt.Errorf("%s second run failed: %v\n%s", r.backend, err, r.second.output)
	}
	return r, nil
}

// table prints the runs' counts and the links written.
func (r backendRuns) table(out io.Writer) {
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tGitHub calls\tcounted\t304s\tcommit pages\tGitLab calls\t304s\tcommit pages\tJira calls\tJira writes\tsearches\twall\tpeak RSS\t")
	for _, x := range []struct {
		name string
		s    runStats
	}{{"backfill", r.first}, {"second run", r.second}} {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%.1f MB\t\n", x.name, x.s.gh.calls, x.s.gh.counted, x.s.gh.notModified,
			x.s.gh.commitPages, x.s.gl.calls, x.s.gl.notModified, x.s.gl.commitPages, x.s.jiraCalls, x.s.jiraWrites, x.s.searches, x.s.wall.Round(time.Millisecond), float64(x.s.maxRSSKB)/1024)
	}
	_ = tw.Flush()
	fmt.Fprintf(out, "\nlinks written: %d (%d per provider)\n", r.links, r.links/2)
}

// benchPostgres runs the backfill, second run and webhooks again with the
// state in a fresh database of a throwaway PostgreSQL cluster (durable:
// fsync on, like bbolt's commits) and prints them beside bolt's.
func benchPostgres(ctx context.Context, dir string, newStack func(dir, dsn string) (*stack, error), bin string, bolt backendRuns, out, errw io.Writer) int {
	cl, err := pgtest.StartCluster("", pgtest.Options{Durable: true})
	if errors.Is(err, pgtest.ErrNoBinaries) {
		fmt.Fprintf(out, "\nPostgreSQL state: skipped (%v)\n", err)
		return 0
	}
	if err != nil {
		fmt.Fprintf(errw, "devstack: start PostgreSQL: %v\n", err)
		return 1
	}
	defer func() {
		if err := cl.Stop(); err != nil {
			fmt.Fprintf(errw, "devstack: stop PostgreSQL: %v\n", err)
		}
	}()
	dsn, err := cl.NewDatabase("jiralinkd")
	if err != nil {
		fmt.Fprintf(errw, "devstack: %v\n", err)
		return 1
	}
	st, err := newStack(filepath.Join(dir, "postgres"), dsn)
	if err != nil {
		fmt.Fprintf(errw, "devstack: %v\n", err)
		return 1
	}
	defer st.close()
	pg, err := backfillRuns(ctx, st, bin)
	if err != nil {
		fmt.Fprintf(errw, "devstack: %v\n", err)
		return 1
	}
	fmt.Fprintf(out, "\nthe same with the state in PostgreSQL (state.backend: postgres; a fresh database of a throwaway local cluster, fsync on; fresh fakes)\n\n")
	pg.table(out)
	if pg.hooks, err = webhookBench(ctx, st, bin); err != nil {
		fmt.Fprintf(errw, "devstack: webhook benchmark (PostgreSQL): %v\n", err)
		return 1
	}
	pg.hooks.print(out, "PostgreSQL")
	sideBySide(out, bolt, pg)
	return 0
}

// sideBySide prints bbolt's and PostgreSQL's figures and their ratio.
func sideBySide(out io.Writer, bolt, pg backendRuns) {
	fmt.Fprintf(out, "\nstate backends side by side (ratio = PostgreSQL / bbolt; goal ≤ 1.5× on the backfill)\n\n")
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\tbbolt wall\tPostgreSQL wall\tratio\tbbolt calls\tPostgreSQL calls\tbbolt Jira writes\tPostgreSQL Jira writes\t")
	calls := func(s runStats) int { return s.gh.calls + s.gl.calls + s.jiraCalls }
	for _, x := range []struct {
		name string
		b, p runStats
	}{{"backfill", bolt.first, pg.first}, {"idle pass", bolt.second, pg.second}} {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.2f×\t%d\t%d\t%d\t%d\t\n", x.name, x.b.wall.Round(time.Millisecond), x.p.wall.Round(time.Millisecond),
			x.p.wall.Seconds()/x.b.wall.Seconds(), calls(x.b), calls(x.p), x.b.jiraWrites, x.p.jiraWrites)
	}
	for _, p := range []int{50, 99} {
		b, q := pct(bolt.hooks.acks, p), pct(pg.hooks.acks, p)
		fmt.Fprintf(tw, "webhook ack p%d\t%s\t%s\t%.2f×\t\t\t\t\t\n", p, b, q, q.Seconds()/b.Seconds())
	}
	for _, p := range []int{50, 99} {
		b, q := pct(bolt.hooks.latencies, p), pct(pg.hooks.latencies, p)
		fmt.Fprintf(tw, "push → link p%d\t%s\t%s\t%.2f×\t\t\t\t\t\n", p, b, q, q.Seconds()/b.Seconds())
	}
	_ = tw.Flush()
	verdict := "within"
	if pg.first.wall.Seconds() > 1.5*bolt.first.wall.Seconds() {
		verdict = "NOT within"
	}
	fmt.Fprintf(out, "calls: GitHub + GitLab + Jira. PostgreSQL backfill %s 1.5× of bbolt's.\n", verdict)
}

// perRefCommitPages is the fewest commit-list pages any client needs when
// the API lists history one ref at a time: walking branches in jiralinkd's
// order (default branch first, then by name), each branch's commits not
// reachable from an earlier branch, in pages of 100.
func perRefCommitPages(st *stack) int {
	bs := st.hist.Branches()
	sort.SliceStable(bs, func(i, j int) bool {
		if (bs[i].Name == "master") != (bs[j].Name == "master") {
			return bs[i].Name == "master"
		}
		return bs[i].Name < bs[j].Name
	})
	seen := map[string]bool{}
	pages := 0
	for _, b := range bs {
		n := 0
		for sha := range st.hist.Reachable(b.SHA) {
			if !seen[sha] {
				seen[sha] = true
				n++
			}
		}
		pages += ceilDiv(n, 100)
	}
	return pages
}
