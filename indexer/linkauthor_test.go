package indexer

import (
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/keys"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
)

// TestLinkAuthor: providers[].link_author decides whether a link's summary
// carries the author's name, login or nothing.
func TestLinkAuthor(t *testing.T) {
	m, err := keys.NewMatcher("", true)
	if err != nil {
		t.Fatal(err)
	}
	ix := &Indexer{opts: Options{Matcher: m}}
	repo := providers.Repo{FullName: "acme/api", HTMLURL: "https://github.com/acme/api"}
	c := providers.Commit{SHA: strings.Repeat("a", 40), Message: "ABC-1: fix", AuthorName: "Jane Doe", AuthorLogin: "jdoe",
		AuthorDate: time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC)}
	p := providers.PullRequest{Number: 7, Title: "ABC-1 fix", HeadBranch: "fix", BaseBranch: "main", Author: "jdoe", State: providers.PullRequestOpen}
	key := state.RepoKey{Provider: "github", ID: 1}
	for _, tc := range []struct {
		mode, commit, pull string
	}{
		{"", "acme/api · Jane Doe · 2024-05-01", "acme/api · fix → main · jdoe · open"},
		{"name", "acme/api · Jane Doe · 2024-05-01", "acme/api · fix → main · jdoe · open"},
		{"login", "acme/api · jdoe · 2024-05-01", "acme/api · fix → main · jdoe · open"},
		{"none", "acme/api · 2024-05-01", "acme/api · fix → main · open"},
	} {
		tgt := Target{Name: "github", Type: providers.TypeGitHub, LinkAuthor: tc.mode}
		if got := ix.commitEntity(tgt, key, repo, c).link.Object.Summary; got != tc.commit {
			t.Errorf("%q commit: %q, want %q", tc.mode, got, tc.commit)
		}
		if got := ix.pullEntity(tgt, key, repo, p).link.Object.Summary; got != tc.pull {
			t.Errorf("%q pull: %q, want %q", tc.mode, got, tc.pull)
		}
	}
	// login without a known login names nobody.
	c.AuthorLogin = ""
	if got := ix.commitEntity(Target{LinkAuthor: "login"}, key, repo, c).link.Object.Summary; strings.Contains(got, "Jane") {
		t.Errorf("login mode without a login: %q", got)
	}
}
