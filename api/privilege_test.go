package api_test

import (
	"log/slog"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/server"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/testkit/pgtest"
	"github.com/rosterhq/roster/internal/testkit/rostertest"
	"github.com/rosterhq/roster/scim"
)

// Privilege (issue 15) over a real listener: the admin API and SCIM.

var testHasher = rostertest.Hasher

// newPrivFixture is newFixture with the SCIM door mounted beside the API.
func newPrivFixture(t *testing.T) *fixture {
	t.Helper()
	f := &fixture{t: t}
	driver, dsn := pgtest.Store(t, filepath.Join(t.TempDir(), "priv.db"))
	f.ctx = t.Context()
	st, err := store.Open(f.ctx, store.Options{Driver: driver, DSN: dsn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(f.ctx); err != nil {
		t.Fatal(err)
	}
	if f.svc, err = core.NewService(core.Config{}, core.Deps{Store: st, Hasher: testHasher}); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.DiscardHandler)
	srv := server.New(server.Config{}, st.Ready, log)
	a, err := api.New(api.Config{MailPreview: mailPreview(t, f.svc), MailBuiltin: mailBuiltin(t), LoginRatePerMinute: 100000, PublicURL: "https://roster.example.com"}, f.svc, log)
	if err != nil {
		t.Fatal(err)
	}
	a.Mount(srv.Router())
	sh, err := scim.New(scim.Config{AuthCacheTTL: -1}, f.svc, log)
	if err != nil {
		t.Fatal(err)
	}
	sh.Mount(srv.Router())
	f.srv = serveValidated(t, srv.Handler())
	o, _ := f.svc.Org(f.ctx, core.DefaultOrg)
	f.org = o.ID
	if _, err := f.svc.CreateUser(f.ctx, core.CLIActor(), core.NewUser{OrgID: o.ID, Username: "owner@example.com", Email: "owner@example.com", Role: core.RoleOwner, Invite: core.NoInvite, Password: ownerPW}); err != nil {
		t.Fatal(err)
	}
	f.owner = f.login("owner@example.com", ownerPW, "console")
	return f
}

func (f *fixture) scim(token, method, path string, body any) resp {
	f.t.Helper()
	return f.do(nil, method, "/scim/v2"+path, token, body, "Content-Type", "application/scim+json")
}

func errMsg(r resp) string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["message"].(string)
	return s
}

// An admin token acts only as its creator, and history names the person,
// the token and who created it.
func TestAdminTokenActsOnlyAsItsCreatorOverHTTP(t *testing.T) {
	f := newFixture(t, 1000)
	ownerID := f.do(nil, "GET", "/api/v1/me", f.owner, nil).body["id"].(string)
	f.createActive("admin@example.com", core.RoleAdmin)
	adm := f.login("admin@example.com", "Sturdy-passphrase-7", "console")
	member := f.createActive("member@example.com", core.RoleMember)

	r := f.do(nil, "POST", "/api/v1/tokens", adm, map[string]any{"name": "as-owner", "scope": "admin", "user_id": ownerID})
	if r.code != 403 || r.errField() != "user_id" || !strings.Contains(errMsg(r), "acts only as the person who creates it") {
		t.Fatalf("an admin minting a token that acts as the owner: %d %s", r.code, r.raw)
	}
	r = f.do(nil, "POST", "/api/v1/tokens", adm, map[string]any{"name": "mine", "scope": "admin"})
	if r.code != 201 || r.body["created_by"] != "admin@example.com" {
		t.Fatalf("own admin token: %d %s", r.code, r.raw)
	}
	tok, tokID := r.body["token"].(string), r.body["id"].(string)
	if me := f.do(nil, "GET", "/api/v1/me", tok, nil); me.body["username"] != "admin@example.com" {
		t.Fatalf("the token acts as %v", me.body["username"])
	}
	if p := f.do(nil, "PATCH", "/api/v1/users/"+member, tok, map[string]any{"last_name": "Changed"}); p.code != 200 {
		t.Fatalf("patch through the token: %d %s", p.code, p.raw)
	}
	h := f.do(nil, "GET", "/api/v1/users/"+member+"/history", f.owner, nil).body["history"].([]any)
	last := h[len(h)-1].(map[string]any)
	if last["actor_name"] != "admin@example.com" || last["token_id"] != tokID || last["token_created_by"] != "admin@example.com" {
		t.Fatalf("history of a change through an admin token: %v", last)
	}
}

