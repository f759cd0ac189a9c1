package scim_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/scim"
)

// Issue 18: what a strict SCIM client (one that validates discovery against
// RFC 7643 and holds the server to what it advertises) needs. Each test
// replays the requests against the real handler on a real listener.

func TestServiceProviderConfigHasOnlyRFC7643Attributes(t *testing.T) {
	e := newEnv(t)
	sp := e.must(200, e.do("GET", "/ServiceProviderConfig", nil))
	// RFC 7643 §5, plus the common schemas and meta.
	allowed := map[string]bool{"schemas": true, "documentationUri": true, "patch": true, "bulk": true, "filter": true,
		"changePassword": true, "sort": true, "etag": true, "authenticationSchemes": true, "meta": true}
	for k := range sp.body {
		if !allowed[k] {
			t.Errorf("ServiceProviderConfig has %q, which RFC 7643 §5 does not define", k)
		}
	}
	for _, k := range []string{"patch", "bulk", "filter", "changePassword", "sort", "etag"} {
		if _, ok := dig(sp.body, k+".supported").(bool); !ok {
			t.Errorf("%s.supported is not a boolean: %s", k, sp.raw)
		}
	}
	for _, k := range []string{"bulk.maxOperations", "bulk.maxPayloadSize", "filter.maxResults"} {
		if _, ok := dig(sp.body, k).(float64); !ok {
			t.Errorf("%s is not an integer: %s", k, sp.raw)
		}
	}
	if got := sp.str("meta.location"); got != e.srv.URL+"/scim/v2/ServiceProviderConfig" {
		t.Errorf("meta.location %q, want an absolute URL", got)
	}
}

func TestDocumentationURIResolves(t *testing.T) {
	e := newEnv(t)
	doc := e.must(200, e.do("GET", "/ServiceProviderConfig", nil)).str("documentationUri")
	if !strings.HasPrefix(doc, e.srv.URL+"/") {
		t.Fatalf("documentationUri %q is not on this server", doc)
	}
	// Fetched as a person or a client would: without the bearer token.
	res, err := http.Get(doc)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 || !strings.Contains(string(b), "SCIM 2.0") || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/markdown") {
		t.Errorf("GET %s: %d %q %.80s", doc, res.StatusCode, res.Header.Get("Content-Type"), b)
	}
}

// walkAttrs calls fn for every attribute and sub-attribute of a schema
// document, with its path (sub-attributes as parent.sub).
func walkAttrs(attrs any, prefix string, fn func(path string, a map[string]any)) {
	list, _ := attrs.([]any)
	for _, it := range list {
		a := it.(map[string]any)
		p := prefix + a["name"].(string)
		fn(p, a)
		walkAttrs(a["subAttributes"], p+".", fn)
	}
}

func TestSchemasDeclareReferences(t *testing.T) {
	e := newEnv(t)
	schemas := e.must(200, e.do("GET", "/Schemas", nil))
	refs := map[string]string{}
	for _, s := range schemas.body["Resources"].([]any) {
		sm := s.(map[string]any)
		walkAttrs(sm["attributes"], sm["id"].(string)+":", func(p string, a map[string]any) {
			if !strings.HasSuffix(p, ".$ref") {
				return
			}
			types, _ := a["referenceTypes"].([]any)
			if a["type"] != "reference" || len(types) == 0 {
				t.Errorf("%s: type %v, referenceTypes %v; want type reference with referenceTypes", p, a["type"], a["referenceTypes"])
			}
			refs[p] = fmt.Sprint(types...)
		})
	}
	for p, want := range map[string]string{
		scim.URNUser + ":groups.$ref": "Group", scim.URNGroup + ":members.$ref": "User", scim.URNEnterprise + ":manager.$ref": "User",
	} {
		if refs[p] != want {
			t.Errorf("%s referenceTypes %q, want %q", p, refs[p], want)
		}
	}
}

