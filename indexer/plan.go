package indexer

// plan.go: what a pass reads. A full sweep reads every repository's lists
// (conditionally: an unchanged list is a free 304). Between sweeps a pass
// reads only what the provider's change feeds report (PushFeed: the
// repositories pushed since the last pass; PullFeed: those with pull or
// merge request activity), plus every repository with unfinished business
// (a failed sync, a walk in progress, a pending prune). Repositories never
// synced completely are backfills: they come after the fresh work, most
// recently pushed first, and a daemon runs them in its backfill lane
// (Backfill) so that they cannot hold up scheduled passes.

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

// PassOptions adjusts one pass.
type PassOptions struct {
	// OnlyRepo, when set, limits the pass to that repository (owner/name),
	// read whole.
	OnlyRepo string
	// Full makes the pass a full sweep whether or not one is due
	// (sync --full).
	Full bool
}

// How far before its mark a change feed is read again. GitHub's search
// index lags behind writes (and the pull mark is this host's clock); the
// pushed-first listing is read from GitHub's own records by GitHub's
// clock, and its overlap only covers pushes recorded while the last
// listing was read. What is read twice costs a conditional request; what
// is missed waits for a sweep.
const (
	pullOverlap = 10 * time.Minute
	pushOverlap = 2 * time.Minute
)

// plannedRepo is a repository a pass syncs, with the parts it reads.
type plannedRepo struct {
	repo  providers.Repo
	scope Scope
}

// passPlan is what a pass does.
type passPlan struct {
	sweep bool
	// pruneOK: discovery read every listing (a sweep, or a pass of a
	// source without a push feed), so repos it did not return vanished.
	pruneOK   bool
	repos     []providers.Repo          // every repository covered (pruning, health)
	unreached []providers.Repo          // covered, but discovery could not read them
	missing   []string                  // explicit repositories the provider does not know
	derr      error                     // discovery failed (partly)
	fresh     []plannedRepo             // indexed repositories to sync, in order
	backfill  []providers.Repo          // never synced completely, most recently pushed first
	unchanged int                       // indexed repositories the feeds found unchanged
	states    map[int64]state.RepoState // the stored repos the plan was made from
	// backfillFailed counts the backfills whose last try failed.
	backfillFailed int
	marks          map[string]time.Time
	feeds          map[string]providers.ListState // feed listings' states, stored once the pass completes
}

// sweepDue reports whether t's next pass must be a full sweep: none
// recorded yet (the backfill counts as the first), or the last one older
// than t.FullSweepInterval. A source without change feeds, or a target
// without owners (the feeds are per owner), always sweeps: it has no
// cheaper way to learn what changed.
func sweepDue(t Target, h state.Health, now time.Time) bool {
	_, push := t.Source.(PushFeed)
	_, pull := t.Source.(PullFeed)
	if t.FullSweepInterval <= 0 || !push && !pull || len(t.Owners) == 0 || h.LastSweep.IsZero() {
		return true
	}
	return now.Sub(h.LastSweep) >= t.FullSweepInterval
}

// health is the stored health of system (zero if none).
func (ix *Indexer) health(system string) (state.Health, error) {
	hs, err := ix.opts.Store.Health()
	if err != nil {
		return state.Health{}, err
	}
	for _, h := range hs {
		if h.System == system {
			return h, nil
		}
	}
	return state.Health{}, nil
}

// plan decides what a pass over t reads.
func (ix *Indexer) plan(ctx context.Context, t Target, o PassOptions, start time.Time) passPlan {
	if o.OnlyRepo == "" && !o.Full {
		if p, ok := ix.planBetweenSweeps(ctx, t, start); ok {
			return p
		}
	}
	return ix.planSweep(ctx, t, o)
}

