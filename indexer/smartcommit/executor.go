package smartcommit

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/keys"
	"github.com/jiralinkd/jiralinkd/jiraclient"
)

// Defaults of Options.
const (
	DefaultMaxAttempts  = 5
	DefaultRetryBackoff = time.Minute
	maxRetryBackoff     = time.Hour
)

// Jira is what the Executor needs from Jira; *jiraclient.Client has it.
// AddComment, AddWorklog and DoTransition must not be retried blindly by
// the implementation (jiraclient sends them once): the Executor retries
// them itself, after checking with Comments, Worklogs or IssueStatus
// whether an earlier attempt took effect.
type Jira interface {
	AddComment(ctx context.Context, issue, body string) (id string, err error)
	Comments(ctx context.Context, issue string) ([]jiraclient.Comment, error)
	AddWorklog(ctx context.Context, issue string, d time.Duration, comment string, started time.Time) (id string, err error)
	Worklogs(ctx context.Context, issue string) ([]jiraclient.Worklog, error)
	Transitions(ctx context.Context, issue string) ([]jiraclient.Transition, error)
	DoTransition(ctx context.Context, issue, transitionID, comment string) error
	IssueStatus(ctx context.Context, issue string) (jiraclient.IssueStatus, error)
}

// CommitInfo is the commit a smart commit comes from.
type CommitInfo struct {
	Provider string    `json:"provider"` // provider name from the configuration
	Repo     string    `json:"repo"`     // owner/name
	Branch   string    `json:"branch"`
	SHA      string    `json:"sha"`
	URL      string    `json:"url"` // the commit's web URL
	Author   string    `json:"author"`
	Message  string    `json:"message,omitempty"`
	When     time.Time `json:"when"` // author date; the worklogs' start
	// Merge marks a commit with several parents. Merges are skipped: the
	// commits they merge carry the commands, and a merge message usually
	// repeats a pull request title that may repeat them too.
	Merge bool `json:"merge,omitempty"`
	// Allow, if set, says whether commands on an issue may run: the
	// repo's routes (providers[].routes). Commands on other issues are
	// skipped, as their links are.
	Allow func(issue string) bool `json:"-"`
}

// ResultStatus is the outcome of one command in one Handle or Retry call.
type ResultStatus string

// Result statuses.
const (
	StatusDone    ResultStatus = "done"    // carried out now
	StatusFailed  ResultStatus = "failed"  // failed for good now (recorded)
	StatusPending ResultStatus = "pending" // not done yet; will be retried
	StatusSkipped ResultStatus = "skipped" // handled before, or not for an existing issue
)

// Result is what happened to one command.
type Result struct {
	ID     string
	Issue  string
	Kind   CommandKind
	Status ResultStatus
	Error  string // why it failed, is pending or was skipped
	JiraID string // comment, worklog or transition id when done
}

// Options configures NewExecutor.
type Options struct {
	Jira   Jira          // required
	Ledger Ledger        // required
	Keys   *keys.Matcher // required: the matcher links are made with
	Units  Units         // zero: DefaultUnits
	// MaxAttempts bounds the attempts of a command failing with transient
	// errors (server errors, rate limits, network); default 5. Client
	// errors (no such transition, no permission) fail at the first.
	MaxAttempts int
	// RetryBackoff is the wait before the second attempt, doubling for
	// each further one up to an hour; default one minute. Attempts happen
	// in Handle and Retry calls, never in the background.
	RetryBackoff time.Duration
	// IssueExists, if set, filters commands to issues that exist (pass a
	// cached jiraclient.Client.ExistingIssues): "UTF-8 #ifdef" then costs
	// nothing and records nothing.
	IssueExists func(ctx context.Context, keys []string) (map[string]bool, error)
	Now         func() time.Time // default time.Now
	Logger      *slog.Logger     // nil discards
}

// Executor carries out smart commits exactly once per (commit, command).
// It is safe for concurrent use.
//
// Every command has the id provider/sha/index: the same commit seen again,
// on another branch or in a fork of the same provider, has the same ids
// and is not carried out again. Before anything is sent to Jira the
// commit's commands are in the ledger, and before each attempt the ledger
// counts it; an attempt that follows an earlier one (which may have
// reached Jira before a crash or a lost response) first looks for its
// effect: a comment or worklog carrying the command's marker, or the issue
// already in the status the transition leads to.
type Executor struct {
	jira        Jira
	ledger      Ledger
	keys        *keys.Matcher
	units       Units
	maxAttempts int
	backoff     time.Duration
	exists      func(context.Context, []string) (map[string]bool, error)
	now         func() time.Time
	logger      *slog.Logger

	mu   sync.Mutex
	busy map[string]chan struct{} // command ids being handled → closed when done
}

