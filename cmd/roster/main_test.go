package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit/pgtest"
)

// The smoke tests run the real binary, built once.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "roster-bin")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "roster")
	out, err := exec.Command("go", "build", "-o", binary, ".").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build roster: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	pgtest.Stop()
	os.RemoveAll(dir)
	os.Exit(code)
}

type result struct {
	stdout, stderr string
	code           int
}

// roster runs one command in dir and waits for it.
func roster(t *testing.T, dir, stdin string, args ...string) result {
	t.Helper()
	cmd := exec.Command(binary, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ROSTER_CONFIG=")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return result{out.String(), errb.String(), code}
}

// syncBuffer is a bytes.Buffer safe for a process writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type daemon struct {
	cmd  *exec.Cmd
	logs *syncBuffer
	base string
	done chan error
}

var (
	readyRE     = regexp.MustCompile(`msg="roster ready".* listen=(\S+) scheme=(\S+)`)
	readyJSONRE = regexp.MustCompile(`"msg":"roster ready".*"listen":"([^"]+)","scheme":"([^"]+)"`)
)

// startServe starts `roster serve args…` in dir and waits until it logs its address.
func startServe(t *testing.T, dir string, args ...string) *daemon {
	t.Helper()
	return startServeEnv(t, dir, nil, args...)
}

// startServeEnv is startServe with extra environment variables.
func startServeEnv(t *testing.T, dir string, env []string, args ...string) *daemon {
	t.Helper()
	d := &daemon{logs: &syncBuffer{}, done: make(chan error, 1)}
	d.cmd = exec.Command(binary, append([]string{"serve"}, args...)...)
	d.cmd.Dir = dir
	d.cmd.Env = append(append(os.Environ(), "ROSTER_CONFIG="), env...)
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		<-d.done
	})
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		m := readyRE.FindStringSubmatch(d.logs.String())
		if m == nil {
			m = readyJSONRE.FindStringSubmatch(d.logs.String())
		}
		if m != nil {
			d.base = m[2] + "://" + m[1]
			return d
		}
		select {
		case err := <-d.done:
			t.Fatalf("serve exited early: %v\n%s", err, d.logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve not ready:\n%s", d.logs)
	return nil
}

func (d *daemon) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		d.done <- err // for the cleanup
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM:\n%s", err, d.logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatalf("serve did not stop on SIGTERM:\n%s", d.logs)
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b bytes.Buffer
	_, _ = b.ReadFrom(resp.Body)
	return resp.StatusCode, b.String()
}

func portFree(addr string) bool {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return false
	}
	ln.Close()
	return true
}

