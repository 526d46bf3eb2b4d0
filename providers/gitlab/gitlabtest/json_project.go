package gitlabtest

import (
	"net/url"
	"strconv"
	"strings"
)

type namespaceJSON struct {
	ID        int64   `json:"id"`
	Name      string  `json:"name"`
	Path      string  `json:"path"`
	Kind      string  `json:"kind"`
	FullPath  string  `json:"full_path"`
	ParentID  *int64  `json:"parent_id"`
	AvatarURL *string `json:"avatar_url"`
	WebURL    string  `json:"web_url"`
}

func (s *Server) namespaceJSON(ns nsInfo) namespaceJSON {
	j := namespaceJSON{ID: ns.id, Name: ns.name, Path: ns.path, Kind: ns.kind, FullPath: ns.fullPath, WebURL: s.web + "/" + ns.fullPath}
	if ns.kind == "group" {
		j.WebURL = s.web + "/groups/" + ns.fullPath
	}
	if ns.parentID != 0 {
		p := ns.parentID
		j.ParentID = &p
	}
	return j
}

// projectSimpleJSON is GitLab's BasicProjectDetails, what lists send with
// simple=true.
type projectSimpleJSON struct {
	ID                int64         `json:"id"`
	Description       *string       `json:"description"`
	Name              string        `json:"name"`
	NameWithNamespace string        `json:"name_with_namespace"`
	Path              string        `json:"path"`
	PathWithNamespace string        `json:"path_with_namespace"`
	CreatedAt         dbTime        `json:"created_at"`
	DefaultBranch     string        `json:"default_branch"`
	TagList           []string      `json:"tag_list"`
	Topics            []string      `json:"topics"`
	SSHURLToRepo      string        `json:"ssh_url_to_repo"`
	HTTPURLToRepo     string        `json:"http_url_to_repo"`
	WebURL            string        `json:"web_url"`
	ReadmeURL         *string       `json:"readme_url"`
	ForksCount        int           `json:"forks_count"`
	AvatarURL         *string       `json:"avatar_url"`
	StarCount         int           `json:"star_count"`
	LastActivityAt    dbTime        `json:"last_activity_at"`
	Visibility        string        `json:"visibility"`
	Namespace         namespaceJSON `json:"namespace"`
}

type projectLinksJSON struct {
	Self          string `json:"self"`
	Issues        string `json:"issues"`
	MergeRequests string `json:"merge_requests"`
	RepoBranches  string `json:"repo_branches"`
	Labels        string `json:"labels"`
	Events        string `json:"events"`
	Members       string `json:"members"`
	ClusterAgents string `json:"cluster_agents"`
}

type expirationPolicyJSON struct {
	Cadence         string  `json:"cadence"`
	Enabled         bool    `json:"enabled"`
	KeepN           *int    `json:"keep_n"`
	OlderThan       *string `json:"older_than"`
	NameRegex       *string `json:"name_regex"`
	NameRegexDelete *string `json:"name_regex_delete"`
	NameRegexKeep   *string `json:"name_regex_keep"`
	NextRunAt       *string `json:"next_run_at"`
}

type accessJSON struct {
	AccessLevel       int `json:"access_level"`
	NotificationLevel int `json:"notification_level"`
}

type permissionsJSON struct {
	ProjectAccess *accessJSON `json:"project_access"`
	GroupAccess   *accessJSON `json:"group_access"`
}

