package api_test

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/rosterhq/roster/api/importer"
	"github.com/rosterhq/roster/core"
)

// GET /api/v1/org/user-schema answers core.OrgUserSchema: every standard
// attribute in order, then the organisation's custom fields as metadata.<name>.
func TestUserSchemaOverHTTP(t *testing.T) {
	f := newFixture(t, 100)
	f.do(nil, "PUT", "/api/v1/org/metadata-template", f.owner, map[string]any{"fields": []map[string]any{{"name": "office", "label": "Office", "type": "string"}}})
	r := f.do(nil, "GET", "/api/v1/org/user-schema", f.owner, nil)
	if r.code != 200 {
		t.Fatalf("user schema: %d %s", r.code, r.raw)
	}
	attrs := r.body["attributes"].([]any)
	want := core.OrgUserSchema([]core.MetadataField{{Name: "office", Label: "Office", Type: core.MetaString}})
	if len(attrs) != len(want) {
		t.Fatalf("%d attributes; want %d", len(attrs), len(want))
	}
	byName := map[string]map[string]any{}
	for i, x := range attrs {
		a := x.(map[string]any)
		if a["name"] != want[i].Name || a["label"] != want[i].Label || a["type"] != string(want[i].Kind) || a["storage"] != string(want[i].Storage) ||
			a["directory_owned"] != want[i].Directory || a["admin_writable"] != want[i].AdminWrite || a["searchable"] != want[i].Search ||
			(a["sortable"] == true && !want[i].Sort) {
			t.Errorf("row %d: %v; want %+v", i, a, want[i])
		}
		byName[a["name"].(string)] = a
	}
	// Every sortable attribute is one the list sorts by.
	for name, a := range byName {
		if a["sortable"] == true {
			if r := f.do(nil, "GET", "/api/v1/users?sort="+name, f.owner, nil); r.code != 200 {
				t.Errorf("%s is sortable but the list refuses it: %d %s", name, r.code, r.raw)
			}
		}
	}
	if byName["username"]["sortable"] != true {
		t.Error("username is not sortable")
	}
	if a := byName["title"]; a["storage"] != "document" || a["scim"] != "title" || a["ldap"].(map[string]any)["openldap"] != "title" {
		t.Errorf("title: %v", a)
	}
	if a := byName["metadata.office"]; a["storage"] != "metadata" || a["label"] != "Office" || a["list_column"] != true {
		t.Errorf("metadata.office: %v", a)
	}
	if a := byName["addresses"]; a["type"] != "multi" || !strings.Contains(jsonString(a), "locality") {
		t.Errorf("addresses: %v", a)
	}
}

