package githubtest

import (
	"fmt"
	"net/url"
	"time"
)

type permissionsJSON struct {
	Admin    bool `json:"admin"`
	Maintain bool `json:"maintain"`
	Push     bool `json:"push"`
	Triage   bool `json:"triage"`
	Pull     bool `json:"pull"`
}

// repoJSON is a repository. The list endpoints send the "minimal"
// form; GET /repos/{owner}/{repo} adds the fields marked full.
type repoJSON struct {
	ID               int64           `json:"id"`
	NodeID           string          `json:"node_id"`
	Name             string          `json:"name"`
	FullName         string          `json:"full_name"`
	Private          bool            `json:"private"`
	Owner            userJSON        `json:"owner"`
	HTMLURL          string          `json:"html_url"`
	Description      *string         `json:"description"`
	Fork             bool            `json:"fork"`
	URL              string          `json:"url"`
	ForksURL         string          `json:"forks_url"`
	KeysURL          string          `json:"keys_url"`
	CollaboratorsURL string          `json:"collaborators_url"`
	TeamsURL         string          `json:"teams_url"`
	HooksURL         string          `json:"hooks_url"`
	IssueEventsURL   string          `json:"issue_events_url"`
	EventsURL        string          `json:"events_url"`
	AssigneesURL     string          `json:"assignees_url"`
	BranchesURL      string          `json:"branches_url"`
	TagsURL          string          `json:"tags_url"`
	BlobsURL         string          `json:"blobs_url"`
	GitTagsURL       string          `json:"git_tags_url"`
	GitRefsURL       string          `json:"git_refs_url"`
	TreesURL         string          `json:"trees_url"`
	StatusesURL      string          `json:"statuses_url"`
	LanguagesURL     string          `json:"languages_url"`
	StargazersURL    string          `json:"stargazers_url"`
	ContributorsURL  string          `json:"contributors_url"`
	SubscribersURL   string          `json:"subscribers_url"`
	SubscriptionURL  string          `json:"subscription_url"`
	CommitsURL       string          `json:"commits_url"`
	GitCommitsURL    string          `json:"git_commits_url"`
	CommentsURL      string          `json:"comments_url"`
	IssueCommentURL  string          `json:"issue_comment_url"`
	ContentsURL      string          `json:"contents_url"`
	CompareURL       string          `json:"compare_url"`
	MergesURL        string          `json:"merges_url"`
	ArchiveURL       string          `json:"archive_url"`
	DownloadsURL     string          `json:"downloads_url"`
	IssuesURL        string          `json:"issues_url"`
	PullsURL         string          `json:"pulls_url"`
	MilestonesURL    string          `json:"milestones_url"`
	NotificationsURL string          `json:"notifications_url"`
	LabelsURL        string          `json:"labels_url"`
	ReleasesURL      string          `json:"releases_url"`
	DeploymentsURL   string          `json:"deployments_url"`
	CreatedAt        ghTime          `json:"created_at"`
	UpdatedAt        ghTime          `json:"updated_at"`
	PushedAt         ghTime          `json:"pushed_at"`
	GitURL           string          `json:"git_url"`
	SSHURL           string          `json:"ssh_url"`
	CloneURL         string          `json:"clone_url"`
	SVNURL           string          `json:"svn_url"`
	Homepage         *string         `json:"homepage"`
	Size             int             `json:"size"`
	StargazersCount  int             `json:"stargazers_count"`
	WatchersCount    int             `json:"watchers_count"`
	Language         *string         `json:"language"`
	HasIssues        bool            `json:"has_issues"`
	HasProjects      bool            `json:"has_projects"`
	HasDownloads     bool            `json:"has_downloads"`
	HasWiki          bool            `json:"has_wiki"`
	HasPages         bool            `json:"has_pages"`
	HasDiscussions   bool            `json:"has_discussions"`
	ForksCount       int             `json:"forks_count"`
	MirrorURL        *string         `json:"mirror_url"`
	Archived         bool            `json:"archived"`
	Disabled         bool            `json:"disabled"`
	OpenIssuesCount  int             `json:"open_issues_count"`
	License          *struct{}       `json:"license"`
	AllowForking     bool            `json:"allow_forking"`
	IsTemplate       bool            `json:"is_template"`
	WebCommitSignoff bool            `json:"web_commit_signoff_required"`
	Topics           []string        `json:"topics"`
	Visibility       string          `json:"visibility"`
	Forks            int             `json:"forks"`
	OpenIssues       int             `json:"open_issues"`
	Watchers         int             `json:"watchers"`
	DefaultBranch    string          `json:"default_branch"`
	Permissions      permissionsJSON `json:"permissions"`

	// Full form only.
	TempCloneToken            *string   `json:"temp_clone_token,omitempty"`
	AllowSquashMerge          *bool     `json:"allow_squash_merge,omitempty"`
	AllowMergeCommit          *bool     `json:"allow_merge_commit,omitempty"`
	AllowRebaseMerge          *bool     `json:"allow_rebase_merge,omitempty"`
	AllowAutoMerge            *bool     `json:"allow_auto_merge,omitempty"`
	DeleteBranchOnMerge       *bool     `json:"delete_branch_on_merge,omitempty"`
	AllowUpdateBranch         *bool     `json:"allow_update_branch,omitempty"`
	UseSquashPRTitleAsDefault *bool     `json:"use_squash_pr_title_as_default,omitempty"`
	Organization              *userJSON `json:"organization,omitempty"`
	NetworkCount              *int      `json:"network_count,omitempty"`
	SubscribersCount          *int      `json:"subscribers_count,omitempty"`
}

