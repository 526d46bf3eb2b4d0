package indexer_test

import (
	"strings"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/redact"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// fakeToken builds a GitHub-PAT-shaped string at run time (so that the
// repository itself does not trip secret scanners).
func fakeToken() string {
	const alnum = "aZ7qX2mN9pL4kR8sT1vW3yB6cD5fG0hJ"
	var b strings.Builder
	b.WriteString("ghp_")
	for i := 0; i < 36; i++ {
		b.WriteByte(alnum[(i*7+3)%len(alnum)])
	}
	return b.String()
}

func TestCredentialsNeverReachJira(t *testing.T) {
	tok := fakeToken()
	at := time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC)
	b := corpus.NewBuilder()
	c := b.Commit(nil, "ZOOKEEPER-21: rotate "+tok+" after the leak", at)
	b.Branch("master", c)
	b.Branch("feature/zookeeper-22-"+tok, c) // a secret in a branch name
	s := newStack(t, b.Build(), nil)
	rd, err := redact.New()
	if err != nil {
		t.Fatal(err)
	}
	var rules []string
	s.ix, err = indexer.New(indexer.Options{Store: s.store, Jira: s.jc, Matcher: s.m,
		Redact: func(text string) (string, []string) {
			out, found := rd.Redact(text)
			var ids []string
			for _, f := range found {
				ids = append(ids, f.Rule)
			}
			return out, ids
		},
		OnRedaction: func(rule string) { rules = append(rules, rule) },
	})
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, s.sync(t))
	links := s.jira.Links("ZOOKEEPER-21")
	if len(links) != 1 || !strings.Contains(links[0].Object.Title, "[REDACTED:github-pat]") {
		t.Fatalf("commit link title not redacted: %+v", links)
	}
	for issue, ls := range s.jira.AllLinks() {
		for _, l := range ls {
			if strings.Contains(l.Object.Title+l.Object.Summary+l.Object.URL+l.GlobalID, tok) {
				t.Errorf("the token reached Jira on %s: %+v", issue, l)
			}
		}
	}
	if len(s.jira.Links("ZOOKEEPER-22")) != 0 {
		t.Error("a branch named with a secret was linked (its URL would carry the secret)")
	}
	if len(rules) == 0 || rules[0] != "github-pat" {
		t.Errorf("redactions reported: %v", rules)
	}
}

func TestIssueAtTheLinkLimitIsSkippedNotFatal(t *testing.T) {
	at := time.Date(2024, 7, 1, 0, 0, 0, 0, time.UTC)
	b := corpus.NewBuilder()
	c1 := b.Commit(nil, "ZOOKEEPER-31 first", at)
	c2 := b.Commit([]string{c1}, "ZOOKEEPER-31 second, over the cap; ZOOKEEPER-32 fine", at.Add(time.Hour))
	b.Branch("master", c2)
	s := newStack(t, b.Build(), nil)
	// Replace the Jira with a Cloud-like one capped at one link per issue.
	s.jira = jiratest.Start(t, jiratest.Options{Username: "me@example.com", Password: jiraToken, IssueExists: jiratest.DemoIssues, Cloud: true, MaxRemoteLinks: 1})
	jc, err := jiraclient.New(jiraclient.Options{BaseURL: s.jira.URL(), Auth: jiraclient.Auth{Username: "me@example.com", Password: jiraToken},
		Retry: httpx.RetryOptions{Sleep: noSleep}})
	if err != nil {
		t.Fatal(err)
	}
	s.jc = jc
	s.ix = s.newIndexer(t, nil)
	rep := s.sync(t)
	mustOK(t, rep) // the capped issue does not fail the repo
	if n := len(s.jira.Links("ZOOKEEPER-31")); n != 1 {
		t.Errorf("capped issue has %d links, want 1", n)
	}
	if n := len(s.jira.Links("ZOOKEEPER-32")); n != 1 {
		t.Errorf("other issue has %d links, want 1", n)
	}
}

// TestAWSSecretKeyNeverReachesJira: an AWS secret access key in a commit
// title (no gitleaks rule copied covers it) is redacted in the link.
func TestAWSSecretKeyNeverReachesJira(t *testing.T) {
	const b64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var key strings.Builder
	for i := 0; i < 40; i++ {
		key.WriteByte(b64[(i*29+11)%len(b64)])
	}
	b := corpus.NewBuilder()
	c := b.Commit(nil, "ZOOKEEPER-23: CI uses AWS_SECRET_ACCESS_KEY="+key.String()+" for S3", time.Date(2024, 6, 1, 0, 0, 0, 0, time.UTC))
	b.Branch("master", c)
	s := newStack(t, b.Build(), nil)
	rd, err := redact.New()
	if err != nil {
		t.Fatal(err)
	}
	s.ix, err = indexer.New(indexer.Options{Store: s.store, Jira: s.jc, Matcher: s.m,
		Redact: func(text string) (string, []string) {
			out, found := rd.Redact(text)
			var ids []string
			for _, f := range found {
				ids = append(ids, f.Rule)
			}
			return out, ids
		}})
	if err != nil {
		t.Fatal(err)
	}
	mustOK(t, s.sync(t))
	links := s.jira.Links("ZOOKEEPER-23")
	if len(links) != 1 || !strings.Contains(links[0].Object.Title, "AWS_SECRET_ACCESS_KEY=[REDACTED:aws-secret-access-key] for S3") ||
		strings.Contains(links[0].Object.Title+links[0].Object.Summary, key.String()) {
		t.Fatalf("commit link not redacted: %+v", links)
	}
}
