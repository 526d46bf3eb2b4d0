package github

// history.go: the size of a branch's history in one request (the
// backfill estimate, indexer.HistorySizer).

import (
	"context"
	"net/url"

	gh "github.com/google/go-github/v62/github"

	"github.com/jiralinkd/jiralinkd/providers"
)

// HistorySize reports how many commits the history reachable from head
// holds, in one request: the commit list (repos/list-commits, the
// endpoint Commits reads) at one commit per page, whose Link header's
// rel="last" page number is then the number of commits. A history of one
// commit has no Link header (every item fits on page 1); an empty
// repository answers 409, returned as an error.
func (c *Client) HistorySize(ctx context.Context, repo providers.Repo, head string) (int, error) {
	path := repoPath(repo) + "/commits?sha=" + url.QueryEscape(head) + "&per_page=1"
	req, err := c.newRequest(path)
	if err != nil {
		return 0, err
	}
	var items []*gh.RepositoryCommit
	resp, err := c.gh.Do(withWait(ctx), req, &items)
	if err != nil {
		return 0, c.wrap("GET "+path, resp, err)
	}
	if resp.LastPage > 0 {
		return resp.LastPage, nil
	}
	return len(items), nil
}
