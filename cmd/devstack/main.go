// Command devstack is jiralinkd's local demo and benchmark stack: a fake
// GitHub serving the Apache ZooKeeper commit-metadata corpus and a fake Jira
// Data Center, both real HTTP servers on 127.0.0.1, driven against the real
// jiralinkd binary. No internet, no accounts.
//
//	devstack demo  --jiralinkd bin/jiralinkd   backfill, re-run, show what landed in Jira
//	devstack bench --jiralinkd bin/jiralinkd   print calls, links, wall time, peak memory
//	devstack scale --jiralinkd bin/jiralinkd   1,000 repos, a 200,000-commit repo, 50 ms latency
//	devstack serve                             keep the fakes up for `jiralinkd serve`
//	devstack ha    --jiralinkd bin/jiralinkd   three serve replicas on a local PostgreSQL, kill the leader
//
// --github-app makes the GitHub provider a GitHub App (a generated key, the
// App and one installation registered with the fake GitHub).
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
)

func main() { os.Exit(run()) }

func run() int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return cli(ctx, os.Args[1:], os.Stdout, os.Stderr)
}

const usage = `devstack is jiralinkd's local demo and benchmark stack: a fake GitHub serving the
Apache ZooKeeper commit-metadata corpus and a fake Jira Data Center on 127.0.0.1,
driven against the real jiralinkd binary. No internet, no accounts.

Usage:
  devstack demo  [--jiralinkd PATH] [--dir DIR] [--github-app]
                                                         backfill, re-run, show what landed in Jira
                                                         (--github-app: GitHub as a GitHub App)
  devstack bench [--jiralinkd PATH] [--dir DIR]          print calls, links, wall time, peak memory
  devstack scale [--jiralinkd PATH] [--dir DIR] [NAME…]  1,000 repos, a 200,000-commit repo, 50 ms latency
                                                         (NAME: idle-org, long-history, latency, ci, large-org, jira; default all)
  devstack serve [--jiralinkd PATH] [--dir DIR]          keep the fakes up for jiralinkd serve
  devstack ha    [--jiralinkd PATH] [--dir DIR]          high availability: three jiralinkd serve replicas on a
                                                         throwaway local PostgreSQL; SIGKILL the leader, show
                                                         the takeover, keep running until Ctrl-C
`

// commandTakesNames lists the commands that take positional arguments.
var commandTakesNames = map[string]bool{"demo": false, "bench": false, "scale": true, "serve": false, "ha": false}

// cli runs a devstack command line: 0 on success, 1 on failure, 2 for a
// usage error. --help (anywhere) prints the usage and is a success.
func cli(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "-h", "-help", "--help", "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	takesNames, known := commandTakesNames[args[0]]
	if !known {
		fmt.Fprintf(stderr, "devstack: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	fs := flag.NewFlagSet(args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprintf(fs.Output(), "%s\nFlags of %s:\n", usage, args[0]); fs.PrintDefaults() }
	bin := fs.String("jiralinkd", "bin/jiralinkd", "path of the jiralinkd binary")
	dir := fs.String("dir", "data/demo", "working directory for config and state (wiped at start)")
	githubApp := fs.Bool("github-app", false, "authenticate to the fake GitHub as a GitHub App (generated key, one installation)")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 && !takesNames {
		fmt.Fprintf(stderr, "devstack %s: unexpected argument %q\n", args[0], fs.Arg(0))
		return 2
	}
	newStack := func(dir, dsn string) (*stack, error) {
		st, err := startStack(dir, dsn)
		if err != nil {
			return nil, err
		}
		if *githubApp {
			if err := st.useGitHubApp(); err != nil {
				st.close()
				return nil, err
			}
		}
		return st, nil
	}
	if args[0] == "ha" {
		return ha(ctx, newStack, *dir, *bin, stdout, stderr)
	}
	st, err := newStack(*dir, "")
	if err != nil {
		fmt.Fprintf(stderr, "devstack: %v\n", err)
		return 1
	}
	defer st.close()
	switch args[0] {
	case "demo":
		return demo(ctx, st, *bin, stdout, stderr)
	case "bench":
		return bench(ctx, st, newStack, *bin, stdout, stderr)
	case "scale":
		return scale(ctx, st, *bin, fs.Args(), stdout, stderr)
	case "serve":
		fmt.Fprintf(stdout, "fake GitHub: %s\nfake Jira:   %s\nconfig:      %s\n\nrun: %s\n\nCtrl-C stops the stack.\n",
			st.ghURL, st.jiraURL, st.configPath, st.envLine(*bin, "serve"))
		<-ctx.Done()
		return 0
	}
	return 2 // unreachable: the command was checked above
}
