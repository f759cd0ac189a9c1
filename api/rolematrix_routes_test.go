package api_test

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster/core"
)

// roleMatrixRoutes are the admin routes that TestEndpointPermissionsByRole
// (access_test.go) checks for every role.
var roleMatrixRoutes = []string{
	"GET /api/v1/me", "GET /api/v1/users", "GET /api/v1/users/export", "POST /api/v1/users", "GET /api/v1/users/{id}",
	"PATCH /api/v1/users/{id}", "DELETE /api/v1/users/{id}", "GET /api/v1/users/{id}/history", "POST /api/v1/users/{id}/{action}",
	"POST /api/v1/groups/{id}/message", "GET /api/v1/users/{id}/mail", "GET /api/v1/org/mail-templates",
	"GET /api/v1/org/mail-templates/preview", "PUT /api/v1/org/mail-templates/{kind}/{language}", "POST /api/v1/users/bulk",
	"GET /api/v1/org/settings", "PUT /api/v1/org/settings", "GET /api/v1/org/password-policy", "PUT /api/v1/org/password-policy",
	"PUT /api/v1/org/metadata-template", "GET /api/v1/groups", "POST /api/v1/groups", "PATCH /api/v1/groups/{id}",
	"DELETE /api/v1/groups/{id}", "POST /api/v1/groups/{id}/members", "POST /api/v1/apps", "POST /api/v1/apps/{id}/assignments",
	"PATCH /api/v1/apps/{id}", "DELETE /api/v1/apps/{id}/assignments", "DELETE /api/v1/groups/{id}/members/{user_id}",
	"POST /api/v1/users/import", "DELETE /api/v1/apps/{id}", "GET /api/v1/ldap/sources", "GET /api/v1/tokens",
	"POST /api/v1/tokens", "DELETE /api/v1/tokens/{id}",
}

