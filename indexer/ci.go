package indexer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/providers"
)

// CISource is implemented by the Sources that can read CI runs and
// deployments (GitHub Actions runs and deployments; GitLab pipelines and
// deployments). The indexer type-asserts it; a Source without it syncs no
// builds or deployments.
//
// Both calls stream items newest first — GitHub by creation, GitLab by
// last update, so a changed item comes first — and stop at the first item
// older than since in that order: every item created (GitLab: updated) at
// or after since is read, never one from long before it. Metadata only:
// no logs, jobs, traces or artifacts. prev is the state the previous call
// returned; with it a provider may answer unchanged (a 304 on the first
// page), in which case fn was not called and the caller has nothing to
// do. The returned state is the first page's, to be stored once
// everything derived from the items is written (see keepIfFinal).
type CISource interface {
	Runs(ctx context.Context, repo providers.Repo, since time.Time, prev providers.ListState, fn func(providers.Run) (stop bool, err error)) (providers.ListState, bool, error)
	Deployments(ctx context.Context, repo providers.Repo, since time.Time, prev providers.ListState, fn func(providers.Deployment) (stop bool, err error)) (providers.ListState, bool, error)
}

// CIStore keeps the builds-and-deployments step's cursors and, per issue,
// the run or deployment its link shows, and answers commit ranges from the
// stored commit graph. Each method is one atomic step.
type CIStore interface {
	CIState(k state.RepoKey) (st state.CIState, ok bool, err error)
	// CIEntries returns the stored entries among ids.
	CIEntries(k state.RepoKey, ids []state.CIEntryID) (map[state.CIEntryID]state.CIEntry, error)
	// PutCI stores entries and st together.
	PutCI(st state.CIState, entries []state.CIEntry) error
	// ForgetCI drops a repo's CI state and entries.
	ForgetCI(k state.RepoKey) error
	// CommitRange lists the indexed commits reachable from head and from
	// none of stop, at most limit (truncated: there were more).
	CommitRange(k state.RepoKey, head string, stop []string, limit int) (shas []string, truncated bool, err error)
}

// ErrNoCIStore is returned when builds or deployments are enabled but the
// state backend cannot keep their state.
var ErrNoCIStore = errors.New("the state backend does not support builds and deployments")

// DefaultBuildsSince is how far back a first sync reads runs and
// deployments when Target.BuildsSince is zero.
const DefaultBuildsSince = 90 * 24 * time.Hour

// maxRange bounds the commits of one run's or deployment's range that are
// examined (one far ahead of the previous, or after a rewritten history).
const maxRange = 10000

// maxEnvHistory is how many successful deployments per environment are
// remembered (the boundary of a re-listed older deployment).
const maxEnvHistory = 20

// ciEnabled reports whether t syncs builds or deployments at all.
func (t Target) ciEnabled() bool { return t.Builds || t.Deployments != nil }

// ci is the builds-and-deployments step: it reads the runs and
// deployments created or changed since the watermarks and writes, per
// issue, one link per workflow and one per environment. Runs and
// deployments are independent: one failing does not keep the other from
// advancing.
func (rs *repoSync) ci(ctx context.Context) error {
	if !rs.t.ciEnabled() {
		return nil
	}
	src, ok := rs.t.Source.(CISource)
	if !ok {
		return nil
	}
	store, ok := rs.ix.opts.Store.(CIStore)
	if !ok {
		return ErrNoCIStore
	}
	st, _, err := store.CIState(rs.key())
	if err != nil {
		return err
	}
	st.Key = rs.key()
	var errs []error
	if rs.t.Builds {
		if err := rs.runs(ctx, src, store, &st); err != nil && !rs.ciUnavailable("builds", err) {
			errs = append(errs, fmt.Errorf("builds: %w", err))
		}
	}
	if rs.t.Deployments != nil && ctx.Err() == nil {
		if err := rs.deployments(ctx, src, store, &st); err != nil && !rs.ciUnavailable("deployments", err) {
			errs = append(errs, fmt.Errorf("deployments: %w", err))
		}
	}
	return errors.Join(errs...)
}

