package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// Through the binary: ten anonymous wrong passwords lock the only owner;
// the owner's right password then gets the answer a wrong one gets (no
// oracle); `roster user unlock` on the host lets them back in. A bad
// security.owner_lock_expiry is refused by config check.
func TestLockedOwnerIsNoOracleAndIsUnlockedOnTheHost(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "listen: 127.0.0.1:0\npublic_url: https://roster.example.com\ndatabase: {dsn: "+filepath.Join(dir, "r.db")+"}\nsecurity: {owner_lock_expiry: 30m}\n")
	d := startServe(t, dir, "--config", cfg)
	const pw = "Keeper-passphrase-42"
	if r := roster(t, dir, pw+"\n", "user", "create", "--config", cfg, "--username", "owner@example.com", "--email", "owner@example.com",
		"--role", "owner", "--no-invite", "--password-stdin"); r.code != 0 {
		t.Fatalf("create owner: %d %s", r.code, r.stderr)
	}
	login := func(password string) (int, string) {
		code, m := call(t, nil, "POST", d.base+"/api/v1/auth/login", "", fmt.Sprintf(`{"username":"owner@example.com","password":%q}`, password))
		return code, fmt.Sprint(m)
	}
	for i := 0; i < 10; i++ {
		if code, body := login("Wrong-passphrase-0"); code != 401 {
			t.Fatalf("wrong password %d: %d %s", i+1, code, body)
		}
	}
	wrongCode, wrongBody := login("Wrong-passphrase-0")
	rightCode, rightBody := login(pw)
	if rightCode != 401 || rightCode != wrongCode || rightBody != wrongBody {
		t.Fatalf("locked owner: right password %d %s, wrong password %d %s", rightCode, rightBody, wrongCode, wrongBody)
	}
	r := roster(t, dir, "", "user", "unlock", "--config", cfg, "--username", "OWNER@example.com")
	if r.code != 0 || !strings.Contains(r.stdout, "unlocked owner@example.com (owner)") {
		t.Fatalf("user unlock: %d %s %s", r.code, r.stdout, r.stderr)
	}
	if code, body := login(pw); code != 200 {
		t.Fatalf("login after unlock: %d %s", code, body)
	}
	if r := roster(t, dir, "", "user", "unlock", "--config", cfg, "--username", "owner@example.com"); r.code != 1 || !strings.Contains(r.stderr, "not locked") {
		t.Fatalf("unlock of an active user: %d %s", r.code, r.stderr)
	}
	if r := roster(t, dir, "", "user", "unlock", "--config", cfg); r.code != 2 || !strings.Contains(r.stderr, "--username is required") {
		t.Fatalf("unlock without --username: %d %s", r.code, r.stderr)
	}
	d.stop(t)

	bad := filepath.Join(dir, "bad.yaml")
	_ = os.WriteFile(bad, []byte("security: {owner_lock_expiry: 5s}\n"), 0o600)
	if r := roster(t, dir, "", "config", "check", "--config", bad); r.code != 1 || !strings.Contains(r.stdout, "security.owner_lock_expiry") {
		t.Fatalf("bad owner_lock_expiry: %d %s", r.code, r.stdout)
	}
}
