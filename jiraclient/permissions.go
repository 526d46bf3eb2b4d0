package jiraclient

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
)

// Project permission keys jiralinkd cares about, as Jira names them in
// GET /rest/api/2/mypermissions.
const (
	// PermBrowseProjects lets the account see the project and its issues;
	// without it issue keys of the project look like missing issues.
	PermBrowseProjects = "BROWSE_PROJECTS"
	// PermLinkIssues is needed to create, update and delete remote links.
	PermLinkIssues = "LINK_ISSUES"
	// PermEditIssues is needed, besides Link Issues, to delete a remote
	// link by its id on Jira Cloud; jiralinkd deletes by global id, so it
	// is only advisable.
	PermEditIssues = "EDIT_ISSUES"
)

// permissionKeyPattern is the form of Jira's permission keys.
var permissionKeyPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// projectKeyPattern is the loosest project key Jira accepts in a URL: it
// keeps arbitrary text out of the query even with a custom key pattern.
var projectKeyPattern = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)

// MyPermissions reports which of perms (permission keys such as
// PermLinkIssues) the credentials' user holds in the project. The result
// has an entry for every asked key; a key Jira leaves out of its answer is
// reported as not held.
//
// Data Center is asked GET /rest/api/2/mypermissions?projectKey=K, as its
// REST reference documents it: it has no permissions parameter and
// answers every permission. Jira Cloud requires the parameter
// (?projectKey=K&permissions=A,B), so it is sent there only. The
// deployment is detected as Client.Deployment does.
//
// An unknown project, or one the user cannot browse, makes Jira answer 404
// (ErrNotFound); on Cloud an unknown permission key 400 (ErrBadRequest). At
// least one permission is required.
func (c *Client) MyPermissions(ctx context.Context, projectKey string, perms ...string) (map[string]bool, error) {
	if !projectKeyPattern.MatchString(projectKey) {
		return nil, fmt.Errorf("jiraclient: MyPermissions: invalid project key %q: %w", projectKey, ErrBadRequest)
	}
	if len(perms) == 0 {
		return nil, fmt.Errorf("jiraclient: MyPermissions needs at least one permission key: %w", ErrBadRequest)
	}
	have := make(map[string]bool, len(perms))
	for _, p := range perms {
		if !permissionKeyPattern.MatchString(p) {
			return nil, fmt.Errorf("jiraclient: MyPermissions: invalid permission key %q: %w", p, ErrBadRequest)
		}
		have[p] = false
	}
	var res struct {
		Permissions map[string]struct {
			Key            string `json:"key"`
			HavePermission bool   `json:"havePermission"`
		} `json:"permissions"`
	}
	dep, err := c.Deployment(ctx)
	if err != nil {
		return nil, err
	}
	q := url.Values{"projectKey": {projectKey}}
	if dep == DeploymentCloud {
		q.Set("permissions", strings.Join(perms, ","))
	}
	if _, err := c.do(ctx, http.MethodGet, "mypermissions", q, nil, &res, http.StatusOK); err != nil {
		return nil, err
	}
	for k, p := range res.Permissions {
		if p.Key != "" {
			k = p.Key
		}
		if _, asked := have[k]; asked {
			have[k] = p.HavePermission
		}
	}
	return have, nil
}
