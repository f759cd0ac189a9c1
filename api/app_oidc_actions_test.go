package api_test

import (
	"slices"
	"testing"

	"github.com/rosterhq/roster/core"
)

// An app's view_oidc and edit_oidc actions (GET /apps) are what its
// /apps/{id}/oidc routes allow, role by role: owners, admins and user
// managers read the sign-in settings (user managers read-only); the person
// who created the app while allowed to create apps reads and changes its
// own; a developer on another's app and a member neither. The console
// shows the Sign-in settings button and its form from these actions.
func TestAppOIDCActionsFollowTheRoutes(t *testing.T) {
	f := newFixture(t, 1000)
	tokens := map[string]string{"owner": f.owner}
	for _, role := range []core.Role{core.RoleAdmin, core.RoleUserManager, core.RoleDeveloper, core.RoleMember} {
		name := string(role) + "@example.com"
		id := f.createActive(name, role)
		if role == core.RoleDeveloper {
			if r := f.do(nil, "PATCH", "/api/v1/users/"+id, f.owner, map[string]any{"can_create_apps": true}); r.code != 200 {
				t.Fatalf("can_create_apps: %d %s", r.code, r.raw)
			}
		}
		tokens[string(role)] = f.login(name, "Sturdy-passphrase-7", "console")
	}
	newClient := func(tok, name string) string {
		t.Helper()
		r := f.do(nil, "POST", "/api/v1/apps", tok, map[string]any{"name": name})
		if r.code != 201 {
			t.Fatalf("create %s: %d %s", name, r.code, r.raw)
		}
		id := r.body["id"].(string)
		if r := f.do(nil, "PUT", "/api/v1/apps/"+id+"/oidc", tok, map[string]any{"redirect_uris": []string{"https://app.example/cb"}}); r.code != 200 {
			t.Fatalf("oidc client of %s: %d %s", name, r.code, r.raw)
		}
		return id
	}
	apps := map[string]string{"the owner's": newClient(f.owner, "Wiki"), "the developer's own": newClient(tokens["developer"], "Dev tool")}
	for _, tc := range []struct {
		who, app   string
		view, edit bool
	}{
		{"owner", "the owner's", true, true},
		{"admin", "the owner's", true, true},
		{"user_manager", "the owner's", true, false},
		{"user_manager", "the developer's own", true, false},
		{"developer", "the developer's own", true, true},
		{"developer", "the owner's", false, false},
		{"member", "the owner's", false, false},
	} {
		tok, id := tokens[tc.who], apps[tc.app]
		var actions []string
		if r := f.do(nil, "GET", "/api/v1/apps", tok, nil); r.code == 200 {
			for _, a := range r.body["apps"].([]any) {
				m := a.(map[string]any)
				if m["id"] == id {
					for _, x := range m["actions"].([]any) {
						actions = append(actions, x.(string))
					}
				}
			}
		}
		if got := slices.Contains(actions, "view_oidc"); got != tc.view {
			t.Errorf("%s on %s app: view_oidc offered %v, want %v (%v)", tc.who, tc.app, got, tc.view, actions)
		}
		if got := slices.Contains(actions, "edit_oidc"); got != tc.edit {
			t.Errorf("%s on %s app: edit_oidc offered %v, want %v (%v)", tc.who, tc.app, got, tc.edit, actions)
		}
		r := f.do(nil, "GET", "/api/v1/apps/"+id+"/oidc", tok, nil)
		if ok := r.code == 200; ok != tc.view {
			t.Errorf("%s reads %s app's client: %d %s, want allowed=%v", tc.who, tc.app, r.code, r.raw, tc.view)
		}
		if tc.view {
			if r.body["client_id"] == nil || r.body["client_secret"] != nil || r.body["client_secret_hash"] != nil {
				t.Errorf("%s reads %s app's client: %s (want the settings, never a secret)", tc.who, tc.app, r.raw)
			}
		}
		put := f.do(nil, "PUT", "/api/v1/apps/"+id+"/oidc", tok, map[string]any{"redirect_uris": []string{"https://app.example/cb", "https://app.example/" + tc.who}})
		if ok := put.code == 200; ok != tc.edit {
			t.Errorf("%s changes %s app's client: %d %s, want allowed=%v", tc.who, tc.app, put.code, put.raw, tc.edit)
		}
		if !tc.edit {
			if put.code != 403 {
				t.Errorf("%s changes %s app's client: %d, want 403", tc.who, tc.app, put.code)
			}
			if del := f.do(nil, "DELETE", "/api/v1/apps/"+id+"/oidc", tok, nil); del.code != 403 {
				t.Errorf("%s deletes %s app's client: %d %s, want 403", tc.who, tc.app, del.code, del.raw)
			}
			got := f.do(nil, "GET", "/api/v1/apps/"+id+"/oidc", f.owner, nil).body["redirect_uris"].([]any)
			for _, u := range got {
				if u == "https://app.example/"+tc.who {
					t.Errorf("the refused change of %s was written: %v", tc.who, got)
				}
			}
		}
	}
}
