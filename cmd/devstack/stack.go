package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jiralinkd/jiralinkd/jiraclient/jiratest"
	"github.com/jiralinkd/jiralinkd/providers/corpus"
	"github.com/jiralinkd/jiralinkd/providers/github/githubtest"
	"github.com/jiralinkd/jiralinkd/providers/gitlab/gitlabtest"
)

// Demo credentials: the fakes accept only these, so the demo also proves
// that jiralinkd sends them (and check fails with anything else).
const (
	demoGitHubToken = "ghp_demo0000000000000000000000000000000"
	demoGitLabToken = "glpat-demo000000000000"
	demoJiraToken   = "demo-jira-personal-access-token"
	demoHookSecret  = "demo-webhook-secret"
	demoAdminToken  = "demo-admin-token-0123456789abcdef"
)

// stateDSNEnv is the environment variable that hands the PostgreSQL DSN
// to jiralinkd (state.postgres.dsn_env); devstack never prints the DSN.
const stateDSNEnv = "DEMO_STATE_DSN"

type stack struct {
	hist       *corpus.History
	gh         *githubtest.Server
	ghRepo     *githubtest.RepoHandle
	gl         *gitlabtest.Server
	jira       *jiratest.Server
	ghURL      string
	glURL      string
	jiraURL    string
	dir        string
	configPath string
	listen     string // jiralinkd serve's address
	dsn        string // PostgreSQL state; "" for the bbolt file
	servers    []*http.Server
}

func serve(h http.Handler) (*http.Server, string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", err
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 5 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	return srv, "http://" + ln.Addr().String(), nil
}

// startStack starts the fakes and writes a config in dir (wiped first).
// The state is a bbolt file in dir when dsn is "", else the PostgreSQL
// database dsn, passed to jiralinkd in the environment (stateDSNEnv).
func startStack(dir, dsn string) (*stack, error) {
	hist, err := corpus.ZooKeeper()
	if err != nil {
		return nil, err
	}
	st := &stack{hist: hist, dir: dir, dsn: dsn}
	st.gh = githubtest.NewServer(githubtest.Options{Token: demoGitHubToken})
	st.ghRepo = st.gh.AddCorpusRepo("apache", "zookeeper", 1001, hist)
	st.gl = gitlabtest.NewServer(gitlabtest.Options{Token: demoGitLabToken, RateLimit: 100_000})
	st.gl.AddCorpusProject("apache", "zookeeper", 2002, hist)
	st.jira = jiratest.NewServer(jiratest.Options{Token: demoJiraToken, IssueExists: jiratest.DemoIssues})

	srv, u, err := serve(st.gh.Handler())
	if err != nil {
		return nil, err
	}
	st.servers = append(st.servers, srv)
	st.ghURL = u + "/"
	srv, u, err = serve(st.gl.Handler())
	if err != nil {
		st.close()
		return nil, err
	}
	st.servers = append(st.servers, srv)
	st.glURL = u + "/"
	srv, u, err = serve(st.jira.Handler())
	if err != nil {
		st.close()
		return nil, err
	}
	st.servers = append(st.servers, srv)
	st.jiraURL = u

	if err := os.RemoveAll(dir); err != nil {
		st.close()
		return nil, err
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		st.close()
		return nil, err
	}
	st.configPath = filepath.Join(dir, "config.yaml")
	if st.listen, err = freeAddr(); err != nil {
		st.close()
		return nil, err
	}
	cfg := fmt.Sprintf(`# Written by devstack: jiralinkd against the local fake GitHub and Jira.
%s
http:
  listen: %s
log:
  level: warn
jira:
  url: %s
  token_env: DEMO_JIRA_TOKEN
providers:
  - name: github
    type: github
    url: %s
    token_env: DEMO_GITHUB_TOKEN
    schedule: "@every 1m"
    repos: [apache/zookeeper]
    webhook:
      secret_env: DEMO_WEBHOOK_SECRET
  - name: gitlab
    type: gitlab
    url: %s
    token_env: DEMO_GITLAB_TOKEN
    schedule: "@every 1m"
    groups: [apache]
`, st.stateYAML(), st.listen, st.jiraURL, st.ghURL, st.glURL)
	if err := os.WriteFile(st.configPath, []byte(cfg), 0o600); err != nil {
		st.close()
		return nil, err
	}
	return st, nil
}

