package main

import (
	"fmt"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
)

// hint names the setting an administrator should fix for a failure of
// system (indexer.JiraSystem or a provider name). It is stored with the
// failure and shown by every view; it never contains a secret.
func (d *deps) hint(system string, kind indexer.FailureKind) string {
	if system == indexer.JiraSystem {
		return d.jiraHint(kind)
	}
	for i, p := range d.cfg.Providers {
		if p.Name != system {
			continue
		}
		key := fmt.Sprintf("providers[%d]", i)
		if h := appHint(p, key, kind); h != "" {
			return h
		}
		switch kind {
		case indexer.FailureTokenRejected:
			if exp, ok := d.expiredOn(p.Name); ok {
				return "token expired on " + exp + ": replace " + p.Token.Setting(key+".token")
			}
			return "token rejected (wrong, expired or revoked): replace " + p.Token.Setting(key+".token")
		case indexer.FailureForbidden:
			return "the token lacks access: give " + p.Token.Setting(key+".token") + " read access to the repositories (run jiralinkd check)"
		case indexer.FailureUnreachable:
			return fmt.Sprintf("%s unreachable: check %s.url (%s), DNS, proxy and firewall", p.Name, key, p.URL)
		case indexer.FailureNotFound:
			return fmt.Sprintf("a configured organisation, group or repository is gone or not visible to the token: check %s.orgs/groups/repos/projects", key)
		case indexer.FailureRateLimited:
			return fmt.Sprintf("rate limit exhausted: it recovers by itself; lower %s.max_concurrency or schedule less often if it recurs", key)
		case indexer.FailureServer:
			return p.Name + " answered server errors after retries: usually transient, the next pass retries"
		}
		return ""
	}
	return ""
}

func (d *deps) jiraHint(kind indexer.FailureKind) string {
	j := d.cfg.Jira
	cred := j.Token.Setting("jira.token")
	if j.Username != "" {
		cred = j.Password.Setting("jira.password") + " for jira.username " + j.Username
	}
	switch kind {
	case indexer.FailureTokenRejected:
		if exp, ok := d.expiredOn(indexer.JiraSystem); ok {
			return "Jira token expired on " + exp + ": replace " + cred
		}
		return "Jira rejected the credentials (wrong, expired or revoked): replace " + cred
	case indexer.FailureForbidden:
		return "the Jira account lacks a permission: grant Browse Projects and Link Issues on the projects (run jiralinkd check)"
	case indexer.FailureUnreachable:
		return "Jira unreachable: check jira.url (" + j.URL + "), DNS, proxy and firewall"
	case indexer.FailureRateLimited:
		return "Jira rate-limits the account: it recovers by itself; exempt the service account from Jira's rate limiting"
	case indexer.FailureServer:
		return "Jira answered server errors after retries: usually transient, the next pass retries"
	}
	return ""
}

// expiredOn returns the day system's token expired, when its expiry is
// known and past.
func (d *deps) expiredOn(system string) (string, bool) {
	if d.tokens == nil {
		return "", false
	}
	exp, ok := d.tokens.get(system)
	if !ok || exp.After(d.tokens.now()) {
		return "", false
	}
	return exp.UTC().Format(time.DateOnly), true
}