// NewExecutor returns an Executor.
func NewExecutor(opts Options) (*Executor, error) {
	if opts.Jira == nil || opts.Ledger == nil || opts.Keys == nil {
		return nil, errors.New("smartcommit: Options need Jira, Ledger and Keys")
	}
	u := opts.Units
	if u.HoursPerDay < 0 || u.HoursPerDay > 24 || u.DaysPerWeek < 0 || u.DaysPerWeek > 7 {
		return nil, fmt.Errorf("smartcommit: invalid time units: %g hours a day, %g days a week", u.HoursPerDay, u.DaysPerWeek)
	}
	e := &Executor{
		jira: opts.Jira, ledger: opts.Ledger, keys: opts.Keys, units: u.withDefaults(),
		maxAttempts: opts.MaxAttempts, backoff: opts.RetryBackoff, exists: opts.IssueExists,
		now: opts.Now, logger: opts.Logger, busy: map[string]chan struct{}{},
	}
	if e.maxAttempts <= 0 {
		e.maxAttempts = DefaultMaxAttempts
	}
	if e.backoff <= 0 {
		e.backoff = DefaultRetryBackoff
	}
	if e.now == nil {
		e.now = time.Now
	}
	if e.logger == nil {
		e.logger = slog.New(slog.DiscardHandler)
	}
	return e, nil
}

// CommandID is the ledger id of the command with the given index in a
// commit's message.
func CommandID(provider, sha string, index int) string {
	return provider + "/" + sha + "/" + strconv.Itoa(index)
}

// Handle carries out the smart commits of a commit. The caller decides
// which commits qualify (configured branches, first seen after smart
// commits were enabled, never a backfill); Handle skips merges and the
// messages git writes for reverts and cherry-picks (-x), whose commands
// belong to the original commit, and commands already handled.
//
// It returns an error, having sent nothing to Jira, only when the commands
// could not be recorded (the ledger failed, IssueExists failed, ctx
// ended); the caller should then offer the commit again later, for
// instance by not advancing its cursor. Otherwise every command is in the
// ledger and its Result says what happened; pending commands are retried
// by later Handle or Retry calls.
func (e *Executor) Handle(ctx context.Context, c CommitInfo) ([]Result, error) {
	if c.Provider == "" || c.SHA == "" {
		return nil, errors.New("smartcommit: a commit needs a provider and a SHA")
	}
	if c.Merge || generatedCopy(c.Message) {
		return nil, nil
	}
	cmds := ParseUnits(c.Message, e.keys, e.units)
	if len(cmds) == 0 {
		return nil, nil
	}
	results := make([]Result, len(cmds))
	run := make([]bool, len(cmds))
	for i := range run {
		run[i] = true
	}
	if e.exists != nil {
		var issues []string
		for _, cmd := range cmds {
			issues = appendUnique(issues, cmd.Issue)
		}
		ok, err := e.exists(ctx, issues)
		if err != nil {
			return nil, fmt.Errorf("smartcommit: checking the issues of %s: %w", shortSHA(c.SHA), err)
		}
		for i, cmd := range cmds {
			if !ok[cmd.Issue] {
				run[i] = false
				results[i] = Result{ID: CommandID(c.Provider, c.SHA, cmd.Index), Issue: cmd.Issue, Kind: cmd.Kind,
					Status: StatusSkipped, Error: "no such issue"}
			}
		}
	}
	if c.Allow != nil {
		for i, cmd := range cmds {
			if run[i] && !c.Allow(cmd.Issue) {
				run[i] = false
				results[i] = Result{ID: CommandID(c.Provider, c.SHA, cmd.Index), Issue: cmd.Issue, Kind: cmd.Kind,
					Status: StatusSkipped, Error: "dropped by a route"}
			}
		}
	}

	now := e.now()
	c.Message = ""
	var ids []string
	recs := make([]Record, len(cmds))
	for i, cmd := range cmds {
		if run[i] {
			recs[i] = newRecord(c, cmd, now)
			ids = append(ids, recs[i].ID)
		}
	}
	if len(ids) == 0 {
		return results, nil
	}
	release, err := e.claim(ctx, ids)
	if err != nil {
		return nil, err
	}
	defer release()

	fresh := make([]bool, len(cmds))
	var toPut []Record
	for i := range recs {
		if !run[i] {
			continue
		}
		old, ok, err := e.ledger.Get(recs[i].ID)
		if err != nil {
			return nil, err
		}
		if ok {
			recs[i] = old
			continue
		}
		fresh[i] = true
		toPut = append(toPut, recs[i])
	}
	if err := e.ledger.Put(toPut...); err != nil {
		return nil, err
	}
	for i := range recs {
		if run[i] {
			results[i] = e.step(ctx, recs[i], fresh[i])
		}
	}
	return results, nil
}

