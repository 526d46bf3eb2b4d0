package admin

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"
)

// browserScript drives chromium through the status page (see its header).
const browserScript = "../../scripts/browser-test/status.mjs"

// browserTools finds chromium, node and the script's playwright-core. A
// missing tool skips the test on a developer machine and fails it in CI,
// where .ci/run installs them.
func browserTools(t *testing.T) (chromium, node, script string) {
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
	script, err = filepath.Abs(browserScript)
	if err != nil {
		t.Fatal(err)
	}
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

// TestStatusPageInBrowser loads the status page in a real headless
// chromium, logs in through the form, checks the content, clicks Resync and
// sees the repo switch to syncing. Screenshots land in $JIRALINKD_ARTIFACTS
// when set, else in a temporary directory.
func TestStatusPageInBrowser(t *testing.T) {
	chromium, node, script := browserTools(t)
	b := newFakeBackend()
	h := newHarness(t, b, Options{Token: testToken, Version: "v1.2.3"})

	dir := os.Getenv("JIRALINKD_ARTIFACTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	expect, _ := json.Marshal([]string{
		"version v1.2.3", "github", "gitlab", "*/5 * * * *", "4,990 / 5,000", "paused until 12:10:00",
		"acme/api", "acme/web", "group/sub/tool", "list branches: 403 Forbidden", "3 min ago",
	})

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, node, script)
	cmd.Dir = filepath.Dir(script)
	cmd.Env = append(os.Environ(),
		"ADMIN_URL="+h.ts.URL, "ADMIN_TOKEN="+testToken, "CHROMIUM="+chromium, "SCREENSHOT_DIR="+dir,
		"RESYNC_REPO=github/acme/web", "EXPECT_TEXT="+string(expect), "EXPLAIN_KEY=ABC-1")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	err := cmd.Run()
	t.Logf("browser run took %s, screenshots in %s\n%s", time.Since(start).Round(time.Millisecond), dir, out.String())
	if err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) || ctx.Err() != nil {
			t.Fatalf("browser script failed (%v); see failure.png in %s", err, dir)
		}
		t.Fatal(err)
	}
	if !bytes.Contains(out.Bytes(), []byte("\nPASS")) {
		t.Fatal("browser script did not reach PASS")
	}

	// The click reached the backend exactly once, for the right repo.
	if calls := b.calls(); !slices.Equal(calls, []string{"github acme/web"}) {
		t.Errorf("backend resyncs %q, want one of github acme/web", calls)
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
}
