package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoOneActsAboveTheirRoleThroughTheBinary drives the five privilege rules
// of issue 15 through the real binary: the operator's commands, then the
// admin API and SCIM of `roster serve` on loopback.
func TestNoOneActsAboveTheirRoleThroughTheBinary(t *testing.T) {
	dir := t.TempDir()
	cfg := writeConfig(t, dir, "listen: 127.0.0.1:0\npublic_url: https://roster.example.com\ndatabase: {dsn: "+filepath.Join(dir, "r.db")+"}\n")
	const pw = "Sturdy-passphrase-7"
	ids := map[string]string{}
	for _, u := range []struct{ name, role string }{
		{"owner", "owner"}, {"admin", "admin"}, {"um1", "user_manager"}, {"um2", "user_manager"}, {"member", "member"},
	} {
		r := roster(t, dir, pw+"\n", "user", "create", "--config", cfg, "--username", u.name+"@example.com", "--email", u.name+"@example.com",
			"--role", u.role, "--no-invite", "--password-stdin")
		if r.code != 0 {
			t.Fatalf("user create %s: %d %s", u.name, r.code, r.stderr)
		}
		var v struct{ ID string }
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil {
			t.Fatal(err)
		}
		ids[u.name] = v.ID
	}
	// The operator's SCIM tokens grant at most admin unless --role-ceiling says owner.
	r := roster(t, dir, "", "token", "create", "--config", cfg, "--name", "boss", "--scope", "scim", "--role-rule", "Boss=owner")
	if r.code == 0 || !strings.Contains(r.stderr, "above the token's role ceiling (admin)") {
		t.Errorf("an owner role rule under the default ceiling: %d %q", r.code, r.stderr)
	}
	if r := roster(t, dir, "", "token", "create", "--config", cfg, "--name", "boss", "--scope", "scim", "--role-rule", "Boss=owner", "--role-ceiling", "owner"); r.code != 0 {
		t.Errorf("an owner role rule with --role-ceiling owner: %d %s", r.code, r.stderr)
	}
	r = roster(t, dir, "", "token", "create", "--config", cfg, "--name", "okta", "--scope", "scim", "--invite=false")
	if r.code != 0 {
		t.Fatalf("scim token: %d %s", r.code, r.stderr)
	}
	scimTok := strings.TrimSpace(r.stdout)
	// The operator names the user of an admin token.
	if r := roster(t, dir, "", "token", "create", "--config", cfg, "--name", "ops", "--scope", "admin", "--user", "owner@example.com"); r.code != 0 {
		t.Fatalf("operator's admin token: %d %s", r.code, r.stderr)
	}

	d := startServe(t, dir, "--config", cfg)
	api := d.base + "/api/v1"
	login := func(name, password, aud string) string {
		t.Helper()
		code, m := call(t, nil, "POST", api+"/auth/login", "", fmt.Sprintf(`{"username":%q,"password":%q,"audience":%q}`, name+"@example.com", password, aud))
		if code != 200 {
			t.Fatalf("login %s: %d %v", name, code, m)
		}
		return m["token"].(string)
	}
	errOf := func(m map[string]any) (string, string) {
		e, _ := m["error"].(map[string]any)
		f, _ := e["field"].(string)
		msg, _ := e["message"].(string)
		return f, msg
	}
	owner, adm, um1 := login("owner", pw, "console"), login("admin", pw, "console"), login("um1", pw, "console")

	t.Run("an admin token acts only as its creator", func(t *testing.T) {
		code, m := call(t, nil, "POST", api+"/tokens", adm, fmt.Sprintf(`{"name":"as-owner","scope":"admin","user_id":%q}`, ids["owner"]))
		if field, _ := errOf(m); code != 403 || field != "user_id" {
			t.Fatalf("an admin's token acting as the owner: %d %v", code, m)
		}
	})
	t.Run("a SCIM token grants at most its ceiling", func(t *testing.T) {
		body := `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User","urn:ietf:params:scim:schemas:extension:roster:2.0:User"],` +
			`"userName":"idp@example.com","emails":[{"value":"idp@example.com","primary":true}],"roles":[{"value":"owner"}],` +
			`"urn:ietf:params:scim:schemas:extension:roster:2.0:User":{"role":"owner"}}`
		code, m := call(t, nil, "POST", d.base+"/scim/v2/Users", scimTok, body)
		ext, _ := m["urn:ietf:params:scim:schemas:extension:roster:2.0:User"].(map[string]any)
		if code != 201 || ext["role"] != "admin" {
			t.Fatalf("an IdP asking for owner: %d %v", code, m)
		}
		code, m = call(t, nil, "POST", api+"/tokens", adm, `{"name":"mine","scope":"scim","role_ceiling":"owner"}`)
		if field, _ := errOf(m); code != 403 || field != "role_ceiling" {
			t.Fatalf("an admin's SCIM token with an owner ceiling: %d %v", code, m)
		}
	})
	t.Run("the organisation keeps an owner", func(t *testing.T) {
		code, m := call(t, nil, "PATCH", api+"/users/"+ids["owner"], owner, `{"role":"admin"}`)
		if _, msg := errOf(m); code != 403 || !strings.Contains(msg, "the last owner cannot") {
			t.Fatalf("the only owner demotes themself: %d %v", code, m)
		}
		_, m = call(t, nil, "POST", api+"/users/bulk", owner, fmt.Sprintf(`{"action":"set_admin","ids":[%q]}`, ids["owner"]))
		if m["failed"] != 1.0 {
			t.Fatalf("bulk set_admin on the only owner: %v", m)
		}
	})
	t.Run("a user manager cannot take over a peer", func(t *testing.T) {
		if code, m := call(t, nil, "POST", api+"/users/"+ids["um2"]+"/set-password", um1, `{"password":"Taken-over-passphrase-9"}`); code != 403 {
			t.Fatalf("a user manager reassigns a peer's password: %d %v", code, m)
		}
		if code, _ := call(t, nil, "POST", api+"/auth/login", "", `{"username":"um2@example.com","password":"Taken-over-passphrase-9"}`); code == 200 {
			t.Fatal("the user manager signed in as their peer")
		}
		if code, m := call(t, nil, "POST", api+"/users/"+ids["member"]+"/set-password", um1, `{"password":"Fresh-passphrase-91"}`); code != 204 {
			t.Fatalf("a user manager reassigns a member's password: %d %v", code, m)
		}
	})
	t.Run("a catalog session is not an admin session", func(t *testing.T) {
		cat := login("owner", pw, "catalog")
		if code, m := call(t, nil, "GET", api+"/users", cat, ""); code != 403 {
			t.Fatalf("the owner's catalog session lists users: %d %v", code, m)
		}
		if code, m := call(t, nil, "POST", api+"/users/"+ids["member"]+"/disable", cat, ""); code != 403 {
			t.Fatalf("the owner's catalog session disables a user: %d %v", code, m)
		}
		if code, _ := call(t, nil, "GET", api+"/me", cat, ""); code != 200 {
			t.Fatalf("catalog /me: %d", code)
		}
	})
}