// planBetweenSweeps plans a pass from the change feeds when no sweep is
// due; ok false means the pass must be a sweep.
func (ix *Indexer) planBetweenSweeps(ctx context.Context, t Target, start time.Time) (passPlan, bool) {
	h, err := ix.health(t.Name)
	if err == nil && !sweepDue(t, h, start) {
		p, err := ix.planChanges(ctx, t, h, start)
		if err == nil {
			return p, true
		}
		if ctx.Err() != nil {
			return passPlan{derr: ctx.Err()}, true
		}
		ix.log.Warn("change feeds unavailable: this pass is a full sweep", "provider", t.Name, "err", err)
	}
	return passPlan{}, false
}

// planSweep plans a full sweep: every repository discovered, each read
// whole.
func (ix *Indexer) planSweep(ctx context.Context, t Target, o PassOptions) passPlan {
	p := passPlan{sweep: o.OnlyRepo == "", pruneOK: o.OnlyRepo == ""}
	p.repos, p.unreached, p.missing, p.derr = ix.discover(ctx, t)
	if o.OnlyRepo != "" {
		p.repos = filterRepo(p.repos, o.OnlyRepo)
		p.unreached = filterRepo(p.unreached, o.OnlyRepo)
	}
	states, err := ix.repoStates(t.Name)
	if err != nil {
		p.derr = errors.Join(p.derr, err)
	}
	p.states = states
	p.marks = map[string]time.Time{}
	for _, owner := range t.Owners {
		// The sweep read every list: the feeds start from here.
		p.marks[pushedMark(owner)] = newestPush(p.repos, owner)
		p.marks[pullsMark(owner)] = ix.opts.Now()
	}
	for _, r := range p.repos {
		p.add(r, states, FullScope)
	}
	p.order()
	return p
}

// planChanges plans a pass between sweeps from the change feeds. It fails
// (and the caller sweeps) when a feed cannot be read or has no mark yet.
func (ix *Indexer) planChanges(ctx context.Context, t Target, h state.Health, start time.Time) (passPlan, error) {
	p := passPlan{marks: map[string]time.Time{}, feeds: map[string]providers.ListState{}}
	states, err := ix.repoStates(t.Name)
	if err != nil {
		return p, err
	}
	p.states = states
	pushFeed, hasPush := t.Source.(PushFeed)
	pullFeed, hasPull := t.Source.(PullFeed)
	for _, owner := range t.Owners {
		_, okPush := h.Feeds[pushedMark(owner)]
		_, okPull := h.Feeds[pullsMark(owner)]
		if hasPush && !okPush || hasPull && !okPull {
			return p, fmt.Errorf("no change feed marks for %s yet", owner)
		}
	}
	covered := newRepoSet(t)
	if hasPush {
		// Between sweeps the repositories are those of the last sweep plus
		// those pushed since (new ones appear there too).
		for _, r := range ix.coveredRepos(t) {
			covered.add(r, true)
		}
	} else {
		// Without a push feed (GitLab: last_activity_at is written at most
		// hourly), every repository's branches and tags are read anyway;
		// discovery costs one call per 100 of them and keeps new, deleted
		// and moved ones current.
		p.repos, p.unreached, p.missing, p.derr = ix.discover(ctx, t)
		p.pruneOK = true
		for _, r := range p.repos {
			covered.add(r, true)
		}
	}
	pushed := map[int64]bool{}
	pulled := map[int64]bool{}
	pulledNames := map[string]bool{}
	allPulls := map[string]bool{} // owners whose pull request feed failed
	for _, owner := range t.Owners {
		if hasPush {
			mark := h.Feeds[pushedMark(owner)]
			repos, newest, next, err := ix.pushedSince(ctx, t, pushFeed, owner, mark.Add(-pushOverlap))
			if err != nil {
				// The listing discovery itself uses: as a failed discovery,
				// nothing of the owner can be known to be current.
				p.derr = errors.Join(p.derr, fmt.Errorf("list repositories of %s pushed since %s: %w", owner, mark.Add(-pushOverlap).Format(time.RFC3339), err))
				p.unreached = append(p.unreached, ownedBy(covered.list, owner)...)
				continue
			}
			for _, r := range repos {
				covered.put(r)
				// The overlap lists again what the last pass read: a repo
				// synced as of this very push is not read again.
				if st, ok := states[r.ID]; !ok || !st.Repo.PushedAt.Equal(r.PushedAt) || st.Status != state.RepoOK {
					pushed[r.ID] = true
				}
			}
			if err := ix.rememberRepos(t, owner, repos); err != nil {
				return p, err
			}
			p.marks[pushedMark(owner)] = latest(mark, newest)
			if next != nil {
				p.feeds[pushedMark(owner)] = *next
			}
		}
		if hasPull {
			mark := h.Feeds[pullsMark(owner)]
			act, err := pullFeed.OwnerPullActivity(ctx, owner, mark.Add(-pullOverlap))
			if err != nil {
				// Too much changed for the feed (ErrFeedIncomplete), or
				// search unavailable: this pass reads the pull requests of
				// every repository of owner instead.
				lvl := ix.log.Warn
				if errors.Is(err, providers.ErrFeedIncomplete) {
					lvl = ix.log.Info
				}
				lvl("pull request feed unavailable: reading every repository's pull requests", "provider", t.Name, "owner", owner, "err", err)
				allPulls[strings.ToLower(owner)] = true
			}
			for _, a := range act {
				if a.RepoID != 0 {
					pulled[a.RepoID] = true
				}
				pulledNames[strings.ToLower(a.FullName)] = true
			}
			p.marks[pullsMark(owner)] = start
		}
	}
	unreached := map[int64]bool{}
	for _, r := range p.unreached {
		unreached[r.ID] = true
	}
	p.repos = p.repos[:0]
	for _, r := range covered.sorted() {
		if unreached[r.ID] {
			continue
		}
		p.repos = append(p.repos, r)
		scope := FullScope
		if ownerOf(t, r.FullName) != "" {
			scope = Scope{
				Branches: !hasPush || pushed[r.ID],
				Tags:     !hasPush || pushed[r.ID],
				CI:       !hasPush || pushed[r.ID],
				Pulls: !hasPull || pushed[r.ID] || pulled[r.ID] || pulledNames[strings.ToLower(r.FullName)] ||
					allPulls[ownerOf(t, r.FullName)],
			}
		}
		p.add(r, states, scope)
	}
	p.order()
	return p, nil
}

