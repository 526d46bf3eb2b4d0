package jiraclient

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
)

// Jira's edit permissions that secret-scanning actions need, besides
// PermBrowseProjects (as GET mypermissions names them).
const (
	PermAddComments     = "ADD_COMMENTS"
	PermEditAllComments = "EDIT_ALL_COMMENTS"
)

// ErrTooLarge matches an answer that did not fit in the client's response
// limit (a page of huge issues): ask for fewer at a time.
var ErrTooLarge = errors.New("response too large")

// SearchIssue is an issue as a search returns it: its id, key and the
// asked fields, undecoded (their shape depends on the field).
type SearchIssue struct {
	ID     string                     `json:"id"`
	Key    string                     `json:"key"`
	Fields map[string]json.RawMessage `json:"fields"`
}

// SearchPage is one page of a JQL search.
type SearchPage struct {
	StartAt    int           `json:"startAt"`
	MaxResults int           `json:"maxResults"`
	Total      int           `json:"total"`
	Issues     []SearchIssue `json:"issues"`
}

// Search runs one page of a JQL search on Data Center (POST
// /rest/api/2/search, validateQuery true): the issues at startAt (at most
// maxResults of them, Jira may send fewer) with the given fields. A page
// too large for the client's response limit fails with ErrTooLarge.
func (c *Client) Search(ctx context.Context, jql string, startAt, maxResults int, fields []string) (SearchPage, error) {
	req := map[string]any{"jql": jql, "startAt": startAt, "maxResults": maxResults, "fields": fields, "validateQuery": true}
	var page SearchPage
	if _, err := c.doIdempotent(ctx, http.MethodPost, "search", nil, req, &page, http.StatusOK); err != nil {
		return SearchPage{}, tooLarge(err)
	}
	return page, nil
}

// Issue reads one issue with the given fields (GET /issue/{key}?fields=).
func (c *Client) Issue(ctx context.Context, issueKey string, fields []string) (SearchIssue, error) {
	if !ValidIssueKey(issueKey) {
		return SearchIssue{}, fmt.Errorf("jiraclient: %q: %w", issueKey, ErrInvalidIssueKey)
	}
	q := url.Values{}
	for _, f := range fields {
		q.Add("fields", f)
	}
	var is SearchIssue
	if _, err := c.do(ctx, http.MethodGet, "issue/"+issueKey, q, nil, &is, http.StatusOK); err != nil {
		return SearchIssue{}, tooLarge(err)
	}
	return is, nil
}

// CommentPage is one page of an issue's comments.
type CommentPage struct {
	StartAt  int       `json:"startAt"`
	Total    int       `json:"total"`
	Comments []Comment `json:"comments"`
}

// CommentsPage reads one page of the issue's comments (GET .../comment,
// oldest first), so that an issue with thousands of comments is read a
// page at a time.
func (c *Client) CommentsPage(ctx context.Context, issueKey string, startAt, maxResults int) (CommentPage, error) {
	if !ValidIssueKey(issueKey) {
		return CommentPage{}, fmt.Errorf("jiraclient: %q: %w", issueKey, ErrInvalidIssueKey)
	}
	var page CommentPage
	q := url.Values{"startAt": {strconv.Itoa(startAt)}, "maxResults": {strconv.Itoa(maxResults)}}
	if _, err := c.do(ctx, http.MethodGet, "issue/"+issueKey+"/comment", q, nil, &page, http.StatusOK); err != nil {
		return CommentPage{}, tooLarge(err)
	}
	return page, nil
}

// EditIssue edits an issue (PUT /issue/{key}, 204): fields sets fields
// (e.g. {"description": "..."}), update applies operations (e.g.
// {"labels": [{"add": "secret-detected"}]}). Setting a field to a value is
// idempotent, so the request is retried like a GET. Watchers are
// notified as for any edit: turning that off (notifyUsers=false) needs
// project administration, which jiralinkd does not ask for.
func (c *Client) EditIssue(ctx context.Context, issueKey string, fields, update map[string]any) error {
	if !ValidIssueKey(issueKey) {
		return fmt.Errorf("jiraclient: %q: %w", issueKey, ErrInvalidIssueKey)
	}
	body := map[string]any{}
	if len(fields) > 0 {
		body["fields"] = fields
	}
	if len(update) > 0 {
		body["update"] = update
	}
	_, err := c.doIdempotent(ctx, http.MethodPut, "issue/"+issueKey, nil, body, nil, http.StatusNoContent)
	return err
}

// AddLabel adds a label to the issue, keeping the others.
func (c *Client) AddLabel(ctx context.Context, issueKey, label string) error {
	return c.EditIssue(ctx, issueKey, nil, map[string]any{"labels": []map[string]string{{"add": label}}})
}

// UpdateComment replaces a comment's body (PUT .../comment/{id}, 200).
func (c *Client) UpdateComment(ctx context.Context, issueKey, commentID, body string) error {
	if !ValidIssueKey(issueKey) {
		return fmt.Errorf("jiraclient: %q: %w", issueKey, ErrInvalidIssueKey)
	}
	if _, err := strconv.ParseUint(commentID, 10, 64); err != nil {
		return fmt.Errorf("jiraclient: comment id %q: %w", commentID, ErrBadRequest)
	}
	_, err := c.doIdempotent(ctx, http.MethodPut, "issue/"+issueKey+"/comment/"+commentID, nil,
		map[string]string{"body": body}, nil, http.StatusOK)
	return err
}

// tooLarge marks a response cut off by the client's size limit.
func tooLarge(err error) error {
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: %w", ErrTooLarge, err)
	}
	return err
}
