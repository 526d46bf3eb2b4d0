package smartcommit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/jiralinkd/jiralinkd/jiraclient"
)

// Transition matching errors; both are final.
var (
	ErrNoTransition        = errors.New("no such transition")
	ErrAmbiguousTransition = errors.New("ambiguous transition")
)

// errUnknownKind is a record of a kind this build does not know; final.
var errUnknownKind = errors.New("unknown command kind")

// maxCommentText bounds the commit text quoted in a comment; Jira's
// default limit for a text field is 32,767 characters.
const maxCommentText = 4000

// TransitionError says why a written transition matched none, or several,
// of the issue's transitions.
type TransitionError struct {
	Written   string
	Available []string // names of the transitions offered
	Matches   []string // names matched when ambiguous
}

func (e *TransitionError) Error() string {
	if len(e.Matches) > 1 {
		return fmt.Sprintf("transition %q is ambiguous: it matches %s", e.Written, strings.Join(e.Matches, ", "))
	}
	if len(e.Available) == 0 {
		return fmt.Sprintf("no transition %q: none is available to jiralinkd's user on this issue in its status", e.Written)
	}
	return fmt.Sprintf("no transition %q; available: %s", e.Written, strings.Join(e.Available, ", "))
}

// Is matches ErrAmbiguousTransition or ErrNoTransition.
func (e *TransitionError) Is(target error) bool {
	if len(e.Matches) > 1 {
		return target == ErrAmbiguousTransition
	}
	return target == ErrNoTransition
}

// MatchTransition picks the transition that written ("resolve-issue",
// "Resolve", "start") names among ts: case-insensitively, with any run of
// spaces or other characters that are neither letters nor digits written
// as one hyphen. A transition whose whole name matches wins; otherwise
// written may be the first words of exactly one transition's name
// ("#start" for Start Progress, unless Start Review is offered too).
// Several transitions with the same name and target count as one.
func MatchTransition(ts []jiraclient.Transition, written string) (jiraclient.Transition, error) {
	w := normalizeName(written)
	var exact, prefix []jiraclient.Transition
	var names []string
	for _, t := range ts {
		names = append(names, t.Name)
		n := normalizeName(t.Name)
		switch {
		case w == "":
		case n == w:
			exact = addTransition(exact, t)
		case strings.HasPrefix(n, w+"-"):
			prefix = addTransition(prefix, t)
		}
	}
	for _, set := range [][]jiraclient.Transition{exact, prefix} {
		switch len(set) {
		case 0:
			continue
		case 1:
			return set[0], nil
		}
		var matched []string
		for _, t := range set {
			matched = append(matched, fmt.Sprintf("%s (to %s)", t.Name, t.To.Name))
		}
		return jiraclient.Transition{}, &TransitionError{Written: written, Available: names, Matches: matched}
	}
	return jiraclient.Transition{}, &TransitionError{Written: written, Available: names}
}

// addTransition adds t unless one with the same name and target is there.
func addTransition(set []jiraclient.Transition, t jiraclient.Transition) []jiraclient.Transition {
	for _, have := range set {
		if have.To.ID == t.To.ID && normalizeName(have.Name) == normalizeName(t.Name) {
			return set
		}
	}
	return append(set, t)
}

func normalizeName(s string) string {
	var b strings.Builder
	hyphen := false
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			if hyphen && b.Len() > 0 {
				b.WriteByte('-')
			}
			hyphen = false
			b.WriteRune(unicode.ToLower(r))
			continue
		}
		hyphen = true
	}
	return b.String()
}

// step handles one recorded command: reports a final one, waits out a
// backoff, or attempts it. fresh says the record was created by this call.
func (e *Executor) step(ctx context.Context, r Record, fresh bool) Result {
	res := Result{ID: r.ID, Issue: r.Issue, Kind: r.Kind, Error: r.Error, JiraID: r.JiraID}
	switch {
	case r.State == StateDone:
		res.Status = StatusSkipped
		return res
	case r.State == StateFailed && fresh:
		e.logger.Warn("smart commit command failed", "id", r.ID, "issue", r.Issue, "command", r.Command, "error", r.Error)
		res.Status = StatusFailed
		return res
	case r.State == StateFailed:
		res.Status = StatusSkipped
		return res
	case r.NextAttempt.After(e.now()):
		res.Status = StatusPending
		return res
	}
	return e.attempt(ctx, r)
}

