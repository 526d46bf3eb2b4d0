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

// discover lists the repos a target covers: every repo of its owners plus
// its explicit repos, filtered, archived ones dropped unless wanted, each
// once (by id). Listings are conditional; a 304 reuses the cached result.
// Explicit repos the provider does not know (404) are returned in missing;
// any other owner or repo that cannot be read is reported in err while the
// others still sync.
func (ix *Indexer) discover(ctx context.Context, t Target) (repos []providers.Repo, missing []string, err error) {
	var (
		out  []providers.Repo
		seen = map[int64]bool{}
		errs []error
	)
	add := func(r providers.Repo, explicit bool) {
		if seen[r.ID] {
			return
		}
		if r.Archived && !t.IncludeArchived {
			return
		}
		if !explicit && t.Match != nil && !t.Match(r.FullName) {
			return
		}
		seen[r.ID] = true
		out = append(out, r)
	}
	for _, owner := range t.Owners {
		repos, err := ix.discoverOne(ctx, t, "owner:"+owner, func(prev providers.ListState) (providers.Listed[providers.Repo], error) {
			return t.Source.OwnerRepos(ctx, owner, prev)
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("list repositories of %s: %w", owner, err))
			continue
		}
		for _, r := range repos {
			add(r, false)
		}
	}
	for _, full := range t.Repos {
		repos, err := ix.discoverOne(ctx, t, "repo:"+strings.ToLower(full), func(prev providers.ListState) (providers.Listed[providers.Repo], error) {
			return t.Source.Repo(ctx, full, prev)
		})
		if errors.Is(err, providers.ErrNotFound) {
			missing = append(missing, full)
			continue
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("read repository %s: %w", full, err))
			continue
		}
		for _, r := range repos {
			add(r, true)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].FullName < out[j].FullName })
	return out, missing, errors.Join(errs...)
}

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
		return nil, err
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
