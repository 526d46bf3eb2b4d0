package indexer

import (
	"context"
	"errors"
	"fmt"
	"net"
	"syscall"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/providers"
	"github.com/jiralinkd/jiralinkd/providers/httpx"
)

// FailureKind classifies why something failed, so that every view can say
// what to fix in plain words instead of showing a stack of HTTP errors.
type FailureKind string

// Failure kinds.
const (
	FailureTokenRejected FailureKind = "token_rejected" // 401: wrong, expired or revoked credentials
	FailureForbidden     FailureKind = "forbidden"      // 403: the account lacks a permission
	FailureUnreachable   FailureKind = "unreachable"    // DNS, refused connection, timeout
	FailureRateLimited   FailureKind = "rate_limited"   // the budget outlived the retries
	FailureServer        FailureKind = "server_error"   // 5xx after retries
	FailureNotFound      FailureKind = "not_found"      // a configured repo or org is gone or invisible
	FailureInterrupted   FailureKind = "interrupted"    // shutdown, Ctrl-C, or the leadership lost (a fenced write)
	FailureOther         FailureKind = "error"
)

// Hinter names the setting an administrator should look at for a failure of
// system (JiraSystem or a provider name), e.g. "jira.token_env (JIRA_TOKEN)".
// It returns "" when it has nothing better to say than the error.
type Hinter func(system string, kind FailureKind) string

// JiraSystem is the system name of Jira in failures and health records.
const JiraSystem = state.JiraSystem

// JiraError marks an error as coming from Jira (every Jira call of the
// indexer goes through boundedJira, which wraps), so that a failure is
// blamed on the right system.
type JiraError struct{ Err error }

func (e *JiraError) Error() string { return e.Err.Error() }
func (e *JiraError) Unwrap() error { return e.Err }

func jiraErr(err error) error {
	if err == nil {
		return nil
	}
	var je *JiraError
	if errors.As(err, &je) {
		return err
	}
	return &JiraError{Err: err}
}

// Classify returns the kind of a failure.
func Classify(err error) FailureKind {
	var (
		dns  *net.DNSError
		op   *net.OpError
		ne   net.Error
		je   *jiraclient.Error
		ae   *providers.APIError
		rlim *httpx.RateLimitError
	)
	switch {
	case err == nil:
		return ""
	case errors.Is(err, context.Canceled), errors.Is(err, state.ErrFenced):
		// A fenced write is a pass cut short because this replica lost the
		// leadership: neither the provider's fault nor Jira's, and the new
		// leader resumes the work.
		return FailureInterrupted
	case errors.Is(err, providers.ErrUnauthorized), errors.Is(err, jiraclient.ErrUnauthorized):
		return FailureTokenRejected
	case errors.Is(err, providers.ErrRateLimited), errors.As(err, &rlim):
		return FailureRateLimited
	case errors.Is(err, providers.ErrForbidden), errors.Is(err, jiraclient.ErrForbidden):
		return FailureForbidden
	case errors.Is(err, providers.ErrNotFound):
		return FailureNotFound
	case errors.As(err, &dns), errors.As(err, &op), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		return FailureUnreachable
	case errors.As(err, &je) && je.Status >= 500, errors.As(err, &ae) && ae.Status >= 500:
		return FailureServer
	}
	return FailureOther
}

// systemOf says whom to blame for err: Jira, or the provider of the pass.
func systemOf(err error, provider string) string {
	var (
		je  *JiraError
		jce *jiraclient.Error
	)
	if errors.As(err, &je) || errors.As(err, &jce) {
		return JiraSystem
	}
	return provider
}

// failure builds the stored description of err for a pass of provider.
func (ix *Indexer) failure(err error, provider string) state.Failure {
	kind := Classify(err)
	f := state.Failure{System: systemOf(err, provider), Err: err.Error(), Kind: string(kind), At: ix.opts.Now()}
	if ix.opts.Hint != nil {
		f.Hint = ix.opts.Hint(f.System, kind)
	}
	return f
}

// recordPass stores the outcome of a pass of t in the state, for every view:
// the provider's health, Jira's (when this pass reached or blamed Jira), and
// a failed entry for each repo the pass meant to sync but could not reach.
// Nothing is stored in a dry run.
//
// A pass over one repo (onlyRepo: a resync, sync --repo) says nothing about
// the provider's other repos: it records a provider-level failure, never a
// provider-level success.
//
// It returns the setting to fix for the pass's own error (Report.Hint).
func (ix *Indexer) recordPass(t Target, rep Report, unreached []providers.Repo, jiraReached, onlyRepo bool) (hint string) {
	var passFail *state.Failure
	if rep.Err != nil {
		f := ix.failure(rep.Err, t.Name)
		passFail, hint = &f, f.Hint
	}
	if ix.opts.DryRun || rep.interrupted() {
		return hint // nothing stored; an interrupted pass leaves the last outcome standing
	}
	failed, jiraFail := 0, (*state.Failure)(nil)
	for _, rr := range rep.Repos {
		if rr.Err == nil {
			continue
		}
		failed++
		if systemOf(rr.Err, t.Name) == JiraSystem && jiraFail == nil {
			f := ix.failure(rr.Err, t.Name)
			jiraFail = &f
		}
	}
	if passFail != nil && systemOf(rep.Err, t.Name) == JiraSystem {
		jiraFail = passFail
	}
	var err error
	if !onlyRepo || passFail != nil {
		err = ix.updateProviderHealth(t, rep, passFail, len(unreached), failed)
	}
	if err != nil {
		ix.log.Error("record pass outcome", "provider", t.Name, "err", err)
	}
	switch {
	case jiraFail != nil && jiraWide(FailureKind(jiraFail.Kind)):
		ix.recordJira(jiraFail)
	case jiraReached:
		ix.recordJira(nil)
	}
	// Repos last: a view that sees a repo failed sees why at every level.
	for _, r := range unreached {
		if passFail == nil {
			break
		}
		if err := ix.opts.Store.RecordRepoFailure(state.RepoKey{Provider: t.Name, ID: r.ID}, r, *passFail); err != nil {
			ix.log.Error("record repository failure", "provider", t.Name, "repo", r.FullName, "err", err)
		}
	}
	return hint
}