// ownedBy is the repos under owner.
func ownedBy(repos []providers.Repo, owner string) []providers.Repo {
	var out []providers.Repo
	for _, r := range repos {
		if under(owner, r.FullName) {
			out = append(out, r)
		}
	}
	return out
}

// pushedSince reads owner's repositories pushed at or after since,
// conditionally on the listing the last completed pass read (its state is
// stored with the feed marks, when the pass completes: a conditional 304
// must never hide pushes a pass did not finish), and the newest push
// among them. next is the listing's state to store; nil when unchanged.
func (ix *Indexer) pushedSince(ctx context.Context, t Target, f PushFeed, owner string, since time.Time) (repos []providers.Repo, newest time.Time, next *providers.ListState, err error) {
	cached, _, err := ix.opts.Store.Discovery(t.Name, pushedMark(owner))
	if err != nil {
		return nil, time.Time{}, nil, err
	}
	l, err := f.OwnerReposPushedSince(ctx, owner, since, cached.State)
	if err != nil || l.Unchanged {
		return nil, time.Time{}, nil, err // unchanged: nothing pushed since the last pass
	}
	return l.Items, newestPush(l.Items, owner), &l.State, nil
}

// saveFeeds stores the feed listings' states of a completed pass (see
// pushedSince).
func (ix *Indexer) saveFeeds(t Target, feeds map[string]providers.ListState) error {
	if ix.opts.DryRun {
		return nil
	}
	for key, st := range feeds {
		if err := ix.opts.Store.PutDiscovery(t.Name, key, state.Discovery{State: st}); err != nil {
			return err
		}
	}
	return nil
}

