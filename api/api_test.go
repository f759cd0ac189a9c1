package api_test

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/mail"
	"github.com/rosterhq/roster/internal/server"
	"github.com/rosterhq/roster/internal/testkit/rostertest"
)

const ownerPW = "Keeper-passphrase-42"

type fixture struct {
	t     testing.TB
	srv   *httptest.Server
	svc   *core.Service
	org   string
	owner string // bearer session token of the owner
	ctx   context.Context
}

func newFixture(t testing.TB, rate int) *fixture {
	return newFixtureWith(t, api.Config{LoginRatePerMinute: rate})
}

func newFixtureWith(t testing.TB, cfg api.Config) *fixture {
	t.Helper()
	ctx := context.Background()
	st, _, _ := rostertest.Store(t)
	svc, err := core.NewService(core.Config{}, core.Deps{Store: st, Hasher: rostertest.Hasher})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	srv := server.New(server.Config{}, st.Ready, log)
	cfg.PublicURL = "https://roster.example.com"
	if cfg.MailPreview == nil {
		cfg.MailPreview = mailPreview(t, svc)
	}
	if cfg.MailBuiltin == nil {
		cfg.MailBuiltin = mailBuiltin(t)
	}
	a, err := api.New(cfg, svc, log)
	if err != nil {
		t.Fatal(err)
	}
	a.Mount(srv.Router())
	hs := serveValidated(t, srv.Handler())
	o, _ := svc.Org(ctx, core.DefaultOrg)
	f := &fixture{t: t, srv: hs, svc: svc, org: o.ID, ctx: ctx}
	if _, err := svc.CreateUser(ctx, core.CLIActor(), core.NewUser{OrgID: o.ID, Username: "owner@example.com", Email: "owner@example.com", Role: core.RoleOwner, Invite: core.NoInvite, Password: ownerPW}); err != nil {
		t.Fatal(err)
	}
	f.owner = f.login("owner@example.com", ownerPW, "console")
	return f
}

type resp struct {
	code int
	body map[string]any
	raw  string
	hdr  http.Header
}

func (r resp) errField() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["field"].(string)
	return s
}

func (r resp) errCode() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func (f *fixture) do(client *http.Client, method, path, token string, body any, hdr ...string) resp {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		buf, _ := json.Marshal(b)
		rd = bytes.NewReader(buf)
	}
	req, _ := http.NewRequest(method, f.srv.URL+path, rd)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if client == nil {
		client = http.DefaultClient
	}
	res, err := client.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	out := resp{code: res.StatusCode, raw: string(raw), hdr: res.Header}
	_ = json.Unmarshal(raw, &out.body)
	if res.StatusCode >= 500 {
		f.t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, raw)
	}
	return out
}

func (f *fixture) login(user, pw, aud string) string {
	f.t.Helper()
	r := f.do(nil, "POST", "/api/v1/auth/login", "", map[string]any{"username": user, "password": pw, "audience": aud})
	if r.code != 200 {
		f.t.Fatalf("login %s: %d %s", user, r.code, r.raw)
	}
	return r.body["token"].(string)
}

// createActive makes an active native user through the API's invite flow.
func (f *fixture) createActive(username string, role core.Role) string {
	f.t.Helper()
	r := f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": username, "email": username, "first_name": "F", "last_name": "L", "role": role, "send_invite": false})
	if r.code != 201 {
		f.t.Fatalf("create %s: %d %s", username, r.code, r.raw)
	}
	link := r.body["invite_link"].(string)
	token := link[strings.LastIndex(link, "/")+1:]
	a := f.do(nil, "POST", "/api/v1/invites/accept", "", map[string]any{"token": token, "password": "Sturdy-passphrase-7"})
	if a.code != 200 || a.body["status"] != "active" {
		f.t.Fatalf("accept: %d %s", a.code, a.raw)
	}
	return r.body["id"].(string)
}

