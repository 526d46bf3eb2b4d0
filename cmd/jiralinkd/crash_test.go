//go:build unix

package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/boltstore"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
)

// The crash tests run the real binary and kill it with SIGKILL: no deferred
// function, no signal handler and no bbolt Close runs, as after an OOM kill.
// (A power cut would also lose writes not yet synced to disk; that is
// bbolt's fsync contract and not simulated here.) They prove the README's
// "Crash-safe" promise: an interrupted pass is finished by the next one
// without duplicates, without losing a link and without rewriting links the
// state file already records.

// linkBatch is the indexer's batch size: at most one batch of link writes
// can be in flight, not yet recorded in the state file, when the process
// dies.
const linkBatch = 100

// reqKind classifies the requests a tripwire counts and can stop at.
type reqKind string

const (
	kindNone       reqKind = ""
	kindCommitPage reqKind = "GitHub commit page"
	kindPullPage   reqKind = "GitHub pull request page"
	kindJiraWrite  reqKind = "Jira link write"
)

func classifyGitHub(r *http.Request) reqKind {
	switch {
	case r.Method != http.MethodGet:
		return kindNone
	case strings.HasSuffix(r.URL.Path, "/commits"):
		return kindCommitPage
	case strings.HasSuffix(r.URL.Path, "/pulls"):
		return kindPullPage
	}
	return kindNone
}

func classifyJira(r *http.Request) reqKind {
	if r.Method != http.MethodGet && strings.Contains(r.URL.Path, "/remotelink") {
		return kindJiraWrite
	}
	return kindNone
}

// tripwire sits in front of the fakes. It counts requests by kind over all
// runs, counts the upserts of each (issue, globalId), and, when armed, holds
// the request that would be the at-th of its kind (and every request after
// it) without serving it, so the test can SIGKILL the binary at a precise
// point: exactly at-1 requests of that kind were served.
type tripwire struct {
	mu      sync.Mutex
	counts  map[reqKind]int
	written map[string]int // "ISSUE globalId" → upserts served
	kind    reqKind        // armed kind, kindNone when disarmed
	at      int
	held    bool
	tripped chan struct{} // closed when the first request is held
	release chan struct{} // closed by disarm: held requests answer 503
}

func newTripwire() *tripwire {
	return &tripwire{counts: map[reqKind]int{}, written: map[string]int{}}
}

func (w *tripwire) wrap(classify func(*http.Request) reqKind, next http.Handler) http.Handler {
	return http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		kind := classify(r)
		link := ""
		if kind == kindJiraWrite && r.Method == http.MethodPost {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				http.Error(rw, err.Error(), http.StatusBadRequest)
				return
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
			var l struct {
				GlobalID string `json:"globalId"`
			}
			_ = json.Unmarshal(body, &l)
			// …/rest/api/2/issue/{key}/remotelink
			parts := strings.Split(strings.TrimSuffix(r.URL.Path, "/remotelink"), "/")
			link = strings.ToUpper(parts[len(parts)-1]) + " " + l.GlobalID
		}
		w.mu.Lock()
		if !w.held && kind != kindNone && kind == w.kind && w.counts[kind]+1 >= w.at {
			w.held = true
			close(w.tripped)
		}
		hold, release := w.held, w.release
		if !hold && kind != kindNone {
			w.counts[kind]++
			if link != "" {
				w.written[link]++
			}
		}
		w.mu.Unlock()
		if hold {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			http.Error(rw, "held by the crash test", http.StatusServiceUnavailable)
			return
		}
		next.ServeHTTP(rw, r)
	})
}

// arm makes the at-th request of kind (counted over all runs) trip; it
// returns the channel closed when it does.
func (w *tripwire) arm(kind reqKind, at int) <-chan struct{} {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.kind, w.at, w.held = kind, at, false
	w.tripped, w.release = make(chan struct{}), make(chan struct{})
	return w.tripped
}

