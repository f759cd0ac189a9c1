package scim_test

import (
	"context"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/scim"
)

// TestOktaProvisioning replays the requests Okta's SCIM 2.0 client sends
// (developer.okta.com "SCIM 2.0 protocol reference"): lookup by userName with
// startIndex/count, create with a generated password, PUT for profile changes
// and deactivation, path-less PATCH {"active":false}, groups pushed with a
// rename in the same PATCH as a membership change.
func TestOktaProvisioning(t *testing.T) {
	e := newEnv(t)
	q := "/Users?filter=" + url.QueryEscape(`userName eq "test.user@okta.local"`) + "&startIndex=1&count=100"
	empty := e.must(200, e.do("GET", q, nil))
	for _, k := range []string{"totalResults", "startIndex", "itemsPerPage"} {
		if _, isNum := empty.body[k].(float64); !isNum {
			t.Errorf("%s is %T, want a JSON integer: %s", k, empty.body[k], empty.raw)
		}
	}
	if empty.str("totalResults") != "0" || dig(empty.body, "schemas.0") != scim.URNListResp {
		t.Fatalf("empty lookup: %s", empty.raw)
	}
	created := e.must(201, e.do("POST", "/Users", map[string]any{
		"schemas":     []string{scim.URNUser},
		"userName":    "test.user@okta.local",
		"name":        map[string]any{"givenName": "Test", "familyName": "User"},
		"emails":      []any{map[string]any{"primary": true, "value": "test.user@okta.local", "type": "work"}},
		"displayName": "Test User", "locale": "en-US", "externalId": "00ujl29u0le5T6Aj10h7",
		"groups": []any{}, "password": "1mz050nq", "active": true,
	}))
	id := created.str("id")
	found := e.must(200, e.do("GET", q, nil))
	if found.str("totalResults") != "1" || found.str("Resources.0.id") != id || found.str("itemsPerPage") != "1" {
		t.Fatalf("lookup after create: %s", found.raw)
	}
	got := e.must(200, e.do("GET", "/Users/"+id, nil))
	// Profile change by PUT of the whole user (Okta sends id, meta and groups too).
	full := got.body
	full["name"] = map[string]any{"givenName": "Tester", "familyName": "User"}
	// With "Sync Password" on, Okta adds the password to the PUT: roster does
	// not set passwords over SCIM and says so (mutability) rather than
	// discarding it.
	withPassword := map[string]any{"password": "another-generated-1"}
	for k, v := range full {
		withPassword[k] = v
	}
	if r := e.do("PUT", "/Users/"+id, withPassword); r.status != 400 || r.str("scimType") != "mutability" || !strings.Contains(r.str("detail"), "password") {
		t.Errorf("PUT with a password: %d %s", r.status, r.raw)
	}
	put := e.must(200, e.do("PUT", "/Users/"+id, full))
	if put.str("name.givenName") != "Tester" || put.str("active") != "true" {
		t.Errorf("PUT profile: %s", put.raw)
	}
	// Deactivation by PATCH without path.
	off := e.must(200, e.do("PATCH", "/Users/"+id, patch(op("replace", "", map[string]any{"active": false}))))
	if off.str("active") != "false" {
		t.Errorf("PATCH deactivate: %s", off.raw)
	}
	// Reactivation, then deactivation by PUT (older Okta integrations).
	e.must(200, e.do("PATCH", "/Users/"+id, patch(op("replace", "", map[string]any{"active": true}))))
	full = e.must(200, e.do("GET", "/Users/"+id, nil)).body
	full["active"] = false
	if r := e.must(200, e.do("PUT", "/Users/"+id, full)); r.str("active") != "false" {
		t.Errorf("PUT deactivate: %s", r.raw)
	}
	u, _ := e.svc.GetUser(context.Background(), e.orgID, id)
	if u.Status != core.StatusDisabled || u.Source != "scim:okta" {
		t.Errorf("stored user %s %s", u.Status, u.Source)
	}
	e.must(200, e.do("PATCH", "/Users/"+id, patch(op("replace", "", map[string]any{"active": true}))))

	// Group push.
	g := e.must(201, e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URNGroup}, "displayName": "Test SCIMv2", "members": []any{}}))
	gid := g.str("id")
	gl := e.must(200, e.do("GET", "/Groups?filter="+url.QueryEscape(`displayName eq "Test SCIMv2"`)+"&startIndex=1&count=100", nil))
	if gl.str("totalResults") != "1" || gl.str("Resources.0.id") != gid {
		t.Fatalf("group lookup: %s", gl.raw)
	}
	pg := e.must(200, e.do("PATCH", "/Groups/"+gid, patch(
		op("replace", "", map[string]any{"id": gid, "displayName": "Test SCIMv2 renamed"}),
		op("add", "members", []any{map[string]any{"value": id, "display": "test.user@okta.local"}}),
	)))
	if pg.str("displayName") != "Test SCIMv2 renamed" || pg.str("members.0.value") != id || pg.str("members.0.display") != "test.user@okta.local" {
		t.Errorf("rename + add: %s", pg.raw)
	}
	if ug := e.must(200, e.do("GET", "/Users/"+id, nil)); ug.str("groups.0.value") != gid || ug.str("groups.0.display") != "Test SCIMv2 renamed" {
		t.Errorf("user groups: %s", ug.raw)
	}
	e.must(200, e.do("PATCH", "/Groups/"+gid, patch(op("remove", `members[value eq "`+id+`"]`, nil))))
	// No members left: members is left out (RFC 7643 §2.5), not [].
	if r := e.must(200, e.do("GET", "/Groups/"+gid, nil)); r.str("members") != "<nil>" {
		t.Errorf("member not removed: %s", r.raw)
	}
	// PUT of the group with its members.
	pu := e.must(200, e.do("PUT", "/Groups/"+gid, map[string]any{"schemas": []string{scim.URNGroup}, "id": gid, "displayName": "Test SCIMv2",
		"members": []any{map[string]any{"value": id}}}))
	if pu.str("members.0.value") != id || pu.str("displayName") != "Test SCIMv2" {
		t.Errorf("group PUT: %s", pu.raw)
	}
	e.must(204, e.do("DELETE", "/Groups/"+gid, nil))
	e.must(404, e.do("GET", "/Groups/"+gid, nil))
	e.must(204, e.do("DELETE", "/Users/"+id, nil))
	e.must(404, e.do("GET", "/Users/"+id, nil))
	if r := e.must(200, e.do("GET", q, nil)); r.str("totalResults") != "0" {
		t.Errorf("deleted user still found: %s", r.raw)
	}
}

