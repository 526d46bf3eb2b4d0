package main

import (
	"context"
	"crypto/sha256"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/status"
	"github.com/jiralinkd/jiralinkd/jiraclient"
	"github.com/jiralinkd/jiralinkd/providers/gitlab"
)

// expiryAskEvery is how often GitLab and Jira are asked again when their
// token expires; a changed token is asked about at once.
const expiryAskEvery = time.Hour

// expiryThresholds are the days left at which a warning is logged, once
// each per token and process.
func expiryThresholds() []int { return []int{30, 14, 7, 1} }

// tokenWatch knows when each system's token expires: GitHub's from the
// GitHub-Authentication-Token-Expiration response header (read live from
// the client), GitLab's from GET /personal_access_tokens/self and Jira's
// from its PAT list (both asked at most hourly, and at once after the
// token changed). It logs a warning when a token gets within 30, 14, 7 and
// 1 days of its expiry, once per threshold per process. GitHub App
// installation tokens rotate by themselves and are not tracked. It
// outlives configuration reloads. Safe for concurrent use.
type tokenWatch struct {
	log *slog.Logger
	now func() time.Time

	mu     sync.Mutex
	live   map[string]func() (time.Time, bool) // GitHub clients
	known  map[string]time.Time                // asked: GitLab, Jira
	asked  map[string]askStamp
	warned map[warnKey]bool
}

// askStamp records when a system was last asked and for which token (a
// digest, never the token).
type askStamp struct {
	at  time.Time
	tok [32]byte
}

type warnKey struct {
	system    string
	expires   int64
	threshold int
}

func newTokenWatch(log *slog.Logger) *tokenWatch {
	return &tokenWatch{log: log, now: time.Now, live: map[string]func() (time.Time, bool){},
		known: map[string]time.Time{}, asked: map[string]askStamp{}, warned: map[warnKey]bool{}}
}

// get returns when system's token expires; ok is false when unknown.
func (w *tokenWatch) get(system string) (time.Time, bool) {
	w.mu.Lock()
	live := w.live[system]
	exp, ok := w.known[system]
	w.mu.Unlock()
	if live != nil {
		return live()
	}
	return exp, ok
}

// setLive makes get read system's expiry from fn (a GitHub client).
func (w *tokenWatch) setLive(system string, fn func() (time.Time, bool)) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.live[system] = fn
}

// set records the expiry of system's token (zero: unknown or never).
func (w *tokenWatch) set(system string, exp time.Time) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if exp.IsZero() {
		delete(w.known, system)
		return
	}
	w.known[system] = exp
}

// due reports whether system should be asked again about the token tok,
// and records that it is being asked.
func (w *tokenWatch) due(system, tok string) bool {
	sum := sha256.Sum256([]byte(tok))
	now := w.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	a, ok := w.asked[system]
	if ok && a.tok == sum && now.Sub(a.at) < expiryAskEvery {
		return false
	}
	w.asked[system] = askStamp{at: now, tok: sum}
	return true
}

// forgetAsked makes the next refresh ask system again (its token was
// rotated).
func (w *tokenWatch) forgetAsked(system string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	delete(w.asked, system)
}

// warn logs the warning of the smallest threshold exp is within, unless
// that threshold was logged for this token already; setting names the
// token's setting (never the token).
func (w *tokenWatch) warn(system, setting string, exp time.Time) {
	now := w.now()
	days := status.DaysLeft(exp, now)
	w.mu.Lock()
	if !exp.After(now) {
		k := warnKey{system: system, expires: exp.Unix(), threshold: -1}
		first := !w.warned[k]
		w.warned[k] = true
		w.mu.Unlock()
		if first {
			w.log.Error("token expired: replace it", "system", system, "expired", exp.UTC().Format(time.DateOnly), "setting", setting)
		}
		return
	}
	hit := 0
	for _, t := range expiryThresholds() {
		if days < t && !w.warned[warnKey{system, exp.Unix(), t}] {
			hit = t
		}
	}
	if hit == 0 {
		w.mu.Unlock()
		return
	}
	for _, t := range expiryThresholds() {
		if t >= hit {
			w.warned[warnKey{system, exp.Unix(), t}] = true
		}
	}
	w.mu.Unlock()
	w.log.Warn("token expires soon: replace it before it does", "system", system, "days_left", days,
		"expires", exp.UTC().Format(time.RFC3339), "setting", setting)
}

// refreshTokens updates what d.tokens knows: GitHub's expiries are read
// from the clients, GitLab and Jira are asked when due. It then logs the
// threshold warnings. Errors are logged, not returned: the
// expiry is informational and the sync reports a rejected token itself.
func (d *deps) refreshTokens(ctx context.Context) {
	w := d.tokens
	for name, c := range d.github {
		w.setLive(name, c.TokenExpiry)
	}
	for _, p := range d.cfg.Providers {
		c, ok := d.gitlab[p.Name]
		if !ok {
			continue
		}
		src := d.tokenSrc[p.Name]
		if !w.due(p.Name, src.Value()) {
			continue
		}
		info, err := c.TokenInfo(ctx)
		switch {
		case errors.Is(err, gitlab.ErrTokenInfoUnavailable):
			w.set(p.Name, time.Time{})
		case err != nil:
			w.forgetAsked(p.Name)
			d.log.Debug("cannot read the token's expiry", "provider", p.Name, "err", err)
		default:
			w.set(p.Name, info.Expires)
		}
	}
	if d.jira != nil && d.cfg.Jira.Username == "" && w.due(indexer.JiraSystem, d.tokenSrc[indexer.JiraSystem].Value()) {
		exp, err := d.jira.TokenExpiry(ctx)
		switch {
		case errors.Is(err, jiraclient.ErrTokenExpiryUnknown):
			w.set(indexer.JiraSystem, time.Time{})
		case err != nil:
			w.forgetAsked(indexer.JiraSystem)
			d.log.Debug("cannot read the Jira token's expiry", "err", err)
		default:
			w.set(indexer.JiraSystem, exp)
		}
	}
	d.warnExpiries()
}

// warnExpiries logs the threshold warnings of every known expiry.
func (d *deps) warnExpiries() {
	if exp, ok := d.tokens.get(indexer.JiraSystem); ok {
		d.tokens.warn(indexer.JiraSystem, d.cfg.Jira.Token.Setting("jira.token"), exp)
	}
	for i, p := range d.cfg.Providers {
		if p.App != nil {
			continue
		}
		if exp, ok := d.tokens.get(p.Name); ok {
			d.tokens.warn(p.Name, p.Token.Setting(providerPath(i)+".token"), exp)
		}
	}
}
