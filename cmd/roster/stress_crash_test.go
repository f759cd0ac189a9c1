//go:build stress

package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit/mailtest"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// crashEnv is a data directory and config the daemon is killed and
// restarted on.
type crashEnv struct {
	t          *testing.T
	dir, db    string
	cfg        string
	mt         *mailtest.Catcher
	adminToken string
	scimToken  string
}

func newCrashEnv(t *testing.T, ldapBlock string) *crashEnv {
	t.Helper()
	mt := mailtest.Start(t)
	dir := t.TempDir()
	e := &crashEnv{t: t, dir: dir, db: filepath.Join(dir, "r.db"), mt: mt}
	e.cfg = writeConfig(t, dir, `listen: 127.0.0.1:0
public_url: https://roster.example.com
database: {dsn: `+e.db+`}
smtp: {host: 127.0.0.1, port: `+strconv.Itoa(mt.Port)+`, tls: none, from: "Roster <no-reply@roster.test>"}
`+ldapBlock)
	if r := roster(t, dir, "", "user", "create", "--config", e.cfg, "--username", "ops@example.com", "--email", "ops@example.com", "--role", "owner", "--no-invite"); r.code != 0 {
		t.Fatalf("owner: %s", r.stderr)
	}
	r := roster(t, dir, "", "token", "create", "--config", e.cfg, "--name", "ops", "--scope", "admin", "--user", "ops@example.com")
	if r.code != 0 {
		t.Fatalf("admin token: %s", r.stderr)
	}
	e.adminToken = strings.TrimSpace(r.stdout)
	r = roster(t, dir, "", "token", "create", "--config", e.cfg, "--name", "okta", "--scope", "scim")
	if r.code != 0 {
		t.Fatalf("scim token: %s", r.stderr)
	}
	e.scimToken = strings.TrimSpace(r.stdout)
	return e
}

func (e *crashEnv) serve() *daemon { return startServe(e.t, e.dir, "--config", e.cfg) }

// afterCrash checks the database after a kill -9 (the daemon is down):
// integrity, no duplicate users, every user with its creation in history.
func (e *crashEnv) afterCrash() {
	t := e.t
	t.Helper()
	integrityOK(t, e.db)
	if n := dbInt(t, e.db, `SELECT COUNT(*) - COUNT(DISTINCT username_key) FROM users`); n != 0 {
		t.Errorf("%d duplicate usernames", n)
	}
	if n := dbInt(t, e.db, `SELECT COUNT(*) - COUNT(DISTINCT external_id) FROM users WHERE external_id != ''`); n != 0 {
		t.Errorf("%d duplicate external ids", n)
	}
	if n := dbInt(t, e.db, `SELECT COUNT(*) FROM users WHERE id NOT IN (SELECT target_id FROM history WHERE action = 'user.create')`); n != 0 {
		t.Errorf("%d users without their creation in history: a half-applied transaction", n)
	}
}

// messageID is the Message-ID header of a raw mail.
func messageID(raw []byte) string {
	for _, line := range strings.Split(string(raw), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.EqualFold(k, "Message-ID") {
			return strings.TrimSpace(v)
		}
		if strings.TrimSpace(line) == "" {
			break // end of the headers
		}
	}
	return ""
}

// mailOnce waits until every queued mail is sent, then checks that each of
// want got exactly one mail (one Message-ID). It returns the number of
// distinct mails and of resent copies: a daemon killed after the SMTP server
// took a mail but before the outbox recorded it sends it again when the
// claim's lease ends, with the same Message-ID (built from the outbox row),
// so that mail systems can drop the copy.
func (e *crashEnv) mailOnce(want []string) (distinct, copies int) {
	t := e.t
	t.Helper()
	// A mail claimed by the killed daemon is retaken when its lease (5 min)
	// ends: a dead worker cannot be told from a slow one on another host.
	deadline := time.Now().Add(6 * time.Minute)
	for dbInt(t, e.db, `SELECT COUNT(*) FROM mail_outbox WHERE state IN ('queued','sending')`) > 0 && time.Now().Before(deadline) {
		time.Sleep(time.Second)
	}
	if n := dbInt(t, e.db, `SELECT COUNT(*) FROM mail_outbox WHERE state IN ('queued','sending','failed')`); n != 0 {
		t.Errorf("%d mails not sent", n)
	}
	ids := map[string]map[string]int{} // recipient → Message-ID → copies
	for _, m := range e.mt.Messages() {
		id := messageID(m.Raw)
		if id == "" {
			t.Errorf("a mail without a Message-ID")
		}
		for _, to := range m.To {
			if ids[to] == nil {
				ids[to] = map[string]int{}
			}
			ids[to][id]++
		}
	}
	for _, per := range ids {
		distinct += len(per)
		for _, n := range per {
			copies += n - 1
		}
	}
	missing, twice := 0, 0
	for _, u := range want {
		switch len(ids[u]) {
		case 0:
			missing++
		case 1:
		default:
			twice++
		}
	}
	if missing != 0 || twice != 0 {
		t.Errorf("of %d invitations: %d never delivered, %d delivered as more than one mail", len(want), missing, twice)
	}
	return distinct, copies
}

