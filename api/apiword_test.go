package api_test

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/rosterhq/roster/core"
)

// An invitation accepted after the user was disabled is a 409 the
// document lists (the response validator checks the body).
func TestAcceptInviteOfADisabledUserIsADocumented409(t *testing.T) {
	f := newFixture(t, 100)
	r := f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": "late@example.com", "email": "late@example.com", "send_invite": false})
	if r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.raw)
	}
	link := r.body["invite_link"].(string)
	id := r.body["id"].(string)
	if d := f.do(nil, "POST", "/api/v1/users/"+id+"/disable", f.owner, nil); d.code != 200 {
		t.Fatalf("disable: %d %s", d.code, d.raw)
	}
	a := f.do(nil, "POST", "/api/v1/invites/accept", "", map[string]any{"token": link[strings.LastIndex(link, "/")+1:], "password": "Sturdy-passphrase-7"})
	if a.code != 409 || a.errCode() != "illegal_transition" {
		t.Fatalf("accept after disable: %d %s", a.code, a.raw)
	}
}

// exportCSV fetches GET /users/export as the given session.
func (f *fixture) exportCSV(token string) [][]string {
	f.t.Helper()
	req, _ := http.NewRequest("GET", f.srv.URL+"/api/v1/users/export?sort=username", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		f.t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		f.t.Fatalf("export: %d", res.StatusCode)
	}
	rows, err := csv.NewReader(res.Body).ReadAll()
	if err != nil {
		f.t.Fatal(err)
	}
	return rows
}

// importAs posts a CSV to /users/import as the given session.
func (f *fixture) importAs(token, query, body string) resp {
	f.t.Helper()
	saved := f.owner
	defer func() { f.owner = saved }()
	f.owner = token
	return f.upload("/api/v1/users/import?"+query, "text/csv", []byte(body))
}

// importable keeps the columns an import sets, by name, per username.
func importable(rows [][]string) map[string]map[string]string {
	skip := map[string]bool{"status": true, "invite_status": true, "source": true, "groups": true, "created_at": true, "last_login_at": true}
	out := map[string]map[string]string{}
	for _, row := range rows[1:] {
		m := map[string]string{}
		for i, h := range rows[0] {
			if !skip[h] {
				m[h] = row[i]
			}
		}
		out[row[0]] = m
	}
	return out
}

// An export imports back: N users exported from one organisation and
// imported into a fresh one are the same users (names, email, phone,
// language, role, can_create_apps, metadata), formula-guarded cells read
// back as their value.
func TestExportImportsBackIntoAFreshOrganisation(t *testing.T) {
	f := newFixture(t, 1000)
	tpl := map[string]any{"fields": []map[string]any{{"name": "team", "type": "string"}, {"name": "floor", "type": "number"}}}
	f.do(nil, "PUT", "/api/v1/org/metadata-template", f.owner, tpl)
	const n = 12
	roles := []string{"member", "developer", "user_manager", "admin", "member", "owner"}
	for i := range n {
		u := map[string]any{"username": fmt.Sprintf("user%02d@example.com", i), "email": fmt.Sprintf("user%02d@example.com", i),
			"first_name": fmt.Sprintf("First%d", i), "last_name": []string{"=HYPERLINK(\"x\")", "-minus", "@at", "Plain, with comma"}[i%4],
			"phone": fmt.Sprintf("+49 30 %04d", i), "language": []string{"en", "de", "fr", ""}[i%4], "role": roles[i%len(roles)],
			"can_create_apps": i%3 == 0, "send_invite": false, "metadata": map[string]string{"team": fmt.Sprintf("+team %d", i), "floor": fmt.Sprint(i)}}
		if r := f.do(nil, "POST", "/api/v1/users", f.owner, u); r.code != 201 {
			t.Fatalf("create %d: %d %s", i, r.code, r.raw)
		}
	}
	exported := f.exportCSV(f.owner)
	if len(exported) != n+2 { // header, the owner, n users
		t.Fatalf("%d rows exported", len(exported))
	}
	if ex := importable(exported)["user00@example.com"]; ex["last_name"] != `'=HYPERLINK("x")` || ex["phone"] != "'+49 30 0000" {
		t.Fatalf("the export is not formula-guarded: %v", ex)
	}

	b, err := f.svc.CreateOrg(f.ctx, core.CLIActor(), "fresh", "Fresh Org")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateUser(f.ctx, core.CLIActor(), core.NewUser{OrgID: b.ID, Username: "boss@fresh.example", Email: "boss@fresh.example", Role: core.RoleOwner, Invite: core.NoInvite, Password: ownerPW}); err != nil {
		t.Fatal(err)
	}
	lr := f.do(nil, "POST", "/api/v1/auth/login", "", map[string]any{"org": "fresh", "username": "boss@fresh.example", "password": ownerPW})
	if lr.code != 200 {
		t.Fatalf("login: %d %s", lr.code, lr.raw)
	}
	bTok := lr.body["token"].(string)
	f.do(nil, "PUT", "/api/v1/org/metadata-template", bTok, tpl)

	var file strings.Builder
	w := csv.NewWriter(&file)
	_ = w.WriteAll(exported)
	for _, dry := range []string{"true", "false"} {
		r := f.importAs(bTok, "send_invite=false&dry_run="+dry, file.String())
		if r.code != 200 || r.body["ok"] != float64(n+1) || r.body["failed"] != 0.0 {
			t.Fatalf("import (dry_run=%s): %d %s", dry, r.code, r.raw)
		}
	}
	back := importable(f.exportCSV(bTok))
	want := importable(exported)
	delete(back, "boss@fresh.example")
	if len(back) != len(want) {
		t.Fatalf("%d users back, want %d", len(back), len(want))
	}
	for name, w := range want {
		if fmt.Sprint(back[name]) != fmt.Sprint(w) {
			t.Errorf("%s:\n got %v\nwant %v", name, back[name], w)
		}
	}
	u, err := f.svc.GetUserByUsername(f.ctx, b.ID, "user00@example.com")
	if err != nil || u.LastName != `=HYPERLINK("x")` || u.Phone != "+49 30 0000" || u.Metadata["team"] != "+team 0" {
		t.Fatalf("formula-guarded cells were not read back as their value: %+v %v", u, err)
	}
}

