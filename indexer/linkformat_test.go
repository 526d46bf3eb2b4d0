package indexer_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/gitlab"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// oldFormat builds links the way builds before link format 1 did: refs at
// {project}/tree/{name} on GitLab too, merge requests labelled "PR #N".
type oldFormat struct{ indexer.Source }

func (oldFormat) RefURL(repo providers.Repo, name string) string {
	return repo.HTMLURL + "/tree/" + providers.RefPath(name)
}

func (o oldFormat) PullRequests(ctx context.Context, repo providers.Repo, since time.Time, prev providers.ListState, fn func(providers.PullRequest) (bool, error)) (providers.ListState, bool, error) {
	return o.Source.PullRequests(ctx, repo, since, prev, func(p providers.PullRequest) (bool, error) {
		p.Label = "PR #" + strconv.Itoa(p.Number)
		return fn(p)
	})
}

// linksByGlobalID is every link in the fake Jira by globalId (of an entity
// linked to several issues, any one: their content is the same).
func linksByGlobalID(j *jiratest.Server) map[string]jiraclient.RemoteLink {
	out := map[string]jiraclient.RemoteLink{}
	for _, ls := range j.AllLinks() {
		for _, l := range ls {
			out[l.GlobalID] = l
		}
	}
	return out
}

// TestOldLinkFormatCorrectedByNextPass: a GitLab installation whose ref
// links point at {project}/tree/{name} and whose merge requests are titled
// "PR #N" — written before the link format was versioned, with every list
// unchanged since (304s) — is corrected in place by the next ordinary
// pass: same globalIds, only those links rewritten, nothing duplicated.
func TestOldLinkFormatCorrectedByNextPass(t *testing.T) {
	b, shas := smallHistory(t)
	b.Tag("release-zookeeper-8", shas["main1"])
	s := &stack{hist: b.Build(), provider: "gitlab"}
	gl := gitlabtest.Start(t, gitlabtest.Options{Token: glToken, RateLimit: 1_000_000})
	h := gl.AddCorpusProject("apache", "zookeeper", repoID, s.hist)
	at := time.Date(2024, 2, 1, 0, 0, 0, 0, time.UTC)
	h.UpsertMergeRequest(gitlabtest.MergeRequest{IID: 96, Title: "ZOOKEEPER-9: fix", Author: "dev", SourceBranch: "feature/zookeeper-4-side",
		TargetBranch: "master", SHA: shas["side1"], CreatedAt: at, UpdatedAt: at})
	s.jira = jiratest.Start(t, jiratest.Options{Token: jiraToken, IssueExists: jiratest.DemoIssues})
	s.openCommon(t)
	gc, err := gitlab.New(gitlab.Options{Name: "gitlab", BaseURL: gl.URL(), Token: glToken, Retry: httpx.RetryOptions{Sleep: noSleep}})
	if err != nil {
		t.Fatal(err)
	}
	s.tgt = indexer.Target{Name: "gitlab", Type: providers.TypeGitLab, Source: oldFormat{gc}, Owners: []string{"apache"}}
	s.ix = s.newIndexer(t, nil)
	mustOK(t, s.sync(t))
	key := state.RepoKey{Provider: "gitlab", ID: repoID}
	st, _, err := s.store.Repo(key)
	if err != nil {
		t.Fatal(err)
	}
	st.LinkFormat = 0 // as a build from before the format was versioned left it
	if err := s.store.PutRepo(st); err != nil {
		t.Fatal(err)
	}
	before := linksByGlobalID(s.jira)
	gid := func(k indexer.EntityKind, id string) string { return indexer.GlobalID(key, k, id) }
	branch, tag, mr := gid(indexer.KindBranch, "feature/zookeeper-4-side"), gid(indexer.KindTag, "release-zookeeper-8"), gid(indexer.KindPull, "96")
	if !strings.Contains(before[branch].Object.URL, "/apache/zookeeper/tree/") || !strings.HasPrefix(before[mr].Object.Title, "PR #96") {
		t.Fatalf("old-format links not set up: %+v %+v", before[branch].Object, before[mr].Object)
	}

	// The next ordinary pass of this build.
	s.tgt.Source = gc
	s.jira.ResetCalls()
	rep := s.sync(t)
	mustOK(t, rep)
	after := linksByGlobalID(s.jira)
	jiraLinks(t, s.jira) // fails on a duplicate globalId
	if len(after) != len(before) {
		t.Errorf("%d links after, %d before", len(after), len(before))
	}
	for _, g := range []string{branch, tag} {
		want := strings.Replace(before[g].Object.URL, "/apache/zookeeper/tree/", "/apache/zookeeper/-/tree/", 1)
		if got := after[g].Object.URL; got != want || want == before[g].Object.URL {
			t.Errorf("%s: url %q, want %q", g, got, want)
		}
	}
	if got := after[mr].Object.Title; got != "MR !96: ZOOKEEPER-9: fix" {
		t.Errorf("merge request title %q", got)
	}
	changed := 0 // links of the branch, the tag and the merge request
	for _, ls := range s.jira.AllLinks() {
		for _, l := range ls {
			if l.GlobalID == branch || l.GlobalID == tag || l.GlobalID == mr {
				changed++
			}
		}
	}
	if w := s.jira.Calls().Writes; w != changed || changed < 4 {
		t.Errorf("%d Jira writes, want %d (the branch, tag and merge request links; nothing else)", w, changed)
	}
	if st, _, _ := s.store.Repo(key); st.LinkFormat == 0 {
		t.Error("link format not recorded")
	}

	// Once corrected, passes write nothing.
	s.jira.ResetCalls()
	mustOK(t, s.sync(t))
	if w := s.jira.Calls().Writes; w != 0 {
		t.Errorf("pass after the correction wrote %d times", w)
	}
}

// TestOldLinkFormatGitHubUnchanged: GitHub's links did not change, so an
// installation from before the versioning is only marked current: no Jira
// write.
func TestOldLinkFormatGitHubUnchanged(t *testing.T) {
	b, _ := smallHistory(t)
	s := newStack(t, b.Build(), nil)
	mustOK(t, s.sync(t))
	key := state.RepoKey{Provider: "github", ID: repoID}
	st, _, err := s.store.Repo(key)
	if err != nil || st.LinkFormat == 0 {
		t.Fatalf("a new repo is not recorded in the current format: %+v %v", st.LinkFormat, err)
	}
	st.LinkFormat = 0
	if err := s.store.PutRepo(st); err != nil {
		t.Fatal(err)
	}
	s.jira.ResetCalls()
	mustOK(t, s.sync(t))
	if w := s.jira.Calls().Writes; w != 0 {
		t.Errorf("%d Jira writes", w)
	}
	if st, _, _ := s.store.Repo(key); st.LinkFormat == 0 {
		t.Error("link format not recorded")
	}
}
