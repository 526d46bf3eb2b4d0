package config

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrSecretEmpty is returned by SecretSource.Reload when the secret file
// exists but holds nothing (a writer truncated it and has not written the
// new value yet); the previous value stays in use.
var ErrSecretEmpty = errors.New("secret file is empty")

// SecretSource is the current value of one configured secret. Clients read
// it per request (Value), so that a secret read from a file (*_file) can be
// replaced while the daemon runs: a Kubernetes Secret volume (which swaps
// the ..data symlink), a Vault agent or an administrator rewrites the file
// and the next request carries the new value; the old one is never sent
// again once the change has been seen.
//
// A file source looks at the file's identity (the path is stat'ed, never an
// open descriptor, so a swapped symlink is followed) at most once per
// check interval on Value, and re-reads the file when its modification
// time, size or inode changed; Reload re-reads it unconditionally (SIGHUP).
// A file that cannot be read or is empty keeps the previous value in use
// and reports the problem through OnError once per distinct problem.
//
// Secrets from the environment (*_env) and literals never change: the
// environment of a running process cannot be changed from outside.
//
// A SecretSource is safe for concurrent use. Its String never reveals the
// value.
type SecretSource struct {
	setting string // e.g. "providers[0].token_file (/run/secrets/gh)", for messages
	file    string // "" for env and literal secrets
	every   time.Duration
	now     func() time.Time
	// OnChange is called (outside the lock) after the value changed, with
	// the setting's name; it never receives the value.
	onChange func(setting string)
	onError  func(setting string, err error)

	mu      sync.Mutex
	value   string
	stamp   fileStamp
	checked time.Time
	lastErr string
}

// SecretOptions configures NewSecretSource.
type SecretOptions struct {
	// CheckEvery bounds how often Value stats the file; 0 means 2s.
	// Negative means on every call.
	CheckEvery time.Duration
	// OnChange is told (by setting name, never the value) when a file
	// secret changed; OnError when re-reading it failed (the previous value
	// stays in use).
	OnChange func(setting string)
	OnError  func(setting string, err error)
	Now      func() time.Time // default time.Now
}

// fileStamp identifies one version of a file.
type fileStamp struct {
	mtime time.Time
	size  int64
	ino   uint64
	dev   uint64
}

// NewSecretSource returns the source of s, configured at the YAML path key
// (e.g. "providers[0].token"). For a file secret the value resolved at load
// time is the starting value.
func NewSecretSource(s Secret, key string, opts SecretOptions) *SecretSource {
	src := &SecretSource{setting: s.Setting(key), value: s.value, onChange: opts.OnChange, onError: opts.OnError, now: opts.Now, every: opts.CheckEvery}
	if src.now == nil {
		src.now = time.Now
	}
	if src.every == 0 {
		src.every = 2 * time.Second
	}
	if s.Source == SourceFile {
		src.file = s.File
		if st, err := stampOf(s.File); err == nil {
			src.stamp = st
		}
		src.checked = src.now()
	}
	return src
}

// Value returns the current secret, re-reading the file first when it has
// changed since it was last read (checked at most once per CheckEvery).
// It is nil-safe: a nil source has the empty value.
func (s *SecretSource) Value() string {
	if s == nil {
		return ""
	}
	if s.file == "" {
		return s.value
	}
	s.mu.Lock()
	if s.every < 0 || s.now().Sub(s.checked) >= s.every {
		s.mu.Unlock()
		_, _ = s.reload(false)
		s.mu.Lock()
	}
	v := s.value
	s.mu.Unlock()
	return v
}

// Reload re-reads a file secret even if the file looks unchanged and
// reports whether the value changed. Environment and literal secrets
// never change (changed is false, err nil).
func (s *SecretSource) Reload() (changed bool, err error) {
	if s == nil || s.file == "" {
		return false, nil
	}
	return s.reload(true)
}

// Setting names where the secret comes from (never its value).
func (s *SecretSource) Setting() string { return s.setting }

// File is the path of a file secret, "" for the other sources.
func (s *SecretSource) File() string {
	if s == nil {
		return ""
	}
	return s.file
}

// Set replaces the value (after the caller wrote it to the file, as the
// GitLab self-rotation does) and records the file's new identity, so the
// write is not reported as an outside change.
func (s *SecretSource) Set(value string) {
	s.mu.Lock()
	old := s.value
	s.value = value
	if st, err := stampOf(s.file); err == nil {
		s.stamp = st
	}
	s.checked = s.now()
	s.mu.Unlock()
	if old != value && s.onChange != nil {
		s.onChange(s.setting)
	}
}

// String never reveals the value.
func (s *SecretSource) String() string { return redacted }

func (s *SecretSource) reload(force bool) (bool, error) {
	st, err := stampOf(s.file)
	s.mu.Lock()
	s.checked = s.now()
	if err == nil && !force && st == s.stamp {
		s.mu.Unlock()
		return false, nil
	}
	s.mu.Unlock()
	var data []byte
	if err == nil {
		data, err = os.ReadFile(s.file)
	}
	v := strings.TrimRight(string(data), " \t\r\n")
	if err == nil && v == "" {
		err = ErrSecretEmpty
	}
	s.mu.Lock()
	if err != nil {
		report := err.Error() != s.lastErr
		s.lastErr = err.Error()
		s.mu.Unlock()
		err = fmt.Errorf("%s: %w", s.setting, err)
		if report && s.onError != nil {
			s.onError(s.setting, err)
		}
		return false, err
	}
	s.lastErr = ""
	changed := v != s.value
	s.value, s.stamp = v, st
	s.mu.Unlock()
	if changed && s.onChange != nil {
		s.onChange(s.setting)
	}
	return changed, nil
}

// stampOf stats path (following symlinks).
func stampOf(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	st := fileStamp{mtime: fi.ModTime(), size: fi.Size()}
	if sys, ok := fi.Sys().(*syscall.Stat_t); ok {
		st.ino, st.dev = uint64(sys.Ino), uint64(sys.Dev) //nolint:unconvert // widths differ per platform
	}
	return st, nil
}
