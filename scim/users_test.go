package scim_test

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"testing"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/scim"
)

func TestDiscoveryTellsTheTruth(t *testing.T) {
	e := newEnv(t)
	sp := e.must(200, e.do("GET", "/ServiceProviderConfig", nil))
	for path, want := range map[string]any{
		"patch.supported": true, "bulk.supported": false, "filter.supported": true, "sort.supported": true,
		"etag.supported": true, "changePassword.supported": false,
		"bulk.maxPayloadSize": float64(1 << 20), "authenticationSchemes.0.type": "oauthbearertoken",
	} {
		if got := dig(sp.body, path); got != want {
			t.Errorf("ServiceProviderConfig %s = %v, want %v", path, got, want)
		}
	}
	if ct := sp.hdr.Get("Content-Type"); ct != "application/scim+json" {
		t.Errorf("Content-Type %q", ct)
	}
	schemas := e.must(200, e.do("GET", "/Schemas", nil))
	var ids []string
	for _, r := range schemas.body["Resources"].([]any) {
		ids = append(ids, r.(map[string]any)["id"].(string))
	}
	sort.Strings(ids)
	want := []string{scim.URNGroup, scim.URNUser, scim.URNEnterprise, scim.URNRoster}
	sort.Strings(want)
	if fmt.Sprint(ids) != fmt.Sprint(want) {
		t.Errorf("schemas %v, want %v", ids, want)
	}
	u := e.must(200, e.do("GET", "/Schemas/"+scim.URNUser, nil))
	var attrs []string
	for _, a := range u.body["attributes"].([]any) {
		attrs = append(attrs, a.(map[string]any)["name"].(string))
	}
	if s := strings.Join(attrs, ","); strings.Contains(s, "photos") || strings.Contains(s, "x509Certificates") || !strings.Contains(s, "addresses") || !strings.Contains(s, "userName") {
		t.Errorf("User schema attributes %s: must list what roster keeps (addresses), not what it does not (photos, x509Certificates)", s)
	}
	rt := e.must(200, e.do("GET", "/ResourceTypes", nil))
	if n := dig(rt.body, "totalResults"); n != float64(2) {
		t.Errorf("ResourceTypes totalResults %v", n)
	}
	e.must(200, e.do("GET", "/ResourceTypes/User", nil))
	e.must(501, e.do("POST", "/Bulk", map[string]any{}))
}

func TestAuthentication(t *testing.T) {
	e := newEnv(t)
	// An admin-API token of the same organisation is not a SCIM token.
	ctx := context.Background()
	boss, err := e.svc.CreateUser(ctx, core.CLIActor(), core.NewUser{OrgID: e.orgID, Username: "boss@example.com", Email: "boss@example.com",
		Role: core.RoleOwner, Invite: core.NoInvite})
	if err != nil {
		t.Fatal(err)
	}
	admin, _, err := e.svc.CreateToken(ctx, core.CLIActor(), e.orgID, "adm", core.ScopeAdmin, boss.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, header string
		want         int
	}{
		{"missing", "", 401},
		{"basic scheme", "Basic dXNlcjpwYXNz", 401},
		{"empty bearer", "Bearer ", 401},
		{"unknown token", "Bearer rscim_nottherealtoken", 401},
		{"token with a suffix", "Bearer " + e.token + "x", 401},
		{"admin-API token", "Bearer " + admin, 401},
		{"valid", "Bearer " + e.token, 200},
		{"valid, lower-case scheme", "bearer " + e.token, 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := e.doToken("", "GET", "/Users", nil, "Authorization", tc.header)
			if r.status != tc.want {
				t.Fatalf("status %d, want %d: %s", r.status, tc.want, r.raw)
			}
			if tc.want == 401 {
				if dig(r.body, "schemas.0") != scim.URNError || r.str("status") != "401" {
					t.Errorf("401 body is not a SCIM error: %s", r.raw)
				}
				if !strings.HasPrefix(r.hdr.Get("WWW-Authenticate"), "Bearer") {
					t.Errorf("WWW-Authenticate %q", r.hdr.Get("WWW-Authenticate"))
				}
			}
		})
	}
	if strings.Contains(e.logs.String(), e.token) {
		t.Error("a token appears in the logs")
	}
}

