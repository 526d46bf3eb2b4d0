package jirascan

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/jiraclient"
)

// ActionReport counts the actions a pass attempted, by outcome.
type ActionReport struct {
	Done, Failed, Pending int
}

func (r *ActionReport) count(a state.FindingAction) {
	switch a.State {
	case state.ActionDone:
		r.Done++
	case state.ActionFailed:
		r.Failed++
	default:
		r.Pending++
	}
}

// startActions records the configured actions of new findings in the
// ledger (pending), then carries them out. Recording first is what makes
// the comment exactly-once: after a crash the pending entry says an
// attempt may have reached Jira, and the next attempt looks for the
// comment's marker before writing.
func (s *Scanner) startActions(ctx context.Context, fs []state.Finding, reporter string) error {
	var recs []state.FindingAction
	now := s.now()
	for _, f := range fs {
		for _, kind := range s.opts.Actions {
			id := state.FindingActionID(f.ID, kind)
			if old, ok, err := s.opts.Store.FindingAction(id); err != nil {
				return err
			} else if ok && old.State != state.ActionFailed {
				// Done once (a reopened finding is not commented on again)
				// or still pending: retryActions owns it.
				if kind != ActionMask || old.State == state.ActionPending {
					continue
				}
			}
			recs = append(recs, state.FindingAction{ID: id, FindingID: f.ID, Issue: f.Issue, Kind: kind,
				State: state.ActionPending, Created: now, Updated: now})
		}
	}
	if err := s.opts.Store.PutFindingActions(recs...); err != nil {
		return err
	}
	for i := range recs {
		if err := s.attempt(ctx, &recs[i], reporter); err != nil {
			return err
		}
	}
	return nil
}

// retryActions carries out the pending actions of earlier passes.
func (s *Scanner) retryActions(ctx context.Context) ActionReport {
	var rep ActionReport
	pending, err := s.opts.Store.FindingActions(state.ActionPending)
	if err != nil {
		s.log.Error("secret scan: reading pending actions", "err", err)
		return rep
	}
	for i := range pending {
		if ctx.Err() != nil {
			break
		}
		if err := s.attempt(ctx, &pending[i], ""); err != nil {
			s.log.Error("secret scan: recording an action", "err", err)
			break
		}
		rep.count(pending[i])
	}
	return rep
}

// attempt carries out one action and records the outcome. Only a failure
// to record is returned; Jira's errors are recorded in the entry (final
// ones fail it, others leave it pending for the next pass).
func (s *Scanner) attempt(ctx context.Context, a *state.FindingAction, reporter string) error {
	earlier := a.Attempts > 0
	a.Attempts++
	a.Updated = s.now()
	if err := s.opts.Store.PutFindingActions(*a); err != nil {
		return err
	}
	id, err := s.perform(ctx, a, reporter, earlier)
	a.Updated = s.now()
	switch {
	case err == nil:
		a.State, a.JiraID, a.Error = state.ActionDone, id, ""
	case final(err):
		a.State, a.Error = state.ActionFailed, err.Error()
	default:
		a.Error = err.Error()
	}
	if err != nil {
		s.log.Warn("secret scan: action failed", "issue", a.Issue, "action", a.Kind, "final", a.State == state.ActionFailed, "err", err)
	}
	return s.opts.Store.PutFindingActions(*a)
}

// errFindingGone is the error of an action whose finding is no longer
// recorded.
var errFindingGone = errors.New("finding no longer recorded")

func (s *Scanner) perform(ctx context.Context, a *state.FindingAction, reporter string, earlier bool) (string, error) {
	f, err := s.finding(a)
	if err != nil {
		return "", err
	}
	switch a.Kind {
	case ActionComment:
		if earlier {
			if id, found, err := s.findComment(ctx, a); err != nil || found {
				return id, err
			}
		}
		id, err := s.opts.Jira.AddComment(ctx, a.Issue, commentBody(f, reporter, marker(a.ID)))
		if jiraclient.Uncertain(err) {
			if fid, found, ferr := s.findComment(ctx, a); ferr == nil && found {
				return fid, nil
			}
		}
		return id, err
	case ActionLabel:
		return "", s.opts.Jira.AddLabel(ctx, a.Issue, s.opts.Label)
	case ActionMask:
		return "", s.mask(ctx, f)
	}
	return "", fmt.Errorf("%w: unknown action %q", ErrBadOptions, a.Kind)
}

