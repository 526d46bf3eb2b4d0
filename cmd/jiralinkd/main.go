// Command jiralinkd indexes Git metadata from GitHub and GitLab and writes
// Jira Data Center remote issue links. See README.md.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/jiralinkd/jiralinkd/config"
)

// Exit codes.
const (
	exitOK     = 0
	exitFailed = 1 // something failed (a repo, a check); the rest completed
	exitConfig = 2 // usage or configuration error; nothing was done
)

// version is stamped at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() { os.Exit(run()) }

// run is the only place that handles OS signals: SIGINT/SIGTERM cancel the
// context with an *interruptError naming the signal as its cause, and every
// command shuts down in order from there (see interruptedExit).
func run() int {
	ctx, cancel := context.WithCancelCause(context.Background())
	defer cancel(nil)
	sigs := make(chan os.Signal, 1)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	defer signal.Stop(sigs)
	go func() {
		select {
		case s := <-sigs:
			cancel(&interruptError{Signal: s})
			// A second signal gets the default behaviour (exit at once).
			signal.Stop(sigs)
		case <-ctx.Done():
		}
	}()
	// SIGHUP asks serve to reload its secrets and configuration; the
	// other commands keep its default (termination).
	hup := make(chan os.Signal, 1)
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
	}
	reload := make(chan struct{}, 1)
	go func() {
		for {
			select {
			case <-hup:
				select {
				case reload <- struct{}{}:
				default: // a reload is already pending
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return cliReload(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv, reload)
}

// interruptError is the cause of a command context cancelled by a signal.
// It matches context.Canceled (errors.Is), so code that reports
// context.Cause instead of ctx.Err() is still recognised as cancelled.
type interruptError struct{ Signal os.Signal }

func (e *interruptError) Error() string { return "interrupted (signal: " + e.Signal.String() + ")" }

func (e *interruptError) Unwrap() error { return context.Canceled }

// interruptedExit is the exit code of a command whose context ctx was
// cancelled: 128 + the signal number (130 for SIGINT, 143 for SIGTERM) when
// a signal caused it, else exitFailed. ok is false while ctx is not done.
func interruptedExit(ctx context.Context) (code int, ok bool) {
	if ctx.Err() == nil {
		return 0, false
	}
	var ie *interruptError
	if errors.As(context.Cause(ctx), &ie) {
		if s, isSys := ie.Signal.(syscall.Signal); isSys {
			return 128 + int(s), true
		}
	}
	return exitFailed, true
}

const usage = `jiralinkd links Git commits, branches and pull requests to Jira issues.

Usage:
  jiralinkd serve   [--config FILE]            run the daemon (scheduler + HTTP)
  jiralinkd sync    [--config FILE] [--provider NAME] [--repo OWNER/NAME] [--full] [--dry-run]
                                               one sync pass, then exit
  jiralinkd check   [--config FILE]            test every connection and permission
  jiralinkd status  [--config FILE] [--json]   providers and repos: sync state, errors
  jiralinkd explain [--config FILE] [--json] ISSUE-KEY
                                               what jiralinkd linked to an issue, and why
  jiralinkd purge   [--config FILE] [--provider NAME] [--repo OWNER/NAME] [--yes]
                                               delete the links jiralinkd wrote and their state
                                               (without --yes: only print what would go)
  jiralinkd findings [--config FILE] [--json] [--project KEY] [--issue KEY] [--state open|resolved|all]
                                               secrets found in Jira issues (masked)
  jiralinkd state migrate --to postgres --dsn-env NAME [--config FILE] [--from FILE]
                                               copy the bbolt state into PostgreSQL (daemon stopped)
  jiralinkd version

--config defaults to $JIRALINKD_CONFIG, else ./config.yaml.
Exit codes: 0 success, 1 something failed, 2 usage or configuration error.
`

// commandSpec describes a command for its --help text and its positional
// arguments; setup finds it by the flag set's name.
type commandSpec struct {
	synopsis string // usage line
	about    string // what the command does
	args     []string
}

// commands are the specs of the commands that take flags.
var commands = map[string]commandSpec{
	"serve": {synopsis: "jiralinkd serve [--config FILE]",
		about: "Run the daemon: one cron schedule per provider (a pass also starts at launch) and the HTTP server\n" +
			"(/healthz, /readyz, webhooks, status page and admin API). SIGHUP re-reads the secret files and the\n" +
			"configuration (an invalid one is refused and the running one stays). SIGINT/SIGTERM stop it in order."},
	"sync": {synopsis: "jiralinkd sync [--config FILE] [--provider NAME] [--repo OWNER/NAME] [--full] [--dry-run]",
		about: "Run one sync pass over everything configured (or one provider or repository), then exit:\n" +
			"0 when every repository synced, 1 when any failed, 2 for a usage or configuration error,\n" +
			"130/143 when interrupted (rerun to resume). A pass is an ordinary one: a full sweep of every repository's lists\n" +
			"only when providers[].full_sweep_interval has passed, or with --full. --dry-run writes nothing, neither to Jira\n" +
			"nor to the state file."},
	"check": {synopsis: "jiralinkd check [--config FILE]",
		about: "Test every connection and permission (state file, Jira, each provider, webhooks, admin token),\n" +
			"one line per check with OK, FAIL or WARN and how to fix a failure. Exit 0 only if all pass."},
	"status": {synopsis: "jiralinkd status [--config FILE] [--json]",
		about: "Print providers and repositories: sync state, last sync, commits and links, last error,\n" +
			"failed smart-commit commands. Asks the running daemon when serve holds the state file."},
	"explain": {synopsis: "jiralinkd explain [--config FILE] [--json] ISSUE-KEY",
		about: "Print every link jiralinkd wrote on an issue, what it points at and why, and the issue's\n" +
			"smart-commit commands. The key is case-insensitive (zookeeper-1 is ZOOKEEPER-1).",
		args: []string{"ISSUE-KEY"}},
	"findings": {synopsis: "jiralinkd findings [--config FILE] [--json] [--project KEY] [--issue KEY] [--state open|resolved|all]",
		about: "Print the secrets Jira secret scanning found (jira.secret_scan): per-project scan progress, then\n" +
			"each finding's issue, field or comment, rule, masked preview and state. Never prints a secret."},
	"state migrate": {synopsis: "jiralinkd state migrate --to postgres --dsn-env NAME [--config FILE] [--from FILE]",
		about: "Copy the bbolt state file (state.path, or --from) into PostgreSQL: cursors, commit index, links,\n" +
			"caches, webhook queue, ledgers, CI and secret-scanning state, so the install moves without a new\n" +
			"backfill. Stop the daemon first (the file must not be in use); the file is only read. Running it\n" +
			"again copies nothing that is already there. The DSN is read from the environment variable NAME."},
	"purge": {synopsis: "jiralinkd purge [--config FILE] [--provider NAME] [--repo OWNER/NAME] [--yes]",
		about: "Delete the remote links jiralinkd wrote (from its own index, never anything else) and the state\n" +
			"behind them. Without --yes it only prints what it would delete. Safe to interrupt and run again."},
}

// exitHelp is what setup returns after printing a command's --help; cli
// turns it into exitOK. It is never an exit status of the process.
const exitHelp = -1

// cli dispatches a command line. It is what tests call.
func cli(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	return cliReload(ctx, args, stdout, stderr, getenv, nil)
}

// cliReload is cli with the channel on which run passes SIGHUP: each
// receive makes serve reload its secrets and configuration (nil: never).
func cliReload(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, reload <-chan struct{}) int {
	code := dispatch(ctx, args, stdout, stderr, getenv, reload)
	if code == exitHelp {
		return exitOK
	}
	return code
}

func dispatch(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string, reload <-chan struct{}) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitConfig
	}
	env := envFunc(getenv)
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr, env, reload)
	case "sync":
		return cmdSync(ctx, args[1:], stdout, stderr, env)
	case "check":
		return cmdCheck(ctx, args[1:], stdout, stderr, env)
	case "status":
		return cmdStatus(ctx, args[1:], stdout, stderr, env)
	case "explain":
		return cmdExplain(ctx, args[1:], stdout, stderr, env)
	case "purge":
		return cmdPurge(ctx, args[1:], stdout, stderr, env)
	case "findings":
		return cmdFindings(ctx, args[1:], stdout, stderr, env)
	case "state":
		return cmdState(ctx, args[1:], stdout, stderr, env)
	case "version", "--version":
		fmt.Fprintf(stdout, "jiralinkd %s\n", version)
		return exitOK
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "jiralinkd: unknown command %q\n\n%s", args[0], usage)
		return exitConfig
	}
}