// Retry attempts again the pending commands whose backoff has passed, such
// as those that met a Jira outage or were interrupted by a crash. Call it
// once per pass. It returns what it attempted; the error is the ledger's
// or ctx's.
func (e *Executor) Retry(ctx context.Context) ([]Result, error) {
	recs, err := e.ledger.Pending()
	if err != nil {
		return nil, err
	}
	var results []Result
	for _, r := range recs {
		if err := ctx.Err(); err != nil {
			return results, err
		}
		if r.NextAttempt.After(e.now()) {
			continue
		}
		release, err := e.claim(ctx, []string{r.ID})
		if err != nil {
			return results, err
		}
		cur, ok, err := e.ledger.Get(r.ID)
		switch {
		case err != nil:
			release()
			return results, err
		case ok && cur.State == StatePending && !cur.NextAttempt.After(e.now()):
			results = append(results, e.step(ctx, cur, false))
		}
		release()
	}
	return results, nil
}

// Failures returns the commands of the issue ("" for every issue) that
// failed for good or whose last attempt failed and will be retried,
// oldest first, for status and explain.
func (e *Executor) Failures(issue string) ([]Record, error) {
	recs, err := e.ledger.ByIssue(issue)
	if err != nil {
		return nil, err
	}
	out := recs[:0]
	for _, r := range recs {
		if r.State == StateFailed || r.State == StatePending && r.Error != "" {
			out = append(out, r)
		}
	}
	return out, nil
}

// History returns every command recorded for the issue, oldest first.
func (e *Executor) History(issue string) ([]Record, error) {
	return e.ledger.ByIssue(issue)
}

// claim reserves command ids for the caller, waiting while another
// goroutine holds any of them; all or none are taken, so claims cannot
// deadlock. The release func frees them.
func (e *Executor) claim(ctx context.Context, ids []string) (func(), error) {
	for {
		e.mu.Lock()
		var wait chan struct{}
		for _, id := range ids {
			if ch, ok := e.busy[id]; ok {
				wait = ch
				break
			}
		}
		if wait == nil {
			ch := make(chan struct{})
			for _, id := range ids {
				e.busy[id] = ch
			}
			e.mu.Unlock()
			return func() {
				e.mu.Lock()
				for _, id := range ids {
					delete(e.busy, id)
				}
				e.mu.Unlock()
				close(ch)
			}, nil
		}
		e.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// newRecord is the ledger entry of a command not seen before.
func newRecord(c CommitInfo, cmd Command, now time.Time) Record {
	r := Record{
		ID: CommandID(c.Provider, c.SHA, cmd.Index), Index: cmd.Index, Issue: cmd.Issue, Kind: cmd.Kind,
		Command: cmd.String(), Text: cmd.Text, Duration: cmd.Duration, Transition: cmd.Transition,
		Commit: c, State: StatePending, Created: now, Updated: now,
	}
	if cmd.Err != nil {
		r.State, r.Error = StateFailed, cmd.Err.Error()
	}
	return r
}

// generatedCopy reports whether git wrote the message for a revert or a
// cherry-pick with -x.
func generatedCopy(msg string) bool {
	return strings.HasPrefix(msg, `Revert "`) && strings.Contains(msg, "\nThis reverts commit ") ||
		strings.Contains(msg, "(cherry picked from commit ")
}

func shortSHA(sha string) string {
	if len(sha) > 7 {
		return sha[:7]
	}
	return sha
}