// TestSchemasMatchBehaviour holds /Schemas to what roster does: every
// attribute declared readWrite is kept as written (and nothing declared
// readWrite is missing from this table), and uniqueness server is what a
// duplicate gets 409 for.
func TestSchemasMatchBehaviour(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if err := e.svc.SetMetadataTemplate(ctx, core.CLIActor(), e.orgID, []core.MetadataField{{Name: "site", Type: core.MetaString}}); err != nil {
		t.Fatal(err)
	}
	boss := e.createUser("boss@example.com", nil)
	ent, ros := scim.URNEnterprise, scim.URNRoster
	// path in /Schemas → the value written, and where the response has it.
	written := map[string]struct {
		value any
		at    string
	}{
		scim.URNUser + ":userName":                {"rw@example.com", "userName"},
		scim.URNUser + ":name.givenName":          {"Grace", "name.givenName"},
		scim.URNUser + ":name.familyName":         {"Hopper", "name.familyName"},
		scim.URNUser + ":displayName":             {"G. Hopper", "displayName"},
		scim.URNUser + ":nickName":                {"Amazing Grace", "nickName"},
		scim.URNUser + ":title":                   {"Rear Admiral", "title"},
		scim.URNUser + ":userType":                {"Employee", "userType"},
		scim.URNUser + ":preferredLanguage":       {"en-US", "preferredLanguage"},
		scim.URNUser + ":active":                  {false, "active"},
		scim.URNUser + ":name.middleName":         {"Brewster", "name.middleName"},
		scim.URNUser + ":name.honorificPrefix":    {"RADM", "name.honorificPrefix"},
		scim.URNUser + ":name.honorificSuffix":    {"PhD", "name.honorificSuffix"},
		scim.URNUser + ":name.formatted":          {"RADM Grace B. Hopper, PhD", "name.formatted"},
		scim.URNUser + ":profileUrl":              {"https://example.com/grace", "profileUrl"},
		scim.URNUser + ":locale":                  {"en-US", "locale"},
		scim.URNUser + ":timezone":                {"America/New_York", "timezone"},
		scim.URNUser + ":emails.value":            {"rw@example.com", "emails.0.value"},
		scim.URNUser + ":emails.type":             {"home", "emails.0.type"},
		scim.URNUser + ":emails.primary":          {true, "emails.0.primary"},
		scim.URNUser + ":emails.display":          {"Grace at home", "emails.0.display"},
		scim.URNUser + ":phoneNumbers.value":      {"+15550100", "phoneNumbers.0.value"},
		scim.URNUser + ":phoneNumbers.type":       {"mobile", "phoneNumbers.0.type"},
		scim.URNUser + ":phoneNumbers.primary":    {true, "phoneNumbers.0.primary"},
		scim.URNUser + ":phoneNumbers.display":    {"cell", "phoneNumbers.0.display"},
		scim.URNUser + ":addresses.formatted":     {"1 Navy Way, Arlington VA", "addresses.0.formatted"},
		scim.URNUser + ":addresses.streetAddress": {"1 Navy Way", "addresses.0.streetAddress"},
		scim.URNUser + ":addresses.locality":      {"Arlington", "addresses.0.locality"},
		scim.URNUser + ":addresses.region":        {"VA", "addresses.0.region"},
		scim.URNUser + ":addresses.postalCode":    {"22202", "addresses.0.postalCode"},
		scim.URNUser + ":addresses.country":       {"US", "addresses.0.country"},
		scim.URNUser + ":addresses.type":          {"work", "addresses.0.type"},
		scim.URNUser + ":addresses.primary":       {true, "addresses.0.primary"},
		scim.URNUser + ":addresses.display":       {"the office", "addresses.0.display"},
		scim.URNUser + ":roles.value":             {"auditor", "roles.0.value"},
		scim.URNUser + ":roles.type":              {"job", "roles.0.type"},
		scim.URNUser + ":roles.display":           {"Auditor", "roles.0.display"},
		scim.URNUser + ":roles.primary":           {true, "roles.0.primary"},
		ent + ":employeeNumber":                   {"7", ent + ".employeeNumber"},
		ent + ":costCenter":                       {"CC-1", ent + ".costCenter"},
		ent + ":organization":                     {"Navy", ent + ".organization"},
		ent + ":division":                         {"Computing", ent + ".division"},
		ent + ":department":                       {"R&D", ent + ".department"},
		ent + ":manager.value":                    {boss, ent + ".manager.value"},
		ros + ":role":                             {"developer", ros + ".role"},
		ros + ":canCreateApps":                    {true, ros + ".canCreateApps"},
		ros + ":metadata.name":                    {"site", ros + ".metadata.0.name"},
		ros + ":metadata.value":                   {"Oslo", ros + ".metadata.0.value"},
		scim.URNGroup + ":displayName":            {"Navy", "displayName"},
		scim.URNGroup + ":members.value":          {boss, "members.0.value"},
		scim.URNGroup + ":members.type":           {"User", "members.0.type"},
	}
	declared := map[string]bool{}
	uniqueness := map[string]string{}
	for _, s := range e.must(200, e.do("GET", "/Schemas", nil)).body["Resources"].([]any) {
		sm := s.(map[string]any)
		walkAttrs(sm["attributes"], sm["id"].(string)+":", func(p string, a map[string]any) {
			if u, ok := a["uniqueness"].(string); ok {
				uniqueness[p] = u
			}
			if a["mutability"] == "readWrite" && a["type"] != "complex" {
				declared[p] = true
				if _, ok := written[p]; !ok {
					t.Errorf("%s is declared readWrite but not covered by this test", p)
				}
			}
		})
	}
	for p := range written {
		if !declared[p] {
			t.Errorf("%s is written here but not declared readWrite", p)
		}
	}
	body := user("rw@example.com", map[string]any{
		"name": map[string]any{"givenName": "Grace", "familyName": "Hopper", "middleName": "Brewster", "honorificPrefix": "RADM",
			"honorificSuffix": "PhD", "formatted": "RADM Grace B. Hopper, PhD"},
		"displayName": "G. Hopper", "nickName": "Amazing Grace", "profileUrl": "https://example.com/grace", "locale": "en-US", "timezone": "America/New_York",
		"title": "Rear Admiral", "userType": "Employee", "preferredLanguage": "en-US", "active": false,
		"emails":       []any{map[string]any{"value": "rw@example.com", "type": "home", "primary": true, "display": "Grace at home"}},
		"phoneNumbers": []any{map[string]any{"value": "+15550100", "type": "mobile", "primary": true, "display": "cell"}},
		"addresses": []any{map[string]any{"formatted": "1 Navy Way, Arlington VA", "streetAddress": "1 Navy Way", "locality": "Arlington", "region": "VA",
			"postalCode": "22202", "country": "US", "type": "work", "primary": true, "display": "the office"}},
		"roles": []any{map[string]any{"value": "auditor", "type": "job", "display": "Auditor", "primary": true}},
		ent: map[string]any{"employeeNumber": "7", "costCenter": "CC-1", "organization": "Navy", "division": "Computing", "department": "R&D",
			"manager": map[string]any{"value": boss}},
		ros: map[string]any{"role": "developer", "canCreateApps": true, "metadata": []any{map[string]any{"name": "site", "value": "Oslo"}}},
	})
	id := e.must(201, e.do("POST", "/Users", body)).str("id")
	got := e.must(200, e.do("GET", "/Users/"+id, nil))
	gid := e.must(201, e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URNGroup}, "displayName": "Navy",
		"members": []any{map[string]any{"value": boss, "type": "User"}}})).str("id")
	group := e.must(200, e.do("GET", "/Groups/"+gid, nil))
	for p, w := range written {
		r := got
		if strings.HasPrefix(p, scim.URNGroup) {
			r = group
		}
		if r.str(w.at) != fmt.Sprint(w.value) {
			t.Errorf("%s: wrote %v, read back %q", p, w.value, r.str(w.at))
		}
	}
	// uniqueness: server where a duplicate is refused with 409, none elsewhere.
	for p, want := range map[string]string{scim.URNUser + ":userName": "server", scim.URNUser + ":emails.value": "server",
		scim.URNGroup + ":displayName": "server", scim.URNUser + ":phoneNumbers.value": "none"} {
		if uniqueness[p] != want {
			t.Errorf("%s uniqueness %q, want %q", p, uniqueness[p], want)
		}
	}
	dup := e.do("POST", "/Users", user("other@example.com", map[string]any{"emails": []any{map[string]any{"value": "RW@example.com"}}}))
	if dup.status != 409 || dup.str("scimType") != "uniqueness" || !strings.Contains(dup.str("detail"), "emails") {
		t.Errorf("duplicate email: %d %s", dup.status, dup.raw)
	}
	e.must(201, e.do("POST", "/Users", user("phone@example.com", map[string]any{"phoneNumbers": []any{map[string]any{"value": "+15550100"}}})))
}

