package main

import (
	"context"
	"database/sql"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// One error vocabulary: a database that stays locked beyond its busy
// timeout (another process holding the write lock) is a busy server, on
// every door alike: the admin API and SCIM both answer 503 with
// Retry-After, in their own error format, without the driver's words; once
// the lock is gone both write again.
func TestBusyDatabaseIsAnsweredTheSameOnEveryDoor(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "r.db")
	// A short busy timeout (database.busy_timeout) keeps the test quick:
	// writes queue on the one writer, each waiting its timeout in turn.
	cfg := writeConfig(t, dir, "listen: 127.0.0.1:0\ndatabase: {dsn: "+db+", busy_timeout: 1s}\n")
	admin := adminSetup(t, dir, cfg, "Correct-horse-battery-9")
	r := roster(t, dir, "", "token", "create", "--config", cfg, "--name", "okta", "--scope", "scim")
	if r.code != 0 {
		t.Fatalf("scim token: %s", r.stderr)
	}
	scimToken := strings.TrimSpace(r.stdout)
	d := startServe(t, dir, "--config", cfg)

	type answer struct {
		code  int
		retry string
		body  map[string]any
		raw   string
	}
	send := func(path, token, ctype, body string) answer {
		req, _ := http.NewRequest("POST", d.base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", ctype)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return answer{}
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		a := answer{code: res.StatusCode, retry: res.Header.Get("Retry-After"), raw: string(raw)}
		_ = json.Unmarshal(raw, &a.body)
		return a
	}
	apiUser := func(name string) answer {
		return send("/api/v1/users", admin, "application/json",
			`{"username":"`+name+`","email":"`+name+`@example.com","first_name":"A","last_name":"B","send_invite":false}`)
	}
	scimUser := func(name string) answer {
		return send("/scim/v2/Users", scimToken, "application/scim+json",
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+name+`","emails":[{"value":"`+name+`@example.com","primary":true}],"name":{"givenName":"S","familyName":"C"}}`)
	}

	// Another process holds the write lock for longer than the busy timeout.
	lock, err := sql.Open("sqlite3", "file:"+db+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer lock.Close()
	conn, err := lock.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := conn.ExecContext(context.Background(), "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	var api, scim answer
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); api = apiUser("busy-api") }()
	go func() { defer wg.Done(); scim = scimUser("busy-scim") }()
	wg.Wait()
	if _, err := conn.ExecContext(context.Background(), "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	conn.Close()

	apiErr, _ := api.body["error"].(map[string]any)
	if api.code != http.StatusServiceUnavailable || api.retry == "" || apiErr["code"] != "busy" {
		t.Errorf("admin API while the database is locked: %d Retry-After=%q %s, want 503 busy with Retry-After", api.code, api.retry, api.raw)
	}
	if scim.code != http.StatusServiceUnavailable || scim.retry == "" || !strings.Contains(scim.raw, "urn:ietf:params:scim:api:messages:2.0:Error") {
		t.Errorf("SCIM while the database is locked: %d Retry-After=%q %s, want a 503 SCIM error with Retry-After", scim.code, scim.retry, scim.raw)
	}
	for _, a := range []answer{api, scim} {
		if strings.Contains(a.raw, "locked") || strings.Contains(strings.ToLower(a.raw), "sqlite") {
			t.Errorf("the answer shows the driver's words: %s", a.raw)
		}
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		a, s := apiUser("after-api"), scimUser("after-scim")
		if a.code == http.StatusCreated && s.code == http.StatusCreated {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("after the lock: API %d %s, SCIM %d %s", a.code, a.raw, s.code, s.raw)
		}
		time.Sleep(200 * time.Millisecond)
	}
	d.stop(t)
}
