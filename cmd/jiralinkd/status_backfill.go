package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/status"
)

// backfillReposShown bounds the running repos `status` lists (the API and
// the page have them all).
const backfillReposShown = 20

// printBackfill prints the running backfills: overall, per provider, and
// the repos being backfilled.
func printBackfill(w io.Writer, b *status.Backfill) {
	if b == nil {
		return
	}
	o := b.Overall
	fmt.Fprintf(w, "\nBackfill: %s %.0f%% · %d of about %d commits walked%s (default branches; %d listed on all) · ETA %s\n",
		bar(o.Percent, 20), o.Percent, o.Walked, o.Walked+o.Remaining, unsizedNote(o.Unsized), o.Listed, etaText(o))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tREPOS RUNNING/QUEUED/DONE\tWALKED\tREMAINING\tLISTED\tLINKS\tCALLS SPENT\tCALLS LEFT\tETA")
	for _, p := range b.Providers {
		left := "unknown"
		if p.CallsLeft >= 0 {
			left = fmt.Sprint(p.CallsLeft)
		}
		fmt.Fprintf(tw, "%s\t%d/%d/%d\t%d\t%d%s\t%d\t%d\t%d\t%s\t%s\n", oneLine(p.Provider), p.Running, p.Queued, p.Done,
			p.Walked, p.Remaining, unsizedNote(p.Unsized), p.Listed, p.Links, p.Calls, left, etaText(p))
	}
	_ = tw.Flush()
	shown := 0
	for _, r := range b.Repos {
		if !r.Done.IsZero() {
			continue
		}
		if shown == 0 {
			fmt.Fprintln(tw, "PROVIDER\tBACKFILLING\tPROGRESS\tWALKED\tESTIMATE\tLISTED\tPAGES\tLINKS\tCALLS\tETA")
		}
		if shown++; shown > backfillReposShown {
			fmt.Fprintf(tw, "…\t(status --json lists them all)\n")
			break
		}
		eta := "unknown"
		if r.ETAKnown {
			eta = r.ETA.Round(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%s\t%s %.0f%%\t%d\t%d (%s)\t%d\t%d\t%d\t%d\t%s\n", oneLine(r.Provider), oneLine(r.FullName),
			bar(r.Percent, 10), r.Percent, r.Walked, r.Estimate, r.EstimateSource, r.Listed, r.Pages, r.Links, r.Calls, eta)
	}
	_ = tw.Flush()
}

// bar draws a progress bar of width cells.
func bar(percent float64, width int) string {
	n := int(percent / 100 * float64(width))
	n = min(max(n, 0), width)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}

func unsizedNote(unsized bool) string {
	if unsized {
		return " + unsized queued repos"
	}
	return ""
}

// etaText is an ETA with its finishing time, or "unknown".
func etaText(t status.BackfillTotals) string {
	if !t.ETAKnown {
		return "unknown (no rate observed yet)"
	}
	return fmt.Sprintf("%s (about %s)", t.ETA.Round(time.Second), t.FinishAt.Format("2006-01-02 15:04 MST"))
}
