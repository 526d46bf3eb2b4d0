package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/jiralinkd/jiralinkd/config"
	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/indexer/status"
	"github.com/jiralinkd/jiralinkd/jiraclient"
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
	// One attempt per request: a failure is reported at once, in the table,
	// instead of after retries that log warnings into it.
	d, code := setup(flag.NewFlagSet("check", flag.ContinueOnError), args, stderr, env, withoutRetries())
	if code != exitOK {
		return code
	}
	cfg := d.cfg
	c := &checker{w: stdout}
	c.result("config", nil, d.cfgPath)
	for _, p := range config.Warnings(cfg) {
		c.warn(p.Path, p.Message)
	}
	checkStateBackend(ctx, c, cfg.State)
	checkJira(ctx, c, d)
	for i, p := range cfg.Providers {
		if checkProviderOrApp(ctx, c, d, i, p) {
			checkProviderClock(ctx, c, p)
		}
		checkWebhook(c, p)
	}
	checkAdmin(c, cfg.HTTP.AdminToken)
	if c.failed > 0 {
		fmt.Fprintf(stdout, "%d check(s) failed\n", c.failed)
		return exitFailed
	}
	fmt.Fprintln(stdout, "all checks passed")
	return exitOK
}

// checkState checks that the state file can be used without creating it:
// an existing file must open (read-only; a running jiralinkd holding it is
// fine) and be writable, a missing one must be creatable in its directory
// (or the nearest existing parent, as Open creates the directories).
func checkState(c *checker, path string) {
	switch _, err := os.Stat(path); {
	case errors.Is(err, fs.ErrNotExist):
		dir, err := creatableIn(filepath.Dir(path))
		if err != nil {
			c.result("state", fmt.Errorf("%s does not exist and cannot be created: %w: fix state.path or the permissions", path, err), "")
			return
		}
		c.result("state", nil, path+" (not created yet; "+dir+" is writable)")
		return
	case err != nil:
		c.result("state", fmt.Errorf("state.path: %w", err), "")
		return
	}
	st, err := boltstore.OpenReadOnly(path, 500*time.Millisecond)
	if errors.Is(err, state.ErrLocked) {
		c.result("state", nil, path+" (in use by a running jiralinkd)")
		return
	}
	if err != nil {
		c.result("state", err, "")
		return
	}
	_ = st.Close()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		c.result("state", fmt.Errorf("%s is not writable: %w", path, err), "")
		return
	}
	_ = f.Close()
	c.result("state", nil, path+" (writable)")
}

// creatableIn returns the nearest existing directory at or above dir after
// checking that a file can be created in it (a probe file, removed at
// once).
func creatableIn(dir string) (string, error) {
	for {
		fi, err := os.Stat(dir)
		if errors.Is(err, fs.ErrNotExist) && filepath.Dir(dir) != dir {
			dir = filepath.Dir(dir)
			continue
		}
		if err != nil {
			return dir, err
		}
		if !fi.IsDir() {
			return dir, fmt.Errorf("%s is not a directory", dir)
		}
		f, err := os.CreateTemp(dir, ".jiralinkd-check-*")
		if err != nil {
			return dir, err
		}
		name := f.Name()
		_ = f.Close()
		return dir, os.Remove(name)
	}
}

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