func TestTenantIsolation(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	orgB, err := e.svc.CreateOrg(ctx, core.CLIActor(), "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	tokB := e.newToken(orgB.ID, "okta", core.DirectorySettings{})
	idA := e.createUser("ada@a.example", nil)
	// The same userName in another organisation is no conflict.
	rb := e.must(201, e.doToken(tokB, "POST", "/Users", user("ada@a.example", nil)))
	idB := rb.str("id")
	gA := e.must(201, e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URNGroup}, "displayName": "Staff"})).str("id")

	for _, tc := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/Users/" + idA, nil},
		{"PUT", "/Users/" + idA, user("x@b.example", nil)},
		{"PATCH", "/Users/" + idA, patch(op("replace", "active", false))},
		{"DELETE", "/Users/" + idA, nil},
		{"GET", "/Groups/" + gA, nil},
		{"PATCH", "/Groups/" + gA, patch(op("add", "members", []any{map[string]any{"value": idB}}))},
		{"DELETE", "/Groups/" + gA, nil},
	} {
		r := e.doToken(tokB, tc.method, tc.path, tc.body)
		if r.status != 404 {
			t.Errorf("org B %s %s: status %d, want 404: %s", tc.method, tc.path, r.status, r.raw)
		}
	}
	// Org A's group cannot take org B's user either.
	r := e.do("PATCH", "/Groups/"+gA, patch(op("add", "members", []any{map[string]any{"value": idB}})))
	if r.status != 400 {
		t.Errorf("adding another org's user: %d %s", r.status, r.raw)
	}
	list := e.must(200, e.doToken(tokB, "GET", "/Users?filter="+url.QueryEscape(`userName eq "ada@a.example"`), nil))
	if dig(list.body, "totalResults") != float64(1) || list.str("Resources.0.id") != idB {
		t.Errorf("org B sees %s", list.raw)
	}
	all := e.must(200, e.doToken(tokB, "GET", "/Groups", nil))
	if dig(all.body, "totalResults") != float64(0) {
		t.Errorf("org B sees org A's groups: %s", all.raw)
	}
	// Org A's user is unchanged.
	if got := e.must(200, e.do("GET", "/Users/"+idA, nil)); got.str("active") != "true" {
		t.Errorf("org A user changed: %s", got.raw)
	}
}

