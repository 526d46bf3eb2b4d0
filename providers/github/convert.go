package github

import (
	"encoding/json"
	"io"
	"net/url"
	"strconv"
	"strings"

	gh "github.com/google/go-github/v62/github"

	"github.com/jiralinkd/jiralinkd/providers"
)

// convert.go is the only place go-github types become domain types.

func convertRepo(r *gh.Repository) providers.Repo {
	return providers.Repo{
		ID:            r.GetID(),
		FullName:      r.GetFullName(),
		HTMLURL:       strings.TrimSuffix(r.GetHTMLURL(), "/"),
		DefaultBranch: r.GetDefaultBranch(),
		Archived:      r.GetArchived(),
		PushedAt:      r.GetPushedAt().Time,
	}
}

func convertBranch(b *gh.Branch) providers.Branch {
	return providers.Branch{Name: b.GetName(), HeadSHA: b.GetCommit().GetSHA()}
}

func convertTag(t *gh.RepositoryTag) providers.Tag {
	return providers.Tag{Name: t.GetName(), SHA: t.GetCommit().GetSHA()}
}

func convertCommit(c *gh.RepositoryCommit) providers.Commit {
	parents := make([]string, 0, len(c.Parents))
	for _, p := range c.Parents {
		parents = append(parents, p.GetSHA())
	}
	gc := c.GetCommit()
	return providers.Commit{
		SHA:         c.GetSHA(),
		Parents:     parents,
		Message:     gc.GetMessage(),
		AuthorName:  gc.GetAuthor().GetName(),
		AuthorLogin: c.GetAuthor().GetLogin(),
		AuthorDate:  timeOf(gc.GetAuthor().Date),
		HTMLURL:     c.GetHTMLURL(),
	}
}

func convertPull(p *gh.PullRequest) providers.PullRequest {
	state := providers.PullRequestOpen
	switch {
	case p.MergedAt != nil:
		state = providers.PullRequestMerged
	case p.GetState() == "closed":
		state = providers.PullRequestClosed
	}
	return providers.PullRequest{
		Number:     p.GetNumber(),
		Title:      p.GetTitle(),
		Body:       p.GetBody(),
		HeadBranch: p.GetHead().GetRef(),
		BaseBranch: p.GetBase().GetRef(),
		State:      state,
		Author:     p.GetUser().GetLogin(),
		CreatedAt:  timeOf(p.CreatedAt),
		UpdatedAt:  timeOf(p.UpdatedAt),
		MergedAt:   timeOf(p.MergedAt),
		HTMLURL:    p.GetHTMLURL(),
		Label:      pullLabel(p.GetNumber()),
	}
}

// PullLabel names pull request n as GitHub does: "PR #96".
func (c *Client) PullLabel(n int) string { return pullLabel(n) }

func pullLabel(n int) string { return "PR #" + strconv.Itoa(n) }

// RefURL is the web URL of a branch or tag of repo: GitHub's
// {html_url}/tree/{name}. (The branch list carries no web URL of its own.)
func (c *Client) RefURL(repo providers.Repo, name string) string { return refURL(repo, name) }

func refURL(repo providers.Repo, name string) string {
	return repo.HTMLURL + "/tree/" + providers.RefPath(name)
}

func convertApp(a *gh.App) AppInfo {
	return AppInfo{ID: a.GetID(), Slug: a.GetSlug(), Name: a.GetName(), Owner: a.GetOwner().GetLogin(),
		Permissions: permissionMap(a.Permissions)}
}

func convertInstallation(in *gh.Installation) Installation {
	return Installation{
		ID:                  in.GetID(),
		Account:             in.GetAccount().GetLogin(),
		AccountType:         in.GetAccount().GetType(),
		RepositorySelection: in.GetRepositorySelection(),
		Suspended:           in.SuspendedAt != nil,
		Permissions:         permissionMap(in.Permissions),
	}
}

