package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"text/tabwriter"
)

// bench prints the figures the foundation issue asks for: provider calls
// against their lower bound, Jira calls against links written, wall time
// and peak memory, for a backfill and an immediate second run.
func bench(ctx context.Context, st *stack, bin string, out, errw io.Writer) int {
	first, err := st.measured(ctx, bin, "sync")
	if err != nil || first.exit != 0 {
		fmt.Fprintf(errw, "devstack: backfill failed: %v\n%s", err, first.output)
		return 1
	}
	links := 0
	for _, ls := range st.jira.AllLinks() {
		links += len(ls)
	}
	second, err := st.measured(ctx, bin, "sync")
	if err != nil || second.exit != 0 {
		fmt.Fprintf(errw, "devstack: second run failed: %v\n%s", err, second.output)
		return 1
	}

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
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "run\tGitHub calls\tcounted\t304s\tcommit pages\tGitLab calls\t304s\tcommit pages\tJira calls\tJira writes\tsearches\twall\tpeak RSS\t")
	for _, r := range []struct {
		name string
		s    runStats
	}{{"backfill", first}, {"second run", second}} {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%d\t%s\t%.1f MB\t\n", r.name, r.s.gh.calls, r.s.gh.counted, r.s.gh.notModified,
			r.s.gh.commitPages, r.s.gl.calls, r.s.gl.notModified, r.s.gl.commitPages, r.s.jiraCalls, r.s.jiraWrites, r.s.searches, r.s.wall.Round(1e6), float64(r.s.maxRSSKB)/1024)
	}
	_ = tw.Flush()
	fmt.Fprintf(out, "\nlinks written: %d (%d per provider)\n", links, links/2)
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
	if err := webhookBench(ctx, st, bin, out); err != nil {
		fmt.Fprintf(errw, "devstack: webhook benchmark: %v\n", err)
		return 1
	}
	if err := ciBench(ctx, bin, out); err != nil {
		fmt.Fprintf(errw, "devstack: builds and deployments benchmark: %v\n", err)
		return 1
	}
	return 0
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
