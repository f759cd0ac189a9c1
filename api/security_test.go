package api_test

import (
	"bytes"
	"database/sql"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/argon2id"
)

// Tokens, sessions, invitations and passwords are stored only hashed: the
// database file holds none of them in clear, and does hold their SHA-256.
func TestSecretsAreStoredHashed(t *testing.T) {
	e := newTenantEnv(t)
	cookie := e.cookieSession()
	sessionCookie := ""
	for _, p := range strings.Split(cookie.cookie, "; ") {
		if v, ok := strings.CutPrefix(p, api.SessionCookie+"="); ok {
			sessionCookie = v
		}
	}
	tokens := map[string]string{
		"A bearer session": e.owner, "A cookie session": sessionCookie, "A admin token": e.aAdminTok, "A SCIM token": e.aSCIMTok,
		"B bearer session": e.bOwnerTok, "B SCIM token": e.bSCIMTok, "B invitation": e.bInviteToken,
	}
	secrets := map[string]string{"A owner password": ownerPW, "B password": victimPW}
	for k, v := range tokens {
		if v == "" {
			t.Fatalf("%s: empty", k)
		}
		secrets[k] = v
	}
	db, err := sql.Open("sqlite3", e.dbPath+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	dump := dumpDB(t, db)
	for name, s := range secrets {
		// The token itself, or its random part without the prefix.
		_, body, _ := strings.Cut(s, "_")
		for _, needle := range []string{s, body} {
			if len(needle) >= 16 && strings.Contains(dump, needle) {
				t.Errorf("%s is stored in clear", name)
			}
		}
	}
	for name, tok := range tokens {
		if !strings.Contains(dump, core.HashSecret(tok)) {
			t.Errorf("%s: its SHA-256 is not in the database (is the dump complete?)", name)
		}
	}
	if !strings.Contains(dump, "$argon2id$") {
		t.Error("no argon2id password hash in the database")
	}
}

// dumpDB is every value of every table, as text.
func dumpDB(t *testing.T, db *sql.DB) string {
	t.Helper()
	rows, err := db.Query(`SELECT name FROM sqlite_master WHERE type = 'table'`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, n)
	}
	rows.Close()
	var b strings.Builder
	for _, tb := range tables {
		rs, err := db.Query(`SELECT * FROM "` + strings.ReplaceAll(tb, `"`, `""`) + `"`)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rs.Columns()
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		for rs.Next() {
			if err := rs.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			for _, v := range vals {
				switch x := v.(type) {
				case []byte:
					b.Write(x)
				default:
					fmt.Fprint(&b, x)
				}
				b.WriteByte('\t')
			}
			b.WriteByte('\n')
		}
		rs.Close()
	}
	return b.String()
}

