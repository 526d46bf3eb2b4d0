// Package browsertest runs scripts/browser-test/status.mjs — a real
// headless chromium driven by playwright-core — against a jiralinkd status
// page. Tests of the admin package (over a fake backend) and of the daemon
// (over the real stack) share it.
package browsertest

import (
	"bytes"
	"context"
	"encoding/json"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// Options describe one run of the script.
type Options struct {
	URL        string   // base URL of the admin server
	Token      string   // admin token
	ResyncRepo string   // provider/full name of the repo to click Resync on
	ExpectText []string // strings the status page must show
	ExplainKey string   // an issue key with links
	// ExpectBackfill, if set, is the overall backfill percentage the
	// status page's progress bar (#backfill-overall) must show.
	ExpectBackfill string
	// Dir receives the screenshots; "" means $JIRALINKD_ARTIFACTS, else a
	// test temp dir.
	Dir string
}

// scriptPath is status.mjs, found relative to this source file so that any
// package's test can run it.
func scriptPath(t testing.TB) string {
	_, file, _, ok := runtime.Caller(0)
	if !ok {
		t.Fatal("cannot locate browsertest source")
	}
	return filepath.Join(filepath.Dir(file), "..", "..", "..", "scripts", "browser-test", "status.mjs")
}

// tools finds chromium, node and the script with its node_modules. Missing
// tools skip the test on a developer machine and fail it in CI (CI=true),
// where .ci/run installs them.
func tools(t testing.TB) (chromium, node, script string) {
	t.Helper()
	var missing []string
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			chromium = p
			break
		}
	}
	if chromium == "" {
		missing = append(missing, "chromium (apt-get install -y chromium)")
	}
	node, err := exec.LookPath("node")
	if err != nil {
		missing = append(missing, "node ≥ 20")
	}
	script = scriptPath(t)
	if _, err := os.Stat(filepath.Join(filepath.Dir(script), "node_modules", "playwright-core", "package.json")); err != nil {
		missing = append(missing, "playwright-core (npm ci --prefix scripts/browser-test)")
	}
	if len(missing) > 0 {
		if os.Getenv("CI") == "true" {
			t.Fatalf("the browser test must run in CI; missing: %q", missing)
		}
		t.Skipf("browser test skipped, missing: %q", missing)
	}
	return chromium, node, script
}

// Run drives the browser through the page and fails t on the first failed
// check; it returns the directory holding the screenshots, which it checks
// are valid 1280-px-wide PNGs.
func Run(t testing.TB, o Options) string {
	t.Helper()
	chromium, node, script := tools(t)
	dir := o.Dir
	if dir == "" {
		dir = os.Getenv("JIRALINKD_ARTIFACTS")
	}
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	expect, _ := json.Marshal(o.ExpectText)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = filepath.Dir(script)
	cmd.Env = append(os.Environ(),
		"ADMIN_URL="+o.URL, "ADMIN_TOKEN="+o.Token, "CHROMIUM="+chromium, "SCREENSHOT_DIR="+dir,
		"RESYNC_REPO="+o.ResyncRepo, "EXPECT_TEXT="+string(expect), "EXPLAIN_KEY="+o.ExplainKey, "EXPECT_BACKFILL="+o.ExpectBackfill)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("browser run took %s, screenshots in %s\n%s", time.Since(start).Round(time.Millisecond), dir, out.String())
	if err != nil {
		t.Fatalf("browser script failed (%v); see failure.png in %s", err, dir)
	}
	if !bytes.Contains(out.Bytes(), []byte("\nPASS")) {
		t.Fatal("browser script did not reach PASS")
	}
	for _, name := range []string{"login.png", "status-before.png", "status.png", "issue.png"} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(f)
		f.Close()
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if w := img.Bounds().Dx(); w != 1280 {
			t.Errorf("%s is %d px wide, want 1280", name, w)
		}
	}
	return dir
}
