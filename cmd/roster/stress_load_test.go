//go:build stress

package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit/mailtest"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

const stressLDAPUsers = 50000

func stressDirectory(t *testing.T) *slapdtest.Server {
	return slapdtest.StartCached(t, fmt.Sprintf("stress-%d", stressLDAPUsers), func(w io.Writer) error { return slapdtest.BenchData(w, stressLDAPUsers) })
}

// TestStressLoad: 32 SCIM clients mix creates, PATCHes, filtered reads and
// group member changes against the real binary for ROSTER_STRESS_DURATION
// (60s) while full LDAP syncs of 50,000 users (and 200 groups) run back to
// back and the mail worker sends every invitation. Zero 5xx, zero busy
// answers or "database is locked", every acknowledged write readable
// afterwards, every invitation delivered once.
func TestStressLoad(t *testing.T) {
	dur := stressDuration(t, 60*time.Second)
	ldap := stressDirectory(t)
	mt := mailtest.Start(t)
	dir := t.TempDir()
	db := filepath.Join(dir, "r.db")
	cfg := writeConfig(t, dir, `listen: 127.0.0.1:0
public_url: https://roster.example.com
database: {dsn: `+db+`}
smtp: {host: 127.0.0.1, port: `+strconv.Itoa(mt.Port)+`, tls: none, from: "Roster <no-reply@roster.test>"}
ldap:
  sources:
    - name: corp
      urls: ["`+ldap.URL+`"]
      bind_dn: "`+slapdtest.AdminDN+`"
      bind_password: "`+slapdtest.AdminPW+`"
      users: {base_dn: "`+slapdtest.PeopleDN+`"}
      groups: {base_dn: "`+slapdtest.GroupsDN+`"}
      invite: false
      interval: 1m
      full_sync_every: 1m
`)
	r := roster(t, dir, "", "token", "create", "--config", cfg, "--name", "okta", "--scope", "scim")
	if r.code != 0 {
		t.Fatalf("token: %s", r.stderr)
	}
	token := strings.TrimSpace(r.stdout)
	if r := roster(t, dir, "", "user", "create", "--config", cfg, "--username", "ops@example.com", "--email", "ops@example.com", "--role", "owner", "--no-invite"); r.code != 0 {
		t.Fatalf("owner: %s", r.stderr)
	}
	r = roster(t, dir, "", "token", "create", "--config", cfg, "--name", "ops", "--scope", "admin", "--user", "ops@example.com")
	if r.code != 0 {
		t.Fatalf("admin token: %s", r.stderr)
	}
	adminToken := strings.TrimSpace(r.stdout)
	d := startServe(t, dir, "--config", cfg)
	// Full LDAP syncs back to back for the whole run ("sync now" through the
	// admin API; the scheduler's own run at start comes first).
	syncStop := make(chan struct{})
	syncDone := make(chan [2]int, 1)
	go func() {
		okRuns, busyRuns := 0, 0
		hc := &http.Client{Timeout: 5 * time.Minute}
		for {
			select {
			case <-syncStop:
				syncDone <- [2]int{okRuns, busyRuns}
				return
			default:
			}
			req, _ := http.NewRequest("POST", d.base+"/api/v1/ldap/sources/corp/sync?full=true", nil)
			req.Header.Set("Authorization", "Bearer "+adminToken)
			res, err := hc.Do(req)
			if err != nil {
				t.Errorf("sync now: %v", err)
				syncDone <- [2]int{okRuns, busyRuns}
				return
			}
			b, _ := io.ReadAll(res.Body)
			res.Body.Close()
			switch {
			case res.StatusCode == 200:
				okRuns++
			case strings.Contains(string(b), "in progress") || strings.Contains(string(b), "another process is syncing"):
				busyRuns++ // the scheduler's run holds the source (its own lease)
				time.Sleep(500 * time.Millisecond)
			default:
				t.Errorf("sync now: %d %s", res.StatusCode, b)
				time.Sleep(time.Second)
			}
		}
	}()

	const clients = 32
	type userState struct {
		id, name, family string
	}
	type clientState struct {
		group   string
		users   []userState
		members map[string]bool
	}
	var (
		ok2xx, busy, fail5xx, other4xx, creates, patches, filters, memberOps atomic.Int64
		problems                                                             sync.Map
	)
	note := func(code int, m map[string]any, what string) {
		switch {
		case code >= 200 && code < 300:
			ok2xx.Add(1)
		case code == http.StatusTooManyRequests:
			busy.Add(1)
		case code >= 500:
			fail5xx.Add(1)
			problems.Store(fmt.Sprintf("%s: %d %v", what, code, m), true)
		default:
			other4xx.Add(1)
			problems.Store(fmt.Sprintf("%s: %d %v", what, code, m), true)
		}
	}
	states := make([]*clientState, clients)
	start := time.Now()
	deadline := start.Add(dur)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hc := &http.Client{Timeout: 30 * time.Second}
			rng := rand.New(rand.NewPCG(uint64(c), 42))
			st := &clientState{members: map[string]bool{}}
			states[c] = st
			code, m, err := scimCall(hc, d.base, token, "POST", "/Groups", map[string]any{
				"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": fmt.Sprintf("load-group-%02d", c)})
			if err != nil || code != 201 {
				t.Errorf("client %d group: %d %v %v", c, code, m, err)
				return
			}
			st.group = m["id"].(string)
			n := 0
			for time.Now().Before(deadline) {
				p := rng.IntN(100)
				switch {
				case p < 40 || len(st.users) == 0:
					n++
					name := fmt.Sprintf("load-%02d-%05d@example.com", c, n)
					code, m, err := scimCall(hc, d.base, token, "POST", "/Users", scimUserDoc(name, "F0"))
					if err != nil {
						t.Errorf("create: %v", err)
						return
					}
					creates.Add(1)
					note(code, m, "create")
					if code == 201 {
						st.users = append(st.users, userState{id: m["id"].(string), name: name, family: "F0"})
					}
				case p < 65:
					u := &st.users[rng.IntN(len(st.users))]
					fam := "F" + strconv.Itoa(rng.IntN(1e6))
					code, m, err := scimCall(hc, d.base, token, "PATCH", "/Users/"+u.id, patchOp("replace", "name.familyName", fam))
					if err != nil {
						t.Errorf("patch: %v", err)
						return
					}
					patches.Add(1)
					note(code, m, "patch")
					if code == 200 || code == 204 {
						u.family = fam
					}
				case p < 85:
					u := st.users[rng.IntN(len(st.users))]
					f := `userName eq "` + u.name + `"`
					if rng.IntN(2) == 0 {
						f = `userName sw "load-` + fmt.Sprintf("%02d", c) + `" and active eq true`
					}
					code, m, err := scimCall(hc, d.base, token, "GET", "/Users?count=5&filter="+url.QueryEscape(f), nil)
					if err != nil {
						t.Errorf("filter: %v", err)
						return
					}
					filters.Add(1)
					note(code, m, "filter")
					if code == 200 {
						if tr, _ := m["totalResults"].(float64); tr < 1 {
							problems.Store("filter found nothing for an acknowledged user: "+f, true)
						}
					}
				default:
					u := st.users[rng.IntN(len(st.users))]
					var body map[string]any
					add := !st.members[u.id]
					if add {
						body = patchOp("add", "members", []map[string]any{{"value": u.id}})
					} else {
						body = patchOp("remove", `members[value eq "`+u.id+`"]`, nil)
					}
					code, m, err := scimCall(hc, d.base, token, "PATCH", "/Groups/"+st.group, body)
					if err != nil {
						t.Errorf("members: %v", err)
						return
					}
					memberOps.Add(1)
					note(code, m, "members")
					if code == 200 || code == 204 {
						if add {
							st.members[u.id] = true
						} else {
							delete(st.members, u.id)
						}
					}
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	close(syncStop)
	syncRuns := <-syncDone
	total := creates.Load() + patches.Load() + filters.Load() + memberOps.Load()

	// Every acknowledged write is there.
	hc := &http.Client{Timeout: 30 * time.Second}
	users := 0
	for c, st := range states {
		if st == nil || st.group == "" {
			continue
		}
		for _, u := range st.users {
			users++
			code, m, err := scimCall(hc, d.base, token, "GET", "/Users/"+u.id, nil)
			if err != nil || code != 200 {
				t.Errorf("acknowledged user %s: %d %v", u.name, code, err)
				continue
			}
			if nm, _ := m["name"].(map[string]any); nm["familyName"] != u.family {
				t.Errorf("user %s: familyName %v, last acknowledged %q", u.name, nm["familyName"], u.family)
			}
		}
		code, m, err := scimCall(hc, d.base, token, "GET", "/Groups/"+st.group, nil)
		if err != nil || code != 200 {
			t.Errorf("group of client %d: %d %v", c, code, err)
			continue
		}
		got := map[string]bool{}
		ms, _ := m["members"].([]any)
		for _, x := range ms {
			got[x.(map[string]any)["value"].(string)] = true
		}
		if len(got) != len(st.members) {
			t.Errorf("group of client %d: %d members, %d acknowledged", c, len(got), len(st.members))
		}
		for id := range st.members {
			if !got[id] {
				t.Errorf("group of client %d lacks acknowledged member %s", c, id)
			}
		}
	}
	// The directory was synced meanwhile, fully and repeatedly.
	ldapUsers := dbInt(t, db, `SELECT COUNT(*) FROM users WHERE source = 'ldap:corp'`)
	runsOK := dbInt(t, db, `SELECT COUNT(*) FROM ldap_sync_runs WHERE source = 'corp' AND status = 'ok'`)
	runsAll := dbInt(t, db, `SELECT COUNT(*) FROM ldap_sync_runs WHERE source = 'corp'`)
	if ldapUsers != stressLDAPUsers || runsOK < 1 {
		t.Errorf("LDAP: %d users, %d successful runs of %d", ldapUsers, runsOK, runsAll)
	}
	// Every invitation is delivered, once.
	waitUntil := time.Now().Add(120 * time.Second)
	for len(mt.Messages()) < users && time.Now().Before(waitUntil) {
		time.Sleep(200 * time.Millisecond)
	}
	mails := mt.Messages()
	perRcpt := map[string]int{}
	for _, msg := range mails {
		for _, to := range msg.To {
			perRcpt[to]++
		}
	}
	dups := 0
	for _, n := range perRcpt {
		if n > 1 {
			dups++
		}
	}
	if len(mails) != users || dups != 0 {
		t.Errorf("mail: %d delivered for %d created users, %d recipients with more than one", len(mails), users, dups)
	}
	d.stop(t)
	logs := d.logs.String()
	locked := countLines(logs, "database is locked")
	if fail5xx.Load() != 0 || busy.Load() != 0 || locked != 0 || other4xx.Load() != 0 {
		var ps []string
		problems.Range(func(k, _ any) bool { ps = append(ps, k.(string)); return len(ps) < 20 })
		sort.Strings(ps)
		t.Errorf("5xx %d, busy (429) %d, other 4xx %d, \"database is locked\" in the log %d; first problems:\n%s",
			fail5xx.Load(), busy.Load(), other4xx.Load(), locked, strings.Join(ps, "\n"))
	}
	integrityOK(t, db)
	t.Logf("LOAD: %d clients for %v: %d requests (%.0f/s): %d creates, %d patches, %d filters, %d member changes; 2xx %d, 5xx %d, 429 %d, other 4xx %d, locked %d; "+
		"%d users and %d groups verified; LDAP %d users, %d runs ok of %d recorded (%d sync-now calls answered, %d while busy); %d invitations delivered, %d duplicates",
		clients, elapsed.Round(time.Second), total, float64(total)/elapsed.Seconds(), creates.Load(), patches.Load(), filters.Load(), memberOps.Load(),
		ok2xx.Load(), fail5xx.Load(), busy.Load(), other4xx.Load(), locked, users, clients, ldapUsers, runsOK, runsAll, syncRuns[0], syncRuns[1], len(mails), dups)
}
