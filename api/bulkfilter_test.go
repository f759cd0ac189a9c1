package api_test

import (
	"testing"

	"github.com/rosterhq/roster/core"
)

// TestBulkByFilter: "select all N matching" runs server-side on every user
// the filter matches, refuses when the count changed, and checks each user
// against the caller's role.
func TestBulkByFilter(t *testing.T) {
	f := newFixture(t, 100)
	devs := map[string]bool{}
	for _, u := range []string{"d1@example.com", "d2@example.com", "d3@example.com"} {
		devs[f.createActive(u, core.RoleDeveloper)] = true
	}
	member := f.createActive("m1@example.com", core.RoleMember)
	f.createActive("admin2@example.com", core.RoleAdmin)
	admin := f.login("admin2@example.com", "Sturdy-passphrase-7", "console")
	status := func(id string) string {
		return f.do(nil, "GET", "/api/v1/users/"+id, f.owner, nil).body["status"].(string)
	}

	// A stale count changes nothing.
	stale := f.do(nil, "POST", "/api/v1/users/bulk", f.owner, map[string]any{"action": "deactivate", "filter": map[string]any{"role": "developer"}, "expected_total": 2})
	if stale.code != 409 || stale.errCode() != "changed" || stale.errField() != "expected_total" {
		t.Fatalf("stale count: %d %s", stale.code, stale.raw)
	}
	for id := range devs {
		if s := status(id); s != "active" {
			t.Fatalf("a refused bulk changed %s: %s", id, s)
		}
	}

	// The right count: every match, and only the matches.
	r := f.do(nil, "POST", "/api/v1/users/bulk", f.owner, map[string]any{"action": "deactivate", "filter": map[string]any{"role": "developer", "status": "active"}, "expected_total": 3})
	if r.code != 200 || r.body["succeeded"] != 3.0 || r.body["failed"] != 0.0 {
		t.Fatalf("bulk by filter: %d %s", r.code, r.raw)
	}
	for _, o := range r.body["results"].([]any) {
		if id := o.(map[string]any)["id"].(string); !devs[id] {
			t.Fatalf("acted on %s, not a developer", id)
		}
	}
	for id := range devs {
		if s := status(id); s != "disabled" {
			t.Fatalf("developer %s: %s", id, s)
		}
	}
	if s := status(member); s != "active" {
		t.Fatalf("member outside the filter: %s", s)
	}

	// An admin may not archive the owner: the owner's row fails, the rest succeed.
	r = f.do(nil, "POST", "/api/v1/users/bulk", admin, map[string]any{"action": "archive", "filter": map[string]any{"role": "owner,member"}, "expected_total": 2})
	if r.code != 200 || r.body["succeeded"] != 1.0 || r.body["failed"] != 1.0 {
		t.Fatalf("admin over owner: %d %s", r.code, r.raw)
	}
	for _, o := range r.body["results"].([]any) {
		m := o.(map[string]any)
		if m["id"] == member && m["ok"] != true {
			t.Fatalf("member row: %v", m)
		}
		if m["id"] != member && (m["ok"] != false || m["error"].(map[string]any)["code"] != "forbidden") {
			t.Fatalf("owner row: %v", m)
		}
	}

	// The search text counts too; bad requests name their field.
	if r := f.do(nil, "POST", "/api/v1/users/bulk", f.owner, map[string]any{"action": "archive", "filter": map[string]any{"q": "nobody-at-all"}, "expected_total": 0}); r.code != 200 || r.body["succeeded"] != 0.0 {
		t.Fatalf("empty match: %d %s", r.code, r.raw)
	}
	for _, c := range []struct {
		body  map[string]any
		field string
	}{
		{map[string]any{"action": "archive", "filter": map[string]any{"role": "member"}}, "expected_total"},
		{map[string]any{"action": "archive", "filter": map[string]any{"role": "member"}, "ids": []string{member}, "expected_total": 1}, "filter"},
		{map[string]any{"action": "archive", "filter": map[string]any{"role": "wizard"}, "expected_total": 1}, "role"},
	} {
		if r := f.do(nil, "POST", "/api/v1/users/bulk", f.owner, c.body); r.code != 400 || r.errField() != c.field {
			t.Fatalf("%v: %d %s", c.body, r.code, r.raw)
		}
	}
}