func TestDiscoveryListsCountWhatTheyReturn(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct {
		path        string
		total, page int
	}{
		{"/Schemas", 4, 4}, {"/ResourceTypes", 2, 2},
		{"/Schemas?count=1", 4, 1}, {"/ResourceTypes?startIndex=2", 2, 1}, {"/Schemas?startIndex=9", 4, 0},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := e.must(200, e.do("GET", tc.path, nil))
			res, _ := r.body["Resources"].([]any)
			if dig(r.body, "totalResults") != float64(tc.total) || len(res) != tc.page || dig(r.body, "itemsPerPage") != float64(len(res)) {
				t.Errorf("totalResults %v itemsPerPage %v, %d resources: %s", dig(r.body, "totalResults"), dig(r.body, "itemsPerPage"), len(res), r.raw)
			}
		})
	}
	for _, p := range []string{"/Schemas", "/ResourceTypes", "/ServiceProviderConfig"} {
		r := e.do("GET", p+"?filter="+url.QueryEscape(`id eq "User"`), nil)
		if r.status != 403 || dig(r.body, "schemas.0") != scim.URNError || !strings.Contains(r.str("detail"), "filter") {
			t.Errorf("%s with a filter: %d %s (want 403 per RFC 7644 §4)", p, r.status, r.raw)
		}
	}
}

