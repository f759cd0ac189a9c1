package main

import (
	"encoding/json"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit/mailtest"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// noMailPerson is an inetOrgPerson without a mail attribute.
func noMailPerson(uid, given, sn string) string {
	return "dn: uid=" + uid + "," + slapdtest.PeopleDN + "\nobjectClass: inetOrgPerson\nuid: " + uid + "\ncn: " + given + " " + sn +
		"\ngivenName: " + given + "\nsn: " + sn + "\nuserPassword: pw-" + uid + "\n\n"
}

// TestEmailLessUsersSameInviteStatusOnEveryDoor drives the real binary with a
// real SMTP catcher and a real slapd: a user without an email comes in
// through an inviting SCIM token, an inviting LDAP source (full sync, and an
// on-demand import), the admin API, a CSV import and the CLI. Every one is created invited
// with invite status none and reason no_email, and nobody is mailed. Once an
// admin sets each email (once: a second change is refused), the invitation is
// sent and arrives over SMTP; the directory's next sync, which still has no
// mail for its user, does not erase it.
func TestEmailLessUsersSameInviteStatusOnEveryDoor(t *testing.T) {
	ldap := slapdtest.Start(t, noMailPerson("nomail-ldap", "Lee", "Dap")+noMailPerson("nomail-desk", "Des", "Kay"))
	mt := mailtest.Start(t)
	dir := t.TempDir()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	source := func(name, uid, mode string) string {
		return `
    - name: ` + name + `
      urls: ["` + ldap.URL + `"]
      bind_dn: "` + slapdtest.AdminDN + `"
      bind_password: "` + slapdtest.AdminPW + `"
      users: {base_dn: "` + slapdtest.PeopleDN + `", filter: "(&(objectClass=inetOrgPerson)(uid=` + uid + `))"}
      mode: ` + mode + `
      invite: true
      interval: 1h`
	}
	cfg := writeConfig(t, dir, `listen: `+addr+`
public_url: http://`+addr+`
database: {dsn: `+dir+`/r.db}
smtp: {host: 127.0.0.1, port: `+strconv.Itoa(mt.Port)+`, tls: none, from: "Roster <no-reply@roster.test>"}
ldap:
  sources:`+source("corp", "nomail-ldap", "all")+source("desk", "nomail-desk", "on_demand")+"\n")
	adminTok := adminSetup(t, dir, cfg, "Kestrel-pass-4711-x")
	r := roster(t, dir, "", "token", "create", "--config", cfg, "--name", "okta", "--scope", "scim")
	if r.code != 0 {
		t.Fatalf("scim token: %s", r.stderr)
	}
	scimTok := strings.TrimSpace(r.stdout)
	// The CLI, with smtp.host set, invites by mail by default.
	r = roster(t, dir, "", "user", "create", "--config", cfg, "--username", "nomail-cli", "--first", "Cli", "--last", "Ent")
	if r.code != 0 || !strings.Contains(r.stderr, "no email: no invitation sent") {
		t.Fatalf("CLI create without email: %d %s", r.code, r.stderr)
	}
	var cliUser map[string]any
	if err := json.Unmarshal([]byte(r.stdout), &cliUser); err != nil || cliUser["invite_status"] != "none" || cliUser["invite_reason"] != "no_email" {
		t.Fatalf("CLI user: %v %s", err, r.stdout)
	}

	d := startServe(t, dir, "--config", cfg)
	api := func(method, path, body string) (int, map[string]any) {
		t.Helper()
		return call(t, nil, method, d.base+path, adminTok, body)
	}
	// syncNow runs the source now, waiting out the scheduler's own run
	// (serve syncs on start: sync-now answers 409 while that run holds the lease).
	syncNow := func() (int, map[string]any) {
		t.Helper()
		deadline := time.Now().Add(20 * time.Second)
		for {
			code, m := api("POST", "/api/v1/ldap/sources/corp/sync?full=true", "")
			if code != 409 || !strings.Contains(jsonString(m), "already in progress") || time.Now().After(deadline) {
				return code, m
			}
			time.Sleep(100 * time.Millisecond)
		}
	}

	// SCIM, inviting token (the default): RFC 7643 needs only userName.
	code, m := call(t, nil, "POST", d.base+"/scim/v2/Users", scimTok, `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"nomail-scim"}`)
	if code != 201 {
		t.Fatalf("SCIM create without email: %d %v", code, m)
	}
	ext, _ := m["urn:ietf:params:scim:schemas:extension:roster:2.0:User"].(map[string]any)
	if ext["inviteStatus"] != "none" || ext["inviteReason"] != "no_email" {
		t.Fatalf("SCIM extension: %v", m)
	}
	// The admin API, inviting by mail (the default).
	if code, m = api("POST", "/api/v1/users", `{"username":"nomail-api","first_name":"Api","last_name":"User"}`); code != 201 {
		t.Fatalf("API create without email: %d %v", code, m)
	}
	// A CSV import (inviting by mail, the default), with a document
	// attribute column: the row without email is created, not refused.
	req, _ := http.NewRequest("POST", d.base+"/api/v1/users/import?dry_run=false", strings.NewReader("username,first_name,last_name,title\nnomail-csv,Csv,Row,Clerk\n"))
	req.Header.Set("Content-Type", "text/csv")
	req.Header.Set("Authorization", "Bearer "+adminTok)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var imp map[string]any
	_ = json.NewDecoder(res.Body).Decode(&imp)
	res.Body.Close()
	if res.StatusCode != 200 || imp["ok"] != float64(1) || imp["failed"] != float64(0) {
		t.Fatalf("CSV import without email: %d %v", res.StatusCode, imp)
	}
	// LDAP: the inviting source's full sync (serve may have run it on start
	// already), and an on-demand import.
	if code, m = syncNow(); code != 200 || m["status"] != "ok" || m["errors"] != float64(0) {
		t.Fatalf("sync: %d %v", code, m)
	}
	if code, m = api("POST", "/api/v1/users", `{"source":"ldap","ldap_source":"desk","username":"nomail-desk"}`); code != 201 {
		t.Fatalf("on-demand import: %d %v", code, m)
	}

	// The same answer everywhere: the user JSON and the list filter agree.
	code, m = api("GET", "/api/v1/users?invite_status=none&status=invited", "")
	if code != 200 {
		t.Fatalf("list: %d %v", code, m)
	}
	want := map[string]string{"nomail-cli": "native", "nomail-scim": "scim:okta", "nomail-api": "native", "nomail-csv": "native", "nomail-ldap": "ldap:corp", "nomail-desk": "ldap:desk"}
	ids := map[string]string{}
	for _, x := range m["users"].([]any) {
		u := x.(map[string]any)
		un := u["username"].(string)
		if want[un] == "" || u["source"] != want[un] || u["status"] != "invited" || u["invite_status"] != "none" || u["invite_reason"] != "no_email" || u["email"] != "" {
			t.Errorf("listed %v", u)
		}
		ids[un] = u["id"].(string)
	}
	if len(ids) != len(want) {
		t.Fatalf("invite_status=none&status=invited lists %v; want %v", ids, want)
	}
	// Nobody was mailed: no outbox row for any of them, nothing over SMTP.
	for un, id := range ids {
		if code, m = api("GET", "/api/v1/users/"+id+"/mail", ""); code != 200 || len(m["mail"].([]any)) != 0 {
			t.Errorf("mail of %s: %d %v", un, code, m)
		}
	}
	if n := len(mt.Messages()); n != 0 {
		t.Fatalf("%d messages delivered for users without email", n)
	}

	// An admin sets each email once, and sends the invitation.
	for un, id := range ids {
		email := un + "@example.com"
		if code, m = api("POST", "/api/v1/users/"+id+"/resend-invite", ""); code != 400 || !strings.Contains(strings.ToLower(jsonString(m)), "email") {
			t.Errorf("%s: send before the email exists: %d %v", un, code, m)
		}
		if code, m = api("PATCH", "/api/v1/users/"+id, `{"email":"`+email+`"}`); code != 200 || m["email"] != email || m["invite_reason"] != "not_sent" {
			t.Fatalf("%s: set the empty email: %d %v", un, code, m)
		}
		if code, m = api("PATCH", "/api/v1/users/"+id, `{"email":"changed-`+email+`"}`); code != 400 {
			t.Errorf("%s: change a set email: %d %v", un, code, m)
		}
		if code, m = api("POST", "/api/v1/users/"+id+"/resend-invite", ""); code != 200 || m["invite_status"] != "pending" {
			t.Fatalf("%s: send the invitation: %d %v", un, code, m)
		}
		msg := mt.WaitTo(t, email, 15*time.Second)
		if msg.Link("/invite/") == "" {
			t.Errorf("%s: the invitation carries no link:\n%s", un, msg.Body())
		}
	}
	// The directory still has no mail for its user: the next sync keeps the email.
	if code, m = syncNow(); code != 200 {
		t.Fatalf("second sync: %d %v", code, m)
	}
	if code, m = api("GET", "/api/v1/users/"+ids["nomail-ldap"], ""); code != 200 || m["email"] != "nomail-ldap@example.com" || m["invite_status"] != "pending" {
		t.Fatalf("after the second sync: %d %v", code, m)
	}
	time.Sleep(500 * time.Millisecond) // a stray mail would have had time to go out
	if n := len(mt.Messages()); n != len(want) {
		t.Fatalf("%d messages delivered; want one invitation per user (%d)", n, len(want))
	}
}

func jsonString(m map[string]any) string {
	b, _ := json.Marshal(m)
	return string(b)
}
