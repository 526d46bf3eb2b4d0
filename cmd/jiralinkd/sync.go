package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/state"
)

func cmdSync(ctx context.Context, args []string, stdout, stderr io.Writer, env envFunc) int {
	fs := flag.NewFlagSet("sync", flag.ContinueOnError)
	provider := fs.String("provider", "", "sync only this provider")
	repo := fs.String("repo", "", "sync only this repository (owner/name)")
	dryRun := fs.Bool("dry-run", false, "print the links that would be written; write nothing")
	full := fs.Bool("full", false, "read every repository's lists (a full sweep), even if providers[].full_sweep_interval has not passed")
	d, code := setup(fs, args, stderr, env)
	if code != exitOK {
		return code
	}
	targets, err := d.selectTargets(*provider)
	if err == nil && *repo != "" {
		targets, err = targetsForRepo(targets, *repo)
	}
	if err != nil {
		fmt.Fprintf(stderr, "jiralinkd: %v\n", err)
		return exitConfig
	}
	open := d.openStore
	if *dryRun {
		open = d.openStoreReadOnly
	}
	if err := open(); err != nil {
		fmt.Fprintf(stderr, "jiralinkd: %v\n", err)
		return exitFailed
	}
	defer d.close()
	// Once interrupted, the repos' errors are the interruption's echo.
	d.log = slog.New(&interruptedHandler{Handler: d.log.Handler(), ctx: ctx})

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
	reports := runPass(ctx, ix, targets, indexer.PassOptions{OnlyRepo: *repo, Full: *full})
	if progress != nil {
		fmt.Fprint(stderr, "\r\033[K")
	}
	failed := printReports(stdout, reports, *dryRun)
	if code, interrupted := interruptedExit(ctx); interrupted {
		fmt.Fprintln(stderr, "jiralinkd: interrupted; rerun to resume")
		return code
	}
	if failed > 0 {
		return exitFailed
	}
	return exitOK
}

// targetsForRepo narrows targets to those that may hold repo (--repo): the
// ones listing it among their repos/projects, else the ones with an
// org/group it lies under (discovery then decides whether it exists). A
// repo no selected provider is configured for is a usage error.
func targetsForRepo(targets []indexer.Target, repo string) ([]indexer.Target, error) {
	var listed, owned []indexer.Target
	for _, t := range targets {
		if slices.ContainsFunc(t.Repos, func(r string) bool { return strings.EqualFold(r, repo) }) {
			listed = append(listed, t)
			continue
		}
		if slices.ContainsFunc(t.Owners, func(o string) bool {
			return len(repo) > len(o)+1 && strings.EqualFold(repo[:len(o)+1], o+"/")
		}) {
			owned = append(owned, t)
		}
	}
	switch {
	case len(listed) > 0:
		return listed, nil
	case len(owned) > 0:
		return owned, nil
	}
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}
	return nil, fmt.Errorf("--repo %s: not configured: it is neither listed in the repos/projects nor under the orgs/groups of provider %s",
		repo, strings.Join(names, ", "))
}

// interruptedHandler logs an error record of a cancelled pass at debug
// level: once ctx is done, the repos that fail do so because of the
// interruption, which sync reports once.
type interruptedHandler struct {
	slog.Handler
	ctx context.Context
}

func (h *interruptedHandler) Handle(ctx context.Context, r slog.Record) error {
	if r.Level >= slog.LevelError && h.ctx.Err() != nil && recordCancelled(r) {
		if !h.Handler.Enabled(ctx, slog.LevelDebug) {
			return nil
		}
		r = r.Clone()
		r.Level = slog.LevelDebug
	}
	return h.Handler.Handle(ctx, r)
}

func (h *interruptedHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &interruptedHandler{Handler: h.Handler.WithAttrs(as), ctx: h.ctx}
}

func (h *interruptedHandler) WithGroup(name string) slog.Handler {
	return &interruptedHandler{Handler: h.Handler.WithGroup(name), ctx: h.ctx}
}

// recordCancelled reports whether a record carries an error caused by
// context cancellation.
func recordCancelled(r slog.Record) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		if err, ok := a.Value.Any().(error); ok && cancelled(err) {
			found = true
		}
		return !found
	})
	return found
}

// cancelled reports whether err stems from a cancelled context (an
// interruption; a timeout is a failure) or a fenced write (the repo's
// lock was taken over by another process, which carries on).
func cancelled(err error) bool { return indexer.Classify(err) == indexer.FailureInterrupted }

// runPass syncs every target concurrently (each provider has its own rate
// limit), repos of one provider one after another.
func runPass(ctx context.Context, ix *indexer.Indexer, targets []indexer.Target, o indexer.PassOptions) []indexer.Report {
	reports := make([]indexer.Report, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			reports[i] = ix.Pass(ctx, t, o)
		}()
	}
	wg.Wait()
	return reports
}

// printReports writes one line per repo and a total; it returns the number
// of failures, not counting the repos an interruption stopped.
func printReports(w io.Writer, reports []indexer.Report, dryRun bool) int {
	failed, stopped := 0, 0
	var commits, links, deleted int
	verb := "written"
	if dryRun {
		verb = "would write"
	}
	for _, r := range reports {
		if r.Err != nil && !cancelled(r.Err) {
			fmt.Fprintf(w, "FAIL %s: %v\n", r.Provider, r.Err)
			printFix(w, r.Hint)
		}
		for _, rr := range r.Repos {
			status := "ok  "
			switch {
			case cancelled(rr.Err):
				status = "stop" // interrupted (or taken over: fenced); the next pass resumes it
			case rr.Err != nil:
				status = "FAIL"
			}
			fmt.Fprintf(w, "%s %s %s: %d new commits, %d branches, %d pull requests, links %s %d, deleted %d (%s)",
				status, r.Provider, rr.Repo, rr.Commits, rr.Branches, rr.Pulls, verb, rr.LinksWritten, rr.LinksDeleted, rr.Duration.Round(time.Millisecond))
			if rr.Err != nil && (!cancelled(rr.Err) || errors.Is(rr.Err, state.ErrFenced)) {
				fmt.Fprintf(w, ": %v", rr.Err) // a takeover is not the user's doing: say so
			}
			fmt.Fprintln(w)
			if !cancelled(rr.Err) {
				printFix(w, rr.Hint)
			}
			commits += rr.Commits
			links += rr.LinksWritten
			deleted += rr.LinksDeleted
		}
		if r.Err == nil && r.Unchanged > 0 {
			noun := "repositories"
			if r.Unchanged == 1 {
				noun = "repository"
			}
			fmt.Fprintf(w, "ok   %s: %d %s unchanged since the last pass (next full sweep per full_sweep_interval, or sync --full)\n", r.Provider, r.Unchanged, noun)
		}
		for _, name := range r.Removed {
			fmt.Fprintf(w, "gone %s %s: links removed\n", r.Provider, name)
		}
		failed += r.Failed()
		stopped += r.Stopped()
	}
	failed -= stopped
	fmt.Fprintf(w, "total: %d new commits, links %s %d, deleted %d, %d failed", commits, verb, links, deleted, failed)
	if stopped > 0 {
		fmt.Fprintf(w, ", %d interrupted", stopped)
	}
	fmt.Fprintln(w)
	return failed
}

// printFix prints the setting to fix under a failure, if one is known.
func printFix(w io.Writer, hint string) {
	if hint != "" {
		fmt.Fprintf(w, "     fix: %s\n", hint)
	}
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
