package gitlab

import (
	"errors"
	"reflect"
	"testing"

	"github.com/jiralinkd/jiralinkd/providers"
)

// FuzzParseWebhook checks ParseWebhook's contract on arbitrary input: it
// never panics, and it returns either a usable Event (kind set, positive
// project id, the fields its kind needs) or an error that is ErrIgnored or
// ErrBadPayload (never both), and the same answer twice.
func FuzzParseWebhook(f *testing.F) {
	for _, fx := range whFixtures() {
		body := whRead(f, fx.file)
		f.Add(fx.eventType, body)
		// Every body under the types that dispatch on the body.
		f.Add("System Hook", body)
		f.Add("Service Hook", body)
	}
	f.Add("Project Hook", whRead(f, "system_hooks/project_rename.json"))
	f.Add("Note Hook", []byte(`{"object_kind":"note"}`))
	f.Add("", []byte(`{}`))

	f.Fuzz(func(t *testing.T, eventType string, body []byte) {
		ev, err := ParseWebhook(eventType, body)
		again, err2 := ParseWebhook(eventType, body)
		if !reflect.DeepEqual(ev, again) || (err == nil) != (err2 == nil) {
			t.Fatalf("not deterministic: %+v, %v then %+v, %v", ev, err, again, err2)
		}
		if err != nil {
			ign, bad := errors.Is(err, providers.ErrIgnored), errors.Is(err, providers.ErrBadPayload)
			if ign == bad {
				t.Fatalf("err %v: ErrIgnored %v, ErrBadPayload %v; want exactly one", err, ign, bad)
			}
			if ev.Kind != "" || ev.Repo.ID != 0 {
				t.Fatalf("error %v came with an event %+v", err, ev)
			}
			return
		}
		if ev.Repo.ID <= 0 {
			t.Fatalf("event without a project id: %+v", ev)
		}
		switch ev.Kind {
		case providers.EventPush:
			if ev.Ref == "" || (ev.RefType != providers.RefBranch && ev.RefType != providers.RefTag) {
				t.Fatalf("push without a branch or tag: %+v", ev)
			}
			if ev.Before == "" || ev.After == "" || ev.TotalCommits < len(ev.Commits) {
				t.Fatalf("push with bad before/after/count: %+v", ev)
			}
			for _, c := range ev.Commits {
				if c.SHA == "" {
					t.Fatalf("commit without SHA: %+v", ev)
				}
			}
		case providers.EventPullRequest:
			pr := ev.PullRequest
			if pr == nil || pr.Number <= 0 {
				t.Fatalf("merge request without iid: %+v", ev)
			}
			switch pr.State {
			case providers.PullRequestOpen, providers.PullRequestClosed, providers.PullRequestMerged:
			default:
				t.Fatalf("merge request state %q", pr.State)
			}
		case providers.EventRepoRenamed:
			if ev.Repo.FullName == "" {
				t.Fatalf("rename without the new name: %+v", ev)
			}
		case providers.EventRun:
			if ev.Run == nil || ev.Run.ID == 0 {
				t.Fatalf("run without id: %+v", ev)
			}
		case providers.EventDeployment:
			if ev.Deployment == nil || ev.Deployment.ID == 0 {
				t.Fatalf("deployment without id: %+v", ev)
			}
		case providers.EventRepoDeleted:
		default:
			t.Fatalf("unexpected kind %q: %+v", ev.Kind, ev)
		}
	})
}