func TestLoginMeLogoutPerAudience(t *testing.T) {
	f := newFixture(t, 100)
	me := f.do(nil, "GET", "/api/v1/me", f.owner, nil)
	if me.code != 200 || me.body["username"] != "owner@example.com" || me.body["role"] != "owner" || me.body["password_hash"] != nil {
		t.Fatalf("/me: %d %s", me.code, me.raw)
	}
	if strings.Contains(me.raw, "argon2") {
		t.Fatal("/me leaks the password hash")
	}
	console2 := f.login("owner@example.com", ownerPW, "console")
	catalog := f.login("owner@example.com", ownerPW, "catalog")
	if r := f.do(nil, "POST", "/api/v1/auth/logout", f.owner, nil); r.code != 204 {
		t.Fatalf("logout: %d %s", r.code, r.raw)
	}
	for _, tc := range []struct {
		tok  string
		want int
	}{{f.owner, 401}, {console2, 401}, {catalog, 200}} {
		if r := f.do(nil, "GET", "/api/v1/me", tc.tok, nil); r.code != tc.want {
			t.Fatalf("/me after console logout: %d, want %d", r.code, tc.want)
		}
	}
	for _, tc := range []struct {
		body map[string]any
		code int
		want string
	}{
		{map[string]any{"username": "owner@example.com", "password": "wrong-one"}, 401, "invalid username or password"},
		{map[string]any{"username": "nobody@example.com", "password": "wrong-one"}, 401, "invalid username or password"},
		{map[string]any{"username": "owner@example.com", "password": ownerPW, "audience": "tv"}, 400, "audience"},
		{map[string]any{"username": "owner@example.com", "password": ownerPW, "org": "elsewhere"}, 401, "invalid username or password"},
		{map[string]any{"username": "owner@example.com", "pasword": "x"}, 400, `unknown field`},
	} {
		r := f.do(nil, "POST", "/api/v1/auth/login", "", tc.body)
		if r.code != tc.code || !strings.Contains(r.raw, tc.want) {
			t.Errorf("login %v: %d %s", tc.body, r.code, r.raw)
		}
	}
	if r := f.do(nil, "GET", "/api/v1/me", "", nil); r.code != 401 || r.errCode() != "unauthorized" {
		t.Fatalf("no token: %d %s", r.code, r.raw)
	}
}

func TestLoginIsRateLimitedPerAddress(t *testing.T) {
	f := newFixture(t, 3) // the fixture's own login used one
	codes := []int{}
	for i := 0; i < 4; i++ {
		r := f.do(nil, "POST", "/api/v1/auth/login", "", map[string]any{"username": "owner@example.com", "password": "bad-password"})
		codes = append(codes, r.code)
		if r.code == 429 && r.hdr.Get("Retry-After") == "" {
			t.Fatal("429 without Retry-After")
		}
	}
	if fmt.Sprint(codes) != "[401 401 429 429]" {
		t.Fatalf("codes %v", codes)
	}
	// Rate-limited attempts do not count towards the lockout: the owner is still active.
	u, _ := f.svc.GetUserByUsername(f.ctx, f.org, "owner@example.com")
	if u.Status != core.StatusActive {
		t.Fatalf("owner %s", u.Status)
	}
}

func TestCookieSessionsNeedCSRF(t *testing.T) {
	f := newFixture(t, 100)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	r := f.do(c, "POST", "/api/v1/auth/login", "", map[string]any{"username": "owner@example.com", "password": ownerPW, "cookie": true})
	if r.code != 200 || r.body["token"] != nil || r.body["csrf_token"] == "" {
		t.Fatalf("cookie login: %d %s", r.code, r.raw)
	}
	sc := r.hdr.Values("Set-Cookie")
	if len(sc) != 2 || !strings.Contains(sc[0], "HttpOnly") || !strings.Contains(sc[0], "SameSite=Strict") {
		t.Fatalf("cookies: %v", sc)
	}
	csrf := r.body["csrf_token"].(string)
	if r := f.do(c, "GET", "/api/v1/me", "", nil); r.code != 200 {
		t.Fatalf("/me by cookie: %d", r.code)
	}
	body := map[string]any{"username": "c1@example.com", "email": "c1@example.com", "send_invite": false}
	if r := f.do(c, "POST", "/api/v1/users", "", body); r.code != 403 || r.errCode() != "csrf" {
		t.Fatalf("POST without CSRF header: %d %s", r.code, r.raw)
	}
	if r := f.do(c, "POST", "/api/v1/users", "", body, api.CSRFHeader, "forged"); r.code != 403 {
		t.Fatalf("POST with a wrong CSRF header: %d", r.code)
	}
	if r := f.do(c, "POST", "/api/v1/users", "", body, api.CSRFHeader, csrf); r.code != 201 {
		t.Fatalf("POST with CSRF header: %d %s", r.code, r.raw)
	}
	if r := f.do(c, "POST", "/api/v1/auth/logout", "", nil, api.CSRFHeader, csrf); r.code != 204 {
		t.Fatalf("logout: %d", r.code)
	}
	if r := f.do(c, "GET", "/api/v1/me", "", nil); r.code != 401 {
		t.Fatalf("/me after logout: %d", r.code)
	}
}

