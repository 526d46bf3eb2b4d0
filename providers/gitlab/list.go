package gitlab

import (
	"context"
	"strconv"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/jiralinkd/jiralinkd/providers"
)

// pageFunc fetches one page of a list with client-go.
type pageFunc[T any] func(page int64, opts ...gl.RequestOptionFunc) ([]T, *gl.Response, error)

// getPage fetches one page, conditionally when etag is set.
func getPage[T any](ctx context.Context, c *Client, op string, fetch pageFunc[T], page int64, etag string) (items []T, resp *gl.Response, notMod bool, err error) {
	opts := []gl.RequestOptionFunc{gl.WithContext(ctx)}
	if etag != "" {
		opts = append(opts, gl.WithHeader("If-None-Match", etag))
	}
	items, resp, err = fetch(page, opts...)
	if notModified(resp) {
		return nil, resp, true, nil
	}
	if err != nil {
		return nil, resp, false, c.wrap(op, resp, err)
	}
	return items, resp, false, nil
}

// pages adapts one client-go list to providers.PageFunc.
func pages[T any](ctx context.Context, c *Client, op string, fetch pageFunc[T]) providers.PageFunc[T] {
	return func(n int, etag string) (providers.Page[T], error) {
		items, resp, nm, err := getPage(ctx, c, op, fetch, int64(n), etag)
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
func listAll[T any](ctx context.Context, c *Client, op string, prev providers.ListState, fetch pageFunc[T]) (providers.Listed[T], error) {
	return providers.ListAll(pages(ctx, c, op, fetch), prev, perPage)
}

func listOpts(page int64) gl.ListOptions { return gl.ListOptions{PerPage: perPage, Page: page} }

// OwnerRepos lists every project of a group the token can see, subgroups
// included unless the client was built with ExcludeSubgroups.
func (c *Client) OwnerRepos(ctx context.Context, group string, prev providers.ListState) (providers.Listed[providers.Repo], error) {
	l, err := listAll(ctx, c, "GET groups/"+group+"/projects", prev, func(page int64, o ...gl.RequestOptionFunc) ([]*gl.Project, *gl.Response, error) {
		return c.gl.Groups.ListGroupProjects(group, &gl.ListGroupProjectsOptions{
			ListOptions:      listOpts(page),
			IncludeSubGroups: gl.Ptr(!c.excludeSubgroups),
			OrderBy:          gl.Ptr("id"),
			Sort:             gl.Ptr("asc"),
		}, o...)
	})
	if err != nil {
		return providers.Listed[providers.Repo]{}, err
	}
	return providers.Listed[providers.Repo]{Items: providers.Convert(l.Items, convertProject), State: l.State, Unchanged: l.Unchanged}, nil
}

// Repo reads one project by path (group/sub/name) or numeric id, conditionally.
func (c *Client) Repo(ctx context.Context, pathOrID string, prev providers.ListState) (providers.Listed[providers.Repo], error) {
	etag := ""
	if len(prev.ETags) == 1 {
		etag = prev.ETags[0]
	}
	opts := []gl.RequestOptionFunc{gl.WithContext(ctx)}
	if etag != "" {
		opts = append(opts, gl.WithHeader("If-None-Match", etag))
	}
	p, resp, err := c.gl.Projects.GetProject(pathOrID, nil, opts...)
	if notModified(resp) {
		return providers.Listed[providers.Repo]{State: prev, Unchanged: true}, nil
	}
	if err != nil {
		return providers.Listed[providers.Repo]{}, c.wrap("GET projects/"+pathOrID, resp, err)
	}
	return providers.Listed[providers.Repo]{
		Items: []providers.Repo{convertProject(p)},
		State: providers.ListState{ETags: []string{resp.Header.Get("ETag")}},
	}, nil
}

// Branches lists a project's branches with their head commits. Projects are
// addressed by numeric id, which survives renames and transfers.
func (c *Client) Branches(ctx context.Context, repo providers.Repo, prev providers.ListState) (providers.Listed[providers.Branch], error) {
	l, err := listAll(ctx, c, "GET projects/"+pid(repo)+"/repository/branches", prev, func(page int64, o ...gl.RequestOptionFunc) ([]*gl.Branch, *gl.Response, error) {
		return c.gl.Branches.ListBranches(repo.ID, &gl.ListBranchesOptions{ListOptions: listOpts(page)}, o...)
	})
	if err != nil {
		return providers.Listed[providers.Branch]{}, err
	}
	return providers.Listed[providers.Branch]{Items: providers.Convert(l.Items, convertBranch), State: l.State, Unchanged: l.Unchanged}, nil
}

// Tags lists a project's tags with the commits they point to.
func (c *Client) Tags(ctx context.Context, repo providers.Repo, prev providers.ListState) (providers.Listed[providers.Tag], error) {
	l, err := listAll(ctx, c, "GET projects/"+pid(repo)+"/repository/tags", prev, func(page int64, o ...gl.RequestOptionFunc) ([]*gl.Tag, *gl.Response, error) {
		return c.gl.Tags.ListTags(repo.ID, &gl.ListTagsOptions{ListOptions: listOpts(page)}, o...)
	})
	if err != nil {
		return providers.Listed[providers.Tag]{}, err
	}
	return providers.Listed[providers.Tag]{Items: providers.Convert(l.Items, convertTag), State: l.State, Unchanged: l.Unchanged}, nil
}

// Commits streams the history reachable from head (a SHA), newest first,
// in pages of 100 from startPage on, until fn returns stop. Only the list endpoint is used
// (no stats, no diffs).
func (c *Client) Commits(ctx context.Context, repo providers.Repo, head string, startPage int, fn func(providers.Commit, int) (stop bool, err error)) error {
	op := "GET projects/" + pid(repo) + "/repository/commits"
	fetch := func(page int64, o ...gl.RequestOptionFunc) ([]*gl.Commit, *gl.Response, error) {
		return c.gl.Commits.ListCommits(repo.ID, &gl.ListCommitsOptions{ListOptions: listOpts(page), RefName: gl.Ptr(head)}, o...)
	}
	_, _, err := providers.StreamFrom(pages(ctx, c, op, fetch), startPage, "", func(it *gl.Commit, page int) (bool, error) {
		return fn(convertCommit(it), page)
	})
	return err
}

// PullRequests streams the project's merge requests of every state, most
// recently updated first, updated at or after since (updated_after), until
// fn returns stop. The first page is conditional on prev.
func (c *Client) PullRequests(ctx context.Context, repo providers.Repo, since time.Time, prev providers.ListState, fn func(providers.PullRequest) (stop bool, err error)) (providers.ListState, bool, error) {
	op := "GET projects/" + pid(repo) + "/merge_requests"
	fetch := func(page int64, o ...gl.RequestOptionFunc) ([]*gl.BasicMergeRequest, *gl.Response, error) {
		opt := &gl.ListProjectMergeRequestsOptions{
			ListOptions: listOpts(page),
			State:       gl.Ptr("all"),
			Scope:       gl.Ptr("all"),
			OrderBy:     gl.Ptr("updated_at"),
			Sort:        gl.Ptr("desc"),
		}
		if !since.IsZero() {
			// updated_after is exclusive in some GitLab versions: ask a
			// second earlier; the caller's watermark check is inclusive.
			opt.UpdatedAfter = gl.Ptr(since.Add(-time.Second))
		}
		return c.gl.MergeRequests.ListProjectMergeRequests(repo.ID, opt, o...)
	}
	// The ETag answers one query: a moved watermark is a new query.
	query := ""
	if !since.IsZero() {
		query = "updated_after=" + since.UTC().Format(time.RFC3339)
	}
	first := ""
	if len(prev.ETags) > 0 && prev.Query == query {
		first = prev.ETags[0]
	}
	etag, nm, err := providers.Stream(pages(ctx, c, op, fetch), first, func(it *gl.BasicMergeRequest) (bool, error) {
		return fn(convertMergeRequest(it))
	})
	switch {
	case err != nil:
		return providers.ListState{}, false, err
	case nm:
		return prev, true, nil
	}
	return providers.ListState{ETags: []string{etag}, Query: query}, false, nil
}

// Lookup reads an indexed project as it is now by its numeric id
// (GET /projects/:id), which survives renames and transfers; a deleted
// project, or one the token no longer sees, answers an error wrapping
// providers.ErrNotFound.
func (c *Client) Lookup(ctx context.Context, stored providers.Repo) (providers.Repo, error) {
	p, resp, err := c.gl.Projects.GetProject(stored.ID, nil, gl.WithContext(ctx))
	if err != nil {
		return providers.Repo{}, c.wrap("GET projects/"+strconv.FormatInt(stored.ID, 10), resp, err)
	}
	return convertProject(p), nil
}