// kill -9 in the middle of a full LDAP sync of 50,000 users: the batches
// applied before the kill are whole, the restarted daemon's sync completes
// the directory with no duplicates.
func TestStressCrashDuringLDAPSync(t *testing.T) {
	ldap := stressDirectory(t)
	e := newCrashEnv(t, `ldap:
  sources:
    - name: corp
      urls: ["`+ldap.URL+`"]
      bind_dn: "`+slapdtest.AdminDN+`"
      bind_password: "`+slapdtest.AdminPW+`"
      users: {base_dn: "`+slapdtest.PeopleDN+`"}
      groups: {base_dn: "`+slapdtest.GroupsDN+`"}
      invite: false
`)
	d := e.serve()
	deadline := time.Now().Add(3 * time.Minute)
	var at int
	for {
		at = dbInt(t, e.db, `SELECT COUNT(*) FROM users WHERE source = 'ldap:corp'`)
		if at >= 5000 && at < stressLDAPUsers {
			break
		}
		if at >= stressLDAPUsers || time.Now().After(deadline) {
			t.Fatalf("could not catch the sync mid-apply (%d users)", at)
		}
		time.Sleep(250 * time.Millisecond) // batches of 5,000 take seconds; polling must not starve the daemon
	}
	d.kill9(t)
	got := dbInt(t, e.db, `SELECT COUNT(*) FROM users WHERE source = 'ldap:corp'`)
	if got%5000 != 0 {
		t.Errorf("%d users after the kill: not a whole number of 5,000-user batches", got)
	}
	e.afterCrash()
	d = e.serve()
	deadline = time.Now().Add(5 * time.Minute)
	for dbInt(t, e.db, `SELECT COUNT(*) FROM ldap_sync_runs WHERE status = 'ok'`) == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no successful sync after the restart")
		}
		time.Sleep(time.Second)
	}
	d.stop(t)
	e.afterCrash()
	if n := dbInt(t, e.db, `SELECT COUNT(*) FROM users WHERE source = 'ldap:corp' AND status = 'active'`); n != stressLDAPUsers {
		t.Errorf("%d active directory users after the resumed sync, want %d", n, stressLDAPUsers)
	}
	stale := dbInt(t, e.db, `SELECT COUNT(*) FROM ldap_sync_runs WHERE status = 'running'`)
	t.Logf("CRASH ldap sync: killed at %d users seen (%d committed, whole batches); after restart %d users, %d run(s) left 'running' by the kill",
		at, got, stressLDAPUsers, stale)
}

