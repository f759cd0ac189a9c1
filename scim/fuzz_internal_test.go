package scim

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http/httptest"
	"path/filepath"
	"testing"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/store"
)

var filterSeeds = []string{
	`userName eq "ann@example.com"`, `userName Eq "x"`, `externalId eq "00u1"`, `id eq "x"`,
	`emails[type eq "work" and value co "@example.com"]`, `emails.value sw "a"`, `name.familyName ew "son"`,
	`active eq true`, `not (active eq false)`, `meta.created gt "2026-01-01T00:00:00Z"`, `meta.lastModified le "bad"`,
	`displayName pr`, `title eq "x"`, `urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "7"`,
	`(userName eq "a" or userName eq "b") and not (emails pr)`, `userName eq "a\"b\\c"`, `userName eq 1`,
	`userName eq null`, `members[value eq "x"]`, `members.value eq "x"`, `displayName co "%_"`, `userName sw "\u0000"`,
	`userName gt "z"`, `active gt true`, `meta.created eq 5`, `(((`, `userName eq`, `eq "x"`, ``,
}

// newFuzzStore is a migrated SQLite file with a few users and groups, so
// that translated filters run against real rows.
func newFuzzStore(f *testing.F) (*core.Service, *Handler, string) {
	ctx := context.Background()
	st, err := store.Open(ctx, store.Options{Driver: "sqlite", DSN: filepath.Join(f.TempDir(), "roster.db")}, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		f.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	svc, err := core.NewService(core.Config{}, core.Deps{Store: st, Logger: log})
	if err != nil {
		f.Fatal(err)
	}
	h, err := New(Config{AuthCacheTTL: -1}, svc, log)
	if err != nil {
		f.Fatal(err)
	}
	org, err := svc.Org(ctx, core.DefaultOrg)
	if err != nil {
		f.Fatal(err)
	}
	return svc, h, org.ID
}

// FuzzFilterSQL parses arbitrary SCIM filters for users and groups; what
// parses is translated to SQL and run against a real SQLite store. Any
// failure must be a 4xx (never a 5xx, never a panic). The SQL text itself is
// built from fixed column tables; values are bound (see internal/store/filter.go).
func FuzzFilterSQL(f *testing.F) {
	for _, s := range filterSeeds {
		f.Add(s)
	}
	svc, h, orgID := newFuzzStore(f)
	ctx := context.Background()
	req := httptest.NewRequest("GET", "/scim/v2/Users", nil)
	f.Fuzz(func(t *testing.T, raw string) {
		for _, ra := range []resourceAttrs{userAttrs, groupAttrs} {
			flt, err := parseFilter(raw, ra)
			if err == nil {
				if ra.name == "Group" {
					_, _, err = svc.SearchDirectoryGroups(ctx, core.GroupSearch{OrgID: orgID, Source: "scim:fuzz", Filter: flt, Limit: 5}, true)
				} else {
					_, _, err = svc.SearchDirectoryUsers(ctx, core.DirectoryQuery{OrgID: orgID, Source: "scim:fuzz", Filter: flt, Limit: 5})
				}
			}
			if err != nil {
				if se := h.toSCIM(req, err); se.Status >= 500 {
					t.Fatalf("%s filter %q: %d: %v", ra.name, raw, se.Status, err)
				}
			}
		}
	})
}

// FuzzPatch parses arbitrary PatchOp bodies and applies them to a full user
// and group document: errors are 400s, never a panic.
func FuzzPatch(f *testing.F) {
	seeds := []string{
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"active","value":false}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"Replace","value":{"name.givenName":"A","active":"False"}}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"emails[type eq \"work\"].value","value":"x@y"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"members[value eq \"1\"]"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"add","path":"members","value":[{"value":"1"},{"value":"2"}]}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value","value":"m"}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","path":"urn:ietf:params:scim:schemas:extension:roster:2.0:User:metadata[name eq \"x\"].value","value":1}]}`,
		`{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"remove","path":"emails[type eq \"work\" and primary eq true]"}]}`,
		`{"Operations":[]}`, `{"schemas":[],"Operations":[{"op":"x"}]}`, `[]`, `null`,
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var m map[string]any
		if json.Unmarshal([]byte(body), &m) != nil || m == nil {
			return
		}
		ops, err := parsePatch(m)
		if err != nil {
			checkClientErr(t, err)
			return
		}
		for _, ds := range []docSchema{userDocSchema, groupDocSchema} {
			doc := sampleDoc()
			if err := applyPatch(doc, ops, ds); err != nil {
				checkClientErr(t, err)
			}
			if _, err := json.Marshal(doc); err != nil {
				t.Fatalf("patched document does not encode: %v", err)
			}
		}
	})
}

func checkClientErr(t *testing.T, err error) {
	t.Helper()
	se, ok := err.(*Error)
	if !ok {
		t.Fatalf("error of type %T, want a SCIM 4xx: %v", err, err)
	}
	if se.Status < 400 || se.Status >= 500 {
		t.Fatalf("status %d: %v", se.Status, err)
	}
}

func sampleDoc() map[string]any {
	var doc map[string]any
	raw := fmt.Sprintf(`{"schemas":[%q,%q,%q],"id":"u1","userName":"ann@example.com","active":true,
		"name":{"givenName":"Ann","familyName":"Lee"},"displayName":"Ann Lee",
		"emails":[{"value":"ann@example.com","type":"work","primary":true},{"value":"a@home","type":"home"}],
		"phoneNumbers":[{"value":"+1","type":"work"}],"members":[{"value":"1"},{"value":"2","display":"B"}],
		%q:{"employeeNumber":"7","manager":{"value":"m1"}},
		%q:{"role":"member","metadata":[{"name":"x","value":"1"}]}}`,
		URNUser, URNEnterprise, URNRoster, URNEnterprise, URNRoster)
	if err := json.Unmarshal([]byte(raw), &doc); err != nil {
		panic(err)
	}
	return doc
}
