package jiratest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
)

func scanClient(t *testing.T, s *jiratest.Server) *jiraclient.Client {
	t.Helper()
	c, err := jiraclient.New(jiraclient.Options{BaseURL: s.URL(), Auth: jiraclient.Auth{Token: "t"}})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestProjectSearchPagesIssueContents(t *testing.T) {
	s := jiratest.Start(t, jiratest.Options{Token: "t", Projects: []jiratest.Project{{ID: "1", Key: "ABC"}, {ID: "2", Key: "XYZ"}}})
	old := time.Now().Add(-3 * time.Hour)
	for i := 1; i <= 7; i++ {
		s.PutIssue(jiratest.Issue{Key: fmt.Sprintf("ABC-%d", i), Summary: fmt.Sprintf("s%d", i), Updated: old,
			Custom: map[string]string{"customfield_1": "c"}})
	}
	s.PutIssue(jiratest.Issue{Key: "ABC-10", Summary: "recent", Description: "d"})
	s.PutIssue(jiratest.Issue{Key: "XYZ-1", Summary: "other"})
	c := scanClient(t, s)
	ctx := context.Background()
	var keys []string
	for start := 0; ; {
		p, err := c.Search(ctx, `project = "ABC" ORDER BY key ASC`, start, 3, []string{"summary", "description", "customfield_1"})
		if err != nil {
			t.Fatal(err)
		}
		if p.Total != 8 || p.StartAt != start {
			t.Fatalf("page %+v", p)
		}
		for _, is := range p.Issues {
			keys = append(keys, is.Key)
			if string(is.Fields["customfield_1"]) != `"c"` && is.Key != "ABC-10" {
				t.Errorf("%s fields %s", is.Key, is.Fields)
			}
			if is.Key != "ABC-10" && string(is.Fields["description"]) != "null" {
				t.Errorf("empty description %s, want null as on Jira", is.Fields["description"])
			}
		}
		start += len(p.Issues)
		if start >= p.Total {
			break
		}
	}
	if fmt.Sprint(keys) != "[ABC-1 ABC-2 ABC-3 ABC-4 ABC-5 ABC-6 ABC-7 ABC-10]" {
		t.Errorf("keys %v", keys)
	}
	p, err := c.Search(ctx, `project = "ABC" AND updated >= "-60m" ORDER BY key ASC`, 0, 50, []string{"summary"})
	if err != nil || p.Total != 1 || p.Issues[0].Key != "ABC-10" {
		t.Errorf("updated since: %+v %v", p, err)
	}
	if _, err := c.Search(ctx, `project = "NOPE" ORDER BY key ASC`, 0, 50, nil); !errors.Is(err, jiraclient.ErrBadRequest) {
		t.Errorf("unknown project: %v", err)
	}
}

func TestIssueAndCommentEdits(t *testing.T) {
	denied := map[string]bool{}
	s := jiratest.Start(t, jiratest.Options{Token: "t", Projects: []jiratest.Project{{ID: "1", Key: "ABC"}},
		Permissions: func(_, perm string) bool { return !denied[perm] }})
	s.PutIssue(jiratest.Issue{Key: "ABC-1", Summary: "s", Description: "old", Labels: []string{"a"}})
	cm := s.PostComment("ABC-1", "first")
	c := scanClient(t, s)
	ctx := context.Background()
	if err := c.EditIssue(ctx, "ABC-1", map[string]any{"description": "new"}, nil); err != nil {
		t.Fatal(err)
	}
	if err := c.AddLabel(ctx, "ABC-1", "secret-detected"); err != nil {
		t.Fatal(err)
	}
	if err := c.AddLabel(ctx, "ABC-1", "secret-detected"); err != nil {
		t.Fatal(err)
	}
	is, _ := s.Issue("ABC-1")
	if is.Description != "new" || fmt.Sprint(is.Labels) != "[a secret-detected]" {
		t.Errorf("issue %+v", is)
	}
	var je *jiraclient.Error
	err := c.EditIssue(ctx, "ABC-1", nil, nil)
	if !errors.As(err, &je) || je.Status != 400 || je.Messages[0] != "one of 'fields' or 'update' required" {
		t.Errorf("empty edit: %v", err)
	}
	if err := c.EditIssue(ctx, "ABC-1", map[string]any{"invalid": "x"}, nil); !errors.As(err, &je) || je.Messages[0] != "invalid: Field 'invalid' is not valid for this operation." {
		t.Errorf("unknown field: %v", err)
	}
	if err := c.UpdateComment(ctx, "ABC-1", cm.ID, "edited"); err != nil {
		t.Fatal(err)
	}
	if got := s.Comments("ABC-1")[0].Body; got != "edited" {
		t.Errorf("comment %q", got)
	}
	if err := c.UpdateComment(ctx, "ABC-1", "999999", "x"); !errors.Is(err, jiraclient.ErrNotFound) {
		t.Errorf("unknown comment: %v", err)
	}
	denied["EDIT_ISSUES"], denied["EDIT_ALL_COMMENTS"] = true, true
	if err := c.AddLabel(ctx, "ABC-1", "x"); !errors.Is(err, jiraclient.ErrForbidden) {
		t.Errorf("label without Edit Issues: %v", err)
	}
	if err := c.UpdateComment(ctx, "ABC-1", cm.ID, "x"); !errors.Is(err, jiraclient.ErrForbidden) {
		t.Errorf("comment edit without Edit All Comments: %v", err)
	}
	// Comments are paged as on Jira.
	for i := range 120 {
		s.PostComment("ABC-1", fmt.Sprint(i))
	}
	p, err := c.CommentsPage(ctx, "ABC-1", 100, 50)
	if err != nil || p.Total != 121 || p.StartAt != 100 || len(p.Comments) != 21 {
		t.Errorf("comment page: %d %d %d %v", p.Total, p.StartAt, len(p.Comments), err)
	}
}
