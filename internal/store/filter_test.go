package store

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/pgtest"
)

func TestFilterSQLBindsEveryValue(t *testing.T) {
	evil := `x' OR '1'='1'; DROP TABLE users; --`
	for _, tc := range []struct {
		name string
		f    *core.Filter
		sql  string
		args int
	}{
		{"eq folded", core.Cmp(core.AttrUsername, core.OpEq, evil), "u.username_key = ?", 1},
		{"sw range", core.Cmp(core.AttrUsername, core.OpSw, evil), "(u.username_key >= ? AND u.username_key < ?)", 2},
		{"co", core.Cmp(core.AttrExternalID, core.OpCo, evil), "instr(u.external_id, ?) > 0", 1},
		{"ew", core.Cmp(core.AttrEmail, core.OpEw, evil), "substr(u.email_key, -length(?)) = ?", 2},
		{"search index ne", core.Cmp(core.AttrDepartment, core.OpNe, evil), "u.seq NOT IN (SELECT user_seq FROM user_search WHERE org_id = ? AND field = ? AND value_key = ?)", 3},
		{"search index sw", core.Cmp(core.AttrEmployeeNumber, core.OpSw, evil), "u.seq IN (SELECT user_seq FROM user_search WHERE org_id = ? AND field = ? AND (value_key >= ? AND value_key < ?))", 4},
		{"multi-valued sub-attribute", core.Cmp("emails.type", core.OpEq, evil), "u.seq IN (SELECT user_seq FROM user_search WHERE org_id = ? AND field = ? AND value_key = ?)", 3},
		{"active", core.Cmp(core.AttrActive, core.OpEq, false), "u.status NOT IN (?, ?, ?)", 3},
		{"time", core.Cmp(core.AttrCreated, core.OpGt, time.Now()), "u.created_at > ?", 1},
		{"not and or", core.Not(core.And(core.Cmp(core.AttrID, core.OpEq, evil), core.Or(core.Cmp(core.AttrEmail, core.OpPresent, ""), core.Cmp(core.AttrLastName, core.OpLt, evil)))),
			"NOT ((u.id = ?) AND ((u.email_key <> '') OR (u.last_name_key < ?)))", 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sql, args, err := filterSQL(sqliteDialect, "org", tc.f, userFilterCols)
			if err != nil {
				t.Fatal(err)
			}
			if sql != tc.sql || len(args) != tc.args {
				t.Errorf("got %q with %d args, want %q with %d", sql, len(args), tc.sql, tc.args)
			}
			if strings.Contains(sql, "DROP") || strings.Contains(sql, "'1'") {
				t.Errorf("a value reached the query text: %s", sql)
			}
		})
	}
	if _, _, err := filterSQL(sqliteDialect, "org", core.Cmp("password_hash", core.OpEq, "x"), userFilterCols); err == nil {
		t.Error("an unknown attribute was translated")
	}
	if _, _, err := filterSQL(sqliteDialect, "org", core.Cmp(core.AttrGroupMember, core.OpCo, "x"), groupFilterCols); err == nil {
		t.Error("members co was translated")
	}
}

func TestFilterUsers(t *testing.T) {
	pgtest.ForEachDriver(t, testFilterUsers)
}

