package github_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/github"
)

// webhookDir holds the copied fixtures: <X-GitHub-Event>/[source/]file.json.
const webhookDir = "testdata/webhooks"

var zeroSHA = strings.Repeat("0", 40)

// readWebhook returns a fixture and the X-GitHub-Event a real delivery of it
// carries (its top folder).
func readWebhook(tb testing.TB, rel string) (eventType string, payload []byte) {
	tb.Helper()
	payload, err := os.ReadFile(filepath.Join(webhookDir, filepath.FromSlash(rel)))
	if err != nil {
		tb.Fatal(err)
	}
	eventType, _, _ = strings.Cut(rel, "/")
	return eventType, payload
}

// webhookFixtures lists every fixture, slash-separated and relative to
// webhookDir.
func webhookFixtures(tb testing.TB) []string {
	tb.Helper()
	var files []string
	err := filepath.WalkDir(webhookDir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || filepath.Ext(path) != ".json" {
			return err
		}
		rel, err := filepath.Rel(webhookDir, path)
		files = append(files, filepath.ToSlash(rel))
		return err
	})
	if err != nil {
		tb.Fatal(err)
	}
	if len(files) == 0 {
		tb.Fatal("no webhook fixtures found")
	}
	return files
}

// eventSummary is what the fixture table pins for each delivery.
type eventSummary struct {
	Kind                    providers.EventKind
	Action                  string
	RepoID                  int64
	FullName                string
	OldFullName             string
	Archived                bool
	Ref                     string
	RefType                 providers.RefType
	Before, After           string
	Created, Deleted, Force bool
	Commits, TotalCommits   int
	PR                      int
	PRState                 providers.PullRequestState
}

func summarize(e providers.Event) eventSummary {
	s := eventSummary{
		Kind: e.Kind, Action: e.Action,
		RepoID: e.Repo.ID, FullName: e.Repo.FullName, OldFullName: e.OldFullName, Archived: e.Repo.Archived,
		Ref: e.Ref, RefType: e.RefType, Before: e.Before, After: e.After,
		Created: e.Created, Deleted: e.Deleted, Force: e.Forced,
		Commits: len(e.Commits), TotalCommits: e.TotalCommits,
	}
	if e.PullRequest != nil {
		s.PR, s.PRState = e.PullRequest.Number, e.PullRequest.State
	}
	return s
}

// Repositories of the fixtures.
const (
	codertocatID = 186853002 // Codertocat/Hello-World (github.com docs)
	octocodersID = 186853261 // Octocoders/Hello-World (github.com docs)
	droneID      = 13933572  // bradrydzewski/drone-test-go
	fastciID     = 219188321 // ailisp/gcbapp-buildconfig-example
	octoRepoID   = 300029405 // octo-org/octo-repo (workflow_run docs)
	octoRepo     = "octo-org/octo-repo"
)

