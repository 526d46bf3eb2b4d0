package githubtest_test

import (
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"sort"
	"testing"

	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

// shapeDiff lists the fields of GitHub's example want that got lacks or
// carries with another JSON type (null matches anything: GitHub's examples
// fill optional objects the fake leaves null, and the other way round).
// Arrays are compared by their first elements when both have one.
func shapeDiff(want, got any, path string, ignore []string) []string {
	if slices.Contains(ignore, path) {
		return nil
	}
	if want == nil || got == nil {
		return nil
	}
	switch w := want.(type) {
	case map[string]any:
		g, ok := got.(map[string]any)
		if !ok {
			return []string{fmt.Sprintf("%s: object in GitHub's example, %T here", path, got)}
		}
		var out []string
		for k, wv := range w {
			p := k
			if path != "" {
				p = path + "." + k
			}
			gv, ok := g[k]
			if !ok {
				if !slices.Contains(ignore, p) {
					out = append(out, p+": missing")
				}
				continue
			}
			out = append(out, shapeDiff(wv, gv, p, ignore)...)
		}
		sort.Strings(out)
		return out
	case []any:
		g, ok := got.([]any)
		if !ok {
			return []string{fmt.Sprintf("%s: array in GitHub's example, %T here", path, got)}
		}
		if len(w) > 0 && len(g) > 0 {
			return shapeDiff(w[0], g[0], path+"[]", ignore)
		}
		return nil
	default:
		if fmt.Sprintf("%T", want) != fmt.Sprintf("%T", got) {
			return []string{fmt.Sprintf("%s: %T in GitHub's example, %T here", path, want, got)}
		}
		return nil
	}
}

func loadJSON(t *testing.T, file string) any {
	t.Helper()
	b, err := os.ReadFile("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	return v
}

func first(v any) any {
	if a, ok := v.([]any); ok && len(a) > 0 {
		return a[0]
	}
	return v
}

// TestShapesMatchGitHubExamples checks every field of GitHub's examples is
// in the fake's answers with the same JSON type.
func TestShapesMatchGitHubExamples(t *testing.T) {
	s, zk := corpusServer(t, githubtest.Options{})
	zk.UpsertPull(githubtest.PullRequest{Number: 9000, Title: "open one", Body: "text", User: "alice", HeadRef: "topic", HeadSHA: "53a78e36f99602162643303ab330377fc383b41f"})
	fetch := func(path string) any {
		r := get(t, s, path)
		if r.status != 200 {
			t.Fatalf("%s: %d", path, r.status)
		}
		var v any
		r.decode(t, &v)
		return v
	}
	octokitRepo := first(loadJSON(t, "octokit-get-repository.json")).(map[string]any)["response"]

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
				want = first(loadJSON(t, tt.fixture))
			}
			got := first(fetch(tt.path))
			for _, d := range shapeDiff(want, got, "", tt.ignore) {
				t.Error(d)
			}
		})
	}
}

// TestShapeDiffDetects keeps the checker honest.
func TestShapeDiffDetects(t *testing.T) {
	want := map[string]any{"a": "x", "b": map[string]any{"c": 1.0}, "l": []any{map[string]any{"d": true}}}
	got := map[string]any{"a": 2.0, "b": map[string]any{}, "l": []any{map[string]any{"d": "no"}}}
	d := shapeDiff(want, got, "", nil)
	if len(d) != 3 {
		t.Errorf("diffs = %v, want 3", d)
	}
}