func TestUserLifecycleOverHTTP(t *testing.T) {
	f := newFixture(t, 100)
	// Create with the link returned instead of mailed.
	r := f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": "Ann@example.com", "email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "send_invite": false})
	if r.code != 201 || r.body["status"] != "invited" || r.body["invite_status"] != "pending" || !strings.HasPrefix(r.body["invite_link"].(string), "https://roster.example.com/invite/rinv_") ||
		r.hdr.Get("Location") != "/api/v1/users/"+r.body["id"].(string) {
		t.Fatalf("create: %d %s", r.code, r.raw)
	}
	id := r.body["id"].(string)
	for _, tc := range []struct {
		name  string
		body  any
		code  int
		field string
	}{
		{"duplicate username", map[string]any{"username": "ANN@example.com", "email": "x@example.com"}, 409, "username"},
		{"admin without email", map[string]any{"username": "boss", "role": "admin", "send_invite": false}, 400, "email"},
		{"bad email", map[string]any{"username": "x", "email": "nope"}, 400, "email"},
		{"unknown field", map[string]any{"username": "x", "nickname": "y"}, 400, "nickname"},
		{"wrong type", map[string]any{"username": 7}, 400, "username"},
		{"malformed", "{", 400, ""},
		{"ldap source unavailable", map[string]any{"username": "x", "source": "ldap", "ldap_source": "corp"}, 400, "ldap_source"},
	} {
		r := f.do(nil, "POST", "/api/v1/users", f.owner, tc.body)
		if r.code != tc.code || r.errField() != tc.field {
			t.Errorf("%s: %d %s", tc.name, r.code, r.raw)
		}
	}
	// Admin edits: username/email refused, names allowed.
	if r := f.do(nil, "PATCH", "/api/v1/users/"+id, f.owner, map[string]any{"email": "ann2@example.com"}); r.code != 400 || r.errField() != "email" {
		t.Fatalf("patch email: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "PATCH", "/api/v1/users/"+id, f.owner, map[string]any{"first_name": "Anne", "role": "developer"}); r.code != 200 || r.body["full_name"] != "Anne Lee" || r.body["role"] != "developer" {
		t.Fatalf("patch names: %d %s", r.code, r.raw)
	}
	// Resend returns a fresh link when asked; the old one is void.
	rs := f.do(nil, "POST", "/api/v1/users/"+id+"/resend-invite", f.owner, map[string]any{"send_invite": false})
	if rs.code != 200 || rs.body["invite_link"] == nil {
		t.Fatalf("resend: %d %s", rs.code, rs.raw)
	}
	link := rs.body["invite_link"].(string)
	acc := f.do(nil, "POST", "/api/v1/invites/accept", "", map[string]any{"token": link[strings.LastIndex(link, "/")+1:], "password": "Garden-passphrase-1"})
	if acc.code != 200 || acc.body["status"] != "active" || acc.body["invite_status"] != "accepted" {
		t.Fatalf("accept: %d %s", acc.code, acc.raw)
	}
	if r := f.do(nil, "POST", "/api/v1/invites/accept", "", map[string]any{"token": link[strings.LastIndex(link, "/")+1:], "password": "Garden-passphrase-1"}); r.code != 400 || r.errField() != "token" {
		t.Fatalf("second accept: %d %s", r.code, r.raw)
	}
	annTok := f.login("ann@example.com", "Garden-passphrase-1", "catalog")

	// Delete refused for a user with history; archive instead; actions by state.
	if r := f.do(nil, "DELETE", "/api/v1/users/"+id, f.owner, nil); r.code != 409 || r.errCode() != "illegal_transition" || !strings.Contains(r.raw, "archive") {
		t.Fatalf("delete accepted: %d %s", r.code, r.raw)
	}
	steps := []struct {
		action string
		code   int
		status string
	}{
		{"unlock", 409, ""}, {"disable", 200, "disabled"}, {"disable", 409, ""}, {"enable", 200, "active"},
		{"archive", 200, "archived"}, {"enable", 409, ""}, {"restore", 200, "active"}, {"promote", 404, ""},
	}
	for _, s := range steps {
		r := f.do(nil, "POST", "/api/v1/users/"+id+"/"+s.action, f.owner, nil)
		if r.code != s.code || (s.status != "" && r.body["status"] != s.status) {
			t.Fatalf("%s: %d %s", s.action, r.code, r.raw)
		}
	}
	// The disable ended Ann's session.
	if r := f.do(nil, "GET", "/api/v1/me", annTok, nil); r.code != 401 {
		t.Fatalf("session survived disable: %d", r.code)
	}
	// set-password: policy enforced, then must change at next login.
	if r := f.do(nil, "POST", "/api/v1/users/"+id+"/set-password", f.owner, map[string]any{"password": "short"}); r.code != 400 || r.errField() != "password" {
		t.Fatalf("weak set-password: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "POST", "/api/v1/users/"+id+"/set-password", f.owner, map[string]any{"password": "Assigned-pass-99"}); r.code != 204 {
		t.Fatalf("set-password: %d %s", r.code, r.raw)
	}
	lr := f.do(nil, "POST", "/api/v1/auth/login", "", map[string]any{"username": "ann@example.com", "password": "Assigned-pass-99"})
	if lr.code != 200 || lr.body["must_change_password"] != true {
		t.Fatalf("login after assigned password: %d %s", lr.code, lr.raw)
	}
	// History records every step with the owner as actor.
	h := f.do(nil, "GET", "/api/v1/users/"+id+"/history", f.owner, nil)
	entries, _ := h.body["history"].([]any)
	if h.code != 200 || len(entries) < 8 || strings.Contains(h.raw, "argon2") {
		t.Fatalf("history: %d %d entries", h.code, len(entries))
	}
	// A pending user can be deleted.
	p := f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": "p@example.com", "email": "p@example.com", "send_invite": false})
	if r := f.do(nil, "DELETE", "/api/v1/users/"+p.body["id"].(string), f.owner, nil); r.code != 204 {
		t.Fatalf("delete pending: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "GET", "/api/v1/users/"+p.body["id"].(string), f.owner, nil); r.code != 404 || r.errCode() != "not_found" {
		t.Fatalf("deleted user: %d", r.code)
	}
}

func TestBulkActionsReportPerUser(t *testing.T) {
	f := newFixture(t, 100)
	a := f.createActive("a@example.com", core.RoleMember)
	b := f.createActive("b@example.com", core.RoleMember)
	noMail := f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": "nomail", "send_invite": false}).body["id"].(string)
	r := f.do(nil, "POST", "/api/v1/users/bulk", f.owner, map[string]any{"action": "set_admin", "ids": []string{a, noMail, "missing", b}})
	if r.code != 200 || r.body["succeeded"] != 2.0 || r.body["failed"] != 2.0 {
		t.Fatalf("bulk set_admin: %d %s", r.code, r.raw)
	}
	res := r.body["results"].([]any)
	want := []struct {
		ok   bool
		code string
	}{{true, ""}, {false, "invalid"}, {false, "not_found"}, {true, ""}}
	for i, w := range want {
		o := res[i].(map[string]any)
		if o["ok"] != w.ok {
			t.Fatalf("result %d: %v", i, o)
		}
		if !w.ok && o["error"].(map[string]any)["code"] != w.code {
			t.Fatalf("result %d: %v", i, o)
		}
	}
	r = f.do(nil, "POST", "/api/v1/users/bulk", f.owner, map[string]any{"action": "deactivate", "ids": []string{a, a}})
	if r.body["succeeded"] != 1.0 || r.body["failed"] != 1.0 {
		t.Fatalf("deactivate twice: %s", r.raw)
	}
	r = f.do(nil, "POST", "/api/v1/users/bulk", f.owner, map[string]any{"action": "archive", "ids": []string{a, b}})
	if r.body["succeeded"] != 2.0 {
		t.Fatalf("archive: %s", r.raw)
	}
	for _, bad := range []map[string]any{{"action": "explode", "ids": []string{a}}, {"action": "archive", "ids": []string{}}} {
		if r := f.do(nil, "POST", "/api/v1/users/bulk", f.owner, bad); r.code != 400 {
			t.Fatalf("bad bulk %v: %d", bad, r.code)
		}
	}
}

func TestListUsersOverHTTP(t *testing.T) {
	f := newFixture(t, 100)
	for i := 0; i < 7; i++ {
		f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": fmt.Sprintf("u%d@example.com", i), "email": fmt.Sprintf("u%d@example.com", i),
			"first_name": "Dave", "last_name": fmt.Sprintf("Z%d", 9-i), "send_invite": false})
	}
	var seen []string
	tok := ""
	for page := 0; page < 5; page++ {
		r := f.do(nil, "GET", "/api/v1/users?q=dav&status=invited&invite_status=pending&page_size=3&page_token="+tok, f.owner, nil)
		if r.code != 200 || r.body["total"] != 7.0 {
			t.Fatalf("list: %d %s", r.code, r.raw)
		}
		for _, u := range r.body["users"].([]any) {
			seen = append(seen, u.(map[string]any)["last_name"].(string))
		}
		tok, _ = r.body["next_page_token"].(string)
		if tok == "" {
			break
		}
	}
	if strings.Join(seen, ",") != "Z3,Z4,Z5,Z6,Z7,Z8,Z9" {
		t.Fatalf("pages sorted by last name: %v", seen)
	}
	for _, tc := range []struct{ q, field string }{{"sort=password_hash", "sort"}, {"order=sideways", "order"}, {"page_size=x", "page_size"}, {"page_token=zzz", "page_token"}, {"status=gone", "status"}} {
		if r := f.do(nil, "GET", "/api/v1/users?"+tc.q, f.owner, nil); r.code != 400 || r.errField() != tc.field {
			t.Errorf("%s: %d %s", tc.q, r.code, r.raw)
		}
	}
}

