package gitlab

// feeds.go: the owner-wide change feed (indexer.PullFeed) that lets a pass
// over a large group cost in proportion to what changed.
//
// Client implements PullFeed but deliberately not PushFeed. A push feed
// needs the projects ordered by their last push, and GitLab's only
// candidate is last_activity_at (GET /groups/:id/projects?order_by=
// last_activity_at), which GitLab writes at most once an hour per project
// (an event updates it only when it is older than
// Event::RESET_PROJECT_ACTIVITY_INTERVAL, 1 hour, in app/models/event.rb,
// to spare a database write per event): a project pushed to ten minutes
// after its last recorded activity still shows the old time, so a pass
// trusting it would skip the push for up to an hour. Branches and tags therefore stay listed per project,
// conditionally (an unchanged list is a cheap 304).

import (
	"context"
	"strings"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/jiralinkd/jiralinkd/providers"
)

// OwnerPullActivity names the projects of group in which a merge request
// was opened, edited, closed, merged or otherwise updated at or after
// since, with one listing for the whole group: GET /groups/:id/
// merge_requests?scope=all&state=all&order_by=updated_at&sort=desc&
// updated_after={since}, 100 a page. Each project is named once, by RepoID
// (project_id) and FullName (the path in references.full).
//
// The group listing always includes the group's subgroups, whatever the
// provider's include_subgroups says, and leaves out archived projects
// (GitLab's non_archived default; an archived project is read-only): the
// caller keeps only the projects it indexes. A merge request from a fork
// is listed under its target project, where it belongs. updated_after is
// sent a second early (it is exclusive in some GitLab versions), so an
// update at exactly since is included.
func (c *Client) OwnerPullActivity(ctx context.Context, group string, since time.Time) ([]providers.PullActivity, error) {
	op := "GET groups/" + group + "/merge_requests"
	fetch := func(page int64, o ...gl.RequestOptionFunc) ([]*gl.BasicMergeRequest, *gl.Response, error) {
		opt := &gl.ListGroupMergeRequestsOptions{
			ListOptions: listOpts(page),
			State:       gl.Ptr("all"),
			Scope:       gl.Ptr("all"),
			OrderBy:     gl.Ptr("updated_at"),
			Sort:        gl.Ptr("desc"),
		}
		if !since.IsZero() {
			opt.UpdatedAfter = gl.Ptr(since.Add(-time.Second))
		}
		return c.gl.MergeRequests.ListGroupMergeRequests(group, opt, o...)
	}
	var out []providers.PullActivity
	seen := map[int64]bool{}
	_, _, err := providers.Stream(pages(ctx, c, op, fetch), "", func(m *gl.BasicMergeRequest) (bool, error) {
		if !since.IsZero() && m.UpdatedAt != nil && m.UpdatedAt.Before(since.Add(-time.Second)) {
			return true, nil // sorted newest first: nothing further is newer
		}
		if !seen[m.ProjectID] {
			seen[m.ProjectID] = true
			out = append(out, providers.PullActivity{RepoID: m.ProjectID, FullName: mrProjectPath(m)})
		}
		return false, nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// mrProjectPath is the full path of a merge request's project from its
// full reference ("group/sub/project!12"), or "" when the answer lacks it.
func mrProjectPath(m *gl.BasicMergeRequest) string {
	if m.References == nil {
		return ""
	}
	path, _, ok := strings.Cut(m.References.Full, "!")
	if !ok {
		return ""
	}
	return path
}