func TestParseWebhookFixtures(t *testing.T) {
	const (
		coder  = "Codertocat/Hello-World"
		octo   = "Octocoders/Hello-World"
		drone  = "bradrydzewski/drone-test-go"
		fastci = "ailisp/gcbapp-buildconfig-example"
		// SHAs that recur in the docs and drone payloads.
		helloInit = "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
		droneHead = "d2b75aa7797ec26b088fa2dd527e9d2c052fcedd"
	)
	// Tag pushes of the docs set: a tag deleted by a push.
	tagDeletePush := eventSummary{
		Kind: providers.EventPush, RepoID: codertocatID, FullName: coder,
		Ref: "simple-tag", RefType: providers.RefTag, Before: helloInit, After: zeroSHA, Deleted: true,
	}
	docsTag := func(kind providers.EventKind) eventSummary {
		return eventSummary{Kind: kind, RepoID: codertocatID, FullName: coder, Ref: "simple-tag", RefType: providers.RefTag}
	}
	docsPR := func(action string, state providers.PullRequestState) eventSummary {
		return eventSummary{Kind: providers.EventPullRequest, Action: action, RepoID: codertocatID, FullName: coder, PR: 2, PRState: state}
	}
	dronePR := func(action string, state providers.PullRequestState) eventSummary {
		return eventSummary{Kind: providers.EventPullRequest, Action: action, RepoID: droneID, FullName: drone, PR: 1, PRState: state}
	}
	dronePush := func(ref string, rt providers.RefType, created bool) eventSummary {
		s := eventSummary{Kind: providers.EventPush, RepoID: droneID, FullName: drone, Ref: ref, RefType: rt}
		if created {
			s.Before, s.After, s.Created = zeroSHA, droneHead, true
		} else {
			s.Before, s.After, s.Deleted = droneHead, zeroSHA, true
		}
		return s
	}
	ping := func(id int64, name string) eventSummary {
		return eventSummary{Kind: providers.EventPing, RepoID: id, FullName: name}
	}
	// Legacy (2012) push payloads have no repository.id: jiralinkd cannot
	// key them, so they are refused as bad payloads.
	legacyNoID := providers.ErrBadPayload

	tests := map[string]struct {
		want eventSummary
		err  error // ErrIgnored or ErrBadPayload; then want is zero
	}{
		"create/drone-go-scm/branch_create.json": {want: eventSummary{Kind: providers.EventRefCreated, RepoID: droneID, FullName: drone, Ref: "feature-branch", RefType: providers.RefBranch}},
		"create/drone-go-scm/tag_create.json":    {want: eventSummary{Kind: providers.EventRefCreated, RepoID: droneID, FullName: drone, Ref: "v0.0.1", RefType: providers.RefTag}},
		"create/ghes-35/payload.json":            {want: eventSummary{Kind: providers.EventRefCreated, RepoID: 118, FullName: coder, Ref: "simple-tag", RefType: providers.RefTag}},
		"create/payload.json":                    {want: docsTag(providers.EventRefCreated)},
		"create/with-description.payload.json":   {want: docsTag(providers.EventRefCreated)},
		"create/with-installation.payload.json":  {want: docsTag(providers.EventRefCreated)},
		"create/with-organization.payload.json":  {want: docsTag(providers.EventRefCreated)},

		"delete/drone-go-scm/branch_delete.json": {want: eventSummary{Kind: providers.EventRefDeleted, RepoID: droneID, FullName: drone, Ref: "feature-branch", RefType: providers.RefBranch}},
		"delete/drone-go-scm/tag_delete.json":    {want: eventSummary{Kind: providers.EventRefDeleted, RepoID: droneID, FullName: drone, Ref: "v0.0.1", RefType: providers.RefTag}},
		"delete/ghes-35/payload.json":            {want: eventSummary{Kind: providers.EventRefDeleted, RepoID: 118, FullName: coder, Ref: "simple-tag", RefType: providers.RefTag}},
		"delete/payload.json":                    {want: docsTag(providers.EventRefDeleted)},
		"delete/with-installation.payload.json":  {want: docsTag(providers.EventRefDeleted)},
		"delete/with-organization.payload.json":  {want: docsTag(providers.EventRefDeleted)},

		"deployment_status/gh-pages.payload.json":          {want: eventSummary{Kind: providers.EventDeployment, Action: "created", RepoID: codertocatID, FullName: coder}},
		"deployment_status/payload.json":                   {want: eventSummary{Kind: providers.EventDeployment, Action: "created", RepoID: codertocatID, FullName: coder}},
		"deployment_status/with-installation.payload.json": {want: eventSummary{Kind: providers.EventDeployment, Action: "created", RepoID: codertocatID, FullName: coder}},

		"installation/created.payload.json":                  {err: providers.ErrIgnored},
		"installation/created.with-requester.payload.json":   {err: providers.ErrIgnored},
		"installation/deleted.payload.json":                  {err: providers.ErrIgnored},
		"installation/new_permissions_accepted.payload.json": {err: providers.ErrIgnored},
		"installation/suspend.payload.json":                  {err: providers.ErrIgnored},
		"installation/unsuspend.payload.json":                {err: providers.ErrIgnored},

		"ping/payload.json":                   {want: ping(octocodersID, octo)},
		"ping/reallyfastci/webhook-ping.json": {want: ping(fastciID, fastci)},
		"ping/with-app_id.payload.json":       {want: ping(octocodersID, octo)},
		"ping/with-organization.payload.json": {want: eventSummary{Kind: providers.EventPing}}, // org hook: no repository

		"pull_request/closed.payload.json":             {want: docsPR("closed", providers.PullRequestClosed)},
		"pull_request/converted_to_draft.payload.json": {want: docsPR("converted_to_draft", providers.PullRequestOpen)},
		// The 2012 capture has "repo": [null] and "user": [null] in head
		// and base, which no GitHub schema allows: refused, cleanly.
		"pull_request/danheberden-gith/pull-request.json": {err: providers.ErrBadPayload},
		"pull_request/drone-go-scm/pr_closed.json":        {want: dronePR("closed", providers.PullRequestClosed)},
		"pull_request/drone-go-scm/pr_edited.json":        {want: dronePR("edited", providers.PullRequestOpen)},
		"pull_request/drone-go-scm/pr_opened.json":        {want: dronePR("opened", providers.PullRequestOpen)},
		"pull_request/drone-go-scm/pr_reopened.json":      {want: dronePR("reopened", providers.PullRequestOpen)},
		"pull_request/drone-go-scm/pr_sync.json":          {want: dronePR("synchronize", providers.PullRequestOpen)},
		"pull_request/ghes-35/closed.json": {want: eventSummary{
			Kind: providers.EventPullRequest, Action: "closed", RepoID: 118, FullName: coder, PR: 2, PRState: providers.PullRequestClosed,
		}},
		"pull_request/labeled.payload.json":          {want: docsPR("labeled", providers.PullRequestOpen)},
		"pull_request/opened.payload.json":           {want: docsPR("opened", providers.PullRequestOpen)},
		"pull_request/opened.with-null-body.json":    {want: docsPR("opened", providers.PullRequestOpen)},
		"pull_request/ready_for_review.payload.json": {want: docsPR("ready_for_review", providers.PullRequestOpen)},
		"pull_request/reallyfastci/webhook-pr-close.json": {want: eventSummary{
			Kind: providers.EventPullRequest, Action: "closed", RepoID: fastciID, FullName: fastci, PR: 3, PRState: providers.PullRequestMerged,
		}},
		"pull_request/reopened.payload.json":         {want: docsPR("reopened", providers.PullRequestOpen)},
		"pull_request/review_requested.payload.json": {want: docsPR("review_requested", providers.PullRequestOpen)},
		"pull_request/synchronize.payload.json":      {want: docsPR("synchronize", providers.PullRequestOpen)},

		"pull_request_review/dismissed.payload.json": {want: docsPR("review_dismissed", providers.PullRequestOpen)},
		"pull_request_review/drone-go-scm/pr_review_submitted.json": {want: eventSummary{
			Kind: providers.EventPullRequest, Action: "review_submitted", RepoID: 335170389, FullName: "shivamnegi94/testrepo", PR: 205, PRState: providers.PullRequestOpen,
		}},
		"pull_request_review/submitted.payload.json":                   {want: docsPR("review_submitted", providers.PullRequestOpen)},
		"pull_request_review/submitted.with-organization.payload.json": {want: docsPR("review_submitted", providers.PullRequestOpen)},

		"push/1.payload.json":                                                     {want: tagDeletePush},
		"push/danheberden-gith/add-branch-with-files.json":                        {err: legacyNoID},
		"push/danheberden-gith/amend-commit-message.json":                         {err: legacyNoID},
		"push/danheberden-gith/delete-remote-branch.json":                         {err: legacyNoID},
		"push/danheberden-gith/delete-remote-tag.json":                            {err: legacyNoID},
		"push/danheberden-gith/merge-branch-to-master.json":                       {err: legacyNoID},
		"push/danheberden-gith/reset-head-hard-and-force-pushed.json":             {err: legacyNoID},
		"push/danheberden-gith/reset-head-then-add-and-commit-file-and-push.json": {err: legacyNoID},
		// The one legacy capture with a repository id; no full_name, so it
		// is built from owner.name and name. Legacy pushes set forced on
		// every create; it is reported as sent.
		"push/danheberden-gith/tag-on-branch.json": {want: eventSummary{
			Kind: providers.EventPush, RepoID: 6872620, FullName: "danheberden/payloads",
			Ref: "v12.21.12", RefType: providers.RefTag, Before: zeroSHA, After: "48722bc3552e5e04293a74fd3851c0c643f76657",
			Created: true, Force: true,
		}},
		"push/danheberden-gith/tag-v1.0.0.json":           {err: legacyNoID},
		"push/danheberden-gith/two-commits-add-file.json": {err: legacyNoID},
		"push/drone-go-scm/push.json": {want: eventSummary{
			Kind: providers.EventPush, RepoID: 135493233, FullName: coder, Ref: "master", RefType: providers.RefBranch,
			Before: "a10867b14bb761a232cd80139fbd4c0d33264240", After: "199eddf46df50de8d02e99bf1c5fdb4101338224",
			Commits: 1, TotalCommits: 1,
		}},
		"push/drone-go-scm/push_branch_create.json": {want: dronePush("feature-branch", providers.RefBranch, true)},
		"push/drone-go-scm/push_branch_delete.json": {want: dronePush("feature-branch", providers.RefBranch, false)},
		"push/drone-go-scm/push_tag.json":           {want: dronePush("v0.0.1", providers.RefTag, true)},
		"push/drone-go-scm/push_tag_delete.json":    {want: dronePush("v0.0.1", providers.RefTag, false)},
		"push/ghes-35/payload.json": {want: eventSummary{
			Kind: providers.EventPush, RepoID: 118, FullName: coder, Ref: "simple-tag", RefType: providers.RefTag,
			Before: zeroSHA, After: helloInit, Created: true,
		}},
		"push/payload.json": {want: tagDeletePush},
		"push/reallyfastci/webhook-push-to-master.json": {want: eventSummary{
			Kind: providers.EventPush, RepoID: fastciID, FullName: fastci, Ref: "master", RefType: providers.RefBranch,
			Before: "8357af6fef17bd180014e419f049944cb491238f", After: "a21683865c088b5fe1906cf6552d15a285a4986d",
			Commits: 5, TotalCommits: 5,
		}},
		"push/with-installation.payload.json": {want: tagDeletePush},
		"push/with-new-branch.payload.json": {want: eventSummary{
			Kind: providers.EventPush, RepoID: codertocatID, FullName: coder, Ref: "master", RefType: providers.RefBranch,
			Before: zeroSHA, After: helloInit, Created: true, Commits: 1, TotalCommits: 1,
		}},
		"push/with-no-username-committer.payload.json": {want: eventSummary{
			Kind: providers.EventPush, RepoID: codertocatID, FullName: coder, Ref: "master", RefType: providers.RefBranch,
			Before: zeroSHA, After: helloInit, Created: true, Commits: 1, TotalCommits: 1,
		}},
		"push/with-organization.payload.json": {want: tagDeletePush},

		"repository/created.payload.json":                         {err: providers.ErrIgnored},
		"repository/edited.payload.json":                          {err: providers.ErrIgnored},
		"repository/edited.with-default_branch-edit.payload.json": {err: providers.ErrIgnored},
		"repository/ghes-35/deleted.json": {want: eventSummary{
			Kind: providers.EventRepoDeleted, Action: "deleted", RepoID: 120, FullName: octo,
		}},
		"repository/privatized.payload.json": {err: providers.ErrIgnored},
		// The docs example renames Hello-World to ... Hello-World: the old
		// name is changes.repository.name.from under the current owner.
		"repository/renamed.payload.json": {want: eventSummary{
			Kind: providers.EventRepoRenamed, Action: "renamed", RepoID: octocodersID, FullName: octo, OldFullName: "Octocoders/Hello-World",
		}},
		"repository/transferred.payload.json": {want: eventSummary{
			Kind: providers.EventRepoRenamed, Action: "transferred", RepoID: octocodersID, FullName: octo, OldFullName: "octocat/Hello-World",
		}},
		"repository/transferred.with-organization.payload.json": {want: eventSummary{
			Kind: providers.EventRepoRenamed, Action: "transferred", RepoID: octocodersID, FullName: octo, OldFullName: "octocat/Hello-World",
		}},

		"workflow_run/completed.payload.json":                    {want: eventSummary{Kind: providers.EventRun, Action: "completed", RepoID: octoRepoID, FullName: octoRepo}},
		"workflow_run/completed.with-pull-requests.payload.json": {want: eventSummary{Kind: providers.EventRun, Action: "completed", RepoID: octoRepoID, FullName: octoRepo}},
		"workflow_run/requested.payload.json":                    {want: eventSummary{Kind: providers.EventRun, Action: "requested", RepoID: octoRepoID, FullName: octoRepo}},
		"workflow_run/requested.with-conclusion.payload.json":    {want: eventSummary{Kind: providers.EventRun, Action: "requested", RepoID: octoRepoID, FullName: octoRepo}},
	}

	seen := make(map[string]bool)
	for _, rel := range webhookFixtures(t) {
		seen[rel] = true
		tc, ok := tests[rel]
		if !ok {
			t.Errorf("fixture %s has no expectation in the table", rel)
			continue
		}
		t.Run(rel, func(t *testing.T) {
			eventType, payload := readWebhook(t, rel)
			ev, err := github.ParseWebhook(eventType, payload)
			if tc.err != nil {
				if !errors.Is(err, tc.err) {
					t.Fatalf("err = %v, want %v (event %+v)", err, tc.err, summarize(ev))
				}
				if errors.Is(err, providers.ErrIgnored) {
					var ie *providers.IgnoredError
					if !errors.As(err, &ie) || ie.EventType != eventType || ie.Reason == "" {
						t.Errorf("ignored error = %#v, want *IgnoredError for %q with a reason", err, eventType)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseWebhook: %v", err)
			}
			if got := summarize(ev); got != tc.want {
				t.Errorf("event\n got %+v\nwant %+v", got, tc.want)
			}
			if (ev.Kind == providers.EventPullRequest) != (ev.PullRequest != nil) {
				t.Errorf("Kind %s with PullRequest %v", ev.Kind, ev.PullRequest)
			}
		})
	}
	for rel := range tests {
		if !seen[rel] {
			t.Errorf("table entry %s has no fixture", rel)
		}
	}
}

func TestParseWebhookPushDetails(t *testing.T) {
	eventType, payload := readWebhook(t, "push/reallyfastci/webhook-push-to-master.json")
	ev, err := github.ParseWebhook(eventType, payload)
	if err != nil {
		t.Fatal(err)
	}
	wantRepo := providers.Repo{
		ID:            fastciID,
		FullName:      "ailisp/gcbapp-buildconfig-example",
		HTMLURL:       "https://github.com/ailisp/gcbapp-buildconfig-example",
		DefaultBranch: "master",
	}
	if ev.Repo != wantRepo {
		t.Errorf("Repo = %+v, want %+v", ev.Repo, wantRepo)
	}
	wantSHAs := []string{
		"7682a248ad73d204eb94d9eab840c6fe41b8963d",
		"411a0fbb93b25e1ba1d7ef7d437315c2a411ed52",
		"7d1b24db3fde2747f9dadfb0f8abf0c8e6f40cad",
		"7b5a809ab03679215c55926f7d111156ec98b865",
		"a21683865c088b5fe1906cf6552d15a285a4986d",
	}
	if len(ev.Commits) != len(wantSHAs) {
		t.Fatalf("%d commits, want %d", len(ev.Commits), len(wantSHAs))
	}
	for i, c := range ev.Commits {
		if c.SHA != wantSHAs[i] {
			t.Errorf("commit %d SHA = %s, want %s (payload order kept)", i, c.SHA, wantSHAs[i])
		}
		if c.Parents != nil {
			t.Errorf("commit %d Parents = %v, want nil (push payloads carry none)", i, c.Parents)
		}
	}
	first := ev.Commits[0]
	if first.Message != "Update README.md" || first.AuthorName != "byao1276" || first.AuthorLogin != "byao1276" {
		t.Errorf("first commit = %+v", first)
	}
	// 2019-11-02T13:56:20-04:00, offset kept as sent.
	if want := time.Date(2019, 11, 2, 17, 56, 20, 0, time.UTC); !first.AuthorDate.Equal(want) {
		t.Errorf("first AuthorDate = %v, want %v", first.AuthorDate, want)
	}
	last := ev.Commits[4]
	wantLast := providers.Commit{
		SHA:         "a21683865c088b5fe1906cf6552d15a285a4986d",
		Message:     "Merge pull request #3 from byao1276/byao1276-patch-1\n\nByao1276 patch 1",
		AuthorName:  "Bo Yao",
		AuthorLogin: "ailisp",
		HTMLURL:     "https://github.com/ailisp/gcbapp-buildconfig-example/commit/a21683865c088b5fe1906cf6552d15a285a4986d",
	}
	gotLast := last
	gotLast.AuthorDate = time.Time{}
	if gotLast.SHA != wantLast.SHA || gotLast.Message != wantLast.Message || gotLast.AuthorName != wantLast.AuthorName ||
		gotLast.AuthorLogin != wantLast.AuthorLogin || gotLast.HTMLURL != wantLast.HTMLURL {
		t.Errorf("last commit = %+v, want %+v", gotLast, wantLast)
	}
	if want := time.Date(2019, 11, 26, 7, 1, 12, 0, time.UTC); !last.AuthorDate.Equal(want) {
		t.Errorf("last AuthorDate = %v, want %v", last.AuthorDate, want)
	}
}

func TestParseWebhookMergedPullRequestDetails(t *testing.T) {
	eventType, payload := readWebhook(t, "pull_request/reallyfastci/webhook-pr-close.json")
	ev, err := github.ParseWebhook(eventType, payload)
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string) time.Time {
		ts, err := time.Parse(time.RFC3339, s)
		if err != nil {
			t.Fatal(err)
		}
		return ts
	}
	want := providers.PullRequest{
		Number:     3,
		Title:      "Byao1276 patch 1",
		HeadBranch: "byao1276-patch-1",
		BaseBranch: "master",
		State:      providers.PullRequestMerged,
		Author:     "byao1276",
		CreatedAt:  at("2019-11-13T01:28:51Z"),
		UpdatedAt:  at("2019-11-26T07:01:13Z"),
		MergedAt:   at("2019-11-26T07:01:13Z"),
		HTMLURL:    "https://github.com/ailisp/gcbapp-buildconfig-example/pull/3",
	}
	got := *ev.PullRequest
	if got.Number != want.Number || got.Title != want.Title || got.Body != want.Body ||
		got.HeadBranch != want.HeadBranch || got.BaseBranch != want.BaseBranch || got.State != want.State ||
		got.Author != want.Author || got.HTMLURL != want.HTMLURL ||
		!got.CreatedAt.Equal(want.CreatedAt) || !got.UpdatedAt.Equal(want.UpdatedAt) || !got.MergedAt.Equal(want.MergedAt) {
		t.Errorf("PullRequest\n got %+v\nwant %+v", got, want)
	}
	if ev.Repo.HTMLURL != "https://github.com/ailisp/gcbapp-buildconfig-example" || ev.Repo.DefaultBranch != "master" {
		t.Errorf("Repo = %+v", ev.Repo)
	}
}

// TestParseWebhookMergedFlag: "merged": true alone (merged_at absent) makes
// the request merged; a closed request without either stays closed.
func TestParseWebhookMergedFlag(t *testing.T) {
	tests := []struct {
		name    string
		payload string
		want    providers.PullRequestState
	}{
		{"merged flag only", `{"action":"closed","repository":{"id":1},"pull_request":{"number":7,"state":"closed","merged":true}}`, providers.PullRequestMerged},
		{"merged_at only", `{"action":"closed","repository":{"id":1},"pull_request":{"number":7,"state":"closed","merged_at":"2024-01-02T03:04:05Z"}}`, providers.PullRequestMerged},
		{"closed unmerged", `{"action":"closed","repository":{"id":1},"pull_request":{"number":7,"state":"closed","merged":false,"merged_at":null}}`, providers.PullRequestClosed},
		{"open", `{"action":"opened","repository":{"id":1},"pull_request":{"number":7,"state":"open"}}`, providers.PullRequestOpen},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := github.ParseWebhook("pull_request", []byte(tc.payload))
			if err != nil {
				t.Fatal(err)
			}
			if ev.PullRequest.State != tc.want {
				t.Errorf("State = %s, want %s", ev.PullRequest.State, tc.want)
			}
		})
	}
}