type envFunc func(string) string

// configPath applies the --config default chain.
func (e envFunc) configPath(flagValue string) string {
	if flagValue != "" {
		return flagValue
	}
	if v := e("JIRALINKD_CONFIG"); v != "" {
		return v
	}
	return "config.yaml"
}

// setup is the common start of every command: parse its flags (fs has
// the command's own flags defined; --config is added here), check the
// positional arguments against the command's spec, load the configuration
// and build the clients. code is non-zero when the command must exit with
// it: exitConfig for a usage or configuration error, exitHelp after
// --help. The positional arguments are in d.args.
func setup(fs *flag.FlagSet, args []string, stderr io.Writer, env envFunc, opts ...depsOption) (d *deps, code int) {
	pos, code := parseArgs(fs, args, stderr)
	if code != exitOK {
		return nil, code
	}
	path := env.configPath(fs.Lookup("config").Value.String())
	cfg, ok := loadConfig(path, stderr, env)
	if !ok {
		return nil, exitConfig
	}
	d, err := buildDeps(cfg, newLogger(cfg, stderr), opts...)
	if err != nil {
		fmt.Fprintf(stderr, "jiralinkd: %v\n", err)
		return nil, exitConfig
	}
	d.cfgPath, d.args = path, pos
	return d, exitOK
}

