package main

import (
	"context"
	"database/sql"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/ldapsync/slapdtest"
)

// TestServeSchedulesSync starts `roster serve` with an LDAP source: the
// scheduler runs the sync at start, and the daemon stops cleanly on cancel.
func TestServeSchedulesSync(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.People(4))
	dir := t.TempDir()
	db := filepath.Join(dir, "roster.db")
	cfg := filepath.Join(dir, "roster.yaml")
	conf := `listen: 127.0.0.1:0
database: {driver: sqlite, dsn: ` + db + `}
log: {level: error}
ldap:
  sources:
    - name: corp
      urls: ["` + srv.URL + `"]
      bind_dn: "` + slapdtest.AdminDN + `"
      bind_password: "` + slapdtest.AdminPW + `"
      users: {base_dn: "` + slapdtest.PeopleDN + `"}
      invite: false
`
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"serve", "--config", cfg}, strings.NewReader(""), io.Discard, io.Discard)
	}()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var n int
		if conn, err := sql.Open("sqlite3", "file:"+db+"?_query_only=true"); err == nil {
			_ = conn.QueryRow(`SELECT COUNT(*) FROM users WHERE source = 'ldap:corp'`).Scan(&n)
			conn.Close()
		}
		if n == 4 {
			break
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("the scheduler did not sync within 20s (%d users)", n)
		}
		time.Sleep(100 * time.Millisecond)
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("serve: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not stop")
	}
}
