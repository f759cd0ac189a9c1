package api_test

import (
	"fmt"
	"slices"
	"testing"

	"github.com/rosterhq/roster/core"
)

// /me tells what the signed-in person may do, the list each user's actions
// and the groups each group's: computed by core's rules, over HTTP (the
// responses pass the OpenAPI validator).
func TestMeCapabilitiesAndPerTargetActions(t *testing.T) {
	f := newPrivFixture(t)
	f.createActive("um@example.com", core.RoleUserManager)
	f.createActive("peer@example.com", core.RoleUserManager)
	f.createActive("dev@example.com", core.RoleDeveloper)
	um := f.login("um@example.com", "Sturdy-passphrase-7", "console")

	caps := func(tok string) map[string]any {
		t.Helper()
		r := f.do(nil, "GET", "/api/v1/me", tok, nil)
		c, ok := r.body["capabilities"].(map[string]any)
		if r.code != 200 || !ok {
			t.Fatalf("/me: %d %s", r.code, r.raw)
		}
		return c
	}
	for _, tc := range []struct {
		who  string
		tok  string
		want map[string]any
	}{
		{"owner", f.owner, map[string]any{"manage_users": true, "disable_users": true, "archive_users": true, "manage_groups": true, "tokens": true, "ldap": true, "set_admin": true,
			"grantable_roles": "[owner admin user_manager developer member]"}},
		{"user manager", um, map[string]any{"manage_users": true, "disable_users": false, "archive_users": false, "manage_groups": false, "tokens": false, "ldap": false,
			"org_settings": false, "mail_templates": false, "set_admin": false, "grantable_roles": "[developer member]"}},
	} {
		c := caps(tc.tok)
		for k, v := range tc.want {
			got := c[k]
			if s, ok := v.(string); ok {
				got = fmt.Sprint(got)
				v = s
			}
			if got != v {
				t.Errorf("%s: capabilities.%s = %v, want %v", tc.who, k, got, v)
			}
		}
	}

	actions := func(tok, username string) []string {
		t.Helper()
		r := f.do(nil, "GET", "/api/v1/users?q="+username, tok, nil)
		us, _ := r.body["users"].([]any)
		if r.code != 200 || len(us) != 1 {
			t.Fatalf("list %s: %d %s", username, r.code, r.raw)
		}
		u := us[0].(map[string]any)
		var out []string
		for _, a := range u["actions"].([]any) {
			out = append(out, a.(string))
		}
		// GET /users/{id} answers the same actions.
		one := f.do(nil, "GET", "/api/v1/users/"+u["id"].(string), tok, nil)
		if fmt.Sprint(one.body["actions"]) != fmt.Sprint(u["actions"]) {
			t.Fatalf("GET %s actions %v, list %v", username, one.body["actions"], u["actions"])
		}
		return out
	}
	for _, tc := range []struct {
		who, tok, target string
		has, hasNot      []string
	}{
		{"owner", f.owner, "dev@example.com", []string{"disable", "archive", "edit", "change_role", "set_password"}, []string{"enable", "restore", "resend_invite"}},
		{"owner on themself", f.owner, "owner@example.com", []string{"edit"}, []string{"disable", "archive"}},
		{"user manager on a developer", um, "dev@example.com", []string{"edit", "change_role", "set_password"}, []string{"disable", "archive", "delete"}},
		{"user manager on a peer", um, "peer@example.com", nil, []string{"disable", "archive", "edit", "change_role", "set_password"}},
	} {
		got := actions(tc.tok, tc.target)
		for _, a := range tc.has {
			if !slices.Contains(got, a) {
				t.Errorf("%s (%s): actions %v lack %s", tc.who, tc.target, got, a)
			}
		}
		for _, a := range tc.hasNot {
			if slices.Contains(got, a) {
				t.Errorf("%s (%s): actions %v offer %s", tc.who, tc.target, got, a)
			}
		}
	}

	// A directory's group offers no rename (its sync would revert it); a
	// native one does, to an owner, and not to a user manager.
	scimTok := f.do(nil, "POST", "/api/v1/tokens", f.owner, map[string]any{"name": "okta", "scope": "scim"}).body["token"].(string)
	if r := f.scim(scimTok, "POST", "/Groups", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:Group"}, "displayName": "Okta-Eng"}); r.code != 201 {
		t.Fatalf("scim group: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "POST", "/api/v1/groups", f.owner, map[string]any{"name": "Native"}); r.code != 201 {
		t.Fatalf("native group: %d %s", r.code, r.raw)
	}
	groupActions := func(tok string) map[string]string {
		t.Helper()
		r := f.do(nil, "GET", "/api/v1/groups", tok, nil)
		out := map[string]string{}
		for _, g := range r.body["groups"].([]any) {
			m := g.(map[string]any)
			out[m["name"].(string)] = fmt.Sprint(m["actions"])
		}
		return out
	}
	if g := groupActions(f.owner); g["Okta-Eng"] != "[message]" || g["Native"] != "[rename edit_members delete message]" {
		t.Errorf("owner's group actions: %v", g)
	}
	if g := groupActions(um); g["Native"] != "[message]" {
		t.Errorf("user manager's group actions: %v", g)
	}
}
