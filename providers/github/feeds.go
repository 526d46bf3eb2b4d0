package github

// feeds.go: the owner-wide change feeds (indexer.PushFeed, indexer.PullFeed)
// that let a pass over thousands of repositories cost in proportion to
// what changed. Client implements both; App does not (see App).

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/jiralinkd/jiralinkd/providers"
)

// searchMaxResults is how many results GitHub's search API serves for one
// query, whatever total_count says ("the search API returns up to 1,000
// results for each search").
const searchMaxResults = 1000

// searchTimeLayout is an ISO 8601 UTC timestamp as the search syntax's
// date qualifiers take it (updated:>=2026-12-04T10:00:00Z).
const searchTimeLayout = "2006-01-02T15:04:05Z"

// ownerKinds remembers the owners that turned out to be user accounts, not
// organizations, so each later call addresses them right away
// (users/{user}/repos, the user: search qualifier). The zero value is ready.
type ownerKinds struct {
	mu    sync.Mutex
	users map[string]bool // lower-case login
}

func (k *ownerKinds) isUser(owner string) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.users[strings.ToLower(owner)]
}

func (k *ownerKinds) setUser(owner string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.users == nil {
		k.users = map[string]bool{}
	}
	k.users[strings.ToLower(owner)] = true
}

// pushedPath is the list of owner's repositories most recently pushed
// first: GET /orgs/{org}/repos, or for a user account GET
// /users/{user}/repos (type=owner: the repositories it owns, as an
// organization's type=all lists those the organization owns).
func (c *Client) pushedPath(owner string) string {
	if c.kinds.isUser(owner) {
		return "users/" + url.PathEscape(owner) + "/repos?type=owner&sort=pushed&direction=desc"
	}
	return "orgs/" + url.PathEscape(owner) + "/repos?type=all&sort=pushed&direction=desc"
}

// OwnerReposPushedSince lists owner's repositories most recently pushed
// first (sort=pushed&direction=desc) and stops reading at the first one
// pushed before since: Items are the repositories pushed at or after
// since, so an idle owner costs one call. A zero since lists them all.
//
// The first page is asked conditionally with prev (the state a previous
// call returned); 304 answers Unchanged with State prev, at no rate-limit
// cost: no repository on the first page changed, and since the list is
// ordered by push, nothing anywhere was pushed. (The first page also
// changes for reasons other than a push, such as a description edit; the
// answer is then a read of the pushed repositories, still correct.) An
// owner that is not an organization (404 on /orgs/{owner}) is read as a
// user account from then on.
func (c *Client) OwnerReposPushedSince(ctx context.Context, owner string, since time.Time, prev providers.ListState) (providers.Listed[providers.Repo], error) {
	l, err := c.reposPushedSince(ctx, owner, since, prev)
	if errors.Is(err, providers.ErrNotFound) && !c.kinds.isUser(owner) {
		c.kinds.setUser(owner)
		l, err = c.reposPushedSince(ctx, owner, since, prev)
	}
	return l, err
}

func (c *Client) reposPushedSince(ctx context.Context, owner string, since time.Time, prev providers.ListState) (providers.Listed[providers.Repo], error) {
	path := c.pushedPath(owner)
	first := ""
	if len(prev.ETags) > 0 && prev.Query == path {
		first = prev.ETags[0]
	}
	var out []providers.Repo
	etag, nm, err := providers.Stream(pages[*gh.Repository](ctx, c, path), first, func(r *gh.Repository) (bool, error) {
		repo := convertRepo(r)
		if !since.IsZero() && repo.PushedAt.Before(since) {
			return true, nil
		}
		out = append(out, repo)
		return false, nil
	})
	switch {
	case err != nil:
		return providers.Listed[providers.Repo]{}, err
	case nm:
		return providers.Listed[providers.Repo]{State: prev, Unchanged: true}, nil
	}
	return providers.Listed[providers.Repo]{Items: out, State: providers.ListState{ETags: []string{etag}, Query: path}}, nil
}

