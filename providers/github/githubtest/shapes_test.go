package githubtest_test

import (
	"testing"

	"github.com/jiralinkd/jiralinkd/providers/fakeserver"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

// TestShapesMatchGitHubExamples checks every field of GitHub's examples is
// in the fake's answers with the same JSON type.
func TestShapesMatchGitHubExamples(t *testing.T) {
	s, zk := corpusServer(t, githubtest.Options{})
	zk.UpsertPull(githubtest.PullRequest{Number: 9000, Title: "open one", Body: "text", User: "alice", HeadRef: "topic", HeadSHA: "53a78e36f99602162643303ab330377fc383b41f"})
	octokitRepo := fakeserver.First(fakeserver.LoadJSON(t, "testdata/octokit-get-repository.json")).(map[string]any)["response"]

	tests := []struct {
		name, fixture, path string
		want                any
		ignore              []string
	}{
		{name: "commit item (openapi)", fixture: "openapi-repos-list-commits.200.json", path: "repos/apache/zookeeper/commits?per_page=1"},
		{name: "commit item (captured)", fixture: "drone-go-scm-commits.json", path: "repos/apache/zookeeper/commits?per_page=1"},
		{
			name: "branch", fixture: "openapi-repos-list-branches.200.json", path: "repos/apache/zookeeper/branches?per_page=1",
			// Only sent with the protected filter / admin rights.
			ignore: []string{"protection", "protection_url"},
		},
		{name: "tag", fixture: "openapi-repos-list-tags.200.json", path: "repos/apache/zookeeper/tags?per_page=1"},
		{
			name: "pull request (list)", fixture: "openapi-pulls-list.200.json", path: "repos/apache/zookeeper/pulls?per_page=1",
			// Only present for repositories generated from a template.
			ignore: []string{"head.repo.template_repository", "base.repo.template_repository"},
		},
		{
			name: "pull request (get)", fixture: "openapi-pulls-get.200.json", path: "repos/apache/zookeeper/pulls/9000",
		},
		{name: "repository", want: octokitRepo, path: "repos/apache/zookeeper"},
		{name: "rate limit", fixture: "openapi-rate-limit-get.200.json", path: "rate_limit"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want := tt.want
			if want == nil {
				want = fakeserver.First(fakeserver.LoadJSON(t, "testdata/"+tt.fixture))
			}
			got := fakeserver.First(get(t, s, tt.path).MustJSON(t))
			for _, d := range fakeserver.ShapeDiff(want, got, tt.ignore) {
				t.Error(d)
			}
		})
	}
}