func TestConditionalGet(t *testing.T) {
	e := newEnv(t)
	cu := e.must(201, e.do("POST", "/Users", user("cond@example.com", nil)))
	cg := e.must(201, e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URNGroup}, "displayName": "Cond"}))
	uid, gid := cu.str("id"), cg.str("id")
	// The ETag a create answers is the one a GET compares with (what the
	// benchmark's conditional GET relies on).
	for path, tag := range map[string]string{"/Users/" + uid: cu.hdr.Get("ETag"), "/Groups/" + gid: cg.hdr.Get("ETag")} {
		if r := e.do("GET", path, nil, "If-None-Match", tag); r.status != 304 {
			t.Errorf("%s with the ETag of its create: %d", path, r.status)
		}
	}
	for _, path := range []string{"/Users/" + uid, "/Groups/" + gid} {
		t.Run(path, func(t *testing.T) {
			cur := e.must(200, e.do("GET", path, nil))
			tag := cur.hdr.Get("ETag")
			for _, tc := range []struct {
				name, inm string
				want      int
			}{
				{"current", tag, 304},
				{"current, strong form", strings.TrimPrefix(tag, "W/"), 304},
				{"in a list", `W/"1", ` + tag, 304},
				{"any", "*", 304},
				{"stale", `W/"1"`, 200},
			} {
				r := e.do("GET", path, nil, "If-None-Match", tc.inm)
				if r.status != tc.want {
					t.Errorf("%s: If-None-Match %s: %d, want %d", tc.name, tc.inm, r.status, tc.want)
				}
				if tc.want == 304 && (r.raw != "" || r.hdr.Get("ETag") != tag) {
					t.Errorf("%s: 304 with body %q, ETag %q", tc.name, r.raw, r.hdr.Get("ETag"))
				}
			}
			// If-Match keeps its half: a stale version is 412.
			change := patch(op("replace", "displayName", "Changed"))
			e.must(412, e.do("PATCH", path, change, "If-Match", `W/"1"`))
			e.must(200, e.do("PATCH", path, change, "If-Match", tag))
			e.must(200, e.do("GET", path, nil, "If-None-Match", tag))
		})
	}
}