func TestUserLifecycle(t *testing.T) {
	e := newEnv(t)
	r := e.must(201, e.do("POST", "/Users", user("grace@example.com", map[string]any{
		"externalId": "00u1", "password": "Okta-Generated-1!", "displayName": "Grace H",
		scim.URNEnterprise: map[string]any{"employeeNumber": "42", "department": "R&D"},
	})))
	id := r.str("id")
	loc := r.hdr.Get("Location")
	if loc != e.srv.URL+"/scim/v2/Users/"+id || r.str("meta.location") != loc {
		t.Errorf("Location %q, meta.location %q", loc, r.str("meta.location"))
	}
	if r.hdr.Get("ETag") == "" || r.hdr.Get("ETag") != r.str("meta.version") {
		t.Errorf("ETag %q vs meta.version %q", r.hdr.Get("ETag"), r.str("meta.version"))
	}
	if strings.Contains(r.raw, "Okta-Generated") || strings.Contains(strings.ToLower(r.raw), `"password"`) {
		t.Errorf("password returned: %s", r.raw)
	}
	if r.str(scim.URNEnterprise+".employeeNumber") != "42" || r.str("active") != "true" || r.str("externalId") != "00u1" {
		t.Errorf("created user %s", r.raw)
	}
	// Duplicate userName, in any case: 409 uniqueness.
	dup := e.do("POST", "/Users", user("GRACE@example.com", map[string]any{"emails": nil}))
	if dup.status != 409 || dup.str("scimType") != "uniqueness" || !strings.Contains(dup.str("detail"), "userName") {
		t.Errorf("duplicate: %d %s", dup.status, dup.raw)
	}
	// PUT changes the profile; the directory is authoritative for userName too.
	put := e.must(200, e.do("PUT", "/Users/"+id, user("grace.h@example.com", map[string]any{
		"name": map[string]any{"givenName": "Grace", "familyName": "Hopper"}, "externalId": "00u1",
	})))
	if put.str("userName") != "grace.h@example.com" || put.str("name.familyName") != "Hopper" || put.str("meta.version") == r.str("meta.version") {
		t.Errorf("put: %s", put.raw)
	}
	// PUT did not send the enterprise extension: the IdP cleared it.
	if put.str(scim.URNEnterprise) != "<nil>" {
		t.Errorf("enterprise extension kept after PUT without it: %s", put.raw)
	}
	// Deactivate, reactivate.
	off := e.must(200, e.do("PATCH", "/Users/"+id, patch(op("replace", "", map[string]any{"active": false}))))
	if off.str("active") != "false" || off.str(scim.URNRoster+".status") != "disabled" {
		t.Errorf("deactivate: %s", off.raw)
	}
	on := e.must(200, e.do("PATCH", "/Users/"+id, patch(op("replace", "active", true))))
	if on.str("active") != "true" || on.str(scim.URNRoster+".status") != "active" {
		t.Errorf("reactivate: %s", on.raw)
	}
	// History names the token.
	// One entry per change, whatever attributes it touched; the PUT's entry
	// names each attribute it changed.
	var actions, changes []string
	for _, h := range e.history(id) {
		if h.ActorName != "okta" || h.ActorKind != core.ActorSCIM {
			t.Errorf("history actor %s/%s", h.ActorKind, h.ActorName)
		}
		actions = append(actions, h.Action)
		if h.Action == "user.update" {
			for _, c := range h.Changes {
				changes = append(changes, c.String())
			}
		}
	}
	if got := strings.Join(actions, ","); got != "user.create,user.update,user.disable,user.enable" {
		t.Errorf("history %s", got)
	}
	if got := strings.Join(changes, "; "); !strings.Contains(got, `last_name: "Lovelace" → "Hopper"`) || !strings.Contains(got, `employee_number: "42" → ""`) {
		t.Errorf("the PUT's changes by attribute: %s", got)
	}
	// DELETE archives a user who was active; 404 afterwards; history kept.
	e.must(204, e.do("DELETE", "/Users/"+id, nil))
	e.must(404, e.do("GET", "/Users/"+id, nil))
	e.must(404, e.do("PATCH", "/Users/"+id, patch(op("replace", "active", false))))
	u, err := e.svc.GetUser(context.Background(), e.orgID, id)
	if err != nil || u.Status != core.StatusArchived {
		t.Fatalf("after DELETE: %v %v", u, err)
	}
	// Until then the archived user is still found by its username (admin search).
	if a, err := e.svc.GetUserByUsername(context.Background(), e.orgID, "grace.h@example.com"); err != nil || a.ID != id {
		t.Errorf("archived user by username: %v %v", a, err)
	}
	// The archived user does not block creating that userName again.
	again := e.must(201, e.do("POST", "/Users", user("grace.h@example.com", map[string]any{"externalId": "00u1"})))
	if again.str("id") == id {
		t.Error("re-created user reused the archived id")
	}
	if a, _ := e.svc.GetUser(context.Background(), e.orgID, id); a.Username != "grace.h@example.com" || a.Status != core.StatusArchived {
		t.Errorf("archived user after re-create: %+v", a.User)
	}
	// A live user still blocks its userName.
	e.must(409, e.do("POST", "/Users", user("grace.h@example.com", nil)))
	if h := e.history(id); len(h) < 6 || h[len(h)-1].Action != "user.release_names" {
		t.Errorf("archived user's history: %d entries, last %v", len(h), h[len(h)-1].Action)
	}
}

func TestDeleteNeverAcceptedUserDeletes(t *testing.T) {
	e := newEnv(t, withSettings(core.DirectorySettings{Invite: true}))
	r := e.must(201, e.do("POST", "/Users", user("new@example.com", nil)))
	if r.str(scim.URNRoster+".status") != "invited" || r.str(scim.URNRoster+".inviteStatus") != "pending" || r.str("active") != "true" {
		t.Fatalf("invited user: %s", r.raw)
	}
	// Without an email the user is created all the same (RFC 7643 needs only
	// userName): invited, no invitation sent, and the extension says why.
	noMail := e.must(201, e.do("POST", "/Users", map[string]any{"schemas": []string{scim.URNUser}, "userName": "nomail"}))
	if noMail.str(scim.URNRoster+".status") != "invited" || noMail.str(scim.URNRoster+".inviteStatus") != "none" || noMail.str(scim.URNRoster+".inviteReason") != "no_email" {
		t.Errorf("no email with invites on: %s", noMail.raw)
	}
	// An admin still needs one, and the refusal names the SCIM attribute.
	boss := e.do("POST", "/Users", map[string]any{"schemas": []string{scim.URNUser, scim.URNRoster}, "userName": "boss", scim.URNRoster: map[string]any{"role": "admin"}})
	if boss.status != 400 || !strings.Contains(boss.str("detail"), "emails") {
		t.Errorf("admin without email: %d %s", boss.status, boss.raw)
	}
	id := r.str("id")
	e.must(204, e.do("DELETE", "/Users/"+id, nil))
	if _, err := e.svc.GetUser(context.Background(), e.orgID, id); err == nil {
		t.Error("a user who never accepted was kept; want deleted")
	}
	e.must(404, e.do("DELETE", "/Users/"+id, nil))
}

