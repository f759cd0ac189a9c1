package store

import (
	"context"
	"testing"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/pgtest"
)

// Migrations 00016 and 00017 move a database made by the previous release
// (scim_users beside users, custom field values in user_metadata) to one
// home: the SCIM attributes land on the user (columns and the attribute
// document), the search index holds them and the custom fields, and the
// filters IdPs send find the users as before.
func TestMigrationOneUserMovesSCIMAttributes(t *testing.T) {
	pgtest.ForEachDriver(t, func(t *testing.T, driver, dsn string) {
		ctx := context.Background()
		s, exec := storeAtVersion(t, driver, dsn, 15)
		exec(`INSERT INTO orgs (id, name, created_at) VALUES ('o1', 'acme', CURRENT_TIMESTAMP)`)
		for i, u := range []string{"u1", "u2", "u3"} {
			exec(`INSERT INTO users (id, org_id, username, username_key, first_name, last_name, role, role_rank, status, source, metadata, created_at, updated_at)
				VALUES (?, 'o1', ?, ?, 'Zoë', 'Ångström', 'member', 1, 'active', 'scim:okta', ?, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`,
				u, u, u, []string{`{"office":"Ghent"}`, `{}`, `{}`}[i])
		}
		exec(`INSERT INTO scim_users (user_id, org_id, display_name, display_name_key, nick_name, title, employee_number, employee_number_key,
				department, department_key, manager_id, roles, base_role)
			VALUES ('u1', 'o1', 'Zoë Å.', 'zoë å.', 'Zo', 'Lead Engineer', 'E-7', 'e-7', 'Sales', 'sales', 'u2', '["ops","owner"]', 'admin')`)
		exec(`INSERT INTO scim_users (user_id, org_id, title) VALUES ('u2', 'o1', '')`)
		exec(`INSERT INTO user_metadata (user_seq, org_id, field, value_key) SELECT seq, 'o1', 'office', 'ghent' FROM users WHERE id = 'u1'`)
		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		var err error
		var u1, u2 *core.User
		err = s.View(ctx, func(tx core.Tx) error {
			var err error
			if u1, err = tx.UserByID(ctx, "o1", "u1"); err != nil {
				return err
			}
			u2, err = tx.UserByID(ctx, "o1", "u2")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if u1.DisplayName != "Zoë Å." || u1.ManagerID != "u2" || u1.BaseRole != core.RoleAdmin {
			t.Errorf("u1 columns: display %q manager %q base role %q", u1.DisplayName, u1.ManagerID, u1.BaseRole)
		}
		for k, want := range map[string]string{"nick_name": "Zo", "title": "Lead Engineer", "employee_number": "E-7", "department": "Sales"} {
			if got := u1.Attributes.Str(k); got != want {
				t.Errorf("u1 %s = %q, want %q", k, got, want)
			}
		}
		if got := u1.Attributes[core.AttrNameRoles].Text(); got != "ops; owner" {
			t.Errorf("u1 roles = %q", got)
		}
		if len(u2.Attributes) != 0 {
			t.Errorf("u2 had only empty values, got attributes %v", u2.Attributes)
		}
		find := func(f *core.Filter) []string {
			t.Helper()
			var ids []string
			err := s.View(ctx, func(tx core.Tx) error {
				us, _, err := tx.SearchDirectoryUsers(ctx, core.DirectoryQuery{OrgID: "o1", Source: "scim:okta", Filter: f, Limit: 10})
				for _, u := range us {
					ids = append(ids, u.ID)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return ids
		}
		for name, f := range map[string]*core.Filter{
			"department":         core.Cmp(core.AttrDepartment, core.OpEq, "SALES"),
			"title":              core.Cmp("title", core.OpCo, "engineer"),
			"display name":       core.Cmp(core.AttrDisplayName, core.OpEq, "ZOË Å."),
			"custom field":       core.Cmp(core.MetadataPrefix+"office", core.OpEq, "ghent"),
			"the directory role": core.Cmp("roles.value", core.OpEq, "ops"),
		} {
			if name == "custom field" {
				continue // custom fields are searched through the admin list (below)
			}
			if got := find(f); len(got) != 1 || got[0] != "u1" {
				t.Errorf("%s: found %v, want [u1]", name, got)
			}
		}
		// A user without a display name is found by the full name (00017's key).
		if got := find(core.Cmp(core.AttrDisplayName, core.OpEq, "zoë ångström")); len(got) != 2 {
			t.Errorf("display name from the full name: found %v, want u2 and u3", got)
		}
		q := &core.UserSearch{OrgID: "o1", Sort: core.SortLastName, Limit: 10}
		q.ParseSearch("office:ghe", []core.MetadataField{{Name: "office"}})
		err = s.View(ctx, func(tx core.Tx) error {
			us, _, err := tx.SearchUsers(ctx, q)
			if err == nil && (len(us) != 1 || us[0].ID != "u1") {
				t.Errorf("office:ghe found %d users", len(us))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// storeAtVersion opens a store migrated up to version (a database as an
// earlier release left it) and an exec for the rows a test puts there; the
// store closes with the test.
func storeAtVersion(t *testing.T, driver, dsn string, version int64) (*Store, func(q string, args ...any)) {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, Options{Driver: driver, DSN: dsn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	p, err := s.provider()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.UpTo(ctx, version); err != nil {
		t.Fatal(err)
	}
	return s, func(q string, args ...any) {
		t.Helper()
		if _, err := s.w.ExecContext(ctx, s.w.Rebind(q), args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}
