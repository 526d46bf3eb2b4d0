package github

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/jiralinkd/jiralinkd/providers"
)

// withWait makes go-github wait for a primary rate-limit reset it already
// knows about instead of failing the call without sending it. (Waiting for
// limits seen in a response is the retry transport's job.)
func withWait(ctx context.Context) context.Context {
	return context.WithValue(ctx, gh.SleepUntilPrimaryRateLimitResetWhenRateLimited, true)
}

// getPage GETs one page of a list into items. etag, when set, makes the
// request conditional; a 304 answer returns notModified with no error.
func getPage[T any](ctx context.Context, c *Client, path string, page int, etag string) (items []T, resp *gh.Response, notMod bool, err error) {
	sep := "?"
	if strings.Contains(path, "?") {
		sep = "&"
	}
	u := fmt.Sprintf("%s%sper_page=%d&page=%d", path, sep, perPage, page)
	req, err := c.newRequest(u)
	if err != nil {
		return nil, nil, false, err
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err = c.gh.Do(withWait(ctx), req, &items)
	if notModified(resp) {
		return nil, resp, true, nil
	}
	if err != nil {
		return nil, resp, false, c.wrap("GET "+path, resp, err)
	}
	return items, resp, false, nil
}

// pages adapts one go-github list to providers.PageFunc.
func pages[T any](ctx context.Context, c *Client, path string) providers.PageFunc[T] {
	return func(n int, etag string) (providers.Page[T], error) {
		items, resp, nm, err := getPage[T](ctx, c, path, n, etag)
		if err != nil {
			return providers.Page[T]{}, err
		}
		if nm {
			return providers.Page[T]{NotModified: true}, nil
		}
		return providers.Page[T]{Items: items, ETag: resp.Header.Get("ETag"), Next: resp.NextPage != 0}, nil
	}
}

// listAll reads a whole list conditionally (see providers.ListAll).
func listAll[T any](ctx context.Context, c *Client, path string, prev providers.ListState) (providers.Listed[T], error) {
	return providers.ListAll(pages[T](ctx, c, path), prev, perPage)
}

// OwnerRepos lists every repository of an organization (or, failing that,
// a user) that the token can see.
func (c *Client) OwnerRepos(ctx context.Context, owner string, prev providers.ListState) (providers.Listed[providers.Repo], error) {
	l, err := listAll[*gh.Repository](ctx, c, "orgs/"+url.PathEscape(owner)+"/repos?type=all&sort=full_name", prev)
	if err != nil {
		return providers.Listed[providers.Repo]{}, err
	}
	return providers.Listed[providers.Repo]{Items: providers.Convert(l.Items, convertRepo), State: l.State, Unchanged: l.Unchanged}, nil
}

// Repo reads one repository by owner/name, conditionally. A renamed or
// transferred repository is followed (GitHub answers 301 and the HTTP client
// follows it); the returned Repo carries its current name.
func (c *Client) Repo(ctx context.Context, fullName string, prev providers.ListState) (providers.Listed[providers.Repo], error) {
	owner, name, ok := strings.Cut(fullName, "/")
	if !ok {
		return providers.Listed[providers.Repo]{}, fmt.Errorf("%s: repository %q is not owner/name", c.name, fullName)
	}
	path := "repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name)
	req, err := c.newRequest(path)
	if err != nil {
		return providers.Listed[providers.Repo]{}, err
	}
	if len(prev.ETags) == 1 {
		req.Header.Set("If-None-Match", prev.ETags[0])
	}
	var r gh.Repository
	resp, err := c.gh.Do(withWait(ctx), req, &r)
	if notModified(resp) {
		return providers.Listed[providers.Repo]{State: prev, Unchanged: true}, nil
	}
	if err != nil {
		return providers.Listed[providers.Repo]{}, c.wrap("GET "+path, resp, err)
	}
	return providers.Listed[providers.Repo]{
		Items: []providers.Repo{convertRepo(&r)},
		State: providers.ListState{ETags: []string{resp.Header.Get("ETag")}},
	}, nil
}

// Branches lists a repository's branches with their head commits.
func (c *Client) Branches(ctx context.Context, repo providers.Repo, prev providers.ListState) (providers.Listed[providers.Branch], error) {
	l, err := listAll[*gh.Branch](ctx, c, repoPath(repo)+"/branches", prev)
	if err != nil {
		return providers.Listed[providers.Branch]{}, err
	}
	return providers.Listed[providers.Branch]{Items: providers.Convert(l.Items, convertBranch), State: l.State, Unchanged: l.Unchanged}, nil
}

// Tags lists a repository's tags with the commits they point to.
func (c *Client) Tags(ctx context.Context, repo providers.Repo, prev providers.ListState) (providers.Listed[providers.Tag], error) {
	l, err := listAll[*gh.RepositoryTag](ctx, c, repoPath(repo)+"/tags", prev)
	if err != nil {
		return providers.Listed[providers.Tag]{}, err
	}
	return providers.Listed[providers.Tag]{Items: providers.Convert(l.Items, convertTag), State: l.State, Unchanged: l.Unchanged}, nil
}

// Commits streams the history reachable from head (a commit SHA), newest
// first as GitHub lists it, one page of 100 at a time from startPage on,
// calling fn for each commit until fn returns stop or the history ends.
// Only the list endpoint is used: it carries message, author and parents,
// never patches.
func (c *Client) Commits(ctx context.Context, repo providers.Repo, head string, startPage int, fn func(providers.Commit, int) (stop bool, err error)) error {
	path := repoPath(repo) + "/commits?sha=" + url.QueryEscape(head)
	_, _, err := providers.StreamFrom(pages[*gh.RepositoryCommit](ctx, c, path), startPage, "", func(it *gh.RepositoryCommit, page int) (bool, error) {
		return fn(convertCommit(it), page)
	})
	return err
}

// PullRequests streams the repository's pull requests of every state, most
// recently updated first, calling fn until it returns stop (the caller stops
// at its watermark; GitHub cannot filter by update time, so since is not
// sent). The first page is asked conditionally with prev: any
// new or updated pull request changes the first page, so a 304 there means
// nothing changed since.
func (c *Client) PullRequests(ctx context.Context, repo providers.Repo, _ time.Time, prev providers.ListState, fn func(providers.PullRequest) (stop bool, err error)) (providers.ListState, bool, error) {
	path := repoPath(repo) + "/pulls?state=all&sort=updated&direction=desc"
	first := ""
	if len(prev.ETags) > 0 {
		first = prev.ETags[0]
	}
	etag, nm, err := providers.Stream(pages[*gh.PullRequest](ctx, c, path), first, func(it *gh.PullRequest) (bool, error) {
		return fn(convertPull(it))
	})
	switch {
	case err != nil:
		return providers.ListState{}, false, err
	case nm:
		return prev, true, nil
	}
	return providers.ListState{ETags: []string{etag}}, false, nil
}

// repoPath addresses a repository by owner/name, the documented form.
func repoPath(r providers.Repo) string {
	owner, name, _ := strings.Cut(r.FullName, "/")
	return "repos/" + url.PathEscape(owner) + "/" + url.PathEscape(name)
}

// timeOf converts a go-github timestamp, nil-safe.
func timeOf(ts *gh.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.Time
}

// Lookup reads an indexed repository as it is now, by its stored
// owner/name (GET /repos/{owner}/{repo}). GitHub answers a renamed or
// transferred repository's former name with 301 to the repository by id,
// which the HTTP client follows, so the result carries the current name.
// A deleted repository, one the token no longer sees, and a former name
// now taken by another repository (a different id: GitHub no longer leads
// from that name to the stored one) answer an error wrapping
// providers.ErrNotFound.
func (c *Client) Lookup(ctx context.Context, stored providers.Repo) (providers.Repo, error) {
	l, err := c.Repo(ctx, stored.FullName, providers.ListState{})
	if err != nil {
		return providers.Repo{}, err
	}
	r := l.Items[0]
	if r.ID != stored.ID {
		return providers.Repo{}, fmt.Errorf("%s: %s now names repository id %d, not the indexed id %d: %w",
			c.name, stored.FullName, r.ID, stored.ID, providers.ErrNotFound)
	}
	return r, nil
}
