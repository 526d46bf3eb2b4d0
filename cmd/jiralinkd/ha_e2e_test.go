//go:build unix

package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer"
	"github.com/jiralinkd/jiralinkd/indexer/state"
	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore"
	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore/pgtest"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
)

const (
	haAdminToken = "ha-admin-token-0123456789abcdef"
	haHookSecret = "ha-webhook-secret-0123456789abcdef"
)

// push posts a signed GitHub push delivery for the ZooKeeper repo to the
// replica and returns the status code (0 if the request failed).
func (r *replica) push(t *testing.T, delivery string, n int) int {
	t.Helper()
	body := []byte(fmt.Sprintf(`{"ref":"refs/heads/master","before":"0000000000000000000000000000000000000000",`+
		`"after":"%040x","commits":[],`+
		`"repository":{"id":1001,"name":"zookeeper","full_name":"apache/zookeeper","html_url":"https://github.com/apache/zookeeper","default_branch":"master","owner":{"login":"apache"}}}`, n))
	mac := hmac.New(sha256.New, []byte(haHookSecret))
	mac.Write(body)
	req, _ := http.NewRequest(http.MethodPost, "http://"+r.addr+"/webhooks/github", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-GitHub-Event", "push")
	req.Header.Set("X-GitHub-Delivery", delivery)
	req.Header.Set("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac.Sum(nil)))
	resp, err := (&http.Client{Timeout: 5 * time.Second}).Do(req)
	if err != nil {
		return 0
	}
	resp.Body.Close()
	return resp.StatusCode
}

// sumMetric adds up the series of a metric whose labels contain all of
// labels, over the replicas.
func sumMetric(rs []*replica, name string, labels ...string) float64 {
	n := 0.0
	for _, r := range rs {
	series:
		for k, v := range r.metrics() {
			if !strings.HasPrefix(k, name) {
				continue
			}
			for _, l := range labels {
				if !strings.Contains(k, l) {
					continue series
				}
			}
			n += v
		}
	}
	return n
}

// replica is one running `jiralinkd serve` of an HA test.
type replica struct {
	name   string
	addr   string
	config string
	cmd    *exec.Cmd
	out    *syncBuffer
	done   chan struct{}
}

// syncBuffer is a bytes.Buffer safe for the process's writes and the
// test's reads.
type syncBuffer struct {
	mu chanMutex
	b  bytes.Buffer
}

type chanMutex chan struct{}

func (m chanMutex) lock()   { m <- struct{}{} }
func (m chanMutex) unlock() { <-m }

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.lock()
	defer b.mu.unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.lock()
	defer b.mu.unlock()
	return b.b.String()
}

// writeHAConfig writes the configuration of one replica: the shared
// PostgreSQL state (DSN from PG_DSN), its own listen address.
func writeHAConfig(t *testing.T, dir, name, addr, jiraURL, ghURL string) string {
	t.Helper()
	p := filepath.Join(dir, name+".yaml")
	cfg := fmt.Sprintf(`state:
  backend: postgres
  postgres:
    dsn_env: PG_DSN
http:
  listen: %s
  admin_token_env: ADMIN_TOKEN
log:
  level: info
jira:
  url: %s
  token_env: JIRA_TOKEN
providers:
  - name: github
    type: github
    url: %s
    token_env: GH_TOKEN
    repos: [apache/zookeeper]
    webhook:
      secret_env: HOOK_SECRET
`, addr, jiraURL, ghURL)
	if err := os.WriteFile(p, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func startReplica(t *testing.T, bin, name, config, addr, dsn string) *replica {
	t.Helper()
	cmd := exec.Command(bin, "serve", "--config", config)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "JIRALINKD_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env, "GH_TOKEN="+ghToken, "JIRA_TOKEN="+jiraToken, "PG_DSN="+dsn, "ADMIN_TOKEN="+haAdminToken, "HOOK_SECRET="+haHookSecret)
	r := &replica{name: name, addr: addr, config: config, cmd: cmd, out: &syncBuffer{mu: make(chanMutex, 1)}, done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = r.out, r.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		_ = cmd.Wait()
		close(r.done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		<-r.done
	})
	return r
}

// metrics scrapes the replica's /metrics into name{labels} → value; nil
// if it does not answer.
func (r *replica) metrics() map[string]float64 {
	req, _ := http.NewRequest(http.MethodGet, "http://"+r.addr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+haAdminToken)
	c := &http.Client{Timeout: 2 * time.Second}
	resp, err := c.Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		if i < 0 {
			continue
		}
		v, err := strconv.ParseFloat(line[i+1:], 64)
		if err == nil {
			out[line[:i]] = v
		}
	}
	return out
}

// passes is the replica's count of sync passes (any result).
func passes(m map[string]float64) float64 {
	n := 0.0
	for k, v := range m {
		if strings.HasPrefix(k, "jiralinkd_sync_passes_total") {
			n += v
		}
	}
	return n
}

// leaders returns the replicas that report jiralinkd_leader 1, and the
// highest epoch any reports.
func leaders(rs []*replica) (out []*replica, epoch float64) {
	for _, r := range rs {
		select {
		case <-r.done:
			continue
		default:
		}
		m := r.metrics()
		if m["jiralinkd_leader"] == 1 {
			out = append(out, r)
		}
		epoch = max(epoch, m["jiralinkd_lease_epoch"])
	}
	return out, epoch
}

// TestHAReplicas runs three serve replicas on one PostgreSQL state against
// the fake GitHub (the ZooKeeper corpus) and Jira: exactly one leads and
// polls; SIGKILLed mid-backfill, it is replaced within 20 s by a new
// leader (epoch+1) that finishes the backfill, and the link set equals a
// clean single-node run's, without duplicates. SIGSTOPped in the middle
// of a pass that saw master at a new commit, the next leader is replaced
// by the last replica, which advances master further; SIGCONTed, the old
// leader steps down, and master's cursor in the database stays the new
// leader's.
func TestHAReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the jiralinkd binary")
	}
	dsn := pgtest.Start(t)
	bin := buildJiralinkd(t)
	hist, err := corpus.ZooKeeper()
	if err != nil {
		t.Fatal(err)
	}
	s := newCrashStack(t, bin, hist)

	// The expectation: a clean single-node sync into a second fake Jira.
	cleanJira := jiratest.Start(t, jiratest.Options{Token: jiraToken, IssueExists: jiratest.DemoIssues})
	cleanGH := httptest.NewServer(s.gh.Handler())
	t.Cleanup(cleanGH.Close)
	clean := startSync(t, bin, writeSyncConfig(t, s.dir, "clean.yaml", filepath.Join(s.dir, "clean.db"), cleanJira.URL(), cleanGH.URL+"/"))

	// Hold the backfill at its 1500th link write: the leader is then
	// mid-backfill, for sure.
	tripped := s.trip.arm(kindJiraWrite, 1500)
	var rs []*replica
	for i := range 3 {
		name := fmt.Sprintf("r%d", i+1)
		addr := freeAddr(t)
		rs = append(rs, startReplica(t, bin, name, writeHAConfig(t, s.dir, name, addr, s.jiraURL, s.ghURL), addr, dsn))
	}
	select {
	case <-tripped:
	case <-time.After(60 * time.Second):
		t.Fatalf("the backfill never reached the 1500th link write\n%s", rs[0].out)
	}
	ls, epoch := leaders(rs)
	if len(ls) != 1 {
		t.Fatalf("%d replicas report jiralinkd_leader 1, want exactly one", len(ls))
	}
	old := ls[0]
	for _, r := range rs {
		if n := passes(r.metrics()); r != old && n != 0 {
			t.Errorf("follower %s ran %v sync passes; only the leader polls", r.name, n)
		}
	}
	t.Logf("leader %s (epoch %v) held mid-backfill; SIGKILL", old.name, epoch)
	if err := old.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-old.done
	killed := time.Now()
	s.trip.disarm()

	// During the failover: deliveries to the survivors, each redelivered
	// to the other one.
	var live []*replica
	for _, r := range rs {
		if r != old {
			live = append(live, r)
		}
	}
	const deliveries = 20
	for i := range deliveries {
		id := fmt.Sprintf("ha-delivery-%d", i)
		first, second := live[i%2], live[(i+1)%2]
		for _, r := range []*replica{first, second} {
			if code := r.push(t, id, i+1); code/100 != 2 {
				t.Errorf("delivery %s to %s: status %d", id, r.name, code)
			}
		}
	}

	var successor *replica
	for successor == nil {
		if time.Since(killed) > 25*time.Second {
			t.Fatalf("no new leader %s after the SIGKILL", time.Since(killed))
		}
		time.Sleep(200 * time.Millisecond)
		if ls, ep := leaders(rs); len(ls) == 1 && ep > epoch {
			successor = ls[0]
			epoch = ep
		}
	}
	failover := time.Since(killed)
	t.Logf("new leader %s (epoch %v) %s after the SIGKILL", successor.name, epoch, failover.Round(100*time.Millisecond))
	if failover > 20*time.Second {
		t.Errorf("failover took %s, want under 20 s", failover)
	}

	if code := clean.wait(t, 90*time.Second); code != exitOK {
		t.Fatalf("clean sync: exit %d\n%s", code, clean.out)
	}
	want := linkSet(t, cleanJira)
	deadline := time.Now().Add(120 * time.Second)
	for {
		got := linkSet(t, s.jira)
		if len(got) == len(want) && passes(successor.metrics()) > 0 {
			diffSets(t, "Jira links after the failover vs a clean run", want, got)
			break
		}
		if time.Now().After(deadline) {
			diffSets(t, "Jira links after the failover vs a clean run (timed out)", want, got)
			t.Fatalf("backfill not finished by the new leader\n%s", successor.out)
		}
		time.Sleep(500 * time.Millisecond)
	}
	for _, r := range rs {
		if r != old && r != successor {
			if n := passes(r.metrics()); n != 0 {
				t.Errorf("follower %s ran %v sync passes", r.name, n)
			}
		}
	}
	t.Logf("%d links, %d Jira writes in all", len(want), s.trip.count(kindJiraWrite))

	// Every delivery queued once (its redelivery to the other replica a
	// duplicate), and the shared inbox drained by the workers.
	if q, d := sumMetric(live, "jiralinkd_webhook_deliveries_total", `result="queued"`),
		sumMetric(live, "jiralinkd_webhook_deliveries_total", `result="duplicate"`); q != deliveries || d != deliveries {
		t.Errorf("deliveries: %v queued and %v duplicates over the replicas, want %d and %d", q, d, deliveries, deliveries)
	}
	deadline = time.Now().Add(90 * time.Second)
	for sumMetric(live, "jiralinkd_webhook_queue_depth") != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("webhook inbox not drained: depth %v", sumMetric(live, "jiralinkd_webhook_queue_depth"))
		}
		time.Sleep(500 * time.Millisecond)
	}

	// SIGSTOP the leader past its lease: the last replica takes over; on
	// SIGCONT the old one finds itself fenced, steps down and keeps
	// serving as a follower.
	var third *replica
	for _, r := range live {
		if r != successor {
			third = r
		}
	}
	// The leader is stopped in the middle of a pass that saw master at a
	// new commit: held in the commit's link write, its cursor write to
	// come.
	master := ""
	for _, b := range hist.Branches() {
		if b.Name == "master" {
			master = b.SHA
		}
	}
	tripped = s.trip.arm(kindJiraWrite, s.trip.count(kindJiraWrite)+1) // whichever pass of the leader sees it first
	seen, seenLink := pushCommit(t, s, master, "ZOOKEEPER-4241: seen by the leader before it is stopped")
	want[seenLink] = true
	if code := resync(t, successor); code != http.StatusAccepted && code != http.StatusConflict {
		t.Fatalf("resync asked of the leader %s: status %d", successor.name, code)
	}
	select {
	case <-tripped:
	case <-time.After(30 * time.Second):
		t.Fatalf("the leader %s never wrote the link of the new commit\n%s", successor.name, successor.out)
	}
	if err := successor.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	stopped := time.Now()
	s.trip.disarm() // the held write is answered 503, which the stopped leader reads on resuming
	// Meanwhile master moves on: the new leader's takeover pass advances
	// the cursor past what the stopped one saw, and the stopped one, on
	// resuming, must never move it back.
	pushed, pushedLink := pushCommit(t, s, seen, "ZOOKEEPER-4242: pushed while the leader is stopped")
	want[pushedLink] = true
	for {
		if time.Since(stopped) > 25*time.Second {
			t.Fatalf("%s did not take over from the stopped leader", third.name)
		}
		time.Sleep(200 * time.Millisecond)
		if m := third.metrics(); m["jiralinkd_leader"] == 1 && m["jiralinkd_lease_epoch"] > epoch {
			epoch = m["jiralinkd_lease_epoch"]
			break
		}
	}
	t.Logf("%s leads (epoch %v) %s after %s was stopped", third.name, epoch, time.Since(stopped).Round(100*time.Millisecond), successor.name)
	db, led := openHAState(t, dsn), time.Now()
	for cursor := ""; cursor != pushed; cursor = masterCursor(t, db) {
		if time.Since(stopped) > 45*time.Second {
			t.Fatalf("the new leader %s did not advance master to %.7s (cursor %.7s)\n%s", third.name, pushed, cursor, third.out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("%s advanced master to the commit pushed meanwhile %s after taking over", third.name, time.Since(led).Round(10*time.Millisecond))
	if err := successor.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	for {
		m := successor.metrics()
		if m != nil && m["jiralinkd_leader"] == 0 && m["jiralinkd_lease_epoch"] == epoch {
			break
		}
		if time.Since(resumed) > 10*time.Second {
			t.Fatalf("%s still claims to lead (or does not answer) after SIGCONT\n%s", successor.name, successor.out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	// Whether the resumed replica had a write in flight (refused by the
	// fence) or its elector noticed first (its passes cancelled) is a race;
	// the outcome is not: master stays where the new leader put it. (The
	// fence itself is proven by pgstore's TestFencing, a stale leader's
	// pass by indexer's TestStaleLeaderPassIsFenced.)
	if cursor := masterCursor(t, db); cursor != pushed {
		t.Errorf("master's cursor after %s resumed: %.7s, want the new leader's %.7s", successor.name, cursor, pushed)
	}
	t.Logf("%s after SIGCONT: %d state writes refused by the fence", successor.name,
		strings.Count(successor.out.String(), "no longer holds the leader lease"))
	if !strings.Contains(successor.out.String(), "leadership lost") {
		t.Errorf("%s did not log that it lost the leadership\n%s", successor.name, successor.out)
	}
	if ls, _ := leaders(live); len(ls) != 1 || ls[0] != third {
		t.Errorf("after SIGCONT %d leaders, want only %s", len(ls), third.name)
	}
	diffSets(t, "Jira links after the pause (with the commit pushed meanwhile)", want, linkSet(t, s.jira))

	// A resync asked of a follower is run by the leader.
	if code := resync(t, successor); code != http.StatusAccepted {
		t.Errorf("resync asked of the follower: status %d, want 202", code)
	}
	for !strings.Contains(third.out.String(), "resync asked of another replica") {
		if time.Since(resumed) > 30*time.Second {
			t.Fatalf("the leader %s never ran the resync asked of %s", third.name, successor.name)
		}
		time.Sleep(200 * time.Millisecond)
	}

	// status from any host reads the database: every replica, one leader.
	var out []byte
	st := exec.Command(bin, "status", "--config", third.config)
	st.Env = append(os.Environ(), "GH_TOKEN="+ghToken, "JIRA_TOKEN="+jiraToken, "PG_DSN="+dsn, "ADMIN_TOKEN="+haAdminToken, "HOOK_SECRET="+haHookSecret)
	out, err = st.CombinedOutput()
	// (The SIGKILLed replica stays listed, its heartbeat ageing, until
	// replicaMaxAge.)
	if err != nil || !strings.Contains(string(out), "REPLICA") || strings.Count(string(out), " leader ") != 1 ||
		strings.Count(string(out), " follower ") < 1 {
		t.Errorf("status: %v, want the replicas, one leader\n%s", err, out)
	}

	// Acknowledgement latency on PostgreSQL: 1,000 deliveries at 200/s
	// spread over the replicas, p99 under 50 ms.
	var lat []time.Duration
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	for i := range 1000 {
		<-tick.C
		start := time.Now()
		if code := live[i%2].push(t, fmt.Sprintf("ack-%d", i), 100+i); code != http.StatusAccepted {
			t.Fatalf("delivery %d: status %d", i, code)
		}
		lat = append(lat, time.Since(start))
	}
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	t.Logf("webhook ack latency at 200 deliveries/s on PostgreSQL: p50 %s, p99 %s", p50, p99)
	if p99 > 50*time.Millisecond {
		t.Errorf("ack p99 %s, want under 50 ms", p99)
	}
	if cursor := masterCursor(t, db); cursor != pushed {
		t.Errorf("master's cursor at the end: %.7s, want %.7s", cursor, pushed)
	}
}

// resync asks replica r for a resync of the ZooKeeper repo through the
// admin API and returns the status code.
func resync(t *testing.T, r *replica) int {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, "http://"+r.addr+"/api/v1/repos/github/apache/zookeeper/resync", nil)
	req.Header.Set("Authorization", "Bearer "+haAdminToken)
	resp, err := (&http.Client{Timeout: 10 * time.Second}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// pushCommit adds a commit with message on top of parent in the fake
// GitHub and moves master to it; it returns its SHA and its link as
// linkSet names it (the message must name an existing issue).
func pushCommit(t *testing.T, s *crashStack, parent, message string) (sha, link string) {
	t.Helper()
	at := time.Now().UTC().Truncate(time.Second)
	sha = s.repo.AddCommit(corpus.Commit{Parents: []string{parent}, AuthorName: "a", AuthorDate: at, CommitterDate: at, Message: message})
	s.repo.SetBranch("master", sha)
	issue, _, _ := strings.Cut(message, ":")
	return sha, issue + " " + indexer.GlobalID(haRepo, indexer.KindCommit, sha)
}

// haRepo is the ZooKeeper repo's key in the HA tests' state.
var haRepo = state.RepoKey{Provider: "github", ID: 1001}

// openHAState opens the replicas' shared state, as any host can.
func openHAState(t *testing.T, dsn string) *pgstore.Store {
	t.Helper()
	db, err := pgstore.Open(context.Background(), dsn, pgstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// masterCursor is the master branch's cursor in the shared state.
func masterCursor(t *testing.T, db *pgstore.Store) string {
	t.Helper()
	st, _, err := db.Repo(haRepo)
	if err != nil {
		t.Fatal(err)
	}
	return st.Branches["master"]
}