// disarm lets held requests go (with a 503) and serves everything again.
func (w *tripwire) disarm() {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.release != nil {
		close(w.release)
	}
	w.kind, w.held, w.release = kindNone, false, nil
}

func (w *tripwire) count(kind reqKind) int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.counts[kind]
}

// writes returns a copy of the per-link upsert counts.
func (w *tripwire) writes() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]int, len(w.written))
	for k, v := range w.written {
		out[k] = v
	}
	return out
}

// buildJiralinkd compiles this package into a temporary directory, without
// the race detector (GOFLAGS' -race is dropped): the binary is the system
// under test, killed from outside, and the tests running it stay fast. On a
// cold build cache this is the slow part of the test.
func buildJiralinkd(t *testing.T) string {
	t.Helper()
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skipf("the crash tests build the jiralinkd binary and need the go command on PATH: %v", err)
	}
	out := filepath.Join(t.TempDir(), "jiralinkd")
	// The flags of `make build`: the binary under test is the shipped one,
	// and the build reuses that target's compiled packages.
	cmd := exec.Command(goBin, "build", "-trimpath", "-o", out, ".")
	var env []string
	for _, kv := range os.Environ() {
		if v, ok := strings.CutPrefix(kv, "GOFLAGS="); ok {
			var keep []string
			for _, f := range strings.Fields(v) {
				if f != "-race" && f != "-race=true" {
					keep = append(keep, f)
				}
			}
			kv = "GOFLAGS=" + strings.Join(keep, " ")
		}
		env = append(env, kv)
	}
	cmd.Env = append(env, "CGO_ENABLED=0")
	start := time.Now()
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, b)
	}
	t.Logf("built %s in %s", out, time.Since(start).Round(time.Millisecond))
	return out
}

// crashStack is a fake GitHub and a fake Jira behind a tripwire, the state
// path and a config pointing at them.
type crashStack struct {
	bin    string
	trip   *tripwire
	gh     *githubtest.Server
	repo   *githubtest.RepoHandle // apache/zookeeper, to push to
	jira   *jiratest.Server
	dir    string
	state  string
	config string
	// ghURL and jiraURL reach the fakes through the tripwire.
	ghURL, jiraURL string
}

func newCrashStack(t *testing.T, bin string, hist *corpus.History) *crashStack {
	t.Helper()
	s := &crashStack{bin: bin, trip: newTripwire(), dir: t.TempDir()}
	s.gh = githubtest.NewServer(githubtest.Options{Token: ghToken, RateLimit: 1_000_000})
	s.repo = s.gh.AddCorpusRepo("apache", "zookeeper", 1001, hist)
	ghSrv := httptest.NewServer(s.trip.wrap(classifyGitHub, s.gh.Handler()))
	s.jira = jiratest.NewServer(jiratest.Options{Token: jiraToken, IssueExists: jiratest.DemoIssues})
	jiraSrv := httptest.NewServer(s.trip.wrap(classifyJira, s.jira.Handler()))
	// Cleanups run last-in first-out: held requests are released before
	// the servers wait for them to finish.
	t.Cleanup(ghSrv.Close)
	t.Cleanup(jiraSrv.Close)
	t.Cleanup(s.trip.disarm)
	s.ghURL, s.jiraURL = ghSrv.URL+"/", jiraSrv.URL
	s.state = filepath.Join(s.dir, "state.db")
	s.config = writeSyncConfig(t, s.dir, "config.yaml", s.state, jiraSrv.URL, ghSrv.URL+"/")
	return s
}

