package api_test

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/core"
)

func TestGroupsAppsAndTokensOverHTTP(t *testing.T) {
	f := newFixture(t, 100)
	u1 := f.createActive("g1@example.com", core.RoleMember)
	u2 := f.createActive("g2@example.com", core.RoleMember)
	g := f.do(nil, "POST", "/api/v1/groups", f.owner, map[string]any{"name": "Field Sales"})
	if g.code != 201 {
		t.Fatalf("create group: %d %s", g.code, g.raw)
	}
	gid := g.body["id"].(string)
	if r := f.do(nil, "POST", "/api/v1/groups", f.owner, map[string]any{"name": "field sales"}); r.code != 409 || r.errField() != "name" {
		t.Fatalf("duplicate group: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "POST", "/api/v1/groups/"+gid+"/members", f.owner, map[string]any{"user_ids": []string{u1, u2}}); r.code != 200 || len(r.body["user_ids"].([]any)) != 2 {
		t.Fatalf("add members: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "PUT", "/api/v1/groups/"+gid+"/members", f.owner, map[string]any{"user_ids": []string{u1, "nope"}}); r.code != 404 {
		t.Fatalf("replace with an unknown id: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "GET", "/api/v1/groups/"+gid+"/members", f.owner, nil); len(r.body["user_ids"].([]any)) != 2 {
		t.Fatalf("a failed replace changed the members: %s", r.raw)
	}
	if r := f.do(nil, "DELETE", "/api/v1/groups/"+gid+"/members/"+u2, f.owner, nil); r.code != 204 {
		t.Fatalf("remove member: %d", r.code)
	}
	if r := f.do(nil, "PATCH", "/api/v1/groups/"+gid, f.owner, map[string]any{"name": "Sales"}); r.code != 200 || r.body["name"] != "Sales" {
		t.Fatalf("rename group: %d %s", r.code, r.raw)
	}
	app := f.do(nil, "POST", "/api/v1/apps", f.owner, map[string]any{"name": "Expenses"})
	aid := app.body["id"].(string)
	if r := f.do(nil, "POST", "/api/v1/apps/"+aid+"/assignments", f.owner, map[string]any{"group_id": gid, "app_role": "approver"}); r.code != 204 {
		t.Fatalf("assign to group: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "POST", "/api/v1/apps/"+aid+"/assignments", f.owner, map[string]any{"user_id": u2}); r.code != 204 {
		t.Fatalf("assign to user: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "POST", "/api/v1/apps/"+aid+"/assignments", f.owner, map[string]any{}); r.code != 400 || r.errField() != "user_id" {
		t.Fatalf("assign to nobody: %d %s", r.code, r.raw)
	}
	l := f.do(nil, "GET", "/api/v1/users?app=expenses&sort=username", f.owner, nil)
	if l.body["total"] != 2.0 {
		t.Fatalf("filter by app: %s", l.raw)
	}
	first := l.body["users"].([]any)[0].(map[string]any)
	apps := first["apps"].([]any)[0].(map[string]any)
	if first["username"] != "g1@example.com" || apps["app_role"] != "approver" || apps["via_group"] != "Sales" {
		t.Fatalf("user's apps: %v", first)
	}
	if r := f.do(nil, "DELETE", "/api/v1/apps/"+aid+"/assignments?user_id="+u2, f.owner, nil); r.code != 204 {
		t.Fatalf("unassign: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "DELETE", "/api/v1/apps/"+aid+"/assignments?user_id="+u2, f.owner, nil); r.code != 404 {
		t.Fatalf("unassign twice: %d", r.code)
	}
	if r := f.do(nil, "GET", "/api/v1/users?app=expenses", f.owner, nil); r.body["total"] != 1.0 {
		t.Fatalf("after unassign: %s", r.raw)
	}
	if r := f.do(nil, "DELETE", "/api/v1/groups/"+gid, f.owner, nil); r.code != 204 {
		t.Fatalf("delete group: %d", r.code)
	}
	if r := f.do(nil, "GET", "/api/v1/users?app=expenses", f.owner, nil); r.body["total"] != 0.0 {
		t.Fatalf("access through a deleted group remains: %s", r.raw)
	}
	if r := f.do(nil, "DELETE", "/api/v1/apps/"+aid, f.owner, nil); r.code != 204 {
		t.Fatalf("delete app: %d", r.code)
	}

	// Tokens: the secret is shown once, listed without it, and revocation stops it.
	tk := f.do(nil, "POST", "/api/v1/tokens", f.owner, map[string]any{"name": "okta", "scope": "scim"})
	if tk.code != 201 || !strings.HasPrefix(tk.body["token"].(string), core.PrefixSCIM) {
		t.Fatalf("create token: %d %s", tk.code, tk.raw)
	}
	secret := tk.body["token"].(string)
	list := f.do(nil, "GET", "/api/v1/tokens", f.owner, nil)
	if list.code != 200 || strings.Contains(list.raw, secret) || strings.Contains(list.raw, core.HashSecret(secret)) || !strings.Contains(list.raw, "okta") {
		t.Fatalf("list tokens: %d %s", list.code, list.raw)
	}
	if _, err := f.svc.AuthenticateToken(f.ctx, secret, core.ScopeSCIM); err != nil {
		t.Fatal(err)
	}
	if r := f.do(nil, "DELETE", "/api/v1/tokens/"+tk.body["id"].(string), f.owner, nil); r.code != 204 {
		t.Fatalf("revoke: %d", r.code)
	}
	if _, err := f.svc.AuthenticateToken(f.ctx, secret, core.ScopeSCIM); err == nil {
		t.Fatal("a revoked token still works")
	}
	// An admin token acts only as its creator: naming another user is refused.
	if r := f.do(nil, "POST", "/api/v1/tokens", f.owner, map[string]any{"name": "ops", "scope": "admin", "user_id": u1}); r.code != 403 || r.errField() != "user_id" {
		t.Fatalf("admin token acting as another user: %d %s", r.code, r.raw)
	}
	adm := f.do(nil, "POST", "/api/v1/tokens", f.owner, map[string]any{"name": "ops", "scope": "admin"})
	if adm.code != 201 {
		t.Fatalf("admin token: %d %s", adm.code, adm.raw)
	}
	if r := f.do(nil, "GET", "/api/v1/me", adm.body["token"].(string), nil); r.body["username"] != "owner@example.com" {
		t.Fatalf("admin token acts as its creator: %s", r.raw)
	}
}

// Every endpoint: who may and who may not.
func TestEndpointPermissionsByRole(t *testing.T) {
	f := newFixture(t, 1000)
	tokens := map[core.Role]string{core.RoleOwner: f.owner}
	for _, role := range []core.Role{core.RoleAdmin, core.RoleUserManager, core.RoleDeveloper, core.RoleMember} {
		name := string(role) + "@example.com"
		f.createActive(name, role)
		tokens[role] = f.login(name, "Sturdy-passphrase-7", "console")
	}
	// Fresh objects per check, made by the owner.
	newUser := func() string {
		r := f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": core.HashSecret(f.t.Name() + string(rune(len(tokens))))[:10] + randSuffix(), "send_invite": false})
		return r.body["id"].(string)
	}
	newActive := func() string { return f.createActive(randSuffix()+"@example.com", core.RoleMember) }
	newGroup := func() string {
		return f.do(nil, "POST", "/api/v1/groups", f.owner, map[string]any{"name": "g" + randSuffix()}).body["id"].(string)
	}
	newApp := func() string {
		return f.do(nil, "POST", "/api/v1/apps", f.owner, map[string]any{"name": "a" + randSuffix()}).body["id"].(string)
	}
	newToken := func() string {
		return f.do(nil, "POST", "/api/v1/tokens", f.owner, map[string]any{"name": "t" + randSuffix(), "scope": "scim"}).body["id"].(string)
	}

	all := []core.Role{core.RoleOwner, core.RoleAdmin, core.RoleUserManager, core.RoleDeveloper, core.RoleMember}
	admins := []core.Role{core.RoleOwner, core.RoleAdmin}
	managers := []core.Role{core.RoleOwner, core.RoleAdmin, core.RoleUserManager}
	type check struct {
		name    string
		allowed []core.Role
		req     func() (method, path string, body any)
	}
	checks := []check{
		{"me", all, func() (string, string, any) { return "GET", "/api/v1/me", nil }},
		{"list users", managers, func() (string, string, any) { return "GET", "/api/v1/users", nil }},
		{"export users", managers, func() (string, string, any) { return "GET", "/api/v1/users/export", nil }},
		{"create user", managers, func() (string, string, any) {
			return "POST", "/api/v1/users", map[string]any{"username": "n" + randSuffix(), "send_invite": false}
		}},
		{"get user", managers, func() (string, string, any) { return "GET", "/api/v1/users/" + newUser(), nil }},
		{"patch user", managers, func() (string, string, any) {
			return "PATCH", "/api/v1/users/" + newUser(), map[string]any{"last_name": "X"}
		}},
		{"delete user", admins, func() (string, string, any) { return "DELETE", "/api/v1/users/" + newUser(), nil }},
		{"history", managers, func() (string, string, any) { return "GET", "/api/v1/users/" + newUser() + "/history", nil }},
		{"disable", admins, func() (string, string, any) { return "POST", "/api/v1/users/" + newActive() + "/disable", nil }},
		{"archive", admins, func() (string, string, any) { return "POST", "/api/v1/users/" + newActive() + "/archive", nil }},
		{"resend invite", managers, func() (string, string, any) {
			return "POST", "/api/v1/users/" + newUser() + "/resend-invite", map[string]any{"send_invite": false}
		}},
		{"send password reset", managers, func() (string, string, any) {
			return "POST", "/api/v1/users/" + newActive() + "/send-password-reset", nil
		}},
		{"message group", managers, func() (string, string, any) {
			return "POST", "/api/v1/groups/" + newGroup() + "/message", map[string]any{"subject": "Hi", "body": "Hello"}
		}},
		{"user mail", managers, func() (string, string, any) { return "GET", "/api/v1/users/" + newUser() + "/mail", nil }},
		{"mail templates read", managers, func() (string, string, any) { return "GET", "/api/v1/org/mail-templates", nil }},
		{"mail template preview", admins, func() (string, string, any) {
			return "GET", "/api/v1/org/mail-templates/preview?kind=invite&language=de", nil
		}},
		{"mail template write", admins, func() (string, string, any) {
			return "PUT", "/api/v1/org/mail-templates/invite/fr", map[string]any{"subject": "Bienvenue {{.FirstName}}"}
		}},
		{"set password", managers, func() (string, string, any) {
			return "POST", "/api/v1/users/" + newActive() + "/set-password", map[string]any{"password": "Fresh-passphrase-1"}
		}},
		{"bulk archive", admins, func() (string, string, any) {
			return "POST", "/api/v1/users/bulk", map[string]any{"action": "archive", "ids": []string{newActive()}}
		}},
		{"settings read", managers, func() (string, string, any) { return "GET", "/api/v1/org/settings", nil }},
		{"settings write", admins, func() (string, string, any) {
			return "PUT", "/api/v1/org/settings", map[string]any{"invite_valid_days": 7}
		}},
		{"password policy read", managers, func() (string, string, any) { return "GET", "/api/v1/org/password-policy", nil }},
		{"password policy write", admins, func() (string, string, any) {
			return "PUT", "/api/v1/org/password-policy", map[string]any{"min_length": 10}
		}},
		{"template write", admins, func() (string, string, any) {
			return "PUT", "/api/v1/org/metadata-template", map[string]any{"fields": []any{}}
		}},
		{"list groups", managers, func() (string, string, any) { return "GET", "/api/v1/groups", nil }},
		{"create group", admins, func() (string, string, any) {
			return "POST", "/api/v1/groups", map[string]any{"name": "x" + randSuffix()}
		}},
		{"rename group", admins, func() (string, string, any) {
			return "PATCH", "/api/v1/groups/" + newGroup(), map[string]any{"name": "y" + randSuffix()}
		}},
		{"delete group", admins, func() (string, string, any) { return "DELETE", "/api/v1/groups/" + newGroup(), nil }},
		{"add member", admins, func() (string, string, any) {
			return "POST", "/api/v1/groups/" + newGroup() + "/members", map[string]any{"user_ids": []string{newUser()}}
		}},
		{"create app", admins, func() (string, string, any) {
			return "POST", "/api/v1/apps", map[string]any{"name": "z" + randSuffix()}
		}},
		{"assign app", admins, func() (string, string, any) {
			return "POST", "/api/v1/apps/" + newApp() + "/assignments", map[string]any{"user_id": newUser()}
		}},
		{"rename app", admins, func() (string, string, any) {
			return "PATCH", "/api/v1/apps/" + newApp(), map[string]any{"name": "r" + randSuffix()}
		}},
		{"unassign app", admins, func() (string, string, any) {
			app, u := newApp(), newUser()
			f.do(nil, "POST", "/api/v1/apps/"+app+"/assignments", f.owner, map[string]any{"user_id": u})
			return "DELETE", "/api/v1/apps/" + app + "/assignments?user_id=" + u, nil
		}},
		{"remove member", admins, func() (string, string, any) {
			g, u := newGroup(), newUser()
			f.do(nil, "POST", "/api/v1/groups/"+g+"/members", f.owner, map[string]any{"user_ids": []string{u}})
			return "DELETE", "/api/v1/groups/" + g + "/members/" + u, nil
		}},
		{"import dry run", managers, func() (string, string, any) {
			return "POST", "/api/v1/users/import", "username\nimp" + randSuffix() + "\n"
		}},
		{"delete app", admins, func() (string, string, any) { return "DELETE", "/api/v1/apps/" + newApp(), nil }},
		{"ldap sources", admins, func() (string, string, any) { return "GET", "/api/v1/ldap/sources", nil }},
		{"list tokens", admins, func() (string, string, any) { return "GET", "/api/v1/tokens", nil }},
		{"create token", admins, func() (string, string, any) {
			return "POST", "/api/v1/tokens", map[string]any{"name": "k" + randSuffix(), "scope": "scim"}
		}},
		{"revoke token", admins, func() (string, string, any) { return "DELETE", "/api/v1/tokens/" + newToken(), nil }},
	}
	for _, c := range checks {
		for _, role := range all {
			allowed := false
			for _, a := range c.allowed {
				allowed = allowed || a == role
			}
			method, path, body := c.req()
			var hdr []string
			if _, csv := body.(string); csv {
				hdr = []string{"Content-Type", "text/csv"}
			}
			r := f.do(nil, method, path, tokens[role], body, hdr...)
			if allowed && r.code >= 400 {
				t.Errorf("%s as %s: %d %s, want success", c.name, role, r.code, r.raw)
			}
			if !allowed && r.code != 403 {
				t.Errorf("%s as %s: %d, want 403", c.name, role, r.code)
			}
		}
	}
}

var suffix int

func randSuffix() string {
	suffix++
	return strings.ToLower(core.HashSecret(string(rune(suffix)) + "x")[:8])
}

// Behind TLS (public_url https) the session cookies are Secure; over plain
// HTTP in development they cannot be.
func TestCookiesAreSecureWhenServedOverTLS(t *testing.T) {
	for _, secure := range []bool{false, true} {
		f := newFixtureWith(t, api.Config{LoginRatePerMinute: 100, SecureCookies: secure})
		r := f.do(nil, "POST", "/api/v1/auth/login", "", map[string]any{"username": "owner@example.com", "password": ownerPW, "cookie": true})
		cookies := r.hdr.Values("Set-Cookie")
		if len(cookies) != 2 {
			t.Fatalf("cookies: %v", cookies)
		}
		for _, c := range cookies {
			if strings.Contains(c, "; Secure") != secure {
				t.Fatalf("secure=%v: %s", secure, c)
			}
		}
	}
}