// parseArgs parses a command line of the command named fs.Name(): flags
// may come before, between and after the positional arguments ("--" ends
// the flags), whose number must be what the command's spec says. --help
// and -h print the command's description and flags to stderr and return
// exitHelp; any usage error is reported and returns exitConfig.
func parseArgs(fs *flag.FlagSet, args []string, stderr io.Writer) ([]string, int) {
	spec := commands[fs.Name()]
	fs.SetOutput(stderr)
	fs.String("config", "", "configuration file (default $JIRALINKD_CONFIG, else ./config.yaml)")
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: %s\n\n%s\n\nFlags:\n", spec.synopsis, spec.about)
		fs.PrintDefaults()
	}
	pos, err := parseInterspersed(fs, args)
	if errors.Is(err, flag.ErrHelp) {
		return nil, exitHelp
	}
	if err != nil {
		return nil, exitConfig // the flag package has printed the error and the usage
	}
	switch {
	case len(pos) > len(spec.args):
		fmt.Fprintf(stderr, "jiralinkd %s: unexpected argument %q\nusage: %s\n", fs.Name(), pos[len(spec.args)], spec.synopsis)
		return nil, exitConfig
	case len(pos) < len(spec.args):
		fmt.Fprintf(stderr, "jiralinkd %s: missing %s\nusage: %s\n", fs.Name(), strings.Join(spec.args[len(pos):], " "), spec.synopsis)
		return nil, exitConfig
	}
	return pos, exitOK
}

// parseInterspersed parses args with fs, accepting flags after positional
// arguments, and returns the positional arguments in order. Everything
// after a "--" is positional.
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos, args = append(pos, rest[0]), rest[1:]
	}
}

// loadConfig loads and validates the configuration, printing problems (each
// naming its YAML path) to stderr. ok is false when the command must exit 2.
func loadConfig(path string, stderr io.Writer, env envFunc) (*config.Config, bool) {
	cfg, err := config.Load(path, env, nil)
	if err != nil {
		var ce *config.Error
		if errors.As(err, &ce) {
			fmt.Fprintf(stderr, "jiralinkd: invalid configuration %s:\n%s\n", path, err)
		} else {
			fmt.Fprintf(stderr, "jiralinkd: %v\n", err)
		}
		return nil, false
	}
	return cfg, true
}