// withAction returns a docs fixture with its "action" value replaced, for
// actions no public payload covers.
func withAction(t *testing.T, rel, from, to string) []byte {
	t.Helper()
	_, payload := readWebhook(t, rel)
	old := `"action": "` + from + `"`
	if strings.Count(string(payload), old) != 1 {
		t.Fatalf("%s: want exactly one %s", rel, old)
	}
	return []byte(strings.Replace(string(payload), old, `"action": "`+to+`"`, 1))
}

func TestParseWebhookRepositoryArchived(t *testing.T) {
	// The docs fixture says "archived": false; the action is what happened.
	for action, archived := range map[string]bool{"archived": true, "unarchived": false} {
		t.Run(action, func(t *testing.T) {
			payload := withAction(t, "repository/privatized.payload.json", "privatized", action)
			ev, err := github.ParseWebhook("repository", payload)
			if err != nil {
				t.Fatal(err)
			}
			want := eventSummary{Kind: providers.EventRepoArchived, Action: action, RepoID: codertocatID, FullName: "Codertocat/Hello-World", Archived: archived}
			if got := summarize(ev); got != want {
				t.Errorf("got %+v\nwant %+v", got, want)
			}
		})
	}
	for _, action := range []string{"publicized", "created", ""} {
		payload := withAction(t, "repository/privatized.payload.json", "privatized", action)
		if _, err := github.ParseWebhook("repository", payload); !errors.Is(err, providers.ErrIgnored) {
			t.Errorf("action %q: err = %v, want ErrIgnored", action, err)
		}
	}
}