func TestFilters(t *testing.T) {
	e := newEnv(t)
	mk := func(un, given, family, ext, emp, dept string, active bool) {
		e.createUser(un, map[string]any{
			"name": map[string]any{"givenName": given, "familyName": family}, "externalId": ext, "active": active,
			"displayName":      given + " " + family,
			scim.URNEnterprise: map[string]any{"employeeNumber": emp, "department": dept},
		})
	}
	mk("alice@example.com", "Alice", "Archer", "ext-1", "100", "Sales", true)
	mk("bob@example.com", "Bob", "Baker", "ext-2", "200", "Sales", false)
	mk("carol@corp.example", "Carol", "Cooper", "EXT-3", "300", "Engineering", true)
	mk("Zoë@example.com", "Zoë", "Zimmer", "ext-4", "400", "Engineering", true)
	// No displayName sent: the derived "First Last" is what is shown and filtered.
	e.createUser("derived@example.com", map[string]any{"name": map[string]any{"givenName": "Derived", "familyName": "Name"}})
	for _, tc := range []struct {
		filter string
		want   string
	}{
		{`userName eq "alice@example.com"`, "alice@example.com"},
		{`userName eq "ALICE@EXAMPLE.COM"`, "alice@example.com"},
		{`userName eq "zoË@example.com"`, "Zoë@example.com"},
		{`userName Eq "bob@example.com"`, "bob@example.com"},
		{`userName sw "a"`, "alice@example.com"},
		{`userName ew "@corp.example"`, "carol@corp.example"},
		{`userName co "EXAMPLE.COM"`, "Zoë@example.com,alice@example.com,bob@example.com,derived@example.com"},
		{`userName ne "alice@example.com"`, "Zoë@example.com,bob@example.com,carol@corp.example,derived@example.com"},
		{`userName gt "bob@example.com"`, "carol@corp.example,Zoë@example.com,derived@example.com"},
		{`externalId eq "EXT-3"`, "carol@corp.example"},
		{`externalId eq "ext-3"`, ""},
		{`emails.value eq "bob@example.com"`, "bob@example.com"},
		{`emails[type eq "work" and value co "@corp"]`, "carol@corp.example"},
		{`emails[type eq "home"]`, ""},
		{`name.givenName eq "carol"`, "carol@corp.example"},
		{`name.familyName sw "b"`, "bob@example.com"},
		{`displayName eq "Alice Archer"`, "alice@example.com"},
		{`displayName eq "derived name"`, "derived@example.com"},
		{`active eq false`, "bob@example.com"},
		{`active eq "False"`, "bob@example.com"},
		{`active eq true and urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "engineering"`, "carol@corp.example,Zoë@example.com"},
		{`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "200"`, "bob@example.com"},
		{`(userName sw "a" or userName sw "b") and not (active eq false)`, "alice@example.com"},
		{`externalId pr`, "Zoë@example.com,alice@example.com,bob@example.com,carol@corp.example"},
		{`meta.created gt "2000-01-01T00:00:00Z"`, "Zoë@example.com,alice@example.com,bob@example.com,carol@corp.example,derived@example.com"},
		{`meta.lastModified lt "2000-01-01T00:00:00Z"`, ""},
		{`userName eq "x\" OR 1=1 --"`, ""},
		{`userName eq "alice@example.com' OR '1'='1"`, ""},
	} {
		t.Run(tc.filter, func(t *testing.T) {
			r := e.must(200, e.do("GET", "/Users?filter="+url.QueryEscape(tc.filter), nil))
			var got []string
			for _, u := range r.body["Resources"].([]any) {
				got = append(got, u.(map[string]any)["userName"].(string))
			}
			sort.Strings(got)
			want := strings.Split(tc.want, ",")
			if tc.want == "" {
				want = nil
			}
			sort.Strings(want)
			if strings.Join(got, ",") != strings.Join(want, ",") {
				t.Errorf("got %v, want %v", got, want)
			}
			if dig(r.body, "totalResults") != float64(len(want)) || dig(r.body, "itemsPerPage") != float64(len(got)) {
				t.Errorf("totalResults %v itemsPerPage %v", dig(r.body, "totalResults"), dig(r.body, "itemsPerPage"))
			}
		})
	}
}

