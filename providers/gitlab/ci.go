package gitlab

import (
	"context"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/jiralinkd/jiralinkd/providers"
)

// Runs streams the project's pipelines updated at or after since, most
// recently updated first (GET /projects/:id/pipelines?order_by=updated_at&
// sort=desc), calling fn until it returns stop. Only the pipeline list is
// read: never jobs, their traces or artifacts. The reading stops at the
// first pipeline updated before since; the query carries no date filter,
// so it is the same on every pass: any new or changed pipeline changes the
// first page, so a 304 there means nothing changed.
func (c *Client) Runs(ctx context.Context, repo providers.Repo, since time.Time, prev providers.ListState, fn func(providers.Run) (stop bool, err error)) (providers.ListState, bool, error) {
	op := "GET projects/" + pid(repo) + "/pipelines"
	fetch := func(page int64, o ...gl.RequestOptionFunc) ([]*gl.PipelineInfo, *gl.Response, error) {
		return c.gl.Pipelines.ListProjectPipelines(repo.ID, &gl.ListProjectPipelinesOptions{
			ListOptions: listOpts(page),
			OrderBy:     gl.Ptr("updated_at"),
			Sort:        gl.Ptr("desc"),
		}, o...)
	}
	return providers.StreamFirstPage(pages(ctx, c, op, fetch), "", prev, func(p *gl.PipelineInfo) (bool, error) {
		r := convertPipeline(p)
		if !r.UpdatedAt.IsZero() && r.UpdatedAt.Before(since) {
			return true, nil
		}
		return fn(r)
	})
}

// Deployments streams the project's deployments updated at or after
// since, most recently updated first (GET /projects/:id/deployments?
// order_by=updated_at&sort=desc), conditionally like Runs. A GitLab
// deployment carries its own status, so no further call is made.
func (c *Client) Deployments(ctx context.Context, repo providers.Repo, since time.Time, prev providers.ListState, fn func(providers.Deployment) (stop bool, err error)) (providers.ListState, bool, error) {
	op := "GET projects/" + pid(repo) + "/deployments"
	fetch := func(page int64, o ...gl.RequestOptionFunc) ([]*gl.Deployment, *gl.Response, error) {
		return c.gl.Deployments.ListProjectDeployments(repo.ID, &gl.ListProjectDeploymentsOptions{
			ListOptions: listOpts(page),
			OrderBy:     gl.Ptr("updated_at"),
			Sort:        gl.Ptr("desc"),
		}, o...)
	}
	return providers.StreamFirstPage(pages(ctx, c, op, fetch), "", prev, func(d *gl.Deployment) (bool, error) {
		dep := convertDeployment(repo, d)
		if !dep.UpdatedAt.IsZero() && dep.UpdatedAt.Before(since) {
			return true, nil
		}
		return fn(dep)
	})
}