// The admin API writes and reads every attribute an admin may write:
// display_name, manager_id and the attribute document, on create and on
// PATCH; a refusal names the field as sent (attributes.title,
// attributes.emails[1].value); a directory user's directory-owned
// attributes are refused naming the source, and nothing changes.
func TestAdminAPIWritesEveryAttribute(t *testing.T) {
	e := newTenantEnv(t)
	f := e.fixture
	boss := e.mustID(f.owner, "POST", "/api/v1/users", map[string]any{"username": "boss@example.com", "email": "boss@example.com", "send_invite": false})
	r := f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{
		"username": "ann@example.com", "email": "ann@example.com", "first_name": "Ann", "last_name": "Lee", "send_invite": false,
		"display_name": "Ann L.", "manager_id": boss,
		"attributes": map[string]any{
			"title": "Engineer", "department": "Sales", "middle_name": "Marie",
			"emails":    []map[string]any{{"value": "ann@home.example", "type": "home"}},
			"addresses": []map[string]any{{"type": "work", "parts": map[string]string{"locality": "Ghent", "country": "BE"}}},
		},
	})
	if r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.raw)
	}
	id := r.body["id"].(string)
	check := func(when string, u map[string]any, title string) {
		t.Helper()
		at, _ := u["attributes"].(map[string]any)
		if u["display_name"] != "Ann L." || u["manager_id"] != boss || at["title"] != title || at["department"] != "Sales" || at["middle_name"] != "Marie" {
			t.Fatalf("%s: %v", when, u)
		}
		if s := jsonString(at); !strings.Contains(s, `"ann@home.example"`) || !strings.Contains(s, `"type":"home"`) || !strings.Contains(s, `"locality":"Ghent"`) {
			t.Fatalf("%s: multi-valued attributes not as sent: %s", when, s)
		}
	}
	check("create", r.body, "Engineer")
	check("get", f.do(nil, "GET", "/api/v1/users/"+id, f.owner, nil).body, "Engineer")
	// PATCH replaces the attributes it names and leaves the others.
	if r = f.do(nil, "PATCH", "/api/v1/users/"+id, f.owner, map[string]any{"attributes": map[string]any{"title": "Lead"}}); r.code != 200 {
		t.Fatalf("patch title: %d %s", r.code, r.raw)
	}
	check("patch", r.body, "Lead")
	if r = f.do(nil, "GET", "/api/v1/users?q=title:lead", f.owner, nil); r.code != 200 || r.body["total"] != 1.0 {
		t.Errorf("title:lead: %d %s", r.code, r.raw)
	}
	// Refusals name the field as sent; nothing changes.
	for _, tc := range []struct {
		name  string
		body  map[string]any
		field string
	}{
		{"too long", map[string]any{"attributes": map[string]any{"title": strings.Repeat("x", 300)}}, "attributes.title"},
		{"list for a string", map[string]any{"attributes": map[string]any{"title": []map[string]any{{"value": "x"}}}}, "attributes.title"},
		{"bad value in a list", map[string]any{"attributes": map[string]any{"emails": []map[string]any{{"value": "a@b.example"}, {"value": strings.Repeat("y", 400)}}}}, "attributes.emails[1].value"},
		{"unknown part", map[string]any{"attributes": map[string]any{"addresses": []map[string]any{{"parts": map[string]string{"planet": "Mars"}}}}}, "attributes.addresses[0].planet"},
		{"not an attribute", map[string]any{"attributes": map[string]any{"shoe_size": "44"}}, "attributes.shoe_size"},
		{"a column is not in the document", map[string]any{"attributes": map[string]any{"first_name": "X"}}, "attributes.first_name"},
		{"derived", map[string]any{"attributes": map[string]any{"roles": []map[string]any{{"value": "x"}}}}, "attributes.roles"},
		{"manager unknown", map[string]any{"manager_id": "nobody"}, "manager_id"},
		{"own manager", map[string]any{"manager_id": id}, "manager_id"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if r := f.do(nil, "PATCH", "/api/v1/users/"+id, f.owner, tc.body); r.code != 400 || r.errField() != tc.field {
				t.Errorf("PATCH %v: %d %s; want 400 naming %s", tc.body, r.code, r.raw, tc.field)
			}
		})
	}
	if r = f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": "bad@example.com", "attributes": map[string]any{"department": strings.Repeat("d", 300)}}); r.code != 400 || r.errField() != "attributes.department" {
		t.Errorf("create with a bad attribute: %d %s", r.code, r.raw)
	}
	check("after the refusals", f.do(nil, "GET", "/api/v1/users/"+id, f.owner, nil).body, "Lead")

	// A SCIM user: the directory owns its title; the owner may not change it.
	r = f.scim(e.aSCIMTok, "POST", "/Users", map[string]any{"schemas": []string{"urn:ietf:params:scim:schemas:core:2.0:User"}, "userName": "dir@example.com",
		"title": "Director", "displayName": "Dee"})
	if r.code != 201 {
		t.Fatalf("SCIM create: %d %s", r.code, r.raw)
	}
	dir := r.body["id"].(string)
	for _, tc := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"attributes": map[string]any{"title": "Intern"}}, "attributes.title"},
		{map[string]any{"display_name": "Someone else"}, "display_name"},
		{map[string]any{"manager_id": boss}, "manager_id"},
	} {
		if r = f.do(nil, "PATCH", "/api/v1/users/"+dir, f.owner, tc.body); r.code != 400 || r.errField() != tc.field || !strings.Contains(errMsg(r), "scim:okta") {
			t.Errorf("PATCH of a directory user %v: %d %s; want 400 naming %s and the source", tc.body, r.code, r.raw, tc.field)
		}
	}
	// Sending the value it has is no change, and a field the directory does
	// not own (language) stays the admin's.
	if r = f.do(nil, "PATCH", "/api/v1/users/"+dir, f.owner, map[string]any{"attributes": map[string]any{"title": "Director"}, "language": "de"}); r.code != 200 {
		t.Errorf("PATCH with the same title: %d %s", r.code, r.raw)
	}
	if u := f.do(nil, "GET", "/api/v1/users/"+dir, f.owner, nil).body; u["attributes"].(map[string]any)["title"] != "Director" || u["display_name"] != "Dee" {
		t.Errorf("the directory user changed: %v", u)
	}
}

