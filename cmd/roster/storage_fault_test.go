package main

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

// mountTmpfs mounts a tmpfs of size bytes (a disk that can fill up) and
// unmounts it when the test ends. It needs root: under CI its absence fails
// the test.
func mountTmpfs(t *testing.T, size string) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "roster-tmpfs-")
	if err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0755", "tmpfs", dir).CombinedOutput(); err != nil {
		os.Remove(dir)
		if os.Getenv("CI") != "" {
			t.Fatalf("mounting a tmpfs (needs root) to fill a disk: %v %s", err, out)
		}
		t.Skipf("cannot mount a tmpfs (needs root): %v %s", err, out)
	}
	t.Cleanup(func() {
		_ = exec.Command("umount", "-l", dir).Run()
		os.Remove(dir)
	})
	return dir
}

type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func (c apiClient) do(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	req.Header.Set("Content-Type", "application/json")
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

func errMessage(m map[string]any) string {
	e, _ := m["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// checkDB opens the database file after the daemon stopped: the integrity
// check passes and every acknowledged username is there, once.
func checkDB(t *testing.T, path string, acked []string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var ic string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&ic); err != nil || ic != "ok" {
		t.Fatalf("integrity_check: %q %v", ic, err)
	}
	for _, u := range acked {
		var n int
		if err := db.QueryRow(`SELECT COUNT(*) FROM users WHERE username = ?`, u).Scan(&n); err != nil || n != 1 {
			t.Errorf("acknowledged user %s: %d rows (%v)", u, n, err)
		}
	}
}

// The disk fills up under the running daemon (a small tmpfs): a write that
// cannot be stored answers 503 naming the full disk (not a 500), /readyz
// turns 503 with the reason, reads go on; once space is freed writes work
// and /readyz recovers; afterwards the database passes integrity_check and
// holds every acknowledged write.
func TestDiskFull(t *testing.T) {
	dir := mountTmpfs(t, "6m")
	db := filepath.Join(dir, "r.db")
	cfg := writeConfig(t, t.TempDir(), "listen: 127.0.0.1:0\ndatabase: {dsn: "+db+"}\n")
	if r := roster(t, dir, "Quiet-harbour-77\n", "user", "create", "--config", cfg, "--username", "boss@example.com", "--email", "boss@example.com",
		"--role", "owner", "--no-invite", "--password-stdin"); r.code != 0 {
		t.Fatalf("owner: %s", r.stderr)
	}
	d := startServe(t, dir, "--config", cfg)
	c := apiClient{t: t, base: d.base}
	code, m := c.do("POST", "/api/v1/auth/login", map[string]any{"username": "boss@example.com", "password": "Quiet-harbour-77"})
	if code != 200 {
		t.Fatalf("login: %d %v", code, m)
	}
	c.token = m["token"].(string)
	var acked []string
	create := func(i int) (int, map[string]any) {
		name := fmt.Sprintf("u%04d@example.com", i)
		code, m := c.do("POST", "/api/v1/users", map[string]any{"username": name, "email": name, "first_name": strings.Repeat("F", 100),
			"last_name": strings.Repeat("L", 100), "send_invite": false})
		if code == 201 {
			acked = append(acked, name)
		}
		return code, m
	}
	for i := 0; i < 5; i++ {
		if code, m := create(i); code != 201 {
			t.Fatalf("create before the disk is full: %d %v", code, m)
		}
	}
	// Fill the disk.
	filler := filepath.Join(dir, "filler")
	f, err := os.Create(filler)
	if err != nil {
		t.Fatal(err)
	}
	chunk := make([]byte, 64<<10)
	for {
		if _, err := f.Write(chunk); err != nil {
			if !errors.Is(err, syscall.ENOSPC) {
				t.Fatalf("filling: %v", err)
			}
			break
		}
	}
	f.Close()
	var failCode int
	var failMsg string
	for i := 5; i < 2000; i++ {
		code, m := create(i)
		if code == 201 {
			continue
		}
		failCode, failMsg = code, errMessage(m)
		break
	}
	if failCode != http.StatusServiceUnavailable || !strings.Contains(failMsg, "disk is full") {
		t.Fatalf("a write on a full disk: %d %q, want 503 naming the full disk", failCode, failMsg)
	}
	code, body := get(t, d.base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "disk is full") {
		t.Fatalf("/readyz on a full disk: %d %s", code, body)
	}
	if code, _ := c.do("GET", "/api/v1/users?limit=5", nil); code != 200 {
		t.Fatalf("reads on a full disk: %d", code)
	}
	t.Logf("disk full after %d acknowledged users: %d %q", len(acked), failCode, failMsg)
	// Space again.
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	if code, m := create(9000); code != 201 {
		t.Fatalf("a write after space was freed: %d %v", code, m)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		if code, _ := get(t, d.base+"/readyz"); code == 200 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("/readyz did not recover after space was freed")
		}
		time.Sleep(250 * time.Millisecond)
	}
	d.stop(t)
	checkDB(t, db, acked)
	if strings.Contains(d.logs.String(), "panic") {
		t.Errorf("panic in the log:\n%s", d.logs)
	}
}

// A database file the daemon's user cannot write (a restore owned by root,
// say): /readyz is 503 naming a read-only database, a write answers 503
// with the same reason, nothing is corrupted.
func TestReadOnlyDatabase(t *testing.T) {
	if os.Geteuid() != 0 {
		if os.Getenv("CI") != "" {
			t.Fatal("this test drops to another user: it needs root")
		}
		t.Skip("needs root to run the daemon as another user")
	}
	base, err := os.MkdirTemp("", "roster-ro-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(base) })
	if err := os.Chmod(base, 0o755); err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(base, "roster")
	raw, err := os.ReadFile(binary)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, raw, 0o755); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(base, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	db := filepath.Join(data, "r.db")
	cfg := filepath.Join(base, "roster.yaml")
	if err := os.WriteFile(cfg, []byte("listen: 127.0.0.1:0\ndatabase: {dsn: "+db+"}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := roster(t, base, "Quiet-harbour-77\n", "user", "create", "--config", cfg, "--username", "boss@example.com", "--email", "boss@example.com",
		"--role", "owner", "--no-invite", "--password-stdin"); r.code != 0 {
		t.Fatalf("owner: %s", r.stderr)
	}
	// The directory belongs to the daemon's user (nobody), the file to root, read-only for others.
	const nobody = 65534
	for _, p := range []string{data, db + "-wal", db + "-shm"} {
		_ = os.Chown(p, nobody, nobody)
	}
	if err := os.Chmod(db, 0o644); err != nil {
		t.Fatal(err)
	}
	d := &daemon{logs: &syncBuffer{}, done: make(chan error, 1)}
	d.cmd = exec.Command(bin, "serve", "--config", cfg)
	d.cmd.Dir = base
	d.cmd.Env = append(os.Environ(), "ROSTER_CONFIG=")
	d.cmd.Stdout, d.cmd.Stderr = d.logs, d.logs
	d.cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() { _ = d.cmd.Process.Kill(); <-d.done })
	deadline := time.Now().Add(20 * time.Second)
	for d.base == "" {
		if m := readyRE.FindStringSubmatch(d.logs.String()); m != nil {
			d.base = "http://" + m[1]
			break
		}
		select {
		case err := <-d.done:
			// Refusing to start is a clear outcome too, if it says why.
			d.done <- err
			if !strings.Contains(strings.ToLower(d.logs.String()), "read") {
				t.Fatalf("serve exited without naming the read-only database: %v\n%s", err, d.logs)
			}
			t.Logf("serve refused to start: %s", d.logs)
			checkDB(t, db, []string{"boss@example.com"})
			return
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve not ready:\n%s", d.logs)
		}
	}
	code, body := get(t, d.base+"/readyz")
	if code != http.StatusServiceUnavailable || !strings.Contains(body, "read-only") {
		t.Fatalf("/readyz on a read-only database: %d %s", code, body)
	}
	c := apiClient{t: t, base: d.base}
	code, m := c.do("POST", "/api/v1/auth/login", map[string]any{"username": "boss@example.com", "password": "Quiet-harbour-77"})
	if code != http.StatusServiceUnavailable || !strings.Contains(errMessage(m), "read-only") {
		t.Fatalf("login (writes a session) on a read-only database: %d %v", code, m)
	}
	if code, _ := get(t, d.base+"/healthz"); code != 200 {
		t.Fatalf("healthz: %d", code)
	}
	d.stop(t)
	checkDB(t, db, []string{"boss@example.com"})
}