func TestRolesAndTokensAndTenants(t *testing.T) {
	f := newFixture(t, 100)
	f.createActive("member@example.com", core.RoleMember)
	mt := f.login("member@example.com", "Sturdy-passphrase-7", "console")
	if r := f.do(nil, "GET", "/api/v1/me", mt, nil); r.code != 200 {
		t.Fatalf("member /me: %d", r.code)
	}
	if r := f.do(nil, "GET", "/api/v1/users", mt, nil); r.code != 403 || r.errCode() != "forbidden" {
		t.Fatalf("member lists users: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "POST", "/api/v1/users", mt, map[string]any{"username": "x", "send_invite": false}); r.code != 403 {
		t.Fatalf("member creates a user: %d", r.code)
	}
	umID := f.createActive("um@example.com", core.RoleUserManager)
	um := f.login("um@example.com", "Sturdy-passphrase-7", "console")
	target := f.createActive("t@example.com", core.RoleMember)
	if r := f.do(nil, "POST", "/api/v1/users/"+target+"/disable", um, nil); r.code != 403 {
		t.Fatalf("user manager disables: %d", r.code)
	}
	if r := f.do(nil, "PATCH", "/api/v1/users/"+target, um, map[string]any{"last_name": "New"}); r.code != 200 {
		t.Fatalf("user manager edits a member: %d %s", r.code, r.raw)
	}
	_ = umID

	// An admin token from `roster token create --scope admin` acts as its user.
	owner, _ := f.svc.GetUserByUsername(f.ctx, f.org, "owner@example.com")
	secret, _, err := f.svc.CreateToken(f.ctx, core.CLIActor(), f.org, "ops", core.ScopeAdmin, owner.ID)
	if err != nil {
		t.Fatal(err)
	}
	if r := f.do(nil, "GET", "/api/v1/users", secret, nil); r.code != 200 {
		t.Fatalf("admin token: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "POST", "/api/v1/auth/logout", secret, nil); r.code != 400 {
		t.Fatalf("logout with admin token: %d", r.code)
	}
	scim, _, _ := f.svc.CreateToken(f.ctx, core.CLIActor(), f.org, "okta", core.ScopeSCIM, "")
	if r := f.do(nil, "GET", "/api/v1/users", scim, nil); r.code != 401 {
		t.Fatalf("SCIM token on the admin API: %d", r.code)
	}

	// Another organisation's owner sees nothing of this one.
	acme, _ := f.svc.CreateOrg(f.ctx, core.CLIActor(), "acme", "Acme")
	if _, err := f.svc.CreateUser(f.ctx, core.CLIActor(), core.NewUser{OrgID: acme.ID, Username: "boss@acme.com", Email: "boss@acme.com", Role: core.RoleOwner, Invite: core.NoInvite, Password: ownerPW}); err != nil {
		t.Fatal(err)
	}
	r := f.do(nil, "POST", "/api/v1/auth/login", "", map[string]any{"org": "acme", "username": "boss@acme.com", "password": ownerPW})
	acmeTok := r.body["token"].(string)
	for _, c := range []struct{ method, path string }{{"GET", "/api/v1/users/" + target}, {"POST", "/api/v1/users/" + target + "/disable"}, {"GET", "/api/v1/users/" + target + "/history"}} {
		if r := f.do(nil, c.method, c.path, acmeTok, nil); r.code != 404 {
			t.Fatalf("cross-tenant %s %s: %d", c.method, c.path, r.code)
		}
	}
	if r := f.do(nil, "GET", "/api/v1/users", acmeTok, nil); r.body["total"] != 1.0 {
		t.Fatalf("acme sees %v users", r.body["total"])
	}
	if r := f.do(nil, "GET", "/api/v1/nothing-here", f.owner, nil); r.code != 404 || r.errCode() != "not_found" {
		t.Fatalf("unknown endpoint: %d %s", r.code, r.raw)
	}
}

func TestOrgSettingsOverHTTP(t *testing.T) {
	f := newFixture(t, 100)
	r := f.do(nil, "PUT", "/api/v1/org/metadata-template", f.owner, map[string]any{"fields": []map[string]any{{"name": "department", "label": "Department", "type": "string", "required": true}}})
	if r.code != 200 {
		t.Fatalf("template: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "PUT", "/api/v1/org/metadata-template", f.owner, map[string]any{"fields": []map[string]any{{"name": "x y", "type": "blob"}}}); r.code != 400 || r.errField() != "fields[0].name" {
		t.Fatalf("bad template: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": "m@example.com", "email": "m@example.com", "send_invite": false}); r.code != 400 || r.errField() != "metadata.department" {
		t.Fatalf("missing metadata: %d %s", r.code, r.raw)
	}
	r = f.do(nil, "PUT", "/api/v1/org/password-policy", f.owner, map[string]any{"min_length": 14, "require_digit": true, "expiry_days_admins": 30, "expiry_days_users": 0})
	if r.code != 403 || r.errField() != "expiry_days_admins" {
		t.Fatalf("an owner setting the admins' expiry (the operator's): %d %s", r.code, r.raw)
	}
	r = f.do(nil, "PUT", "/api/v1/org/password-policy", f.owner, map[string]any{"min_length": 14, "require_digit": true, "expiry_days_users": 0})
	if r.code != 200 {
		t.Fatalf("policy: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "GET", "/api/v1/org/password-policy", f.owner, nil); r.body["min_length"] != 14.0 {
		t.Fatalf("policy read back: %s", r.raw)
	}
	if r := f.do(nil, "PUT", "/api/v1/org/password-policy", f.owner, map[string]any{"min_length": 3}); r.code != 400 || r.errField() != "min_length" {
		t.Fatalf("weak policy: %d %s", r.code, r.raw)
	}
}

func TestExportUsersCSV(t *testing.T) {
	f := newFixture(t, 100)
	f.do(nil, "PUT", "/api/v1/org/metadata-template", f.owner, map[string]any{"fields": []map[string]any{{"name": "team", "type": "string"}}})
	f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": "evil@example.com", "email": "evil@example.com", "first_name": "=HYPERLINK(\"x\")", "last_name": "Aaa", "send_invite": false, "metadata": map[string]string{"team": "red, blue"}})
	f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": "bee@example.com", "email": "bee@example.com", "first_name": "Bee", "last_name": "Bbb", "send_invite": false})
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/users/export?status=invited", nil)
	req.Header.Set("Authorization", "Bearer "+f.owner)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 || rows[0][0] != "username" || rows[0][len(rows[0])-1] != "metadata.team" {
		t.Fatalf("rows: %v", rows)
	}
	if rows[1][0] != "evil@example.com" || rows[1][1] != `'=HYPERLINK("x")` || rows[1][len(rows[1])-1] != "red, blue" || rows[2][0] != "bee@example.com" {
		t.Fatalf("rows: %v", rows)
	}
	if r := f.do(nil, "GET", "/api/v1/users/export?sort=nope", f.owner, nil); r.code != 400 || r.errField() != "sort" {
		t.Fatalf("bad export: %d %s", r.code, r.raw)
	}
}

// mailPreview is the mail adapter's preview handler, as the daemon wires it.
// mailBuiltin is the mail adapter's embedded templates, as the daemon wires them.
func mailBuiltin(t testing.TB) func(core.MailKind, string) (core.MailTemplate, bool) {
	t.Helper()
	r, err := mail.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	return r.Builtin
}

func mailPreview(t testing.TB, svc *core.Service) func(func(*http.Request) (string, error)) http.Handler {
	t.Helper()
	r, err := mail.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	return func(orgOf func(*http.Request) (string, error)) http.Handler {
		return mail.NewPreviewHandler(r, svc, orgOf)
	}
}