// permissionMap flattens go-github's permission struct into name → level
// ("read", "write"), the form GitHub's JSON has.
func permissionMap(p *gh.InstallationPermissions) map[string]string {
	m := map[string]string{}
	if p == nil {
		return m
	}
	if data, err := json.Marshal(p); err == nil {
		_ = json.Unmarshal(data, &m)
	}
	return m
}

// decodeJSON decodes at most 1 MiB of r into v.
func decodeJSON(r io.Reader, v any) error {
	return json.NewDecoder(io.LimitReader(r, 1<<20)).Decode(v)
}

// runStatus maps a workflow run's status and conclusion.
func runStatus(status, conclusion string) providers.CIStatus {
	switch status {
	case "completed":
		switch conclusion {
		case "success", "neutral":
			return providers.CISuccess
		case "failure", "startup_failure", "action_required":
			return providers.CIFailure
		case "cancelled", "skipped", "timed_out", "stale":
			return providers.CICancelled
		}
		return providers.CIFailure
	case "in_progress":
		return providers.CIRunning
	}
	return providers.CIPending // queued, requested, waiting, pending
}

func convertRun(r *gh.WorkflowRun) providers.Run {
	var pulls []int
	for _, p := range r.PullRequests {
		if p.GetNumber() > 0 {
			pulls = append(pulls, p.GetNumber())
		}
	}
	return providers.Run{
		ID:          r.GetID(),
		Number:      r.GetRunNumber(),
		WorkflowKey: strconv.FormatInt(r.GetWorkflowID(), 10),
		Workflow:    r.GetName(),
		Title:       r.GetDisplayTitle(),
		Event:       r.GetEvent(),
		Status:      runStatus(r.GetStatus(), r.GetConclusion()),
		HeadSHA:     r.GetHeadSHA(),
		HeadBranch:  r.GetHeadBranch(),
		PullNumbers: pulls,
		HTMLURL:     r.GetHTMLURL(),
		CreatedAt:   timeOf(r.CreatedAt),
		UpdatedAt:   timeOf(r.UpdatedAt),
	}
}

// deploymentStatus maps a deployment status state. "inactive" means a
// later deployment to the environment replaced this successful one.
func deploymentStatus(state string) providers.CIStatus {
	switch state {
	case "success", "inactive":
		return providers.CISuccess
	case "failure", "error":
		return providers.CIFailure
	case "in_progress":
		return providers.CIRunning
	}
	return providers.CIPending // pending, queued, or no status yet
}

// convertDeployment builds a deployment from its list entry and its
// statuses, newest first as GitHub lists them (the first page of them:
// an "inactive" status only follows the one that made it active).
func convertDeployment(repo providers.Repo, d *gh.Deployment, statuses []*gh.DeploymentStatus) providers.Deployment {
	out := providers.Deployment{
		ID:          d.GetID(),
		Environment: d.GetEnvironment(),
		SHA:         d.GetSHA(),
		Ref:         d.GetRef(),
		Description: d.GetDescription(),
		Status:      providers.CIPending,
		CreatedAt:   timeOf(d.CreatedAt),
		UpdatedAt:   timeOf(d.UpdatedAt),
	}
	if len(statuses) > 0 {
		// A later deployment marks this one inactive: what it was is told
		// by its latest other status.
		s := statuses[0]
		for _, st := range statuses {
			if st.GetState() != "inactive" {
				s = st
				break
			}
		}
		out.Status = deploymentStatus(s.GetState())
		out.UpdatedAt = timeOf(s.CreatedAt)
		out.HTMLURL = firstURL(s.GetEnvironmentURL(), s.GetLogURL(), s.GetTargetURL())
		if out.Description == "" {
			out.Description = s.GetDescription()
		}
	}
	if out.HTMLURL == "" && repo.HTMLURL != "" {
		// GitHub's page of the environment's deployments.
		out.HTMLURL = repo.HTMLURL + "/deployments/" + url.PathEscape(out.Environment)
	}
	return out
}

func firstURL(us ...string) string {
	for _, u := range us {
		if u != "" {
			return u
		}
	}
	return ""
}
