package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestSecretSourceFollowsTheFile: a replaced file (rename, as Vault agents
// do; a swapped ..data symlink, as Kubernetes Secret volumes do) is seen
// at the next Value; an emptied or removed file keeps the last value.
func TestSecretSourceFollowsTheFile(t *testing.T) {
	dir := t.TempDir()
	// Kubernetes layout: token -> ..data/token, ..data -> ..2026_v1
	for _, v := range []string{"..v1", "..v2"} {
		if err := os.Mkdir(filepath.Join(dir, v), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	write := func(p, s string) {
		t.Helper()
		if err := os.WriteFile(p, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "..v1", "token"), "first\n")
	write(filepath.Join(dir, "..v2", "token"), "second\n")
	if err := os.Symlink("..v1", filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "token")
	if err := os.Symlink(filepath.Join("..data", "token"), path); err != nil {
		t.Fatal(err)
	}
	s := Secret{File: path, Source: SourceFile, value: "first"}
	var changed, failed []string
	src := NewSecretSource(s, "providers[0].token", SecretOptions{CheckEvery: -1,
		OnChange: func(setting string) { changed = append(changed, setting) },
		OnError:  func(setting string, err error) { failed = append(failed, err.Error()) }})
	if v := src.Value(); v != "first" {
		t.Fatalf("Value = %q", v)
	}
	// Swap ..data atomically, as the kubelet does.
	tmp := filepath.Join(dir, "..data_tmp")
	if err := os.Symlink("..v2", tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if v := src.Value(); v != "second" {
		t.Fatalf("after the symlink swap Value = %q, want second", v)
	}
	if len(changed) != 1 || changed[0] != "providers[0].token_file ("+path+")" {
		t.Errorf("OnChange calls = %v", changed)
	}
	// An emptied file keeps the last value, reported once.
	write(filepath.Join(dir, "..v2", "token"), "")
	for range 3 {
		if v := src.Value(); v != "second" {
			t.Fatalf("empty file: Value = %q, want the last value", v)
		}
	}
	if len(failed) != 1 || !strings.Contains(failed[0], "empty") {
		t.Errorf("OnError calls = %v", failed)
	}
	_, err := src.Reload()
	if !errors.Is(err, ErrSecretEmpty) {
		t.Errorf("Reload of an empty file: %v", err)
	}
	write(filepath.Join(dir, "..v2", "token"), "third")
	if changed, err := src.Reload(); err != nil || !changed || src.Value() != "third" {
		t.Errorf("Reload = %v, %v; Value %q", changed, err, src.Value())
	}
	for _, msg := range failed {
		if strings.Contains(msg, "second") || strings.Contains(msg, "third") {
			t.Errorf("an error message holds the secret: %s", msg)
		}
	}
	if src.String() != redacted {
		t.Error("String reveals the source")
	}
}

// TestSecretSourceChecksAtMostEvery: without a forced reload, the file is
// looked at no more often than CheckEvery; env and literal secrets never
// change.
func TestSecretSourceChecksAtMostEvery(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tok")
	if err := os.WriteFile(path, []byte("a"), 0o600); err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	src := NewSecretSource(Secret{File: path, Source: SourceFile, value: "a"}, "jira.token",
		SecretOptions{CheckEvery: 2 * time.Second, Now: func() time.Time { return now }})
	if err := os.WriteFile(path+".new", []byte("b"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(path+".new", path); err != nil {
		t.Fatal(err)
	}
	if v := src.Value(); v != "a" {
		t.Errorf("within CheckEvery: %q, want a", v)
	}
	now = now.Add(2 * time.Second)
	if v := src.Value(); v != "b" {
		t.Errorf("after CheckEvery: %q, want b", v)
	}
	env := NewSecretSource(Secret{Env: "X", Source: SourceEnv, value: "e"}, "jira.token", SecretOptions{})
	if changed, err := env.Reload(); changed || err != nil || env.Value() != "e" {
		t.Errorf("env secret: %v %v %q", changed, err, env.Value())
	}
}