func TestHeadAnswersLikeGet(t *testing.T) {
	e := newEnv(t)
	uid := e.createUser("head@example.com", nil)
	gid := e.must(201, e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URNGroup}, "displayName": "Head"})).str("id")
	for _, path := range []string{"/Users", "/Users/" + uid, "/Users?filter=" + url.QueryEscape(`userName eq "head@example.com"`),
		"/Groups", "/Groups/" + gid, "/ServiceProviderConfig", "/Schemas", "/Schemas/" + scim.URNUser, "/ResourceTypes", "/ResourceTypes/User"} {
		t.Run(path, func(t *testing.T) {
			g := e.must(200, e.do("GET", path, nil))
			h := e.do("HEAD", path, nil)
			if h.status != 200 || h.raw != "" {
				t.Fatalf("HEAD: %d %q", h.status, h.raw)
			}
			for _, k := range []string{"Content-Type", "ETag", "Content-Length"} {
				if h.hdr.Get(k) != g.hdr.Get(k) {
					t.Errorf("%s: HEAD %q, GET %q", k, h.hdr.Get(k), g.hdr.Get(k))
				}
			}
		})
	}
	e.must(404, e.do("HEAD", "/Users/nobody", nil))
}

func TestLastModifiedFiltersAtRenderedPrecision(t *testing.T) {
	e := newEnv(t)
	uid := e.createUser("lm@example.com", nil)
	gid := e.must(201, e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URNGroup}, "displayName": "LM"})).str("id")
	for _, c := range []struct{ coll, id string }{{"/Users", uid}, {"/Groups", gid}} {
		r := e.must(200, e.do("GET", c.coll+"/"+c.id, nil))
		for _, attr := range []string{"meta.lastModified", "meta.created"} {
			v := r.str(attr)
			for _, tc := range []struct {
				op    string
				match bool
			}{{"eq", true}, {"ge", true}, {"le", true}, {"gt", false}, {"lt", false}, {"ne", false}} {
				f := fmt.Sprintf(`%s %s "%s"`, attr, tc.op, v)
				l := e.must(200, e.do("GET", c.coll+"?filter="+url.QueryEscape(f), nil))
				if got := dig(l.body, "totalResults") == float64(1); got != tc.match {
					t.Errorf("%s %s: matched %v, want %v", c.coll, f, got, tc.match)
				}
			}
		}
	}
}

func TestPatchValuePathFullGrammar(t *testing.T) {
	e := newEnv(t)
	ids := []string{e.createUser("m1@example.com", nil), e.createUser("m2@example.com", nil), e.createUser("m3@example.com", nil), e.createUser("m4@example.com", nil)}
	var members []any
	for _, id := range ids {
		members = append(members, map[string]any{"value": id})
	}
	gid := e.must(201, e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URNGroup}, "displayName": "Many", "members": members})).str("id")
	f := fmt.Sprintf(`members[value eq "%s" or value eq "%s" or value eq "%s"]`, ids[0], ids[1], ids[2])
	r := e.must(200, e.do("PATCH", "/Groups/"+gid, patch(op("remove", f, nil))))
	if ms, _ := r.body["members"].([]any); len(ms) != 1 || r.str("members.0.value") != ids[3] {
		t.Errorf("after removing 3 by filter: %s", r.raw)
	}
	uid := e.createUser("vp@example.com", nil)
	for _, tc := range []struct {
		path string
		want string
	}{
		{`emails[type eq "work" and (value co "nomatch" or value ew "@example.com")].value`, "vp2@example.com"},
		{`emails[type eq "home" or type eq "other" or type eq "work"].value`, "vp3@example.com"},
		{`emails[not (type eq "home") and primary eq true and value pr].value`, "vp4@example.com"},
		{`emails[type Eq "work" OR type eq "home"].value`, "vp5@example.com"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			r := e.do("PATCH", "/Users/"+uid, patch(op("replace", tc.path, tc.want)))
			if r.status != 200 || r.str("emails.0.value") != tc.want {
				t.Errorf("%d %s", r.status, r.raw)
			}
		})
	}
	bad := e.do("PATCH", "/Users/"+uid, patch(op("replace", `emails[type eq "work"`, "x@example.com")))
	if bad.status != 400 || bad.str("scimType") != "invalidPath" {
		t.Errorf("unclosed filter: %d %s", bad.status, bad.raw)
	}
}