func jsonString(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// The import reads a column per document string attribute by its API name
// (title, department, …) and display_name; the export writes the same
// columns, so an export imports back with them. A bad cell names its
// column on its row; the other rows import.
func TestImportAndExportCarryDocumentAttributes(t *testing.T) {
	f := newFixture(t, 1000)
	file := "username,email,first_name,last_name,display_name,title,department,middle_name,employee_number\n" +
		"ann@example.com,ann@example.com,Ann,Lee,Ann L.,Engineer,Sales,Marie,E-1\n" +
		"bad@example.com,bad@example.com,Bad,Row,,Engineer," + strings.Repeat("d", 300) + ",,\n" +
		"cy@example.com,,Cy,Ng,,=Boss,,,\n"
	r := f.importAs(f.owner, "send_invite=false&dry_run=false", file)
	if got := fmt.Sprint(outcomes(r)); r.code != 200 || got != "[2:created 3:invalid:department 4:created]" {
		t.Fatalf("import: %d %s", r.code, r.raw)
	}
	ann, err := f.svc.GetUserByUsername(f.ctx, f.org, "ann@example.com")
	if err != nil || ann.DisplayName != "Ann L." || ann.Attributes.Str("title") != "Engineer" || ann.Attributes.Str("department") != "Sales" ||
		ann.Attributes.Str("middle_name") != "Marie" || ann.Attributes.Str("employee_number") != "E-1" {
		t.Fatalf("imported: %+v %v", ann, err)
	}
	if r := f.do(nil, "GET", "/api/v1/users?q=department:sales", f.owner, nil); r.body["total"] != 1.0 {
		t.Errorf("department:sales after the import: %s", r.raw)
	}
	exported := f.exportCSV(f.owner)
	col := map[string]int{}
	for i, h := range exported[0] {
		col[h] = i
	}
	for _, name := range append([]string{"display_name", "external_id"}, importer.DocumentColumns()...) {
		if _, ok := col[name]; !ok {
			t.Errorf("the export has no %s column: %v", name, exported[0])
		}
	}
	rows := importable(exported)
	if a := rows["ann@example.com"]; a["title"] != "Engineer" || a["department"] != "Sales" || a["display_name"] != "Ann L." {
		t.Fatalf("exported: %v", a)
	}
	if c := rows["cy@example.com"]; c["title"] != "'=Boss" {
		t.Fatalf("an attribute cell is not formula-guarded: %v", c)
	}

	// Into a fresh organisation, and out again: the same values.
	b, err := f.svc.CreateOrg(f.ctx, core.CLIActor(), "fresh", "Fresh Org")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.svc.CreateUser(f.ctx, core.CLIActor(), core.NewUser{OrgID: b.ID, Username: "boss@fresh.example", Email: "boss@fresh.example", Role: core.RoleOwner, Invite: core.NoInvite, Password: ownerPW}); err != nil {
		t.Fatal(err)
	}
	bTok := f.do(nil, "POST", "/api/v1/auth/login", "", map[string]any{"org": "fresh", "username": "boss@fresh.example", "password": ownerPW}).body["token"].(string)
	var out strings.Builder
	_ = csv.NewWriter(&out).WriteAll(exported)
	if r := f.importAs(bTok, "send_invite=false&dry_run=false", out.String()); r.code != 200 || r.body["failed"] != 0.0 {
		t.Fatalf("import of the export: %d %s", r.code, r.raw)
	}
	back := importable(f.exportCSV(bTok))
	for _, name := range []string{"ann@example.com", "cy@example.com"} {
		if fmt.Sprint(back[name]) != fmt.Sprint(rows[name]) {
			t.Errorf("%s:\n got %v\nwant %v", name, back[name], rows[name])
		}
	}
	if cy, err := f.svc.GetUserByUsername(f.ctx, b.ID, "cy@example.com"); err != nil || cy.Attributes.Str("title") != "=Boss" {
		t.Errorf("the formula-guarded title read back: %+v %v", cy, err)
	}
}