func writeConfig(t *testing.T, dir, body string) string {
	t.Helper()
	p := filepath.Join(dir, "roster.yaml")
	if err := os.WriteFile(p, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestServeWithNoArgumentsRunsTheEmbeddedDefault(t *testing.T) {
	if !portFree("127.0.0.1:8080") {
		if os.Getenv("CI") != "" {
			t.Fatal("127.0.0.1:8080 is taken; the embedded default cannot be tested")
		}
		t.Skip("127.0.0.1:8080 is taken by another process")
	}
	dir := t.TempDir()
	d := startServe(t, dir)
	if d.base != "http://127.0.0.1:8080" {
		t.Fatalf("default listen address is %s", d.base)
	}
	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := get(t, d.base+path); code != http.StatusOK {
			t.Fatalf("%s: %d %s", path, code, body)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "data", "roster.db")); err != nil {
		t.Fatalf("embedded default database not created: %v", err)
	}
	d.stop(t)
	if !strings.Contains(d.logs.String(), "msg=stopped") {
		t.Fatalf("no clean stop logged:\n%s", d.logs)
	}
}

func TestOperatorCommandsAgainstARunningDaemon(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "listen: 127.0.0.1:0\npublic_url: https://roster.example.com\ndatabase: {dsn: "+filepath.Join(dir, "r.db")+"}\n")
	d := startServe(t, dir, "--config", cfg)

	// user create while serve runs on the same database.
	r := roster(t, dir, "", "user", "create", "--config", cfg, "--org", "default", "--username", "Alice@Example.com",
		"--email", "alice@example.com", "--first", "Alice", "--last", "Smith", "--role", "admin")
	if r.code != 0 {
		t.Fatalf("user create: %d %s", r.code, r.stderr)
	}
	var u struct {
		Status       string `json:"status"`
		Role         string `json:"role"`
		InviteStatus string `json:"invite_status"`
		InviteLink   string `json:"invite_link"`
		FullName     string `json:"full_name"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &u); err != nil {
		t.Fatalf("user create output is not JSON: %v\n%s", err, r.stdout)
	}
	if u.Status != "invited" || u.InviteStatus != "pending" || u.Role != "admin" || u.FullName != "Alice Smith" ||
		!strings.HasPrefix(u.InviteLink, "https://roster.example.com/invite/rinv_") {
		t.Fatalf("created user: %+v", u)
	}
	if strings.Contains(r.stderr, strings.TrimPrefix(u.InviteLink, "https://roster.example.com/invite/")) {
		t.Fatal("the invite token was logged")
	}

	// --invite mail queues the invitation for serve's worker: no link is printed.
	r = roster(t, dir, "", "user", "create", "--config", cfg, "--username", "mailed@example.com", "--email", "mailed@example.com", "--invite", "mail")
	if r.code != 0 || strings.Contains(r.stdout, "invite_link") || !strings.Contains(r.stdout, `"invite_status": "pending"`) {
		t.Fatalf("--invite mail: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if r := roster(t, dir, "", "user", "create", "--config", cfg, "--username", "z@example.com", "--invite", "pigeon"); r.code != 2 || !strings.Contains(r.stderr, `--invite "pigeon" is not mail or link`) {
		t.Fatalf("bad --invite: %d %s", r.code, r.stderr)
	}
	// Duplicate (case-insensitive) is refused with the field named, exit 1.
	r = roster(t, dir, "", "user", "create", "--config", cfg, "--username", "alice@EXAMPLE.com", "--email", "other@example.com")
	if r.code != 1 || !strings.Contains(r.stderr, "username") || !strings.Contains(r.stderr, "already taken") {
		t.Fatalf("duplicate: %d %s", r.code, r.stderr)
	}
	// An admin without email is refused.
	r = roster(t, dir, "", "user", "create", "--config", cfg, "--username", "boss", "--role", "admin", "--no-invite")
	if r.code != 1 || !strings.Contains(r.stderr, "email: is required for admins") {
		t.Fatalf("admin without email: %d %s", r.code, r.stderr)
	}
	// Unknown organisation.
	r = roster(t, dir, "", "user", "create", "--config", cfg, "--org", "nope", "--username", "x")
	if r.code != 1 || !strings.Contains(r.stderr, `organisation "nope" not found`) {
		t.Fatalf("unknown org: %d %s", r.code, r.stderr)
	}

	// An owner with a password from stdin, active at once.
	r = roster(t, dir, "s3cret-passphrase\n", "user", "create", "--config", cfg, "--username", "owner@example.com",
		"--email", "owner@example.com", "--role", "owner", "--no-invite", "--password-stdin")
	if r.code != 0 || !strings.Contains(r.stdout, `"status": "active"`) || strings.Contains(r.stdout, "s3cret") || strings.Contains(r.stderr, "s3cret") {
		t.Fatalf("owner create: %d %s %s", r.code, r.stdout, r.stderr)
	}

	// token create prints only the token.
	r = roster(t, dir, "", "token", "create", "--config", cfg, "--org", "default", "--name", "okta", "--scope", "scim")
	if r.code != 0 || !regexp.MustCompile(`^rscim_[A-Za-z0-9_-]{43}\n$`).MatchString(r.stdout) {
		t.Fatalf("token create: %d %q %s", r.code, r.stdout, r.stderr)
	}
	r = roster(t, dir, "", "token", "create", "--config", cfg, "--name", "ops", "--scope", "admin", "--user", "OWNER@example.com")
	if r.code != 0 || !strings.HasPrefix(r.stdout, "radm_") {
		t.Fatalf("admin token create: %d %q %s", r.code, r.stdout, r.stderr)
	}
	r = roster(t, dir, "", "token", "create", "--config", cfg, "--name", "x", "--scope", "root")
	if r.code != 1 || !strings.Contains(r.stderr, `scope: "root" is not one of scim, admin`) {
		t.Fatalf("bad scope: %d %s", r.code, r.stderr)
	}

	// user list sees both users.
	r = roster(t, dir, "", "user", "list", "--config", cfg, "--json")
	var list struct {
		Users []struct{ Username string } `json:"users"`
		Total int                         `json:"total"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &list); err != nil || list.Total != 3 {
		t.Fatalf("user list: %v %s", err, r.stdout)
	}
	r = roster(t, dir, "", "user", "list", "--config", cfg)
	if !strings.Contains(r.stdout, "Alice@Example.com") || !strings.Contains(r.stdout, "pending") {
		t.Fatalf("user list table:\n%s", r.stdout)
	}

	if code, _ := get(t, d.base+"/readyz"); code != http.StatusOK {
		t.Fatalf("readyz after CLI writes: %d", code)
	}
	// The mail queued by --invite mail waits (no SMTP server here): /metrics shows it.
	if code, body := get(t, d.base+"/metrics"); code != http.StatusOK || !strings.Contains(body, "roster_mail_queue_depth 1\n") || !strings.Contains(body, `roster_mail_outbox{state="queued"} 1`) {
		t.Fatalf("metrics: %d\n%s", code, body)
	}
	d.stop(t)
	if strings.Contains(d.logs.String(), "database is locked") {
		t.Fatalf("lock errors in the daemon log:\n%s", d.logs)
	}
}