// projectSettingsJSON holds the project settings the fake does not model,
// at GitLab's defaults.
type projectSettingsJSON struct {
	PackagesEnabled                        bool                 `json:"packages_enabled"`
	ResolveOutdatedDiffDiscussions         bool                 `json:"resolve_outdated_diff_discussions"`
	ContainerExpirationPolicy              expirationPolicyJSON `json:"container_expiration_policy"`
	RepositoryObjectFormat                 string               `json:"repository_object_format"`
	IssuesEnabled                          bool                 `json:"issues_enabled"`
	MergeRequestsEnabled                   bool                 `json:"merge_requests_enabled"`
	WikiEnabled                            bool                 `json:"wiki_enabled"`
	JobsEnabled                            bool                 `json:"jobs_enabled"`
	SnippetsEnabled                        bool                 `json:"snippets_enabled"`
	ContainerRegistryEnabled               bool                 `json:"container_registry_enabled"`
	ServiceDeskEnabled                     bool                 `json:"service_desk_enabled"`
	ServiceDeskAddress                     *string              `json:"service_desk_address"`
	CanCreateMergeRequestIn                bool                 `json:"can_create_merge_request_in"`
	IssuesAccessLevel                      string               `json:"issues_access_level"`
	RepositoryAccessLevel                  string               `json:"repository_access_level"`
	MergeRequestsAccessLevel               string               `json:"merge_requests_access_level"`
	ForkingAccessLevel                     string               `json:"forking_access_level"`
	WikiAccessLevel                        string               `json:"wiki_access_level"`
	BuildsAccessLevel                      string               `json:"builds_access_level"`
	SnippetsAccessLevel                    string               `json:"snippets_access_level"`
	PagesAccessLevel                       string               `json:"pages_access_level"`
	AnalyticsAccessLevel                   string               `json:"analytics_access_level"`
	ContainerRegistryAccessLevel           string               `json:"container_registry_access_level"`
	SecurityAndComplianceAccessLevel       string               `json:"security_and_compliance_access_level"`
	ReleasesAccessLevel                    string               `json:"releases_access_level"`
	EnvironmentsAccessLevel                string               `json:"environments_access_level"`
	FeatureFlagsAccessLevel                string               `json:"feature_flags_access_level"`
	InfrastructureAccessLevel              string               `json:"infrastructure_access_level"`
	MonitorAccessLevel                     string               `json:"monitor_access_level"`
	EmailsDisabled                         bool                 `json:"emails_disabled"`
	EmailsEnabled                          bool                 `json:"emails_enabled"`
	SharedRunnersEnabled                   bool                 `json:"shared_runners_enabled"`
	GroupRunnersEnabled                    bool                 `json:"group_runners_enabled"`
	LFSEnabled                             bool                 `json:"lfs_enabled"`
	CreatorID                              int64                `json:"creator_id"`
	ImportURL                              *string              `json:"import_url"`
	ImportType                             *string              `json:"import_type"`
	ImportStatus                           string               `json:"import_status"`
	ImportError                            *string              `json:"import_error"`
	OpenIssuesCount                        int                  `json:"open_issues_count"`
	DescriptionHTML                        string               `json:"description_html"`
	CIDefaultGitDepth                      int                  `json:"ci_default_git_depth"`
	CIForwardDeploymentEnabled             bool                 `json:"ci_forward_deployment_enabled"`
	CIForwardDeploymentRollbackAllowed     bool                 `json:"ci_forward_deployment_rollback_allowed"`
	CIAllowForkPipelinesToRunInParent      bool                 `json:"ci_allow_fork_pipelines_to_run_in_parent_project"`
	CISeparatedCaches                      bool                 `json:"ci_separated_caches"`
	CIRestrictPipelineCancellationRole     string               `json:"ci_restrict_pipeline_cancellation_role"`
	CIPipelineVariablesMinimumOverrideRole string               `json:"ci_pipeline_variables_minimum_override_role"`
	CIPushRepositoryForJobTokenAllowed     bool                 `json:"ci_push_repository_for_job_token_allowed"`
	PublicJobs                             bool                 `json:"public_jobs"`
	BuildTimeout                           int                  `json:"build_timeout"`
	AutoCancelPendingPipelines             string               `json:"auto_cancel_pending_pipelines"`
	CIConfigPath                           string               `json:"ci_config_path"`
	SharedWithGroups                       []struct{}           `json:"shared_with_groups"`
	OnlyAllowMergeIfPipelineSucceeds       bool                 `json:"only_allow_merge_if_pipeline_succeeds"`
	AllowMergeOnSkippedPipeline            *bool                `json:"allow_merge_on_skipped_pipeline"`
	AllowPipelineTriggerApproveDeployment  bool                 `json:"allow_pipeline_trigger_approve_deployment"`
	RestrictUserDefinedVariables           bool                 `json:"restrict_user_defined_variables"`
	RequestAccessEnabled                   bool                 `json:"request_access_enabled"`
	OnlyAllowMergeIfAllDiscussionsResolved bool                 `json:"only_allow_merge_if_all_discussions_are_resolved"`
	RemoveSourceBranchAfterMerge           bool                 `json:"remove_source_branch_after_merge"`
	PrintingMergeRequestsLinkEnabled       bool                 `json:"printing_merge_request_link_enabled"`
	MergeMethod                            string               `json:"merge_method"`
	SquashOption                           string               `json:"squash_option"`
	EnforceAuthChecksOnUploads             bool                 `json:"enforce_auth_checks_on_uploads"`
	SuggestionCommitMessage                *string              `json:"suggestion_commit_message"`
	MergeCommitTemplate                    *string              `json:"merge_commit_template"`
	SquashCommitTemplate                   *string              `json:"squash_commit_template"`
	IssueBranchTemplate                    *string              `json:"issue_branch_template"`
	WarnAboutPotentiallyUnwantedCharacters bool                 `json:"warn_about_potentially_unwanted_characters"`
	AutocloseReferencedIssues              bool                 `json:"autoclose_referenced_issues"`
	AutoDevopsEnabled                      bool                 `json:"auto_devops_enabled"`
	AutoDevopsDeployStrategy               string               `json:"auto_devops_deploy_strategy"`
}

