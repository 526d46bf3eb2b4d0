package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jiralinkd/jiralinkd/indexer/state/pgstore/pgtest"
)

// haReplicas is the number of jiralinkd serve replicas of devstack ha.
const haReplicas = 3

// haReplica is one running `jiralinkd serve` of devstack ha.
type haReplica struct {
	name   string
	addr   string
	config string
	log    string // its output, a file in the stack's directory
	cmd    *exec.Cmd
	done   chan struct{}
}

// logFile shows a replica's log in an error.
type logFile string

func (f logFile) String() string {
	b, _ := os.ReadFile(string(f))
	return string(b)
}

// ha is devstack ha: the fakes, a throwaway PostgreSQL cluster, three
// jiralinkd serve replicas sharing its database; it waits for the
// backfill, SIGKILLs the leader, shows the takeover, then keeps the rest
// running until ctx ends.
func ha(ctx context.Context, newStack func(dir, dsn string) (*stack, error), dir, bin string, out, errw io.Writer) int {
	cl, err := pgtest.StartCluster("", pgtest.Options{Durable: true})
	if errors.Is(err, pgtest.ErrNoBinaries) {
		fmt.Fprintf(errw, "devstack ha: needs a local PostgreSQL: %v (Debian: apt-get install postgresql)\n", err)
		return 1
	}
	if err != nil {
		fmt.Fprintf(errw, "devstack ha: start PostgreSQL: %v\n", err)
		return 1
	}
	defer func() {
		if err := cl.Stop(); err != nil {
			fmt.Fprintf(errw, "devstack ha: stop PostgreSQL: %v\n", err)
		}
	}()
	dsn, err := cl.NewDatabase("jiralinkd")
	if err != nil {
		fmt.Fprintf(errw, "devstack ha: %v\n", err)
		return 1
	}
	st, err := newStack(dir, dsn)
	if err != nil {
		fmt.Fprintf(errw, "devstack ha: %v\n", err)
		return 1
	}
	defer st.close()
	if err := runHA(ctx, st, bin, out); err != nil && ctx.Err() == nil {
		fmt.Fprintf(errw, "devstack ha: %v\n", err)
		return 1
	}
	return 0
}

func runHA(ctx context.Context, st *stack, bin string, out io.Writer) error {
	fmt.Fprintf(out, "== jiralinkd high availability: %d replicas of jiralinkd serve sharing one PostgreSQL database\n   (a throwaway local cluster), against a fake GitHub %s, a fake GitLab %s and a fake Jira %s\n\n",
		haReplicas, st.ghURL, st.glURL, st.jiraURL)
	var rs []*haReplica
	defer func() {
		for _, r := range rs {
			r.stop()
		}
	}()
	start := time.Now()
	for i := range haReplicas {
		r, err := startReplica(st, bin, fmt.Sprintf("replica-%d", i+1))
		if err != nil {
			return err
		}
		rs = append(rs, r)
	}
	for _, r := range rs {
		if err := waitReady(ctx, "http://"+r.addr, logFile(r.log)); err != nil {
			return fmt.Errorf("%s: %w", r.name, err)
		}
	}

	// The leader and its backfill (one pass per provider).
	leader, epoch, err := waitLeader(ctx, rs, 0, 30*time.Second)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s leads (lease epoch %.0f); the others follow (jiralinkd_leader 0). Waiting for its backfill…\n", leader.name, epoch)
	if err := waitPasses(ctx, leader, 2, 5*time.Minute); err != nil {
		return err
	}
	links := st.linkCount()
	fmt.Fprintf(out, "backfill done by %s: %d links in Jira, %s after the start\n\n", leader.name, links, time.Since(start).Round(100*time.Millisecond))

	fmt.Fprintf(out, "$ kill -9 %d   # %s, the leader\n", leader.cmd.Process.Pid, leader.name)
	killed := time.Now()
	_ = leader.cmd.Process.Signal(syscall.SIGKILL)
	<-leader.done
	next, nextEpoch, err := waitLeader(ctx, rs, epoch, 60*time.Second)
	if err != nil {
		return err
	}
	takeover := time.Since(killed)
	fmt.Fprintf(out, "%s took over (epoch %.0f) %s after the SIGKILL (the lease lasts 12 s; goal < 20 s)\n", next.name, nextEpoch, takeover.Round(100*time.Millisecond))
	if err := waitPasses(ctx, next, 2, 5*time.Minute); err != nil {
		return err
	}
	final := st.linkCount()
	fmt.Fprintf(out, "its takeover pass is done: %d links in Jira, %d before the SIGKILL (remote links are upserts by globalId: an overlap never duplicates one)\n\n", final, links)

	fmt.Fprintf(out, "fake GitHub: %s\nfake GitLab: %s\nfake Jira:   %s\nadmin token: %s (status page sign-in, admin API, /metrics)\n\n", st.ghURL, st.glURL, st.jiraURL, demoAdminToken)
	for _, r := range rs {
		state := "follower"
		switch {
		case r == leader:
			state = "killed"
		case r == next:
			state = "leader"
		}
		fmt.Fprintf(out, "%-10s %-8s  status http://%s/  metrics http://%s/metrics  config %s  log %s\n", r.name, state, r.addr, r.addr, r.config, r.log)
	}
	fmt.Fprintf(out, "\nCtrl-C stops the replicas, the fakes and PostgreSQL.\n")
	<-ctx.Done()
	return nil
}