func TestSortByProfileAttribute(t *testing.T) {
	e := newEnv(t)
	for _, n := range []string{"Bob Baker", "Zoë Zimmer", "alice Archer"} {
		first, last, _ := strings.Cut(n, " ")
		e.createUser(strings.ToLower(first)+"@example.com", map[string]any{"displayName": n,
			scim.URNEnterprise: map[string]any{"department": last}})
	}
	for _, tc := range []struct{ q, want string }{
		{"sortBy=displayName&sortOrder=descending", "zoë@example.com,bob@example.com,alice@example.com"},
		{"sortBy=displayName", "alice@example.com,bob@example.com,zoë@example.com"},
		{"sortBy=" + url.QueryEscape(scim.URNEnterprise+":department"), "alice@example.com,bob@example.com,zoë@example.com"},
		{"sortBy=userName&sortOrder=Descending", "zoë@example.com,bob@example.com,alice@example.com"},
	} {
		r := e.must(200, e.do("GET", "/Users?"+tc.q, nil))
		var got []string
		for _, u := range r.body["Resources"].([]any) {
			got = append(got, u.(map[string]any)["userName"].(string))
		}
		if strings.Join(got, ",") != tc.want {
			t.Errorf("%s: %v, want %s", tc.q, got, tc.want)
		}
	}
}

func TestPaginationSortAndProjection(t *testing.T) {
	e := newEnv(t)
	for i := 0; i < 25; i++ {
		e.createUser(fmt.Sprintf("u%02d@example.com", i), nil)
	}
	seen := map[string]bool{}
	for start := 1; start <= 25; start += 10 {
		r := e.must(200, e.do("GET", fmt.Sprintf("/Users?startIndex=%d&count=10", start), nil))
		n := len(r.body["Resources"].([]any))
		if dig(r.body, "totalResults") != float64(25) || dig(r.body, "startIndex") != float64(start) || dig(r.body, "itemsPerPage") != float64(n) {
			t.Fatalf("page %d: %s", start, r.raw)
		}
		for _, u := range r.body["Resources"].([]any) {
			seen[u.(map[string]any)["id"].(string)] = true
		}
	}
	if len(seen) != 25 {
		t.Errorf("pages covered %d distinct users, want 25", len(seen))
	}
	r := e.must(200, e.do("GET", "/Users?sortBy=userName&sortOrder=descending&count=3&attributes=userName", nil))
	if r.str("Resources.0.userName") != "u24@example.com" || r.str("Resources.2.userName") != "u22@example.com" {
		t.Errorf("sorted: %s", r.raw)
	}
	if first := r.body["Resources"].([]any)[0].(map[string]any); len(first) != 3 { // id, schemas, userName
		t.Errorf("attributes=userName returned %v", first)
	}
	x := e.must(200, e.do("GET", "/Users?count=1&excludedAttributes=emails,name.givenName,"+scim.URNRoster, nil))
	if x.str("Resources.0.emails") != "<nil>" || x.str("Resources.0.name.givenName") != "<nil>" || x.str("Resources.0.name.familyName") != "Lovelace" ||
		x.str("Resources.0."+scim.URNRoster) != "<nil>" {
		t.Errorf("excludedAttributes: %s", x.raw)
	}
	zero := e.must(200, e.do("GET", "/Users?count=0", nil))
	if dig(zero.body, "totalResults") != float64(25) || dig(zero.body, "itemsPerPage") != float64(0) {
		t.Errorf("count=0: %s", zero.raw)
	}
	past := e.must(200, e.do("GET", "/Users?startIndex=100", nil))
	if dig(past.body, "totalResults") != float64(25) || dig(past.body, "itemsPerPage") != float64(0) {
		t.Errorf("past the end: %s", past.raw)
	}
	srch := e.must(200, e.do("POST", "/Users/.search", map[string]any{"schemas": []string{scim.URNSearch},
		"filter": `userName sw "u1"`, "count": 5, "sortBy": "userName"}))
	if dig(srch.body, "totalResults") != float64(10) || srch.str("Resources.0.userName") != "u10@example.com" {
		t.Errorf(".search: %s", srch.raw)
	}
}

