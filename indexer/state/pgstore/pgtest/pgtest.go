// Package pgtest starts a throwaway PostgreSQL cluster for tests: no mock,
// the real server from the machine's PostgreSQL binaries.
//
// The first Start in a test binary creates the cluster (initdb in a
// temporary directory; fsync off unless PGTEST_FSYNC=on, for benchmarks
// comparable with a durable bbolt file) and starts postgres on a free port of
// 127.0.0.1 with its socket in that directory; each Start then creates a
// fresh database and returns its DSN. The cluster is stopped and its
// directory removed by Main, which a package's TestMain calls:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// (Without it, the server still dies with the test binary: it is started
// with a parent-death signal, but its directory stays behind.)
//
// initdb and postgres refuse to run as root: when the tests run as root,
// the cluster runs as the "postgres" OS user. Without PostgreSQL binaries
// (searched in PATH and /usr/lib/postgresql/*/bin, newest first) Start
// skips the test, unless CI=true, where it fails it.
//
// Outside tests (devstack's benchmark and HA demo), StartCluster starts a
// cluster of one's own: NewDatabase creates its databases, Stop shuts it
// down and removes its directory.
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// cluster is the test binary's PostgreSQL server. It is package state
// because a test binary shares one server among its tests (starting one
// takes about a second); Main stops it.
var cluster struct {
	once sync.Once
	srv  *Cluster
	err  error
	skip bool // no binaries: skip rather than fail
	dbs  atomic.Int64
}

// Cluster is a running throwaway PostgreSQL cluster.
type Cluster struct {
	dir  string // owns everything; removed by Stop
	port int
	cmd  *exec.Cmd
	done chan error
}

// Options are the settings of StartCluster.
type Options struct {
	// Durable keeps fsync, synchronous_commit and full_page_writes on
	// (PostgreSQL's defaults), for figures comparable with a durable
	// bbolt file; otherwise they are off, which is faster and enough
	// for tests.
	Durable bool
}

// Start returns the DSN of a new, empty database of the test binary's
// cluster, starting the cluster on the first call.
func Start(t testing.TB) string {
	t.Helper()
	cluster.once.Do(func() {
		cluster.srv, cluster.err = StartCluster("", Options{Durable: os.Getenv("PGTEST_FSYNC") == "on"})
		if errors.Is(cluster.err, ErrNoBinaries) && os.Getenv("CI") != "true" {
			cluster.skip = true
		}
	})
	if cluster.err != nil {
		if cluster.skip {
			t.Skipf("pgtest: %v (install Debian's postgresql package to run the PostgreSQL tests)", cluster.err)
		}
		t.Fatalf("pgtest: %v", cluster.err)
	}
	dsn, err := cluster.srv.NewDatabase("t_" + strconv.FormatInt(cluster.dbs.Add(1), 10))
	if err != nil {
		t.Fatalf("pgtest: %v", err)
	}
	return dsn
}

// Main runs the tests and stops the cluster if one was started; it returns
// m.Run's exit code.
func Main(m *testing.M) int {
	code := m.Run()
	if cluster.srv != nil {
		if err := cluster.srv.Stop(); err != nil {
			fmt.Fprintf(os.Stderr, "pgtest: stop: %v\n", err)
		}
	}
	return code
}

// ErrNoBinaries is StartCluster's error when the machine has no PostgreSQL
// server binaries.
var ErrNoBinaries = errors.New("no PostgreSQL binaries (initdb, postgres) found in PATH or /usr/lib/postgresql/*/bin")

// binDir finds a directory holding both initdb and postgres.
func binDir() (string, error) {
	var dirs []string
	if p, err := exec.LookPath("initdb"); err == nil {
		dirs = append(dirs, filepath.Dir(p))
	}
	found, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(found, func(i, j int) bool { return version(found[i]) > version(found[j]) })
	dirs = append(dirs, found...)
	for _, d := range dirs {
		if isExec(filepath.Join(d, "initdb")) && isExec(filepath.Join(d, "postgres")) {
			return d, nil
		}
	}
	return "", ErrNoBinaries
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && !fi.IsDir() && fi.Mode()&0o111 != 0
}