// kill -9 in the middle of a bulk import (3,000 rows, invitations by mail):
// the rows committed before the kill are whole (user, history, invitation,
// queued mail); the import sent again creates the rest; every invitation is
// delivered exactly once.
func TestStressCrashDuringImport(t *testing.T) {
	e := newCrashEnv(t, "")
	const rows = 3000
	var csv bytes.Buffer
	csv.WriteString("username,email,first_name,last_name\n")
	var all []string
	for i := 0; i < rows; i++ {
		u := fmt.Sprintf("imp%05d@example.com", i)
		all = append(all, u)
		fmt.Fprintf(&csv, "%s,%s,Imp,Row%d\n", u, u, i)
	}
	post := func(d *daemon) (int, map[string]any, error) {
		req, _ := http.NewRequest("POST", d.base+"/api/v1/users/import?dry_run=false&send_invite=true", bytes.NewReader(csv.Bytes()))
		req.Header.Set("Authorization", "Bearer "+e.adminToken)
		req.Header.Set("Content-Type", "text/csv")
		res, err := (&http.Client{Timeout: 5 * time.Minute}).Do(req)
		if err != nil {
			return 0, nil, err
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		return res.StatusCode, m, nil
	}
	d := e.serve()
	done := make(chan error, 1)
	go func() { _, _, err := post(d); done <- err }()
	deadline := time.Now().Add(2 * time.Minute)
	var at int
	for {
		at = dbInt(t, e.db, `SELECT COUNT(*) FROM users WHERE username LIKE 'imp%'`)
		if at > 0 && at < rows {
			break
		}
		if at >= rows || time.Now().After(deadline) {
			t.Fatalf("could not catch the import mid-way (%d users)", at)
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.kill9(t)
	if err := <-done; err == nil {
		t.Log("the import answered before the kill")
	}
	got := dbInt(t, e.db, `SELECT COUNT(*) FROM users WHERE username LIKE 'imp%'`)
	e.afterCrash()
	if n := dbInt(t, e.db, `SELECT COUNT(*) FROM users WHERE username LIKE 'imp%' AND id NOT IN (SELECT user_id FROM mail_outbox WHERE kind = 'invite')`); n != 0 {
		t.Errorf("%d imported users without their queued invitation", n)
	}
	d = e.serve()
	code, m, err := post(d)
	if err != nil || code != 200 {
		t.Fatalf("import again: %d %v %v", code, err, m["error"])
	}
	okRows, _ := m["ok"].(float64)
	if int(okRows) != rows-got {
		t.Errorf("second import created %v rows, want %d", okRows, rows-got)
	}
	_, copies := e.mailOnce(all)
	d.stop(t)
	e.afterCrash()
	if n := dbInt(t, e.db, `SELECT COUNT(*) FROM users WHERE username LIKE 'imp%'`); n != rows {
		t.Errorf("%d imported users, want %d", n, rows)
	}
	t.Logf("CRASH import: killed with %d of %d rows committed; the import sent again created %v; %d invitations each delivered as one mail (%d resent copies with the same Message-ID)", got, rows, okRows, rows, copies)
}

// kill -9 during concurrent SCIM writes (8 clients creating users with
// invitations): every acknowledged user is there after the restart, nobody
// twice, and every invitation queued is delivered exactly once, the
// acknowledged ones included.
func TestStressCrashDuringSCIMWrites(t *testing.T) {
	e := newCrashEnv(t, "")
	d := e.serve()
	var mu sync.Mutex
	var acked []string
	var wg sync.WaitGroup
	stop := make(chan struct{})
	for c := 0; c < 8; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 10 * time.Second}
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				name := fmt.Sprintf("scim-%d-%05d@example.com", c, i)
				code, _, err := scimCall(hc, d.base, e.scimToken, "POST", "/Users", scimUserDoc(name, "K"))
				if err != nil {
					return // the daemon is gone
				}
				if code == 201 {
					mu.Lock()
					acked = append(acked, name)
					mu.Unlock()
				} else {
					t.Errorf("create %s: %d", name, code)
				}
			}
		}()
	}
	time.Sleep(3 * time.Second)
	d.kill9(t)
	close(stop)
	wg.Wait()
	e.afterCrash()
	for _, u := range acked {
		if n := dbInt(t, e.db, `SELECT COUNT(*) FROM users WHERE username = ?`, u); n != 1 {
			t.Errorf("acknowledged %s: %d rows", u, n)
		}
	}
	total := dbInt(t, e.db, `SELECT COUNT(*) FROM users WHERE username LIKE 'scim-%'`)
	d = e.serve()
	var all []string
	for _, u := range acked {
		all = append(all, u)
	}
	sent, copies := e.mailOnce(all)
	d.stop(t)
	e.afterCrash()
	if sent != total {
		t.Errorf("%d distinct mails for %d created users", sent, total)
	}
	t.Logf("CRASH SCIM writes: %d acknowledged creates before the kill, %d users committed (the difference: committed, answer lost), all present once; %d invitations, each delivered as one mail (%d resent copies with the same Message-ID)", len(acked), total, sent, copies)
}

var _ = io.Discard