func TestETags(t *testing.T) {
	e := newEnv(t)
	id := e.createUser("etag@example.com", nil)
	g := e.must(200, e.do("GET", "/Users/"+id, nil))
	v1 := g.hdr.Get("ETag")
	stale := `W/"1"`
	before := e.snapshot()
	for _, tc := range []struct {
		method string
		body   any
	}{
		{"PATCH", patch(op("replace", "displayName", "X"))},
		{"PUT", user("etag@example.com", map[string]any{"displayName": "Y"})},
		{"DELETE", nil},
	} {
		r := e.do(tc.method, "/Users/"+id, tc.body, "If-Match", stale)
		if r.status != 412 {
			t.Errorf("%s with a stale If-Match: %d %s", tc.method, r.status, r.raw)
		}
	}
	if e.snapshot() != before {
		t.Error("a 412 request changed the store")
	}
	ok := e.must(200, e.do("PATCH", "/Users/"+id, patch(op("replace", "displayName", "X")), "If-Match", v1))
	if ok.hdr.Get("ETag") == v1 {
		t.Error("version did not change")
	}
	e.must(412, e.do("PATCH", "/Users/"+id, patch(op("replace", "displayName", "Z")), "If-Match", v1))
	e.must(200, e.do("PATCH", "/Users/"+id, patch(op("replace", "displayName", "Z")), "If-Match", "*"))
}

func TestBadInputChangesNothing(t *testing.T) {
	e := newEnv(t, withConfig(scim.Config{AuthCacheTTL: -1, MaxBodyBytes: 4096}))
	id := e.createUser("keep@example.com", nil)
	gid := e.must(201, e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URNGroup}, "displayName": "G"})).str("id")
	long := strings.Repeat("a", 300) + "@example.com"
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		scimType, detail   string
	}{
		{"malformed JSON", "POST", "/Users", `{"schemas": [`, 400, "invalidSyntax", "JSON"},
		{"not an object", "POST", "/Users", `[1,2]`, 400, "invalidSyntax", "object"},
		{"wrong schema URN", "POST", "/Users", map[string]any{"schemas": []string{scim.URNGroup}, "userName": "x@example.com"}, 400, "invalidSyntax", "schemas"},
		{"no schemas", "POST", "/Users", map[string]any{"userName": "x@example.com"}, 400, "invalidSyntax", "schemas"},
		{"userName missing", "POST", "/Users", map[string]any{"schemas": []string{scim.URNUser}}, 400, "invalidValue", "userName"},
		{"userName too long", "POST", "/Users", user(long, nil), 400, "invalidValue", "userName"},
		{"userName wrong type", "POST", "/Users", map[string]any{"schemas": []string{scim.URNUser}, "userName": 42}, 400, "invalidValue", "userName"},
		{"active wrong type", "POST", "/Users", user("n@example.com", map[string]any{"active": "maybe"}), 400, "invalidValue", "active"},
		{"emails wrong type", "POST", "/Users", user("n@example.com", map[string]any{"emails": "n@example.com"}), 400, "invalidValue", "emails"},
		{"bad email", "POST", "/Users", user("n@example.com", map[string]any{"emails": []any{map[string]any{"value": "not-an-email"}}}), 400, "invalidValue", "emails"},
		{"unknown role", "POST", "/Users", user("n@example.com", map[string]any{scim.URNRoster: map[string]any{"role": "god"}}), 400, "invalidValue", "role"},
		{"PUT without userName", "PUT", "/Users/" + id, map[string]any{"schemas": []string{scim.URNUser}}, 400, "invalidValue", "userName"},
		{"unknown filter attribute", "GET", "/Users?filter=" + url.QueryEscape(`ims.value eq "x"`), nil, 400, "invalidFilter", "ims.value"},
		{"filter syntax", "GET", "/Users?filter=" + url.QueryEscape(`userName eq`), nil, 400, "invalidFilter", "filter"},
		{"filter value type", "GET", "/Users?filter=" + url.QueryEscape(`active eq 3`), nil, 400, "invalidFilter", "active"},
		{"filter gt on bool", "GET", "/Users?filter=" + url.QueryEscape(`active gt true`), nil, 400, "invalidFilter", "active"},
		{"bad count", "GET", "/Users?count=ten", nil, 400, "invalidValue", "count"},
		{"bad sortBy", "GET", "/Users?sortBy=password", nil, 400, "invalidValue", "sortBy"},
		{"patch path does not exist", "PATCH", "/Users/" + id, patch(op("replace", "favouriteColour", "red")), 400, "invalidPath", "favouriteColour"},
		{"patch unknown schema", "PATCH", "/Users/" + id, patch(op("replace", "urn:example:Foo:bar", "x")), 400, "invalidPath", "urn:example:Foo"},
		{"patch read-only", "PATCH", "/Users/" + id, patch(op("replace", "groups", []any{})), 400, "mutability", "groups"},
		{"patch bad op", "PATCH", "/Users/" + id, patch(op("move", "userName", "x")), 400, "invalidSyntax", "move"},
		{"patch remove without path", "PATCH", "/Users/" + id, patch(op("remove", "", nil)), 400, "noTarget", "path"},
		{"patch wrong value type", "PATCH", "/Users/" + id, patch(op("replace", "name.givenName", 7)), 400, "invalidValue", "name.givenName"},
		{"patch removes userName", "PATCH", "/Users/" + id, patch(op("remove", "userName", nil)), 400, "invalidValue", "userName"},
		{"patch wrong schema", "PATCH", "/Users/" + id, map[string]any{"schemas": []string{scim.URNUser}, "Operations": []any{op("replace", "active", false)}}, 400, "invalidSyntax", "schemas"},
		{"patch second op bad", "PATCH", "/Users/" + id, patch(op("replace", "displayName", "OK"), op("replace", "nope", 1)), 400, "invalidPath", "Operations[1]"},
		{"group unknown member", "PATCH", "/Groups/" + gid, patch(op("add", "members", []any{map[string]any{"value": id}, map[string]any{"value": "nobody"}})), 400, "invalidValue", "nobody"},
		{"group member not object", "PATCH", "/Groups/" + gid, patch(op("add", "members", []any{"x"})), 400, "invalidValue", "members"},
		{"group without displayName", "POST", "/Groups", map[string]any{"schemas": []string{scim.URNGroup}}, 400, "invalidValue", "displayName"},
		{"body too large", "POST", "/Users", user("big@example.com", map[string]any{"title": strings.Repeat("t", 5000)}), 413, "", "bytes"},
		{"unknown user", "GET", "/Users/does-not-exist", nil, 404, "", "not found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			hist := len(e.history(id))
			r := e.do(tc.method, tc.path, tc.body)
			if r.status != tc.status {
				t.Fatalf("status %d, want %d: %s", r.status, tc.status, r.raw)
			}
			if dig(r.body, "schemas.0") != scim.URNError || r.str("status") != fmt.Sprint(tc.status) {
				t.Errorf("not a SCIM error body: %s", r.raw)
			}
			if tc.scimType != "" && r.str("scimType") != tc.scimType {
				t.Errorf("scimType %q, want %q (%s)", r.str("scimType"), tc.scimType, r.str("detail"))
			}
			if !strings.Contains(r.str("detail"), tc.detail) {
				t.Errorf("detail %q does not name %q", r.str("detail"), tc.detail)
			}
			for _, leak := range []string{"sqlite", "SELECT", "panic", "goroutine", ".go:"} {
				if strings.Contains(r.raw, leak) {
					t.Errorf("error leaks internals (%s): %s", leak, r.raw)
				}
			}
			if e.snapshot() != before || len(e.history(id)) != hist {
				t.Error("the rejected request changed the store")
			}
		})
	}
	members, _ := e.svc.GroupMembers(context.Background(), e.orgID, gid)
	if len(members) != 0 {
		t.Errorf("group gained members from rejected requests: %v", members)
	}
}

