package github_test

import (
	"errors"
	"testing"

	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/github"
)

// FuzzParseWebhook holds ParseWebhook to its contract on any input: no
// panic, and either a usable event or an error that is exactly one of
// ErrIgnored and ErrBadPayload. Seeds: every fixture with its event type,
// plus the types jiralinkd handles paired with small edge payloads.
func FuzzParseWebhook(f *testing.F) {
	for _, rel := range webhookFixtures(f) {
		eventType, payload := readWebhook(f, rel)
		f.Add(eventType, payload)
	}
	for _, eventType := range []string{"ping", "push", "create", "delete", "pull_request", "pull_request_review", "repository"} {
		for _, payload := range []string{``, `null`, `{}`, `[]`, `{"repository":{"id":1}}`} {
			f.Add(eventType, []byte(payload))
		}
	}

	f.Fuzz(func(t *testing.T, eventType string, payload []byte) {
		ev, err := github.ParseWebhook(eventType, payload)
		if err != nil {
			ignored, bad := errors.Is(err, providers.ErrIgnored), errors.Is(err, providers.ErrBadPayload)
			if ignored == bad {
				t.Fatalf("error %v: ErrIgnored=%v ErrBadPayload=%v, want exactly one", err, ignored, bad)
			}
			if ignored {
				var ie *providers.IgnoredError
				if !errors.As(err, &ie) || ie.Reason == "" {
					t.Fatalf("ignored error %#v is not an *IgnoredError with a reason", err)
				}
			}
			return
		}
		switch ev.Kind {
		case "":
			t.Fatal("event without Kind and no error")
		case providers.EventPing:
		default:
			if ev.Repo.ID == 0 {
				t.Fatalf("%s event without Repo.ID", ev.Kind)
			}
		}
		if (ev.Kind == providers.EventPullRequest) != (ev.PullRequest != nil) {
			t.Fatalf("%s event with PullRequest %v", ev.Kind, ev.PullRequest)
		}
		if ev.PullRequest != nil && ev.PullRequest.Number == 0 {
			t.Fatal("pull request event without a number")
		}
		switch ev.Kind {
		case providers.EventPush, providers.EventRefCreated, providers.EventRefDeleted:
			if ev.Ref == "" || (ev.RefType != providers.RefBranch && ev.RefType != providers.RefTag) {
				t.Fatalf("%s event with Ref %q RefType %q", ev.Kind, ev.Ref, ev.RefType)
			}
		case providers.EventRepoRenamed:
			if ev.OldFullName == "" {
				t.Fatal("rename without OldFullName")
			}
		}
		if ev.TotalCommits != len(ev.Commits) {
			t.Fatalf("TotalCommits %d, %d commits", ev.TotalCommits, len(ev.Commits))
		}
		for i, c := range ev.Commits {
			if c.SHA == "" {
				t.Fatalf("commit %d without SHA", i)
			}
		}
	})
}
