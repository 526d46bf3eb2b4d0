package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"

	"github.com/jiralinkd/jiralinkd/config"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/indexer/status"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/providers"
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