func TestRoleRules(t *testing.T) {
	e := newEnv(t, withSettings(core.DirectorySettings{DefaultRole: core.RoleMember, RoleRules: []core.RoleRule{
		{Group: "Roster Admins", Role: core.RoleAdmin}, {Group: "app-developers", Role: core.RoleDeveloper},
	}}))
	a := e.createUser("a@example.com", nil)
	b := e.createUser("b@example.com", map[string]any{"roles": []any{map[string]any{"value": "app-developers"}}})
	c := e.createUser("c@example.com", map[string]any{"roles": []any{map[string]any{"value": "user_manager", "primary": true}}})
	d := e.createUser("d@example.com", map[string]any{scim.URNRoster: map[string]any{"role": "owner"}})
	role := func(id string) string {
		return e.must(200, e.do("GET", "/Users/"+id, nil)).str(scim.URNRoster + ".role")
	}
	// d asked for owner: the token (the operator's, no --role-ceiling) grants at most admin.
	for id, want := range map[string]string{a: "member", b: "developer", c: "user_manager", d: "admin"} {
		if got := role(id); got != want {
			t.Errorf("user %s role %s, want %s", id, got, want)
		}
	}
	g := e.must(201, e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URNGroup}, "displayName": "Roster Admins",
		"members": []any{map[string]any{"value": a}, map[string]any{"value": d}}})).str("id")
	if role(a) != "admin" || role(d) != "admin" {
		t.Errorf("after joining Roster Admins: a=%s d=%s", role(a), role(d))
	}
	e.must(200, e.do("PATCH", "/Groups/"+g, patch(op("remove", "members", []any{map[string]any{"value": a}}))))
	if role(a) != "member" {
		t.Errorf("after leaving: %s", role(a))
	}
	// A rename into a rule's group name applies the rule to every member.
	g2 := e.must(201, e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URNGroup}, "displayName": "devs",
		"members": []any{map[string]any{"value": a}}})).str("id")
	e.must(200, e.do("PATCH", "/Groups/"+g2, patch(op("replace", "displayName", "App-Developers"))))
	if role(a) != "developer" {
		t.Errorf("after rename: %s", role(a))
	}
	e.must(204, e.do("DELETE", "/Groups/"+g2, nil))
	if role(a) != "member" {
		t.Errorf("after group delete: %s", role(a))
	}
	var roleChanges int
	for _, h := range e.history(a) {
		if h.Action == "user.role" {
			roleChanges++
		}
	}
	if roleChanges != 4 {
		t.Errorf("%d role changes in history, want 4", roleChanges)
	}
}