// checkProvider checks provider i (p) of the configuration: its token, its
// organisations/groups and repositories/projects, its rate limit. It
// reports whether the server answered at all.
func checkProvider(ctx context.Context, c *checker, d *deps, i int, p config.Provider) bool {
	name := p.Name
	urlKey, cred := fmt.Sprintf("providers[%d].url", i), secretSetting(fmt.Sprintf("providers[%d]", i), "token", p.Token)
	timeoutKey := fmt.Sprintf("providers[%d].timeout", i)
	switch p.Type {
	case providers.TypeGitHub:
		gc := d.github[name]
		kind := githubTokenKindOf(p.Token.Reveal())
		type who struct {
			login  string
			scopes []string
		}
		w, err := probe(ctx, p.Timeout, func(ctx context.Context) (who, error) {
			login, scopes, err := gc.Whoami(ctx)
			return who{login, scopes}, err
		})
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		switch {
		case err == nil:
		case unauthorized(err):
			c.result(name+" reachable", nil, p.URL)
			c.result(name+" token", rejected(cred, err), "")
			checkGitHubToken(c, name, kind, nil)
			return true
		case unreachable(err):
			c.result(name+" reachable", reachError(err, urlKey, p.URL, timeoutKey, p.Timeout), "")
			return false
		default:
			c.result(name+" token", err, "")
			checkGitHubToken(c, name, kind, nil)
			return true
		}
		c.result(name+" token", nil, "authenticated as "+w.login+scopeList(w.scopes))
		checkGitHubToken(c, name, kind, w.scopes)
		exp, ok := gc.TokenExpiry()
		expiryLine(c, name+" token expiry", exp, ok, p.Token.Setting(providerPath(i)+".token"))
		for _, org := range p.Orgs {
			c.result(name+" org "+org, gc.Org(ctx, org), "visible")
		}
		for _, r := range p.Repos {
			l, err := gc.Repo(ctx, r, providers.ListState{})
			c.result(name+" repo "+r, err, "visible")
			if err == nil {
				checkCI(ctx, c, name+" repo "+r, gc, l.Items[0], p, "Actions and Deployments read")
			}
		}
		rateLine(c, name, gc.RateLimit())
	case providers.TypeGitLab:
		gc := d.gitlab[name]
		v, err := probe(ctx, p.Timeout, gc.Version)
		ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
		defer cancel()
		switch {
		case err == nil:
			c.result(name+" reachable", nil, p.URL+" (GitLab "+v+")")
		case unauthorized(err): // GitLab answers /version only to a valid token
			c.result(name+" reachable", nil, p.URL)
			c.result(name+" token", rejected(cred, err), "")
			return true
		default:
			c.result(name+" reachable", reachError(err, urlKey, p.URL, timeoutKey, p.Timeout), "")
			return !unreachable(err)
		}
		user, scopes, err := gc.Whoami(ctx)
		if err != nil {
			if unauthorized(err) {
				err = rejected(cred, err)
			}
			c.result(name+" token", err, "")
			return true
		}
		c.result(name+" token", checkGitLabScopes(scopes), "authenticated as "+user+scopeList(scopes))
		info, err := gc.TokenInfo(ctx)
		expiryLine(c, name+" token expiry", info.Expires, err == nil && !info.Expires.IsZero(), p.Token.Setting(providerPath(i)+".token"))
		if p.RotateBefore > 0 && err == nil && !slices.Contains(info.Scopes, "api") && !slices.Contains(info.Scopes, "self_rotate") {
			c.result(name+" token rotation", fmt.Errorf("rotate_before needs the api or self_rotate scope: recreate %s with self_rotate",
				p.Token.Setting(providerPath(i)+".token")), "")
		}
		for _, g := range p.Groups {
			c.result(name+" group "+g, gc.Group(ctx, g), "visible")
		}
		for _, r := range p.Projects {
			l, err := gc.Repo(ctx, r, providers.ListState{})
			c.result(name+" project "+r, err, "visible")
			if err == nil {
				checkCI(ctx, c, name+" project "+r, gc, l.Items[0], p, "CI/CD enabled on the project")
			}
		}
		rateLine(c, name, gc.RateLimit())
	}
	return true
}

// checkCI reads the first run and deployment of an explicitly configured
// repository when builds or deployments are on, and warns when the
// provider refuses them (the sync then skips them for that repository).
func checkCI(ctx context.Context, c *checker, name string, src indexer.CISource, r providers.Repo, p config.Provider, need string) {
	first := func(providers.Run) (bool, error) { return true, nil }
	if p.Builds {
		if _, _, err := src.Runs(ctx, r, time.Now().Add(-p.BuildsSince), providers.ListState{}, first); err != nil {
			c.warn(name+" builds", fmt.Sprintf("runs not readable (%v): needs %s", err, need))
		} else {
			c.result(name+" builds", nil, "runs readable")
		}
	}
	if p.Deployments != nil {
		if _, _, err := src.Deployments(ctx, r, time.Now(), providers.ListState{}, func(providers.Deployment) (bool, error) { return true, nil }); err != nil {
			c.warn(name+" deployments", fmt.Sprintf("deployments not readable (%v): needs %s", err, need))
		} else {
			c.result(name+" deployments", nil, "deployments readable")
		}
	}
}