func testFilterUsers(t *testing.T, driver, dsn string) {
	ctx := context.Background()
	st, err := Open(ctx, Options{Driver: driver, DSN: dsn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	org := "00000000-0000-0000-0000-000000000001"
	now := time.Now().UTC()
	err = st.InTx(ctx, func(tx core.Tx) error {
		for i, un := range []string{"Anna", "bert", "Cleo", "dora"} {
			u := &core.User{ID: un, OrgID: org, Username: un, Role: core.RoleMember, Status: core.StatusActive,
				Source: "scim:a", InviteState: core.InviteStateNone, CreatedAt: now.Add(time.Duration(i) * time.Second), UpdatedAt: now}
			if i == 3 {
				u.Source = "native" // no department
			} else {
				u.Attributes.SetStr("department", []string{"Sales", "", "sales"}[i])
			}
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		q     core.DirectoryQuery
		want  string
		total int
	}{
		{"department eq folds case", core.DirectoryQuery{Filter: core.Cmp(core.AttrDepartment, core.OpEq, "SALES")}, "Anna,Cleo", 2},
		{"not(eq) includes users without a profile", core.DirectoryQuery{Filter: core.Not(core.Cmp(core.AttrDepartment, core.OpEq, "sales"))}, "bert,dora", 2},
		{"ne includes users without a profile", core.DirectoryQuery{Filter: core.Cmp(core.AttrDepartment, core.OpNe, "sales")}, "bert,dora", 2},
		{"pr", core.DirectoryQuery{Filter: core.Cmp(core.AttrDepartment, core.OpPresent, "")}, "Anna,Cleo", 2},
		{"source", core.DirectoryQuery{Source: "scim:a"}, "Anna,bert,Cleo", 3},
		{"sort desc by username, paged", core.DirectoryQuery{SortBy: core.AttrUsername, Descending: true, Limit: 2, Offset: 1}, "Cleo,bert", 4},
		{"count only", core.DirectoryQuery{Limit: 0}, "", 4},
		{"sw on folded key", core.DirectoryQuery{Filter: core.Cmp(core.AttrUsername, core.OpSw, "C")}, "Cleo", 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := tc.q
			q.OrgID = org
			if q.Limit == 0 && tc.want != "" {
				q.Limit = 10
			}
			var got []string
			var total int
			err := st.View(ctx, func(tx core.Tx) error {
				us, n, err := tx.FilterUsers(ctx, q)
				for _, u := range us {
					got = append(got, u.Username)
				}
				total = n
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, ",") != tc.want || total != tc.total {
				t.Errorf("got %v (total %d), want %s (total %d)", got, total, tc.want, tc.total)
			}
		})
	}
}

func TestUserFilterUsesIndexes(t *testing.T) {
	ctx := context.Background()
	st, err := Open(ctx, Options{Driver: "sqlite", DSN: filepath.Join(t.TempDir(), "r.db")}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for attr, index := range map[core.FilterAttr]string{
		core.AttrUsername: "users_org_username", core.AttrExternalID: "users_org_external", core.AttrEmail: "users_org_email_lookup",
		core.AttrEmployeeNumber: "user_search_lookup", core.AttrDisplayName: "users_org_display", "addresses.locality": "user_search_lookup",
	} {
		where, args, err := filterSQL(sqliteDialect, "org", core.Cmp(attr, core.OpEq, "x"), userFilterCols)
		if err != nil {
			t.Fatal(err)
		}
		var plan []struct {
			ID, Parent, NotUsed int
			Detail              string
		}
		q := `EXPLAIN QUERY PLAN SELECT u.id FROM users u WHERE u.org_id = ? AND u.source = ? AND (` + where + `)`
		rows, err := st.r.QueryContext(ctx, q, append([]any{"o", "scim:a"}, args...)...)
		if err != nil {
			t.Fatal(err)
		}
		var details []string
		for rows.Next() {
			var a, b, c int
			var d string
			if err := rows.Scan(&a, &b, &c, &d); err != nil {
				t.Fatal(err)
			}
			details = append(details, d)
		}
		rows.Close()
		_ = plan
		if !strings.Contains(strings.Join(details, "; "), index) {
			t.Errorf("%s: plan %v does not use %s", attr, details, index)
		}
	}
	// The core look-ups used on every write keep their indexes too.
	for q, index := range map[string]string{
		`SELECT id FROM users WHERE org_id = ? AND email_key = ?`:    "users_org_email_lookup",
		`SELECT id FROM users WHERE ` + userByExternalIDWhere:        "users_org_external",
		`SELECT id FROM users WHERE org_id = ? AND username_key = ?`: "users_org_username",
	} {
		if plan := queryPlan(t, st, "sqlite", q, []any{"o", "x", "y"}[:strings.Count(q, "?")]); !strings.Contains(plan, index) {
			t.Errorf("%s: plan %q does not use %s", q, plan, index)
		}
	}
}
