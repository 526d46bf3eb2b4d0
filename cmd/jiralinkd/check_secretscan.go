package main

import (
	"context"
	"fmt"
	"strings"

	"github.com/jiralinkd/jiralinkd/jiraclient"
)

// scanPermission is a Jira project permission secret scanning needs.
type scanPermission struct {
	key, name, needs string
}

// secretScanPermissions lists what jira.secret_scan needs in each
// project: Browse Projects to read issues, and one permission per action.
func secretScanPermissions(actions []string) []scanPermission {
	ps := []scanPermission{{jiraclient.PermBrowseProjects, "Browse Projects", "reading issues and comments"}}
	for _, a := range actions {
		switch a {
		case "comment":
			ps = append(ps, scanPermission{jiraclient.PermAddComments, "Add Comments", "the comment action"})
		case "label":
			ps = append(ps, scanPermission{jiraclient.PermEditIssues, "Edit Issues", "the label action"})
		case "mask":
			ps = append(ps, scanPermission{jiraclient.PermEditIssues, "Edit Issues", "the mask action"},
				scanPermission{jiraclient.PermEditAllComments, "Edit All Comments", "masking comments"})
		}
	}
	return ps
}

// checkSecretScanPermissions reports, per scanned project, the Jira
// permissions secret scanning and its actions lack (FAIL), so that a
// missing one is found before a finding's action fails.
func checkSecretScanPermissions(ctx context.Context, c *checker, d *deps, visible map[string]bool) {
	sc := d.cfg.Jira.SecretScan
	if sc == nil {
		return
	}
	if dep, err := d.jira.Deployment(ctx); err == nil && dep == jiraclient.DeploymentCloud {
		c.result("jira secret scan", fmt.Errorf("Jira Cloud is not supported: secret scanning pages issues with "+
			"Data Center's /rest/api/2/search; disable jira.secret_scan"), "")
		return
	}
	need := secretScanPermissions(sc.Actions)
	var keys []string
	seen := map[string]bool{}
	for _, p := range need {
		if !seen[p.key] {
			seen[p.key] = true
			keys = append(keys, p.key)
		}
	}
	for _, project := range sc.Projects {
		name := "jira secret scan " + project
		if !visible[project] {
			c.result(name, fmt.Errorf("project %s does not exist or the account cannot see it: grant Browse Projects, "+
				"or remove it from jira.secret_scan.projects", project), "")
			continue
		}
		have, err := d.jira.MyPermissions(ctx, project, keys...)
		if err != nil {
			c.result(name, err, "")
			continue
		}
		var missing []string
		done := map[string]bool{}
		for _, p := range need {
			if !have[p.key] && !done[p.key+p.needs] {
				done[p.key+p.needs] = true
				missing = append(missing, p.name+" (for "+p.needs+")")
			}
		}
		if len(missing) > 0 {
			c.result(name, fmt.Errorf("missing %s: grant it to the account in the project's permission scheme, "+
				"or drop the action from jira.secret_scan.actions", strings.Join(missing, ", ")), "")
			continue
		}
		names := make([]string, 0, len(keys))
		for _, p := range need {
			if !strings.Contains(strings.Join(names, ","), p.name) {
				names = append(names, p.name)
			}
		}
		c.result(name, nil, strings.Join(names, ", "))
	}
}
