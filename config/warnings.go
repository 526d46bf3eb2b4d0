package config

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Warnings returns the risky but valid settings of a loaded configuration,
// for `check` and startup logs: secrets written literally in the file, an
// HTTP listener reachable from other hosts, credentials sent over plain
// http, globs that can never match and an empty providers list. The order
// is deterministic (section order, then file order).
func Warnings(c *Config) []Problem {
	var ws []Problem
	if !isLoopbackAddr(c.HTTP.Listen) {
		ws = append(ws, Problem{Path: "http.listen", Message: fmt.Sprintf(
			"%q is reachable from other hosts and the HTTP server has no TLS or authentication; "+
				"put it behind a TLS-terminating proxy or restrict access with a firewall", c.HTTP.Listen)})
	}
	ws = append(ws, plainHTTPWarning("jira.url", c.Jira.URL)...)
	ws = append(ws, literalWarning("state.postgres.dsn", c.State.Postgres.DSN)...)
	ws = append(ws, literalWarning("http.admin_token", c.HTTP.AdminToken)...)
	ws = append(ws, literalWarning("jira.token", c.Jira.Token)...)
	ws = append(ws, literalWarning("jira.password", c.Jira.Password)...)
	if len(c.Providers) == 0 {
		ws = append(ws, Problem{Path: "providers", Message: "no providers configured; nothing will be indexed"})
	}
	for i, p := range c.Providers {
		pp := fmt.Sprintf("providers[%d]", i)
		ws = append(ws, plainHTTPWarning(pp+".url", p.URL)...)
		ws = append(ws, literalWarning(pp+".token", p.Token)...)
		if p.App != nil {
			ws = append(ws, literalWarning(pp+".app.private_key", p.App.PrivateKey)...)
		}
		if p.Webhook != nil {
			ws = append(ws, literalWarning(pp+".webhook.secret", p.Webhook.Secret)...)
			ws = append(ws, literalWarning(pp+".webhook.signing_token", p.Webhook.SigningToken)...)
		}
		for _, g := range []struct {
			key      string
			patterns []string
		}{{"include", p.Include}, {"exclude", p.Exclude}} {
			for j, pat := range g.patterns {
				if !strings.Contains(pat, "/") {
					ws = append(ws, Problem{Path: fmt.Sprintf("%s.%s[%d]", pp, g.key, j), Message: fmt.Sprintf(
						"%q contains no \"/\" and can never match an owner/name; did you mean \"*/%s\"?", pat, pat)})
				}
			}
		}
	}
	return ws
}

func literalWarning(path string, s Secret) []Problem {
	if !s.Literal() {
		return nil
	}
	key := path[strings.LastIndex(path, ".")+1:]
	return []Problem{{Path: path, Message: fmt.Sprintf(
		"secret written literally in the configuration file; prefer %s_env or %s_file", key, key)}}
}

// plainHTTPWarning warns about credentials sent unencrypted to another host.
func plainHTTPWarning(path, rawURL string) []Problem {
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "http" || isLoopbackHost(u.Hostname()) {
		return nil
	}
	return []Problem{{Path: path, Message: "plain http to a non-loopback host sends credentials unencrypted; use https"}}
}

// isLoopbackAddr reports whether a host:port listens on loopback only. An
// empty host listens on every interface.
func isLoopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	return err == nil && isLoopbackHost(host)
}

// isLoopbackHost reports whether host names the local machine. Names other
// than localhost are not resolved.
func isLoopbackHost(host string) bool {
	if strings.EqualFold(host, "localhost") || strings.HasSuffix(strings.ToLower(host), ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
