package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestStrayArguments: every command refuses positional arguments it does
// not take (exit 2, naming the argument) and does nothing.
func TestStrayArguments(t *testing.T) {
	f := newFixture(t)
	for _, args := range [][]string{
		{"sync", "--config", f.config, "apache/zookeeper"},
		{"sync", "apache/zookeeper", "--config", f.config},
		{"sync", "--config", f.config, "--", "apache/zookeeper"},
		{"check", "--config", f.config, "apache/zookeeper"},
		{"status", "--config", f.config, "apache/zookeeper"},
		{"purge", "--config", f.config, "--yes", "apache/zookeeper"},
		{"serve", "--config", f.config, "apache/zookeeper"},
		{"explain", "--config", f.config, "ABC-1", "apache/zookeeper"},
	} {
		code, out, errOut := f.run(context.Background(), args...)
		if code != exitConfig || !strings.Contains(errOut, `unexpected argument "apache/zookeeper"`) {
			t.Errorf("%q: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
		}
	}
	if c := f.jira.Calls(); c.Writes != 0 || len(f.gh.Requests()) != 0 {
		t.Errorf("a refused command called out: %+v, %d GitHub requests", c, len(f.gh.Requests()))
	}
	if _, err := os.Stat(filepath.Join(f.dir, "state.db")); !os.IsNotExist(err) {
		t.Errorf("a refused command created the state file (%v)", err)
	}
	code, _, errOut := f.run(context.Background(), "explain", "--config", f.config)
	if code != exitConfig || !strings.Contains(errOut, "missing ISSUE-KEY") {
		t.Errorf("explain without key: exit %d %s", code, errOut)
	}
}

// TestFlagsAfterArguments: explain takes its flags after the issue key
// too, and the key in any case.
func TestFlagsAfterArguments(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	if code, out, errOut := f.run(ctx, "sync", "--config", f.config); code != exitOK {
		t.Fatalf("sync exit %d\n%s%s", code, out, errOut)
	}
	f.env["JIRALINKD_CONFIG"] = filepath.Join(f.dir, "missing.yaml") // --config must be honoured
	for _, args := range [][]string{
		{"explain", "abc-1", "--config", f.config},
		{"explain", "ABC-1", "--config", f.config, "--json"},
		{"explain", "--json", "abc-1", "--config=" + f.config},
	} {
		code, out, errOut := f.run(ctx, args...)
		if code != exitOK || !strings.Contains(out, "ABC-1") || !strings.Contains(out, "acme/api") {
			t.Errorf("%q: exit %d\nstdout: %s\nstderr: %s", args, code, out, errOut)
		}
	}
}

// TestHelp: CMD --help and -h describe the command and exit 0.
func TestHelp(t *testing.T) {
	f := &fixture{env: map[string]string{}}
	for cmd, about := range map[string]string{
		"serve": "Run the daemon", "sync": "one sync pass", "check": "Test every connection",
		"status": "providers and repositories", "explain": "every link jiralinkd wrote on an issue", "purge": "Delete the remote links",
	} {
		for _, h := range []string{"--help", "-h"} {
			code, out, errOut := f.run(context.Background(), cmd, h)
			if code != exitOK || !strings.Contains(out+errOut, about) || !strings.Contains(out+errOut, "usage: jiralinkd "+cmd) ||
				!strings.Contains(out+errOut, "-config") {
				t.Errorf("%s %s: exit %d\nstdout: %s\nstderr: %s", cmd, h, code, out, errOut)
			}
		}
	}
	if code, _, errOut := f.run(context.Background(), "sync", "--bogus"); code != exitConfig || !strings.Contains(errOut, "bogus") {
		t.Errorf("unknown flag: exit %d %s", code, errOut)
	}
}

// TestDryRunLeavesStateUntouched: sync --dry-run does not change the state
// file by a byte, and creates none when there is none.
func TestDryRunLeavesStateUntouched(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	statePath := filepath.Join(f.dir, "state.db")
	code, out, errOut := f.run(ctx, "sync", "--config", f.config, "--dry-run")
	if code != exitOK || !strings.Contains(out, "link ABC-1") {
		t.Fatalf("dry run without state: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(statePath); !os.IsNotExist(err) {
		t.Errorf("the dry run created the state file (%v)", err)
	}
	if code, out, errOut := f.run(ctx, "sync", "--config", f.config); code != exitOK {
		t.Fatalf("sync exit %d\n%s%s", code, out, errOut)
	}
	before, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	fi, _ := os.Stat(statePath)
	code, out, errOut = f.run(ctx, "sync", "--config", f.config, "--dry-run")
	if code != exitOK {
		t.Fatalf("dry run exit %d\n%s%s", code, out, errOut)
	}
	after, err := os.ReadFile(statePath)
	if err != nil {
		t.Fatal(err)
	}
	fi2, _ := os.Stat(statePath)
	if !bytes.Equal(before, after) || !fi.ModTime().Equal(fi2.ModTime()) {
		t.Errorf("the dry run changed the state file")
	}
}

// TestSyncInterrupted: a signal during sync prints one "interrupted" line,
// no ERROR lines, and exits 128+signal.
func TestSyncInterrupted(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		code int
	}{{syscall.SIGINT, 130}, {syscall.SIGTERM, 143}} {
		// Interrupted at different points: Jira's project list, discovery,
		// the walk.
		for _, after := range []time.Duration{time.Millisecond, 20 * time.Millisecond, 150 * time.Millisecond} {
			t.Run(tc.sig.String()+"/"+after.String(), func(t *testing.T) {
				f := newFixture(t)
				f.gh.SetLatency(300 * time.Millisecond)
				ctx, cancel := context.WithCancelCause(context.Background())
				time.AfterFunc(after, func() { cancel(&interruptError{Signal: tc.sig}) })
				code, out, errOut := f.run(ctx, "sync", "--config", f.config)
				if code != tc.code {
					t.Errorf("exit %d, want %d", code, tc.code)
				}
				if !strings.Contains(errOut, "interrupted; rerun to resume") || strings.Contains(errOut, "level=ERROR") ||
					strings.Contains(out, "FAIL") || strings.Contains(out+errOut, "context canceled") || strings.Contains(out, "interrupted (signal") {
					t.Errorf("stdout: %s\nstderr: %s", out, errOut)
				}
			})
		}
	}
	// Without a signal as the cause (a test, an embedding), it is exit 1.
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if code, _, _ := f.run(ctx, "sync", "--config", f.config); code != exitFailed {
		t.Errorf("cancelled without a signal: exit %d", code)
	}
}

// TestSyncRepoMustBeConfigured: --repo names a configured repository or one
// under a configured organisation; anything else is a usage error.
func TestSyncRepoMustBeConfigured(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	code, out, errOut := f.run(ctx, "sync", "--config", f.config, "--repo", "nope/nope")
	if code != exitConfig || !strings.Contains(errOut, "nope/nope") || len(f.gh.Requests()) != 0 {
		t.Errorf("unconfigured repo: exit %d, %d requests\n%s%s", code, len(f.gh.Requests()), out, errOut)
	}
	if code, out, errOut := f.run(ctx, "sync", "--config", f.config, "--repo", "ACME/api"); code != exitOK || !strings.Contains(out, "acme/api") {
		t.Errorf("configured repo: exit %d\n%s%s", code, out, errOut)
	}

	// Under a configured organisation, discovery decides.
	f.editConfig(t, "repos: [acme/api]", "orgs: [acme]")
	code, out, errOut = f.run(ctx, "sync", "--config", f.config, "--repo", "acme/missing")
	if code != exitFailed || !strings.Contains(out+errOut, "repository acme/missing not found") {
		t.Errorf("repo under the org but missing: exit %d\n%s%s", code, out, errOut)
	}
	if code, out, errOut := f.run(ctx, "sync", "--config", f.config, "--repo", "acme/api"); code != exitOK {
		t.Errorf("repo under the org: exit %d\n%s%s", code, out, errOut)
	}
	if code, _, errOut := f.run(ctx, "sync", "--config", f.config, "--repo", "other/api"); code != exitConfig || !strings.Contains(errOut, "other/api") {
		t.Errorf("repo of an unconfigured owner: exit %d %s", code, errOut)
	}
}

func TestInterruptedExit(t *testing.T) {
	ctx, cancel := context.WithCancelCause(context.Background())
	if _, ok := interruptedExit(ctx); ok {
		t.Error("not yet cancelled, but interrupted")
	}
	cancel(&interruptError{Signal: os.Interrupt})
	if !cancelled(context.Cause(ctx)) {
		t.Error("the cause does not match context.Canceled")
	}
	if code, ok := interruptedExit(ctx); !ok || code != 130 {
		t.Errorf("SIGINT: %d %v", code, ok)
	}
}

// TestPurgeProgress: purge --yes says on stderr which repository it is at
// and how many links are gone.
func TestPurgeProgress(t *testing.T) {
	f := newPurgeFixture(t)
	defer func(n int) { purgeProgressEvery = n }(purgeProgressEvery)
	purgeProgressEvery = 2
	code, out, errOut := f.run(context.Background(), "purge", "--config", f.config, "--yes")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	wantLines(t, errOut, "purge: [1/3] ", "purge: [3/3] ", "purge: 2 of 7 links deleted\n", "purge: 6 of 7 links deleted\n")
	if strings.Contains(errOut, "purge: 7 of") {
		t.Errorf("progress past every 2:\n%s", errOut)
	}
}
