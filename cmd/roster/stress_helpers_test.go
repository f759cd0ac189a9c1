//go:build stress

package main

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"
)

// stressDuration is ROSTER_STRESS_DURATION (a Go duration), or def.
func stressDuration(t *testing.T, def time.Duration) time.Duration {
	if s := os.Getenv("ROSTER_STRESS_DURATION"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("ROSTER_STRESS_DURATION: %v", err)
		}
		return d
	}
	return def
}

// kill9 ends the daemon with SIGKILL: no shutdown code runs.
func (d *daemon) kill9(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	err := <-d.done
	d.done <- err // for the cleanup
}

// dbQuery runs one scalar query on the database file (the daemon may run).
func dbInt(t *testing.T, path, q string, args ...any) int {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func integrityOK(t *testing.T, path string) {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_busy_timeout=10000")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var s string
	if err := db.QueryRow(`PRAGMA integrity_check`).Scan(&s); err != nil || s != "ok" {
		t.Fatalf("integrity_check: %q %v", s, err)
	}
}

// scimCall is one SCIM request; it returns the status and the decoded body.
func scimCall(client *http.Client, base, token, method, path string, body any) (int, map[string]any, error) {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, base+"/scim/v2"+path, rd)
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/scim+json")
	res, err := client.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	if m == nil && len(raw) > 0 {
		m = map[string]any{"raw": string(raw)}
	}
	return res.StatusCode, m, nil
}

func scimUserDoc(name, family string) map[string]any {
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": name,
		"name": map[string]any{"givenName": "Load", "familyName": family}, "emails": []map[string]any{{"value": name, "primary": true}}}
}

func patchOp(op, path string, value any) map[string]any {
	o := map[string]any{"op": op, "path": path}
	if value != nil {
		o["value"] = value
	}
	return map[string]any{"schemas": []string{"urn:ietf:params:scim:api:messages:2.0:PatchOp"}, "Operations": []any{o}}
}

func countLines(s, sub string) int { return strings.Count(s, sub) }

var _ = fmt.Sprintf