// finding reads the finding an action is about.
func (s *Scanner) finding(a *state.FindingAction) (state.Finding, error) {
	fs, err := s.opts.Store.Findings(state.FindingFilter{Issue: a.Issue})
	if err != nil {
		return state.Finding{}, err
	}
	for _, f := range fs {
		if f.ID == a.FindingID {
			return f, nil
		}
	}
	return state.Finding{}, errFindingGone
}

// markerPrefix starts the marker of every comment jiralinkd writes about
// a finding.
const markerPrefix = "(jiralinkd-secret:"

// marker identifies the comment of an action (a hash of its id, which
// holds the fingerprint: the marker must not let anyone test guesses).
func marker(actionID string) string {
	h := sha256.Sum256([]byte(actionID))
	return markerPrefix + hex.EncodeToString(h[:8]) + ")"
}

// ownComment reports whether a comment is one jiralinkd wrote about a
// finding. Those are not scanned: they quote no secret by construction,
// and their random-looking marker could otherwise pass for a credential
// assignment ("secret:<hex>") and start a loop of comments.
func ownComment(body string) bool { return strings.Contains(body, markerPrefix) }

// commentBody tells the reporter to rotate the credential. It names the
// kind of secret and where it is, never the secret or its preview.
func commentBody(f state.Finding, reporter, mark string) string {
	who := "The reporter"
	if reporter != "" {
		who = "[~" + reporter + "]"
	}
	where := "the " + f.Field
	if f.CommentID != "" {
		where = "comment " + f.CommentID
	}
	return fmt.Sprintf("jiralinkd found what looks like a credential (%s) in %s of this issue.\n"+
		"%s, please treat it as leaked: revoke or rotate it now, then remove it from the issue. "+
		"Editing the text is not enough on its own: Jira keeps earlier versions in the issue history. %s",
		f.Rule, where, who, mark)
}

// findComment looks for the action's comment, a page at a time.
func (s *Scanner) findComment(ctx context.Context, a *state.FindingAction) (string, bool, error) {
	mark := marker(a.ID)
	for start := 0; start < s.opts.MaxComments; {
		page, err := s.opts.Jira.CommentsPage(ctx, a.Issue, start, s.opts.CommentPageSize)
		if err != nil {
			return "", false, err
		}
		for _, c := range page.Comments {
			if strings.Contains(c.Body, mark) {
				return c.ID, true, nil
			}
		}
		start = page.StartAt + len(page.Comments)
		if len(page.Comments) == 0 || start >= page.Total {
			break
		}
	}
	return "", false, nil
}

// mask replaces the finding's secret, wherever it still is in its field
// or comment, with RemovedMarker. It reads the current text from Jira and
// finds the secret again by its fingerprint (the secret is not stored), so
// it is idempotent: a secret already gone leaves nothing to do.
func (s *Scanner) mask(ctx context.Context, f state.Finding) error {
	fps := map[string]bool{f.Fingerprint: true}
	if f.CommentID != "" {
		c, found, err := s.findCommentByID(ctx, f.Issue, f.CommentID)
		if err != nil || !found {
			return err
		}
		text, n := s.det.maskedText(c.Body, fps)
		if n == 0 {
			return nil
		}
		return s.opts.Jira.UpdateComment(ctx, f.Issue, f.CommentID, text)
	}
	is, err := s.opts.Jira.Issue(ctx, f.Issue, []string{f.Field})
	if err != nil {
		return err
	}
	var cur string
	if raw, ok := is.Fields[f.Field]; ok {
		if err := jsonString(raw, &cur); err != nil {
			return nil // no longer text: nothing to mask
		}
	}
	text, n := s.det.maskedText(cur, fps)
	if n == 0 {
		return nil
	}
	return s.opts.Jira.EditIssue(ctx, f.Issue, map[string]any{f.Field: text}, nil)
}

// findCommentByID finds one comment of an issue.
func (s *Scanner) findCommentByID(ctx context.Context, issue, id string) (jiraclient.Comment, bool, error) {
	for start := 0; start < s.opts.MaxComments; {
		page, err := s.opts.Jira.CommentsPage(ctx, issue, start, s.opts.CommentPageSize)
		if err != nil {
			return jiraclient.Comment{}, false, err
		}
		for _, c := range page.Comments {
			if c.ID == id {
				return c, true, nil
			}
		}
		start = page.StartAt + len(page.Comments)
		if len(page.Comments) == 0 || start >= page.Total {
			break
		}
	}
	return jiraclient.Comment{}, false, nil
}

// final reports whether an action's error will not go away by retrying:
// Jira refused the request (permission, validation, missing issue).
func final(err error) bool {
	if errors.Is(err, errFindingGone) || errors.Is(err, jiraclient.ErrInvalidIssueKey) {
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
	return false
}
