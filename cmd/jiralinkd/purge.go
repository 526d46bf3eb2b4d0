package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/jiraclient"
)

// purgeExamples is how many links per repository a dry run shows.
const purgeExamples = 3

// cmdPurge removes the remote links jiralinkd wrote — all of them, one
// provider's or one repository's — and the state behind them, as recorded
// in its own state file (links written by hand or by other tools are never
// touched). Without --yes it only prints what it would delete.
//
// It deletes link by link and forgets each link as soon as Jira confirms
// (a link already gone answers 404, which counts as deleted), so an
// interrupted purge is finished by running it again. A repository is
// forgotten once none of its links is left. Links that cannot be deleted
// are listed and make the exit code 1; the others are still deleted.
func cmdPurge(ctx context.Context, args []string, stdout, stderr io.Writer, env envFunc) int {
	fs := flag.NewFlagSet("purge", flag.ContinueOnError)
	provider := fs.String("provider", "", "purge only this provider's links")
	repo := fs.String("repo", "", "purge only this repository's links (owner/name)")
	yes := fs.Bool("yes", false, "delete; without it, only print what would be deleted")
	d, code := setup(fs, args, stderr, env)
	if code != exitOK {
		return code
	}
	if err := d.openStore(); err != nil {
		fmt.Fprintf(stderr, "jiralinkd: %v (stop jiralinkd serve before purging)\n", err)
		return exitFailed
	}
	defer d.close()

	plan, err := planPurge(d.store, *provider, *repo)
	if err != nil {
		fmt.Fprintf(stderr, "jiralinkd: %v\n", err)
		return exitFailed
	}
	if *provider != "" && !plan.knows(*provider) && !d.configures(*provider) {
		fmt.Fprintf(stderr, "jiralinkd: no provider named %q in the configuration or the state\n", *provider)
		return exitConfig
	}
	if len(plan.groups) == 0 {
		fmt.Fprintf(stdout, "nothing to purge%s: the state records no repository or link\n", plan.scope)
		return exitOK
	}
	if !*yes {
		printPlan(stdout, d.store, plan)
		return exitOK
	}
	ix, err := d.newIndexer(false, io.Discard, nil)
	if err != nil {
		fmt.Fprintf(stderr, "jiralinkd: %v\n", err)
		return exitConfig
	}
	progress := &purgeProgress{w: stderr, total: plan.links(), every: purgeProgressEvery}
	d.hooks.observe = progress.observe
	p := &purger{ix: ix, jira: d.jira, store: d.store, out: stdout, progress: progress}
	p.run(ctx, plan)
	fmt.Fprintf(stdout, "total: %s deleted, %d could not be deleted\n", countLinks(p.deleted), p.failed)
	switch {
	case ctx.Err() != nil:
		fmt.Fprintln(stdout, "interrupted: run the same command again to finish")
		code, _ := interruptedExit(ctx) // 130/143 after a signal
		return code
	case p.fatal != nil:
		fmt.Fprintf(stdout, "stopped: %v\n", p.fatal)
		return exitFailed
	case p.failed > 0:
		return exitFailed
	}
	return exitOK
}

// configures reports whether the configuration has a provider of that name.
func (d *deps) configures(provider string) bool {
	for _, p := range d.cfg.Providers {
		if p.Name == provider {
			return true
		}
	}
	return false
}

// purgeGroup is the links of one repository: one the state knows (named;
// it is forgotten too, even without links), or one it has forgotten while
// links of it remain (orphans).
type purgeGroup struct {
	key    state.RepoKey
	name   string // owner/name; "" for orphans
	orphan bool
	links  []state.Link
}

func (g purgeGroup) String() string {
	if g.orphan {
		return fmt.Sprintf("%s repo id %d (no longer in the state)", g.key.Provider, g.key.ID)
	}
	return g.key.Provider + " " + g.name
}

type purgePlan struct {
	groups []purgeGroup
	scope  string // " for github", " for github acme/api", or ""
}

func (p purgePlan) links() int {
	n := 0
	for _, g := range p.groups {
		n += len(g.links)
	}
	return n
}

func (p purgePlan) knows(provider string) bool {
	return slices.ContainsFunc(p.groups, func(g purgeGroup) bool { return g.key.Provider == provider })
}

