package jiraclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"time"
)

// Deployment is the kind of Jira a client talks to.
type Deployment string

// Deployments. The zero value, DeploymentAuto, means "find out".
const (
	DeploymentAuto       Deployment = ""
	DeploymentDataCenter Deployment = "datacenter" // Jira Data Center or Server (self-managed)
	DeploymentCloud      Deployment = "cloud"      // Jira Cloud (*.atlassian.net)
)

func (d Deployment) valid() bool {
	return d == DeploymentAuto || d == DeploymentDataCenter || d == DeploymentCloud
}

// ParseDeployment maps the configuration value (jira.deployment: auto,
// datacenter or cloud; "" is auto) to a Deployment.
func ParseDeployment(s string) (Deployment, error) {
	switch d := Deployment(strings.ToLower(strings.TrimSpace(s))); d {
	case "auto", DeploymentAuto:
		return DeploymentAuto, nil
	case DeploymentDataCenter, DeploymentCloud:
		return d, nil
	}
	return DeploymentAuto, fmt.Errorf("unknown Jira deployment %q: want auto, datacenter or cloud", s)
}

// DeploymentOf classifies a serverInfo answer: deploymentType "Cloud" is
// Jira Cloud; anything else ("Server", which Data Center reports too, or
// "DataCenter") is self-managed.
func DeploymentOf(si ServerInfo) Deployment {
	if strings.EqualFold(si.DeploymentType, "Cloud") {
		return DeploymentCloud
	}
	return DeploymentDataCenter
}

// ErrLinkLimit is matched (errors.Is) by the error of a remote-link write
// that Jira refused because the issue has as many remote links as it may
// have. Jira Cloud caps remote links at 2,000 per issue; writing more links
// to that issue is pointless until some are removed, so a caller should skip
// the issue rather than fail or retry.
var ErrLinkLimit = errors.New("the issue has reached Jira's limit of remote links")

// LinkLimitError is the error UpsertRemoteLink returns when Jira refuses a
// link because of the per-issue limit. It matches ErrLinkLimit and unwraps
// to Jira's *Error.
type LinkLimitError struct {
	IssueKey string
	Err      *Error
}

func (e *LinkLimitError) Error() string {
	return fmt.Sprintf("jira: %s: %v: %v", e.IssueKey, ErrLinkLimit, e.Err)
}

// Is makes errors.Is(err, ErrLinkLimit) true.
func (e *LinkLimitError) Is(target error) bool { return target == ErrLinkLimit }

func (e *LinkLimitError) Unwrap() error { return e.Err }

// asLinkLimit turns a remote-link write error that is Jira's per-issue
// limit into a *LinkLimitError and returns other errors as they are.
//
// Atlassian's Cloud REST reference (OpenAPI 1001.0.0-SNAPSHOT, "Issue
// remote links") documents "413: Returned if the per-issue limit for remote
// links has been breached", and the issue endpoints answer 413 for every
// per-issue limit (comments, worklogs, attachments, issue links, remote
// issue links). The body's wording is not documented and was not captured,
// so any 413 counts. As a precaution, a 400 whose message speaks of a limit
// on links counts too (an assumption: older Cloud builds might have used
// the generic bad-request status). Data Center has no such limit; a 413
// there could only come from a proxy refusing the (small) body, which no
// retry would fix either.
func asLinkLimit(issueKey string, err error) error {
	var je *Error
	if !errors.As(err, &je) {
		return err
	}
	switch je.Status {
	case http.StatusRequestEntityTooLarge:
		return &LinkLimitError{IssueKey: issueKey, Err: je}
	case http.StatusBadRequest:
		for _, m := range je.Messages {
			m = strings.ToLower(m)
			if strings.Contains(m, "limit") && strings.Contains(m, "link") {
				return &LinkLimitError{IssueKey: issueKey, Err: je}
			}
		}
	}
	return err
}

// isCloudHost reports whether host (with or without port) is a Jira Cloud
// site (*.atlassian.net) or Atlassian's API gateway (api.atlassian.com,
// used with OAuth 2.0 as https://api.atlassian.com/ex/jira/{cloudId}).
func isCloudHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	return strings.HasSuffix(host, ".atlassian.net") || host == "api.atlassian.com"
}