func TestRemoveUnassigns(t *testing.T) {
	e := newEnv(t, withSettings(core.DirectorySettings{DefaultRole: core.RoleMember}))
	ctx := context.Background()
	if err := e.svc.SetMetadataTemplate(ctx, core.CLIActor(), e.orgID, []core.MetadataField{{Name: "site", Type: core.MetaString}}); err != nil {
		t.Fatal(err)
	}
	ros := scim.URNRoster
	n := 0
	full := map[string]any{"title": "Boss", "nickName": "B",
		scim.URNEnterprise: map[string]any{"employeeNumber": "9", "department": "Ops"},
		ros:                map[string]any{"role": "developer", "canCreateApps": true, "metadata": []any{map[string]any{"name": "site", "value": "Oslo"}}}}
	for _, tc := range []struct {
		path   string
		absent []string          // attributes left out afterwards
		want   map[string]string // attributes with their value afterwards
	}{
		{"name", []string{"name"}, nil},
		{"name.givenName", []string{"name.givenName"}, map[string]string{"name.familyName": "Lovelace", "name.formatted": "Lovelace"}},
		{"title", []string{"title"}, map[string]string{"nickName": "B"}},
		{scim.URNEnterprise + ":employeeNumber", []string{scim.URNEnterprise + ".employeeNumber"}, map[string]string{scim.URNEnterprise + ".department": "Ops"}},
		{ros + ":role", nil, map[string]string{ros + ".role": "member", ros + ".canCreateApps": "true"}},
		{ros + ":canCreateApps", nil, map[string]string{ros + ".canCreateApps": "false", ros + ".role": "developer"}},
		{ros + ":metadata", []string{ros + ".metadata"}, map[string]string{ros + ".role": "developer"}},
		{ros, []string{ros + ".metadata"}, map[string]string{ros + ".role": "member", ros + ".canCreateApps": "false"}},
	} {
		n++
		t.Run(tc.path, func(t *testing.T) {
			id := e.createUser(fmt.Sprintf("rm%d@example.com", n), full)
			r := e.must(200, e.do("PATCH", "/Users/"+id, patch(op("remove", tc.path, nil))))
			g := e.must(200, e.do("GET", "/Users/"+id, nil))
			for _, resp := range []resp{r, g} {
				for _, a := range tc.absent {
					if v := dig(resp.body, a); v != nil {
						t.Errorf("%s is %v after remove, want left out", a, v)
					}
				}
				for a, want := range tc.want {
					if got := resp.str(a); got != want {
						t.Errorf("%s = %q, want %q", a, got, want)
					}
				}
			}
			if strings.Contains(g.raw, `:""`) {
				t.Errorf("an empty string is rendered: %s", g.raw)
			}
		})
	}
}

func TestReadOnlyAttributesInBodiesAreIgnored(t *testing.T) {
	e := newEnv(t)
	ro := map[string]any{"id": "made-up-id", "meta": map[string]any{"resourceType": "User", "version": `W/"1"`, "created": "2000-01-01T00:00:00Z"},
		"groups": []any{map[string]any{"value": "made-up-group"}}}
	c := e.must(201, e.do("POST", "/Users", user("ro@example.com", ro)))
	id := c.str("id")
	if id == "made-up-id" || c.str("groups.0") != "<nil>" || strings.HasPrefix(c.str("meta.created"), "2000") {
		t.Errorf("POST took readOnly attributes: %s", c.raw)
	}
	p := e.must(200, e.do("PUT", "/Users/"+id, user("ro@example.com", mapWith(ro, "title", "Changed"))))
	if p.str("id") != id || p.str("title") != "Changed" {
		t.Errorf("PUT: %s", p.raw)
	}
	gid := e.must(201, e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URNGroup}, "displayName": "RO", "id": "x",
		"meta": map[string]any{"resourceType": "Group"}})).str("id")
	g := e.must(200, e.do("PUT", "/Groups/"+gid, map[string]any{"schemas": []string{scim.URNGroup}, "id": "x", "displayName": "RO2"}))
	if g.str("id") != gid || g.str("displayName") != "RO2" {
		t.Errorf("group PUT: %s", g.raw)
	}
}

