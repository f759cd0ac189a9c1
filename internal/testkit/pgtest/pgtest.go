// Package pgtest gives tests a real PostgreSQL: a fresh, empty database per
// test, in a private cluster that the package starts once per test binary
// (Debian's postgresql, in a temporary directory, on a free loopback port),
// or on the server named by ROSTER_TEST_POSTGRES_DSN.
//
// Without PostgreSQL a test is skipped with a message, except under CI (the
// CI environment variable is set), where it fails.
//
// A package that uses it should stop the cluster when its tests end:
//
//	func TestMain(m *testing.M) { os.Exit(pgtest.Main(m)) }
//
// (Without that the cluster still dies with the test binary, through the
// parent-death signal, but its temporary directory stays behind.)
package pgtest

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// EnvDSN names an existing server to use instead of a private cluster. Its
// user needs CREATEDB; each test gets a database created on it.
const EnvDSN = "ROSTER_TEST_POSTGRES_DSN"

var (
	once     sync.Once
	admin    string // DSN of the maintenance database
	startErr error
	cl       *cluster
	seq      atomic.Int64
)

type cluster struct {
	dir  string
	cmd  *exec.Cmd
	done chan struct{}
}

// DSN returns the connection string of a new, empty database for this test,
// dropped when the test ends.
func DSN(t testing.TB) string {
	t.Helper()
	once.Do(start)
	if startErr != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is required under CI: %v", startErr)
		}
		t.Skipf("no PostgreSQL (%v); set %s or install the postgresql package", startErr, EnvDSN)
	}
	name := fmt.Sprintf("roster_t%d_%d", os.Getpid(), seq.Add(1))
	dsn, err := CreateDatabase(admin, name)
	if err != nil {
		t.Fatalf("test database: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", admin)
		if err != nil {
			return
		}
		defer db.Close()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+name+` WITH (FORCE)`); err != nil {
			t.Logf("drop test database %s: %v", name, err)
		}
	})
	return dsn
}

// Available reports whether PostgreSQL can be had (starting it if needed),
// for callers that choose their store before they have a test.
func Available() error {
	once.Do(start)
	return startErr
}

// Env returns EnvDSN=… naming the server in use, for a child process
// (a test binary run again, a server under test) to share it.
func Env() string {
	once.Do(start)
	return EnvDSN + "=" + admin
}

// Main runs the tests and stops the private cluster afterwards.
func Main(m *testing.M) int {
	code := m.Run()
	Stop()
	return code
}

// Stop stops the private cluster (if one was started) and removes its directory.
func Stop() {
	if cl == nil {
		return
	}
	stopCluster(cl)
	cl = nil
}

func stopCluster(c *cluster) {
	_ = c.cmd.Process.Signal(syscall.SIGINT) // fast shutdown
	select {
	case <-c.done:
	case <-time.After(20 * time.Second):
		_ = c.cmd.Process.Kill()
		<-c.done
	}
	_ = os.RemoveAll(c.dir)
}

func withDatabase(dsn, name string) string {
	u, err := url.Parse(dsn)
	if err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		u.Path = "/" + name
		return u.String()
	}
	return dsn + " dbname=" + name // key=value form: the last one wins
}

func start() {
	if dsn := os.Getenv(EnvDSN); dsn != "" {
		admin = dsn
		startErr = ping(dsn, 10*time.Second)
		return
	}
	removeStale()
	c, dsn, err := startCluster(testSettings)
	if err != nil {
		startErr = err
		return
	}
	cl, admin = c, dsn
}

// Bin finds a PostgreSQL server program (the newest Debian version).
func Bin(name string) (string, error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	sort.Slice(dirs, func(i, j int) bool { return version(dirs[i]) > version(dirs[j]) })
	for _, d := range dirs {
		if p := filepath.Join(d, name); isExec(p) {
			return p, nil
		}
	}
	if p, err := exec.LookPath(name); err == nil {
		return p, nil
	}
	return "", fmt.Errorf("%s not found (in /usr/lib/postgresql/*/bin or PATH)", name)
}

func version(binDir string) int {
	n, _ := strconv.Atoi(filepath.Base(filepath.Dir(binDir)))
	return n
}

func isExec(p string) bool {
	fi, err := os.Stat(p)
	return err == nil && fi.Mode()&0o111 != 0
}

// testSettings trade durability for speed: a test cluster never outlives a crash.
var testSettings = []string{"fsync=off", "synchronous_commit=off", "full_page_writes=off"}

// Server is a private cluster started outside a test (benchmarks).
type Server struct {
	DSN string // of the maintenance database
	c   *cluster
}

// StartServer starts a private cluster with the given postgresql.conf
// settings ("name=value"); fsync stays on unless a setting turns it off.
func StartServer(settings ...string) (*Server, error) {
	c, dsn, err := startCluster(settings)
	if err != nil {
		return nil, err
	}
	return &Server{DSN: dsn, c: c}, nil
}

// Stop stops the cluster and removes its directory.
func (s *Server) Stop() { stopCluster(s.c) }

// CreateDatabase creates an empty database (UTF-8, C collation) on the
// server whose maintenance DSN is admin, and returns its DSN.
func CreateDatabase(admin, name string) (string, error) {
	db, err := sql.Open("pgx", admin)
	if err != nil {
		return "", err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'`); err != nil {
		return "", fmt.Errorf("create database %s: %w", name, err)
	}
	return withDatabase(admin, name), nil
}