// knownDeployment returns what is known without a request: the configured
// deployment, the one detected earlier, or Cloud for a Cloud host name.
// DeploymentAuto means unknown.
func (c *Client) knownDeployment() Deployment {
	if c.deployment != DeploymentAuto {
		return c.deployment
	}
	if isCloudHost(c.base.Host) {
		return DeploymentCloud
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.detected
}

// remember caches a detected deployment (auto mode only).
func (c *Client) remember(d Deployment) {
	if c.deployment != DeploymentAuto || d == DeploymentAuto {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.detected != d {
		c.detected = d
		c.logger.Debug("jira deployment detected", "deployment", string(d))
	}
}

// Deployment returns the kind of Jira the client talks to: Options.Deployment
// when set; otherwise Cloud for a *.atlassian.net host, else what
// serverInfo's deploymentType says. The answer is cached after the first
// successful serverInfo (made by this method, ServerInfo or ServerTime), so
// only the first call may cost a request.
func (c *Client) Deployment(ctx context.Context) (Deployment, error) {
	if d := c.knownDeployment(); d != DeploymentAuto {
		return d, nil
	}
	si, _, err := c.serverInfo(ctx)
	if err != nil {
		return DeploymentAuto, fmt.Errorf("jiraclient: detecting the Jira deployment: %w", err)
	}
	return DeploymentOf(si.ServerInfo), nil
}

// serverInfoBody is ServerInfo plus the server's clock.
type serverInfoBody struct {
	ServerInfo
	ServerTime string `json:"serverTime"`
}

// serverTimeLayout is the layout of Jira's date-times (offset without a colon).
const serverTimeLayout = "2006-01-02T15:04:05.000-0700"

// serverInfo fetches GET /rest/api/2/serverInfo, which Jira serves to
// anonymous callers too, remembers the deployment it reveals and returns
// the response headers.
func (c *Client) serverInfo(ctx context.Context) (serverInfoBody, http.Header, error) {
	var si serverInfoBody
	_, h, err := c.send(ctx, http.MethodGet, apiV2+"serverInfo", nil, nil, &si, http.StatusOK)
	if err == nil {
		c.remember(DeploymentOf(si.ServerInfo))
	}
	return si, h, err
}

// ServerTime returns Jira's clock: the Date header of a serverInfo response
// (what proxies and TLS terminators keep honest), else serverInfo's
// serverTime field. HTTP dates have a resolution of one second. Compare it
// with the local clock to find clock skew, which breaks webhook signature
// windows and rate-limit reset waits.
func (c *Client) ServerTime(ctx context.Context) (time.Time, error) {
	si, h, err := c.serverInfo(ctx)
	if err != nil {
		return time.Time{}, err
	}
	if d := h.Get("Date"); d != "" {
		if t, err := http.ParseTime(d); err == nil {
			return t, nil
		}
	}
	if si.ServerTime != "" {
		if t, err := time.Parse(serverTimeLayout, si.ServerTime); err == nil {
			return t, nil
		}
	}
	return time.Time{}, errors.New("jiraclient: serverInfo carries neither a Date header nor a serverTime")
}

// jqlSearchRequest is the body of Jira Cloud's POST /rest/api/3/search/jql,
// the "enhanced search" that replaced /rest/api/{2,3}/search, which Cloud
// removed in 2025 and answers 410 Gone since (Atlassian changelog
// CHANGE-2046; see e.g. pycontribs/jira#2369 and gitlab-org/gitlab#569792
// for the 410 body "The requested API has been removed. Please migrate to
// the /rest/api/3/search/jql API."). Its request bean
// (SearchAndReconcileRequestBean in the Cloud OpenAPI description) has jql,
// fields, maxResults, nextPageToken, expand, properties, fieldsByKeys and
// reconcileIssues: there is no startAt and no validateQuery (which Cloud's
// old search took as a string, "strict"|"warn"|"none", where Data Center
// takes a boolean). Without fields only ids come back, so "key" is asked
// for explicitly.
type jqlSearchRequest struct {
	JQL           string   `json:"jql"`
	Fields        []string `json:"fields"`
	MaxResults    int      `json:"maxResults"`
	NextPageToken string   `json:"nextPageToken,omitempty"`
}

// jqlSearchResult is SearchAndReconcileResults: no total; pages chain
// through nextPageToken (null on the last page) and isLast.
type jqlSearchResult struct {
	Issues []struct {
		Key string `json:"key"`
	} `json:"issues"`
	NextPageToken string `json:"nextPageToken"`
	IsLast        bool   `json:"isLast"`
}

// existingCloud marks in exists which keys of batch the enhanced search
// finds. Pages are followed until isLast, a missing token or an empty page
// (clients report servers that do not always set isLast), and never more
// pages than keys, so a server that keeps sending tokens cannot loop us.
//
// The enhanced search has no validateQuery switch. Should Cloud refuse the
// query (400) because of a key, for instance one of a project that does not
// exist, the batch is split in halves and each half asked again, down to
// single keys, which then count as not existing: the answer is right
// whatever Cloud's JQL validation does, at the price of a few more searches
// for batches with refused keys.
func (c *Client) existingCloud(ctx context.Context, batch []string, exists map[string]bool) error {
	req := jqlSearchRequest{JQL: keyJQL(batch), Fields: []string{"key"}, MaxResults: len(batch)}
	for page := 0; ; page++ {
		var res jqlSearchResult
		_, _, err := c.exchange(ctx, http.MethodPost, apiV3+"search/jql", nil, req, &res, sendIdempotent, http.StatusOK)
		if page == 0 && errors.Is(err, ErrBadRequest) {
			if len(batch) == 1 {
				c.logger.Debug("jira refused the search for a key; counted as missing", "key", batch[0], "err", err)
				return nil
			}
			half := len(batch) / 2
			if err := c.existingCloud(ctx, batch[:half], exists); err != nil {
				return err
			}
			return c.existingCloud(ctx, batch[half:], exists)
		}
		if err != nil {
			return err
		}
		for _, is := range res.Issues {
			if _, asked := exists[is.Key]; asked {
				exists[is.Key] = true
			}
		}
		if res.IsLast || res.NextPageToken == "" || len(res.Issues) == 0 {
			return nil
		}
		if page+1 >= len(batch) {
			return fmt.Errorf("jira: POST %s%ssearch/jql: no last page after %d pages for %d keys", c.base.Path, apiV3, page+1, len(batch))
		}
		req.NextPageToken = res.NextPageToken
	}
}

// isGone reports whether err is Jira's 410 Gone, which Cloud answers for
// the removed /rest/api/2/search.
func isGone(err error) bool {
	var je *Error
	return errors.As(err, &je) && je.Status == http.StatusGone
}
