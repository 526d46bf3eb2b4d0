package indexer

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

// repoSet collects a target's repos: each once (by id), filtered, archived
// ones dropped unless wanted.
type repoSet struct {
	t    Target
	seen map[int64]bool
	list []providers.Repo
}

func newRepoSet(t Target) *repoSet { return &repoSet{t: t, seen: map[int64]bool{}} }

func (s *repoSet) add(r providers.Repo, explicit bool) {
	if s.seen[r.ID] {
		return
	}
	if r.Archived && !s.t.IncludeArchived {
		return
	}
	if !explicit && s.t.Match != nil && !s.t.Match(r.FullName) {
		return
	}
	s.seen[r.ID] = true
	s.list = append(s.list, r)
}

// put adds r, or replaces the repo of the same id with it (a fresher
// listing of it).
func (s *repoSet) put(r providers.Repo) {
	if !s.seen[r.ID] {
		s.add(r, false)
		return
	}
	for i := range s.list {
		if s.list[i].ID == r.ID {
			s.list[i] = r
		}
	}
}

func (s *repoSet) sorted() []providers.Repo {
	sort.Slice(s.list, func(i, j int) bool { return s.list[i].FullName < s.list[j].FullName })
	return s.list
}

// discover lists the repos a target covers: every repo of its owners plus
// its explicit repos. Listings are conditional; a 304 reuses the cached
// result. Explicit repos the provider does not know (404) are returned in
// missing; any other owner or repo that cannot be read is reported in err
// while the others still sync, and the repos the last successful listing of
// it returned are in unreached (this pass could not sync them: they are
// shown failed, not silently skipped).
func (ix *Indexer) discover(ctx context.Context, t Target) (repos, unreached []providers.Repo, missing []string, err error) {
	var (
		ok     = newRepoSet(t)
		failed = newRepoSet(t)
		errs   []error
	)
	for _, owner := range t.Owners {
		repos, err := ix.discoverOne(ctx, t, ownerKey(owner), func(prev providers.ListState) (providers.Listed[providers.Repo], error) {
			return t.Source.OwnerRepos(ctx, owner, prev)
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("list repositories of %s: %w", owner, err))
			for _, r := range repos {
				failed.add(r, false)
			}
			continue
		}
		for _, r := range repos {
			ok.add(r, false)
		}
	}
	for _, full := range t.Repos {
		repos, err := ix.discoverOne(ctx, t, repoKey(full), func(prev providers.ListState) (providers.Listed[providers.Repo], error) {
			return t.Source.Repo(ctx, full, prev)
		})
		if errors.Is(err, providers.ErrNotFound) {
			missing = append(missing, full)
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("read repository %s: %w", full, err))
			for _, r := range repos {
				failed.add(r, true)
			}
			continue
		}
		for _, r := range repos {
			ok.add(r, true)
		}
	}
	for _, r := range failed.sorted() {
		if !ok.seen[r.ID] {
			unreached = append(unreached, r)
		}
	}
	return ok.sorted(), unreached, missing, errors.Join(errs...)
}

func ownerKey(owner string) string { return "owner:" + owner }
func repoKey(full string) string   { return "repo:" + strings.ToLower(full) }

// coveredRepos is what the target's last discovery found, from the cache
// alone (no provider call): the repos a pass that cannot start would have
// synced.
func (ix *Indexer) coveredRepos(t Target) []providers.Repo {
	set := newRepoSet(t)
	keys := make([]string, 0, len(t.Owners)+len(t.Repos))
	for _, o := range t.Owners {
		keys = append(keys, ownerKey(o))
	}
	for _, r := range t.Repos {
		keys = append(keys, repoKey(r))
	}
	for i, k := range keys {
		d, ok, err := ix.opts.Store.Discovery(t.Name, k)
		if err != nil || !ok {
			continue
		}
		for _, r := range d.Repos {
			set.add(r, i >= len(t.Owners))
		}
	}
	return set.sorted()
}

// discoverOne runs one discovery listing through its cache. On failure it
// still returns the last cached result, with the error.
func (ix *Indexer) discoverOne(ctx context.Context, t Target, key string, list func(providers.ListState) (providers.Listed[providers.Repo], error)) ([]providers.Repo, error) {
	cached, ok, err := ix.opts.Store.Discovery(t.Name, key)
	if err != nil {
		return nil, err
	}
	prev := providers.ListState{}
	if ok {
		prev = cached.State
	}
	l, err := list(prev)
	if err != nil {
		return cached.Repos, err
	}
	if l.Unchanged {
		return cached.Repos, nil
	}
	if !ix.opts.DryRun {
		if err := ix.opts.Store.PutDiscovery(t.Name, key, state.Discovery{State: l.State, Repos: l.Items}); err != nil {
			return nil, err
		}
	}
	return l.Items, nil
}

func filterRepo(repos []providers.Repo, full string) []providers.Repo {
	for _, r := range repos {
		if strings.EqualFold(r.FullName, full) {
			return []providers.Repo{r}
		}
	}
	return nil
}