// TestEntraProvisioning replays Microsoft Entra ID's provisioning requests
// (learn.microsoft.com "Develop a SCIM endpoint", "Known issues"):
// capitalised ops, booleans as strings, path-less replace with dotted and
// URN-qualified keys, emails[type eq "work"].value creating the email, the
// manager as a bare id, groups with a vendor schema URN, members added with
// "$ref": null and removed by value list or by value filter.
func TestEntraProvisioning(t *testing.T) {
	e := newEnv(t)
	lookup := func(filter string) resp {
		return e.must(200, e.do("GET", "/Users?filter="+url.QueryEscape(filter), nil))
	}
	if r := lookup(`userName eq "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1"`); r.str("totalResults") != "0" {
		t.Fatalf("lookup: %s", r.raw)
	}
	if r := lookup(`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`); r.str("totalResults") != "0" {
		t.Fatalf("lookup: %s", r.raw)
	}
	created := e.must(201, e.do("POST", "/Users", map[string]any{
		"schemas":    []string{scim.URNUser, scim.URNEnterprise},
		"externalId": "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef",
		"userName":   "Test_User_ab6490ee-1e48-479e-a20b-2d77186b5dd1",
		"active":     "True",
		"emails":     []any{map[string]any{"primary": true, "type": "work", "value": "Test_User_fd0ea13b@testuser.com"}},
		"meta":       map[string]any{"resourceType": "User"},
		"name":       map[string]any{"formatted": "givenName familyName", "familyName": "familyName", "givenName": "givenName"},
		"roles":      []any{},
	}))
	id := created.str("id")
	if r := lookup(`externalId eq "0a21f0f2-8d2a-4f8e-bf98-7363c4aed4ef"`); r.str("Resources.0.id") != id {
		t.Fatalf("lookup by externalId: %s", r.raw)
	}
	manager := e.createUser("boss@testuser.com", nil)

	steps := []struct {
		name  string
		ops   []map[string]any
		check map[string]string
	}{
		{"replace email by filter and family name", []map[string]any{
			op("Replace", `emails[type eq "work"].value`, "updatedEmail@microsoft.com"),
			op("Replace", "name.familyName", "updatedFamilyName"),
		}, map[string]string{"emails.0.value": "updatedEmail@microsoft.com", "name.familyName": "updatedFamilyName", "name.givenName": "givenName"}},
		{"disable with a string boolean", []map[string]any{op("Replace", "active", "False")}, map[string]string{"active": "false"}},
		{"enable with path-less string boolean", []map[string]any{op("Replace", "", map[string]any{"active": "True"})}, map[string]string{"active": "true"}},
		{"path-less replace with dotted and URN keys", []map[string]any{op("Replace", "", map[string]any{
			"displayName": "Entra Name", "name.givenName": "Given2",
			scim.URNEnterprise + ":employeeNumber": "E-77", scim.URNEnterprise + ":department": "Finance",
		})}, map[string]string{"displayName": "Entra Name", "name.givenName": "Given2", scim.URNEnterprise + ".employeeNumber": "E-77", scim.URNEnterprise + ".department": "Finance"}},
		{"manager as a bare id", []map[string]any{op("Add", scim.URNEnterprise+":manager", manager)},
			map[string]string{scim.URNEnterprise + ".manager.value": manager}},
		{"remove the email, then Add it through the filter path", []map[string]any{
			op("Remove", "emails", nil), op("Add", `emails[type eq "work"].value`, "again@microsoft.com"),
		}, map[string]string{"emails.0.value": "again@microsoft.com", "emails.0.type": "work"}},
		{"phone by filter, then title", []map[string]any{
			op("Add", `phoneNumbers[type eq "work"].value`, "+1 555 0100"), op("Add", `phoneNumbers[type eq "mobile"].value`, "+1 555 0199"),
			op("Replace", "title", "Engineer"),
		}, map[string]string{"phoneNumbers.0.value": "+1 555 0100", "title": "Engineer"}},
		{"addresses are kept as sent", []map[string]any{op("Replace", `addresses[type eq "work"].locality`, "Redmond")},
			map[string]string{"addresses.0.locality": "Redmond", "addresses.0.type": "work", "title": "Engineer"}},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			r := e.must(200, e.do("PATCH", "/Users/"+id, patch(s.ops...)))
			for path, want := range s.check {
				if got := r.str(path); got != want {
					t.Errorf("%s = %q, want %q: %s", path, got, want, r.raw)
				}
			}
		})
	}
	if r := lookup(`emails[type eq "work" and value co "again@"]`); r.str("Resources.0.id") != id {
		t.Errorf("email filter after PATCH: %s", r.raw)
	}

	// Groups.
	g := e.must(201, e.do("POST", "/Groups", map[string]any{
		"schemas":     []string{scim.URNGroup, "http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group"},
		"externalId":  "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159",
		"displayName": "Group1DisplayName",
		"meta":        map[string]any{"resourceType": "Group"},
	}))
	gid := g.str("id")
	gq := e.must(200, e.do("GET", "/Groups?excludedAttributes=members&filter="+url.QueryEscape(`displayName eq "Group1DisplayName"`), nil))
	if gq.str("totalResults") != "1" || gq.str("Resources.0.id") != gid || gq.str("Resources.0.members") != "<nil>" {
		t.Fatalf("group lookup: %s", gq.raw)
	}
	third := e.createUser("third@testuser.com", nil)
	e.must(200, e.do("PATCH", "/Groups/"+gid, patch(op("Add", "members", []any{
		map[string]any{"$ref": nil, "value": id}, map[string]any{"$ref": nil, "value": manager}, map[string]any{"$ref": nil, "value": third},
	}))))
	// Remove with a value list removes only those members, never the whole group.
	e.must(200, e.do("PATCH", "/Groups/"+gid, patch(op("Remove", "members", []any{map[string]any{"value": manager}}))))
	members := func() []string {
		r := e.must(200, e.do("GET", "/Groups/"+gid, nil))
		var out []string
		ms, _ := r.body["members"].([]any) // no members: the attribute is left out
		for _, m := range ms {
			out = append(out, m.(map[string]any)["value"].(string))
		}
		sort.Strings(out)
		return out
	}
	want := []string{id, third}
	sort.Strings(want)
	if got := members(); strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("members after Remove by value: %v, want %v", got, want)
	}
	e.must(200, e.do("PATCH", "/Groups/"+gid, patch(op("Remove", `members[value eq "`+third+`"]`, nil))))
	if got := members(); len(got) != 1 || got[0] != id {
		t.Errorf("members after filter remove: %v", got)
	}
	if r := e.must(200, e.do("GET", "/Groups?filter="+url.QueryEscape(`members[value eq "`+id+`"]`)+"&excludedAttributes=members", nil)); r.str("totalResults") != "1" {
		t.Errorf("groups of a member: %s", r.raw)
	}
	if r := e.must(200, e.do("GET", "/Groups?filter="+url.QueryEscape(`externalId eq "8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159"`), nil)); r.str("Resources.0.id") != gid {
		t.Errorf("group by externalId: %s", r.raw)
	}
	e.must(200, e.do("PATCH", "/Groups/"+gid, patch(op("Replace", "displayName", "Group1 renamed"))))
	e.must(204, e.do("DELETE", "/Users/"+id, nil))
	e.must(404, e.do("GET", "/Users/"+id, nil))
	if got := members(); len(got) != 0 {
		t.Errorf("a deleted user is still shown as a member: %v", got)
	}
}