// One bad yes/no cell marks its row, naming the column and the line; the
// other rows import, in a dry run and for real.
func TestImportReportsABadCellOnItsRow(t *testing.T) {
	f := newFixture(t, 100)
	file := "username,email,Can user create apps?,set_admin\n" +
		"ann@example.com,ann@example.com,yes,no\n" +
		"bad@example.com,bad@example.com,perhaps,no\n" +
		"cy@example.com,cy@example.com,no,yes\n"
	for _, dry := range []string{"true", "false"} {
		r := f.importAs(f.owner, "send_invite=false&dry_run="+dry, file)
		ok := map[string]string{"true": "valid", "false": "created"}[dry]
		if got := fmt.Sprint(outcomes(r)); r.code != 200 || got != fmt.Sprintf("[2:%s 3:invalid:can_create_apps 4:%s]", ok, ok) {
			t.Fatalf("dry_run=%s: %d %s", dry, r.code, r.raw)
		}
		bad := r.body["rows"].([]any)[1].(map[string]any)["error"].(map[string]any)
		if msg := bad["message"].(string); bad["code"] != "invalid" || !strings.Contains(msg, `line 3`) || !strings.Contains(msg, `column "Can user create apps?"`) || !strings.Contains(msg, `"perhaps" is not yes or no`) {
			t.Fatalf("dry_run=%s: the row's error: %v", dry, bad)
		}
	}
	cy, err := f.svc.GetUserByUsername(f.ctx, f.org, "cy@example.com")
	if err != nil || cy.Role != core.RoleAdmin {
		t.Fatalf("set_admin yes: %+v %v", cy, err)
	}
	if _, err := f.svc.GetUserByUsername(f.ctx, f.org, "bad@example.com"); err == nil {
		t.Fatal("the bad row was imported")
	}
}

