package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"

	"github.com/jiralinkd/jiralinkd/indexer/admin"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore"
	"github.com/jiralinkd/jiralinkd/indexer/status"
)

// stateProbeTimeout is how long status and explain wait for the state
// file's lock before concluding that a daemon holds it and asking the
// daemon instead.
const stateProbeTimeout = 200 * time.Millisecond

// errNoAdminToken means a daemon holds the state file and the configuration
// has no admin token to ask it with.
var errNoAdminToken = errors.New("serve is running and holds the state file; asking it needs the admin token: " +
	"set http.admin_token_env (or http.admin_token_file) in the configuration, as for serve")

// cmdStatus prints every provider and repo with its sync state: from the
// running daemon's admin API when serve holds the state file, else from
// the state file itself.
func cmdStatus(ctx context.Context, args []string, stdout, stderr io.Writer, env envFunc) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the status as JSON (as GET /api/v1/status)")
	d, code := setup(fs, args, stderr, env)
	if code != exitOK {
		return code
	}
	var snap status.Snapshot
	src, err := d.queryState(ctx, "/api/v1/status", &snap, func(st stateStore) error {
		var err error
		tr := newTracker(st, d.providerInfos(nil))
		if pg, ok := st.(*pgstore.Store); ok { // a shared state: its replicas too
			tr.Replicas = newRole(pg, "", nil).statusReplicas
		}
		snap, err = tr.Snapshot()
		return err
	})
	if err != nil {
		return queryFailed(stderr, err)
	}
	if *asJSON {
		return printJSON(stdout, stderr, snap)
	}
	printStatus(stdout, snap, src)
	return exitOK
}

// cmdExplain prints the links jiralinkd wrote on one issue and why.
func cmdExplain(ctx context.Context, args []string, stdout, stderr io.Writer, env envFunc) int {
	const use = "usage: jiralinkd explain [--config FILE] [--json] ISSUE-KEY"
	fs := flag.NewFlagSet("explain", flag.ContinueOnError)
	asJSON := fs.Bool("json", false, "print the links as JSON (as GET /api/v1/issues/KEY)")
	d, code := setup(fs, args, stderr, env)
	if code != exitOK {
		return code
	}
	key := admin.NormalizeIssueKey(strings.TrimSpace(d.args[0]))
	if !admin.ValidIssueKey(key) {
		fmt.Fprintf(stderr, "jiralinkd: %q is not an issue key (like PROJ-123)\n%s\n", d.args[0], use)
		return exitConfig
	}
	var e admin.Explanation
	src, err := d.queryState(ctx, "/api/v1/issues/"+url.PathEscape(key), &e, func(st stateStore) error {
		links, err := st.IssueLinks(key)
		if err != nil {
			return err
		}
		recs, err := st.Ledger().ByIssue(key)
		e = admin.Explain(key, links, recs...)
		if err != nil {
			return err
		}
		drops, err := routeDropsOf(st, key) // routes.go
		e.AddDrops(drops)
		return err
	})
	if err != nil {
		return queryFailed(stderr, err)
	}
	if *asJSON {
		return printJSON(stdout, stderr, e)
	}
	printExplanation(stdout, e, src)
	return exitOK
}

func queryFailed(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "jiralinkd: %v\n", err)
	if errors.Is(err, errNoAdminToken) {
		return exitConfig
	}
	return exitFailed
}

func printJSON(stdout, stderr io.Writer, v any) int {
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		fmt.Fprintf(stderr, "jiralinkd: %v\n", err)
		return exitFailed
	}
	return exitOK
}

// queryState reads from the state file with local when no daemon holds it; when
// one does (the file is locked), it asks the daemon's admin API for
// apiPath and decodes the answer into out. source says which it was.
func (d *deps) queryState(ctx context.Context, apiPath string, out any, local func(stateStore) error) (source string, err error) {
	if shared(d.cfg.State) { // every replica and the CLI read the database
		st, err := openState(ctx, d.cfg.State, nil)
		if err != nil {
			return "", err
		}
		defer st.Close()
		if err := local(st); err != nil {
			return "", fmt.Errorf("read the state: %w", err)
		}
		return "the postgres state", nil
	}
	path := d.cfg.State.Path
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		// Do not create it: status on a fresh machine must not leave a file.
		return "", fmt.Errorf("state file %s does not exist: nothing has been synced yet (run jiralinkd sync or serve)", path)
	}
	st, err := boltstore.Open(path, stateProbeTimeout)
	switch {
	case err == nil:
		defer st.Close()
		if err := local(st); err != nil {
			return "", fmt.Errorf("read state file %s: %w", path, err)
		}
		return "state file " + path, nil
	case !errors.Is(err, state.ErrLocked):
		return "", err
	}
	token := d.cfg.HTTP.AdminToken.Reveal()
	if token == "" {
		return "", errNoAdminToken
	}
	addr := dialAddr(d.cfg.HTTP.Listen)
	if err := getAdmin(ctx, "http://"+addr+apiPath, token, out); err != nil {
		return "", fmt.Errorf("the state file is locked by a running jiralinkd; asking it at %s: %w", addr, err)
	}
	return "the running daemon at " + addr, nil
}