// startReplica writes the config of one replica (the stack's, with its
// own listen address and an admin token) and starts jiralinkd serve.
func startReplica(st *stack, bin, name string) (*haReplica, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	base, err := os.ReadFile(st.configPath)
	if err != nil {
		return nil, err
	}
	listen := "http:\n  listen: " + st.listen + "\n"
	if !strings.Contains(string(base), listen) {
		return nil, fmt.Errorf("unexpected configuration in %s", st.configPath)
	}
	cfg := strings.Replace(string(base), listen, "http:\n  listen: "+addr+"\n  admin_token_env: DEMO_ADMIN_TOKEN\n", 1)
	r := &haReplica{name: name, addr: addr, config: filepath.Join(st.dir, name+".yaml"), log: filepath.Join(st.dir, name+".log"), done: make(chan struct{})}
	if err := os.WriteFile(r.config, []byte(cfg), 0o600); err != nil {
		return nil, err
	}
	logf, err := os.Create(r.log)
	if err != nil {
		return nil, err
	}
	r.cmd = exec.Command(bin, "serve", "--config", r.config)
	r.cmd.Env = st.env()
	r.cmd.Stdout, r.cmd.Stderr = logf, logf
	if err := r.cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	go func() {
		_ = r.cmd.Wait()
		logf.Close()
		close(r.done)
	}()
	return r, nil
}

// stop ends a replica gracefully (SIGTERM; SIGKILL after 45 s).
func (r *haReplica) stop() {
	select {
	case <-r.done:
		return
	default:
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(45 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
	}
}

func (r *haReplica) alive() bool {
	select {
	case <-r.done:
		return false
	default:
		return true
	}
}

// metrics scrapes the replica's /metrics into name{labels} → value; nil
// if it does not answer.
func (r *haReplica) metrics() map[string]float64 {
	req, _ := http.NewRequest(http.MethodGet, "http://"+r.addr+"/metrics", nil)
	req.Header.Set("Authorization", "Bearer "+demoAdminToken)
	resp, err := (&http.Client{Timeout: 2 * time.Second}).Do(req)
	if err != nil {
		return nil
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		line := sc.Text()
		i := strings.LastIndexByte(line, ' ')
		if strings.HasPrefix(line, "#") || i < 0 {
			continue
		}
		if v, err := strconv.ParseFloat(line[i+1:], 64); err == nil {
			m[line[:i]] = v
		}
	}
	return m
}

// waitLeader waits until exactly one live replica reports
// jiralinkd_leader 1 with a lease epoch above after.
func waitLeader(ctx context.Context, rs []*haReplica, after float64, timeout time.Duration) (*haReplica, float64, error) {
	deadline := time.Now().Add(timeout)
	for {
		var leads []*haReplica
		var epoch float64
		for _, r := range rs {
			if !r.alive() {
				continue
			}
			if m := r.metrics(); m["jiralinkd_leader"] == 1 && m["jiralinkd_lease_epoch"] > after {
				leads = append(leads, r)
				epoch = m["jiralinkd_lease_epoch"]
			}
		}
		if len(leads) == 1 {
			return leads[0], epoch, nil
		}
		if time.Now().After(deadline) {
			return nil, 0, fmt.Errorf("no single leader after %s (%d report jiralinkd_leader 1)", timeout, len(leads))
		}
		select {
		case <-ctx.Done():
			return nil, 0, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// waitPasses waits until the replica has finished n sync passes.
func waitPasses(ctx context.Context, r *haReplica, n float64, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	for {
		done := 0.0
		for k, v := range r.metrics() {
			if strings.HasPrefix(k, "jiralinkd_sync_passes_total") {
				done += v
			}
		}
		if done >= n {
			return nil
		}
		if !r.alive() || time.Now().After(deadline) {
			return fmt.Errorf("%s finished %.0f of %.0f sync passes\n%s", r.name, done, n, logFile(r.log))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// linkCount is the number of remote links in the fake Jira.
func (st *stack) linkCount() int {
	n := 0
	for _, ls := range st.jira.AllLinks() {
		n += len(ls)
	}
	return n
}
