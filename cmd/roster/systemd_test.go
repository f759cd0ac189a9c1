package main

import (
	"bufio"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// need returns the path of an external program, or skips (fails under CI).
func need(t *testing.T, prog string, alts ...string) string {
	t.Helper()
	for _, p := range append([]string{prog}, alts...) {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is not installed (CI must have it)", prog)
	}
	t.Skipf("%s is not installed", prog)
	return ""
}

func readFile(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// unitKeys parses a unit file into key → values (comments dropped).
func unitKeys(unit string) map[string][]string {
	out := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(unit))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' || line[0] == '[' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if ok {
			out[k] = append(out[k], v)
		}
	}
	return out
}

// The unit is what the issue asks for, and systemd-analyze verify finds
// nothing to say about it. verify insists that ExecStart's binary exists,
// so a copy with ExecStart pointing at the freshly built binary is verified;
// everything else is the shipped file byte for byte.
func TestSystemdUnitVerifies(t *testing.T) {
	unit := readFile(t, filepath.Join("..", "..", "systemd", "roster.service"))
	keys := unitKeys(unit)
	for _, tt := range []struct{ key, want string }{
		{"Type", "notify"},
		{"ExecStart", "/usr/bin/roster serve --config /etc/roster/roster.yaml"},
		{"ExecReload", "/bin/kill -HUP $MAINPID"},
		{"User", "roster"},
		{"StateDirectory", "roster"},
		{"ConfigurationDirectory", "roster"},
		{"NoNewPrivileges", "yes"},
		{"ProtectSystem", "strict"},
		{"ProtectHome", "yes"},
		{"PrivateTmp", "yes"},
		{"PrivateDevices", "yes"},
		{"RestrictAddressFamilies", "AF_UNIX AF_INET AF_INET6"},
		{"SystemCallFilter", "@system-service"},
		{"CapabilityBoundingSet", ""},
	} {
		if got := keys[tt.key]; len(got) == 0 || got[0] != tt.want {
			t.Errorf("%s=%q, want %q", tt.key, got, tt.want)
		}
	}
	if len(keys["WatchdogSec"]) == 0 {
		t.Error("WatchdogSec is not set")
	}
	analyze := need(t, "systemd-analyze", "/usr/bin/systemd-analyze")
	dir := t.TempDir()
	copyUnit := strings.Replace(unit, "ExecStart=/usr/bin/roster ", "ExecStart="+binary+" ", 1)
	if copyUnit == unit {
		t.Fatal("ExecStart not found to rewrite")
	}
	if err := os.WriteFile(filepath.Join(dir, "roster.service"), []byte(copyUnit), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(analyze, "verify", "--man=no", "./roster.service")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s", err, out)
	}
	// The hardening keeps systemd's exposure score at or below 2.0 of 10.
	cmd = exec.Command(analyze, "security", "--offline=true", "--threshold=20", "./roster.service")
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("systemd-analyze security: exposure above 2.0 (%v):\n%s", err, out)
	}
	// A broken unit must make verify speak (the check is not vacuous).
	bad := strings.Replace(copyUnit, "ProtectSystem=strict", "ProtectSystem=sometimes", 1)
	if err := os.WriteFile(filepath.Join(dir, "roster.service"), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd = exec.Command(analyze, "verify", "--man=no", "./roster.service")
	cmd.Dir = dir
	if out, _ := cmd.CombinedOutput(); !strings.Contains(string(out), "sometimes") {
		t.Fatalf("verify said nothing about a bad ProtectSystem: %s", out)
	}
}