// planPurge collects the links in scope from the state: every repository
// the state knows (of provider, and named repo, when set), then, unless a
// repo is named, links whose repository the state no longer knows.
func planPurge(st stateStore, provider, repo string) (purgePlan, error) {
	var plan purgePlan
	switch {
	case provider != "" && repo != "":
		plan.scope = " for " + provider + " " + repo
	case provider != "":
		plan.scope = " for " + provider
	case repo != "":
		plan.scope = " for " + repo
	}
	repos, err := st.Repos()
	if err != nil {
		return plan, err
	}
	known := map[state.RepoKey]bool{}
	for _, r := range repos {
		known[r.Key] = true
		if provider != "" && r.Key.Provider != provider || repo != "" && !strings.EqualFold(r.Repo.FullName, repo) {
			continue
		}
		links, err := repoLinks(st, r.Key)
		if err != nil {
			return plan, err
		}
		plan.groups = append(plan.groups, purgeGroup{key: r.Key, name: r.Repo.FullName, links: links})
	}
	if repo != "" {
		return plan, nil
	}
	prefix := "jiralinkd/"
	if provider != "" {
		prefix += provider + "/"
	}
	orphans := map[state.RepoKey]int{} // → index in plan.groups
	err = st.AllLinks(func(l state.Link) error {
		if !strings.HasPrefix(l.GlobalID, prefix) {
			return nil
		}
		key := repoOfGlobalID(l.GlobalID)
		if known[key] {
			return nil
		}
		i, ok := orphans[key]
		if !ok {
			i = len(plan.groups)
			orphans[key] = i
			plan.groups = append(plan.groups, purgeGroup{key: key, orphan: true})
		}
		plan.groups[i].links = append(plan.groups[i].links, l)
		return nil
	})
	return plan, err
}

// repoLinks returns every recorded link of a repository.
func repoLinks(st stateStore, key state.RepoKey) ([]state.Link, error) {
	prefix := "jiralinkd/" + key.Provider + "/" + strconv.FormatInt(key.ID, 10) + "/"
	gids, err := st.GlobalIDsWithPrefix(prefix)
	if err != nil {
		return nil, err
	}
	var out []state.Link
	for _, gid := range gids {
		ls, err := st.LinksOf(gid)
		if err != nil {
			return nil, err
		}
		out = append(out, ls...)
	}
	return out, nil
}

// repoOfGlobalID reads provider and repo id out of a globalId
// (jiralinkd/{provider}/{repo id}/{kind}/{id}; provider names have no
// slash). A malformed one yields id 0 under what provider it names.
func repoOfGlobalID(gid string) state.RepoKey {
	parts := strings.SplitN(gid, "/", 4)
	if len(parts) < 3 {
		return state.RepoKey{Provider: strings.Join(parts[1:], "/")}
	}
	id, _ := strconv.ParseInt(parts[2], 10, 64)
	return state.RepoKey{Provider: parts[1], ID: id}
}

// printPlan is the dry run: per repository the number of links and a few
// examples.
func printPlan(w io.Writer, st stateStore, plan purgePlan) {
	for _, g := range plan.groups {
		fmt.Fprintf(w, "%s: %s\n", g, countLinks(len(g.links)))
		for i, l := range g.links {
			if i == purgeExamples {
				fmt.Fprintf(w, "  … and %d more\n", len(g.links)-i)
				break
			}
			fmt.Fprintf(w, "  %s\n", describeLink(st, l))
		}
	}
	fmt.Fprintf(w, "dry run: %s of %d repositories would be deleted; nothing was deleted. Run again with --yes to delete them.\n",
		countLinks(plan.links()), len(plan.groups))
}

// describeLink is "ABC-1 ← commit 1a2b3c4 title" from what the state
// recorded about the link, else its globalId.
func describeLink(st stateStore, l state.Link) string {
	if infos, err := st.IssueLinks(l.Issue); err == nil {
		for _, il := range infos {
			if il.GlobalID != l.GlobalID || il.Title == "" {
				continue
			}
			if il.Kind == "pr" || strings.HasPrefix(strings.ToLower(il.Title), il.Kind+" ") { // "branch NAME", "PR #1: …", "MR !1: …"
				return l.Issue + " ← " + il.Title
			}
			return l.Issue + " ← " + il.Kind + " " + il.Title
		}
	}
	return l.Issue + " ← " + l.GlobalID
}

// purger deletes the links of a plan and reports as it goes.
type purger struct {
	ix    *indexer.Indexer
	jira  *jiraclient.Client
	store stateStore
	out   io.Writer

	deleted, failed int
	fatal           error // a failure every further call would share
	progress        *purgeProgress
}

// purgeProgressEvery is how many deletions purge --yes reports progress
// after, besides the line at the start of every repository.
var purgeProgressEvery = 100

// purgeProgress reports on stderr how far purge --yes has come: a line as
// each repository starts and every `every` links deleted in Jira, counted
// from the Jira client's requests (the indexer deletes a repository's links
// on its own).
type purgeProgress struct {
	w     io.Writer
	total int // links in the plan
	every int
	done  atomic.Int64 // links gone from Jira
}