// A SCIM token grants at most its ceiling: the creator's powers, owner only
// when an owner asks for it.
func TestSCIMTokenCeilingOverHTTP(t *testing.T) {
	f := newPrivFixture(t)
	f.createActive("admin@example.com", core.RoleAdmin)
	adm := f.login("admin@example.com", "Sturdy-passphrase-7", "console")
	for _, tc := range []struct {
		name   string
		by     string
		body   map[string]any
		code   int
		field  string
		result core.Role
	}{
		{"admin asks for an owner ceiling", adm, map[string]any{"role_ceiling": "owner"}, 403, "role_ceiling", ""},
		{"admin's default role owner", adm, map[string]any{"default_role": "owner"}, 400, "default_role", ""},
		{"admin's role rule to owner", adm, map[string]any{"role_rules": []any{map[string]any{"group": "Boss", "role": "owner"}}}, 400, "role_rules[0].role", ""},
		{"owner's default role owner without asking for the ceiling", f.owner, map[string]any{"default_role": "owner"}, 400, "default_role", ""},
		{"admin's token", adm, map[string]any{}, 201, "", core.RoleAdmin},
		{"owner's token", f.owner, map[string]any{}, 201, "", core.RoleAdmin},
		{"owner asks for owner", f.owner, map[string]any{"role_ceiling": "owner"}, 201, "", core.RoleOwner},
	} {
		t.Run(tc.name, func(t *testing.T) {
			body := map[string]any{"name": "idp-" + randSuffix(), "scope": "scim"}
			for k, v := range tc.body {
				body[k] = v
			}
			r := f.do(nil, "POST", "/api/v1/tokens", tc.by, body)
			if r.code != tc.code || r.errField() != tc.field {
				t.Fatalf("%d %s, want %d on %q", r.code, r.raw, tc.code, tc.field)
			}
			if tc.code != 201 {
				return
			}
			if r.body["role_ceiling"] != string(tc.result) {
				t.Fatalf("ceiling %v, want %s", r.body["role_ceiling"], tc.result)
			}
			// The IdP asks for owner three ways; it gets the ceiling.
			name := "boss-" + randSuffix() + "@example.com"
			u := f.scim(r.body["token"].(string), "POST", "/Users", map[string]any{
				"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:roster:2.0:User"},
				"userName": name, "emails": []any{map[string]any{"value": name, "primary": true}},
				"roles": []any{map[string]any{"value": "owner"}},
				"urn:ietf:params:scim:schemas:extension:roster:2.0:User": map[string]any{"role": "owner"},
			})
			if u.code != 201 {
				t.Fatalf("provision: %d %s", u.code, u.raw)
			}
			ext, _ := u.body["urn:ietf:params:scim:schemas:extension:roster:2.0:User"].(map[string]any)
			if ext["role"] != string(tc.result) {
				t.Fatalf("provisioned as %v, want %s", ext["role"], tc.result)
			}
			// History names the token and who created it.
			h := f.do(nil, "GET", "/api/v1/users/"+u.body["id"].(string)+"/history", f.owner, nil).body["history"].([]any)
			first := h[0].(map[string]any)
			creator := f.do(nil, "GET", "/api/v1/me", tc.by, nil).body["username"]
			if first["actor_kind"] != "scim" || first["token_id"] != r.body["id"] || first["token_created_by"] != creator {
				t.Fatalf("history of a provisioned user: %v", first)
			}
		})
	}
	// An admin imports no owner either.
	r := f.do(nil, "POST", "/api/v1/users/import?dry_run=false&send_invite=false", adm, "username,email,role\nimp@example.com,imp@example.com,owner\n", "Content-Type", "text/csv")
	if r.code != 200 || r.body["failed"] != 1.0 {
		t.Fatalf("an admin imports an owner: %d %s", r.code, r.raw)
	}
}