// A refusal says the real reason: each permission its own sentence, a
// delete refusal how the user became active, a validation error the field
// the caller sent.
func TestRefusalsSayTheRealReason(t *testing.T) {
	f := newFixture(t, 1000)
	f.createActive("um@example.com", core.RoleUserManager)
	um := f.login("um@example.com", "Sturdy-passphrase-7", "console")
	group := f.do(nil, "POST", "/api/v1/groups", f.owner, map[string]any{"name": "g"}).body["id"].(string)
	app := f.do(nil, "POST", "/api/v1/apps", f.owner, map[string]any{"name": "a"}).body["id"].(string)
	accepted := f.createActive("accepted@example.com", core.RoleMember)
	started, err := f.svc.CreateUser(f.ctx, core.CLIActor(), core.NewUser{OrgID: f.org, Username: "started@example.com", Email: "started@example.com", Invite: core.NoInvite, Password: "Sturdy-passphrase-7"})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, method, path, token string
		body                      any
		code                      int
		want, notWant, field      string
	}{
		{"create a group", "POST", "/api/v1/groups", um, map[string]any{"name": "x"}, 403, core.PermGroups.Sentence(), "settings", ""},
		{"rename a group", "PATCH", "/api/v1/groups/" + group, um, map[string]any{"name": "y"}, 403, core.PermGroups.Sentence(), "settings", ""},
		{"add a member", "POST", "/api/v1/groups/" + group + "/members", um, map[string]any{"user_ids": []string{accepted}}, 403, core.PermGroups.Sentence(), "settings", ""},
		{"create an app", "POST", "/api/v1/apps", um, map[string]any{"name": "x"}, 403, core.PermApps.Sentence(), "settings", ""},
		{"assign an app", "POST", "/api/v1/apps/" + app + "/assignments", um, map[string]any{"user_id": accepted}, 403, core.PermApps.Sentence(), "settings", ""},
		{"list tokens", "GET", "/api/v1/tokens", um, nil, 403, core.PermTokens.Sentence(), "settings", ""},
		{"create a token", "POST", "/api/v1/tokens", um, map[string]any{"name": "t", "scope": "scim"}, 403, core.PermTokens.Sentence(), "settings", ""},
		{"change the settings", "PUT", "/api/v1/org/settings", um, map[string]any{"invite_valid_days": 7}, 403, core.PermOrgSettings.Sentence(), "", ""},
		{"change the password policy", "PUT", "/api/v1/org/password-policy", um, map[string]any{"min_length": 12}, 403, core.PermPasswordPolicy.Sentence(), "settings", ""},
		{"change the metadata template", "PUT", "/api/v1/org/metadata-template", um, map[string]any{"fields": []any{}}, 403, core.PermMetadataTemplate.Sentence(), "settings", ""},
		{"change a mail template", "PUT", "/api/v1/org/mail-templates/invite/fr", um, map[string]any{"subject": "Bonjour"}, 403, core.PermMailTemplates.Sentence(), "settings", ""},
		{"delete a user who was created active", "DELETE", "/api/v1/users/" + started.User.ID, f.owner, nil, 409, "created active (without an invitation)", "accepted", ""},
		{"delete a user who accepted", "DELETE", "/api/v1/users/" + accepted, f.owner, nil, 409, "accepted their invitation", "", ""},
		{"an unknown invitation language", "POST", "/api/v1/users", f.owner, map[string]any{"username": "x@example.com", "email": "x@example.com", "invite_language": "xx"}, 400, `invite_language: \"xx\"`, "mail_language", "invite_language"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(nil, tc.method, tc.path, tc.token, tc.body)
			if r.code != tc.code || !strings.Contains(r.raw, tc.want) || (tc.notWant != "" && strings.Contains(r.raw, tc.notWant)) || r.errField() != tc.field {
				t.Fatalf("%d %s; want %d saying %q", r.code, r.raw, tc.code, tc.want)
			}
		})
	}
}