// repoInfo is what encoding a repository needs.
type repoInfo struct {
	Repo
	createdAt, updatedAt, pushedAt time.Time
	fork                           bool
}

func (s *Server) repoJSON(c *call, ri repoInfo, full bool) repoJSON {
	r := ri.Repo
	fullName := r.Owner + "/" + r.Name
	u := c.base + "/repos/" + fullName
	host := "github.com"
	if wu, err := url.Parse(s.web); err == nil && wu.Host != "" {
		host = wu.Host
	}
	visibility := "public"
	if r.Private {
		visibility = "private"
	}
	j := repoJSON{
		ID:               r.ID,
		NodeID:           legacyNodeID("Repository", fmt.Sprint(r.ID)),
		Name:             r.Name,
		FullName:         fullName,
		Private:          r.Private,
		Owner:            s.user(c, r.Owner, r.OwnerIsOrg),
		HTMLURL:          s.web + "/" + fullName,
		Fork:             ri.fork,
		URL:              u,
		ForksURL:         u + "/forks",
		KeysURL:          u + "/keys{/key_id}",
		CollaboratorsURL: u + "/collaborators{/collaborator}",
		TeamsURL:         u + "/teams",
		HooksURL:         u + "/hooks",
		IssueEventsURL:   u + "/issues/events{/number}",
		EventsURL:        u + "/events",
		AssigneesURL:     u + "/assignees{/user}",
		BranchesURL:      u + "/branches{/branch}",
		TagsURL:          u + "/tags",
		BlobsURL:         u + "/git/blobs{/sha}",
		GitTagsURL:       u + "/git/tags{/sha}",
		GitRefsURL:       u + "/git/refs{/sha}",
		TreesURL:         u + "/git/trees{/sha}",
		StatusesURL:      u + "/statuses/{sha}",
		LanguagesURL:     u + "/languages",
		StargazersURL:    u + "/stargazers",
		ContributorsURL:  u + "/contributors",
		SubscribersURL:   u + "/subscribers",
		SubscriptionURL:  u + "/subscription",
		CommitsURL:       u + "/commits{/sha}",
		GitCommitsURL:    u + "/git/commits{/sha}",
		CommentsURL:      u + "/comments{/number}",
		IssueCommentURL:  u + "/issues/comments{/number}",
		ContentsURL:      u + "/contents/{+path}",
		CompareURL:       u + "/compare/{base}...{head}",
		MergesURL:        u + "/merges",
		ArchiveURL:       u + "/{archive_format}{/ref}",
		DownloadsURL:     u + "/downloads",
		IssuesURL:        u + "/issues{/number}",
		PullsURL:         u + "/pulls{/number}",
		MilestonesURL:    u + "/milestones{/number}",
		NotificationsURL: u + "/notifications{?since,all,participating}",
		LabelsURL:        u + "/labels{/name}",
		ReleasesURL:      u + "/releases{/id}",
		DeploymentsURL:   u + "/deployments",
		CreatedAt:        ghTime(ri.createdAt),
		UpdatedAt:        ghTime(ri.updatedAt),
		PushedAt:         ghTime(ri.pushedAt),
		GitURL:           "git://" + host + "/" + fullName + ".git",
		SSHURL:           "git@" + host + ":" + fullName + ".git",
		CloneURL:         s.web + "/" + fullName + ".git",
		SVNURL:           s.web + "/" + fullName,
		HasIssues:        true,
		HasProjects:      true,
		HasDownloads:     true,
		HasWiki:          true,
		Archived:         r.Archived,
		AllowForking:     true,
		Topics:           []string{},
		Visibility:       visibility,
		DefaultBranch:    r.DefaultBranch,
		Permissions:      permissionsJSON{Pull: true},
	}
	if full {
		f, t := false, true
		empty := ""
		zero := 0
		j.TempCloneToken = &empty
		j.AllowSquashMerge, j.AllowMergeCommit, j.AllowRebaseMerge = &t, &t, &t
		j.AllowAutoMerge, j.DeleteBranchOnMerge, j.AllowUpdateBranch, j.UseSquashPRTitleAsDefault = &f, &f, &f, &f
		if r.OwnerIsOrg {
			o := s.user(c, r.Owner, true)
			j.Organization = &o
		}
		j.NetworkCount, j.SubscribersCount = &zero, &zero
	}
	return j
}