// Login says nothing about whether a username exists: an unknown user, a
// wrong password, an invited user (no password yet), a disabled or locked
// user with a wrong password, and another organisation's user all get the
// same status and body, and take about as long (argon2id with the
// production parameters runs on a dummy hash when there is no user).
func TestLoginDoesNotEnumerateUsers(t *testing.T) {
	e := newTenantEnvWith(t, argon2id.NewArgon2(argon2id.DefaultArgon2))
	ctx := e.ctx
	mk := func(name string, inv core.InviteMode, pw string) string {
		c, err := e.svc.CreateUser(ctx, core.CLIActor(), core.NewUser{OrgID: e.org, Username: name, Email: name, Role: core.RoleMember, Invite: inv, Password: pw})
		if err != nil {
			t.Fatal(err)
		}
		return c.User.ID
	}
	mk("active@example.com", core.NoInvite, ownerPW)
	mk("invited@example.com", core.InviteByLink, "")
	dis := mk("disabled@example.com", core.NoInvite, ownerPW)
	if _, err := e.svc.ChangeStatus(ctx, core.CLIActor(), e.org, dis, core.ActDisable); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ name, user string }{
		{"unknown user", "ghost@example.com"},
		{"wrong password", "active@example.com"}, // locks after the threshold: then "locked, wrong password"
		{"invited user", "invited@example.com"},
		{"disabled user", "disabled@example.com"},
		{"another organisation's user", "victim-user@b.example"},
	}
	const rounds = 12 // past the lockout threshold (10)
	times := make([][]time.Duration, len(cases))
	var ref resp
	for i := 0; i < rounds; i++ {
		for j, c := range cases {
			start := time.Now()
			r := e.do(nil, "POST", "/api/v1/auth/login", "", map[string]any{"username": c.user, "password": "Wrong-passphrase-0"})
			times[j] = append(times[j], time.Since(start))
			if i == 0 && j == 0 {
				ref = r
			}
			if r.code != 401 || r.raw != ref.raw {
				t.Errorf("%s (round %d): %d %s; unknown user: %d %s", c.name, i, r.code, r.raw, ref.code, ref.raw)
			}
		}
	}
	u, _ := e.svc.GetUserByUsername(ctx, e.org, "active@example.com")
	if u.Status != core.StatusLocked {
		t.Errorf("active@example.com is %s after %d failures: the locked case was not exercised", u.Status, rounds)
	}
	med := func(d []time.Duration) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		return s[len(s)/2]
	}
	base := med(times[1])
	for j, c := range cases {
		m := med(times[j])
		t.Logf("%-28s median %v", c.name, m)
		// Without the dummy hash a miss costs a lookup (~1 ms) against
		// argon2id's tens of ms: a ratio under 0.1. The bounds leave room
		// for a loaded machine.
		if ratio := float64(m) / float64(base); ratio < 0.3 || ratio > 3 {
			t.Errorf("%s: median %v vs %v for a wrong password: timing tells whether the user exists", c.name, m, base)
		}
	}
}

// Every state-changing admin route refuses a cookie session without the
// CSRF header (or with a wrong one); bearer credentials need none. SCIM
// takes no cookies at all.
func TestCSRFOnEveryCookieRoute(t *testing.T) {
	e := newTenantEnv(t)
	unauthenticated := map[string]bool{"POST /api/v1/auth/login": true, "POST /api/v1/invites/accept": true, "POST /api/v1/auth/password-reset": true}
	n := 0
	for _, k := range routeKeys(t, e.router) {
		method, tmpl, _ := strings.Cut(k, " ")
		if method == "GET" || method == "HEAD" || unauthenticated[k] {
			continue
		}
		path := strings.NewReplacer("{id}", "00000000-0000-0000-0000-000000000000", "{action}", "disable", "{user_id}", "x", "{kind}", "invite", "{language}", "fr", "{name}", "x").Replace(tmpl)
		c := e.cookieSession()
		for _, hdr := range [][]string{{"Cookie", c.cookie}, {"Cookie", c.cookie, api.CSRFHeader, "forged"}, {"Cookie", c.cookie, api.CSRFHeader, ""}} {
			n++
			req, _ := http.NewRequest(method, e.srv.URL+path, strings.NewReader("{}"))
			req.Header.Set("Content-Type", contentType(path))
			for i := 0; i+1 < len(hdr); i += 2 {
				req.Header.Set(hdr[i], hdr[i+1])
			}
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := io.ReadAll(res.Body)
			res.Body.Close()
			want := 403
			if strings.HasPrefix(path, "/scim/") {
				want = 401
			}
			if res.StatusCode != want || (want == 403 && !strings.Contains(string(raw), `"csrf"`)) {
				t.Errorf("%s %s by cookie with %q: %d %s, want %d", method, path, hdr[2:], res.StatusCode, raw, want)
			}
		}
	}
	if n < 100 {
		t.Fatalf("only %d checks", n)
	}
}