// rememberRepos adds repositories the push feed found that owner's cached
// discovery lacks (created or moved in since the last sweep), or whose
// identity changed (renamed), so that later passes cover them too.
func (ix *Indexer) rememberRepos(t Target, owner string, repos []providers.Repo) error {
	if len(repos) == 0 || ix.opts.DryRun {
		return nil
	}
	d, ok, err := ix.opts.Store.Discovery(t.Name, ownerKey(owner))
	if err != nil || !ok {
		return err
	}
	at := make(map[int64]int, len(d.Repos))
	for i, r := range d.Repos {
		at[r.ID] = i
	}
	changed := false
	for _, r := range repos {
		i, had := at[r.ID]
		switch {
		case !had:
			at[r.ID] = len(d.Repos)
			d.Repos = append(d.Repos, r)
			changed = true
		case d.Repos[i].FullName != r.FullName || d.Repos[i].HTMLURL != r.HTMLURL || d.Repos[i].DefaultBranch != r.DefaultBranch:
			d.Repos[i] = r
			changed = true
		}
	}
	if !changed {
		return nil
	}
	return ix.opts.Store.PutDiscovery(t.Name, ownerKey(owner), d)
}

// add files r under fresh work (with the parts scope reads; nothing if
// scope is empty and r has no unfinished business) or under backfills.
func (p *passPlan) add(r providers.Repo, states map[int64]state.RepoState, scope Scope) {
	st, known := states[r.ID]
	switch {
	case !known || st.LastSuccess.IsZero():
		p.backfill = append(p.backfill, r)
		if known && st.Status == state.RepoFailed {
			p.backfillFailed++
		}
	case unfinished(st) || st.Repo.HTMLURL != "" && st.Repo.HTMLURL != r.HTMLURL:
		p.fresh = append(p.fresh, plannedRepo{repo: r, scope: FullScope})
	case scope == Scope{}:
		p.unchanged++
	default:
		p.fresh = append(p.fresh, plannedRepo{repo: r, scope: scope})
	}
}

// order puts the backfills most recently pushed first (their newest
// history is what users look for first).
func (p *passPlan) order() {
	sort.SliceStable(p.backfill, func(i, j int) bool {
		a, b := p.backfill[i], p.backfill[j]
		if !a.PushedAt.Equal(b.PushedAt) {
			return a.PushedAt.After(b.PushedAt)
		}
		return a.FullName < b.FullName
	})
}

// unfinished reports whether an indexed repository must be read whole in
// any pass: its last sync failed, a walk is in progress, a prune is
// pending, or its links are of an older format.
func unfinished(st state.RepoState) bool {
	return st.Status == state.RepoFailed || len(st.Walks) > 0 || st.PrunePending || st.LinkFormat < linkFormat
}

// repoStates is every stored repository of provider, by id.
func (ix *Indexer) repoStates(provider string) (map[int64]state.RepoState, error) {
	all, err := ix.opts.Store.Repos()
	if err != nil {
		return nil, err
	}
	out := map[int64]state.RepoState{}
	for _, st := range all {
		if st.Key.Provider == provider {
			out[st.Key.ID] = st
		}
	}
	return out, nil
}

// under reports whether fullName (owner/name, or group/sub/name) lies
// under owner.
func under(owner, fullName string) bool {
	return len(fullName) > len(owner) && fullName[len(owner)] == '/' && strings.EqualFold(fullName[:len(owner)], owner)
}

// ownerOf is the lower-cased owner of t that fullName lies under ("" if
// none): a change feed of that owner covers it.
func ownerOf(t Target, fullName string) string {
	for _, o := range t.Owners {
		if under(o, fullName) {
			return strings.ToLower(o)
		}
	}
	return ""
}

// newestPush is the newest PushedAt among repos under owner.
func newestPush(repos []providers.Repo, owner string) time.Time {
	var n time.Time
	for _, r := range repos {
		if under(owner, r.FullName) && r.PushedAt.After(n) {
			n = r.PushedAt
		}
	}
	return n
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

func pushedMark(owner string) string { return "pushed:" + strings.ToLower(owner) }
func pullsMark(owner string) string  { return "pulls:" + strings.ToLower(owner) }
