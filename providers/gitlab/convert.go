package gitlab

import (
	"strconv"
	"strings"
	"time"

	gl "gitlab.com/gitlab-org/api/client-go"

	"github.com/jiralinkd/jiralinkd/providers"
)

// convert.go is the only place client-go types become domain types.

func pid(r providers.Repo) string { return strconv.FormatInt(r.ID, 10) }

func convertProject(p *gl.Project) providers.Repo {
	r := providers.Repo{
		ID:            p.ID,
		FullName:      p.PathWithNamespace,
		HTMLURL:       strings.TrimSuffix(p.WebURL, "/"),
		DefaultBranch: p.DefaultBranch,
		Archived:      p.Archived,
	}
	if p.LastActivityAt != nil {
		r.PushedAt = *p.LastActivityAt
	}
	return r
}

func convertBranch(b *gl.Branch) providers.Branch {
	sha := ""
	if b.Commit != nil {
		sha = b.Commit.ID
	}
	return providers.Branch{Name: b.Name, HeadSHA: sha}
}

func convertTag(t *gl.Tag) providers.Tag {
	sha := ""
	if t.Commit != nil {
		sha = t.Commit.ID
	}
	return providers.Tag{Name: t.Name, SHA: sha}
}

func convertCommit(c *gl.Commit) providers.Commit {
	return providers.Commit{
		SHA:        c.ID,
		Parents:    c.ParentIDs,
		Message:    c.Message,
		AuthorName: c.AuthorName,
		AuthorDate: timeOf(c.AuthoredDate),
		HTMLURL:    c.WebURL,
	}
}

// mrState maps GitLab's merge request states; a locked request is still
// open (it is being merged).
func mrState(s string) providers.PullRequestState {
	switch s {
	case "merged":
		return providers.PullRequestMerged
	case "closed":
		return providers.PullRequestClosed
	default:
		return providers.PullRequestOpen
	}
}

func convertMergeRequest(m *gl.BasicMergeRequest) providers.PullRequest {
	author := ""
	if m.Author != nil {
		author = m.Author.Username
	}
	return providers.PullRequest{
		Number:     int(m.IID),
		Title:      m.Title,
		Body:       m.Description,
		HeadBranch: m.SourceBranch,
		BaseBranch: m.TargetBranch,
		State:      mrState(m.State),
		Author:     author,
		CreatedAt:  timeOf(m.CreatedAt),
		UpdatedAt:  timeOf(m.UpdatedAt),
		MergedAt:   timeOf(m.MergedAt),
		HTMLURL:    m.WebURL,
		Label:      "MR " + mrReference(m),
	}
}

// mrReference is the merge request's short reference ("!96") as GitLab
// reports it, or built from its iid when the answer lacks it.
func mrReference(m *gl.BasicMergeRequest) string {
	if m.References != nil && m.References.Short != "" {
		return m.References.Short
	}
	return "!" + strconv.FormatInt(m.IID, 10)
}

// PullLabel names merge request iid n as GitLab does: "MR !96".
func (c *Client) PullLabel(n int) string { return "MR !" + strconv.Itoa(n) }

// RefURL is the web URL of a branch or tag of repo, in GitLab's form
// {project web_url}/-/tree/{name}: what the branch API reports as a
// branch's web_url, and where GitLab shows a tag's tree too.
func (c *Client) RefURL(repo providers.Repo, name string) string {
	return repo.HTMLURL + "/-/tree/" + providers.RefPath(name)
}

func timeOf(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}

// pipelineStatus maps a pipeline's (or a deployment's) status.
func pipelineStatus(s string) providers.CIStatus {
	switch s {
	case "success":
		return providers.CISuccess
	case "failed":
		return providers.CIFailure
	case "canceled", "canceling", "skipped":
		return providers.CICancelled
	case "running":
		return providers.CIRunning
	}
	return providers.CIPending // created, waiting_for_resource, preparing, pending, manual, scheduled, blocked
}

// pipelineKey is the workflow key of a pipeline: its name, or "pipeline"
// for unnamed ones (most projects run one pipeline definition).
func pipelineKey(name string) string {
	if name == "" {
		return "pipeline"
	}
	return name
}

func convertPipeline(p *gl.PipelineInfo) providers.Run {
	return providers.Run{
		ID:          p.ID,
		Number:      int(p.IID),
		WorkflowKey: pipelineKey(p.Name),
		Workflow:    pipelineKey(p.Name),
		Event:       p.Source,
		Status:      pipelineStatus(p.Status),
		HeadSHA:     p.SHA,
		HeadBranch:  p.Ref,
		HTMLURL:     p.WebURL,
		CreatedAt:   timeOrZero(p.CreatedAt),
		UpdatedAt:   timeOrZero(p.UpdatedAt),
	}
}

func convertDeployment(repo providers.Repo, d *gl.Deployment) providers.Deployment {
	out := providers.Deployment{
		ID:        d.ID,
		SHA:       d.SHA,
		Ref:       d.Ref,
		Status:    pipelineStatus(d.Status),
		CreatedAt: timeOrZero(d.CreatedAt),
		UpdatedAt: timeOrZero(d.UpdatedAt),
	}
	if e := d.Environment; e != nil {
		out.Environment = e.Name
		out.HTMLURL = e.ExternalURL
		if out.HTMLURL == "" && e.ID != 0 && repo.HTMLURL != "" {
			out.HTMLURL = repo.HTMLURL + "/-/environments/" + strconv.FormatInt(e.ID, 10)
		}
	}
	return out
}

func timeOrZero(t *time.Time) time.Time {
	if t == nil {
		return time.Time{}
	}
	return *t
}
