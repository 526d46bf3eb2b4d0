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
// context, and every command shuts down in order from there.
func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cli(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
}

const usage = `jiralinkd links Git commits, branches and pull requests to Jira issues.

Usage:
  jiralinkd serve   [--config FILE]            run the daemon (scheduler + HTTP)
  jiralinkd sync    [--config FILE] [--provider NAME] [--repo OWNER/NAME] [--dry-run]
                                               one sync pass, then exit
  jiralinkd check   [--config FILE]            test every connection and permission
  jiralinkd status  [--config FILE] [--json]   providers and repos: sync state, errors
  jiralinkd explain [--config FILE] [--json] ISSUE-KEY
                                               what jiralinkd linked to an issue, and why
  jiralinkd purge   [--config FILE] [--provider NAME] [--repo OWNER/NAME] [--yes]
                                               delete the links jiralinkd wrote and their state
                                               (without --yes: only print what would go)
  jiralinkd version

--config defaults to $JIRALINKD_CONFIG, else ./config.yaml.
Exit codes: 0 success, 1 something failed, 2 usage or configuration error.
`

// cli dispatches a command line. It is what tests call.
func cli(ctx context.Context, args []string, stdout, stderr io.Writer, getenv func(string) string) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitConfig
	}
	env := envFunc(getenv)
	switch args[0] {
	case "serve":
		return cmdServe(ctx, args[1:], stdout, stderr, env)
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
// the command's own flags defined; --config is added here), load the
// configuration and build the clients. code is non-zero when the command
// must exit with it.
func setup(fs *flag.FlagSet, args []string, stderr io.Writer, env envFunc) (d *deps, code int) {
	fs.SetOutput(stderr)
	cfgPath := fs.String("config", "", "configuration file (default $JIRALINKD_CONFIG, else ./config.yaml)")
	if err := fs.Parse(args); err != nil {
		return nil, exitConfig
	}
	path := env.configPath(*cfgPath)
	cfg, ok := loadConfig(path, stderr, env)
	if !ok {
		return nil, exitConfig
	}
	d, err := buildDeps(cfg, newLogger(cfg, stderr))
	if err != nil {
		fmt.Fprintf(stderr, "jiralinkd: %v\n", err)
		return nil, exitConfig
	}
	d.cfgPath = path
	return d, exitOK
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