// attempt carries out a pending command once and records the outcome.
func (e *Executor) attempt(ctx context.Context, r Record) Result {
	res := Result{ID: r.ID, Issue: r.Issue, Kind: r.Kind, Status: StatusPending}
	earlier := r.Attempts > 0
	r.Attempts++
	r.Updated, r.NextAttempt = e.now(), time.Time{}
	if err := e.ledger.Put(r); err != nil {
		res.Error = "not attempted: " + err.Error()
		return res
	}

	id, err := e.perform(ctx, &r, earlier)
	r.Updated = e.now()
	switch {
	case err == nil:
		r.State, r.JiraID, r.Error = StateDone, id, ""
	case final(err):
		r.State, r.Error = StateFailed, err.Error()
	case r.Attempts >= e.maxAttempts:
		r.State, r.Error = StateFailed, fmt.Sprintf("gave up after %d attempts: %v", r.Attempts, err)
	default:
		r.Error = err.Error()
		r.NextAttempt = r.Updated.Add(e.backoffAfter(r.Attempts))
	}
	res.JiraID, res.Error = r.JiraID, r.Error
	if perr := e.ledger.Put(r); perr != nil {
		// The ledger still says pending, attempted: the next attempt
		// looks for this one's effect before doing anything.
		e.logger.Error("smart commit outcome not recorded", "id", r.ID, "state", r.State, "error", perr)
		res.Error = fmt.Sprintf("%s, but recording that failed: %v", r.State, perr)
		return res
	}
	log := e.logger.Info
	switch r.State {
	case StateDone:
		res.Status = StatusDone
	case StateFailed:
		res.Status, log = StatusFailed, e.logger.Warn
	default:
		log = e.logger.Warn
	}
	log("smart commit command "+string(r.State), "id", r.ID, "issue", r.Issue, "command", r.Command,
		"attempt", r.Attempts, "jira_id", r.JiraID, "error", r.Error)
	return res
}

// backoffAfter is the wait after the n-th failed attempt.
func (e *Executor) backoffAfter(n int) time.Duration {
	d := e.backoff
	for i := 1; i < n && d < maxRetryBackoff; i++ {
		d *= 2
	}
	return min(d, maxRetryBackoff)
}

// final reports whether err will not go away by itself: the request or
// the command is wrong, or permission is missing. Unauthorized counts as
// transient, since it is jiralinkd's credentials that need fixing, not
// the command.
func final(err error) bool {
	if errors.Is(err, ErrNoTransition) || errors.Is(err, ErrAmbiguousTransition) ||
		errors.Is(err, errUnknownKind) || errors.Is(err, jiraclient.ErrInvalidIssueKey) {
		return true
	}
	var je *jiraclient.Error
	if errors.As(err, &je) {
		switch je.Status {
		case http.StatusUnauthorized, http.StatusRequestTimeout, http.StatusConflict, http.StatusTooManyRequests:
			return false
		}
		return je.Status >= 400 && je.Status < 500
	}
	// Checks jiraclient makes before sending anything.
	return errors.Is(err, jiraclient.ErrBadRequest)
}

// perform sends the command to Jira. earlier says an earlier attempt may
// have reached Jira, so its effect is looked for first.
//
// A write whose failure leaves its effect unknown (jiraclient.Uncertain: a
// 500, a lost answer) is resolved in the same attempt: its effect is looked
// for at once, through reads the retry transport repeats after server
// errors, and if it is there the command is done. If it is not, the
// write's error stands and the command waits for its backoff, as after any
// other failure; the next attempt looks again before writing.
func (e *Executor) perform(ctx context.Context, r *Record, earlier bool) (string, error) {
	switch r.Kind {
	case KindComment:
		if earlier {
			if id, found, err := e.findComment(ctx, r); err != nil || found {
				return id, err
			}
		}
		id, err := e.jira.AddComment(ctx, r.Issue, body(*r, r.Text))
		if jiraclient.Uncertain(err) {
			if fid, found, ferr := e.findComment(ctx, r); ferr == nil && found {
				return fid, nil
			}
		}
		return id, err
	case KindTime:
		if earlier {
			if id, found, err := e.findWorklog(ctx, r); err != nil || found {
				return id, err
			}
		}
		started := r.Commit.When
		if started.IsZero() {
			started = r.Created
		}
		id, err := e.jira.AddWorklog(ctx, r.Issue, r.Duration, body(*r, r.Text), started)
		if jiraclient.Uncertain(err) {
			if fid, found, ferr := e.findWorklog(ctx, r); ferr == nil && found {
				return fid, nil
			}
		}
		return id, err
	case KindTransition:
		return e.transition(ctx, r, earlier)
	}
	return "", fmt.Errorf("%w %q", errUnknownKind, r.Kind)
}