// startCluster runs initdb and postgres in a new temporary directory. As
// root (they refuse to run as root) both run as the postgres user.
func startCluster(settings []string) (*cluster, string, error) {
	initdb, err := Bin("initdb")
	if err != nil {
		return nil, "", err
	}
	postgres, err := Bin("postgres")
	if err != nil {
		return nil, "", err
	}
	var cred *syscall.Credential
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return nil, "", fmt.Errorf("running as root needs the postgres user: %w", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	dir, err := os.MkdirTemp("", "roster-pgtest-")
	if err != nil {
		return nil, "", err
	}
	if cred != nil {
		if err := os.Chown(dir, int(cred.Uid), int(cred.Gid)); err != nil {
			os.RemoveAll(dir)
			return nil, "", err
		}
	}
	data := filepath.Join(dir, "data")
	cmd := exec.Command(initdb, "-D", data, "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale=C", "--no-sync")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, "", fmt.Errorf("initdb: %v: %s", err, lastLines(string(out), 5))
	}
	port, err := freePort()
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	logf, err := os.Create(filepath.Join(dir, "postgres.log"))
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	c := &cluster{dir: dir, done: make(chan struct{})}
	started := make(chan error, 1)
	// The server gets SIGKILL when the thread that started it ends (the
	// parent-death signal); this goroutine keeps its thread for the life
	// of the test binary.
	go func() {
		runtime.LockOSThread()
		args := []string{"-D", data, "-p", strconv.Itoa(port), "-h", "127.0.0.1", "-k", dir,
			"-c", "max_connections=300", "-c", "shared_buffers=64MB"}
		for _, s := range settings {
			args = append(args, "-c", s)
		}
		cmd := exec.Command(postgres, args...)
		cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred, Pdeathsig: syscall.SIGKILL}
		cmd.Stdout, cmd.Stderr = logf, logf
		cmd.Dir = dir
		if err := cmd.Start(); err != nil {
			started <- err
			close(c.done)
			return
		}
		c.cmd = cmd
		started <- nil
		_ = cmd.Wait()
		logf.Close()
		close(c.done)
		select {} // keep the thread: its end would signal nothing now, but stay tidy
	}()
	if err := <-started; err != nil {
		os.RemoveAll(dir)
		return nil, "", fmt.Errorf("start postgres: %w", err)
	}
	dsn := fmt.Sprintf("postgres://postgres@127.0.0.1:%d/postgres?sslmode=disable", port)
	if err := ping(dsn, 30*time.Second); err != nil {
		_ = c.cmd.Process.Kill()
		<-c.done
		log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
		os.RemoveAll(dir)
		return nil, "", fmt.Errorf("postgres did not come up: %v: %s", err, lastLines(string(log), 5))
	}
	return c, dsn, nil
}

func ping(dsn string, wait time.Duration) error {
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	deadline := time.Now().Add(wait)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		err = db.PingContext(ctx)
		cancel()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		time.Sleep(100 * time.Millisecond)
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

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// ForEachDriver runs fn as a subtest per store driver: "sqlite" with the
// path of a new database file, "postgres" with a new database (skipped, or
// failed under CI, without PostgreSQL). It is how store tests stay one
// conformance suite for both.
func ForEachDriver(t *testing.T, fn func(t *testing.T, driver, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, "sqlite", filepath.Join(t.TempDir(), "roster.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, "postgres", DSN(t)) })
}

// SuiteEnv, set to "postgres" in a test process, makes Store choose
// PostgreSQL: RerunSuite sets it to run a package's tests again on PostgreSQL.
const SuiteEnv = "ROSTER_TEST_SUITE_DRIVER"

// Store picks the store for a test of a package whose suite runs on both
// drivers: SQLite at sqlitePath, or, in the rerun, a new PostgreSQL database.
func Store(t testing.TB, sqlitePath string) (driver, dsn string) {
	t.Helper()
	if os.Getenv(SuiteEnv) == "postgres" {
		return "postgres", DSN(t)
	}
	return "sqlite", sqlitePath
}

// RerunSuite runs the calling test binary's tests again in a child process
// whose Store calls choose PostgreSQL (on this process's server), and fails
// with the child's output when any test fails there. The calling test is
// skipped inside the child.
func RerunSuite(t *testing.T) {
	t.Helper()
	if os.Getenv(SuiteEnv) != "" {
		t.Skip("this is the PostgreSQL run")
	}
	if testing.Short() {
		t.Skip("-short")
	}
	if err := Available(); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("PostgreSQL is required under CI: %v", err)
		}
		t.Skipf("no PostgreSQL (%v); set %s or install the postgresql package", err, EnvDSN)
	}
	args := []string{"-test.run", "^Test", "-test.skip", "^" + t.Name() + "$"}
	if testing.Verbose() {
		args = append(args, "-test.v")
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), SuiteEnv+"=postgres", Env())
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("the suite on PostgreSQL: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("no PASS from the PostgreSQL run:\n%s", out)
	}
	if testing.Verbose() {
		t.Logf("the suite on PostgreSQL:\n%s", out)
	}
}

// LogPath is the server's log file.
func LogPath(s *Server) string { return filepath.Join(s.c.dir, "postgres.log") }

// removeStale removes the directories of clusters whose test binary died
// without Stop (a panic, a kill): the server died with it (parent-death
// signal) and left its postmaster.pid naming a process that is gone.
func removeStale() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "roster-pgtest-*"))
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "data", "postmaster.pid"))
		if err != nil {
			continue // starting, or not ours to judge
		}
		pid, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(b), "\n", 2)[0]))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			_ = os.RemoveAll(d)
		}
	}
}