// Every route that takes a body answers 413 to one over its bound: the
// server-wide bound refuses a declared-too-large body before any handler
// reads it, and each JSON route's own 1 MiB bound (SCIM: maxPayloadSize)
// holds for a body that is streamed.
func TestBodyLimitsOnEveryRoute(t *testing.T) {
	e := newTenantEnv(t)
	// Routes whose handler reads no body at all: an oversized one is never
	// read (the server bound still refuses a declared one).
	readsNoBody := map[string]bool{
		"POST /api/v1/auth/logout": true, "POST /api/v1/ldap/sources/{name}/sync": true,
		"POST /scim/v2/Bulk": true, "PUT /scim/v2/Bulk": true, "PATCH /scim/v2/Bulk": true,
		"POST /scim/v2/Me": true, "PUT /scim/v2/Me": true, "PATCH /scim/v2/Me": true,
		"POST /scim/v2/.search": true, "PUT /scim/v2/.search": true, "PATCH /scim/v2/.search": true, // 501 unread
	}
	big := append([]byte(`{"name":"`), bytes.Repeat([]byte("a"), 1<<20+100)...)
	big = append(big, `"}`...)
	var keys []string
	for _, k := range routeKeys(t, e.router) {
		method, _, _ := strings.Cut(k, " ")
		if method == "POST" || method == "PUT" || method == "PATCH" {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	for _, k := range keys {
		method, tmpl, _ := strings.Cut(k, " ")
		path := strings.NewReplacer("{id}", pathID(e, tmpl), "{action}", "resend-invite", "{kind}", "invite", "{language}", "fr", "{name}", "x").Replace(tmpl)
		tok := e.owner
		if strings.HasPrefix(path, "/scim/") {
			tok = e.aSCIMTok
		}
		// Declared over the server bound: refused unread, on every route.
		req := httptest.NewRequest(method, path, io.LimitReader(zeroes{}, 100<<20))
		req.ContentLength = 100 << 20
		req.Header.Set("Authorization", "Bearer "+tok)
		req.Header.Set("Content-Type", contentType(path))
		rec := httptest.NewRecorder()
		e.handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("%s with a declared 100 MiB body: %d %s", k, rec.Code, rec.Body)
		}
		if readsNoBody[k] || strings.HasSuffix(k, "/users/import") {
			continue
		}
		// Over the route's own bound, sent for real.
		hreq, _ := http.NewRequest(method, e.srv.URL+path, bytes.NewReader(big))
		hreq.Header.Set("Authorization", "Bearer "+tok)
		hreq.Header.Set("Content-Type", contentType(path))
		res, err := http.DefaultClient.Do(hreq)
		if err != nil {
			t.Errorf("%s: %v", k, err)
			continue
		}
		raw, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusRequestEntityTooLarge {
			t.Errorf("%s with a 1 MiB+ body: %d %.200s", k, res.StatusCode, raw)
		}
	}
	// The import route's bound is 32 MiB (+1 MiB of form overhead).
	hreq, _ := http.NewRequest("POST", e.srv.URL+"/api/v1/users/import", io.LimitReader(zeroes{}, 34<<20))
	hreq.Header.Set("Authorization", "Bearer "+e.owner)
	hreq.Header.Set("Content-Type", "text/csv")
	res, err := http.DefaultClient.Do(hreq)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusRequestEntityTooLarge {
		t.Errorf("import with a 34 MiB body: %d", res.StatusCode)
	}
}

// pathID is an id of A's own for a route template, so that the request gets
// as far as reading its body.
func pathID(e *tenantEnv, tmpl string) string {
	switch {
	case strings.HasPrefix(tmpl, "/api/v1/groups/"):
		return e.aGroup
	case strings.HasPrefix(tmpl, "/api/v1/apps/"):
		return e.aApp
	case strings.HasPrefix(tmpl, "/scim/v2/Groups/"):
		return e.aSCIMGroup
	case strings.HasPrefix(tmpl, "/scim/v2/Users/"):
		var id string
		r := e.do(nil, "POST", "/scim/v2/Users", e.aSCIMTok, scimUser(fmt.Sprintf("bl%d@example.com", time.Now().UnixNano())), "Content-Type", "application/scim+json")
		id, _ = r.body["id"].(string)
		return id
	}
	var id string
	r := e.do(nil, "POST", "/api/v1/users", e.owner, map[string]any{"username": fmt.Sprintf("bl%d@example.com", time.Now().UnixNano()), "send_invite": false})
	id, _ = r.body["id"].(string)
	return id
}

type zeroes struct{}

func (zeroes) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = '0'
	}
	return len(p), nil
}

var _ = json.Marshal