// The rest of the role matrix: every authenticated admin route is checked
// for every role, here or in TestEndpointPermissionsByRole. A new route
// without a role check fails this test.
func TestRoleMatrixCoversEveryAdminRoute(t *testing.T) {
	e := newTenantEnv(t)
	e.ldap.owner = e.org // A has the on-demand source "victim-ldap"
	f := e.fixture
	tokens := map[core.Role]string{core.RoleOwner: f.owner}
	for _, role := range []core.Role{core.RoleAdmin, core.RoleUserManager, core.RoleDeveloper, core.RoleMember} {
		name := string(role) + "@example.com"
		f.createActive(name, role)
		tokens[role] = f.login(name, "Sturdy-passphrase-7", "console")
	}
	all := []core.Role{core.RoleOwner, core.RoleAdmin, core.RoleUserManager, core.RoleDeveloper, core.RoleMember}
	admins := []core.Role{core.RoleOwner, core.RoleAdmin}
	managers := []core.Role{core.RoleOwner, core.RoleAdmin, core.RoleUserManager}
	newGroup := func() string {
		return f.do(nil, "POST", "/api/v1/groups", f.owner, map[string]any{"name": "g" + randSuffix()}).body["id"].(string)
	}
	newOIDCApp := func() string {
		id := f.do(nil, "POST", "/api/v1/apps", f.owner, map[string]any{"name": "app" + randSuffix()}).body["id"].(string)
		if r := f.do(nil, "PUT", "/api/v1/apps/"+id+"/oidc", f.owner, map[string]any{"redirect_uris": []string{"https://app.example/cb"}}); r.code != 200 {
			t.Fatalf("oidc client: %d %s", r.code, r.raw)
		}
		return id
	}
	newActive := func() string { return f.createActive(randSuffix()+"@example.com", core.RoleMember) }
	status := func(act core.Action) func() string {
		return func() string {
			id := newActive()
			if act != "" {
				if _, err := f.svc.ChangeStatus(f.ctx, core.CLIActor(), f.org, id, act); err != nil {
					t.Fatal(err)
				}
			}
			return id
		}
	}
	type check struct {
		route, name string
		allowed     []core.Role
		req         func(role core.Role) (method, path string, body any)
	}
	checks := []check{
		{"GET /api/v1/groups/{id}/members", "group members", managers, func(core.Role) (string, string, any) {
			return "GET", "/api/v1/groups/" + newGroup() + "/members", nil
		}},
		{"PUT /api/v1/groups/{id}/members", "replace members", admins, func(core.Role) (string, string, any) {
			return "PUT", "/api/v1/groups/" + newGroup() + "/members", map[string]any{"user_ids": []string{newActive()}}
		}},
		// Owners and admins disable and archive (in the older matrix); user
		// managers may undo: enable, restore, unlock.
		{"POST /api/v1/users/{id}/{action}", "enable", managers, func(core.Role) (string, string, any) {
			return "POST", "/api/v1/users/" + status(core.ActDisable)() + "/enable", nil
		}},
		{"POST /api/v1/users/{id}/{action}", "restore", managers, func(core.Role) (string, string, any) {
			return "POST", "/api/v1/users/" + status(core.ActArchive)() + "/restore", nil
		}},
		{"POST /api/v1/users/{id}/{action}", "unlock", managers, func(core.Role) (string, string, any) {
			return "POST", "/api/v1/users/" + status(core.ActLock)() + "/unlock", nil
		}},
		{"DELETE /api/v1/org/mail-templates/{kind}/{language}", "mail template delete", admins, func(core.Role) (string, string, any) {
			f.do(nil, "PUT", "/api/v1/org/mail-templates/invite/es", f.owner, map[string]any{"subject": "Hola {{.FirstName}}"})
			return "DELETE", "/api/v1/org/mail-templates/invite/es", nil
		}},
		{"POST /api/v1/org/mail-templates/preview", "mail template draft preview", admins, func(core.Role) (string, string, any) {
			return "POST", "/api/v1/org/mail-templates/preview", map[string]any{"kind": "invite", "language": "en", "subject": "Hi {{.FirstName}}"}
		}},
		{"GET /api/v1/org", "organisation profile read", managers, func(core.Role) (string, string, any) { return "GET", "/api/v1/org", nil }},
		{"PUT /api/v1/org", "organisation profile change", admins, func(core.Role) (string, string, any) {
			return "PUT", "/api/v1/org", map[string]any{"support_email": "help@example.com"}
		}},
		{"GET /api/v1/org/mail-templates/variables", "mail template variables", managers, func(core.Role) (string, string, any) {
			return "GET", "/api/v1/org/mail-templates/variables", nil
		}},
		{"GET /api/v1/org/mail-templates/builtin/{kind}/{language}", "built-in mail template", managers, func(core.Role) (string, string, any) {
			return "GET", "/api/v1/org/mail-templates/builtin/invite/de", nil
		}},
		{"POST /api/v1/apps/{id}/message", "message the users of an app", managers, func(core.Role) (string, string, any) {
			app := f.do(nil, "POST", "/api/v1/apps", f.owner, map[string]any{"name": "app" + randSuffix()}).body["id"].(string)
			return "POST", "/api/v1/apps/" + app + "/message", map[string]any{"subject": "Hi", "body": "Notice"}
		}},
		{"GET /api/v1/apps/{id}/users", "the users of an app", managers, func(core.Role) (string, string, any) {
			app := f.do(nil, "POST", "/api/v1/apps", f.owner, map[string]any{"name": "app" + randSuffix()}).body["id"].(string)
			return "GET", "/api/v1/apps/" + app + "/users", nil
		}},
		{"GET /api/v1/org/metadata-template", "template read", all, func(core.Role) (string, string, any) {
			return "GET", "/api/v1/org/metadata-template", nil
		}},
		{"GET /api/v1/org/user-schema", "user schema", managers, func(core.Role) (string, string, any) {
			return "GET", "/api/v1/org/user-schema", nil
		}},
		{"GET /api/v1/apps", "list apps", managers, func(core.Role) (string, string, any) { return "GET", "/api/v1/apps", nil }},
		{"PUT /api/v1/apps/{id}/oidc", "set an app's oidc client", admins, func(core.Role) (string, string, any) {
			return "PUT", "/api/v1/apps/" + newOIDCApp() + "/oidc", map[string]any{"redirect_uris": []string{"https://app.example/cb"}}
		}},
		{"GET /api/v1/apps/{id}/oidc", "read an app's oidc client", managers, func(core.Role) (string, string, any) {
			return "GET", "/api/v1/apps/" + newOIDCApp() + "/oidc", nil
		}},
		{"DELETE /api/v1/apps/{id}/oidc", "delete an app's oidc client", admins, func(core.Role) (string, string, any) {
			return "DELETE", "/api/v1/apps/" + newOIDCApp() + "/oidc", nil
		}},
		{"POST /api/v1/ldap/sources/{name}/sync", "ldap sync now", admins, func(core.Role) (string, string, any) {
			return "POST", "/api/v1/ldap/sources/victim-ldap/sync", nil
		}},
		{"GET /api/v1/ldap/sources/{name}/search", "ldap directory search", managers, func(core.Role) (string, string, any) {
			return "GET", "/api/v1/ldap/sources/victim-ldap/search?q=x", nil
		}},
		{"GET /api/v1/audit", "the audit log", admins, func(core.Role) (string, string, any) { return "GET", "/api/v1/audit", nil }},
		{"GET /api/v1/users/counts", "user counts", managers, func(core.Role) (string, string, any) { return "GET", "/api/v1/users/counts", nil }},
		{"POST /api/v1/auth/logout", "logout", all, func(core.Role) (string, string, any) { return "POST", "/api/v1/auth/logout", nil }},
		{"POST /api/v1/auth/password", "change own password", all, func(role core.Role) (string, string, any) {
			return "POST", "/api/v1/auth/password", map[string]any{"old_password": "wrong-" + string(role), "new_password": "Another-passphrase-8"}
		}},
	}
	// Which routes are covered, here or in the older matrix.
	covered := map[string]bool{}
	for _, r := range roleMatrixRoutes {
		covered[r] = true
	}
	for _, c := range checks {
		covered[c.route] = true
	}
	public := map[string]bool{"POST /api/v1/auth/login": true, "POST /api/v1/invites/accept": true, "POST /api/v1/auth/password-reset": true}
	for _, k := range routeKeys(t, e.router) {
		if _, p, _ := strings.Cut(k, " "); strings.HasPrefix(p, "/api/v1/") && !public[k] && !covered[k] {
			t.Errorf("admin route %s is in no role matrix", k)
		}
	}
	for _, c := range checks {
		for _, role := range all {
			allowed := false
			for _, a := range c.allowed {
				allowed = allowed || a == role
			}
			tok := tokens[role]
			if c.name == "logout" {
				if role == core.RoleOwner {
					tok = f.login("owner@example.com", ownerPW, "console")
				} else {
					tok = f.login(string(role)+"@example.com", "Sturdy-passphrase-7", "console")
				}
			}
			method, path, body := c.req(role)
			r := f.do(nil, method, path, tok, body)
			switch {
			case c.name == "change own password":
				// Everyone may try; a wrong current password is a 4xx that is not 403.
				if r.code == 403 || r.code < 400 {
					t.Errorf("%s as %s: %d %s", c.name, role, r.code, r.raw)
				}
			case allowed && r.code >= 400:
				t.Errorf("%s as %s: %d %s, want success", c.name, role, r.code, r.raw)
			case !allowed && r.code != 403:
				t.Errorf("%s as %s: %d %s, want 403", c.name, role, r.code, r.raw)
			}
		}
	}
}
