package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/jiralinkd/jiralinkd/config"
	"github.com/jiralinkd/jiralinkd/providers/gitlab"
)

// providerPath is the YAML path of the i-th provider.
func providerPath(i int) string { return fmt.Sprintf("providers[%d]", i) }

// rotateDue rotates the token of the named provider when it has
// rotate_before set and its expiry, as last read by refreshTokens, is
// within that window. serve calls it right after a pass of that provider,
// so that no pass of it has requests in flight with the token GitLab
// revokes.
func (d *deps) rotateDue(ctx context.Context, name string) {
	for i, p := range d.cfg.Providers {
		c, ok := d.gitlab[p.Name]
		if p.Name != name || !ok || p.RotateBefore <= 0 {
			continue
		}
		if exp, known := d.tokens.get(p.Name); known {
			d.maybeRotate(ctx, i, p, c, exp)
		}
	}
}

// maybeRotate rotates the GitLab token of provider p (the i-th) when it
// expires (exp) within p.RotateBefore: POST /personal_access_tokens/self/rotate
// revokes the current token and returns its successor, which is written
// to the token file (atomically: temporary file, fsync, rename, same
// mode) before anything uses it, then handed to the client. If the write
// fails the new token is lost and the old one revoked: the error says to
// create a new token by hand. The new token expires after four
// rotate_before windows (rotatedExpiry). Only one replica may rotate
// (README).
func (d *deps) maybeRotate(ctx context.Context, i int, p config.Provider, c *gitlab.Client, exp time.Time) {
	if exp.IsZero() || time.Until(exp) > p.RotateBefore {
		return
	}
	src := d.tokenSrc[p.Name]
	setting := p.Token.Setting(providerPath(i) + ".token")
	tok, next, err := c.RotateSelf(ctx, rotatedExpiry(time.Now(), p.RotateBefore))
	if err != nil {
		d.log.Error("token self-rotation failed: the current token stays in use", "provider", p.Name, "setting", setting, "err", err)
		return
	}
	if err := writeFileAtomic(src.File(), []byte(tok+"\n")); err != nil {
		d.log.Error("token rotated but the new token could not be written: the old token is revoked; create a new token and write it to the file",
			"provider", p.Name, "setting", setting, "err", err)
		return
	}
	src.Set(tok)
	d.tokens.set(p.Name, next.Expires)
	d.tokens.forgetAsked(p.Name)
	d.log.Info("token rotated", "provider", p.Name, "setting", setting, "expires", next.Expires.Format(time.DateOnly))
}

// rotatedExpiry is the expiry asked for a rotated token: four rotate_before
// windows ahead (a token is then rotated every three windows), at most a
// year (GitLab's longest lifetime), as a date. GitLab's own default, a
// week, would be due again at once with rotate_before: 7d.
func rotatedExpiry(now time.Time, before time.Duration) time.Time {
	life := min(4*before, 365*24*time.Hour)
	return now.UTC().Add(life).Truncate(24 * time.Hour)
}

// writeFileAtomic replaces path with data: a temporary file in the same
// directory, with path's mode, synced, then renamed over path, so that a
// reader (or a crash) sees the old or the new content, never a mix.
func writeFileAtomic(path string, data []byte) error {
	mode := os.FileMode(0o600)
	if fi, err := os.Stat(path); err == nil {
		mode = fi.Mode().Perm()
	}
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	tmp := f.Name()
	fail := func(err error) error {
		_ = f.Close()
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(mode); err != nil {
		return fail(err)
	}
	if _, err := f.Write(data); err != nil {
		return fail(err)
	}
	if err := f.Sync(); err != nil {
		return fail(err)
	}
	if err := f.Close(); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("write %s: %w", path, err)
	}
	if dh, err := os.Open(dir); err == nil {
		_ = dh.Sync()
		_ = dh.Close()
	}
	return nil
}
