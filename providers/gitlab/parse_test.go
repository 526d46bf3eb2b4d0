package gitlab

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
)

const whFixtureDir = "testdata/webhooks"

// whFixture is one captured or documented delivery and what it must parse to.
type whFixture struct {
	file      string // under testdata/webhooks
	eventType string // its X-Gitlab-Event
	want      providers.Event
	ignored   bool // want a *providers.IgnoredError instead
}

func whRead(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(whFixtureDir, file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func whUTC(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t.UTC()
}

const (
	whZeros      = "0000000000000000000000000000000000000000"
	whHelloWorld = "https://gitlab.com/gitlab-org/hello-world"
)

var (
	whDiaspora   = providers.Repo{ID: 15, FullName: "mike/diaspora", HTMLURL: "http://example.com/mike/diaspora", DefaultBranch: "master"}
	whExample    = providers.Repo{ID: 1, FullName: "jsmith/example", HTMLURL: "http://example.com/jsmith/example", DefaultBranch: "master"}
	whHello      = providers.Repo{ID: 4861503, FullName: "gitlab-org/hello-world", HTMLURL: whHelloWorld, DefaultBranch: "master"}
	whSubgroup   = providers.Repo{ID: 4861503, FullName: "group1/group2/group3/grp2repo", HTMLURL: "https://gitlab.com/group1/group2/group3/grp2repo", DefaultBranch: "master"}
	whHelloPR    = providers.PullRequest{Number: 1, Title: "update readme", Body: "adding build instructions to readme", HeadBranch: "feature", BaseBranch: "master", CreatedAt: whUTC("2017-12-10T17:01:11Z"), HTMLURL: whHelloWorld + "/merge_requests/1"}
	whReadmeAdd  = providers.Commit{SHA: "2adc9465c4edfc33834e173fe89436a7cb899a1d", Message: "added readme\n", AuthorName: "Sid Sijbrandij", AuthorDate: whUTC("2017-12-10T08:26:38Z"), HTMLURL: whHelloWorld + "/commit/2adc9465c4edfc33834e173fe89436a7cb899a1d"}
	whReadmeEdit = providers.Commit{SHA: "c4c79227ed610f1151f05bbc5be33b4f340d39c8", Message: "update readme\n", AuthorName: "Sid Sijbrandij", AuthorDate: whUTC("2017-12-10T08:28:36Z"), HTMLURL: whHelloWorld + "/commit/c4c79227ed610f1151f05bbc5be33b4f340d39c8"}
)

func whPR(mod func(*providers.PullRequest)) *providers.PullRequest {
	pr := whHelloPR
	mod(&pr)
	return &pr
}

// whFixtures lists every file under testdata/webhooks (TestParseWebhookFixtures
// fails if one is missing) with the exact Event it must give.
func whFixtures() []whFixture {
	return []whFixture{
		{file: "pipeline.json", eventType: "Pipeline Hook", want: providers.Event{
			Kind: providers.EventRun, Action: "success",
			Repo: providers.Repo{ID: 1, FullName: "gitlab-org/gitlab-test", HTMLURL: "http://192.168.64.1:3005/gitlab-org/gitlab-test", DefaultBranch: "master"},
			Run: &providers.Run{ID: 31, Number: 3, WorkflowKey: "Pipeline for branch: master", Workflow: "Pipeline for branch: master",
				Title: "test", Event: "merge_request_event", Status: providers.CISuccess,
				HeadSHA: "bcbb5ec396a2c0f828686f14fac9b80b780504f2", HeadBranch: "master", PullNumbers: []int{1},
				HTMLURL: "http://example.com/gitlab-org/gitlab-test/-/pipelines/31", CreatedAt: whUTC("2016-08-12T15:23:28Z")},
		}},
		{file: "deployment.json", eventType: "Deployment Hook", want: providers.Event{
			Kind: providers.EventDeployment, Action: "success",
			Repo: providers.Repo{ID: 30, FullName: "root/test-deployment-webhooks", HTMLURL: "http://10.126.0.2:3000/root/test-deployment-webhooks", DefaultBranch: "master"},
			Deployment: &providers.Deployment{ID: 15, Environment: "staging", SHA: "279484c09fbe69ededfced8c1bb6e6d24616b468",
				Status: providers.CISuccess, HTMLURL: "https://staging.example.com", UpdatedAt: whUTC("2021-04-28T19:50:00Z")},
		}},
		{file: "push.json", eventType: "Push Hook", want: providers.Event{
			Kind: providers.EventPush, Repo: whDiaspora, Ref: "master", RefType: providers.RefBranch,
			Before: "95790bf891e76fee5e1747ab589903a6a1f80f22", After: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
			Commits: []providers.Commit{
				{SHA: "b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327", Message: "Update Catalan translation to e38cb41.\n\nSee https://gitlab.com/gitlab-org/gitlab for more information",
					AuthorName: "Jordi Mallach", AuthorDate: whUTC("2011-12-12T12:27:31Z"), HTMLURL: "http://example.com/mike/diaspora/commit/b6568db1bc1dcd7f8b4d5a946b0b91f9dacd7327"},
				{SHA: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7", Message: "fixed readme",
					AuthorName: "GitLab dev user", AuthorDate: whUTC("2012-01-03T21:36:29Z"), HTMLURL: "http://example.com/mike/diaspora/commit/da1560886d4f094c3e6c9ef40349f7d38b5d27d7"},
			},
			TotalCommits: 4, // the payload lists 2 of 4
		}},
		{file: "tag_push.json", eventType: "Tag Push Hook", want: providers.Event{
			Kind: providers.EventPush, Repo: whExample, Ref: "v1.0.0", RefType: providers.RefTag,
			Before: whZeros, After: "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7", Created: true,
		}},
		{file: "merge_request.json", eventType: "Merge Request Hook", want: providers.Event{
			Kind: providers.EventPullRequest, Action: "open",
			Repo: providers.Repo{ID: 1, FullName: "gitlabhq/gitlab-test", HTMLURL: "http://example.com/gitlabhq/gitlab-test", DefaultBranch: "master"},
			PullRequest: &providers.PullRequest{
				Number: 1, Title: "MS-Viewport", HeadBranch: "ms-viewport", BaseBranch: "master", State: providers.PullRequestOpen,
				// Author stays empty: user (id 1) triggered it, author_id is 51.
				CreatedAt: whUTC("2013-12-03T17:23:34Z"), UpdatedAt: whUTC("2013-12-03T17:23:34Z"),
				HTMLURL: "http://example.com/diaspora/merge_requests/1",
			},
		}},
		{file: "system_hooks/push.json", eventType: "System Hook", want: providers.Event{
			Kind: providers.EventPush, Repo: whDiaspora, Ref: "master", RefType: providers.RefBranch,
			Before: "95790bf891e76fee5e1747ab589903a6a1f80f22", After: "da1560886d4f094c3e6c9ef40349f7d38b5d27d7",
			Commits: []providers.Commit{{SHA: "c5feabde2d8cd023215af4d2ceeb7a64839fc428", Message: "Add simple search to projects in public area",
				AuthorName: "Example User", AuthorDate: whUTC("2013-05-13T18:18:08Z"), HTMLURL: "https://dev.gitlab.org/gitlab/gitlabhq/commit/c5feabde2d8cd023215af4d2ceeb7a64839fc428"}},
			TotalCommits: 1,
		}},
		{file: "system_hooks/tag_push.json", eventType: "System Hook", want: providers.Event{
			Kind: providers.EventPush, Repo: whExample, Ref: "v1.0.0", RefType: providers.RefTag,
			Before: whZeros, After: "82b3d5ae55f7080f1e6022629cdb57bfae7cccc7", Created: true,
		}},
		{file: "system_hooks/repository_update.json", eventType: "System Hook", want: providers.Event{
			Kind: providers.EventPush, Repo: whExample, Ref: "master", RefType: providers.RefBranch,
			Before: "8205ea8d81ce0c6b90fbe8280d118cc9fdad6130", After: "4045ea7a3df38697b3730a20fb73c8bed8a3e69e",
		}},
		{file: "system_hooks/project_destroy.json", eventType: "System Hook", want: providers.Event{
			Kind: providers.EventRepoDeleted, Action: "project_destroy", Repo: providers.Repo{ID: 73, FullName: "jsmith/underscore"},
		}},
		{file: "system_hooks/project_rename.json", eventType: "System Hook", want: providers.Event{
			Kind: providers.EventRepoRenamed, Action: "project_rename", Repo: providers.Repo{ID: 73, FullName: "jsmith/underscore"}, OldFullName: "jsmith/overscore",
		}},
		{file: "system_hooks/project_transfer.json", eventType: "System Hook", want: providers.Event{
			Kind: providers.EventRepoRenamed, Action: "project_transfer", Repo: providers.Repo{ID: 73, FullName: "scores/underscore"}, OldFullName: "jsmith/overscore",
		}},
		{file: "system_hooks/project_create.json", eventType: "System Hook", ignored: true},
		{file: "system_hooks/project_update.json", eventType: "System Hook", ignored: true},
		{file: "system_hooks/group_rename.json", eventType: "System Hook", ignored: true},

		{file: "drone-go-scm/push.json", eventType: "Push Hook", want: providers.Event{
			Kind: providers.EventPush, Repo: whHello, Ref: "master", RefType: providers.RefBranch,
			Before: "9217710ce8c7e1eae7a5d1c45f6e43e1c769f866", After: "2adc9465c4edfc33834e173fe89436a7cb899a1d",
			Commits: []providers.Commit{whReadmeAdd}, TotalCommits: 1,
		}},
		{file: "drone-go-scm/push_merge.json", eventType: "Push Hook", want: providers.Event{
			Kind: providers.EventPush, Repo: whHello, Ref: "master", RefType: providers.RefBranch,
			Before: "2adc9465c4edfc33834e173fe89436a7cb899a1d", After: "78a76ee6b4992a6baf64c59fc4c44c7323d60438",
			Commits: []providers.Commit{
				func() providers.Commit { c := whReadmeEdit; c.AuthorDate = whUTC("2017-12-10T16:28:36Z"); return c }(), // -08:00 in the payload
				{SHA: "78a76ee6b4992a6baf64c59fc4c44c7323d60438", Message: "Merge branch 'feature' into 'master'\n\nupdate readme\n\nSee merge request gitlab-org/hello-world!1",
					AuthorName: "Sid Sijbrandij", AuthorDate: whUTC("2017-12-10T17:08:06Z"), HTMLURL: whHelloWorld + "/commit/78a76ee6b4992a6baf64c59fc4c44c7323d60438"},
			},
			TotalCommits: 2,
		}},
		{file: "drone-go-scm/push_subgroup.json", eventType: "Push Hook", want: providers.Event{
			Kind: providers.EventPush, Repo: whSubgroup, Ref: "master", RefType: providers.RefBranch,
			Before: "9217710ce8c7e1eae7a5d1c45f6e43e1c769f866", After: "2adc9465c4edfc33834e173fe89436a7cb899a1d",
			Commits: []providers.Commit{func() providers.Commit {
				c := whReadmeAdd
				c.HTMLURL = "https://gitlab.com/group1/group2/group3/grp2repo/commit/2adc9465c4edfc33834e173fe89436a7cb899a1d"
				return c
			}()},
			TotalCommits: 1,
		}},
		{file: "drone-go-scm/branch_create.json", eventType: "Push Hook", want: providers.Event{
			Kind: providers.EventPush, Repo: whHello, Ref: "feature", RefType: providers.RefBranch,
			Before: whZeros, After: "c4c79227ed610f1151f05bbc5be33b4f340d39c8", Created: true,
			Commits: []providers.Commit{whReadmeEdit}, TotalCommits: 1,
		}},
		{file: "drone-go-scm/branch_delete.json", eventType: "Push Hook", want: providers.Event{
			Kind: providers.EventPush, Repo: whHello, Ref: "feature", RefType: providers.RefBranch,
			Before: "c4c79227ed610f1151f05bbc5be33b4f340d39c8", After: whZeros, Deleted: true,
		}},
		{file: "drone-go-scm/tag_create.json", eventType: "Tag Push Hook", want: providers.Event{
			Kind: providers.EventPush, Repo: whHello, Ref: "v1.0.0", RefType: providers.RefTag,
			Before: whZeros, After: "2adc9465c4edfc33834e173fe89436a7cb899a1d", Created: true,
			Commits: []providers.Commit{whReadmeAdd}, TotalCommits: 1,
		}},
		{file: "drone-go-scm/tag_delete.json", eventType: "Tag Push Hook", want: providers.Event{
			Kind: providers.EventPush, Repo: whHello, Ref: "v1.0.0", RefType: providers.RefTag,
			Before: "2adc9465c4edfc33834e173fe89436a7cb899a1d", After: whZeros, Deleted: true,
		}},
		{file: "drone-go-scm/pull_request_create.json", eventType: "Merge Request Hook", want: providers.Event{
			Kind: providers.EventPullRequest, Action: "open", Repo: whHello,
			PullRequest: whPR(func(pr *providers.PullRequest) {
				pr.State = providers.PullRequestOpen
				pr.Author = "sytses" // no user.id; whoever opens is the author
				pr.UpdatedAt = whUTC("2017-12-10T17:01:11Z")
			}),
		}},
		{file: "drone-go-scm/pull_request_close.json", eventType: "Merge Request Hook", want: providers.Event{
			Kind: providers.EventPullRequest, Action: "close", Repo: whHello,
			PullRequest: whPR(func(pr *providers.PullRequest) {
				pr.State = providers.PullRequestClosed
				pr.UpdatedAt = whUTC("2017-12-10T17:02:46Z")
			}),
		}},
		{file: "drone-go-scm/pull_request_merge.json", eventType: "Merge Request Hook", want: providers.Event{
			Kind: providers.EventPullRequest, Action: "merge", Repo: whHello,
			PullRequest: whPR(func(pr *providers.PullRequest) {
				pr.State = providers.PullRequestMerged
				pr.UpdatedAt = whUTC("2017-12-10T17:08:07Z")
				pr.MergedAt = pr.UpdatedAt
			}),
		}},
		{file: "drone-go-scm/pull_request_reopen.json", eventType: "Merge Request Hook", want: providers.Event{
			Kind: providers.EventPullRequest, Action: "reopen", Repo: whHello,
			PullRequest: whPR(func(pr *providers.PullRequest) {
				pr.State = providers.PullRequestOpen
				pr.UpdatedAt = whUTC("2017-12-10T17:03:25Z")
			}),
		}},
		{file: "drone-go-scm/pull_request_review_ready.json", eventType: "Merge Request Hook", want: providers.Event{
			Kind: providers.EventPullRequest, Action: "update",
			Repo: providers.Repo{ID: 44067058, FullName: "rathod.meetsatish/meet", HTMLURL: "https://gitlab.com/rathod.meetsatish/meet", DefaultBranch: "main"},
			PullRequest: &providers.PullRequest{
				Number: 3, Title: "Draft: Update README.md", HeadBranch: "main1234", BaseBranch: "main", State: providers.PullRequestOpen,
				Author:    "rathod.meetsatish", // user.id == author_id
				CreatedAt: whUTC("2023-09-07T19:42:34Z"), UpdatedAt: whUTC("2023-09-07T19:42:45Z"),
				HTMLURL: "https://gitlab.com/rathod.meetsatish/meet/-/merge_requests/3",
			},
		}},
		{file: "drone-go-scm/merge_request_subgroup.json", eventType: "Merge Request Hook", want: providers.Event{
			Kind: providers.EventPullRequest, Action: "open", Repo: whSubgroup,
			PullRequest: whPR(func(pr *providers.PullRequest) {
				pr.State = providers.PullRequestOpen
				pr.Author = "sytses"
				pr.UpdatedAt = whUTC("2017-12-10T17:01:11Z")
				pr.HTMLURL = "https://gitlab.com/group1/group2/group3/grp2repo/merge_requests/1"
			}),
		}},
	}
}

// whWant is the expected event of one fixture.
func whWant(t *testing.T, file string) providers.Event {
	t.Helper()
	for _, fx := range whFixtures() {
		if fx.file == file {
			return fx.want
		}
	}
	t.Fatalf("no fixture %s", file)
	return providers.Event{}
}

// whNormalize puts every time in UTC so events compare with reflect.DeepEqual.
func whNormalize(ev providers.Event) providers.Event {
	if ev.Commits != nil {
		cs := make([]providers.Commit, len(ev.Commits))
		for i, c := range ev.Commits {
			c.AuthorDate = c.AuthorDate.UTC()
			cs[i] = c
		}
		ev.Commits = cs
	}
	if ev.PullRequest != nil {
		pr := *ev.PullRequest
		pr.CreatedAt, pr.UpdatedAt, pr.MergedAt = pr.CreatedAt.UTC(), pr.UpdatedAt.UTC(), pr.MergedAt.UTC()
		ev.PullRequest = &pr
	}
	return ev
}

func whCheck(t *testing.T, got providers.Event, err error, want providers.Event) {
	t.Helper()
	if err != nil {
		t.Fatalf("ParseWebhook: %v", err)
	}
	if g, w := whNormalize(got), whNormalize(want); !reflect.DeepEqual(g, w) {
		gj, _ := json.MarshalIndent(g, "", "  ")
		wj, _ := json.MarshalIndent(w, "", "  ")
		t.Fatalf("event mismatch\n got: %s\nwant: %s", gj, wj)
	}
}

func whCheckIgnored(t *testing.T, err error, eventType string) {
	t.Helper()
	var ie *providers.IgnoredError
	if !errors.As(err, &ie) || !errors.Is(err, providers.ErrIgnored) {
		t.Fatalf("err = %v, want *providers.IgnoredError", err)
	}
	if ie.EventType != eventType || ie.Reason == "" {
		t.Errorf("IgnoredError = %+v, want EventType %q and a reason", ie, eventType)
	}
	if errors.Is(err, providers.ErrBadPayload) {
		t.Errorf("ignored delivery also matches ErrBadPayload: %v", err)
	}
}

func TestParseWebhookFixtures(t *testing.T) {
	listed := map[string]bool{}
	for _, fx := range whFixtures() {
		listed[fx.file] = true
		t.Run(fx.file, func(t *testing.T) {
			got, err := ParseWebhook(fx.eventType, whRead(t, fx.file))
			if fx.ignored {
				whCheckIgnored(t, err, fx.eventType)
				return
			}
			whCheck(t, got, err, fx.want)
		})
	}
	// Every fixture is in the table, so none is silently left untested.
	err := filepath.WalkDir(whFixtureDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".json" {
			return err
		}
		rel, _ := filepath.Rel(whFixtureDir, path)
		if !listed[filepath.ToSlash(rel)] {
			t.Errorf("fixture %s has no expectation in whFixtures", rel)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestParseWebhookKeepsOffset: commit times keep the author's UTC offset.
func TestParseWebhookKeepsOffset(t *testing.T) {
	ev, err := ParseWebhook("Push Hook", whRead(t, "push.json"))
	if err != nil {
		t.Fatal(err)
	}
	if _, off := ev.Commits[0].AuthorDate.Zone(); off != 2*3600 {
		t.Errorf("offset = %d s, want +02:00 as in the payload", off)
	}
}

// whMutate decodes a fixture, lets mod change it and encodes it again.
func whMutate(t *testing.T, file string, mod func(m map[string]any)) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(whRead(t, file), &m); err != nil {
		t.Fatal(err)
	}
	mod(m)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func whAttrs(m map[string]any) map[string]any { return m["object_attributes"].(map[string]any) }

func TestParseWebhookVariants(t *testing.T) {
	mrWant := whWant(t, "merge_request.json")
	pushWant := whWant(t, "push.json")
	destroyWant := whWant(t, "system_hooks/project_destroy.json")
	cases := []struct {
		name      string
		eventType string
		body      []byte
		want      providers.Event
	}{
		{"merge request system hook", "System Hook", whRead(t, "merge_request.json"), mrWant},
		{"service hook push", "Service Hook", whRead(t, "push.json"), pushWant},
		{"service hook merge request", "Service Hook", whRead(t, "merge_request.json"), mrWant},
		{"group webhook project event", "Project Hook", whRead(t, "system_hooks/project_destroy.json"), destroyWant},
		{"tag ref under Push Hook is a tag", "Push Hook",
			whMutate(t, "push.json", func(m map[string]any) { m["ref"] = "refs/tags/v2" }),
			func() providers.Event { e := pushWant; e.Ref, e.RefType = "v2", providers.RefTag; return e }()},
		{"branch name with slashes", "Push Hook",
			whMutate(t, "push.json", func(m map[string]any) { m["ref"] = "refs/heads/feature/PROJ-12-login" }),
			func() providers.Event { e := pushWant; e.Ref = "feature/PROJ-12-login"; return e }()},
		{"project id from project.id", "Push Hook",
			whMutate(t, "push.json", func(m map[string]any) { delete(m, "project_id") }), pushWant},
		{"trailing slash trimmed", "Push Hook",
			whMutate(t, "push.json", func(m map[string]any) { m["project"].(map[string]any)["web_url"] = "http://example.com/mike/diaspora/" }),
			pushWant},
		{"total_commits_count missing", "Push Hook",
			whMutate(t, "push.json", func(m map[string]any) { delete(m, "total_commits_count") }),
			func() providers.Event { e := pushWant; e.TotalCommits = 2; return e }()},
		{"sha256 repository deletion", "Push Hook",
			whMutate(t, "drone-go-scm/branch_delete.json", func(m map[string]any) { m["after"] = strings.Repeat("0", 64) }),
			func() providers.Event {
				e := whWant(t, "drone-go-scm/branch_delete.json")
				e.After = strings.Repeat("0", 64)
				return e
			}()},
		{"merge request project id from target_project_id", "Merge Request Hook",
			whMutate(t, "merge_request.json", func(m map[string]any) {
				delete(m["project"].(map[string]any), "id")
				whAttrs(m)["target_project_id"] = 1
			}), mrWant},
		{"locked merge request is open", "Merge Request Hook",
			whMutate(t, "merge_request.json", func(m map[string]any) { whAttrs(m)["state"] = "locked" }), mrWant},
		{"actor is the author", "Merge Request Hook",
			whMutate(t, "merge_request.json", func(m map[string]any) { whAttrs(m)["author_id"] = 1 }),
			func() providers.Event {
				e := mrWant
				pr := *e.PullRequest
				pr.Author = "root"
				e.PullRequest = &pr
				return e
			}()},
		{"merged but not by this event: no merge time", "Merge Request Hook",
			whMutate(t, "merge_request.json", func(m map[string]any) { whAttrs(m)["state"] = "merged" }),
			func() providers.Event {
				e := mrWant
				pr := *e.PullRequest
				pr.State = providers.PullRequestMerged
				e.PullRequest = &pr
				return e
			}()},
		{"UTC-suffixed merge request times", "Merge Request Hook",
			whMutate(t, "merge_request.json", func(m map[string]any) {
				whAttrs(m)["created_at"] = "2013-12-03 17:23:34 UTC"
				whAttrs(m)["updated_at"] = "2013-12-03 19:23:34 +0200"
			}), mrWant},
		{"repository_update takes the first branch or tag change", "System Hook",
			whMutate(t, "system_hooks/repository_update.json", func(m map[string]any) {
				m["changes"] = []any{
					map[string]any{"before": "a", "after": "b", "ref": "refs/merge-requests/1/head"},
					map[string]any{"before": "c", "after": whZeros, "ref": "refs/tags/v1"},
					map[string]any{"before": "e", "after": "f", "ref": "refs/heads/main"},
				}
			}),
			providers.Event{Kind: providers.EventPush, Repo: whExample, Ref: "v1", RefType: providers.RefTag, Before: "c", After: whZeros, Deleted: true}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseWebhook(tc.eventType, tc.body)
			whCheck(t, got, err, tc.want)
		})
	}
}

func TestParseWebhookIgnored(t *testing.T) {
	cases := []struct {
		name      string
		eventType string
		body      []byte
	}{
		{"note", "Note Hook", []byte(`{"object_kind":"note"}`)},
		{"issue", "Issue Hook", []byte(`{"object_kind":"issue"}`)},
		{"confidential issue", "Confidential Issue Hook", []byte(`{}`)},
		{"job", "Job Hook", []byte(`{}`)},
		{"service hook of an unused kind", "Service Hook", []byte(`{"object_kind":"wiki_page"}`)},
		{"wiki", "Wiki Page Hook", []byte(`{}`)},
		{"release", "Release Hook", []byte(`{}`)},
		{"unknown type, body not even read", "Emoji Hook", []byte(`not json`)},
		{"push to a merge request ref", "Push Hook",
			whMutate(t, "push.json", func(m map[string]any) { m["ref"] = "refs/merge-requests/1/head" })},
		{"push to a bare refs/heads/", "Push Hook",
			whMutate(t, "push.json", func(m map[string]any) { m["ref"] = "refs/heads/" })},
		{"repository_update without changes", "System Hook",
			whMutate(t, "system_hooks/repository_update.json", func(m map[string]any) { delete(m, "changes") })},
		{"repository_update of other refs only", "System Hook",
			whMutate(t, "system_hooks/repository_update.json", func(m map[string]any) {
				m["changes"] = []any{map[string]any{"before": "a", "after": "b", "ref": "refs/keep-around/a"}}
			})},
		{"user_create", "System Hook", []byte(`{"event_name":"user_create","user_id":41}`)},
		{"system hook of unknown shape", "System Hook", []byte(`{"object_kind":"pipeline"}`)},
		{"service hook build", "Service Hook", []byte(`{"object_kind":"build"}`)},
		{"group webhook project_create", "Project Hook", whRead(t, "system_hooks/project_create.json")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseWebhook(tc.eventType, tc.body)
			whCheckIgnored(t, err, tc.eventType)
			if ev.Kind != "" {
				t.Errorf("ignored delivery returned an event: %+v", ev)
			}
		})
	}
}

func TestParseWebhookBadPayload(t *testing.T) {
	cases := []struct {
		name      string
		eventType string
		body      []byte
		field     string // the error names it
	}{
		{"not JSON", "Push Hook", []byte(`{"ref":`), "Push Hook"},
		{"JSON array", "Merge Request Hook", []byte(`[]`), "Merge Request Hook"},
		{"null", "Push Hook", []byte(`null`), "project_id"},
		{"system hook not JSON", "System Hook", []byte(`<html>`), "System Hook"},
		{"no event type", "", whRead(t, "push.json"), HeaderEvent},
		{"push without project id", "Push Hook", whMutate(t, "push.json", func(m map[string]any) {
			delete(m, "project_id")
			delete(m["project"].(map[string]any), "id")
		}), "project_id"},
		{"negative project id", "Push Hook", whMutate(t, "push.json", func(m map[string]any) { m["project_id"] = -4 }), "project_id"},
		{"project id of the wrong type", "Push Hook", whMutate(t, "push.json", func(m map[string]any) { m["project_id"] = "15" }), "project_id"},
		{"system push without project_id", "System Hook", whMutate(t, "system_hooks/push.json", func(m map[string]any) { delete(m, "project_id") }), "project_id"},
		{"push without ref", "Push Hook", whMutate(t, "push.json", func(m map[string]any) { delete(m, "ref") }), "ref"},
		{"push without after", "Tag Push Hook", whMutate(t, "tag_push.json", func(m map[string]any) { delete(m, "after") }), "after"},
		{"commit without id", "Push Hook", whMutate(t, "push.json", func(m map[string]any) {
			delete(m["commits"].([]any)[1].(map[string]any), "id")
		}), "commits[1].id"},
		{"merge request without project", "Merge Request Hook", whMutate(t, "merge_request.json", func(m map[string]any) {
			delete(m, "project")
			delete(whAttrs(m), "target_project_id")
		}), "project.id"},
		{"merge request without iid", "Merge Request Hook", whMutate(t, "merge_request.json", func(m map[string]any) { delete(whAttrs(m), "iid") }), "object_attributes.iid"},
		{"merge request iid beyond 32 bits", "Merge Request Hook", whMutate(t, "merge_request.json", func(m map[string]any) { whAttrs(m)["iid"] = int64(1) << 40 }), "object_attributes.iid"},
		{"merge request with unknown state", "Merge Request Hook", whMutate(t, "merge_request.json", func(m map[string]any) { whAttrs(m)["state"] = "frozen" }), "object_attributes.state"},
		{"project_destroy without project_id", "System Hook", whMutate(t, "system_hooks/project_destroy.json", func(m map[string]any) { delete(m, "project_id") }), "project_id"},
		{"project_rename without new path", "System Hook", whMutate(t, "system_hooks/project_rename.json", func(m map[string]any) { delete(m, "path_with_namespace") }), "path_with_namespace"},
		{"repository_update without project_id", "System Hook", whMutate(t, "system_hooks/repository_update.json", func(m map[string]any) { delete(m, "project_id") }), "project_id"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := ParseWebhook(tc.eventType, tc.body)
			if !errors.Is(err, providers.ErrBadPayload) {
				t.Fatalf("err = %v, want ErrBadPayload", err)
			}
			if errors.Is(err, providers.ErrIgnored) {
				t.Errorf("bad payload also matches ErrIgnored: %v", err)
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("err = %q, want it to name %q", err, tc.field)
			}
			if ev.Kind != "" {
				t.Errorf("bad payload returned an event: %+v", ev)
			}
		})
	}
}

func TestParseHookTime(t *testing.T) {
	cases := []struct {
		in   string
		want time.Time // zero: unreadable
	}{
		{"2013-12-03T17:23:34Z", whUTC("2013-12-03T17:23:34Z")},
		{"2013-12-03 17:23:34 UTC", whUTC("2013-12-03T17:23:34Z")},
		{"2011-12-12T14:27:31+02:00", whUTC("2011-12-12T12:27:31Z")},
		{"2017-12-10T08:28:36-08:00", whUTC("2017-12-10T16:28:36Z")},
		{"2023-03-15T00:00:10.123Z", whUTC("2023-03-15T00:00:10.123Z")},
		{"2013-12-03 19:23:34 +0200", whUTC("2013-12-03T17:23:34Z")},
		{"2013-12-03 17:23:34 CET", time.Time{}},
		{"", time.Time{}},
		{"yesterday", time.Time{}},
	}
	for _, tc := range cases {
		if got := parseHookTime(tc.in); !got.Equal(tc.want) || got.IsZero() != tc.want.IsZero() {
			t.Errorf("parseHookTime(%q) = %v, want %v", tc.in, got, tc.want)
		}
	}
}

func TestVerifyToken(t *testing.T) {
	const secret = "s3cr3t-t0ken"
	if err := VerifyToken(secret, secret); err != nil {
		t.Fatalf("matching token: %v", err)
	}
	for _, tc := range []struct{ name, secret, header string }{
		{"wrong token", secret, "s3cr3t-t0kem"},
		{"prefix of the token", secret, "s3cr3t"},
		{"token with a suffix", secret, secret + "x"},
		{"header missing", secret, ""},
		{"no secret configured", "", ""},
		{"no secret configured, header sent", "", secret},
		{"case differs", secret, strings.ToUpper(secret)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifyToken(tc.secret, tc.header)
			if !errors.Is(err, providers.ErrBadSignature) {
				t.Fatalf("err = %v, want ErrBadSignature", err)
			}
			for _, s := range []string{tc.secret, tc.header} {
				if len(s) > 3 && strings.Contains(err.Error(), s) {
					t.Errorf("error %q echoes a token", err)
				}
			}
		})
	}
}

// whSign is an independent implementation of the documented scheme.
func whSign(key []byte, id, ts string, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id + "." + ts + "." + string(body)))
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

