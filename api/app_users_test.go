package api_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster/core"
)

// The apps list gives each app the caller's actions (the rules that
// refuse); GET /apps/{id}/users lists who has access, directly or through a
// group, with the app role; assigning again changes the role, unassigning
// removes the app from the user, and a user manager may look but not change.
func TestAppUsersActionsAssignChangeRoleUnassign(t *testing.T) {
	f := newFixture(t, 100)
	app := f.do(nil, "POST", "/api/v1/apps", f.owner, map[string]any{"name": "Expenses"}).body["id"].(string)
	ada := f.createActive("ada@example.com", core.RoleMember)
	bob := f.createActive("bob@example.com", core.RoleMember)
	grp := f.do(nil, "POST", "/api/v1/groups", f.owner, map[string]any{"name": "Finance"}).body["id"].(string)
	f.do(nil, "POST", "/api/v1/groups/"+grp+"/members", f.owner, map[string]any{"user_ids": []string{ada, bob}})
	for _, body := range []map[string]any{{"user_id": ada, "app_role": "approver"}, {"group_id": grp, "app_role": "viewer"}} {
		if r := f.do(nil, "POST", "/api/v1/apps/"+app+"/assignments", f.owner, body); r.code != 204 {
			t.Fatalf("assign %v: %d %s", body, r.code, r.raw)
		}
	}
	access := func(tok string) (string, resp) {
		t.Helper()
		r := f.do(nil, "GET", "/api/v1/apps/"+app+"/users", tok, nil)
		var rows []string
		for _, u := range r.body["users"].([]any) {
			m := u.(map[string]any)
			via, _ := m["via_group"].(string)
			rows = append(rows, fmt.Sprintf("%s=%s/%s", m["username"], m["app_role"], via))
		}
		for _, g := range r.body["groups"].([]any) {
			m := g.(map[string]any)
			rows = append(rows, fmt.Sprintf("group %s=%s", m["group_name"], m["app_role"]))
		}
		return strings.Join(rows, ","), r
	}
	if got, r := access(f.owner); r.code != 200 || got != "ada@example.com=approver/,bob@example.com=viewer/Finance,group Finance=viewer" {
		t.Fatalf("app users: %d %s", r.code, got)
	}
	// Change the role: assign again.
	if r := f.do(nil, "POST", "/api/v1/apps/"+app+"/assignments", f.owner, map[string]any{"user_id": bob, "app_role": "admin"}); r.code != 204 {
		t.Fatalf("change role: %d %s", r.code, r.raw)
	}
	if got, _ := access(f.owner); got != "ada@example.com=approver/,bob@example.com=admin/,group Finance=viewer" {
		t.Fatalf("after the role change: %s", got)
	}
	// Unassign bob's direct assignment: the group's grant is what is left.
	if r := f.do(nil, "DELETE", "/api/v1/apps/"+app+"/assignments?user_id="+bob, f.owner, nil); r.code != 204 {
		t.Fatalf("unassign: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "DELETE", "/api/v1/apps/"+app+"/assignments?group_id="+grp, f.owner, nil); r.code != 204 {
		t.Fatalf("revoke the group: %d %s", r.code, r.raw)
	}
	if got, _ := access(f.owner); got != "ada@example.com=approver/" {
		t.Fatalf("after unassigning: %s", got)
	}
	if apps := f.do(nil, "GET", "/api/v1/users/"+bob, f.owner, nil).body["apps"].([]any); len(apps) != 0 {
		t.Errorf("bob still has %v", apps)
	}

	// Actions per role; a user manager sees the users, changes nothing.
	f.createActive("manager@example.com", core.RoleUserManager)
	manager := f.login("manager@example.com", "Sturdy-passphrase-7", "console")
	creatorID := f.createActive("maker@example.com", core.RoleDeveloper)
	if r := f.do(nil, "PATCH", "/api/v1/users/"+creatorID, f.owner, map[string]any{"can_create_apps": true}); r.code != 200 {
		t.Fatalf("can_create_apps: %d %s", r.code, r.raw)
	}
	maker := f.login("maker@example.com", "Sturdy-passphrase-7", "console")
	for who, tok := range map[string]string{"owner": f.owner, "app creator": maker, "user manager": manager} {
		caps := f.do(nil, "GET", "/api/v1/me", tok, nil).body["capabilities"].(map[string]any)
		if want := who != "user manager"; caps["create_apps"] != want {
			t.Errorf("%s: create_apps %v, want %v", who, caps["create_apps"], want)
		}
	}
	f.do(nil, "POST", "/api/v1/apps", maker, map[string]any{"name": "Maker's"})
	actions := func(tok string) map[string]string {
		t.Helper()
		r := f.do(nil, "GET", "/api/v1/apps", tok, nil)
		out := map[string]string{}
		for _, a := range r.body["apps"].([]any) {
			m := a.(map[string]any)
			out[m["name"].(string)] = fmt.Sprint(m["actions"])
		}
		return out
	}
	for _, tc := range []struct {
		who, tok string
		want     map[string]string
	}{
		{"owner", f.owner, map[string]string{"Expenses": "[rename assign edit_oidc delete users view_oidc message]", "Maker's": "[rename assign edit_oidc delete users view_oidc message]"}},
		{"user manager", manager, map[string]string{"Expenses": "[users view_oidc message]", "Maker's": "[users view_oidc message]"}},
		{"app creator", maker, map[string]string{"Maker's": "[rename assign edit_oidc delete users view_oidc]"}},
	} {
		if got := actions(tc.tok); fmt.Sprint(got) != fmt.Sprint(tc.want) {
			t.Errorf("%s: actions %v, want %v", tc.who, got, tc.want)
		}
	}
	if got, r := access(manager); r.code != 200 || got != "ada@example.com=approver/" {
		t.Errorf("user manager reads the users: %d %s", r.code, got)
	}
	if r := f.do(nil, "DELETE", "/api/v1/apps/"+app+"/assignments?user_id="+ada, manager, nil); r.code != 403 {
		t.Errorf("user manager unassigns: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "GET", "/api/v1/apps/"+app+"/users", maker, nil); r.code != 403 || !strings.Contains(r.raw, "created by someone else") {
		t.Errorf("app creator reads another's app: %d %s", r.code, r.raw)
	}
	if got, _ := access(f.owner); got != "ada@example.com=approver/" {
		t.Errorf("the refused unassign changed something: %s", got)
	}
}
