package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/url"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/jiralinkd/jiralinkd/indexer/admin"
	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// Findings and ScanCursors serve the admin API's and status page's
// Findings view (admin.FindingsSource) from the state backend.
func (b *backend) Findings(q state.FindingFilter) ([]state.Finding, error) {
	fs, err := findingsStore(b.store)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", admin.ErrScanOff, err)
	}
	return fs.Findings(q)
}

// ScanCursors is the scan progress of every project.
func (b *backend) ScanCursors() ([]state.ScanCursor, error) {
	fs, err := findingsStore(b.store)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", admin.ErrScanOff, err)
	}
	return fs.ScanCursors()
}

// cmdFindings prints the secrets found in Jira (never a secret: the
// masked preview and fingerprint of each), from the running daemon when
// serve holds the state file, else from the state file.
func cmdFindings(ctx context.Context, args []string, stdout, stderr io.Writer, env envFunc) int {
	fs := flag.NewFlagSet("findings", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the findings as JSON (as GET /api/v1/findings)")
	project := fs.String("project", "", "only this Jira project")
	issue := fs.String("issue", "", "only this issue")
	st := fs.String("state", "open", "open, resolved or all")
	limit := fs.Int("limit", 0, "at most this many findings (default and maximum 5000)")
	d, code := setup(fs, args, stderr, env)
	if code != exitOK {
		return code
	}
	q := url.Values{}
	filter := state.FindingFilter{Project: strings.ToUpper(*project), Issue: admin.NormalizeIssueKey(*issue), Limit: *limit}
	switch *st {
	case "open", "":
		filter.State = state.FindingOpen
	case "resolved":
		filter.State = state.FindingResolved
	case "all":
	default:
		fmt.Fprintf(stderr, "jiralinkd: --state %q: want open, resolved or all\n", *st)
		return exitConfig
	}
	q.Set("state", *st)
	if filter.Project != "" {
		q.Set("project", filter.Project)
	}
	if filter.Issue != "" {
		q.Set("issue", filter.Issue)
	}
	if *limit > 0 {
		q.Set("limit", strconv.Itoa(*limit))
	}
	var rep admin.FindingsReport
	src, err := d.queryState(ctx, "/api/v1/findings?"+q.Encode(), &rep, func(ss stateStore) error {
		store, err := findingsStore(ss)
		if err != nil {
			return err
		}
		rep, err = admin.BuildFindingsReport(store, filter)
		return err
	})
	if err != nil {
		return queryFailed(stderr, err)
	}
	if *asJSON {
		return printJSON(stdout, stderr, rep)
	}
	printFindings(stdout, rep, src, d.cfg.Jira.SecretScan != nil)
	return exitOK
}

func printFindings(w io.Writer, rep admin.FindingsReport, src string, enabled bool) {
	fmt.Fprintf(w, "Jira secret findings (from %s)\n", src)
	if !enabled {
		fmt.Fprintln(w, "Secret scanning is off in this configuration (jira.secret_scan.enabled).")
	}
	if len(rep.Projects) > 0 {
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "\nPROJECT\tHISTORICAL SCAN\tOPEN\tRESOLVED\tSKIPPED\tLAST ERROR")
		for _, p := range rep.Projects {
			hist := fmt.Sprintf("%d/%d", p.Scanned, p.Total)
			if p.HistoricalDone {
				hist = fmt.Sprintf("done (%d issues)", p.Scanned)
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", p.Project, hist, p.Open, p.Resolved, p.Skipped, cell(p.LastError))
		}
		tw.Flush()
	}
	if len(rep.Findings) == 0 {
		fmt.Fprintln(w, "\nNo findings.")
		return
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nISSUE\tWHERE\tRULE\tPREVIEW\tSTATE\tFIRST SEEN\tLAST SEEN")
	for _, f := range rep.Findings {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\n", f.Issue, oneLine(f.Location), f.Rule, oneLine(f.Preview), f.State,
			f.FirstSeen.UTC().Format("2006-01-02 15:04"), f.LastSeen.UTC().Format("2006-01-02 15:04"))
	}
	tw.Flush()
	if rep.Truncated {
		fmt.Fprintln(w, "(list truncated: narrow it with --project or --issue)")
	}
}

// cell shortens an error for a table cell, on one line.
func cell(s string) string {
	s = oneLine(s)
	if len(s) > 80 {
		s = s[:77] + "..."
	}
	if s == "" {
		return "-"
	}
	return s
}