func defaultSettings() projectSettingsJSON {
	const on = "enabled"
	return projectSettingsJSON{
		PackagesEnabled: true, ContainerExpirationPolicy: expirationPolicyJSON{Cadence: "1d"}, RepositoryObjectFormat: "sha1",
		IssuesEnabled: true, MergeRequestsEnabled: true, WikiEnabled: true, JobsEnabled: true, SnippetsEnabled: true,
		ContainerRegistryEnabled: true, CanCreateMergeRequestIn: true,
		IssuesAccessLevel: on, RepositoryAccessLevel: on, MergeRequestsAccessLevel: on, ForkingAccessLevel: on,
		WikiAccessLevel: on, BuildsAccessLevel: on, SnippetsAccessLevel: on, PagesAccessLevel: "private",
		AnalyticsAccessLevel: on, ContainerRegistryAccessLevel: on, SecurityAndComplianceAccessLevel: "private",
		ReleasesAccessLevel: on, EnvironmentsAccessLevel: on, FeatureFlagsAccessLevel: on, InfrastructureAccessLevel: on,
		MonitorAccessLevel: on, EmailsEnabled: true, SharedRunnersEnabled: true, GroupRunnersEnabled: true, LFSEnabled: true,
		CreatorID: userID, ImportStatus: "none", CIDefaultGitDepth: 20, CIForwardDeploymentEnabled: true,
		CIForwardDeploymentRollbackAllowed: true, CIAllowForkPipelinesToRunInParent: true, CISeparatedCaches: true,
		CIRestrictPipelineCancellationRole: "developer", CIPipelineVariablesMinimumOverrideRole: "developer",
		PublicJobs: true, BuildTimeout: 3600, AutoCancelPendingPipelines: on, SharedWithGroups: []struct{}{},
		RequestAccessEnabled: true, RemoveSourceBranchAfterMerge: true, PrintingMergeRequestsLinkEnabled: true,
		MergeMethod: "merge", SquashOption: "default_off",
		EnforceAuthChecksOnUploads: true, WarnAboutPotentiallyUnwantedCharacters: true, AutocloseReferencedIssues: true,
		AutoDevopsDeployStrategy: "continuous",
	}
}

// projectJSON is GitLab's Project entity, what GET /projects/:id and the
// project lists send (the single GET adds permissions).
type projectJSON struct {
	projectSimpleJSON
	ContainerRegistryImagePrefix string           `json:"container_registry_image_prefix"`
	Links                        projectLinksJSON `json:"_links"`
	EmptyRepo                    bool             `json:"empty_repo"`
	Archived                     bool             `json:"archived"`
	Owner                        *userJSON        `json:"owner,omitempty"`
	UpdatedAt                    dbTime           `json:"updated_at"`
	projectSettingsJSON
	Permissions *permissionsJSON `json:"permissions,omitempty"`
}

// webHost is the host of the web URL, for the SSH clone URL.
func (s *Server) webHost() string {
	if u, err := url.Parse(s.web); err == nil && u.Hostname() != "" {
		return u.Hostname()
	}
	return "gitlab.com"
}

func (s *Server) projectSimple(snap *projectSnapshot) projectSimpleJSON {
	full := snap.fullPath()
	web := s.web + "/" + full
	return projectSimpleJSON{
		ID:                snap.p.ID,
		Name:              snap.p.Path,
		NameWithNamespace: strings.ReplaceAll(snap.ns.fullPath, "/", " / ") + " / " + snap.p.Path,
		Path:              snap.p.Path,
		PathWithNamespace: full,
		CreatedAt:         dbTime(snap.createdAt),
		DefaultBranch:     snap.p.DefaultBranch,
		TagList:           []string{},
		Topics:            []string{},
		SSHURLToRepo:      "git@" + s.webHost() + ":" + full + ".git",
		HTTPURLToRepo:     web + ".git",
		WebURL:            web,
		LastActivityAt:    dbTime(snap.lastActivityAt),
		Visibility:        "private",
		Namespace:         s.namespaceJSON(snap.ns),
	}
}