// findComment looks for the comment carrying r's marker.
func (e *Executor) findComment(ctx context.Context, r *Record) (id string, found bool, err error) {
	cs, err := e.jira.Comments(ctx, r.Issue)
	if err != nil {
		return "", false, err
	}
	for _, c := range cs {
		if strings.Contains(c.Body, marker(r.ID)) {
			return c.ID, true, nil
		}
	}
	return "", false, nil
}

// findWorklog looks for the worklog carrying r's marker.
func (e *Executor) findWorklog(ctx context.Context, r *Record) (id string, found bool, err error) {
	ws, err := e.jira.Worklogs(ctx, r.Issue)
	if err != nil {
		return "", false, err
	}
	for _, w := range ws {
		if strings.Contains(w.Comment, marker(r.ID)) {
			return w.ID, true, nil
		}
	}
	return "", false, nil
}

// transition performs a transition command. The target status is recorded
// before the transition is sent, so that a later attempt recognises it as
// done: transitions carry no marker.
func (e *Executor) transition(ctx context.Context, r *Record, earlier bool) (string, error) {
	if earlier && r.Target != "" {
		st, err := e.jira.IssueStatus(ctx, r.Issue)
		if err != nil {
			return "", err
		}
		if st.ID == r.Target {
			return r.JiraID, nil
		}
	}
	ts, err := e.jira.Transitions(ctx, r.Issue)
	if err != nil {
		return "", err
	}
	t, err := MatchTransition(ts, r.Transition)
	if err != nil {
		return "", err
	}
	if r.Target != t.To.ID || r.JiraID != t.ID {
		r.Target, r.JiraID = t.To.ID, t.ID
		if err := e.ledger.Put(*r); err != nil {
			return "", fmt.Errorf("recording the transition's target: %w", err)
		}
	}
	comment := ""
	if r.Text != "" {
		comment = body(*r, r.Text)
	}
	err = e.jira.DoTransition(ctx, r.Issue, t.ID, comment)
	if errors.Is(err, jiraclient.ErrBadRequest) || jiraclient.Uncertain(err) {
		// No longer valid, or its outcome unknown: maybe because it just
		// happened (a response lost on the way, a failure after the
		// commit, or someone else was quicker).
		if st, serr := e.jira.IssueStatus(ctx, r.Issue); serr == nil && st.ID == t.To.ID {
			return t.ID, nil
		}
	}
	return t.ID, err
}

// marker identifies a command in the comments and worklogs it writes.
func marker(id string) string { return "(jiralinkd:" + id + ")" }

// body is the text of a comment, worklog comment or transition comment:
//
//	{author} committed {shortsha} on {repo}/{branch}: {text}
//	{commit url} (jiralinkd:{id})
func body(r Record, text string) string {
	author := r.Commit.Author
	if author == "" {
		author = "Someone"
	}
	where := r.Commit.Repo
	if r.Commit.Branch != "" {
		where += "/" + r.Commit.Branch
	}
	first := fmt.Sprintf("%s committed %s on %s", author, shortSHA(r.Commit.SHA), where)
	if text = strings.TrimSpace(text); text != "" {
		if utf8.RuneCountInString(text) > maxCommentText {
			text = string([]rune(text)[:maxCommentText]) + "…"
		}
		first += ": " + text
	}
	return first + "\n" + strings.TrimSpace(r.Commit.URL+" "+marker(r.ID))
}