// stateYAML is the config's state section for the stack's backend.
func (st *stack) stateYAML() string {
	if st.dsn == "" {
		return "state:\n  path: " + filepath.Join(st.dir, "jiralinkd.db")
	}
	return "state:\n  backend: postgres\n  postgres:\n    dsn_env: " + stateDSNEnv
}

// backendName names the stack's state backend.
func (st *stack) backendName() string {
	if st.dsn == "" {
		return "bbolt"
	}
	return "PostgreSQL"
}

// freeAddr picks a free loopback port for jiralinkd serve.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func (st *stack) close() {
	for _, s := range st.servers {
		_ = s.Close()
	}
}

func (st *stack) env() []string {
	env := append(os.Environ(), "DEMO_GITHUB_TOKEN="+demoGitHubToken, "DEMO_GITLAB_TOKEN="+demoGitLabToken, "DEMO_JIRA_TOKEN="+demoJiraToken,
		"DEMO_WEBHOOK_SECRET="+demoHookSecret, "DEMO_ADMIN_TOKEN="+demoAdminToken)
	if st.dsn != "" {
		env = append(env, stateDSNEnv+"="+st.dsn)
	}
	return env
}

func (st *stack) envLine(bin, cmd string) string {
	return fmt.Sprintf("DEMO_GITHUB_TOKEN=%s DEMO_GITLAB_TOKEN=%s DEMO_JIRA_TOKEN=%s DEMO_WEBHOOK_SECRET=%s %s %s --config %s", demoGitHubToken, demoGitLabToken, demoJiraToken, demoHookSecret, bin, cmd, st.configPath)
}

// result is one run of the jiralinkd binary.
type result struct {
	output   string
	exit     int
	wall     time.Duration
	maxRSSKB int64
}

func (st *stack) jiralinkd(ctx context.Context, bin string, args ...string) (result, error) {
	cmd := exec.CommandContext(ctx, bin, append(args, "--config", st.configPath)...)
	cmd.Env = st.env()
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return result{}, fmt.Errorf("run %s: %w", bin, err)
	}
	peak := make(chan int64, 1)
	stop := make(chan struct{})
	go func() { peak <- pollPeakRSS(cmd.Process.Pid, stop) }()
	err := cmd.Wait()
	close(stop)
	r := result{output: out.String(), wall: time.Since(start), maxRSSKB: <-peak}
	if cmd.ProcessState == nil {
		return r, fmt.Errorf("run %s: %w", bin, err)
	}
	r.exit = cmd.ProcessState.ExitCode()
	return r, nil
}

// pollPeakRSS samples the child's VmHWM (the high-water mark of its own
// address space) until stop is closed. getrusage's ru_maxrss cannot be
// used: Go starts children with clone(CLONE_VM|CLONE_VFORK), and Linux
// carries the parent's high-water mark into the child's ru_maxrss at exec,
// so every child would seem at least as big as devstack itself.
func pollPeakRSS(pid int, stop <-chan struct{}) int64 {
	var peak int64
	path := "/proc/" + strconv.Itoa(pid) + "/status"
	t := time.NewTicker(2 * time.Millisecond)
	defer t.Stop()
	for {
		if b, err := os.ReadFile(path); err == nil {
			for _, line := range strings.Split(string(b), "\n") {
				if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
					n, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
					peak = max(peak, n)
				}
			}
		}
		select {
		case <-stop:
			return peak
		case <-t.C:
		}
	}
}
