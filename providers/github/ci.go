package github

import (
	"context"
	"fmt"
	"strconv"
	"time"

	gh "github.com/google/go-github/v62/github"

	"github.com/jiralinkd/jiralinkd/providers"
)

// Runs streams the repository's workflow runs created at or after since,
// newest first (GET /repos/{o}/{r}/actions/runs, which GitHub orders by
// creation), calling fn until it returns stop. Only the list endpoint is
// read: never logs, jobs or artifacts. The reading stops at the first run
// created before since; the query carries no date filter, so it is the
// same on every pass and its first page can be asked conditionally with
// prev: a run that is created, changes state or is re-run changes the
// first page, so a 304 there means nothing changed (see
// providers.StreamFirstPage for when the caller keeps the state).
func (c *Client) Runs(ctx context.Context, repo providers.Repo, since time.Time, prev providers.ListState, fn func(providers.Run) (stop bool, err error)) (providers.ListState, bool, error) {
	path := repoPath(repo) + "/actions/runs?exclude_pull_requests=false"
	fetch := func(n int, etag string) (providers.Page[*gh.WorkflowRun], error) {
		var body gh.WorkflowRuns
		p, err := c.getObjectPage(ctx, path, n, etag, &body)
		if err != nil || p.NotModified {
			return providers.Page[*gh.WorkflowRun]{NotModified: p.NotModified}, err
		}
		return providers.Page[*gh.WorkflowRun]{Items: body.WorkflowRuns, ETag: p.ETag, Next: p.Next}, nil
	}
	return providers.StreamFirstPage(fetch, "", prev, func(r *gh.WorkflowRun) (bool, error) {
		run := convertRun(r)
		if run.CreatedAt.Before(since) {
			return true, nil
		}
		return fn(run)
	})
}

// Deployments streams the repository's deployments created at or after
// since, newest first (GET /repos/{o}/{r}/deployments), each with its
// latest state read from GET .../deployments/{id}/statuses (one call per
// deployment read: the list does not carry states). A status changes
// nothing in the deployment list, so the caller must not rely on a 304
// while a deployment it saw is not final.
func (c *Client) Deployments(ctx context.Context, repo providers.Repo, since time.Time, prev providers.ListState, fn func(providers.Deployment) (stop bool, err error)) (providers.ListState, bool, error) {
	path := repoPath(repo) + "/deployments"
	return providers.StreamFirstPage(pages[*gh.Deployment](ctx, c, path), "", prev, func(d *gh.Deployment) (bool, error) {
		if timeOf(d.CreatedAt).Before(since) {
			return true, nil
		}
		statuses, _, _, err := getPage[*gh.DeploymentStatus](ctx, c, path+"/"+strconv.FormatInt(d.GetID(), 10)+"/statuses", 1, "")
		if err != nil {
			return true, err
		}
		return fn(convertDeployment(repo, d, statuses))
	})
}

// objectPage is what getObjectPage tells of one page.
type objectPage struct {
	ETag        string
	Next        bool
	NotModified bool
}

// getObjectPage GETs one page of a list GitHub wraps in an object
// ({"total_count": n, "workflow_runs": [...]}) into body.
func (c *Client) getObjectPage(ctx context.Context, path string, page int, etag string, body any) (objectPage, error) {
	u := fmt.Sprintf("%s&per_page=%d&page=%d", path, perPage, page)
	req, err := c.newRequest(u)
	if err != nil {
		return objectPage{}, err
	}
	if etag != "" {
		req.Header.Set("If-None-Match", etag)
	}
	resp, err := c.gh.Do(withWait(ctx), req, body)
	if notModified(resp) {
		return objectPage{NotModified: true}, nil
	}
	if err != nil {
		return objectPage{}, c.wrap("GET "+path, resp, err)
	}
	return objectPage{ETag: resp.Header.Get("ETag"), Next: resp.NextPage != 0}, nil
}