// observe counts a DELETE that Jira answered with success or 404 (gone
// already); it is the Jira client's per-request hook.
func (pp *purgeProgress) observe(system string, req *http.Request, status int, err error) {
	if system != "jira" || req.Method != http.MethodDelete || err != nil ||
		(status/100 != 2 && status != http.StatusNotFound) {
		return
	}
	if n := pp.done.Add(1); pp.every > 0 && n%int64(pp.every) == 0 {
		fmt.Fprintf(pp.w, "purge: %d of %s deleted\n", n, countLinks(pp.total))
	}
}

// start reports that group i of n begins.
func (pp *purgeProgress) start(i, n int, g purgeGroup) {
	fmt.Fprintf(pp.w, "purge: [%d/%d] %s: %s (%d of %s deleted so far)\n",
		i+1, n, g, countLinks(len(g.links)), pp.done.Load(), countLinks(pp.total))
}

func (p *purger) run(ctx context.Context, plan purgePlan) {
	for i, g := range plan.groups {
		if p.stopped(ctx) {
			return
		}
		if p.progress != nil {
			p.progress.start(i, len(plan.groups), g)
		}
		if g.orphan {
			n, fails := p.deleteLinks(ctx, g.links)
			p.report(g, n, fails, n == len(g.links))
			continue
		}
		p.purgeRepo(ctx, g)
	}
}

// purgeRepo removes a known repository's links and forgets the repo,
// through the indexer (as a deleted repository is removed). The indexer
// stops at the first link it cannot delete; then the remaining links are
// tried one by one, so that every one that fails is known, and the repo
// stays in the state for the next run.
func (p *purger) purgeRepo(ctx context.Context, g purgeGroup) {
	t := indexer.Target{Name: g.key.Provider}
	n, err := p.ix.RemoveRepo(ctx, t, g.key.ID)
	if err == nil || ctx.Err() != nil || p.stopOn(err) {
		p.report(g, n, nil, err == nil)
		return
	}
	rest, err := repoLinks(p.store, g.key)
	if err != nil {
		p.fatal = err
		p.report(g, n, nil, false)
		return
	}
	m, fails := p.deleteLinks(ctx, rest)
	complete := m == len(rest)
	if complete {
		// The link that stopped the indexer went through on the retry:
		// nothing is left, so forget the repo.
		if _, err := p.ix.RemoveRepo(ctx, t, g.key.ID); err != nil {
			fails = append(fails, fmt.Sprintf("forget the repository: %v", err))
		}
	}
	p.report(g, n+m, fails, complete)
}

// deleteLinks deletes links one by one, forgetting each as soon as it is
// gone from Jira (deleted now, or already: 404). It returns how many were
// deleted and a line per failure, and stops early when ctx is done or a
// failure would repeat for every link.
func (p *purger) deleteLinks(ctx context.Context, links []state.Link) (int, []string) {
	var n int
	var fails []string
	for _, l := range links {
		if p.stopped(ctx) {
			break
		}
		err := p.jira.DeleteRemoteLink(ctx, l.Issue, l.GlobalID)
		if err != nil && !errors.Is(err, jiraclient.ErrNotFound) {
			if ctx.Err() != nil || p.stopOn(err) {
				break
			}
			fails = append(fails, fmt.Sprintf("%s ← %s: %v", l.Issue, l.GlobalID, err))
			continue
		}
		if err := p.store.DeleteLinks([]state.Link{l}); err != nil {
			p.fatal = err
			break
		}
		n++
	}
	return n, fails
}

// stopOn records errors after which going on is pointless because every
// further call would fail the same way: Jira refuses the credentials.
func (p *purger) stopOn(err error) bool {
	if errors.Is(err, jiraclient.ErrUnauthorized) {
		p.fatal = err
		return true
	}
	return false
}

func (p *purger) stopped(ctx context.Context) bool { return ctx.Err() != nil || p.fatal != nil }

// report prints one repository's outcome: ok (all deleted), FAIL (with
// every link that could not be deleted) or stop (interrupted before the
// end).
func (p *purger) report(g purgeGroup, deleted int, fails []string, complete bool) {
	p.deleted += deleted
	p.failed += len(fails)
	switch {
	case len(fails) > 0:
		fmt.Fprintf(p.out, "FAIL %s: %s deleted, %d could not be deleted:\n", g, countLinks(deleted), len(fails))
		for _, f := range fails {
			fmt.Fprintf(p.out, "  %s\n", f)
		}
	case !complete:
		fmt.Fprintf(p.out, "stop %s: %s deleted before stopping\n", g, countLinks(deleted))
	default:
		fmt.Fprintf(p.out, "ok   %s: %s deleted\n", g, countLinks(deleted))
	}
}

func countLinks(n int) string {
	if n == 1 {
		return "1 link"
	}
	return strconv.Itoa(n) + " links"
}