// ciUnavailable reports (and logs) a CI list the provider refuses or does
// not have for this repository: CI/CD or Actions disabled on it (GitLab
// answers 403, GitHub 404), or a token without the Actions or Deployments
// permission. That does not fail the repository: its other steps are
// fine, and a repository without CI is not an error to fix.
func (rs *repoSync) ciUnavailable(what string, err error) bool {
	if !errors.Is(err, providers.ErrForbidden) && !errors.Is(err, providers.ErrNotFound) {
		return false
	}
	rs.ix.log.Warn(what+" not readable for this repository (CI disabled on it, or the token lacks the permission); skipped",
		"provider", rs.t.Name, "repo", rs.repo.FullName, "err", err)
	return true
}

// ciSince is where a CI list stops: the watermark, but never further
// back than the target's BuildsSince.
func (rs *repoSync) ciSince(mark time.Time) time.Time {
	d := rs.t.BuildsSince
	if d <= 0 {
		d = DefaultBuildsSince
	}
	since := rs.ix.opts.Now().Add(-d)
	if mark.After(since) {
		since = mark
	}
	return since
}

// ciWatermark is the next watermark after reading items created at the
// given times: the creation of the oldest item not final yet (it must be
// read again), else of the newest item; prev when nothing was read.
func ciWatermark(prev time.Time, created []time.Time, final []bool) time.Time {
	w, pending := prev, false
	for i, c := range created {
		switch {
		case !final[i] && (!pending || c.Before(w)):
			w, pending = c, true
		case !pending && c.After(w):
			w = c
		}
	}
	return w
}

// ciStaleAfter is how long a run or deployment may stay unfinished, with
// no change, before the watermark passes it: a deployment nobody ever
// reported a status for, a run waiting for an approval that never comes.
// Until then each pass reads back to it (on GitHub, one statuses call per
// deployment since); after, a late change to it is still seen on GitLab,
// whose lists are ordered by update, but not on GitHub, whose are ordered
// by creation.
const ciStaleAfter = 24 * time.Hour

// settled reports whether a run or deployment counts as final for the
// watermark: finished, or unchanged for ciStaleAfter.
func (rs *repoSync) settled(s providers.CIStatus, created, updated time.Time) bool {
	last := updated
	if last.IsZero() {
		last = created
	}
	return s.Final() || rs.ix.opts.Now().Sub(last) > ciStaleAfter
}

// keepIfFinal is the list state to store after a read: the first page's,
// unless an item read is not final yet. Such an item may change where a
// 304 on the first page would not show it (beyond the first page; or, on
// GitHub, in a deployment's statuses, which the deployment list does not
// carry), so the next pass reads the list again.
func keepIfFinal(ls providers.ListState, final []bool) providers.ListState {
	for _, f := range final {
		if !f {
			return providers.ListState{}
		}
	}
	return ls
}

// ciPick is the run or deployment chosen for one issue's link.
type ciPick struct {
	id       state.CIEntryID
	sourceID int64
	created  time.Time
	status   providers.CIStatus
	sha      string
	sources  []string
	build    *providers.Run
	deploy   *providers.Deployment
}