func (s *Server) projectJSON(c *call, snap *projectSnapshot, withPermissions bool) projectJSON {
	api := c.origin + s.prefix + apiPath + "/projects/" + strconv.FormatInt(snap.p.ID, 10)
	j := projectJSON{
		projectSimpleJSON:            s.projectSimple(snap),
		ContainerRegistryImagePrefix: "registry." + s.webHost() + "/" + strings.ToLower(snap.fullPath()),
		Links: projectLinksJSON{
			Self: api, Issues: api + "/issues", MergeRequests: api + "/merge_requests",
			RepoBranches: api + "/repository/branches", Labels: api + "/labels", Events: api + "/events",
			Members: api + "/members", ClusterAgents: api + "/cluster_agents",
		},
		EmptyRepo:           snap.history.Len() == 0,
		Archived:            snap.p.Archived,
		UpdatedAt:           dbTime(snap.updatedAt),
		projectSettingsJSON: defaultSettings(),
	}
	if snap.ns.kind == "user" {
		u := s.user(s.username)
		j.Owner = &u
	}
	if withPermissions {
		j.Permissions = &permissionsJSON{ProjectAccess: &accessJSON{AccessLevel: 20, NotificationLevel: 3}}
	}
	return j
}

// groupJSON is GitLab's Group entity (lists, subgroups); GET /groups/:id
// adds the detail fields.
type groupJSON struct {
	ID                             int64   `json:"id"`
	WebURL                         string  `json:"web_url"`
	Name                           string  `json:"name"`
	Path                           string  `json:"path"`
	Description                    string  `json:"description"`
	Visibility                     string  `json:"visibility"`
	ShareWithGroupLock             bool    `json:"share_with_group_lock"`
	RequireTwoFactorAuthentication bool    `json:"require_two_factor_authentication"`
	TwoFactorGracePeriod           int     `json:"two_factor_grace_period"`
	ProjectCreationLevel           string  `json:"project_creation_level"`
	AutoDevopsEnabled              *bool   `json:"auto_devops_enabled"`
	SubgroupCreationLevel          string  `json:"subgroup_creation_level"`
	EmailsDisabled                 bool    `json:"emails_disabled"`
	EmailsEnabled                  bool    `json:"emails_enabled"`
	MentionsDisabled               *bool   `json:"mentions_disabled"`
	LFSEnabled                     bool    `json:"lfs_enabled"`
	MathRenderingLimitsEnabled     bool    `json:"math_rendering_limits_enabled"`
	LockMathRenderingLimitsEnabled bool    `json:"lock_math_rendering_limits_enabled"`
	DefaultBranch                  *string `json:"default_branch"`
	DefaultBranchProtection        int     `json:"default_branch_protection"`
	AvatarURL                      *string `json:"avatar_url"`
	RequestAccessEnabled           bool    `json:"request_access_enabled"`
	FullName                       string  `json:"full_name"`
	FullPath                       string  `json:"full_path"`
	CreatedAt                      dbTime  `json:"created_at"`
	ParentID                       *int64  `json:"parent_id"`
	OrganizationID                 int64   `json:"organization_id"`
	SharedRunnersSetting           string  `json:"shared_runners_setting"`
	LDAPCN                         *string `json:"ldap_cn"`
	LDAPAccess                     *string `json:"ldap_access"`
	WikiAccessLevel                string  `json:"wiki_access_level"`
}

func (s *Server) groupJSON(g groupState) groupJSON {
	j := groupJSON{
		ID: g.ID, WebURL: s.web + "/groups/" + g.FullPath, Name: g.Path, Path: g.Path,
		Visibility: "private", TwoFactorGracePeriod: 48, ProjectCreationLevel: "developer",
		SubgroupCreationLevel: "maintainer", EmailsEnabled: true, LFSEnabled: true, MathRenderingLimitsEnabled: true,
		DefaultBranchProtection: 2, RequestAccessEnabled: true,
		FullName: strings.ReplaceAll(g.FullPath, "/", " / "), FullPath: g.FullPath,
		CreatedAt: dbTime(g.createdAt), OrganizationID: 1, SharedRunnersSetting: "enabled", WikiAccessLevel: "enabled",
	}
	if g.ParentID != 0 {
		p := g.ParentID
		j.ParentID = &p
	}
	return j
}

// groupDetailJSON is GET /groups/:id.
type groupDetailJSON struct {
	groupJSON
	SharedWithGroups                     []struct{} `json:"shared_with_groups"`
	PreventSharingGroupsOutsideHierarchy *bool      `json:"prevent_sharing_groups_outside_hierarchy,omitempty"`
	// Projects and SharedProjects are nil with with_projects=false.
	Projects       *[]projectJSON `json:"projects,omitempty"`
	SharedProjects *[]projectJSON `json:"shared_projects,omitempty"`
}