// probe makes a system's first call of check, bounded by the configured
// per-request timeout: an unreachable host fails once, within it.
func probe[T any](ctx context.Context, timeout time.Duration, call func(context.Context) (T, error)) (T, error) {
	if timeout <= 0 {
		timeout = config.DefaultTimeout
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	return call(ctx)
}

// checkError is a check's failure as printed: a message saying what is
// wrong and which setting to fix, wrapping the error it was made from.
type checkError struct {
	msg string
	err error
}

func (e *checkError) Error() string { return e.msg }
func (e *checkError) Unwrap() error { return e.err }

// unauthorized reports whether a server refused the credentials (HTTP 401).
func unauthorized(err error) bool {
	return errors.Is(err, jiraclient.ErrUnauthorized) || errors.Is(err, providers.ErrUnauthorized)
}

// unreachable reports whether err means that no server answered: the name
// did not resolve, the connection was refused or could not be made, or
// nothing answered in time.
func unreachable(err error) bool {
	var (
		dns *net.DNSError
		op  *net.OpError
	)
	return errors.As(err, &dns) || errors.Is(err, syscall.ECONNREFUSED) ||
		(errors.As(err, &op) && op.Op == "dial") || timedOut(err)
}

// timedOut reports whether err is a timeout (a deadline, a dial or
// response-header timeout).
func timedOut(err error) bool {
	var t interface{ Timeout() bool }
	return errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &t) && t.Timeout())
}

// reachError describes a failed first call: "unreachable", naming the URL
// setting and the URL, when no server answered; err itself otherwise.
func reachError(err error, urlKey, url, timeoutKey string, timeout time.Duration) error {
	if !unreachable(err) {
		return err
	}
	var (
		dns    *net.DNSError
		reason = "cannot connect"
	)
	switch {
	case errors.As(err, &dns):
		reason = "host " + dns.Name + " not found (DNS)"
	case errors.Is(err, syscall.ECONNREFUSED):
		reason = "connection refused"
	case timedOut(err):
		reason = fmt.Sprintf("no answer within %s (%s)", timeout, timeoutKey)
	}
	return &checkError{
		msg: fmt.Sprintf("unreachable: %s (%s): %s: check the URL, DNS, proxy and firewall", urlKey, url, reason),
		err: err,
	}
}

// rejected describes credentials a server refused (HTTP 401), naming the
// setting they come from (see secretSetting); err says what the server
// said and, for Jira, how to fix the credentials.
func rejected(setting string, err error) error {
	return &checkError{msg: fmt.Sprintf("token rejected: %s: renew the token or fix the setting (%v)", setting, err), err: err}
}

// secretSetting names the key a secret is configured with under section
// and where it is read from — "jira.token_env (JIRA_TOKEN)",
// "providers[1].token_file (/run/secrets/gh)" — never its value.
func secretSetting(section, key string, s config.Secret) string {
	switch s.Source {
	case config.SourceEnv:
		return fmt.Sprintf("%s.%s_env (%s)", section, key, s.Env)
	case config.SourceFile:
		return fmt.Sprintf("%s.%s_file (%s)", section, key, s.File)
	case config.SourceLiteral:
		return fmt.Sprintf("%s.%s (written in the configuration file)", section, key)
	}
	return section + "." + key
}