// OwnerPullActivity names the repositories of owner in which a pull
// request was opened, edited, closed, merged or otherwise updated at or
// after since (from forks too: a pull request belongs to its base
// repository), with one issue search: GET /search/issues?q=is:pr
// org:{owner} updated:>={since}, most recently updated first, 100 a page.
// Each repository is named once, by FullName (search results carry only
// repository_url).
//
// Search is eventually consistent and has its own budget (30 requests a
// minute, X-RateLimit-Resource: search): the caller passes a since with a
// safety overlap before its last pass. When the search cannot answer
// completely — more than the 1,000 results GitHub serves, or
// incomplete_results (the search timed out) — the error wraps
// providers.ErrFeedIncomplete and the caller lists each repository's pull
// requests instead. A user account is searched with user:{owner} (GitHub
// answers 422 to org: naming a user); the first 422 switches the owner.
func (c *Client) OwnerPullActivity(ctx context.Context, owner string, since time.Time) ([]providers.PullActivity, error) {
	acts, err := c.pullActivity(ctx, owner, since)
	var ae *providers.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusUnprocessableEntity && !c.kinds.isUser(owner) {
		c.kinds.setUser(owner)
		acts, err = c.pullActivity(ctx, owner, since)
	}
	return acts, err
}

// searchQuery is the issue search of owner's pull requests updated at or
// after since.
func (c *Client) searchQuery(owner string, since time.Time) string {
	qual := "org:"
	if c.kinds.isUser(owner) {
		qual = "user:"
	}
	q := "is:pr " + qual + owner
	if !since.IsZero() {
		q += " updated:>=" + since.UTC().Format(searchTimeLayout)
	}
	return q
}

func (c *Client) pullActivity(ctx context.Context, owner string, since time.Time) ([]providers.PullActivity, error) {
	query := url.Values{"q": {c.searchQuery(owner, since)}, "sort": {"updated"}, "order": {"desc"}}.Encode()
	var (
		out  []providers.PullActivity
		seen = map[string]bool{}
	)
	for page := 1; ; page++ {
		var res gh.IssuesSearchResult
		pg, err := c.getObjectPage(ctx, "search/issues?"+query, page, "", &res)
		if err != nil {
			return nil, err
		}
		if res.GetIncompleteResults() {
			return nil, fmt.Errorf("%s: search of %s's pull requests timed out (incomplete_results): %w", c.name, owner, providers.ErrFeedIncomplete)
		}
		if n := res.GetTotal(); n > searchMaxResults {
			return nil, fmt.Errorf("%s: %d pull requests of %s changed, more than the %d a search serves: %w",
				c.name, n, owner, searchMaxResults, providers.ErrFeedIncomplete)
		}
		for _, it := range res.Issues {
			name, ok := repoFromURL(it.GetRepositoryURL())
			if !ok {
				return nil, fmt.Errorf("%s: search result %s: unexpected repository_url %q", c.name, it.GetHTMLURL(), it.GetRepositoryURL())
			}
			if k := strings.ToLower(name); !seen[k] {
				seen[k] = true
				out = append(out, providers.PullActivity{FullName: name})
			}
		}
		if !pg.Next || len(res.Issues) == 0 {
			return out, nil
		}
	}
}

// repoFromURL is the owner/name of a repository's API URL
// ({base}repos/{owner}/{name}, the repository_url of a search result).
func repoFromURL(raw string) (string, bool) {
	u, err := url.Parse(raw)
	if err != nil {
		return "", false
	}
	i := strings.LastIndex(u.Path, "/repos/")
	if i < 0 {
		return "", false
	}
	owner, name, ok := strings.Cut(u.Path[i+len("/repos/"):], "/")
	if !ok || owner == "" || name == "" || strings.Contains(name, "/") {
		return "", false
	}
	return owner + "/" + name, true
}
