package main

// check_jira.go: the checks of Jira (deployment, credentials, permissions per project).

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/config"
	"github.com/jiralinkd/jiralinkd/jiraclient"
)

func checkJira(ctx context.Context, c *checker, d *deps) {
	cred := jiraCredentials(d.cfg.Jira)
	info, err := probe(ctx, d.cfg.Jira.Timeout, d.jira.ServerInfo)
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	switch {
	case err == nil:
	case unauthorized(err):
		// Jira answered: it is reachable; the credentials are what failed.
		dep, _ := d.jira.Deployment(ctx) // known without serverInfo only for Cloud hosts or when configured
		c.result("jira reachable", nil, d.cfg.Jira.URL+" (answered, but refused the credentials)")
		c.result("jira token", rejected(cred, jiraAuthHint(err, dep)), "")
		return
	default:
		c.result("jira reachable", reachError(err, "jira.url", d.cfg.Jira.URL, "jira.timeout", d.cfg.Jira.Timeout), "")
		return
	}
	c.result("jira reachable", nil, fmt.Sprintf("%s (%s %s)", d.cfg.Jira.URL, strings.TrimSpace(info.DeploymentType+" Jira"), info.Version))
	cloud := checkJiraDeployment(ctx, c, d, info)
	if t, err := d.jira.ServerTime(ctx); err != nil {
		c.warn("jira clock", fmt.Sprintf("cannot read Jira's time: %v", err))
	} else {
		checkSkew(c, "jira clock", "Jira", t, time.Now())
	}
	me, err := d.jira.Myself(ctx)
	if err != nil {
		dep := jiraclient.DeploymentDataCenter
		if cloud {
			dep = jiraclient.DeploymentCloud
		}
		if unauthorized(err) {
			err = rejected(cred, jiraAuthHint(err, dep))
		}
		c.result("jira token", err, "")
		return
	}
	c.result("jira token", nil, "authenticated as "+cmp.Or(me.Name, me.DisplayName, me.EmailAddress))
	if d.cfg.Jira.Username == "" && !cloud {
		exp, err := d.jira.TokenExpiry(ctx)
		expiryLine(c, "jira token expiry", exp, err == nil, d.cfg.Jira.Token.Setting("jira.token"))
	}
	ps, err := d.jira.Projects(ctx)
	if err != nil {
		c.result("jira projects", err, "")
		return
	}
	visible := map[string]bool{}
	for _, p := range ps {
		visible[p.Key] = true
	}
	if len(ps) == 0 {
		c.result("jira projects", errors.New("the account sees no project: grant it Browse Projects"), "")
		return
	}
	c.result("jira projects", nil, fmt.Sprintf("%d visible", len(ps)))
	for _, k := range d.cfg.Jira.Projects {
		var err error
		if !visible[k] {
			err = fmt.Errorf("not visible to the account (missing, or no Browse Projects permission)")
		}
		c.result("jira project "+k, err, "visible")
	}
	checkJiraPermissions(ctx, c, d, ps, visible)
	checkSecretScanPermissions(ctx, c, d, visible) // check_secretscan.go
}

// jiraCredentials names the Jira credential settings: the token's, or the
// username and the password's.
func jiraCredentials(j config.Jira) string {
	if j.Token.IsSet() {
		return secretSetting("jira", "token", j.Token)
	}
	return fmt.Sprintf("jira.username (%s) with %s", j.Username, secretSetting("jira", "password", j.Password))
}