// jiraCredentials names the Jira credential settings: the token's, or the
// username and the password's.
func jiraCredentials(j config.Jira) string {
	if j.Token.IsSet() {
		return secretSetting("jira", "token", j.Token)
	}
	return fmt.Sprintf("jira.username (%s) with %s", j.Username, secretSetting("jira", "password", j.Password))
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

// Clock skew beyond skewWarn is reported as a warning, beyond skewFail as a
// failure: GitLab's signed webhooks are refused outside a 5-minute window,
// and rate-limit resets are server times turned into local waits.
const (
	skewWarn = time.Minute
	skewFail = 5 * time.Minute
)

// checkSkew compares a server's clock (a Date header, one-second
// resolution) with the local one, read right after the response; both are
// truncated to the second so that an exact clock shows no skew.
func checkSkew(c *checker, name, server string, serverTime, local time.Time) {
	skew := serverTime.Truncate(time.Second).Sub(local.Truncate(time.Second))
	off := skew.Abs().Round(time.Second)
	dir := "behind"
	if skew < 0 {
		dir = "ahead of"
	}
	msg := fmt.Sprintf("the local clock is %s %s %s: synchronise it with NTP (chrony, systemd-timesyncd); "+
		"skew breaks signed-webhook time windows (5 minutes) and rate-limit waits", off, dir, server)
	switch {
	case off > skewFail:
		c.result(name, errors.New(msg), "")
	case off > skewWarn:
		c.warn(name, msg)
	default:
		c.result(name, nil, fmt.Sprintf("in sync with %s (off by %s)", server, off))
	}
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

// githubTokenKind names the kind of a GitHub token from its prefix
// (github.blog, "Behind GitHub's new authentication token formats", 2021).
// Only the kind is ever printed, never the token.
type githubTokenKind string

const (
	ghClassic         githubTokenKind = "classic personal access token"
	ghFineGrained     githubTokenKind = "fine-grained personal access token"
	ghOAuth           githubTokenKind = "OAuth app token"
	ghAppUser         githubTokenKind = "GitHub App user token"
	ghAppInstallation githubTokenKind = "GitHub App installation token"
	ghRefresh         githubTokenKind = "GitHub App refresh token"
	ghUnknown         githubTokenKind = "unknown kind"
)

func githubTokenKindOf(token string) githubTokenKind {
	for _, k := range []struct {
		prefix string
		kind   githubTokenKind
	}{
		{"github_pat_", ghFineGrained}, {"ghp_", ghClassic}, {"gho_", ghOAuth},
		{"ghu_", ghAppUser}, {"ghs_", ghAppInstallation}, {"ghr_", ghRefresh},
	} {
		if strings.HasPrefix(token, k.prefix) {
			return k.kind
		}
	}
	return ghUnknown
}

// fineGrainedNeeds is what a fine-grained token or GitHub App needs.
const fineGrainedNeeds = "read-only repository permissions Metadata, Contents and Pull requests on every indexed repository"

// checkGitHubToken prints the token's kind and whether its scopes suffice.
// scopes is X-OAuth-Scopes: nil when they could not be read (GitHub sent no
// such header, or the token failed), which is no reason for a warning: the
// organisation and repository checks tell what the token can read.
func checkGitHubToken(c *checker, name string, kind githubTokenKind, scopes []string) {
	name += " token kind"
	if scopes == nil && (kind == ghClassic || kind == ghOAuth) {
		c.result(name, nil, string(kind)+" (its scopes could not be read)")
		return
	}
	has := func(s string) bool {
		for _, x := range scopes {
			if x == s {
				return true
			}
		}
		return false
	}
	switch kind {
	case ghClassic, ghOAuth:
		switch {
		case has("repo"):
			c.result(name, nil, string(kind)+" with the repo scope")
		case has("public_repo"):
			c.warn(name, string(kind)+" with public_repo only: private repositories stay invisible; add the repo scope to index them")
		default:
			c.warn(name, string(kind)+" without the repo or public_repo scope: only public repositories can be read; "+
				"add repo (private repositories) or public_repo")
		}
	case ghFineGrained:
		c.result(name, nil, string(kind)+" (GitHub reports no scopes for it): it needs "+fineGrainedNeeds)
	case ghAppUser, ghAppInstallation:
		c.warn(name, string(kind)+": it expires (installation tokens after 1 hour, user tokens after 8 hours) and jiralinkd "+
			"does not renew it: use a fine-grained personal access token with "+fineGrainedNeeds)
	case ghRefresh:
		c.result(name, errors.New(string(kind)+": it cannot call the API: use a fine-grained personal access token with "+
			fineGrainedNeeds), "")
	default:
		c.warn(name, "unrecognised token format (GitHub tokens start with ghp_, github_pat_, gho_, ghu_ or ghs_ since 2021): "+
			"if it is an old 40-character token, replace it with a fine-grained personal access token with "+fineGrainedNeeds)
	}
}

// checkProviderClock compares the provider's clock with ours. The Date is
// read from an anonymous HEAD of the configured URL (the API root), which
// carries no credentials and reads no repository data.
func checkProviderClock(ctx context.Context, c *checker, p config.Provider) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	name := p.Name + " clock"
	t, err := serverDate(ctx, p)
	if err != nil {
		c.warn(name, fmt.Sprintf("cannot read the server's time: %v", err))
		return
	}
	checkSkew(c, name, p.Name, t, time.Now())
}

// serverDate returns the Date header of an unauthenticated HEAD of p.URL;
// any status will do, redirects are not followed.
func serverDate(ctx context.Context, p config.Provider) (time.Time, error) {
	hc, err := httpClient(p.Timeout, p.CAFile)
	if err != nil {
		return time.Time{}, err
	}
	hc.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	req, err := http.NewRequestWithContext(ctx, http.MethodHead, p.URL, nil)
	if err != nil {
		return time.Time{}, err
	}
	req.Header.Set("User-Agent", "jiralinkd/"+version)
	resp, err := hc.Do(req)
	if err != nil {
		return time.Time{}, err
	}
	resp.Body.Close()
	d := resp.Header.Get("Date")
	if d == "" {
		return time.Time{}, errors.New("the response has no Date header")
	}
	return http.ParseTime(d)
}

// checkWebhook says whether the provider's webhook endpoint is on, and
// where its secrets come from (never the secrets).
func checkWebhook(c *checker, p config.Provider) {
	name := p.Name + " webhook"
	if p.Webhook == nil {
		c.warn(name, "webhooks off: polling only (add a webhook section to get links within seconds)")
		return
	}
	var from []string
	if p.Webhook.Secret.IsSet() {
		from = append(from, "secret from "+secretSource(p.Webhook.Secret))
	}
	if p.Webhook.SigningToken.IsSet() {
		from = append(from, "signing token from "+secretSource(p.Webhook.SigningToken))
	}
	c.result(name, nil, fmt.Sprintf("on (%s) at POST /webhooks/%s", strings.Join(from, ", "), p.Name))
}

// checkAdmin warns when the admin routes are off.
func checkAdmin(c *checker, token config.Secret) {
	if !token.IsSet() {
		c.warn("admin", "status page, admin API and /metrics disabled: set http.admin_token_env")
		return
	}
	c.result("admin", nil, "status page, admin API and /metrics on (token from "+secretSource(token)+")")
}

// secretSource describes where a secret comes from, without its value.
func secretSource(s config.Secret) string {
	switch s.Source {
	case config.SourceEnv:
		return "env " + s.Env
	case config.SourceFile:
		return "file " + s.File
	case config.SourceLiteral:
		return "the configuration file"
	}
	return "nowhere"
}

// expiryLine reports when a token expires: OK with the days left, WARN
// within 30 days, FAIL once expired; unknown (the server does not say, or
// the token never expires) is an OK line saying so.
func expiryLine(c *checker, name string, exp time.Time, known bool, setting string) {
	if !known {
		c.result(name, nil, "not reported (no expiry, or the server does not say)")
		return
	}
	days := status.DaysLeft(exp, time.Now())
	day := exp.UTC().Format(time.DateOnly)
	switch {
	case !exp.After(time.Now()):
		c.result(name, fmt.Errorf("expired on %s: replace %s", day, setting), "")
	case days < 30:
		c.warn(name, fmt.Sprintf("expires on %s (%d days left): replace %s before then", day, days, setting))
	default:
		c.result(name, nil, fmt.Sprintf("expires on %s (%d days left)", day, days))
	}
}