func TestRequestIDInHistory(t *testing.T) {
	e := newEnv(t)
	r := e.must(201, e.do("POST", "/Users", user("rid@example.com", nil)))
	h := e.history(r.str("id"))
	if len(h) == 0 || h[0].RequestID == "" || h[0].RequestID != r.hdr.Get("X-Request-Id") {
		t.Errorf("history request id %q, response %q", h[0].RequestID, r.hdr.Get("X-Request-Id"))
	}
	_ = http.StatusOK
}

func TestRosterExtension(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.svc.SetMetadataTemplate(ctx, core.CLIActor(), e.orgID, []core.MetadataField{
		{Name: "cost_code", Type: core.MetaNumber}, {Name: "site", Type: core.MetaString},
	}); err != nil {
		t.Fatal(err)
	}
	r := e.must(201, e.do("POST", "/Users", user("meta@example.com", map[string]any{scim.URNRoster: map[string]any{
		"canCreateApps": "True", "role": "Developer",
		"metadata": []any{map[string]any{"name": "cost_code", "value": "42"}, map[string]any{"name": "site", "value": "Oslo"}},
	}})))
	id := r.str("id")
	if r.str(scim.URNRoster+".canCreateApps") != "true" || r.str(scim.URNRoster+".role") != "developer" {
		t.Errorf("roster extension: %s", r.raw)
	}
	u, _ := e.svc.GetUser(ctx, e.orgID, id)
	if u.Metadata["cost_code"] != "42" || u.Metadata["site"] != "Oslo" || !u.CanCreateApps || u.Role != core.RoleDeveloper {
		t.Errorf("stored %+v", u.User)
	}
	before := e.snapshot()
	bad := e.do("PATCH", "/Users/"+id, patch(op("add", scim.URNRoster+":metadata", []any{map[string]any{"name": "cost_code", "value": "lots"}})))
	if bad.status != 400 || !strings.Contains(bad.str("detail"), "cost_code") {
		t.Errorf("invalid metadata: %d %s", bad.status, bad.raw)
	}
	unknown := e.do("PATCH", "/Users/"+id, patch(op("replace", scim.URNRoster+":metadata", []any{map[string]any{"name": "shoe_size", "value": "44"}})))
	if unknown.status != 400 || !strings.Contains(unknown.str("detail"), "shoe_size") {
		t.Errorf("unknown metadata field: %d %s", unknown.status, unknown.raw)
	}
	if e.snapshot() != before {
		t.Error("rejected metadata changed the store")
	}
	// A PUT without roster's extension leaves roster's fields alone.
	put := e.must(200, e.do("PUT", "/Users/"+id, user("meta@example.com", nil)))
	if put.str(scim.URNRoster+".role") != "developer" || put.str(scim.URNRoster+".canCreateApps") != "true" {
		t.Errorf("PUT without the extension changed roster fields: %s", put.raw)
	}
	if u, _ := e.svc.GetUser(ctx, e.orgID, id); u.Metadata["site"] != "Oslo" {
		t.Errorf("metadata lost: %v", u.Metadata)
	}
}
