package jiraclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strings"
)

// SearchBatchSize is the most issue keys ExistingIssues puts into one search.
const SearchBatchSize = 100

// ServerInfo returns GET /rest/api/2/serverInfo. It also settles
// Deployment when that is auto.
func (c *Client) ServerInfo(ctx context.Context) (ServerInfo, error) {
	si, _, err := c.serverInfo(ctx)
	return si.ServerInfo, err
}

// Myself returns the user the credentials belong to (GET /rest/api/2/myself).
// It is the cheapest check that the credentials work.
func (c *Client) Myself(ctx context.Context) (User, error) {
	var u User
	_, err := c.do(ctx, http.MethodGet, "myself", nil, nil, &u, http.StatusOK)
	return u, err
}

// Projects returns the projects the user can browse (GET /rest/api/2/project).
func (c *Client) Projects(ctx context.Context) ([]Project, error) {
	var ps []Project
	_, err := c.do(ctx, http.MethodGet, "project", nil, nil, &ps, http.StatusOK)
	return ps, err
}

type searchRequest struct {
	JQL           string   `json:"jql"`
	ValidateQuery bool     `json:"validateQuery"`
	Fields        []string `json:"fields"`
	MaxResults    int      `json:"maxResults"`
	StartAt       int      `json:"startAt"`
}

type searchResult struct {
	Total  int `json:"total"`
	Issues []struct {
		Key string `json:"key"`
	} `json:"issues"`
}

// ExistingIssues reports which of keys name issues that exist and that the
// user can see. The result has an entry for every asked key.
//
// Keys are checked with ValidIssueKey before any request; one invalid key
// fails the whole call with ErrInvalidIssueKey, so nothing but issue keys
// ever reaches the JQL. Duplicates are asked once. Keys are sent in searches
// of at most SearchBatchSize keys ("key in (...)", validateQuery false, so
// keys of unknown projects or issues are silently skipped instead of failing
// the search).
//
// An issue moved to another project comes back under its new key; the old
// key asked for is then reported as not existing.
//
// On Jira Cloud, which removed /rest/api/2/search, the batches go to
// POST /rest/api/3/search/jql instead (see existingCloud). With
// Options.Deployment auto and a host that is not *.atlassian.net, the
// first search tries Data Center's endpoint and switches for good when
// Jira answers 410 Gone, so Data Center pays no extra request.
func (c *Client) ExistingIssues(ctx context.Context, keys []string) (map[string]bool, error) {
	exists := make(map[string]bool, len(keys))
	unique := make([]string, 0, len(keys))
	for _, k := range keys {
		if !ValidIssueKey(k) {
			return nil, fmt.Errorf("jiraclient: %q: %w", k, ErrInvalidIssueKey)
		}
		if _, dup := exists[k]; !dup {
			exists[k] = false
			unique = append(unique, k)
		}
	}
	mode := c.knownDeployment()
	for start := 0; start < len(unique); start += SearchBatchSize {
		batch := unique[start:min(start+SearchBatchSize, len(unique))]
		if mode == DeploymentCloud {
			if err := c.existingCloud(ctx, batch, exists); err != nil {
				return nil, err
			}
			continue
		}
		err := c.existingDataCenter(ctx, batch, exists)
		if mode == DeploymentAuto && isGone(err) {
			c.remember(DeploymentCloud)
			mode = DeploymentCloud
			err = c.existingCloud(ctx, batch, exists)
		}
		if err != nil {
			return nil, err
		}
	}
	return exists, nil
}

// keyJQL is the JQL of a batch of valid issue keys.
func keyJQL(batch []string) string { return "key in (" + strings.Join(batch, ",") + ")" }

// existingDataCenter marks in exists which keys of batch Data Center's
// POST /rest/api/2/search finds (one page: maxResults is the batch size).
func (c *Client) existingDataCenter(ctx context.Context, batch []string, exists map[string]bool) error {
	req := searchRequest{
		JQL:           keyJQL(batch),
		ValidateQuery: false,
		Fields:        []string{"key"},
		MaxResults:    len(batch),
	}
	var res searchResult
	// A search changes nothing: repeating it after a 500 is harmless.
	if _, err := c.doIdempotent(ctx, http.MethodPost, "search", nil, req, &res, http.StatusOK); err != nil {
		return err
	}
	for _, is := range res.Issues {
		if _, asked := exists[is.Key]; asked {
			exists[is.Key] = true
		}
	}
	return nil
}

// UpsertRemoteLink creates link on the issue, or updates in place the link
// of the issue with the same GlobalID (POST .../remotelink; Jira answers 201
// for a create, 200 for an update). It returns the link's Jira id, which an
// update keeps. Being an upsert, it is retried like a GET by the transport,
// 500 included. When the issue has as many remote links as Jira allows
// (Cloud: 2,000), the error matches ErrLinkLimit.
func (c *Client) UpsertRemoteLink(ctx context.Context, issueKey string, link RemoteLink) (int64, error) {
	if !ValidIssueKey(issueKey) {
		return 0, fmt.Errorf("jiraclient: %q: %w", issueKey, ErrInvalidIssueKey)
	}
	var res struct {
		ID int64 `json:"id"`
	}
	// An upsert by globalId: sent again after a 500 (or a lost answer) it
	// updates the link the first one created, never duplicates it.
	_, err := c.doIdempotent(ctx, http.MethodPost, "issue/"+issueKey+"/remotelink", nil, link, &res, http.StatusCreated, http.StatusOK)
	return res.ID, asLinkLimit(issueKey, err)
}

// DeleteRemoteLink deletes every link of the issue with the given global id
// (DELETE .../remotelink?globalId=...). When there is none, Jira answers
// 404 and the error matches ErrNotFound; whether that is a failure is the
// caller's call.
func (c *Client) DeleteRemoteLink(ctx context.Context, issueKey, globalID string) error {
	if !ValidIssueKey(issueKey) {
		return fmt.Errorf("jiraclient: %q: %w", issueKey, ErrInvalidIssueKey)
	}
	if globalID == "" {
		return fmt.Errorf("jiraclient: DeleteRemoteLink needs a global id: %w", ErrBadRequest)
	}
	_, err := c.do(ctx, http.MethodDelete, "issue/"+issueKey+"/remotelink",
		url.Values{"globalId": {globalID}}, nil, nil, http.StatusNoContent, http.StatusOK)
	return err
}

// RemoteLinks returns all remote links of the issue.
func (c *Client) RemoteLinks(ctx context.Context, issueKey string) ([]RemoteLink, error) {
	if !ValidIssueKey(issueKey) {
		return nil, fmt.Errorf("jiraclient: %q: %w", issueKey, ErrInvalidIssueKey)
	}
	var links []RemoteLink
	_, err := c.do(ctx, http.MethodGet, "issue/"+issueKey+"/remotelink", nil, nil, &links, http.StatusOK)
	return links, err
}