// sysusers creates the roster user and tmpfiles its directories in a
// scratch root.
func TestSystemdSysusersAndTmpfiles(t *testing.T) {
	sysusers := need(t, "systemd-sysusers", "/usr/bin/systemd-sysusers", "/bin/systemd-sysusers")
	tmpfiles := need(t, "systemd-tmpfiles", "/usr/bin/systemd-tmpfiles", "/bin/systemd-tmpfiles")
	root := t.TempDir()
	for _, d := range []string{"etc", "var/lib"} {
		if err := os.MkdirAll(filepath.Join(root, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	abs := func(name string) string {
		p, err := filepath.Abs(filepath.Join("..", "..", "systemd", name))
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if out, err := exec.Command(sysusers, "--root="+root, abs("roster.sysusers")).CombinedOutput(); err != nil {
		t.Fatalf("systemd-sysusers: %v\n%s", err, out)
	}
	if passwd := readFile(t, filepath.Join(root, "etc", "passwd")); !strings.Contains(passwd, "roster:x:") || !strings.Contains(passwd, ":/usr/sbin/nologin") {
		t.Fatalf("no roster system user:\n%s", passwd)
	}
	if os.Geteuid() != 0 {
		t.Log("not root: tmpfiles cannot chown; checked syntax only")
	}
	out, err := exec.Command(tmpfiles, "--root="+root, "--create", abs("roster.tmpfiles")).CombinedOutput()
	if err != nil && os.Geteuid() == 0 {
		t.Fatalf("systemd-tmpfiles: %v\n%s", err, out)
	}
	if os.Geteuid() == 0 {
		for _, d := range []string{"var/lib/roster", "etc/roster"} {
			fi, err := os.Stat(filepath.Join(root, d))
			if err != nil || fi.Mode().Perm() != 0o750 {
				t.Fatalf("%s: %v %v", d, fi, err)
			}
		}
	}
}

// notifications collects what the daemon sends to NOTIFY_SOCKET.
type notifications struct {
	ch chan string
}

func listenNotify(t *testing.T) (string, *notifications) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "notify.sock")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	n := &notifications{ch: make(chan string, 1000)}
	go func() {
		buf := make([]byte, 4096)
		for {
			k, err := conn.Read(buf)
			if err != nil {
				close(n.ch)
				return
			}
			n.ch <- string(buf[:k])
		}
	}()
	return path, n
}

// next waits for a message containing want, returning it and everything
// received before it.
func (n *notifications) next(t *testing.T, want string, within time.Duration) (string, []string) {
	t.Helper()
	var before []string
	deadline := time.After(within)
	for {
		select {
		case m, ok := <-n.ch:
			if !ok {
				t.Fatalf("notify socket closed before %q; got %q", want, before)
			}
			if strings.Contains(m, want) {
				return m, before
			}
			before = append(before, m)
		case <-deadline:
			t.Fatalf("no %q within %s; got %q", want, within, before)
		}
	}
}

// The real binary tells systemd READY=1 only once /readyz answers, pings
// the watchdog, says RELOADING=1 then READY=1 around a SIGHUP, and
// STOPPING=1 on SIGTERM.
func TestServeSpeaksTheNotifyProtocol(t *testing.T) {
	dir := t.TempDir()
	sock, n := listenNotify(t)
	cfg := writeConfig(t, dir, "listen: 127.0.0.1:0\ndatabase: {dsn: "+filepath.Join(dir, "r.db")+"}\n")
	// WATCHDOG_USEC=600ms: pings every 300ms.
	t0 := time.Now()
	d := startServeEnv(t, dir, []string{"NOTIFY_SOCKET=" + sock, "WATCHDOG_USEC=600000"}, "--config", cfg)
	ready, before := n.next(t, "READY=1", 20*time.Second)
	t.Logf("exec to READY=1 (fresh database, migrations included): %s", time.Since(t0).Round(time.Millisecond))
	if len(before) > 0 {
		t.Fatalf("messages before READY=1: %q", before)
	}
	addr := ""
	for _, line := range strings.Split(ready, "\n") {
		if s, ok := strings.CutPrefix(line, "STATUS=serving on "); ok {
			addr = s
		}
	}
	if addr == "" || "http://"+addr != d.base {
		t.Fatalf("READY message %q does not name the listener %s", ready, d.base)
	}
	// At the moment READY=1 arrives, /readyz already answers.
	if code, body := get(t, d.base+"/readyz"); code != http.StatusOK {
		t.Fatalf("/readyz after READY=1: %d %s", code, body)
	}
	start := time.Now()
	for range 3 {
		n.next(t, "WATCHDOG=1", 2*time.Second)
	}
	if el := time.Since(start); el > 2500*time.Millisecond { // 900 ms nominal; slack for a loaded machine
		t.Fatalf("3 watchdog pings took %s with WATCHDOG_USEC=600ms", el)
	}
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	m, _ := n.next(t, "RELOADING=1", 5*time.Second)
	if !strings.Contains(m, "MONOTONIC_USEC=") {
		t.Fatalf("RELOADING without MONOTONIC_USEC: %q", m)
	}
	n.next(t, "READY=1", 5*time.Second)
	d.stop(t)
	n.next(t, "STOPPING=1", 5*time.Second)
}