// runs reads the runs since the watermark and updates the build links.
func (rs *repoSync) runs(ctx context.Context, src CISource, store CIStore, st *state.CIState) error {
	var runs []providers.Run
	ls, unchanged, err := src.Runs(ctx, rs.repo, rs.ciSince(st.RunWatermark), st.RunList, func(r providers.Run) (bool, error) {
		runs = append(runs, r)
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("list runs: %w", err)
	}
	if unchanged {
		return nil
	}
	rs.rep.Runs += len(runs)
	sort.SliceStable(runs, func(i, j int) bool { return older(runs[i].CreatedAt, runs[i].ID, runs[j].CreatedAt, runs[j].ID) })
	picks := map[state.CIEntryID]ciPick{}
	var order []state.CIEntryID
	created, final := make([]time.Time, len(runs)), make([]bool, len(runs))
	if st.Workflows == nil {
		st.Workflows = map[string]state.EnvCursor{}
	}
	for i := range runs {
		r := &runs[i]
		created[i], final[i] = r.CreatedAt, rs.settled(r.Status, r.CreatedAt, r.UpdatedAt)
		line := r.WorkflowKey + "\x00" + r.HeadBranch
		wf := st.Workflows[line]
		ks, err := rs.runKeys(*r, wf.Before(r.ID, r.CreatedAt))
		if err != nil {
			return err
		}
		for _, h := range ks {
			id := state.CIEntryID{Kind: state.CIBuild, Name: r.WorkflowKey, Issue: h.key}
			if _, ok := picks[id]; !ok {
				order = append(order, id)
			}
			// Oldest first: a later run replaces an earlier one.
			picks[id] = ciPick{id: id, sourceID: r.ID, created: r.CreatedAt, status: r.Status, sha: r.HeadSHA, sources: h.sources, build: r}
		}
		if r.Status == providers.CISuccess && r.HeadBranch != "" {
			st.Workflows[line] = wf.With(state.EnvDeployment{ID: r.ID, SHA: r.HeadSHA, At: r.CreatedAt}, maxEnvHistory)
		}
	}
	entries, err := rs.writeCI(ctx, store, picks, order)
	if err != nil {
		return err
	}
	st.RunList = keepIfFinal(ls, final)
	st.RunWatermark = ciWatermark(st.RunWatermark, created, final)
	if rs.ix.opts.DryRun {
		return nil
	}
	return store.PutCI(*st, entries)
}

// deployments reads the deployments since the watermark and updates the
// deployment links of the issues each one contains.
func (rs *repoSync) deployments(ctx context.Context, src CISource, store CIStore, st *state.CIState) error {
	var deps []providers.Deployment
	ls, unchanged, err := src.Deployments(ctx, rs.repo, rs.ciSince(st.DeployWatermark), st.DeployList, func(d providers.Deployment) (bool, error) {
		deps = append(deps, d)
		return false, nil
	})
	if err != nil {
		return fmt.Errorf("list deployments: %w", err)
	}
	if unchanged {
		return nil
	}
	sort.SliceStable(deps, func(i, j int) bool { return older(deps[i].CreatedAt, deps[i].ID, deps[j].CreatedAt, deps[j].ID) })
	if st.Environments == nil {
		st.Environments = map[string]state.EnvCursor{}
	}
	picks := map[state.CIEntryID]ciPick{}
	var order []state.CIEntryID
	created, final := make([]time.Time, 0, len(deps)), make([]bool, 0, len(deps))
	for i := range deps {
		d := &deps[i]
		if !rs.t.Deployments(d.Environment) {
			continue
		}
		rs.rep.Deployments++
		created, final = append(created, d.CreatedAt), append(final, rs.settled(d.Status, d.CreatedAt, d.UpdatedAt))
		env := st.Environments[d.Environment]
		ks, err := rs.deploymentKeys(*d, env.Before(d.ID, d.CreatedAt))
		if err != nil {
			return err
		}
		for _, h := range ks {
			id := state.CIEntryID{Kind: state.CIDeployment, Name: d.Environment, Issue: h.key}
			if _, ok := picks[id]; !ok {
				order = append(order, id)
			}
			picks[id] = ciPick{id: id, sourceID: d.ID, created: d.CreatedAt, status: d.Status, sha: d.SHA, sources: h.sources, deploy: d}
		}
		if d.Status == providers.CISuccess {
			st.Environments[d.Environment] = env.With(state.EnvDeployment{ID: d.ID, SHA: d.SHA, At: d.CreatedAt}, maxEnvHistory)
		}
	}
	entries, err := rs.writeCI(ctx, store, picks, order)
	if err != nil {
		return err
	}
	st.DeployList = keepIfFinal(ls, final)
	st.DeployWatermark = ciWatermark(st.DeployWatermark, created, final)
	if rs.ix.opts.DryRun {
		return nil
	}
	return store.PutCI(*st, entries)
}

// writeCI writes the links of the picks that are newer than what the
// issues' links show, and returns the entries to store.
func (rs *repoSync) writeCI(ctx context.Context, store CIStore, picks map[state.CIEntryID]ciPick, order []state.CIEntryID) ([]state.CIEntry, error) {
	have, err := store.CIEntries(rs.key(), order)
	if err != nil {
		return nil, err
	}
	var entries []state.CIEntry
	for _, id := range order {
		p := picks[id]
		if old, ok := have[id]; ok && !old.Newer(p.sourceID, p.created) {
			continue
		}
		var e entity
		if p.build != nil {
			e = rs.ix.runEntity(rs.t, rs.key(), rs.repo, *p.build, id.Issue, p.sources)
		} else {
			e = rs.ix.deploymentEntity(rs.t, rs.key(), rs.repo, *p.deploy, id.Issue, p.sources)
		}
		if err := rs.lk.add(ctx, e); err != nil {
			return nil, err
		}
		entries = append(entries, state.CIEntry{ID: id, SourceID: p.sourceID, Status: p.status, SHA: p.sha, CreatedAt: p.created})
	}
	if err := rs.lk.flush(ctx); err != nil {
		return nil, err
	}
	return entries, nil
}

// older orders runs and deployments by creation, then id.
func older(a time.Time, aID int64, b time.Time, bID int64) bool {
	if !a.Equal(b) {
		return a.Before(b)
	}
	return aID < bID
}

// runKeys are the issues a run concerns: the keys its title and branch
// name, and the issues linked to the commits it builds — those reachable
// from its head and not from prev, the last successful run of the same
// workflow on the same branch before it (with none, the head commit
// alone). A run that still concerns no issue inherits those of its branch
// and its pull requests. All of it is read from the stored commit graph
// and links: no provider call.
func (rs *repoSync) runKeys(r providers.Run, prev string) ([]hit, error) {
	m := rs.ix.opts.Matcher
	hits := addHits(nil, "run title", m.Prose(r.Title))
	hits = addHits(hits, "run branch", m.Branch(r.HeadBranch))
	hits, err := rs.rangeIssues(hits, "built commit", r.HeadSHA, prev, "run", r.ID)
	if err != nil || len(hits) > 0 {
		return hits, err
	}
	if r.HeadBranch != "" {
		if hits, err = rs.linkedIssues(hits, "branch", GlobalID(rs.key(), KindBranch, r.HeadBranch)); err != nil {
			return nil, err
		}
	}
	for _, n := range r.PullNumbers {
		if hits, err = rs.linkedIssues(hits, "pull request", GlobalID(rs.key(), KindPull, strconv.Itoa(n))); err != nil {
			return nil, err
		}
	}
	return hits, nil
}

// rangeIssues adds the issues linked to the commits reachable from head
// and not from prev (with prev empty, or head not indexed, head alone).
func (rs *repoSync) rangeIssues(hits []hit, source, head, prev, what string, id int64) ([]hit, error) {
	shas := []string{head}
	if prev != "" && prev != head {
		store := rs.ix.opts.Store.(CIStore) // checked by ci
		rng, truncated, err := store.CommitRange(rs.key(), head, []string{prev}, maxRange)
		if err != nil {
			return nil, err
		}
		if truncated {
			rs.ix.log.Warn("commit range truncated", "provider", rs.t.Name, "repo", rs.repo.FullName,
				what, id, "commits", maxRange)
		}
		if len(rng) > 0 {
			shas = rng
		}
	}
	var err error
	for _, sha := range shas {
		if hits, err = rs.linkedIssues(hits, source, GlobalID(rs.key(), KindCommit, sha)); err != nil {
			return nil, err
		}
	}
	return hits, nil
}

// deploymentKeys are the issues a deployment contains: those linked to a
// commit reachable from the deployed commit and not from prev, the
// environment's previous successful deployment before it (with none, the
// deployed commit alone), plus keys its description or ref name. A
// deployment that still concerns no issue inherits those of the branch it
// deployed.
func (rs *repoSync) deploymentKeys(d providers.Deployment, prev string) ([]hit, error) {
	m := rs.ix.opts.Matcher
	hits := addHits(nil, "deployment description", m.Prose(d.Description))
	hits = addHits(hits, "deployed ref", m.Branch(d.Ref))
	hits, err := rs.rangeIssues(hits, "deployed commit", d.SHA, prev, "deployment", d.ID)
	if err != nil || len(hits) > 0 || d.Ref == "" {
		return hits, err
	}
	return rs.linkedIssues(hits, "deployed branch", GlobalID(rs.key(), KindBranch, d.Ref))
}

// linkedIssues adds to hits the issues the stored links of globalID are on.
func (rs *repoSync) linkedIssues(hits []hit, source, globalID string) ([]hit, error) {
	links, err := rs.ix.opts.Store.LinksOf(globalID)
	if err != nil {
		return nil, err
	}
	ks := make([]string, 0, len(links))
	for _, l := range links {
		ks = append(ks, l.Issue)
	}
	return addHits(hits, source, ks), nil
}

// ciIcon is the status icon of a build or deployment link.
func (ix *Indexer) ciIcon(s providers.CIStatus) *jiraclient.Icon {
	icon := &jiraclient.Icon{Title: string(s)}
	if ix.opts.StatusIconsURL != "" {
		icon.URL16 = ix.opts.StatusIconsURL + "/ci-" + string(s) + ".png"
	}
	return icon
}

// runEntity is the build link of one issue: the run it shows, titled
// "CI · build-and-test #812 · success · main@a1b2c3d".
func (ix *Indexer) runEntity(t Target, key state.RepoKey, repo providers.Repo, r providers.Run, issue string, sources []string) entity {
	name := r.Workflow
	if r.Number > 0 {
		name += " #" + strconv.Itoa(r.Number)
	}
	at := shortSHA(r.HeadSHA)
	if r.HeadBranch != "" {
		at = r.HeadBranch + "@" + at
	}
	title := fmt.Sprintf("CI · %s · %s · %s", name, r.Status, at)
	summary := fmt.Sprintf("%s · %s · %s", repo.FullName, firstLine(r.Title), r.CreatedAt.UTC().Format("2006-01-02"))
	u := r.HTMLURL
	if u == "" {
		u = repo.HTMLURL
	}
	l := ix.linkBase(t, key, repo, KindBuild, r.WorkflowKey, u, title, summary)
	l.Object.Status = &jiraclient.Status{Resolved: r.Status == providers.CISuccess, Icon: ix.ciIcon(r.Status)}
	return entity{kind: KindBuild, id: r.WorkflowKey, repo: t.Name + "/" + repo.FullName,
		hits: []hit{{key: issue, sources: sources}}, link: l}
}

// deploymentEntity is the deployment link of one issue for one
// environment, titled "Deployed to production · success · v1.4.2 ·
// 2026-12-04".
func (ix *Indexer) deploymentEntity(t Target, key state.RepoKey, repo providers.Repo, d providers.Deployment, issue string, sources []string) entity {
	if _, secret := ix.redact(key, KindDeployment, d.Environment, d.Environment); secret {
		// The name is part of the globalId, which cannot be redacted.
		return entity{kind: KindDeployment, id: d.Environment}
	}
	verb := "Deployment to"
	if d.Status == providers.CISuccess {
		verb = "Deployed to"
	}
	what := d.Ref
	if what == "" || what == d.SHA {
		what = shortSHA(d.SHA)
	}
	when := d.UpdatedAt
	if when.IsZero() {
		when = d.CreatedAt
	}
	title := fmt.Sprintf("%s %s · %s · %s · %s", verb, d.Environment, d.Status, what, when.UTC().Format("2006-01-02"))
	summary := repo.FullName + " · " + shortSHA(d.SHA)
	if desc := firstLine(d.Description); desc != "" {
		summary += " · " + desc
	}
	u := d.HTMLURL
	if u == "" {
		u = repo.HTMLURL
	}
	l := ix.linkBase(t, key, repo, KindDeployment, d.Environment, u, title, summary)
	l.Object.Status = &jiraclient.Status{Resolved: d.Status == providers.CISuccess, Icon: ix.ciIcon(d.Status)}
	return entity{kind: KindDeployment, id: d.Environment, repo: t.Name + "/" + repo.FullName,
		hits: []hit{{key: issue, sources: sources}}, link: l}
}