// dialAddr turns a listen address into one to connect to: an unspecified
// host (":8080", "0.0.0.0:8080", "[::]:8080") means this machine.
func dialAddr(listen string) string {
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return listen
	}
	switch ip := net.ParseIP(host); {
	case host == "":
		host = "127.0.0.1"
	case ip != nil && ip.IsUnspecified():
		host = "127.0.0.1"
		if ip.To4() == nil {
			host = "::1"
		}
	}
	return net.JoinHostPort(host, port)
}

// getAdmin GETs an admin API URL with the token and decodes the JSON body.
func getAdmin(ctx context.Context, u, token string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Accept", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, 64<<20))
	if err != nil {
		return err
	}
	switch res.StatusCode {
	case http.StatusOK:
		if err := json.Unmarshal(body, out); err != nil {
			return fmt.Errorf("decode answer: %w", err)
		}
		return nil
	case http.StatusUnauthorized:
		return errors.New("it refused the admin token: is http.admin_token_* the same as serve's?")
	case http.StatusNotFound:
		return errors.New("its admin API is off (it was started without an admin token)")
	}
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return fmt.Errorf("%s: %s", res.Status, e.Error)
	}
	return errors.New(res.Status)
}

// printStatus writes the snapshot as two tables.
func printStatus(w io.Writer, s status.Snapshot, source string) {
	now := s.Time
	fmt.Fprintf(w, "jiralinkd %s · %s · from %s\n\n", oneLine(s.Version), s.Time.Format("2006-01-02 15:04:05 MST"), source)
	fmt.Fprintf(w, "Health: %s\n", strings.ToUpper(string(s.Health)))
	for _, p := range s.Problems {
		fmt.Fprintf(w, "  - %s\n", oneLine(p))
	}
	fmt.Fprintf(w, "Jira: %s\n\n", systemLine(s.Jira, now))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROVIDER\tTYPE\tSCHEDULE\tNEXT RUN\tSTATE\tLAST PASS\tOUTCOME\tRATE LIMIT\tWEBHOOK")
	for _, p := range s.Providers {
		st := "idle"
		if p.Running {
			st = "running"
		}
		if !p.PausedUntil.IsZero() {
			st += ", paused until " + p.PausedUntil.Format("15:04:05")
		}
		rl := "unknown"
		if p.RateLimit.Known {
			rl = fmt.Sprintf("%d/%d", p.RateLimit.Remaining, p.RateLimit.Limit)
			if !p.RateLimit.Reset.IsZero() {
				rl += ", resets " + p.RateLimit.Reset.Format("15:04:05")
			}
			if !p.RateLimit.SeenAt.IsZero() {
				rl += " (seen " + relTime(p.RateLimit.SeenAt, now, "-") + ")"
			}
		}
		hook := "off"
		if p.Webhook {
			hook = "on"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n", oneLine(p.Name), oneLine(p.Type), oneLine(p.Schedule),
			relTime(p.NextRun, now, "-"), st, relTime(p.LastPass, now, "-"), outcome(p.State), rl, hook)
	}
	_ = tw.Flush()
	for _, p := range s.Providers {
		switch {
		case p.LastError != "":
			fmt.Fprintf(w, "%s: %s\n", oneLine(p.Name), systemLine(p.System, now))
		case p.Token != nil:
			fmt.Fprintf(w, "%s: %s\n", oneLine(p.Name), tokenNote(p.Token, now))
		}
	}
	if len(s.Replicas) > 0 {
		fmt.Fprintln(w)
		fmt.Fprintln(tw, "REPLICA	ROLE	EPOCH	VERSION	HEARTBEAT")
		for _, r := range s.Replicas {
			role := "follower"
			if r.Leader {
				role = "leader"
			}
			fmt.Fprintf(tw, "%s\t%s\t%d\t%s\t%s\n", oneLine(r.ID), role, r.Epoch, oneLine(r.Version), relTime(r.Heartbeat, now, "-"))
		}
		_ = tw.Flush()
	}
	printBackfill(w, s.Backfill)
	fmt.Fprintf(w, "\nWebhook queue: %d\n", s.QueueDepth)
	if s.SmartCommitsFailed > 0 {
		fmt.Fprintf(w, "Smart commits failed: %d (jiralinkd explain ISSUE-KEY shows which and why)\n", s.SmartCommitsFailed)
	}
	fmt.Fprintln(w)
	if len(s.Repos) == 0 {
		fmt.Fprintln(w, "No repository has been synced yet.")
		return
	}
	fmt.Fprintln(tw, "PROVIDER\tREPO\tSTATE\tLAST SYNC\tLAST SUCCESS\tBRANCHES\tCOMMITS\tLINKS\tLAST ERROR")
	for _, r := range s.Repos {
		st := string(r.State)
		if r.Syncing {
			st = "syncing"
		}
		if r.Failures > 1 {
			st += fmt.Sprintf(" (%d in a row)", r.Failures)
		}
		msg := r.LastError
		if r.Hint != "" {
			msg += " — fix: " + r.Hint
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%d\t%d\t%s\n", oneLine(r.Provider), oneLine(r.FullName), oneLine(st),
			relTime(r.LastSync, now, "never"), relTime(r.LastSuccess, now, "never"), r.Branches, r.Commits, r.Links, oneLine(msg))
	}
	_ = tw.Flush()
}

