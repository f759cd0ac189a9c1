package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit/slapdtest"
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

// TestAdminAPIAddsAnLDAPUser: "Add an LDAP user" through the admin API of the
// real binary looks the username up in an on-demand source (slapd) and
// imports it; directory users then log in through their directory.
func TestAdminAPIAddsAnLDAPUser(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.People(3))
	dir := t.TempDir()
	cfg := writeConfig(t, dir, `listen: 127.0.0.1:0
database: {dsn: `+filepath.Join(dir, "r.db")+`}
ldap:
  sources:
    - name: corp
      urls: ["`+srv.URL+`"]
      bind_dn: "`+slapdtest.AdminDN+`"
      bind_password: "`+slapdtest.AdminPW+`"
      users: {base_dn: "`+slapdtest.PeopleDN+`"}
      mode: on_demand
      invite: false
`)
	if r := roster(t, dir, "Owner-of-it-all-1\n", "user", "create", "--config", cfg, "--username", "boss@example.com", "--email", "boss@example.com",
		"--role", "owner", "--no-invite", "--password-stdin"); r.code != 0 {
		t.Fatalf("owner: %s", r.stderr)
	}
	d := startServe(t, dir, "--config", cfg)
	post := func(path, token, body string) (int, map[string]any) {
		req, _ := http.NewRequest("POST", d.base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}
	code, m := post("/api/v1/auth/login", "", `{"username":"boss@example.com","password":"Owner-of-it-all-1"}`)
	if code != 200 {
		t.Fatalf("login: %d %v", code, m)
	}
	tok := m["token"].(string)
	code, m = post("/api/v1/users", tok, `{"source":"ldap","ldap_source":"corp","username":"user0002"}`)
	if code != 201 || m["source"] != "ldap:corp" || m["status"] != "active" || m["external_id"] == "" {
		t.Fatalf("add LDAP user: %d %v", code, m)
	}
	if code, m = post("/api/v1/users", tok, `{"source":"ldap","ldap_source":"corp","username":"nobody"}`); code != 404 {
		t.Fatalf("unknown LDAP user: %d %v", code, m)
	}
	if code, m = post("/api/v1/users", tok, `{"source":"ldap","ldap_source":"elsewhere","username":"user0001"}`); code != 404 {
		t.Fatalf("unknown source: %d %v", code, m)
	}
	// Search the directory by part of a name, to pick the user to add.
	search := func(q string) (int, []map[string]any) {
		req, _ := http.NewRequest("GET", d.base+"/api/v1/ldap/sources/corp/search?q="+q, nil)
		req.Header.Set("Authorization", "Bearer "+tok)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var out struct {
			Entries []map[string]any `json:"entries"`
		}
		_ = json.NewDecoder(res.Body).Decode(&out)
		return res.StatusCode, out.Entries
	}
	if code, es := search("last1"); code != 200 || len(es) != 1 || es[0]["username"] != "user0001" || es[0]["email"] != "user0001@example.com" {
		t.Fatalf("search last1: %d %v", code, es)
	}
	if code, es := search("user000"); code != 200 || len(es) != 3 {
		t.Fatalf("search user000: %d %v", code, es)
	}
	if code, es := search("%2A%29%28uid%3D%2A"); code != 200 || len(es) != 0 { // *)(uid=* is escaped, not injected
		t.Fatalf("search with filter syntax: %d %v", code, es)
	}
	// Sync now, then the source's status with its last run.
	if code, m = post("/api/v1/ldap/sources/corp/sync?full=true", tok, ``); code != 200 || m["status"] != "ok" || m["source"] != "corp" {
		t.Fatalf("sync now: %d %v", code, m)
	}
	if code, m = post("/api/v1/ldap/sources/nope/sync", tok, ``); code != 404 {
		t.Fatalf("sync of an unknown source: %d %v", code, m)
	}
	req, _ := http.NewRequest("GET", d.base+"/api/v1/ldap/sources", nil)
	req.Header.Set("Authorization", "Bearer "+tok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		Sources []struct {
			Name string           `json:"name"`
			Runs []map[string]any `json:"runs"`
		} `json:"sources"`
	}
	_ = json.NewDecoder(res.Body).Decode(&st)
	res.Body.Close()
	if len(st.Sources) != 1 || st.Sources[0].Name != "corp" || len(st.Sources[0].Runs) == 0 {
		t.Fatalf("sources: %+v", st)
	}
	if code, body := get(t, d.base+"/metrics"); code != 200 || !strings.Contains(body, `roster_ldap_sync_last_run{count="created",source="corp",status="ok"} 0`) ||
		!strings.Contains(body, `roster_ldap_sync_last_success_timestamp_seconds{source="corp"}`) {
		t.Fatalf("metrics: %d\n%s", code, body)
	}
	if code, _ = post("/api/v1/auth/login", "", `{"username":"user0002","password":"pw-user0002"}`); code != 200 {
		t.Fatalf("directory login: %d", code)
	}
	if code, _ = post("/api/v1/auth/login", "", `{"username":"user0002","password":"pw-user0001"}`); code != 401 {
		t.Fatalf("directory login with a wrong password: %d", code)
	}
	d.stop(t)
}