// checkJiraDeployment prints the kind of Jira answering and warns when the
// client is set to another kind or Cloud is given a bearer token. It
// reports whether the server is Jira Cloud.
func checkJiraDeployment(ctx context.Context, c *checker, d *deps, info jiraclient.ServerInfo) bool {
	detected := jiraclient.DeploymentOf(info)
	desc := "Jira Data Center " + info.Version
	if detected == jiraclient.DeploymentCloud {
		desc = "Jira Cloud"
	}
	if used, err := d.jira.Deployment(ctx); err == nil && used != detected {
		c.warn("jira deployment", fmt.Sprintf("the server is %s but jira.deployment says %s: set jira.deployment to auto (or %s)",
			desc, used, detected))
	} else {
		c.result("jira deployment", nil, desc)
	}
	cloud := detected == jiraclient.DeploymentCloud
	if cloud && d.cfg.Jira.Token.IsSet() {
		c.warn("jira auth", "Jira Cloud does not take API tokens as Bearer tokens: set jira.username to the account's "+
			"e-mail address and jira.password_env to an API token (unless the token is an OAuth 2.0 access token)")
	}
	return cloud
}

// jiraAuthHint adds to a rejected-credentials error how to fix them for
// the deployment (both ways when it is unknown).
func jiraAuthHint(err error, dep jiraclient.Deployment) error {
	if !errors.Is(err, jiraclient.ErrUnauthorized) {
		return err
	}
	const (
		dc = "on Data Center, create a personal access token (profile → Personal Access Tokens) and set " +
			"jira.token_env, or use jira.username with jira.password_env"
		cloud = "Jira Cloud takes basic auth: jira.username is the account's e-mail address, jira.password_env " +
			"names a variable holding an API token (id.atlassian.com → Security → API tokens)"
	)
	switch dep {
	case jiraclient.DeploymentCloud:
		return fmt.Errorf("%w: %s", err, cloud)
	case jiraclient.DeploymentDataCenter:
		return fmt.Errorf("%w: %s", err, dc)
	}
	return fmt.Errorf("%w: %s; %s", err, dc, cloud)
}

// maxPermissionProjects bounds how many projects check asks permissions
// for when jira.projects is empty.
const maxPermissionProjects = 20

// checkJiraPermissions checks, for each configured project (or the first
// visible ones), that the account may browse it and link issues (FAIL
// otherwise) and edit issues (WARN otherwise).
func checkJiraPermissions(ctx context.Context, c *checker, d *deps, ps []jiraclient.Project, visible map[string]bool) {
	var keys []string
	for _, k := range d.cfg.Jira.Projects {
		if visible[k] { // invisible ones are reported above
			keys = append(keys, k)
		}
	}
	if len(d.cfg.Jira.Projects) == 0 {
		for _, p := range ps[:min(len(ps), maxPermissionProjects)] {
			keys = append(keys, p.Key)
		}
		c.result("jira permissions", nil, fmt.Sprintf("jira.projects is empty: checking the first %d of %d visible projects "+
			"(list your projects in jira.projects to check those)", len(keys), len(ps)))
	}
	for _, k := range keys {
		name := "jira permissions " + k
		have, err := d.jira.MyPermissions(ctx, k, jiraclient.PermBrowseProjects, jiraclient.PermLinkIssues, jiraclient.PermEditIssues)
		if err != nil {
			c.result(name, err, "")
			continue
		}
		var missing []string
		if !have[jiraclient.PermBrowseProjects] {
			missing = append(missing, "Browse Projects")
		}
		if !have[jiraclient.PermLinkIssues] {
			missing = append(missing, "Link Issues")
		}
		switch {
		case len(missing) > 0:
			c.result(name, fmt.Errorf("missing %s: grant %s to the account in the project's permission scheme "+
				"(Project settings → Permissions, e.g. through a project role), and keep issue linking enabled",
				strings.Join(missing, " and "), strings.Join(missing, " and ")), "")
		case !have[jiraclient.PermEditIssues]:
			c.warn(name, "Browse Projects and Link Issues, but no Edit Issues: links are written and removed without it, "+
				"but Jira requires it to delete a link by id (cleaning up by hand with this account): "+
				"grant Edit Issues in the project's permission scheme if you need that")
		default:
			c.result(name, nil, "Browse Projects, Link Issues, Edit Issues")
		}
	}
}
