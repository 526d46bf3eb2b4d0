package jiraclient

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// TimeLayout is Jira's date-time format in REST v2 bodies: milliseconds
// and an offset without a colon, which is not RFC 3339.
const TimeLayout = "2006-01-02T15:04:05.000-0700"

// commentPageSize is the page size Comments asks for.
const commentPageSize = 100

// IssueStatus is a workflow status, as in an issue's status field or a
// transition's target.
type IssueStatus struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// Transition is a workflow transition available on an issue
// (GET .../transitions).
type Transition struct {
	ID   string      `json:"id"`
	Name string      `json:"name"`
	To   IssueStatus `json:"to"`
}

// Comment is an issue comment.
type Comment struct {
	ID      string
	Body    string
	Author  User
	Created time.Time
	Updated time.Time
}

// UnmarshalJSON reads Jira's comment bean with its non-RFC 3339 times.
func (c *Comment) UnmarshalJSON(b []byte) error {
	var w struct {
		ID      string   `json:"id"`
		Body    string   `json:"body"`
		Author  User     `json:"author"`
		Created jiraTime `json:"created"`
		Updated jiraTime `json:"updated"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*c = Comment{ID: w.ID, Body: w.Body, Author: w.Author, Created: time.Time(w.Created), Updated: time.Time(w.Updated)}
	return nil
}

// Worklog is a work log entry of an issue. TimeSpentSeconds is 0 when Jira
// sent only the formatted TimeSpent (old servers).
type Worklog struct {
	ID               string
	Comment          string
	Author           User
	Started          time.Time
	TimeSpent        string // as Jira formats it, e.g. "1w 2d"
	TimeSpentSeconds int64
}

// UnmarshalJSON reads Jira's worklog bean with its non-RFC 3339 times.
func (w *Worklog) UnmarshalJSON(b []byte) error {
	var v struct {
		ID               string   `json:"id"`
		Comment          string   `json:"comment"`
		Author           User     `json:"author"`
		Started          jiraTime `json:"started"`
		TimeSpent        string   `json:"timeSpent"`
		TimeSpentSeconds int64    `json:"timeSpentSeconds"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*w = Worklog{ID: v.ID, Comment: v.Comment, Author: v.Author, Started: time.Time(v.Started),
		TimeSpent: v.TimeSpent, TimeSpentSeconds: v.TimeSpentSeconds}
	return nil
}

// jiraTime decodes TimeLayout; null and "" decode to the zero time.
type jiraTime time.Time

func (t *jiraTime) UnmarshalJSON(b []byte) error {
	var s *string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if s == nil || *s == "" {
		*t = jiraTime{}
		return nil
	}
	v, err := time.Parse(TimeLayout, *s)
	if err != nil {
		return fmt.Errorf("jira time %q: %w", *s, err)
	}
	*t = jiraTime(v)
	return nil
}

// AddComment adds a comment to the issue (POST .../comment, 201) and
// returns its id.
//
// Like every method here that creates something, it sends the request once:
// the retry transport does not resend it after a 500, 502, 504 or a dropped
// connection, because Jira may already have stored the comment and a resend
// would duplicate it. Callers that need exactly-once retry later, after
// checking Comments.
func (c *Client) AddComment(ctx context.Context, issueKey, body string) (string, error) {
	if !ValidIssueKey(issueKey) {
		return "", fmt.Errorf("jiraclient: %q: %w", issueKey, ErrInvalidIssueKey)
	}
	var res struct {
		ID string `json:"id"`
	}
	err := c.doOnce(ctx, http.MethodPost, "issue/"+issueKey+"/comment", nil,
		map[string]string{"body": body}, &res, http.StatusCreated)
	return res.ID, err
}

// Comments returns every comment of the issue, oldest first, reading the
// paginated list (GET .../comment) to its end.
func (c *Client) Comments(ctx context.Context, issueKey string) ([]Comment, error) {
	if !ValidIssueKey(issueKey) {
		return nil, fmt.Errorf("jiraclient: %q: %w", issueKey, ErrInvalidIssueKey)
	}
	var all []Comment
	for {
		var page struct {
			StartAt  int       `json:"startAt"`
			Total    int       `json:"total"`
			Comments []Comment `json:"comments"`
		}
		q := url.Values{"startAt": {strconv.Itoa(len(all))}, "maxResults": {strconv.Itoa(commentPageSize)}}
		if _, err := c.do(ctx, http.MethodGet, "issue/"+issueKey+"/comment", q, nil, &page, http.StatusOK); err != nil {
			return nil, err
		}
		// A server that ignores startAt would repeat the first page forever.
		if page.StartAt != len(all) && len(all) > 0 {
			return all, nil
		}
		all = append(all, page.Comments...)
		if len(page.Comments) == 0 || len(all) >= page.Total {
			return all, nil
		}
	}
}

// AddWorklog logs d of work on the issue, started at started, with a
// comment (POST .../worklog?adjustEstimate=auto, 201), and returns the
// worklog's id. d is sent as whole seconds and must be at least one
// second. It is sent once, like AddComment.
func (c *Client) AddWorklog(ctx context.Context, issueKey string, d time.Duration, comment string, started time.Time) (string, error) {
	if !ValidIssueKey(issueKey) {
		return "", fmt.Errorf("jiraclient: %q: %w", issueKey, ErrInvalidIssueKey)
	}
	secs := int64(d.Round(time.Second) / time.Second)
	if secs <= 0 {
		return "", fmt.Errorf("jiraclient: worklog of %s: %w", d, ErrBadRequest)
	}
	in := struct {
		Comment          string `json:"comment,omitempty"`
		Started          string `json:"started"`
		TimeSpentSeconds int64  `json:"timeSpentSeconds"`
	}{comment, started.Format(TimeLayout), secs}
	var res struct {
		ID string `json:"id"`
	}
	err := c.doOnce(ctx, http.MethodPost, "issue/"+issueKey+"/worklog",
		url.Values{"adjustEstimate": {"auto"}}, in, &res, http.StatusCreated)
	return res.ID, err
}

// Worklogs returns every worklog of the issue (GET .../worklog). Jira
// Data Center answers with all of them at once; pages are followed anyway
// should a server paginate.
func (c *Client) Worklogs(ctx context.Context, issueKey string) ([]Worklog, error) {
	if !ValidIssueKey(issueKey) {
		return nil, fmt.Errorf("jiraclient: %q: %w", issueKey, ErrInvalidIssueKey)
	}
	var all []Worklog
	for {
		var page struct {
			StartAt  int       `json:"startAt"`
			Total    int       `json:"total"`
			Worklogs []Worklog `json:"worklogs"`
		}
		var q url.Values
		if len(all) > 0 {
			q = url.Values{"startAt": {strconv.Itoa(len(all))}}
		}
		if _, err := c.do(ctx, http.MethodGet, "issue/"+issueKey+"/worklog", q, nil, &page, http.StatusOK); err != nil {
			return nil, err
		}
		if page.StartAt != len(all) && len(all) > 0 {
			return all, nil
		}
		all = append(all, page.Worklogs...)
		if len(page.Worklogs) == 0 || len(all) >= page.Total {
			return all, nil
		}
	}
}

// Transitions returns the transitions the user may perform on the issue in
// its current status (GET .../transitions). Transitions the user lacks
// permission for are not listed.
func (c *Client) Transitions(ctx context.Context, issueKey string) ([]Transition, error) {
	if !ValidIssueKey(issueKey) {
		return nil, fmt.Errorf("jiraclient: %q: %w", issueKey, ErrInvalidIssueKey)
	}
	var res struct {
		Transitions []Transition `json:"transitions"`
	}
	_, err := c.do(ctx, http.MethodGet, "issue/"+issueKey+"/transitions", nil, nil, &res, http.StatusOK)
	return res.Transitions, err
}

// DoTransition performs the transition with the given id on the issue
// (POST .../transitions, 204), adding comment, if not empty, in the same
// operation (update.comment[0].add.body). Jira answers 400 (ErrBadRequest)
// for a transition that is not available in the issue's current status or
// not permitted. It is sent once: a resent transition that had succeeded
// would fail with 400 although it was done.
func (c *Client) DoTransition(ctx context.Context, issueKey, transitionID, comment string) error {
	if !ValidIssueKey(issueKey) {
		return fmt.Errorf("jiraclient: %q: %w", issueKey, ErrInvalidIssueKey)
	}
	if transitionID == "" {
		return fmt.Errorf("jiraclient: DoTransition needs a transition id: %w", ErrBadRequest)
	}
	type add struct {
		Body string `json:"body"`
	}
	type op struct {
		Add add `json:"add"`
	}
	in := struct {
		Transition struct {
			ID string `json:"id"`
		} `json:"transition"`
		Update map[string][]op `json:"update,omitempty"`
	}{}
	in.Transition.ID = transitionID
	if comment != "" {
		in.Update = map[string][]op{"comment": {{Add: add{Body: comment}}}}
	}
	return c.doOnce(ctx, http.MethodPost, "issue/"+issueKey+"/transitions", nil, in, nil, http.StatusNoContent)
}

// IssueStatus returns the issue's current status
// (GET /issue/{key}?fields=status).
func (c *Client) IssueStatus(ctx context.Context, issueKey string) (IssueStatus, error) {
	if !ValidIssueKey(issueKey) {
		return IssueStatus{}, fmt.Errorf("jiraclient: %q: %w", issueKey, ErrInvalidIssueKey)
	}
	var res struct {
		Fields struct {
			Status IssueStatus `json:"status"`
		} `json:"fields"`
	}
	_, err := c.do(ctx, http.MethodGet, "issue/"+issueKey, url.Values{"fields": {"status"}}, nil, &res, http.StatusOK)
	return res.Fields.Status, err
}

// doOnce is do for writes that must not be repeated blindly: the retry
// transport sends the request exactly once, even after a 429 or 503, and
// the caller, who can first look at what Jira has, decides what is safe to
// retry.
func (c *Client) doOnce(ctx context.Context, method, rel string, query url.Values, in, out any, ok ...int) error {
	_, _, err := c.exchange(ctx, method, apiV2+rel, query, in, out, sendOnce, ok...)
	return err
}
