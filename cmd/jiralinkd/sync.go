package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
)

func cmdSync(ctx context.Context, args []string, stdout, stderr io.Writer, env envFunc) int {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	provider := fs.String("provider", "", "sync only this provider")
	repo := fs.String("repo", "", "sync only this repository (owner/name)")
	dryRun := fs.Bool("dry-run", false, "print the links that would be written; write nothing")
	d, code := setup(fs, args, stderr, env)
	if code != exitOK {
		return code
	}
	targets, err := d.selectTargets(*provider)
	if err != nil {
		fmt.Fprintf(stderr, "jiralinkd: %v\n", err)
		return exitConfig
	}
	if err := d.openStore(); err != nil {
		fmt.Fprintf(stderr, "jiralinkd: %v\n", err)
		return exitFailed
	}
	defer d.close()

	var progress func(indexer.Progress)
	if isTerminal(stderr) {
		progress = func(p indexer.Progress) {
			fmt.Fprintf(stderr, "\r%s %s (%s): %d commits…", p.Provider, p.Repo, p.Branch, p.Commits)
		}
	}
	ix, err := d.newIndexer(*dryRun, stdout, progress)
	if err != nil {
		fmt.Fprintf(stderr, "jiralinkd: %v\n", err)
		return exitConfig
	}
	reports := runPass(ctx, ix, targets, *repo)
	if progress != nil {
		fmt.Fprint(stderr, "\r\033[K")
	}
	failed := printReports(stdout, reports, *dryRun)
	if failed > 0 || ctx.Err() != nil {
		return exitFailed
	}
	return exitOK
}

// runPass syncs every target concurrently (each provider has its own rate
// limit), repos of one provider one after another.
func runPass(ctx context.Context, ix *indexer.Indexer, targets []indexer.Target, onlyRepo string) []indexer.Report {
	reports := make([]indexer.Report, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reports[i] = ix.Sync(ctx, t, onlyRepo)
		}()
	}
	wg.Wait()
	return reports
}

// printReports writes one line per repo and a total; it returns the number
// of failures.
func printReports(w io.Writer, reports []indexer.Report, dryRun bool) int {
	failed := 0
	var commits, links, deleted int
	verb := "written"
	if dryRun {
		verb = "would write"
	}
	for _, r := range reports {
		if r.Err != nil {
			fmt.Fprintf(w, "FAIL %s: %v\n", r.Provider, r.Err)
		}
		for _, rr := range r.Repos {
			status := "ok  "
			if rr.Err != nil {
				status = "FAIL"
			}
			fmt.Fprintf(w, "%s %s %s: %d new commits, %d branches, %d pull requests, links %s %d, deleted %d (%s)",
				status, r.Provider, rr.Repo, rr.Commits, rr.Branches, rr.Pulls, verb, rr.LinksWritten, rr.LinksDeleted, rr.Duration.Round(time.Millisecond))
			if rr.Err != nil {
				fmt.Fprintf(w, ": %v", rr.Err)
			}
			fmt.Fprintln(w)
			commits += rr.Commits
			links += rr.LinksWritten
			deleted += rr.LinksDeleted
		}
		for _, name := range r.Removed {
			fmt.Fprintf(w, "gone %s %s: links removed\n", r.Provider, name)
		}
		failed += r.Failed()
	}
	fmt.Fprintf(w, "total: %d new commits, links %s %d, deleted %d, %d failed\n", commits, verb, links, deleted, failed)
	return failed
}

// isTerminal reports whether w is a terminal (progress is shown only there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}