func TestParseWebhookTransferFromOrganization(t *testing.T) {
	payload := `{"action":"transferred","changes":{"owner":{"from":{"organization":{"login":"old-org"}}}},
		"repository":{"id":42,"name":"api","full_name":"new-org/api","owner":{"login":"new-org"}}}`
	ev, err := github.ParseWebhook("repository", []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Kind != providers.EventRepoRenamed || ev.OldFullName != "old-org/api" || ev.Repo.FullName != "new-org/api" || ev.Repo.ID != 42 {
		t.Errorf("event = %+v", summarize(ev))
	}
}

func TestParseWebhookPushRefs(t *testing.T) {
	tests := []struct {
		ref     string
		wantRef string
		wantRT  providers.RefType
		wantErr error
	}{
		{"refs/heads/main", "main", providers.RefBranch, nil},
		{"refs/heads/feature/PROJ-12-login", "feature/PROJ-12-login", providers.RefBranch, nil},
		{"refs/tags/v1.2.3", "v1.2.3", providers.RefTag, nil},
		{"refs/tags/refs/heads/x", "refs/heads/x", providers.RefTag, nil},
		{"refs/notes/commits", "", "", providers.ErrIgnored},
		{"refs/pull/1/head", "", "", providers.ErrIgnored},
		{"main", "", "", providers.ErrIgnored},
		{"refs/heads/", "", "", providers.ErrBadPayload},
		{"", "", "", providers.ErrBadPayload},
	}
	for _, tc := range tests {
		t.Run(tc.ref, func(t *testing.T) {
			payload := `{"ref":"` + tc.ref + `","before":"a","after":"b","repository":{"id":9}}`
			ev, err := github.ParseWebhook("push", []byte(payload))
			if tc.wantErr != nil {
				if !errors.Is(err, tc.wantErr) {
					t.Fatalf("err = %v, want %v", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ev.Ref != tc.wantRef || ev.RefType != tc.wantRT || ev.Before != "a" || ev.After != "b" || ev.Commits != nil || ev.TotalCommits != 0 {
				t.Errorf("event = %+v", summarize(ev))
			}
		})
	}
}

func TestParseWebhookBadPayloads(t *testing.T) {
	tests := []struct {
		name, eventType, payload string
		field                    string // must be named in the error
	}{
		{"no event type", "", `{}`, "X-GitHub-Event"},
		{"push not JSON", "push", `{"ref":`, ""},
		{"push array", "push", `[]`, ""},
		{"push null", "push", `null`, "repository.id"},
		{"push no repository", "push", `{"ref":"refs/heads/main"}`, "repository.id"},
		{"push repository id zero", "push", `{"ref":"refs/heads/main","repository":{"id":0}}`, "repository.id"},
		{"push repository id string", "push", `{"ref":"refs/heads/main","repository":{"id":"9"}}`, "repository.id"},
		{"push no ref", "push", `{"repository":{"id":9}}`, "ref"},
		{"push commit without id", "push", `{"ref":"refs/heads/main","repository":{"id":9},"commits":[{"id":"c1"},{"message":"x"}]}`, "commits[1].id"},
		{"push null commit", "push", `{"ref":"refs/heads/main","repository":{"id":9},"commits":[null]}`, "commits[0].id"},
		{"push bad timestamp", "push", `{"ref":"refs/heads/main","repository":{"id":9},"commits":[{"id":"c1","timestamp":"yesterday"}]}`, ""},
		{"push trailing data", "push", `{"ref":"refs/heads/main","repository":{"id":9}} {}`, ""},
		{"create no repository", "create", `{"ref":"x","ref_type":"branch"}`, "repository.id"},
		{"create no ref", "create", `{"ref_type":"tag","repository":{"id":9}}`, "ref"},
		{"create no ref_type", "create", `{"ref":"x","repository":{"id":9}}`, "ref_type"},
		{"create unknown ref_type", "create", `{"ref":"x","ref_type":"note","repository":{"id":9}}`, "ref_type"},
		{"delete not JSON", "delete", `<xml/>`, ""},
		{"pull_request no repository", "pull_request", `{"action":"opened","pull_request":{"number":1}}`, "repository.id"},
		{"pull_request no pull_request", "pull_request", `{"action":"opened","repository":{"id":9}}`, "pull_request.number"},
		{"pull_request_review no number", "pull_request_review", `{"action":"submitted","repository":{"id":9},"pull_request":{}}`, "pull_request.number"},
		{"repository deleted no id", "repository", `{"action":"deleted","repository":{"name":"x"}}`, "repository.id"},
		{"renamed without from", "repository", `{"action":"renamed","repository":{"id":9,"full_name":"o/n","owner":{"login":"o"}}}`, "changes.repository.name.from"},
		{"renamed without owner", "repository", `{"action":"renamed","changes":{"repository":{"name":{"from":"old"}}},"repository":{"id":9,"name":"n"}}`, "repository.owner.login"},
		{"transferred without old owner", "repository", `{"action":"transferred","changes":{"owner":{"from":{}}},"repository":{"id":9,"full_name":"o/n"}}`, "changes.owner.from"},
		{"transferred without name", "repository", `{"action":"transferred","changes":{"owner":{"from":{"user":{"login":"u"}}}},"repository":{"id":9}}`, "repository.name"},
		{"ping not JSON", "ping", `zen`, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ev, err := github.ParseWebhook(tc.eventType, []byte(tc.payload))
			if !errors.Is(err, providers.ErrBadPayload) {
				t.Fatalf("err = %v (event %+v), want ErrBadPayload", err, summarize(ev))
			}
			if !strings.Contains(err.Error(), tc.field) {
				t.Errorf("err = %q, want it to name %q", err, tc.field)
			}
		})
	}
}

func TestParseWebhookIgnored(t *testing.T) {
	tests := []struct{ eventType, payload string }{
		{"star", `{"action":"created","repository":{"id":9}}`},
		{"issues", `not even JSON`},                                 // ignored types are not decoded
		{"Push", `{"ref":"refs/heads/main","repository":{"id":9}}`}, // header values are lowercase
		{"create", `{"ref":"x","ref_type":"repository","repository":{"id":9}}`},
		{"repository", `{"action":"edited","repository":{"id":9}}`},
	}
	for _, tc := range tests {
		t.Run(tc.eventType, func(t *testing.T) {
			_, err := github.ParseWebhook(tc.eventType, []byte(tc.payload))
			var ie *providers.IgnoredError
			if !errors.As(err, &ie) || !errors.Is(err, providers.ErrIgnored) {
				t.Fatalf("err = %v, want *IgnoredError", err)
			}
			if ie.EventType != tc.eventType || ie.Reason == "" {
				t.Errorf("IgnoredError = %+v", ie)
			}
			if errors.Is(err, providers.ErrBadPayload) {
				t.Errorf("ignored error also matches ErrBadPayload")
			}
		})
	}
}

// TestParseWebhookMultiSelectCustomProperties: go-github v62 cannot decode
// an array-valued custom property (google/go-github#3229); such deliveries
// must still parse, and nothing else may be lost in the retry.
func TestParseWebhookMultiSelectCustomProperties(t *testing.T) {
	eventType, payload := readWebhook(t, "push/reallyfastci/webhook-push-to-master.json")
	want, err := github.ParseWebhook(eventType, payload)
	if err != nil {
		t.Fatal(err)
	}
	const anchor = `"repository": {`
	if !strings.Contains(string(payload), anchor) {
		t.Fatalf("fixture lacks %s", anchor)
	}
	withProps := strings.Replace(string(payload), anchor, anchor+`"custom_properties": {"team": ["a", "b"], "tier": "1"},`, 1)
	got, err := github.ParseWebhook(eventType, []byte(withProps))
	if err != nil {
		t.Fatalf("with multi-select property: %v", err)
	}
	if summarize(got) != summarize(want) || got.Repo != want.Repo || got.Commits[4].Message != want.Commits[4].Message {
		t.Errorf("with custom properties: %+v, want %+v", summarize(got), summarize(want))
	}

	// Pull request payloads carry repositories in three places.
	prType, pr := readWebhook(t, "pull_request/opened.payload.json")
	prProps := strings.ReplaceAll(string(pr), `"full_name": "Codertocat/Hello-World",`,
		`"full_name": "Codertocat/Hello-World", "custom_properties": {"langs": ["go"]},`)
	if prProps == string(pr) {
		t.Fatal("pull request fixture changed")
	}
	ev, err := github.ParseWebhook(prType, []byte(prProps))
	if err != nil || ev.PullRequest.Number != 2 || ev.PullRequest.HeadBranch != "changes" {
		t.Fatalf("pull request with multi-select property: %+v, %v", summarize(ev), err)
	}

	// Another type error is still reported after the retry.
	broken := strings.Replace(withProps, `"id": 219188321`, `"id": "219188321"`, 1)
	if broken == withProps {
		t.Fatal("fixture changed: repository id not found")
	}
	if _, err := github.ParseWebhook(eventType, []byte(broken)); !errors.Is(err, providers.ErrBadPayload) {
		t.Errorf("string repository id with custom properties: err = %v, want ErrBadPayload", err)
	}
}

// hubSignature is what GitHub sends for body signed with secret.
func hubSignature(secret, body []byte) string {
	mac := hmac.New(sha256.New, secret)
	mac.Write(body)
	return "sha256=" + hex.EncodeToString(mac.Sum(nil))
}

func TestVerifySignature(t *testing.T) {
	// The test vector published in GitHub's "Validating webhook deliveries".
	secret := []byte("It's a Secret to Everybody")
	body := []byte("Hello, World!")
	const good = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
	if got := hubSignature(secret, body); got != good {
		t.Fatalf("test vector: computed %s", got)
	}
	tests := []struct {
		name   string
		secret []byte
		body   []byte
		header string
		ok     bool
	}{
		{"docs vector", secret, body, good, true},
		{"uppercase hex", secret, body, "sha256=" + strings.ToUpper(good[len("sha256="):]), true},
		{"body changed", secret, []byte("Hello, World?"), good, false},
		{"body with newline", secret, []byte("Hello, World!\n"), good, false},
		{"wrong secret", []byte("It's a secret to everybody"), body, good, false},
		{"one hex digit changed", secret, body, good[:len(good)-1] + "f", false},
		{"truncated", secret, body, good[:len(good)-2], false},
		{"extended", secret, body, good + "00", false},
		{"empty hex", secret, body, "sha256=", false},
		{"not hex", secret, body, "sha256=" + strings.Repeat("zz", 32), false},
		{"sha1 prefix", secret, body, "sha1=" + good[len("sha256="):], false},
		{"uppercase prefix", secret, body, "SHA256=" + good[len("sha256="):], false},
		{"no prefix", secret, body, good[len("sha256="):], false},
		{"legacy sha1 header value", secret, body, "sha1=7d38cdd689735b008b3c702edd92eea23791c5f6", false},
		{"missing header", secret, body, "", false},
		// An empty secret proves nothing: refused even when the MAC matches.
		{"empty secret", nil, body, hubSignature(nil, body), false},
		{"empty secret, empty slice", []byte{}, body, hubSignature([]byte{}, body), false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := github.VerifySignature(tc.secret, tc.body, tc.header)
			if tc.ok {
				if err != nil {
					t.Fatalf("VerifySignature: %v", err)
				}
				return
			}
			if !errors.Is(err, providers.ErrBadSignature) {
				t.Fatalf("err = %v, want ErrBadSignature", err)
			}
			msg := err.Error()
			if len(tc.secret) > 0 && strings.Contains(msg, string(tc.secret)) {
				t.Errorf("error %q contains the secret", msg)
			}
			if want := hubSignature(tc.secret, tc.body); strings.Contains(msg, want[len("sha256="):]) {
				t.Errorf("error %q contains the expected MAC", msg)
			}
		})
	}
}

func TestVerifySignatureFixture(t *testing.T) {
	secret := []byte("jiralinkd webhook test secret")
	_, body := readWebhook(t, "push/drone-go-scm/push.json")
	sig := hubSignature(secret, body)
	if err := github.VerifySignature(secret, body, sig); err != nil {
		t.Fatalf("fixture signed with the test secret: %v", err)
	}
	tampered := append([]byte(nil), body...)
	tampered[len(tampered)/2] ^= 1
	if err := github.VerifySignature(secret, tampered, sig); !errors.Is(err, providers.ErrBadSignature) {
		t.Errorf("one bit flipped: err = %v, want ErrBadSignature", err)
	}
}

func TestWebhookPayload(t *testing.T) {
	_, body := readWebhook(t, "ping/reallyfastci/webhook-ping.json")
	form := []byte(url.Values{"payload": {string(body)}}.Encode())

	tests := []struct {
		name        string
		contentType string
		body        []byte
		want        []byte // nil: ErrBadPayload
	}{
		{"json", "application/json", body, body},
		{"json with charset", "application/json; charset=utf-8", body, body},
		{"json mixed case", "Application/JSON", body, body},
		{"form", "application/x-www-form-urlencoded", form, body},
		{"form with extra fields", "application/x-www-form-urlencoded", append([]byte("a=1&"), form...), body},
		{"form without payload", "application/x-www-form-urlencoded", []byte("a=1"), nil},
		{"form with empty payload", "application/x-www-form-urlencoded", []byte("payload="), nil},
		{"form bad escape", "application/x-www-form-urlencoded", []byte("payload=%zz"), nil},
		{"missing content type", "", body, nil},
		{"unparsable content type", "application/json; =", body, nil},
		{"text", "text/plain", body, nil},
		{"multipart", "multipart/form-data; boundary=x", body, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := github.WebhookPayload(tc.contentType, tc.body)
			if tc.want == nil {
				if !errors.Is(err, providers.ErrBadPayload) {
					t.Fatalf("err = %v, want ErrBadPayload", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if string(got) != string(tc.want) {
				t.Errorf("payload differs: got %d bytes, want %d", len(got), len(tc.want))
			}
		})
	}

	// The form payload parses like the JSON one.
	payload, err := github.WebhookPayload("application/x-www-form-urlencoded", form)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := github.ParseWebhook("ping", payload)
	if err != nil || ev.Kind != providers.EventPing || ev.Repo.ID != fastciID {
		t.Errorf("form ping = %+v, %v", summarize(ev), err)
	}
}

func BenchmarkParseWebhookPush(b *testing.B) {
	eventType, payload := readWebhook(b, "push/reallyfastci/webhook-push-to-master.json")
	b.SetBytes(int64(len(payload)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := github.ParseWebhook(eventType, payload); err != nil {
			b.Fatal(err)
		}
	}
}

// TestParseWebhookPushRepoFallbacks: the legacy push format names the
// default branch master_branch and has no full_name; the owner has only
// name and email.
func TestParseWebhookPushRepoFallbacks(t *testing.T) {
	payload := `{"ref":"refs/heads/main","repository":{"id":9,"name":"n","owner":{"name":"o","email":"o@example.com"},
		"master_branch":"trunk","html_url":"https://github.example.com/o/n/","archived":true}}`
	ev, err := github.ParseWebhook("push", []byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	want := providers.Repo{ID: 9, FullName: "o/n", HTMLURL: "https://github.example.com/o/n", DefaultBranch: "trunk", Archived: true}
	if ev.Repo != want {
		t.Errorf("Repo = %+v, want %+v", ev.Repo, want)
	}
}

// TestParseCIEventsCarryRunAndDeployment checks the run and deployment a
// workflow_run and a deployment_status delivery carry (real payloads).
func TestParseCIEventsCarryRunAndDeployment(t *testing.T) {
	ev, err := github.ParseWebhook(readWebhook(t, "workflow_run/completed.payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	r := ev.Run
	if r == nil || r.ID != 289782451 || r.Number != 163 || r.WorkflowKey != "2823525" || r.Status != providers.CISuccess ||
		r.HeadSHA != "3484a3fb816e0859fd6e1cea078d76385ff50625" || r.HeadBranch != "master" ||
		r.Title != "ci(action): update actions/setup-node digest to 8c91899" ||
		r.HTMLURL != "https://github.com/octo-org/octo-repo/actions/runs/289782451" {
		t.Errorf("run = %+v", r)
	}
	ev, err = github.ParseWebhook(readWebhook(t, "workflow_run/requested.payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	if ev.Run == nil || ev.Run.Status.Final() {
		t.Errorf("requested run = %+v, want not final", ev.Run)
	}
	ev, err = github.ParseWebhook(readWebhook(t, "deployment_status/payload.json"))
	if err != nil {
		t.Fatal(err)
	}
	d := ev.Deployment
	if d == nil || d.ID != 145988746 || d.Environment != "production" || d.Status != providers.CISuccess ||
		d.SHA != "f95f852bd8fca8fcc58a9a2d6c842781e32a215e" || d.Ref != "master" {
		t.Errorf("deployment = %+v", d)
	}
}