func writeSyncConfig(t *testing.T, dir, name, statePath, jiraURL, ghURL string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	cfg := fmt.Sprintf(`state:
  path: %s
log:
  level: warn
jira:
  url: %s
  token_env: JIRA_TOKEN
providers:
  - name: github
    type: github
    url: %s
    token_env: GH_TOKEN
    repos: [apache/zookeeper]
`, statePath, jiraURL, ghURL)
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// syncProc is one running `jiralinkd sync`.
type syncProc struct {
	cmd  *exec.Cmd
	out  *bytes.Buffer
	done chan struct{} // closed when the process has been waited for
}

func startSync(t *testing.T, bin, config string) *syncProc {
	t.Helper()
	cmd := exec.Command(bin, "sync", "--config", config)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "JIRALINKD_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "GH_TOKEN="+ghToken, "JIRA_TOKEN="+jiraToken)
	p := &syncProc{cmd: cmd, out: &bytes.Buffer{}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	go func() {
		_ = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-p.done
	})
	return p
}

// wait waits for the process to exit by itself and returns its exit code.
func (p *syncProc) wait(t *testing.T, limit time.Duration) int {
	t.Helper()
	select {
	case <-p.done:
		return p.cmd.ProcessState.ExitCode()
	case <-time.After(limit):
		t.Fatalf("jiralinkd sync still running after %s\n%s", limit, p.out)
		return -1
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (p *syncProc) kill(t *testing.T) {
	t.Helper()
	if err := p.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatalf("kill: %v", err)
	}
	<-p.done
	ws, ok := p.cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("jiralinkd ended by %v, not by SIGKILL\n%s", p.cmd.ProcessState, p.out)
	}
}

func runSync(t *testing.T, bin, config string) (int, string) {
	t.Helper()
	p := startSync(t, bin, config)
	code := p.wait(t, 45*time.Second)
	return code, p.out.String()
}

// linkSet reads what a fake Jira holds as "ISSUE globalId" strings,
// failing on a globalId that appears twice on one issue.
func linkSet(t *testing.T, j *jiratest.Server) map[string]bool {
	t.Helper()
	set := map[string]bool{}
	for issue, ls := range j.AllLinks() {
		for _, l := range ls {
			k := issue + " " + l.GlobalID
			if set[k] {
				t.Errorf("issue %s has two links with globalId %s", issue, l.GlobalID)
			}
			set[k] = true
		}
	}
	return set
}

// recordedLinks checks the bbolt file's integrity (it was just abandoned by
// a killed process) and returns the links the state file records.
func recordedLinks(t *testing.T, path string) map[string]bool {
	t.Helper()
	db, err := bolt.Open(path, 0o600, &bolt.Options{ReadOnly: true, Timeout: time.Second})
	if err != nil {
		t.Fatalf("open state file after SIGKILL: %v", err)
	}
	err = db.View(func(tx *bolt.Tx) error {
		var errs []error
		for e := range tx.Check() {
			errs = append(errs, e)
		}
		return errors.Join(errs...)
	})
	if cerr := db.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatalf("state file inconsistent after SIGKILL: %v", err)
	}
	st, err := boltstore.Open(path, time.Second)
	if err != nil {
		t.Fatalf("state.Open after SIGKILL: %v", err)
	}
	defer st.Close()
	set := map[string]bool{}
	if err := st.AllLinks(func(l state.Link) error {
		set[l.Issue+" "+l.GlobalID] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return set
}

func diffSets(t *testing.T, what string, want, got map[string]bool) {
	t.Helper()
	var missing, extra []string
	for k := range want {
		if !got[k] {
			missing = append(missing, k)
		}
	}
	for k := range got {
		if !want[k] {
			extra = append(extra, k)
		}
	}
	if len(missing)+len(extra) == 0 {
		return
	}
	sort.Strings(missing)
	sort.Strings(extra)
	t.Errorf("%s: %d missing %v, %d extra %v", what, len(missing), missing[:min(10, len(missing))], len(extra), extra[:min(10, len(extra))])
}

// TestCrashSafety builds the real binary once and runs the crash scenarios
// against it.
func TestCrashSafety(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the jiralinkd binary")
	}
	bin := buildJiralinkd(t)
	t.Run("SIGKILL during backfill", func(t *testing.T) {
		t.Parallel()
		testKillDuringBackfill(t, bin)
	})
	t.Run("state file locked", func(t *testing.T) {
		t.Parallel()
		testStateFileLocked(t, bin)
	})
}

// testKillDuringBackfill kills a ZooKeeper backfill at six points, from the
// first commit page to the middle of the pull request listing, lets a last
// run finish, and compares the result with a clean run's.
func testKillDuringBackfill(t *testing.T, bin string) {
	hist, err := corpus.ZooKeeper()
	if err != nil {
		t.Fatal(err)
	}
	s := newCrashStack(t, bin, hist)

	// The expectation: an uninterrupted sync of the same repository into a
	// second fake Jira with its own state file, reading the same fake
	// GitHub past the tripwire, concurrently with the crash sequence.
	cleanJira := jiratest.Start(t, jiratest.Options{Token: jiraToken, IssueExists: jiratest.DemoIssues})
	cleanGH := httptest.NewServer(s.gh.Handler())
	t.Cleanup(cleanGH.Close)
	clean := startSync(t, bin, writeSyncConfig(t, s.dir, "clean.yaml", filepath.Join(s.dir, "clean.db"), cleanJira.URL(), cleanGH.URL+"/"))

	kills := []struct {
		name   string
		kind   reqKind
		at     int
		perRun bool // at counts this run's requests, not all runs'
	}{
		{"at the first commit page, before any Jira write", kindCommitPage, 1, true},
		{"at the 1st link write", kindJiraWrite, 1, false},
		{"at the 300th link write", kindJiraWrite, 300, false},
		{"at the 1500th link write", kindJiraWrite, 1500, false},
		{"at the 4000th link write", kindJiraWrite, 4000, false},
		{"at the 3rd pull request page of the run", kindPullPage, 3, true},
	}
	// frozen holds every link the state file has recorded after a kill,
	// with its upsert count at that moment: no later run may write it again.
	frozen := map[string]int{}
	for i, k := range kills {
		at := k.at
		if k.perRun {
			at += s.trip.count(k.kind)
		}
		tripped := s.trip.arm(k.kind, at)
		p := startSync(t, bin, s.config)
		select {
		case <-tripped:
		case <-p.done:
			t.Fatalf("kill %d (%s): sync exited with %v before getting there\n%s", i+1, k.name, p.cmd.ProcessState, p.out)
		case <-time.After(45 * time.Second):
			t.Fatalf("kill %d (%s): not reached in 45s\n%s", i+1, k.name, p.out)
		}
		if i == 0 && s.trip.count(kindJiraWrite) != 0 {
			t.Fatalf("kill 1 was meant to precede every Jira write, but %d were made", s.trip.count(kindJiraWrite))
		}
		p.kill(t)
		s.trip.disarm()

		recorded := recordedLinks(t, s.state)
		written := s.trip.writes()
		unrecorded := 0
		for l, n := range written {
			if !recorded[l] {
				unrecorded++
			} else if _, ok := frozen[l]; !ok {
				frozen[l] = n
			}
		}
		for l := range recorded {
			if written[l] == 0 {
				t.Errorf("kill %d: the state file records %s, which never reached Jira (it would never be written)", i+1, l)
			}
		}
		t.Logf("kill %d %s: %d Jira writes so far, %d links recorded in the state file, %d written but not yet recorded",
			i+1, k.name, s.trip.count(kindJiraWrite), len(recorded), unrecorded)
	}

	s.trip.disarm()
	if code, out := runSync(t, bin, s.config); code != exitOK {
		t.Fatalf("sync after %d kills: exit %d\n%s", len(kills), code, out)
	}
	if code := clean.wait(t, 60*time.Second); code != exitOK {
		t.Fatalf("clean sync: exit %d\n%s", code, clean.out)
	}
	want, got := linkSet(t, cleanJira), linkSet(t, s.jira)
	if len(want) < 4000 {
		t.Fatalf("the clean run wrote only %d links; the corpus yields more than 5,000", len(want))
	}
	diffSets(t, "Jira links after the interrupted backfill vs a clean run", want, got)
	diffSets(t, "state file vs Jira after the last run", got, recordedLinks(t, s.state))

	total := s.trip.count(kindJiraWrite)
	rewrites := 0
	for l, n := range s.trip.writes() {
		rewrites += n - 1
		if f, ok := frozen[l]; ok && n != f {
			t.Errorf("%s was written %d more times after the state file had recorded it", l, n-f)
		}
	}
	if limit := len(want) + len(kills)*linkBatch; total > limit {
		t.Errorf("%d Jira writes over %d runs for %d links: more than one batch (%d) rewritten per kill", total, len(kills)+1, len(want), linkBatch)
	}
	t.Logf("%d links; %d Jira writes in %d runs (%d kills): %d links written twice or more, %d rewrites in all",
		len(want), total, len(kills)+1, len(kills), countRewritten(s.trip.writes()), rewrites)

	// And the finished state is a normal one: the next pass writes nothing.
	if code, out := runSync(t, bin, s.config); code != exitOK || s.trip.count(kindJiraWrite) != total {
		t.Errorf("idle sync after recovery: exit %d, %d Jira writes\n%s", code, s.trip.count(kindJiraWrite)-total, out)
	}
}

func countRewritten(written map[string]int) int {
	n := 0
	for _, c := range written {
		if c > 1 {
			n++
		}
	}
	return n
}

// testStateFileLocked runs a second sync while the state file is held, by
// this process through state.Open and by a running jiralinkd: it must fail
// fast with exit 1 and name the file, not wait and not corrupt anything.
// After the holder is SIGKILLed the lock is gone with it.
func testStateFileLocked(t *testing.T, bin string) {
	b := corpus.NewBuilder()
	at := time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)
	root := b.Commit(nil, "ZOOKEEPER-1: first", at)
	b.Branch("master", b.Commit([]string{root}, "ZOOKEEPER-2: second", at.Add(time.Hour)))
	s := newCrashStack(t, bin, b.Build())

	st, err := boltstore.Open(s.state, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	code, out := runSync(t, bin, s.config)
	elapsed := time.Since(start)
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	checkLockedOut(t, "state file held by state.Open", code, out, elapsed, s.state)

	tripped := s.trip.arm(kindCommitPage, 1)
	first := startSync(t, bin, s.config)
	select {
	case <-tripped:
	case <-first.done:
		t.Fatalf("first sync exited early: %v\n%s", first.cmd.ProcessState, first.out)
	case <-time.After(20 * time.Second):
		t.Fatalf("first sync never listed commits\n%s", first.out)
	}
	start = time.Now()
	code, out = runSync(t, bin, s.config)
	checkLockedOut(t, "state file held by a running sync", code, out, time.Since(start), s.state)
	if n := s.trip.count(kindJiraWrite); n != 0 {
		t.Errorf("%d Jira writes while the state file was locked", n)
	}
	first.kill(t)
	s.trip.disarm()

	if code, out := runSync(t, bin, s.config); code != exitOK {
		t.Fatalf("sync after the lock holder was killed: exit %d\n%s", code, out)
	}
	if n := len(s.jira.Links("ZOOKEEPER-2")); n != 1 {
		t.Errorf("ZOOKEEPER-2 has %d links after the sync, want 1", n)
	}
}

func checkLockedOut(t *testing.T, what string, code int, out string, elapsed time.Duration, path string) {
	t.Helper()
	if code != exitFailed {
		t.Errorf("%s: second sync exit %d, want %d\n%s", what, code, exitFailed, out)
	}
	if !strings.Contains(out, path) || !strings.Contains(out, "locked") {
		t.Errorf("%s: the error does not say that %s is locked:\n%s", what, path, out)
	}
	// The lock timeout is 2 s; allow for a loaded machine, not for a hang.
	if elapsed > 10*time.Second {
		t.Errorf("%s: second sync took %s to give up", what, elapsed)
	}
}
