package main

import (
	"context"
	"fmt"
	"io"
	"math"
	"sort"
	"strings"
)

// provStats are one provider's calls during a run.
type provStats struct {
	calls, counted, notModified, commitPages int
}

func (p *provStats) add(path string, status int, counted bool) {
	p.calls++
	if counted {
		p.counted++
	}
	if status == 304 {
		p.notModified++
	}
	if strings.HasSuffix(path, "/commits") {
		p.commitPages++
	}
}

// runStats are the counts of one jiralinkd run, read from the fakes.
type runStats struct {
	result
	gh, gl                          provStats
	jiraCalls, jiraWrites, searches int
}

// measured runs jiralinkd once and collects what it cost on the fakes.
func (st *stack) measured(ctx context.Context, bin string, args ...string) (runStats, error) {
	st.gh.ResetRequests()
	st.gl.ResetRequests()
	st.jira.ResetCalls()
	r, err := st.jiralinkd(ctx, bin, args...)
	if err != nil {
		return runStats{}, err
	}
	s := runStats{result: r}
	for _, q := range st.gh.Requests() {
		s.gh.add(q.Path, q.Status, q.Counted)
	}
	for _, q := range st.gl.Requests() {
		s.gl.add(q.Path, q.Status, q.Counted)
	}
	c := st.jira.Calls()
	s.jiraCalls, s.jiraWrites, s.searches = c.Total, c.Writes, c.Searches
	return s, nil
}

func demo(ctx context.Context, st *stack, bin string, out, errw io.Writer) int {
	fmt.Fprintf(out, "== jiralinkd demo: the Apache ZooKeeper history (%d branches, %d tags) on a fake GitHub %s\n   and a fake GitLab %s, linked into a fake Jira Data Center %s\n\n",
		len(st.hist.Branches()), len(st.hist.Tags()), st.ghURL, st.glURL, st.jiraURL)

	fmt.Fprintf(out, "$ jiralinkd check --config %s\n", st.configPath)
	r, err := st.jiralinkd(ctx, bin, "check")
	if err != nil {
		fmt.Fprintln(errw, err)
		return 1
	}
	fmt.Fprint(out, indent(r.output))
	if r.exit != 0 {
		fmt.Fprintf(errw, "devstack: check failed (exit %d)\n", r.exit)
		return 1
	}

	fmt.Fprintf(out, "\n$ jiralinkd sync --config %s     # first run: full backfill\n", st.configPath)
	first, err := st.measured(ctx, bin, "sync")
	if err != nil || first.exit != 0 {
		fmt.Fprintf(errw, "devstack: sync failed: %v\n%s", err, first.output)
		return 1
	}
	fmt.Fprint(out, indent(first.output))
	fmt.Fprintf(out, "  → %d GitHub calls (%d commit pages), %d GitLab calls (%d commit pages), %d Jira calls (%d link writes, %d issue searches), %s\n",
		first.gh.calls, first.gh.commitPages, first.gl.calls, first.gl.commitPages, first.jiraCalls, first.jiraWrites, first.searches, first.wall.Round(1e6))

	fmt.Fprintf(out, "\n$ jiralinkd sync --config %s     # second run: nothing changed\n", st.configPath)
	second, err := st.measured(ctx, bin, "sync")
	if err != nil || second.exit != 0 {
		fmt.Fprintf(errw, "devstack: second sync failed: %v\n%s", err, second.output)
		return 1
	}
	fmt.Fprint(out, indent(second.output))
	fmt.Fprintf(out, "  → GitHub: %d calls, %d answered 304, %d counted against the rate limit; GitLab: %d calls, %d answered 304; %d Jira writes\n",
		second.gh.calls, second.gh.notModified, second.gh.counted, second.gl.calls, second.gl.notModified, second.jiraWrites)

	printLanded(out, st)
	return 0
}

// printLanded summarises the links the fake Jira now holds.
func printLanded(out io.Writer, st *stack) {
	all := st.jira.AllLinks()
	type issue struct {
		key string
		n   int
	}
	var issues []issue
	byRel := map[string]int{}
	total := 0
	for k, ls := range all {
		if len(ls) == 0 {
			continue
		}
		issues = append(issues, issue{k, len(ls)})
		total += len(ls)
		for _, l := range ls {
			byRel[l.Relationship]++
		}
	}
	sort.Slice(issues, func(i, j int) bool {
		if issues[i].n != issues[j].n {
			return issues[i].n > issues[j].n
		}
		return issues[i].key < issues[j].key
	})
	fmt.Fprintf(out, "\n== What landed in Jira: %d remote links on %d issues\n", total, len(issues))
	var rels []string
	for r, n := range byRel {
		rels = append(rels, fmt.Sprintf("%s: %d", r, n))
	}
	sort.Strings(rels)
	fmt.Fprintf(out, "  by kind: %s\n", strings.Join(rels, ", "))
	fmt.Fprintln(out, "  most linked issues:")
	for _, is := range issues[:min(5, len(issues))] {
		fmt.Fprintf(out, "    %-16s %d links\n", is.key, is.n)
	}
	// A few examples: the issue with the most links, shown in full.
	if len(issues) > 0 {
		k := issues[0].key
		fmt.Fprintf(out, "  %s as Jira shows it:\n", k)
		for i, l := range all[k] {
			if i == 8 {
				fmt.Fprintf(out, "    … and %d more\n", len(all[k])-i)
				break
			}
			status := ""
			if l.Object.Status != nil && l.Object.Status.Resolved {
				status = " (resolved)"
			}
			fmt.Fprintf(out, "    [%s] %s%s\n        %s\n        %s\n", l.Relationship, l.Object.Title, status, l.Object.URL, l.Object.Summary)
		}
	}
	// Keys that look like issue keys but must never be linked.
	for _, k := range []string{"UTF-8", "SHA-256", "ISO-8601", "CVE-2024"} {
		if len(all[k]) > 0 {
			fmt.Fprintf(out, "  UNEXPECTED: %d links on %s\n", len(all[k]), k)
		}
	}
}

func indent(s string) string {
	if s == "" {
		return ""
	}
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	const max = 12
	if len(lines) > max {
		lines = append(lines[:max], fmt.Sprintf("… (%d more lines)", len(lines)-max))
	}
	return "  " + strings.Join(lines, "\n  ") + "\n"
}

func ratio(a, b int) string {
	if b == 0 {
		return "n/a"
	}
	return fmt.Sprintf("%+.1f%%", (float64(a)/float64(b)-1)*100)
}

func ceilDiv(a, b int) int { return int(math.Ceil(float64(a) / float64(b))) }