func mapWith(m map[string]any, kv ...any) map[string]any {
	out := map[string]any{}
	for k, v := range m {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

func TestPasswordChangeIsRefused(t *testing.T) {
	e := newEnv(t)
	id := e.must(201, e.do("POST", "/Users", user("pw@example.com", map[string]any{"password": "Generated-1!"}))).str("id")
	if sp := e.must(200, e.do("GET", "/ServiceProviderConfig", nil)); sp.str("changePassword.supported") != "false" {
		t.Fatalf("changePassword: %s", sp.raw)
	}
	for _, tc := range []struct {
		name, method string
		body         any
	}{
		{"PATCH with a path", "PATCH", patch(op("replace", "password", "New-1!"))},
		{"PATCH add", "PATCH", patch(op("add", "password", "New-1!"))},
		{"PATCH without a path", "PATCH", patch(op("replace", "", map[string]any{"password": "New-1!", "active": false}))},
		{"PATCH with the core URN", "PATCH", patch(op("replace", scim.URNUser+":password", "New-1!"))},
		{"PUT", "PUT", user("pw@example.com", map[string]any{"password": "New-1!"})},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			r := e.do(tc.method, "/Users/"+id, tc.body)
			if r.status != 400 || r.str("scimType") != "mutability" || !strings.Contains(r.str("detail"), "password") {
				t.Errorf("%d %s", r.status, r.raw)
			}
			if n := strings.Count(r.str("detail"), "Operations["); n > 1 {
				t.Errorf("the detail carries earlier requests' prefixes: %s", r.str("detail"))
			}
			if e.snapshot() != before {
				t.Error("the refused request changed the store")
			}
		})
	}
}

func TestUnsupportedEndpointsAndTrailingSlash(t *testing.T) {
	e := newEnv(t)
	for _, tc := range []struct{ method, path string }{
		{"POST", "/.search"}, {"POST", "/Bulk"}, {"GET", "/Bulk"}, {"GET", "/Me"},
	} {
		r := e.do(tc.method, tc.path, map[string]any{"schemas": []string{scim.URNSearch}})
		if r.status != 501 || dig(r.body, "schemas.0") != scim.URNError || r.str("status") != "501" {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, r.status, r.raw)
		}
	}
	id := e.must(201, e.do("POST", "/Users/", user("slash@example.com", nil))).str("id")
	l := e.must(200, e.do("GET", "/Users/?filter="+url.QueryEscape(`userName eq "slash@example.com"`), nil))
	if l.str("Resources.0.id") != id || l.str("totalResults") != "1" {
		t.Errorf("GET /Users/: %s", l.raw)
	}
	e.must(201, e.do("POST", "/Groups/", map[string]any{"schemas": []string{scim.URNGroup}, "displayName": "Slash"}))
	if g := e.must(200, e.do("GET", "/Groups/", nil)); g.str("totalResults") != "1" {
		t.Errorf("GET /Groups/: %s", g.raw)
	}
	// Unknown endpoints stay 404, and still need the token.
	e.must(404, e.do("GET", "/Nope", nil))
	e.must(401, e.doToken("", "GET", "/Nope", nil))
}

