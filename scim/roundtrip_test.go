package scim_test

import (
	"context"
	"encoding/json"
	"net/url"
	"reflect"
	"strings"
	"testing"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/scim"
)

// What an IdP sends comes back as sent: two typed emails, two phones, an
// address, the name's parts, title and the enterprise attributes, through
// POST, GET and PUT; the admin side (core's view) holds the same values;
// and a filter on a multi-valued sub-attribute finds the user.
func TestUserAttributesRoundTripAsSent(t *testing.T) {
	e := newEnv(t)
	sent := map[string]any{
		"name": map[string]any{"givenName": "Zoë", "middleName": "Q.", "familyName": "Ångström", "honorificPrefix": "Dr.",
			"honorificSuffix": "PhD", "formatted": "Dr. Zoë Q. Ångström, PhD"},
		"nickName": "Zo", "title": "Lead Engineer", "userType": "Employee", "locale": "sv-SE", "timezone": "Europe/Stockholm",
		"emails": []any{
			map[string]any{"value": "zoe@home.example", "type": "home"},
			map[string]any{"value": "zoe@work.example", "type": "work", "primary": true},
		},
		"phoneNumbers": []any{
			map[string]any{"value": "+46 8 555 0101", "type": "mobile"},
			map[string]any{"value": "+46 8 555 0202", "type": "work", "primary": true},
		},
		"addresses":        []any{map[string]any{"type": "work", "streetAddress": "Kungsgatan 1", "locality": "Stockholm", "postalCode": "111 43", "country": "SE", "primary": true}},
		scim.URNEnterprise: map[string]any{"employeeNumber": "E-7", "costCenter": "CC-1", "organization": "Acme AB", "division": "R&D", "department": "Platform"},
	}
	in := user("zoe", sent)
	in["schemas"] = []string{scim.URNUser, scim.URNEnterprise}
	created := e.must(201, e.do("POST", "/Users", in))
	id := created.str("id")
	same := func(label string, r resp) {
		t.Helper()
		for k, want := range sent {
			got := r.body[k]
			if k == "name" { // name.formatted is the IdP's; the parts too
				if !reflect.DeepEqual(got, want) {
					t.Errorf("%s: name = %v, want %v", label, got, want)
				}
				continue
			}
			if !jsonEqual(got, want) {
				t.Errorf("%s: %s = %v, want %v", label, k, got, want)
			}
		}
	}
	same("POST", created)
	same("GET", e.must(200, e.do("GET", "/Users/"+id, nil)))
	in["id"] = id
	same("PUT", e.must(200, e.do("PUT", "/Users/"+id, in)))

	// The admin side: the same values, the primary email and phone in the columns.
	v, err := e.svc.GetUser(context.Background(), e.orgID, id)
	if err != nil {
		t.Fatal(err)
	}
	if v.Email != "zoe@work.example" || v.Phone != "+46 8 555 0202" || v.Attributes.Str("middle_name") != "Q." ||
		v.Attributes.Str("department") != "Platform" || len(v.Attributes.List(core.AttrNameEmails)) != 2 ||
		v.Attributes.List(core.AttrNameAddresses)[0].Parts["locality"] != "Stockholm" {
		t.Errorf("admin view: email %q phone %q attributes %+v", v.Email, v.Phone, v.Attributes)
	}
	for _, f := range []string{`emails[type eq "home"]`, `emails.value eq "zoe@home.example"`, `phoneNumbers.type eq "mobile"`,
		`addresses.locality eq "stockholm"`, `title co "engineer"`, scim.URNEnterprise + `:department eq "platform"`} {
		r := e.must(200, e.do("GET", "/Users?filter="+url.QueryEscape(f), nil))
		if r.str("totalResults") != "1" || r.str("Resources.0.id") != id {
			t.Errorf("filter %s: %s", f, r.raw)
		}
	}
	// A bad value is refused naming the SCIM path, and changes nothing.
	before := e.snapshot()
	bad := user("zoe", map[string]any{"emails": []any{map[string]any{"value": "not-an-email", "type": "home"}, map[string]any{"value": "zoe@work.example", "primary": true}}})
	r := e.do("PUT", "/Users/"+id, bad)
	if r.status != 400 {
		t.Errorf("bad secondary email: %d %s", r.status, r.raw)
	}
	if e.snapshot() != before {
		t.Error("a refused PUT changed the store")
	}
}

func jsonEqual(a, b any) bool {
	ja, _ := json.Marshal(a)
	jb, _ := json.Marshal(b)
	var x, y any
	_ = json.Unmarshal(ja, &x)
	_ = json.Unmarshal(jb, &y)
	return reflect.DeepEqual(x, y)
}

// A refusal names the attribute by its SCIM path, whichever attribute it is.
func TestRefusalsNameTheSCIMPath(t *testing.T) {
	e := newEnv(t)
	long := strings.Repeat("x", 300)
	for _, tc := range []struct {
		extra map[string]any
		want  string
	}{
		{map[string]any{"name": map[string]any{"givenName": "A", "middleName": long}}, "name.middleName:"},
		{map[string]any{scimURNEnterprise: map[string]any{"costCenter": long}}, scimURNEnterprise + ":costCenter:"},
		{map[string]any{"addresses": []any{map[string]any{"postalCode": long}}}, "addresses[0].postalCode:"},
		{map[string]any{"emails": []any{map[string]any{"value": "a@b.example", "primary": true}, map[string]any{"value": "nope"}}}, "emails[1].value:"},
	} {
		r := e.do("POST", "/Users", user("refused@example.com", tc.extra))
		if r.status != 400 || !strings.Contains(r.str("detail"), tc.want) {
			t.Errorf("want 400 naming %s, got %d %s", tc.want, r.status, r.raw)
		}
	}
}

const scimURNEnterprise = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