// outcome is a system state as the status table shows it.
func outcome(s state.HealthState) string {
	switch s {
	case state.HealthOK:
		return "ok"
	case state.HealthFailed:
		return "FAILED"
	case state.HealthPartial:
		return "partly failed"
	}
	return "no pass yet"
}

// systemLine describes Jira's or a provider's last outcome on one line.
func systemLine(sys status.System, now time.Time) string {
	line := outcome(sys.State)
	if !sys.LastPass.IsZero() {
		line += ", last pass " + relTime(sys.LastPass, now, "-")
	}
	if sys.State != state.HealthOK && !sys.LastSuccess.IsZero() {
		line += ", last success " + relTime(sys.LastSuccess, now, "-")
	}
	if sys.LastError != "" {
		line += ": " + sys.LastError
		if sys.Failures > 1 {
			line += fmt.Sprintf(" (%d passes in a row)", sys.Failures)
		}
	}
	if sys.Hint != "" {
		line += " — fix: " + sys.Hint
	}
	if sys.Token != nil {
		line += "; " + tokenNote(sys.Token, now)
	}
	return oneLine(line)
}

// tokenNote says when a token expires.
func tokenNote(t *status.TokenExpiry, now time.Time) string {
	if t.Expires.After(now) {
		return fmt.Sprintf("token expires %s (%d days left)", t.Expires.UTC().Format(time.DateOnly), t.DaysLeft)
	}
	return "token expired on " + t.Expires.UTC().Format(time.DateOnly)
}

// printExplanation writes one block per link.
func printExplanation(w io.Writer, e admin.Explanation, source string) {
	defer printCommands(w, e.SmartCommits)
	defer printDrops(w, e.DroppedByRoute) // routes.go; printed before the commands
	switch len(e.Links) {
	case 0:
		fmt.Fprintf(w, "%s: jiralinkd has written no link (from %s).\n", e.Issue, source)
		return
	case 1:
		fmt.Fprintf(w, "%s: 1 link written by jiralinkd (from %s)\n", e.Issue, source)
	default:
		fmt.Fprintf(w, "%s: %d links written by jiralinkd (from %s)\n", e.Issue, len(e.Links), source)
	}
	for _, l := range e.Links {
		why := strings.Join(l.Sources, ", ")
		if why == "" {
			why = "unknown (written before jiralinkd recorded it)"
		}
		fmt.Fprintf(w, "\n%-7s %s\n", oneLine(l.Kind), oneLine(l.Repo))
		fmt.Fprintf(w, "        %s\n", oneLine(l.Title))
		fmt.Fprintf(w, "        %s\n", oneLine(l.URL))
		fmt.Fprintf(w, "        why: %s\n", oneLine(why))
		if !l.Written.IsZero() {
			fmt.Fprintf(w, "        written %s (%s)\n", l.Written.Format("2006-01-02 15:04:05 MST"), admin.Ago(l.Written, time.Now()))
		}
	}
}

// printCommands lists the smart-commit commands addressed to an issue.
func printCommands(w io.Writer, cmds []admin.ExplainedCommand) {
	if len(cmds) == 0 {
		return
	}
	fmt.Fprintf(w, "\nsmart commits (%d):\n", len(cmds))
	for _, c := range cmds {
		fmt.Fprintf(w, "  %-8s %s  (commit %.7s on %s/%s)\n", oneLine(c.State), oneLine(c.Command), c.Commit, oneLine(c.Repo), oneLine(c.Branch))
		if c.Error != "" {
			fmt.Fprintf(w, "           %s\n", oneLine(c.Error))
		}
	}
}

func relTime(t, now time.Time, ifZero string) string {
	if t.IsZero() {
		return ifZero
	}
	return admin.Ago(t, now)
}

// oneLine replaces control characters (newlines, tabs, terminal escapes) in
// text that came from providers, so one value stays on one line and cannot
// drive the terminal.
func oneLine(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
}