// The organisation always keeps an owner: PATCH, bulk and SCIM refuse, naming why.
func TestLastOwnerOverHTTP(t *testing.T) {
	f := newPrivFixture(t)
	me := f.do(nil, "GET", "/api/v1/me", f.owner, nil).body["id"].(string)
	r := f.do(nil, "PATCH", "/api/v1/users/"+me, f.owner, map[string]any{"role": "admin"})
	if r.code != 403 || !strings.Contains(errMsg(r), "the last owner cannot be given another role") {
		t.Fatalf("the only owner demotes themself: %d %s", r.code, r.raw)
	}
	r = f.do(nil, "POST", "/api/v1/users/bulk", f.owner, map[string]any{"action": "set_admin", "ids": []string{me}})
	res := r.body["results"].([]any)[0].(map[string]any)
	if r.body["failed"] != 1.0 || !strings.Contains(res["error"].(map[string]any)["message"].(string), "the last owner cannot") {
		t.Fatalf("bulk set_admin on the only owner: %s", r.raw)
	}
	if u := f.do(nil, "GET", "/api/v1/users/"+me, f.owner, nil); u.body["role"] != "owner" {
		t.Fatalf("the owner is now %v", u.body["role"])
	}

	// An owner provisioned by SCIM becomes the last one: the IdP cannot
	// deactivate, demote or delete them.
	tk := f.do(nil, "POST", "/api/v1/tokens", f.owner, map[string]any{"name": "okta", "scope": "scim", "invite": false, "role_ceiling": "owner"})
	scimTok := tk.body["token"].(string)
	doc := func(active bool, role string) map[string]any {
		return map[string]any{
			"schemas":  []string{"urn:ietf:params:scim:schemas:core:2.0:User", "urn:ietf:params:scim:schemas:extension:roster:2.0:User"},
			"userName": "idp-owner@example.com", "emails": []any{map[string]any{"value": "idp-owner@example.com", "primary": true}}, "active": active,
			"urn:ietf:params:scim:schemas:extension:roster:2.0:User": map[string]any{"role": role},
		}
	}
	u := f.scim(scimTok, "POST", "/Users", doc(true, "owner"))
	if u.code != 201 {
		t.Fatalf("provision an owner: %d %s", u.code, u.raw)
	}
	id := u.body["id"].(string)
	if r := f.do(nil, "PATCH", "/api/v1/users/"+me, f.owner, map[string]any{"role": "admin"}); r.code != 200 {
		t.Fatalf("stepping down beside another owner: %d %s", r.code, r.raw)
	}
	for _, c := range []struct {
		method string
		body   any
		want   string
	}{
		{"PUT", doc(false, "owner"), "the last owner cannot be disabled"},
		{"PUT", doc(true, "admin"), "the last owner cannot be given another role"},
		{"DELETE", nil, "the last owner cannot be archived"},
	} {
		r := f.scim(scimTok, c.method, "/Users/"+id, c.body)
		if r.code != 403 || !strings.Contains(r.raw, c.want) {
			t.Errorf("SCIM %s of the last owner: %d %s, want 403 %q", c.method, r.code, r.raw, c.want)
		}
	}
}

