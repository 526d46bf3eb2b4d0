package gitlab

// history.go: the size of a project's history in one request (the
// backfill estimate, indexer.HistorySizer).

import (
	"context"
	"strconv"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/jiralinkd/jiralinkd/providers"
)

// HistorySize reports the number of commits of the project's default
// branch, from GET /projects/:id?statistics=true (statistics.commit_count,
// projects.md). head is not used: GitLab counts the default branch only,
// which is what the backfill estimate asks for.
//
// Why not the commit list's X-Total header: GitLab stopped sending
// X-Total and X-Total-Pages on /repository/commits (counting commits was
// too expensive; gitlab-org/gitlab!43159), so a per_page=1 request tells
// nothing. The statistics are refreshed asynchronously after pushes (they
// may lag a few minutes: an estimate, as wanted) and are sent only to
// members with at least the Reporter role: without them HistorySize
// answers 0 (unknown) and no error.
func (c *Client) HistorySize(ctx context.Context, repo providers.Repo, _ string) (int, error) {
	p, resp, err := c.gl.Projects.GetProject(repo.ID, &gl.GetProjectOptions{Statistics: gl.Ptr(true)}, gl.WithContext(ctx))
	if err != nil {
		return 0, c.wrap("GET projects/"+strconv.FormatInt(repo.ID, 10)+"?statistics=true", resp, err)
	}
	if p.Statistics == nil {
		return 0, nil
	}
	return int(p.Statistics.CommitCount), nil
}
