package api_test

import (
	"context"
	"testing"

	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/core"
)

// fakeDirectory is an LDAP door that records what the API asked it.
type fakeDirectory struct {
	org, source, query string
	limit              int
}

func (d *fakeDirectory) Names(string) []string { return []string{"corp"} }
func (d *fakeDirectory) SyncNow(context.Context, string, string, bool, bool) (any, error) {
	return map[string]string{"status": "ok"}, nil
}
func (d *fakeDirectory) Import(context.Context, string, string, string) (*core.UserView, error) {
	return nil, core.ErrNotFound
}
func (d *fakeDirectory) Search(_ context.Context, orgID, source, query string, limit int) ([]api.DirectoryEntry, error) {
	if source != "corp" {
		return nil, &core.NotFoundError{Kind: "ldap source", Key: source}
	}
	d.org, d.source, d.query, d.limit = orgID, source, query, limit
	return []api.DirectoryEntry{{Username: "zoe", FirstName: "Zoe", LastName: "Zimmer", Email: "zoe@example.com"}}, nil
}

func TestLDAPSearch(t *testing.T) {
	dir := &fakeDirectory{}
	f := newFixtureWith(t, api.Config{LDAP: dir})
	f.createActive("um@example.com", core.RoleUserManager)
	f.createActive("m@example.com", core.RoleMember)
	manager := f.login("um@example.com", "Sturdy-passphrase-7", "console")
	member := f.login("m@example.com", "Sturdy-passphrase-7", "console")
	for _, tc := range []struct {
		name, path, token string
		code              int
		field             string
		query             string
		limit             int
	}{
		{"owner", "/api/v1/ldap/sources/corp/search?q=zimm", f.owner, 200, "", "zimm", 20},
		{"user manager with a limit", "/api/v1/ldap/sources/corp/search?q=z&limit=5", manager, 200, "", "z", 5},
		{"member", "/api/v1/ldap/sources/corp/search?q=z", member, 403, "", "", 0},
		{"bad limit", "/api/v1/ldap/sources/corp/search?q=z&limit=0", f.owner, 400, "limit", "", 0},
		{"limit not a number", "/api/v1/ldap/sources/corp/search?limit=x", f.owner, 400, "limit", "", 0},
		{"unknown source", "/api/v1/ldap/sources/nope/search?q=z", f.owner, 404, "", "", 0},
		{"no session", "/api/v1/ldap/sources/corp/search?q=z", "", 401, "", "", 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			*dir = fakeDirectory{}
			r := f.do(nil, "GET", tc.path, tc.token, nil)
			if r.code != tc.code || r.errField() != tc.field {
				t.Fatalf("%d %s", r.code, r.raw)
			}
			if dir.query != tc.query || dir.limit != tc.limit {
				t.Fatalf("asked the directory q=%q limit=%d", dir.query, dir.limit)
			}
			if tc.code == 200 {
				es, _ := r.body["entries"].([]any)
				if len(es) != 1 || es[0].(map[string]any)["username"] != "zoe" || dir.org != f.org {
					t.Fatalf("entries %v (org %q)", r.body, dir.org)
				}
			}
		})
	}
}

// Without any LDAP source the search is a 404, not a 500.
func TestLDAPSearchWithoutSources(t *testing.T) {
	f := newFixture(t, 0)
	if r := f.do(nil, "GET", "/api/v1/ldap/sources/corp/search?q=z", f.owner, nil); r.code != 404 {
		t.Fatalf("%d %s", r.code, r.raw)
	}
}

func TestUserCounts(t *testing.T) {
	f := newFixture(t, 100)
	f.createActive("m@example.com", core.RoleMember)
	if r := f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": "new@example.com", "email": "new@example.com", "send_invite": false}); r.code != 201 {
		t.Fatalf("create: %d %s", r.code, r.raw)
	}
	r := f.do(nil, "GET", "/api/v1/users/counts", f.owner, nil)
	if r.code != 200 {
		t.Fatalf("%d %s", r.code, r.raw)
	}
	st, _ := r.body["status"].(map[string]any)
	is, _ := r.body["invite_status"].(map[string]any)
	if r.body["total"] != 3.0 || st["active"] != 2.0 || st["invited"] != 1.0 || st["archived"] != 0.0 ||
		is["pending"] != 1.0 || is["accepted"] != 1.0 || is["none"] != 1.0 || is["expired"] != 0.0 {
		t.Fatalf("counts %s", r.raw)
	}
	member := f.login("m@example.com", "Sturdy-passphrase-7", "console")
	if r := f.do(nil, "GET", "/api/v1/users/counts", member, nil); r.code != 403 {
		t.Fatalf("member: %d %s", r.code, r.raw)
	}
}
