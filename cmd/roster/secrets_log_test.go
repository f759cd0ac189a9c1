package main

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/mailtest"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// TestSecretsNeverLogged runs a full flow through the real binary at debug
// level — CLI owner creation with a password, SCIM and admin tokens, bearer
// and cookie logins, wrong passwords, an invitation mailed and accepted, a
// password change, a password reset mailed and used, a SCIM user with a
// password, an LDAP source with a bind password and a directory login, a
// token in a query string — then greps everything the processes wrote for
// every password, token and token hash it used.
func TestSecretsNeverLogged(t *testing.T) {
	ldap := slapdtest.Start(t, slapdtest.People(2))
	mt := mailtest.Start(t)
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	cfg := writeConfig(t, dir, `listen: `+addr+`
public_url: http://`+addr+`
log: {level: debug}
database: {dsn: `+dir+`/r.db}
smtp: {host: 127.0.0.1, port: `+strconv.Itoa(mt.Port)+`, tls: none, from: "Roster <no-reply@roster.test>"}
ldap:
  sources:
    - name: corp
      urls: ["`+ldap.URL+`"]
      bind_dn: "`+slapdtest.AdminDN+`"
      bind_password: "`+slapdtest.AdminPW+`"
      users: {base_dn: "`+slapdtest.PeopleDN+`"}
      mode: on_demand
      invite: false
`)
	const (
		ownerPW    = "Kestrel-SECRET-pass-4711"
		wrongPW    = "Bittern-SECRET-pass-0815"
		inviteePW  = "Heron-SECRET-pass-1"
		changedPW  = "Osprey-SECRET-pass-2"
		resetPW    = "Plover-SECRET-pass-3333"
		scimUserPW = "Curlew-SECRET-pass-4"
		ldapUserPW = "pw-user0001"
	)
	secrets := map[string]string{"owner password": ownerPW, "wrong password": wrongPW, "invitee password": inviteePW,
		"changed password": changedPW, "reset password": resetPW, "SCIM user password": scimUserPW,
		"LDAP bind password": slapdtest.AdminPW, "LDAP user password": ldapUserPW}
	tokens := map[string]string{}
	var cliErr strings.Builder

	r := roster(t, dir, ownerPW+"\n", "user", "create", "--config", cfg, "--username", "owner@example.com", "--email", "owner@example.com",
		"--role", "owner", "--no-invite", "--password-stdin")
	cliErr.WriteString(r.stderr)
	if r.code != 0 {
		t.Fatalf("owner: %s", r.stderr)
	}
	r = roster(t, dir, "", "token", "create", "--config", cfg, "--name", "okta", "--scope", "scim")
	cliErr.WriteString(r.stderr)
	tokens["SCIM token"] = strings.TrimSpace(r.stdout)
	r = roster(t, dir, "", "token", "create", "--config", cfg, "--name", "ops", "--scope", "admin", "--user", "owner@example.com")
	cliErr.WriteString(r.stderr)
	tokens["admin token"] = strings.TrimSpace(r.stdout)

	d := startServe(t, dir, "--config", cfg)
	call := func(method, path, bearer string, body any, hdr ...string) (int, map[string]any, http.Header) {
		t.Helper()
		var rd io.Reader
		if s, ok := body.(string); ok {
			rd = strings.NewReader(s)
		} else if body != nil {
			b, _ := json.Marshal(body)
			rd = strings.NewReader(string(b))
		}
		req, _ := http.NewRequest(method, d.base+path, rd)
		req.Header.Set("Content-Type", "application/json")
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m, res.Header
	}
	login := func(user, pw string) string {
		code, m, _ := call("POST", "/api/v1/auth/login", "", map[string]any{"username": user, "password": pw})
		if code != 200 {
			t.Fatalf("login %s: %d %v", user, code, m)
		}
		return m["token"].(string)
	}
	tokens["owner session"] = login("owner@example.com", ownerPW)
	if code, _, _ := call("POST", "/api/v1/auth/login", "", map[string]any{"username": "owner@example.com", "password": wrongPW}); code != 401 {
		t.Fatalf("wrong password: %d", code)
	}
	code, m, hdr := call("POST", "/api/v1/auth/login", "", map[string]any{"username": "owner@example.com", "password": ownerPW, "cookie": true})
	if code != 200 {
		t.Fatalf("cookie login: %d", code)
	}
	tokens["CSRF token"] = m["csrf_token"].(string)
	cookies := (&http.Response{Header: hdr}).Cookies()
	var cookie string
	for _, c := range cookies {
		cookie += c.Name + "=" + c.Value + "; "
		if c.Name == "roster_session" {
			tokens["cookie session"] = c.Value
		}
	}
	// An invitation by mail, created through the cookie session, accepted by the invitee.
	code, m, _ = call("POST", "/api/v1/users", "", map[string]any{"username": "invitee@example.com", "email": "invitee@example.com", "first_name": "In", "last_name": "Vitee"},
		"Cookie", cookie, "X-CSRF-Token", tokens["CSRF token"])
	if code != 201 {
		t.Fatalf("create invitee: %d %v", code, m)
	}
	link := mt.WaitTo(t, "invitee@example.com", 20*time.Second).Link("/invite/")
	tokens["invitation"] = link[strings.LastIndex(link, "/")+1:]
	if code, m, _ = call("POST", "/api/v1/invites/accept", "", map[string]any{"token": tokens["invitation"], "password": inviteePW}); code != 200 {
		t.Fatalf("accept: %d %v", code, m)
	}
	inv := login("invitee@example.com", inviteePW)
	tokens["invitee session"] = inv
	if code, m, _ = call("POST", "/api/v1/auth/password", inv, map[string]any{"old_password": inviteePW, "new_password": changedPW}); code >= 300 {
		t.Fatalf("change password: %d %v", code, m)
	}
	// A password reset by mail, used on the console page.
	if code, _, _ = call("POST", "/api/v1/auth/password-reset", "", map[string]any{"login": "invitee@example.com"}); code >= 300 {
		t.Fatalf("reset request: %d", code)
	}
	var resetLink string
	deadline := time.Now().Add(20 * time.Second)
	for resetLink == "" && time.Now().Before(deadline) {
		for _, msg := range mt.To("invitee@example.com") {
			if l := msg.Link("/reset/"); l != "" {
				resetLink = l
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	if resetLink == "" {
		t.Fatal("no reset mail")
	}
	tokens["reset"] = resetLink[strings.LastIndex(resetLink, "/")+1:]
	form := url.Values{"password": {resetPW}, "confirm": {resetPW}}
	req, _ := http.NewRequest("POST", d.base+"/reset/"+tokens["reset"], strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("reset: %d", res.StatusCode)
	}
	login("invitee@example.com", resetPW)
	// SCIM with a password attribute; the admin token; LDAP.
	if code, m, _ = call("POST", "/scim/v2/Users", tokens["SCIM token"], map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"},
		"userName": "scim@example.com", "password": scimUserPW, "emails": []map[string]any{{"value": "scim@example.com", "primary": true}}}); code != 201 {
		t.Fatalf("SCIM create: %d %v", code, m)
	}
	if code, _, _ = call("GET", "/api/v1/users", tokens["admin token"], nil); code != 200 {
		t.Fatalf("admin token: %d", code)
	}
	if code, m, _ = call("POST", "/api/v1/users", tokens["owner session"], map[string]any{"source": "ldap", "ldap_source": "corp", "username": "user0001"}); code != 201 {
		t.Fatalf("add LDAP user: %d %v", code, m)
	}
	login("user0001", ldapUserPW)
	if code, _, _ = call("POST", "/api/v1/auth/login", "", map[string]any{"username": "user0001", "password": wrongPW}); code != 401 {
		t.Fatalf("LDAP wrong password: %d", code)
	}
	// Tokens where they do not belong: a query string, a bad bearer.
	call("GET", "/api/v1/me?access_token="+tokens["owner session"], "", nil)
	call("GET", "/api/v1/me", tokens["owner session"]+"x", nil)
	call("GET", "/scim/v2/Users?token="+tokens["SCIM token"], "", nil)
	d.stop(t)

	logs := d.logs.String() + cliErr.String()
	if strings.Count(logs, "msg=request") < 15 {
		t.Fatalf("the logs do not look complete (%d bytes, %d request lines)", len(logs), strings.Count(logs, "msg=request"))
	}
	for name, tok := range tokens {
		if tok == "" {
			t.Fatalf("%s: not captured", name)
		}
		secrets[name] = tok
		secrets[name+" (hash)"] = core.HashSecret(tok)
	}
	for name, s := range secrets {
		if strings.Contains(logs, s) {
			i := strings.Index(logs, s)
			t.Errorf("the %s appears in the logs: …%s…", name, logs[max(0, i-200):min(len(logs), i+len(s)+50)])
		}
	}
	t.Logf("%d secrets checked against %d bytes of logs (%d request lines)", len(secrets), len(logs), strings.Count(logs, "msg=request"))
}