func TestVerifySignedReferenceVector(t *testing.T) {
	// Standard Webhooks' reference vector (see testdata/webhooks/README.md).
	const (
		secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		id     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
		ts     = "1614265330"
		sig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
	)
	body := []byte(`{"test": 2432232314}`)
	now := time.Unix(1614265330, 0)
	if err := VerifySigned(secret, id, ts, sig, body, now); err != nil {
		t.Fatalf("reference vector: %v", err)
	}
	// The key is the decoded token, not its text.
	if err := VerifySigned(strings.TrimPrefix(secret, "whsec_"), id, ts, sig, body, now); err == nil {
		t.Error("unprefixed secret verified as if base64-decoded; it must be used as raw bytes")
	}
	if err := VerifySigned(secret, id, ts, sig, []byte(`{"test": 2432232315}`), now); !errors.Is(err, providers.ErrBadSignature) {
		t.Errorf("tampered body: err = %v, want ErrBadSignature", err)
	}
}

func TestVerifySigned(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef") // 32 bytes, as GitLab generates
	secret := "whsec_" + base64.StdEncoding.EncodeToString(key)
	const id = "f5e5f430-f57b-4e6e-9fac-d9128cd7232f" // the Idempotency-Key
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	ts := "1777636800" // now
	body := whRead(t, "push.json")
	good := whSign(key, id, ts, body)
	other := whSign([]byte("another key of thirty-two bytes!"), id, ts, body)

	ok := []struct {
		name      string
		secret    string
		timestamp string
		signature string
		now       time.Time
	}{
		{"signed with the token", secret, ts, good, now},
		{"several entries, one matches", secret, ts, "v1a,AAAA v1," + other[3:] + " " + good + " v1,!!!", now},
		{"raw secret is the key itself", "raw secret", ts, whSign([]byte("raw secret"), id, ts, body), now},
		{"4m59s old", secret, ts, good, now.Add(4*time.Minute + 59*time.Second)},
		{"exactly at the tolerance", secret, ts, good, now.Add(SignatureTolerance)},
		{"clock slightly behind the sender", secret, ts, good, now.Add(-4 * time.Minute)},
	}
	for _, tc := range ok {
		t.Run(tc.name, func(t *testing.T) {
			if err := VerifySigned(tc.secret, id, tc.timestamp, tc.signature, body, tc.now); err != nil {
				t.Fatal(err)
			}
		})
	}

	bad := []struct {
		name                      string
		secret, id, ts, signature string
		body                      []byte
		now                       time.Time
	}{
		{"stale timestamp", secret, id, ts, good, body, now.Add(SignatureTolerance + time.Second)},
		{"timestamp in the future", secret, id, ts, good, body, now.Add(-SignatureTolerance - time.Second)},
		{"old delivery replayed with a fresh timestamp", secret, id, "1777637400", good, body, now.Add(10 * time.Minute)},
		{"other webhook-id", secret, "13792a34-cac6-4fda-95a8-c58e00a3954e", ts, good, body, now},
		{"tampered body", secret, id, ts, good, append([]byte(" "), body...), now},
		{"wrong key", secret, id, ts, other, body, now},
		{"base64 text used as key", "whsec_" + base64.StdEncoding.EncodeToString(key), id, ts,
			whSign([]byte("whsec_"+base64.StdEncoding.EncodeToString(key)), id, ts, body), body, now},
		{"signature without version", secret, id, ts, good[3:], body, now},
		{"other version only", secret, id, ts, "v2," + good[3:], body, now},
		{"hex instead of base64", secret, id, ts, "v1,deadbeef", body, now},
		{"no secret configured", "", id, ts, good, body, now},
		{"malformed whsec_ secret", "whsec_not*base64", id, ts, good, body, now},
		{"empty whsec_ secret", "whsec_", id, ts, good, body, now},
		{"webhook-id missing", secret, "", ts, good, body, now},
		{"webhook-timestamp missing", secret, id, "", good, body, now},
		{"webhook-signature missing", secret, id, ts, "", body, now},
		{"timestamp not a number", secret, id, "2026-05-01T12:00:00Z", good, body, now},
		{"timestamp in milliseconds", secret, id, ts + "000", good, body, now},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			err := VerifySigned(tc.secret, tc.id, tc.ts, tc.signature, tc.body, tc.now)
			if !errors.Is(err, providers.ErrBadSignature) {
				t.Fatalf("err = %v, want ErrBadSignature", err)
			}
			if s := strings.TrimPrefix(tc.secret, "whsec_"); len(s) > 3 && strings.Contains(err.Error(), s) {
				t.Errorf("error %q echoes the secret", err)
			}
		})
	}
}

func BenchmarkParseWebhookPush(b *testing.B) {
	body := whRead(b, "push.json")
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseWebhook("Push Hook", body); err != nil {
			b.Fatal(err)
		}
	}
}
