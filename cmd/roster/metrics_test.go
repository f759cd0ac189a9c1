package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit/mailtest"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// One run of the real binary does the work every metric counts — logins
// (success, failure, lockout), a SCIM create, LDAP syncs, an invitation
// mail — and /metrics, read with the Prometheus text parser, follows. The
// same run's log (at debug level) is then searched for every secret that
// went through the daemon: none may appear. History entries carry the
// request id of the request that made them.
func TestMetricsFollowTheWorkAndLogsKeepNoSecrets(t *testing.T) {
	ldap := slapdtest.Start(t, slapdtest.People(2))
	catcher := mailtest.Start(t)
	dir := t.TempDir()
	cfg := writeConfig(t, dir, fmt.Sprintf(`listen: 127.0.0.1:0
public_url: http://roster.test
database: {dsn: %s}
log: {level: debug, format: json}
security: {lockout_threshold: 2}
smtp: {host: %s, port: %d, tls: none, from: "Roster <no-reply@roster.test>", retry_initial: 1s}
ldap:
  sources:
    - name: corp
      urls: ["%s"]
      bind_dn: "%s"
      bind_password: "%s"
      users: {base_dn: "%s"}
      invite: false
`, filepath.Join(dir, "r.db"), catcher.Host, catcher.Port, ldap.URL, slapdtest.AdminDN, slapdtest.AdminPW, slapdtest.PeopleDN))
	const ownerPW, victimPW, wrongPW = "Owner-of-it-all-1", "Quiet-pass-word-2", "Not-the-password-3"
	for _, u := range []struct{ name, pw, role string }{{"boss@example.com", ownerPW, "owner"}, {"victim@example.com", victimPW, "member"}} {
		if r := roster(t, dir, u.pw+"\n", "user", "create", "--config", cfg, "--username", u.name, "--email", u.name,
			"--first", "A", "--last", "B", "--role", u.role, "--no-invite", "--password-stdin"); r.code != 0 {
			t.Fatalf("user create: %s", r.stderr)
		}
	}
	r := roster(t, dir, "", "token", "create", "--config", cfg, "--name", "okta", "--scope", "scim", "--invite=false")
	if r.code != 0 {
		t.Fatalf("token create: %s", r.stderr)
	}
	scimToken := strings.TrimSpace(r.stdout)
	d := startServe(t, dir, "--config", cfg)

	// The scheduler syncs corp at start.
	deadline := time.Now().Add(20 * time.Second)
	for value(scrape(t, nil, d.base), "roster_ldap_sync_runs_total", "source=corp", "status=ok") < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("no sync counted:\n%s", d.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	m0 := scrape(t, nil, d.base)
	if v := value(m0, "roster_users", "status=active"); v != 4 {
		t.Errorf("active users: %v (2 local + 2 from LDAP)", v)
	}
	if v := value(m0, "roster_ldap_sync_changes_total", "source=corp", "change=created"); v != 2 {
		t.Errorf("sync created: %v", v)
	}
	if v := value(m0, "roster_ldap_sync_last_success_timestamp_seconds", "source=corp"); v < float64(time.Now().Add(-time.Minute).Unix()) {
		t.Errorf("last success: %v", v)
	}
	for _, name := range []string{"roster_http_requests_total", "roster_http_request_duration_seconds", "roster_scim_operations_total",
		"roster_ldap_sync_duration_seconds", "roster_ldap_sync_failures_total", "roster_logins_total", "roster_mail_outbox",
		"roster_mail_queue_depth", "roster_mail_sent_total", "roster_mail_failed_total", "roster_build_info", "go_goroutines", "process_resident_memory_bytes"} {
		if _, ok := m0[name]; !ok && name != "roster_scim_operations_total" && name != "roster_ldap_sync_failures_total" {
			t.Errorf("no metric %s; have %v", name, names(m0))
		}
	}

	// Logins: a success, a failure, then the failure that locks.
	code, m := call(t, nil, "POST", d.base+"/api/v1/auth/login", "", `{"username":"boss@example.com","password":"`+ownerPW+`"}`)
	if code != 200 {
		t.Fatalf("login: %d %v", code, m)
	}
	session := m["token"].(string)
	var failedIDs []string
	for range 2 {
		res, err := http.Post(d.base+"/api/v1/auth/login", "application/json", strings.NewReader(`{"username":"victim@example.com","password":"`+wrongPW+`"}`))
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != 401 {
			t.Fatalf("wrong password: %d", res.StatusCode)
		}
		failedIDs = append(failedIDs, res.Header.Get("X-Request-Id"))
	}
	// The failed login and the lockout are in the victim's history with the
	// ids of the requests that caused them.
	code, m = call(t, nil, "GET", d.base+"/api/v1/users?q=victim%40example.com", session, "")
	list, _ := m["users"].([]any)
	if code != 200 || len(list) != 1 {
		t.Fatalf("find victim: %d %v", code, m)
	}
	code, m = call(t, nil, "GET", d.base+"/api/v1/users/"+list[0].(map[string]any)["id"].(string)+"/history", session, "")
	byAction := map[string]string{}
	for _, h := range m["history"].([]any) {
		e := h.(map[string]any)
		id, _ := e["request_id"].(string)
		byAction[e["action"].(string)] = id
	}
	if byAction["user.login_failed"] != failedIDs[0] || byAction["user.lock"] != failedIDs[1] {
		t.Errorf("history request ids %v, want login_failed %s and the lock %s", byAction, failedIDs[0], failedIDs[1])
	}
	// A directory user logs in through slapd.
	if code, _ := call(t, nil, "POST", d.base+"/api/v1/auth/login", "", `{"username":"user0001","password":"pw-user0001"}`); code != 200 {
		t.Fatalf("directory login: %d", code)
	}
	// SCIM create.
	code, m = call(t, nil, "POST", d.base+"/scim/v2/Users", scimToken,
		`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"idp@example.com","emails":[{"value":"idp@example.com","primary":true}]}`)
	if code != 201 {
		t.Fatalf("SCIM create: %d %v", code, m)
	}
	// Sync now.
	if code, m = call(t, nil, "POST", d.base+"/api/v1/ldap/sources/corp/sync?full=true", session, ""); code != 200 {
		t.Fatalf("sync now: %d %v", code, m)
	}
	// An invitation mail, through the admin API; its request id lands in history.
	req, _ := http.NewRequest("POST", d.base+"/api/v1/users", strings.NewReader(`{"username":"new@example.com","email":"new@example.com","first_name":"N","last_name":"U"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+session)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var created map[string]any
	_ = json.NewDecoder(res.Body).Decode(&created)
	res.Body.Close()
	reqID := res.Header.Get("X-Request-Id")
	if res.StatusCode != 201 || reqID == "" {
		t.Fatalf("create user: %d %v (request id %q)", res.StatusCode, created, reqID)
	}
	msg := catcher.WaitTo(t, "new@example.com", 20*time.Second)
	inviteLink := msg.Link("/invite/")
	if inviteLink == "" {
		t.Fatalf("no invite link in\n%s", msg.Body())
	}
	code, m = call(t, nil, "GET", d.base+"/api/v1/users/"+created["id"].(string)+"/history", session, "")
	hist, _ := m["history"].([]any)
	if code != 200 || len(hist) == 0 || hist[0].(map[string]any)["request_id"] != reqID {
		t.Fatalf("history does not carry the request id %s: %d %v", reqID, code, m)
	}
	if !strings.Contains(d.logs.String(), `"request_id":"`+reqID+`"`) {
		t.Errorf("the request's log line lacks its id %s", reqID)
	}

	deadline = time.Now().Add(10 * time.Second)
	var m1 = scrape(t, nil, d.base)
	for value(m1, "roster_mail_sent_total") < 1 && time.Now().Before(deadline) {
		time.Sleep(100 * time.Millisecond)
		m1 = scrape(t, nil, d.base)
	}
	for _, tt := range []struct {
		name   string
		labels []string
		delta  float64
	}{
		{"roster_logins_total", []string{"outcome=success"}, 2},
		{"roster_logins_total", []string{"outcome=failure"}, 1},
		{"roster_logins_total", []string{"outcome=lockout"}, 1},
		{"roster_scim_operations_total", []string{"resource=Users", "operation=create", "code=201"}, 1},
		{"roster_http_requests_total", []string{"route=/scim/v2/Users", "method=POST", "code=201"}, 1},
		{"roster_http_requests_total", []string{"route=/api/v1/auth/login", "method=POST", "code=401"}, 2},
		{"roster_http_request_duration_seconds", []string{"route=/api/v1/auth/login", "method=POST"}, 4},
		{"roster_ldap_sync_runs_total", []string{"source=corp", "status=ok"}, 1},
		{"roster_ldap_sync_duration_seconds", []string{"source=corp"}, 1},
		{"roster_mail_sent_total", nil, 1},
		{"roster_mail_outbox", []string{"state=sent"}, 1},
		{"roster_users", []string{"status=locked"}, 1},
		{"roster_users", []string{"status=active"}, 0}, // +1 SCIM user, −1 locked
		{"roster_users", []string{"status=invited"}, 1},
	} {
		before := max(value(m0, tt.name, tt.labels...), 0)
		if got := value(m1, tt.name, tt.labels...) - before; got != tt.delta {
			t.Errorf("%s%v changed by %v, want %v", tt.name, tt.labels, got, tt.delta)
		}
	}
	d.stop(t)

	// No secret that passed through the daemon is in its log.
	logs := d.logs.String()
	inviteToken := inviteLink[strings.LastIndex(inviteLink, "/")+1:]
	for what, secret := range map[string]string{
		"owner password": ownerPW, "victim password": victimPW, "wrong password": wrongPW, "directory password": "pw-user0001",
		"session token": session, "SCIM token": scimToken, "invite token": inviteToken, "LDAP bind password": slapdtest.AdminPW,
	} {
		if len(secret) < 8 {
			t.Fatalf("%s %q too short to search for", what, secret)
		}
		if strings.Contains(logs, secret) {
			t.Errorf("the %s appears in the log", what)
		}
	}
	if regexp.MustCompile(`\$argon2id?\$`).MatchString(logs) {
		t.Error("a password hash appears in the log")
	}
	for _, want := range []string{`"path":"/api/v1/auth/login"`, `"path":"/scim/v2/Users"`, `"path":"/api/v1/users"`, `"msg":"directory sync finished"`, `"msg":"user locked after failed logins"`} {
		if !strings.Contains(logs, want) {
			t.Errorf("the log lacks %s; the secret check would be weak", want)
		}
	}
}
