//go:build unix

package main

import (
	"bufio"
	"bytes"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore/pgtest"
	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
)

const haAdminToken = "ha-admin-token-0123456789abcdef"

// replica is one running `jiralinkd serve` of an HA test.
type replica struct {
	name string
	addr string
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
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
	cmd.Env = append(env, "GH_TOKEN="+ghToken, "JIRA_TOKEN="+jiraToken, "PG_DSN="+dsn, "ADMIN_TOKEN="+haAdminToken)
	r := &replica{name: name, addr: addr, cmd: cmd, out: &syncBuffer{mu: make(chanMutex, 1)}, done: make(chan struct{})}
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
// clean single-node run's, without duplicates.
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
}