func TestManagerMustBeAUserOfTheClient(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	boss := e.createUser("boss@example.com", nil)
	id := e.createUser("emp@example.com", nil)
	other, err := e.svc.CreateUser(ctx, core.CLIActor(), core.NewUser{OrgID: e.orgID, Username: "native@example.com", Email: "native@example.com",
		Role: core.RoleMember, Invite: core.NoInvite})
	if err != nil {
		t.Fatal(err)
	}
	mgr := func(v any) map[string]any {
		return map[string]any{scim.URNEnterprise: map[string]any{"manager": v}}
	}
	path := scim.URNEnterprise + ":manager"
	for _, tc := range []struct {
		name, method, url string
		body              any
	}{
		{"create, unknown", "POST", "/Users", user("new1@example.com", mgr(map[string]any{"value": "nobody"}))},
		{"create, another source's user", "POST", "/Users", user("new2@example.com", mgr(other.User.ID))},
		{"PUT, self", "PUT", "/Users/" + id, user("emp@example.com", mgr(map[string]any{"value": id}))},
		{"PATCH, unknown", "PATCH", "/Users/" + id, patch(op("replace", path, map[string]any{"value": "nobody"}))},
		{"PATCH, self as a bare id", "PATCH", "/Users/" + id, patch(op("add", path, id))},
		{"PATCH manager.value", "PATCH", "/Users/" + id, patch(op("replace", path+".value", "nobody"))},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := e.snapshot()
			r := e.do(tc.method, tc.url, tc.body)
			if r.status != 400 || r.str("scimType") != "invalidValue" || !strings.Contains(r.str("detail"), "manager") {
				t.Errorf("%d %s", r.status, r.raw)
			}
			if e.snapshot() != before {
				t.Error("the refused request changed the store")
			}
		})
	}
	ok := e.must(200, e.do("PATCH", "/Users/"+id, patch(op("replace", path, map[string]any{"value": boss}))))
	if ok.str(scim.URNEnterprise+".manager.value") != boss || ok.str(scim.URNEnterprise+".manager.$ref") != e.srv.URL+"/scim/v2/Users/"+boss {
		t.Errorf("valid manager: %s", ok.raw)
	}
	// A PUT that keeps the manager as it is is not checked again.
	e.must(200, e.do("PUT", "/Users/"+id, user("emp@example.com", mgr(boss))))
}

func TestEmptyGroupMembersAreOmitted(t *testing.T) {
	e := newEnv(t)
	uid := e.createUser("gm@example.com", nil)
	c := e.must(201, e.do("POST", "/Groups", map[string]any{"schemas": []string{scim.URNGroup}, "displayName": "Empty", "members": []any{}}))
	gid := c.str("id")
	check := func(what string, r resp) {
		t.Helper()
		if _, ok := r.body["members"]; ok {
			t.Errorf("%s: members is present: %s", what, r.raw)
		}
	}
	check("create", c)
	e.must(200, e.do("PATCH", "/Groups/"+gid, patch(op("add", "members", []any{map[string]any{"value": uid}}))))
	check("remove", e.must(200, e.do("PATCH", "/Groups/"+gid, patch(op("remove", "members", nil)))))
	check("get", e.must(200, e.do("GET", "/Groups/"+gid, nil)))
	l := e.must(200, e.do("GET", "/Groups", nil))
	if g := l.body["Resources"].([]any)[0].(map[string]any); g["members"] != nil {
		t.Errorf("list: %v", g)
	}
}

// Removing a user's email is refused with mutability, never answered 200
// with nothing changed: roster keeps an email once set (the one-user rule
// lets an admin set it for a user the IdP sent without one).
func TestRemoveEmailsIsRefused(t *testing.T) {
	e := newEnv(t)
	uid := e.createUser("keep@example.com", nil)
	for _, path := range []string{"emails", `emails[type eq "work"]`, `emails[type eq "work"].value`} {
		r := e.do("PATCH", "/Users/"+uid, patch(op("remove", path, nil)))
		if r.status != 400 || r.str("scimType") != "mutability" {
			t.Errorf("remove %s: %d %s, want 400 mutability", path, r.status, r.raw)
		}
	}
	if r := e.do("GET", "/Users/"+uid, nil); r.str("emails.0.value") != "keep@example.com" {
		t.Errorf("the email changed: %s", r.raw)
	}
}