func TestConfigCheck(t *testing.T) {
	dir := t.TempDir()
	good := writeConfig(t, dir, "listen: 127.0.0.1:9999\n")
	if r := roster(t, dir, "", "config", "check", "--config", good); r.code != 0 || !strings.Contains(r.stdout, "ok") {
		t.Fatalf("good config: %d %s %s", r.code, r.stdout, r.stderr)
	}
	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("listen: 127.0.0.1:9999\nsmtp:\n  hots: x\nlog: {level: loud}\n"), 0o600)
	r := roster(t, dir, "", "config", "check", "--config", bad)
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	// Every problem at once: the unknown key does not hide the bad value.
	if r.code != 1 || len(lines) != 2 || !strings.HasPrefix(lines[0], "smtp.hots: unknown key") || !strings.HasPrefix(lines[1], "log.level:") {
		t.Fatalf("bad config: %d %q", r.code, r.stdout)
	}
	_ = os.WriteFile(bad, []byte("listen: 127.0.0.1:9999\nsmtp: {port: many}\nlog: {level: loud}\n"), 0o600)
	r = roster(t, dir, "", "config", "check", "--config", bad)
	if r.code != 1 || !strings.Contains(r.stdout, "smtp.port:") || !strings.Contains(r.stdout, "log.level:") || strings.Count(r.stdout, "smtp.port") != 1 {
		t.Fatalf("a mistyped value and a bad one, each once: %d %q", r.code, r.stdout)
	}
	_ = os.WriteFile(bad, []byte("log: {level: loud, format: xml}\n"), 0o600)
	r = roster(t, dir, "", "config", "check", "--config", bad)
	if r.code != 1 || !strings.Contains(r.stdout, "log.level:") || !strings.Contains(r.stdout, "log.format:") {
		t.Fatalf("every problem on its own line: %d %q", r.code, r.stdout)
	}
	// serve refuses a bad config and writes nothing.
	r = roster(t, dir, "", "serve", "--config", bad)
	if r.code != 1 || !strings.Contains(r.stderr, "log.level") {
		t.Fatalf("serve with bad config: %d %s", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "data")); !os.IsNotExist(err) {
		t.Fatal("serve with a bad config created the database")
	}
	// ROSTER_CONFIG is read.
	cmd := exec.Command(binary, "config", "check")
	cmd.Env = append(os.Environ(), "ROSTER_CONFIG="+bad)
	if out, err := cmd.Output(); err == nil || !strings.Contains(string(out), "log.level") {
		t.Fatalf("ROSTER_CONFIG not used: %v %s", err, out)
	}
}

func TestMigrateAndVersion(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "database: {dsn: "+filepath.Join(dir, "m.db")+"}\n")
	if r := roster(t, dir, "", "migrate", "--config", cfg); r.code != 0 || !strings.Contains(r.stderr, "migration applied") {
		t.Fatalf("migrate: %d %s", r.code, r.stderr)
	}
	if r := roster(t, dir, "", "migrate", "--config", cfg); r.code != 0 || strings.Contains(r.stderr, "migration applied") {
		t.Fatalf("second migrate should apply nothing: %d %s", r.code, r.stderr)
	}
	if r := roster(t, dir, "", "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "roster ") || !strings.Contains(r.stdout, "go1.") {
		t.Fatalf("version: %q", r.stdout)
	}
	if r := roster(t, dir, "", "frobnicate"); r.code != 2 || !strings.Contains(r.stderr, `unknown command "frobnicate"`) {
		t.Fatalf("unknown command: %d %s", r.code, r.stderr)
	}
}

// BenchmarkServeReady measures the time from exec to /readyz 200 on the
// embedded default (a fresh SQLite file, migrations included).
func BenchmarkServeReady(b *testing.B) {
	var total time.Duration
	for i := 0; i < b.N; i++ {
		dir := b.TempDir()
		cfg := filepath.Join(dir, "r.yaml")
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		addr := ln.Addr().String()
		ln.Close()
		_ = os.WriteFile(cfg, []byte("listen: "+addr+"\nlog: {level: warn}\ndatabase: {dsn: "+filepath.Join(dir, "r.db")+"}\n"), 0o600)
		start := time.Now()
		cmd := exec.Command(binary, "serve", "--config", cfg)
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		for {
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+"/readyz", nil)
			resp, err := http.DefaultClient.Do(req)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if ctx.Err() != nil {
				b.Fatal("not ready in 20s")
			}
			time.Sleep(2 * time.Millisecond)
		}
		total += time.Since(start)
		cancel()
		_ = cmd.Process.Signal(syscall.SIGTERM)
		_ = cmd.Wait()
	}
	b.ReportMetric(float64(total.Microseconds())/1000/float64(b.N), "ms-to-ready")
}
