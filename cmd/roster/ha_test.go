package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/testkit/mailtest"
	"github.com/rosterhq/roster/internal/testkit/pgtest"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// TestTwoReplicasOnPostgres runs two `roster serve` processes on one
// PostgreSQL, as behind a load balancer:
//   - a session opened on one works on the other; logging out on one ends it on both;
//   - SCIM writes through both, interleaved, meet no conflict and no 5xx;
//   - the LDAP source's schedule and each background job run on exactly one;
//   - 200 queued invitations are delivered exactly once between them;
//   - after `kill -9` of the replica running the LDAP sync, the other takes
//     over within the lease period.
func TestTwoReplicasOnPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	ldap := slapdtest.Start(t, slapdtest.People(12))
	catcher := mailtest.Start(t)
	dir := t.TempDir()
	const leaseTTL = 4 * time.Second
	cfg := writeConfig(t, dir, fmt.Sprintf(`listen: 127.0.0.1:0
public_url: https://roster.example.com
database:
  driver: postgres
  dsn: %q
  max_open_conns: 8
cluster: {lease_ttl: %s}
smtp: {host: 127.0.0.1, port: %d, tls: none, from: "Roster <no-reply@roster.test>"}
log: {level: info}
ldap:
  sources:
    - name: corp
      urls: [%q]
      bind_dn: %q
      bind_password: %q
      users: {base_dn: %q}
      invite: false
      interval: 1h
`, dsn, leaseTTL, catcher.Port, ldap.URL, slapdtest.AdminDN, slapdtest.AdminPW, slapdtest.PeopleDN))

	// Before a rollout: roster migrate, once.
	if r := roster(t, dir, "", "migrate", "--config", cfg); r.code != 0 {
		t.Fatalf("migrate: %s", r.stderr)
	}
	r := roster(t, dir, "", "token", "create", "--config", cfg, "--name", "okta", "--scope", "scim", "--invite=false")
	if r.code != 0 {
		t.Fatalf("token create: %s", r.stderr)
	}
	token := strings.TrimSpace(r.stdout)
	if r := roster(t, dir, "Owner-of-it-all-1\n", "user", "create", "--config", cfg, "--username", "boss@example.com", "--email", "boss@example.com",
		"--role", "owner", "--no-invite", "--password-stdin"); r.code != 0 {
		t.Fatalf("owner: %s", r.stderr)
	}

	a := startServe(t, dir, "--config", cfg)
	b := startServe(t, dir, "--config", cfg)
	replicas := []*daemon{a, b}

	// ---- a session from one replica works on the other, and ends on both ----
	apiCall := func(method, url, tok, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, url, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if tok != "" {
			req.Header.Set("Authorization", "Bearer "+tok)
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
	code, login := apiCall("POST", a.base+"/api/v1/auth/login", "", `{"username":"boss@example.com","password":"Owner-of-it-all-1"}`)
	sessionToken, _ := login["token"].(string)
	if code != 200 || sessionToken == "" {
		t.Fatalf("login on replica A: %d %v", code, login)
	}
	if code, m := apiCall("GET", b.base+"/api/v1/users", sessionToken, ""); code != 200 {
		t.Fatalf("A's session on replica B: %d %v", code, m)
	}
	if code, m := apiCall("POST", b.base+"/api/v1/auth/logout", sessionToken, ""); code >= 300 {
		t.Fatalf("logout on replica B: %d %v", code, m)
	}
	if code, _ := apiCall("GET", a.base+"/api/v1/users", sessionToken, ""); code != 401 {
		t.Fatalf("A still accepts the session B ended: %d", code)
	}

	// ---- SCIM writes through both replicas, interleaved ----
	scim := func(method, base, path, body string) (int, map[string]any) {
		req, _ := http.NewRequest(method, base+"/scim/v2"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/scim+json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Error(err)
			return 0, nil
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m
	}
	code, g := scim("POST", a.base, "/Groups", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Everyone"}`)
	if code != 201 {
		t.Fatalf("create group: %d %v", code, g)
	}
	groupID := g["id"].(string)
	const writers, perWriter = 8, 15
	var wg sync.WaitGroup
	var mu sync.Mutex
	var bad []string
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perWriter {
				base := replicas[(w+i)%2].base // alternate: each user's writes hit both replicas
				other := replicas[(w+i+1)%2].base
				name := fmt.Sprintf("scim-%d-%d@example.com", w, i)
				code, u := scim("POST", base, "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+name+
					`","name":{"givenName":"G","familyName":"F"},"emails":[{"value":"`+name+`","primary":true}]}`)
				if code != 201 {
					mu.Lock()
					bad = append(bad, fmt.Sprintf("POST %s: %d %v", name, code, u))
					mu.Unlock()
					continue
				}
				id := u["id"].(string)
				steps := []struct{ method, base, path, body string }{
					{"PATCH", other, "/Users/" + id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"name.familyName","value":"Patched"}]}`},
					{"PATCH", base, "/Groups/" + groupID, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"` + id + `"}]}]}`},
				}
				for _, s := range steps {
					if code, m := scim(s.method, s.base, s.path, s.body); code >= 300 {
						mu.Lock()
						bad = append(bad, fmt.Sprintf("%s %s: %d %v", s.method, s.path, code, m))
						mu.Unlock()
					}
				}
			}
		}()
	}
	wg.Wait()
	for _, s := range bad {
		t.Error(s)
	}
	code, g = scim("GET", b.base, "/Groups/"+groupID, "")
	if members, _ := g["members"].([]any); code != 200 || len(members) != writers*perWriter {
		t.Fatalf("group after interleaved PATCHes: %d, %d members, want %d", code, len(members), writers*perWriter)
	}
	code, list := scim("GET", a.base, `/Users?filter=name.familyName%20eq%20%22Patched%22&count=1`, "")
	if code != 200 || list["totalResults"] != float64(writers*perWriter) {
		t.Fatalf("patched users: %d %v", code, list["totalResults"])
	}

	// ---- 200 invitations queued (as the admin API would, in another process): delivered once ----
	st, err := store.Open(t.Context(), store.Options{Driver: "postgres", DSN: dsn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := core.NewService(core.Config{}, core.Deps{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	org, err := svc.Org(t.Context(), core.DefaultOrg)
	if err != nil {
		t.Fatal(err)
	}
	const invites = 200
	for i := range invites {
		n := fmt.Sprintf("invitee%03d@example.com", i)
		if _, err := svc.CreateUser(t.Context(), core.CLIActor(), core.NewUser{OrgID: org.ID, Username: n, Email: n, Invite: core.InviteByMail}); err != nil {
			t.Fatal(err)
		}
	}
	waitFor(t, func() bool { return len(catcher.Messages()) >= invites }, fmt.Sprintf("%d invitation mails (got %d)", invites, len(catcher.Messages())))
	time.Sleep(3 * time.Second) // a duplicate would arrive now
	msgs := catcher.Messages()
	per := map[string]int{}
	for _, m := range msgs {
		for _, to := range m.To {
			per[strings.ToLower(to)]++
		}
	}
	if len(msgs) != invites || len(per) != invites {
		t.Errorf("%d mails to %d recipients, want %d each once", len(msgs), len(per), invites)
	}
	for to, n := range per {
		if n != 1 {
			t.Errorf("%s got %d mails", to, n)
		}
	}
	stats, err := svc.MailStats(t.Context())
	if err != nil || stats.Sent != invites || stats.Queued+stats.Sending != 0 {
		t.Errorf("outbox: %+v %v", stats, err)
	}

	// ---- singleton work: exactly one replica holds each lease ----
	holder := func(lease string) []int {
		re := regexp.MustCompile(`msg="lease taken[^"]*".* lease=` + regexp.QuoteMeta(lease) + ` `)
		var out []int
		for i, d := range replicas {
			if re.MatchString(d.logs.String()) {
				out = append(out, i)
			}
		}
		return out
	}
	for _, lease := range []string{"job:dormancy", "job:expired-sessions", "ldap:corp"} {
		if h := holder(lease); len(h) != 1 {
			t.Fatalf("lease %s taken by replicas %v, want exactly one:\n%s\n----\n%s", lease, h, a.logs, b.logs)
		}
	}
	runs := func() (n int) {
		_ = st.View(t.Context(), func(tx core.Tx) error {
			rs, err := tx.ListSyncRuns(t.Context(), "corp", 100)
			for _, r := range rs {
				if r.Status == core.RunOK {
					n++
				}
			}
			return err
		})
		return n
	}
	waitFor(t, func() bool { return runs() == 1 }, "the scheduled LDAP sync")
	ldapUsers := func() int {
		res, err := svc.ListUsers(t.Context(), core.UserQuery{OrgID: org.ID, Source: "ldap:corp"})
		if err != nil {
			t.Fatal(err)
		}
		return len(res)
	}
	if n := ldapUsers(); n != 12 {
		t.Fatalf("%d LDAP users after the sync, want 12", n)
	}
	time.Sleep(leaseTTL) // renewals go on; still one run, by one replica
	if n := runs(); n != 1 {
		t.Fatalf("%d LDAP sync runs with one hour's interval, want 1", n)
	}

	// ---- kill -9 the LDAP holder: the other takes over within the lease period ----
	h := holder("ldap:corp")[0]
	dead, survivor := replicas[h], replicas[1-h]
	if err := dead.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	killed := time.Now()
	<-dead.done
	dead.done <- nil // for the cleanup
	deadline := killed.Add(leaseTTL + leaseTTL/6 + 3*time.Second)
	for runs() < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no LDAP sync by the survivor %s after the kill (lease %s):\n%s", time.Since(killed).Round(time.Millisecond), leaseTTL, survivor.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("the survivor synced %s after kill -9 of the holder (lease_ttl %s)", time.Since(killed).Round(10*time.Millisecond), leaseTTL)
	if !regexp.MustCompile(`msg="lease taken[^"]*".* lease=ldap:corp `).MatchString(survivor.logs.String()) {
		t.Errorf("the survivor did not log taking the ldap:corp lease")
	}
	// The survivor still serves SCIM and the admin API.
	if code, _ := scim("GET", survivor.base, "/Users?count=1", ""); code != 200 {
		t.Errorf("survivor SCIM: %d", code)
	}
	if code, _ := get(t, survivor.base+"/readyz"); code != 200 {
		t.Errorf("survivor readyz: %d", code)
	}
	survivor.stop(t)
}