// "Can user create apps?" grants something: a member with it creates apps
// and manages the apps they created, not others'; without it (or once it
// is taken away) they manage none.
func TestMembersWhoMayCreateAppsManageTheirOwn(t *testing.T) {
	f := newFixture(t, 1000)
	maker := f.createActive("maker@example.com", core.RoleMember)
	if r := f.do(nil, "PATCH", "/api/v1/users/"+maker, f.owner, map[string]any{"can_create_apps": true}); r.code != 200 {
		t.Fatalf("grant: %d %s", r.code, r.raw)
	}
	f.createActive("plain@example.com", core.RoleMember)
	other := f.createActive("other@example.com", core.RoleMember)
	mk := f.login("maker@example.com", "Sturdy-passphrase-7", "console")
	plain := f.login("plain@example.com", "Sturdy-passphrase-7", "console")
	theirs := f.do(nil, "POST", "/api/v1/apps", f.owner, map[string]any{"name": "Owners app"}).body["id"].(string)

	r := f.do(nil, "POST", "/api/v1/apps", mk, map[string]any{"name": "Makers app"})
	if r.code != 201 || r.body["created_by_id"] != maker {
		t.Fatalf("create as a member who may: %d %s", r.code, r.raw)
	}
	mine := r.body["id"].(string)
	for _, tc := range []struct {
		name, token, method, path string
		body                      any
		code                      int
		want                      string
	}{
		{"rename own", mk, "PATCH", "/api/v1/apps/" + mine, map[string]any{"name": "Makers app 2"}, 200, ""},
		{"assign own", mk, "POST", "/api/v1/apps/" + mine + "/assignments", map[string]any{"user_id": other}, 204, ""},
		{"unassign own", mk, "DELETE", "/api/v1/apps/" + mine + "/assignments?user_id=" + other, nil, 204, ""},
		{"list: own apps only", mk, "GET", "/api/v1/apps", nil, 200, "Makers app 2"},
		{"rename another's", mk, "PATCH", "/api/v1/apps/" + theirs, map[string]any{"name": "mine now"}, 403, "only the apps they created"},
		{"assign another's", mk, "POST", "/api/v1/apps/" + theirs + "/assignments", map[string]any{"user_id": other}, 403, "only the apps they created"},
		{"delete another's", mk, "DELETE", "/api/v1/apps/" + theirs, nil, 403, "only the apps they created"},
		{"a member who may not", plain, "POST", "/api/v1/apps", map[string]any{"name": "nope"}, 403, core.PermApps.Sentence()},
		{"a member who may not lists", plain, "GET", "/api/v1/apps", nil, 403, core.PermApps.Sentence()},
		{"the owner manages the member's app", f.owner, "POST", "/api/v1/apps/" + mine + "/assignments", map[string]any{"user_id": other}, 204, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.do(nil, tc.method, tc.path, tc.token, tc.body)
			if r.code != tc.code || !strings.Contains(r.raw, tc.want) {
				t.Fatalf("%d %s; want %d %q", r.code, r.raw, tc.code, tc.want)
			}
		})
	}
	if l := f.do(nil, "GET", "/api/v1/apps", mk, nil); strings.Contains(l.raw, "Owners app") {
		t.Fatalf("the member lists another's app: %s", l.raw)
	}
	if r := f.do(nil, "PATCH", "/api/v1/users/"+maker, f.owner, map[string]any{"can_create_apps": false}); r.code != 200 {
		t.Fatalf("revoke: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "DELETE", "/api/v1/apps/"+mine, mk, nil); r.code != 403 {
		t.Fatalf("delete own app after the flag was taken away: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "PATCH", "/api/v1/users/"+maker, f.owner, map[string]any{"can_create_apps": true}); r.code != 200 {
		t.Fatal(r.raw)
	}
	if r := f.do(nil, "DELETE", "/api/v1/apps/"+mine, mk, nil); r.code != 204 {
		t.Fatalf("delete own: %d %s", r.code, r.raw)
	}
}

// A user is added with any role the actor may give, and refused above it
// with the reason; the bulk action takes the import's old spelling too.
func TestAddUserWithAnyRoleTheActorMayGive(t *testing.T) {
	f := newFixture(t, 1000)
	f.createActive("admin@example.com", core.RoleAdmin)
	f.createActive("um@example.com", core.RoleUserManager)
	admin := f.login("admin@example.com", "Sturdy-passphrase-7", "console")
	um := f.login("um@example.com", "Sturdy-passphrase-7", "console")
	n := 0
	for _, tc := range []struct {
		actor, token string
		role         core.Role
		code         int
		want         string
	}{
		{"owner", f.owner, core.RoleOwner, 201, ""},
		{"owner", f.owner, core.RoleAdmin, 201, ""},
		{"owner", f.owner, core.RoleUserManager, 201, ""},
		{"owner", f.owner, core.RoleDeveloper, 201, ""},
		{"owner", f.owner, "", 201, ""},
		{"admin", admin, core.RoleOwner, 403, "only an owner can make another owner"},
		{"admin", admin, core.RoleAdmin, 201, ""},
		{"admin", admin, core.RoleUserManager, 201, ""},
		{"user manager", um, core.RoleAdmin, 403, "a user manager gives only roles below their own"},
		{"user manager", um, core.RoleUserManager, 403, "a user manager gives only roles below their own"},
		{"user manager", um, core.RoleDeveloper, 201, ""},
		{"user manager", um, core.RoleMember, 201, ""},
		{"owner", f.owner, "emperor", 400, "role"},
	} {
		n++
		name := fmt.Sprintf("new%d@example.com", n)
		r := f.do(nil, "POST", "/api/v1/users", tc.token, map[string]any{"username": name, "email": name, "role": tc.role, "send_invite": false})
		want := tc.role
		if want == "" {
			want = core.RoleMember
		}
		if r.code != tc.code || !strings.Contains(r.raw, tc.want) || (r.code == 201 && r.body["role"] != string(want)) {
			t.Errorf("%s adds a %q: %d %s", tc.actor, tc.role, r.code, r.raw)
		}
	}
	if r := f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": "e@example.com", "role": "emperor"}); r.errField() != "role" {
		t.Errorf("a bad role names role: %s", r.raw)
	}
	id := f.createActive("promote@example.com", core.RoleMember)
	r := f.do(nil, "POST", "/api/v1/users/bulk", f.owner, map[string]any{"action": "set_as_admin", "ids": []string{id}})
	if r.code != 200 || r.body["succeeded"] != 1.0 || r.body["action"] != "set_admin" {
		t.Fatalf("bulk set_as_admin: %d %s", r.code, r.raw)
	}
	if u, _ := f.svc.GetUser(f.ctx, f.org, id); u == nil || u.Role != core.RoleAdmin {
		t.Fatalf("not promoted: %+v", u)
	}
}
