package gitlabtest_test

import (
	"testing"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
)

// Fields GitLab sends only to administrators or owners, only on request
// (license, statistics), or only in the Premium/Ultimate tiers.
var (
	projectOnly = []string{
		"license_url", "license", "statistics", "runners_token", "repository_storage", "approvals_before_merge",
		"mirror", "mirror_user_id", "mirror_trigger_builds", "only_mirror_protected_branches",
		"mirror_overwrites_diverged_branches", "external_authorization_classification_label",
		"marked_for_deletion_at", "marked_for_deletion_on", "compliance_frameworks", "pre_receive_secret_detection_enabled",
		// Only for projects of a user namespace.
		"owner",
		// Spelled printing_merge_request_link_enabled in the entity (and in
		// the groups documentation); the projects documentation has a typo.
		"printing_merge_requests_link_enabled",
	}
	groupOnly = []string{"repository_storage", "file_template_project_id", "runners_token", "enabled_git_access_protocol",
		"ip_restriction_ranges", "default_branch_protection_defaults"}
)

// TestShapesMatchGitLabExamples checks every field of GitLab's examples is
// in the fake's answers with the same JSON type.
func TestShapesMatchGitLabExamples(t *testing.T) {
	s, zk := corpusServer(t, gitlabtest.Options{})
	zk.UpsertMergeRequest(gitlabtest.MergeRequest{IID: 9000, Title: "open", Description: "text", SourceBranch: "topic", SHA: zkMaster})
	s.AddGroup("apache/sub")

	tests := []struct {
		name, fixture, path string
		ignore              []string
	}{
		{name: "commit item (docs)", fixture: "docs-commits.list.json", path: "projects/1000/repository/commits?per_page=1"},
		{name: "commit item (drone)", fixture: "drone-go-scm-commits.json", path: "projects/1000/repository/commits?per_page=1"},
		{name: "branch (docs)", fixture: "docs-branches.list.json", path: "projects/1000/repository/branches?per_page=1"},
		{name: "branch (drone)", fixture: "drone-go-scm-branches.json", path: "projects/1000/repository/branches?per_page=1"},
		{name: "tag (docs)", fixture: "docs-tags.list.json", path: "projects/1000/repository/tags?per_page=1"},
		{name: "tag (drone)", fixture: "drone-go-scm-tags.json", path: "projects/1000/repository/tags?per_page=1"},
		{name: "merge request (docs)", fixture: "docs-merge_requests.list.json", path: "projects/1000/merge_requests?per_page=1&state=opened"},
		{name: "group merge request (docs)", fixture: "docs-merge_requests.list.json", path: "groups/apache/merge_requests?per_page=1&state=opened"},
		{
			name: "merge request (drone)", fixture: "drone-go-scm-merges.json", path: "projects/1000/merge_requests?per_page=1",
			ignore: []string{"approvals_before_merge"}, // Premium
		},
		{name: "project", fixture: "docs-projects.get.json", path: "projects/1000", ignore: projectOnly},
		{name: "project in a list", fixture: "docs-projects.get.json", path: "groups/apache/projects", ignore: append(projectOnly, "permissions")},
		{name: "group", fixture: "docs-groups.get.with_projects_false.json", path: "groups/apache?with_projects=false", ignore: groupOnly},
		{name: "subgroup", fixture: "docs-groups.invited_groups.json", path: "groups/apache/subgroups", ignore: groupOnly},
		{name: "user", fixture: "docs-user.get.json", path: "user"},
		{name: "token", fixture: "docs-personal_access_tokens.self.json", path: "personal_access_tokens/self"},
		{name: "metadata", fixture: "docs-metadata.json", path: "metadata"},
		{name: "version", fixture: "docs-version.json", path: "version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := fakeserver.First(fakeserver.LoadJSON(t, "testdata/"+tt.fixture))
			got := fakeserver.First(get(t, s, tt.path).MustJSON(t))
			for _, d := range fakeserver.ShapeDiff(want, got, tt.ignore) {
				t.Error(d)
			}
		})
	}

	// Error bodies: {"message": "404 ... Not Found"}.
	want := fakeserver.LoadJSON(t, "testdata/docs-tags.signature.404.json").(map[string]any)
	var got map[string]any
	r := get(t, s, "projects/1000/repository/tags/nope")
	r.Decode(t, &got)
	if len(got) != len(want) || fakeserver.ShapeDiff(want, got, nil) != nil || r.Status != 404 {
		t.Errorf("404 body %s, GitLab sends %v", r.Body, want)
	}
}

// TestExtendedTrailersAreArrays records a client-go pitfall: GitLab sends
// extended_trailers as arrays of values (as the docs example shows),
// which client-go v1.46.0's map[string]string cannot decode. The fake
// sends what GitLab sends.
func TestExtendedTrailersAreArrays(t *testing.T) {
	doc := fakeserver.First(fakeserver.LoadJSON(t, "testdata/docs-commits.list.json").([]any)[1:]).(map[string]any)
	if _, ok := doc["extended_trailers"].(map[string]any)["Cc"].([]any); !ok {
		t.Fatalf("docs example changed: %v", doc["extended_trailers"])
	}
	s, _ := corpusServer(t, gitlabtest.Options{})
	r := get(t, s, "projects/1000/repository/commits?per_page=1&trailers=true")
	var items []struct {
		Extended map[string][]string `json:"extended_trailers"`
	}
	r.Decode(t, &items)
	// ZooKeeper's head commit ends in "Reviewers:", "Author:" and a
	// Closes line: not a trailer block for git, so no trailers.
	if len(items) != 1 || len(items[0].Extended) != 0 {
		t.Errorf("extended_trailers = %+v", items)
	}
}