// runAs is the credential the cluster runs with: the postgres OS user when
// running as root, else nil (the current user).
func runAs() (*syscall.Credential, error) {
	if os.Geteuid() != 0 {
		return nil, nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return nil, fmt.Errorf("running as root and no postgres OS user to run the cluster as: %w", err)
	}
	uid, err := strconv.ParseUint(u.Uid, 10, 32)
	if err != nil {
		return nil, err
	}
	gid, err := strconv.ParseUint(u.Gid, 10, 32)
	if err != nil {
		return nil, err
	}
	return &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid), NoSetGroups: true}, nil
}

// StartCluster creates a cluster in a new directory under dir (the system's
// temporary directory if dir is "") with initdb and starts postgres on a
// free port of 127.0.0.1, its socket in that directory. The server is
// started with a parent-death signal: it dies with the calling process even
// if Stop is not called (but then its directory stays behind). The error
// wraps ErrNoBinaries when no PostgreSQL binaries are found.
func StartCluster(dir string, opt Options) (srv *Cluster, err error) {
	bin, err := binDir()
	if err != nil {
		return nil, err
	}
	cred, err := runAs()
	if err != nil {
		return nil, err
	}
	dir, err = os.MkdirTemp(dir, "pgtest-")
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = os.RemoveAll(dir)
		}
	}()
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			return nil, fmt.Errorf("chown %s to the postgres user: %w", dir, err)
		}
	}
	data := filepath.Join(dir, "data")
	initdb := exec.Command(filepath.Join(bin, "initdb"), "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	initdb.Dir = dir
	initdb.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	if out, err := initdb.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	logFile, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	args := []string{"-D", data, "-p", strconv.Itoa(port), "-k", dir,
		"-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200", "-c", "shared_buffers=128MB"}
	if !opt.Durable {
		args = append(args, "-c", "fsync=off", "-c", "synchronous_commit=off", "-c", "full_page_writes=off")
	}
	cmd := exec.Command(filepath.Join(bin, "postgres"), args...)
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = logFile, logFile
	// Pdeathsig: the server dies with the test binary even without Main.
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGQUIT}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start postgres: %w", err)
	}
	srv = &Cluster{dir: dir, port: port, cmd: cmd, done: make(chan error, 1)}
	go func() { srv.done <- cmd.Wait() }()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for {
		conn, err := pgx.Connect(ctx, srv.DSN("postgres"))
		if err == nil {
			_ = conn.Close(ctx)
			return srv, nil
		}
		select {
		case werr := <-srv.done:
			log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			return nil, fmt.Errorf("postgres exited (%v):\n%s", werr, log)
		case <-ctx.Done():
			_ = srv.Stop()
			return nil, fmt.Errorf("postgres not ready after 30s: %w", err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

func freePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// DSN is the URL of a database of the cluster, as its superuser.
func (s *Cluster) DSN(db string) string {
	return fmt.Sprintf("postgres://postgres@127.0.0.1:%d/%s?sslmode=disable", s.port, db)
}

// NewDatabase creates a new empty database called name and returns its DSN.
func (s *Cluster) NewDatabase(name string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, s.DSN("postgres"))
	if err != nil {
		return "", fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE DATABASE "+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return s.DSN(name), nil
}

// Stop shuts the server down (fast shutdown) and removes its directory.
func (s *Cluster) Stop() error {
	var err error
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGINT)
		select {
		case <-s.done:
		case <-time.After(20 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
			err = errors.New("postgres did not stop within 20s; killed")
		}
	}
	if rerr := os.RemoveAll(s.dir); rerr != nil && err == nil {
		err = rerr
	}
	return err
}
