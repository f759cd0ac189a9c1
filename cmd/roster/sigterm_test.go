package main

import (
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// dbQuery runs one read-only query against the daemon's SQLite file.
func dbQuery(t *testing.T, db, q string, dst any) {
	t.Helper()
	conn, err := sql.Open("sqlite3", "file:"+db+"?mode=ro&_busy_timeout=5000")
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if err := conn.QueryRow(q).Scan(dst); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// SIGTERM in the middle of a big LDAP sync: the run stops at a batch
// boundary (the batch in flight rolls back), its record says it did not
// finish, the database is intact, the process exits 0 — and the next start
// completes the sync.
func TestSIGTERMDuringASync(t *testing.T) {
	const n = 20000
	srv := slapdtest.StartCached(t, fmt.Sprintf("bench-%d", n), func(w io.Writer) error { return slapdtest.BenchData(w, n) })
	dir := t.TempDir()
	db := filepath.Join(dir, "r.db")
	cfg := writeConfig(t, dir, `listen: 127.0.0.1:0
database: {dsn: `+db+`}
ldap:
  sources:
    - name: corp
      urls: ["`+srv.URL+`"]
      bind_dn: "`+slapdtest.AdminDN+`"
      bind_password: "`+slapdtest.AdminPW+`"
      users: {base_dn: "`+slapdtest.PeopleDN+`"}
      invite: false
      max_removals: "100%"
`)
	d := startServe(t, dir, "--config", cfg)
	// Wait until users are being written, then stop the daemon.
	deadline := time.Now().Add(60 * time.Second)
	for {
		var users int
		dbQuery(t, db, `SELECT COUNT(*) FROM users WHERE source = 'ldap:corp'`, &users)
		if users > 0 && users < n {
			break
		}
		if users == n || time.Now().After(deadline) {
			t.Fatalf("could not catch the sync in progress (%d users)", users)
		}
		time.Sleep(5 * time.Millisecond)
	}
	d.stop(t) // exit status 0 within the grace period, or the test fails
	logs := d.logs.String()
	if !strings.Contains(logs, "msg=stopped") {
		t.Fatalf("no clean stop:\n%s", logs)
	}
	var status, integrity string
	var users int
	dbQuery(t, db, `SELECT status FROM ldap_sync_runs ORDER BY id DESC LIMIT 1`, &status)
	dbQuery(t, db, `PRAGMA integrity_check`, &integrity)
	dbQuery(t, db, `SELECT COUNT(*) FROM users WHERE source = 'ldap:corp'`, &users)
	if integrity != "ok" {
		t.Fatalf("integrity_check: %s", integrity)
	}
	if status == "running" {
		t.Fatal("the interrupted run is still recorded as running")
	}
	t.Logf("interrupted run: status %s, %d of %d users written", status, users, n)
	if status == "ok" && users != n {
		t.Fatalf("run recorded ok with %d of %d users", users, n)
	}

	// The next start completes the sync.
	d = startServe(t, dir, "--config", cfg)
	deadline = time.Now().Add(120 * time.Second)
	for {
		var ok int
		dbQuery(t, db, `SELECT COUNT(*) FROM ldap_sync_runs WHERE status = 'ok'`, &ok)
		if ok > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the sync did not complete after restart:\n%s", d.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	dbQuery(t, db, `SELECT COUNT(*) FROM users WHERE source = 'ldap:corp'`, &users)
	if users != n {
		t.Fatalf("after the completed sync: %d users, want %d", users, n)
	}
	// Figures: a scrape and an online backup at this size.
	start := time.Now()
	if v := value(scrape(t, nil, d.base), "roster_users", "status=active"); v != n {
		t.Fatalf("roster_users active = %v", v)
	}
	t.Logf("/metrics scrape with %d users: %s", n, time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if r := roster(t, dir, "", "backup", "--config", cfg, filepath.Join(dir, "copy.db")); r.code != 0 {
		t.Fatalf("backup: %s", r.stderr)
	}
	fi, _ := os.Stat(filepath.Join(dir, "copy.db"))
	t.Logf("roster backup of %d users while serving: %s, %d MB", n, time.Since(start).Round(time.Millisecond), fi.Size()>>20)
	d.stop(t)
}

// SIGTERM while a SCIM request is being received: the server stops
// accepting, lets the request finish (201, the user is stored), then exits 0.
func TestSIGTERMDuringASCIMRequest(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "r.db")
	cfg := writeConfig(t, dir, "listen: 127.0.0.1:0\ndatabase: {dsn: "+db+"}\n")
	r := roster(t, dir, "", "token", "create", "--config", cfg, "--name", "okta", "--scope", "scim", "--invite=false")
	if r.code != 0 {
		t.Fatalf("token create: %s", r.stderr)
	}
	token := strings.TrimSpace(r.stdout)
	d := startServe(t, dir, "--config", cfg)
	body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"late@example.com","emails":[{"value":"late@example.com","primary":true}]}`
	pr, pw := io.Pipe()
	req, _ := http.NewRequest("POST", d.base+"/scim/v2/Users", pr)
	req.ContentLength = int64(len(body))
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set("Authorization", "Bearer "+token)
	type answer struct {
		code int
		err  error
	}
	got := make(chan answer, 1)
	go func() {
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			got <- answer{0, err}
			return
		}
		res.Body.Close()
		got <- answer{res.StatusCode, nil}
	}()
	// Half the body is sent: the request is in the handler.
	if _, err := pw.Write([]byte(body[:len(body)/2])); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond)
	at := len(d.logs.String())
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	d.waitLog(t, at, "shutting down")
	time.Sleep(200 * time.Millisecond)
	if _, err := pw.Write([]byte(body[len(body)/2:])); err != nil {
		t.Fatal(err)
	}
	pw.Close()
	a := <-got
	if a.err != nil || a.code != http.StatusCreated {
		t.Fatalf("the in-flight SCIM request: %d %v\n%s", a.code, a.err, d.logs)
	}
	select {
	case err := <-d.done:
		d.done <- err
		if err != nil {
			t.Fatalf("exit: %v\n%s", err, d.logs)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not exit")
	}
	var users int
	dbQuery(t, db, `SELECT COUNT(*) FROM users WHERE username = 'late@example.com'`, &users)
	if users != 1 {
		t.Fatalf("the user of the finished request is not stored (%d)", users)
	}
}