func (ix *Indexer) updateProviderHealth(t Target, rep Report, passFail *state.Failure, unreached, failed int) error {
	now := ix.opts.Now()
	return ix.opts.Store.UpdateHealth(t.Name, func(h *state.Health) {
		failed += rep.backfillFailed
		h.LastPass, h.Repos, h.ReposFailed = now, len(rep.Repos)+rep.Unchanged+len(rep.Backfilling)+unreached, failed+unreached
		switch {
		case passFail != nil && len(rep.Repos) == 0:
			h.State = state.HealthFailed
		case passFail != nil || failed > 0:
			h.State = state.HealthPartial
		default:
			h.State = state.HealthOK
		}
		if h.State == state.HealthOK {
			h.LastSuccess, h.LastError, h.FailureKind, h.Hint, h.Blame, h.Failures = now, "", "", "", "", 0
		} else {
			f := passFail
			if f == nil {
				f = firstRepoFailure(ix, t.Name, rep)
			}
			if f.Err == "" && rep.backfillFailed > 0 {
				f = &state.Failure{Err: fmt.Sprintf("%d repositories failed their backfill (their status says why); the backfill tries them again", rep.backfillFailed)}
			}
			h.LastError, h.FailureKind, h.Hint, h.Blame = f.Err, f.Kind, f.Hint, f.System
			h.Failures++
		}
		if rep.checked {
			h.LastChecked = now
			if h.Feeds == nil {
				h.Feeds = map[string]time.Time{}
			}
			for k, v := range rep.marks {
				h.Feeds[k] = v
			}
		}
		if !rep.sweptAt.IsZero() {
			h.LastSweep = rep.sweptAt
		}
		if t.RateLimit != nil {
			if rl := t.RateLimit(); rl.Known {
				h.RateLimit = &state.RateLimitSeen{Limit: rl.Limit, Remaining: rl.Remaining, Reset: rl.Reset, SeenAt: now}
			}
		}
	})
}

// jiraWide reports whether a Jira failure of this kind concerns Jira as a
// whole (credentials, reachability, overload) rather than one issue.
func jiraWide(k FailureKind) bool {
	switch k {
	case FailureTokenRejected, FailureForbidden, FailureUnreachable, FailureServer, FailureRateLimited:
		return true
	}
	return false
}

func firstRepoFailure(ix *Indexer, provider string, rep Report) *state.Failure {
	for _, rr := range rep.Repos {
		if rr.Err != nil {
			f := ix.failure(rr.Err, provider)
			f.Err = rr.Repo + ": " + f.Err
			return &f
		}
	}
	return &state.Failure{}
}

// recordJira stores Jira's health: ok (f nil) or failed with f.
func (ix *Indexer) recordJira(f *state.Failure) {
	if ix.opts.DryRun {
		return
	}
	now := ix.opts.Now()
	err := ix.opts.Store.UpdateHealth(JiraSystem, func(h *state.Health) {
		h.LastPass = now
		if f == nil {
			h.State, h.LastSuccess, h.LastError, h.FailureKind, h.Hint, h.Blame, h.Failures = state.HealthOK, now, "", "", "", "", 0
			return
		}
		h.State, h.LastError, h.FailureKind, h.Hint, h.Blame = state.HealthFailed, f.Err, f.Kind, f.Hint, JiraSystem
		h.Failures++
	})
	if err != nil {
		ix.log.Error("record Jira health", "err", err)
	}
}

// interrupted reports whether the pass was cut short by cancellation
// (shutdown, Ctrl-C) or by the loss of the leadership (state.ErrFenced)
// rather than completed or failed.
func (r Report) interrupted() bool { return r.Stopped() > 0 }

// Stopped counts what cancellation (shutdown, Ctrl-C, the leadership
// lost) cut short: the pass itself, and each repo sync. Those are not
// failures; the next pass resumes them.
func (r Report) Stopped() int {
	n := 0
	if Classify(r.Err) == FailureInterrupted {
		n++
	}
	for _, rr := range r.Repos {
		if Classify(rr.Err) == FailureInterrupted {
			n++
		}
	}
	return n
}
