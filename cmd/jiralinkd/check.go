package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/config"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// checker prints one line per check and remembers whether any failed.
type checker struct {
	w      io.Writer
	failed int
}

func (c *checker) result(name string, err error, okDetail string) {
	if err != nil {
		c.failed++
		fmt.Fprintf(c.w, "FAIL %s: %v\n", name, err)
		return
	}
	if okDetail != "" {
		fmt.Fprintf(c.w, "OK   %s: %s\n", name, okDetail)
		return
	}
	fmt.Fprintf(c.w, "OK   %s\n", name)
}

func (c *checker) warn(name, msg string) { fmt.Fprintf(c.w, "WARN %s: %s\n", name, msg) }

func cmdCheck(ctx context.Context, args []string, stdout, stderr io.Writer, env envFunc) int {
	d, code := setup(flag.NewFlagSet("check", flag.ContinueOnError), args, stderr, env)
	if code != exitOK {
		return code
	}
	cfg := d.cfg
	c := &checker{w: stdout}
	c.result("config", nil, d.cfgPath)
	for _, p := range config.Warnings(cfg) {
		c.warn(p.Path, p.Message)
	}
	checkState(c, cfg.State.Path)
	checkJira(ctx, c, d)
	for _, p := range cfg.Providers {
		checkProvider(ctx, c, d, p)
	}
	if c.failed > 0 {
		fmt.Fprintf(stdout, "%d check(s) failed\n", c.failed)
		return exitFailed
	}
	fmt.Fprintln(stdout, "all checks passed")
	return exitOK
}

func checkState(c *checker, path string) {
	st, err := state.Open(path, 500*time.Millisecond)
	if errors.Is(err, state.ErrLocked) {
		c.result("state", nil, path+" (in use by a running jiralinkd)")
		return
	}
	if err != nil {
		c.result("state", err, "")
		return
	}
	_ = st.Close()
	c.result("state", nil, path+" (writable)")
}

func checkJira(ctx context.Context, c *checker, d *deps) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	info, err := d.jira.ServerInfo(ctx)
	if err != nil {
		c.result("jira reachable", err, "")
		return
	}
	c.result("jira reachable", nil, fmt.Sprintf("%s (%s %s)", d.cfg.Jira.URL, strings.TrimSpace(info.DeploymentType+" Jira"), info.Version))
	me, err := d.jira.Myself(ctx)
	if err != nil {
		c.result("jira token", err, "")
		return
	}
	c.result("jira token", nil, "authenticated as "+me.Name)
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
}

func checkProvider(ctx context.Context, c *checker, d *deps, p config.Provider) {
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	name := p.Name
	switch p.Type {
	case providers.TypeGitHub:
		gc := d.github[name]
		login, scopes, err := gc.Whoami(ctx)
		if err != nil {
			c.result(name+" token", err, "")
			return
		}
		c.result(name+" token", nil, "authenticated as "+login+scopeList(scopes))
		for _, org := range p.Orgs {
			c.result(name+" org "+org, gc.Org(ctx, org), "visible")
		}
		for _, r := range p.Repos {
			_, err := gc.Repo(ctx, r, providers.ListState{})
			c.result(name+" repo "+r, err, "visible")
		}
		rateLine(c, name, gc.RateLimit())
	case providers.TypeGitLab:
		gc := d.gitlab[name]
		v, err := gc.Version(ctx)
		if err != nil {
			c.result(name+" reachable", err, "")
			return
		}
		c.result(name+" reachable", nil, p.URL+" (GitLab "+v+")")
		user, scopes, err := gc.Whoami(ctx)
		if err != nil {
			c.result(name+" token", err, "")
			return
		}
		c.result(name+" token", checkGitLabScopes(scopes), "authenticated as "+user+scopeList(scopes))
		for _, g := range p.Groups {
			c.result(name+" group "+g, gc.Group(ctx, g), "visible")
		}
		for _, r := range p.Projects {
			_, err := gc.Repo(ctx, r, providers.ListState{})
			c.result(name+" project "+r, err, "visible")
		}
		rateLine(c, name, gc.RateLimit())
	}
}

func rateLine(c *checker, name string, rl httpx.RateLimit) {
	if rl.Known {
		c.result(name+" rate limit", nil, fmt.Sprintf("%d of %d left, resets %s", rl.Remaining, rl.Limit, rl.Reset.Format(time.RFC3339)))
	}
}

func scopeList(scopes []string) string {
	if len(scopes) == 0 {
		return ""
	}
	return " (scopes: " + strings.Join(scopes, ", ") + ")"
}

// checkGitLabScopes fails a token that cannot read the API. An empty list
// means the server did not say (not a personal access token, or an old
// GitLab); the per-group and per-project checks still tell.
func checkGitLabScopes(scopes []string) error {
	if len(scopes) == 0 {
		return nil
	}
	for _, s := range scopes {
		if s == "read_api" || s == "api" {
			return nil
		}
	}
	return fmt.Errorf("token scopes %s lack read_api: create a token with the read_api scope", strings.Join(scopes, ", "))
}
