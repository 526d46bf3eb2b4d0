package boltstore

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	bolt "go.etcd.io/bbolt"

	"github.com/jiralinkd/jiralinkd/indexer/state"
)

// TestOpenReadOnly: a read-only store reads, refuses writes, leaves the
// file byte-identical and creates nothing.
func TestOpenReadOnly(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.db")
	if _, err := OpenReadOnly(path, 0); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("OpenReadOnly created the file (%v)", err)
	}
	st, err := Open(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.PutRepo(state.RepoState{Key: state.RepoKey{Provider: "github", ID: 7}}); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)

	ro, err := OpenReadOnly(path, 0)
	if err != nil {
		t.Fatal(err)
	}
	if repos, err := ro.Repos(); err != nil || len(repos) != 1 {
		t.Errorf("Repos: %v %v", repos, err)
	}
	if err := ro.PutRepo(state.RepoState{Key: state.RepoKey{Provider: "github", ID: 8}}); !errors.Is(err, bolt.ErrDatabaseReadOnly) {
		t.Errorf("write through a read-only store: %v", err)
	}
	if err := ro.Close(); err != nil {
		t.Fatal(err)
	}
	if after, _ := os.ReadFile(path); !bytes.Equal(before, after) {
		t.Error("the read-only store changed the file")
	}

	other := filepath.Join(dir, "other.db")
	if err := os.WriteFile(other, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := OpenReadOnly(other, 0); err == nil {
		t.Error("an empty file opened as a state file")
	}
}