// A user manager cannot take over a peer: no password reassignment, nor
// any other action, on a user manager (or above).
func TestUserManagerCannotTakeOverAPeer(t *testing.T) {
	f := newFixture(t, 1000)
	f.createActive("um1@example.com", core.RoleUserManager)
	peer := f.createActive("um2@example.com", core.RoleUserManager)
	member := f.createActive("m@example.com", core.RoleMember)
	um := f.login("um1@example.com", "Sturdy-passphrase-7", "console")
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"POST", "/api/v1/users/" + peer + "/set-password", map[string]any{"password": "Taken-over-passphrase-9"}},
		{"PATCH", "/api/v1/users/" + peer, map[string]any{"last_name": "Mine"}},
		{"PATCH", "/api/v1/users/" + peer, map[string]any{"role": "member"}},
		{"POST", "/api/v1/users/" + peer + "/send-password-reset", nil},
		{"POST", "/api/v1/users/" + peer + "/disable", nil},
		{"POST", "/api/v1/users/" + peer + "/archive", nil},
		{"DELETE", "/api/v1/users/" + peer, nil},
		{"PATCH", "/api/v1/users/" + member, map[string]any{"role": "user_manager"}},
		{"POST", "/api/v1/users", map[string]any{"username": "um3@example.com", "email": "um3@example.com", "role": "user_manager", "send_invite": false}},
	} {
		if r := f.do(nil, c.method, c.path, um, c.body); r.code != 403 {
			t.Errorf("user manager: %s %s: %d %s, want 403", c.method, c.path, r.code, r.raw)
		}
	}
	if r := f.do(nil, "POST", "/api/v1/auth/login", "", map[string]any{"username": "um2@example.com", "password": "Taken-over-passphrase-9"}); r.code == 200 {
		t.Fatal("the user manager signed in as their peer")
	}
	if r := f.do(nil, "POST", "/api/v1/users/"+member+"/set-password", um, map[string]any{"password": "Member-passphrase-9"}); r.code != 204 {
		t.Fatalf("user manager sets a member's password: %d %s", r.code, r.raw)
	}
}

// A catalog session is not an admin session: only /me, its password and logout.
func TestCatalogSessionIsNotAnAdminSession(t *testing.T) {
	f := newFixture(t, 1000)
	member := f.createActive("m@example.com", core.RoleMember)
	cat := f.login("owner@example.com", ownerPW, "catalog")
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/api/v1/users", nil},
		{"GET", "/api/v1/users/" + member, nil},
		{"GET", "/api/v1/users/counts", nil},
		{"POST", "/api/v1/users", map[string]any{"username": "x@example.com", "send_invite": false}},
		{"POST", "/api/v1/users/" + member + "/disable", nil},
		{"POST", "/api/v1/users/" + member + "/set-password", map[string]any{"password": "Taken-over-passphrase-9"}},
		{"GET", "/api/v1/org/settings", nil},
		{"GET", "/api/v1/groups", nil},
		{"GET", "/api/v1/tokens", nil},
		{"POST", "/api/v1/tokens", map[string]any{"name": "x", "scope": "admin"}},
		{"GET", "/api/v1/org/mail-templates", nil},
		{"GET", "/api/v1/ldap/sources", nil},
	} {
		if r := f.do(nil, c.method, c.path, cat, c.body); r.code != 403 || !strings.Contains(errMsg(r), "a catalog session") {
			t.Errorf("catalog session: %s %s: %d %s, want 403", c.method, c.path, r.code, r.raw)
		}
	}
	if r := f.do(nil, "GET", "/api/v1/me", cat, nil); r.code != 200 || r.body["username"] != "owner@example.com" {
		t.Fatalf("catalog /me: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "GET", "/api/v1/users", f.owner, nil); r.code != 200 {
		t.Fatalf("the console session administers: %d", r.code)
	}
	if r := f.do(nil, "POST", "/api/v1/auth/logout", cat, nil); r.code != 204 {
		t.Fatalf("catalog logout: %d %s", r.code, r.raw)
	}
	mcat := f.login("m@example.com", "Sturdy-passphrase-7", "catalog")
	if r := f.do(nil, "POST", "/api/v1/auth/password", mcat, map[string]any{"old_password": "Sturdy-passphrase-7", "new_password": "Another-passphrase-43"}); r.code != 204 {
		t.Fatalf("catalog password change: %d %s", r.code, r.raw)
	}
}
