package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore"
)

// A bbolt state can be imported into PostgreSQL.
var _ pgstore.Source = (*boltstore.Store)(nil)

// migrateLockWait is how long state migrate waits for the state file's
// lock before it concludes that a daemon holds it.
const migrateLockWait = 2 * time.Second

// cmdState dispatches the state subcommands (only migrate so far).
func cmdState(ctx context.Context, args []string, stdout, stderr io.Writer, env envFunc) int {
	if len(args) == 0 || args[0] != "migrate" {
		fmt.Fprintf(stderr, "jiralinkd state: want a subcommand: migrate\nusage: %s\n", commands["state migrate"].synopsis)
		if len(args) > 0 && (args[0] == "-h" || args[0] == "--help" || args[0] == "help") {
			return exitOK
		}
		return exitConfig
	}
	return cmdStateMigrate(ctx, args[1:], stdout, stderr, env)
}

// cmdStateMigrate copies the bbolt state file into PostgreSQL (see
// pgstore.Import): the file is opened read-only and left byte-identical;
// a daemon holding it makes the command fail without touching anything.
// The DSN is read from the environment variable --dsn-env names and never
// printed.
func cmdStateMigrate(ctx context.Context, args []string, stdout, stderr io.Writer, env envFunc) int {
	fs := flag.NewFlagSet("state migrate", flag.ContinueOnError)
	to := fs.String("to", "", "the target backend: postgres")
	dsnEnv := fs.String("dsn-env", "", "environment variable holding the PostgreSQL connection string (never printed)")
	from := fs.String("from", "", "the bbolt state file (default: state.path of the configuration)")
	if _, code := parseArgs(fs, args, stderr); code != exitOK {
		return code
	}
	if *to != "postgres" {
		fmt.Fprintf(stderr, "jiralinkd state migrate: --to %q: only postgres is supported\n", *to)
		return exitConfig
	}
	if *dsnEnv == "" {
		fmt.Fprintln(stderr, "jiralinkd state migrate: --dsn-env is required: the name of the environment variable holding the PostgreSQL DSN")
		return exitConfig
	}
	dsn := env(*dsnEnv)
	if strings.TrimSpace(dsn) == "" {
		fmt.Fprintf(stderr, "jiralinkd state migrate: environment variable %s is empty or unset\n", *dsnEnv)
		return exitConfig
	}
	path := *from
	if path == "" {
		cfgPath := env.configPath(fs.Lookup("config").Value.String())
		cfg, ok := loadConfig(cfgPath, stderr, env)
		if !ok {
			return exitConfig
		}
		path = cfg.State.Path
	}
	if abs, err := filepath.Abs(path); err == nil {
		path = abs
	}
	src, err := boltstore.OpenReadOnly(path, migrateLockWait)
	if errors.Is(err, state.ErrLocked) {
		fmt.Fprintf(stderr, "jiralinkd state migrate: %s is in use by a running jiralinkd (serve or sync): stop it first, then run the migration again\n", path)
		return exitFailed
	}
	if err != nil {
		fmt.Fprintf(stderr, "jiralinkd state migrate: %v\n", err)
		return exitFailed
	}
	defer src.Close()
	dst, err := pgstore.Open(ctx, dsn, pgstore.Options{})
	if err != nil {
		fmt.Fprintf(stderr, "jiralinkd state migrate: %v\n", err)
		return exitFailed
	}
	defer dst.Close()
	start := time.Now()
	rep, err := dst.Import(ctx, path, src)
	if errors.Is(err, pgstore.ErrDiverged) {
		printImport(stdout, rep, "WOULD COPY")
		fmt.Fprintf(stderr, "jiralinkd state migrate: nothing copied: PostgreSQL holds %d items that differ from %s: "+
			"its state moved on since the earlier migration (a daemon ran on it), and the file's older state must not come back. "+
			"Keep running on PostgreSQL, or migrate into a new, empty database.\n", rep.Kept(), path)
		return exitFailed
	}
	if err != nil {
		if code, ok := interruptedExit(ctx); ok {
			fmt.Fprintln(stderr, "jiralinkd state migrate: interrupted; nothing was copied (run it again)")
			return code
		}
		fmt.Fprintf(stderr, "jiralinkd state migrate: %v\n", err)
		return exitFailed
	}
	printImport(stdout, rep, "COPIED")
	took := time.Since(start).Round(time.Millisecond)
	if n := rep.Added(); n == 0 {
		fmt.Fprintf(stdout, "PostgreSQL is already up to date with %s: nothing copied (%s).\n", path, took)
	} else {
		fmt.Fprintf(stdout, "Copied %d items from %s in %s. The file is unchanged.\n", n, path, took)
	}
	return exitOK
}

// printImport prints, per kind of item, how many the file holds, how many
// were copied (the column is named copied), how many were already in
// PostgreSQL and how many differ there.
func printImport(w io.Writer, rep pgstore.ImportReport, copied string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ITEMS\tIN BBOLT\t"+copied+"\tALREADY THERE\tDIFFERENT IN POSTGRESQL")
	for _, c := range rep {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", c.Kind, c.Source, c.Added, c.Same, c.Kept)
	}
	tw.Flush()
}
