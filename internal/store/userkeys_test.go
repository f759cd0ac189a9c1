package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/pgtest"
)

// derivedRow is every column of a users row that is derived from its
// fields, and the user's folded metadata values (user_search, metadata.*).
type derivedRow struct {
	UsernameKey  string `db:"username_key"`
	EmailKey     string `db:"email_key"`
	FirstNameKey string `db:"first_name_key"`
	LastNameKey  string `db:"last_name_key"`
	SearchKey    string `db:"search_key"`
	RoleRank     int    `db:"role_rank"`
	Metadata     string // field=value_key, sorted, ";"-joined
}

func readDerived(t *testing.T, s *Store, orgID, username string) derivedRow {
	t.Helper()
	ctx := context.Background()
	var r derivedRow
	q := s.w.Rebind(`SELECT username_key, email_key, first_name_key, last_name_key, search_key, role_rank
		FROM users WHERE org_id = ? AND username = ?`)
	if err := s.w.GetContext(ctx, &r, q, orgID, username); err != nil {
		t.Fatalf("read %s: %v", username, err)
	}
	var meta []string
	q = s.w.Rebind(`SELECT substr(m.field, 10) || '=' || m.value_key FROM user_search m JOIN users u ON u.seq = m.user_seq
		WHERE u.org_id = ? AND u.username = ? AND m.field LIKE 'metadata.%' ORDER BY m.field`)
	if err := s.w.SelectContext(ctx, &meta, q, orgID, username); err != nil {
		t.Fatal(err)
	}
	r.Metadata = strings.Join(meta, ";")
	return r
}

// The person of these tests: non-ASCII names, a phone, metadata.
func person(id, orgID string) *core.User {
	now := time.Now().UTC().Truncate(time.Second)
	return &core.User{ID: id, OrgID: orgID, Username: "Åsa.Ångström", Email: "Asa.Angstrom@Example.COM",
		FirstName: "Åsa", LastName: "Ångström-Öberg", Phone: "+46 8 555 0101", Role: core.RoleDeveloper,
		Status: core.StatusActive, Source: "ldap:corp", ExternalID: "ext-" + id, InviteState: core.InviteStateNone,
		Metadata: map[string]string{"department": "Forschung & Entwicklung", "empty": ""}, CreatedAt: now, UpdatedAt: now}
}

// wantDerived is the derived row of person, spelled out from core.FoldKey.
func wantDerived() derivedRow {
	f := core.FoldKey
	return derivedRow{UsernameKey: f("Åsa.Ångström"), EmailKey: f("Asa.Angstrom@Example.COM"), FirstNameKey: f("Åsa"),
		LastNameKey: f("Ångström-Öberg"), SearchKey: f("Åsa") + "\x1f" + f("Ångström-Öberg") + "\x1f" + f("+46 8 555 0101"),
		RoleRank: core.RoleDeveloper.Rank(), Metadata: "department=" + f("Forschung & Entwicklung")}
}

// The batch insert of the LDAP sync (InsertUsers) writes every derived
// column the single insert (InsertUser) and the update write, with the same
// values: the same person in two organisations, one through each insert.
func TestInsertUsersWritesTheDerivedColumnsOfInsertUser(t *testing.T) {
	pgtest.ForEachDriver(t, func(t *testing.T, driver, dsn string) {
		ctx := context.Background()
		st := openMigrated(t, driver, dsn)
		const other = "00000000-0000-0000-0000-0000000000b2"
		err := st.InTx(ctx, func(tx core.Tx) error {
			if err := tx.CreateOrg(ctx, &core.Org{ID: other, Name: "batch", CreatedAt: time.Now().UTC()}); err != nil {
				return err
			}
			if err := tx.InsertUser(ctx, person("single", defaultOrg)); err != nil {
				return err
			}
			// More than one statement's worth of rows, the person among them.
			batch := []*core.User{person("batch", other)}
			for i := range batchRows + 5 {
				u := newUser(fmt.Sprintf("filler%03d", i), fmt.Sprintf("filler%03d@example.com", i))
				u.ID, u.OrgID = fmt.Sprintf("filler-%d", i), other
				batch = append(batch, u)
			}
			return tx.InsertUsers(ctx, batch)
		})
		if err != nil {
			t.Fatal(err)
		}
		want := wantDerived()
		single, batch := readDerived(t, st, defaultOrg, "Åsa.Ångström"), readDerived(t, st, other, "Åsa.Ångström")
		if single != want {
			t.Errorf("InsertUser stored\n %+v, want\n %+v", single, want)
		}
		if batch != want {
			t.Errorf("InsertUsers stored\n %+v, want (as InsertUser)\n %+v", batch, want)
		}
		if got := readDerived(t, st, other, "filler204"); got.SearchKey != "\x1f\x1f" || got.FirstNameKey != "" || got.UsernameKey != core.FoldKey("filler204") {
			t.Errorf("last row of the second statement: %+v", got)
		}
		// An update through UpdateUser leaves the same derived row.
		err = st.InTx(ctx, func(tx core.Tx) error {
			u, err := tx.UserByUsername(ctx, other, "åsa.ångström")
			if err != nil {
				return err
			}
			u.UpdatedAt = u.UpdatedAt.Add(time.Second)
			return tx.UpdateUser(ctx, u)
		})
		if err != nil {
			t.Fatal(err)
		}
		if got := readDerived(t, st, other, "Åsa.Ångström"); got != want {
			t.Errorf("after UpdateUser\n %+v, want\n %+v", got, want)
		}
	})
}

// One function builds the values of every user write: the column list and
// the values agree in number, and every derived column is among them.
func TestUserWriteColumnsAndValuesAgree(t *testing.T) {
	vals, err := userValues(nil, person("x", defaultOrg))
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != len(userWriteCols) {
		t.Fatalf("%d values for %d columns", len(vals), len(userWriteCols))
	}
	ins, err := userInsertValues(nil, person("x", defaultOrg))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(userInsertRow, "?"); len(ins) != n || len(strings.Split(userInsertCols, ",")) != n {
		t.Fatalf("insert: %d values, %d placeholders, columns %s", len(ins), n, userInsertCols)
	}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[userKeys]()) {
		col := map[string]string{"UsernameKey": "username_key", "EmailKey": "email_key", "FirstNameKey": "first_name_key",
			"LastNameKey": "last_name_key", "SearchKey": "search_key", "RoleRank": "role_rank"}[f.Name]
		if col == "" || !strings.Contains(userInsertCols, col) || !strings.Contains(userUpdateSet, col+" = ?") {
			t.Errorf("derived field %s (column %q) is not written by every user write", f.Name, col)
		}
	}
}

// Migration 00010 repairs the stored rows: on a database at version 9 with
// users as the old batch insert left them (no first name or search key), as
// migration 00005 left them (keys from SQL lower()), without user_metadata,
// and an archived user whose names were released, version 10 recomputes the
// derived columns, leaves the released username key alone, and the users
// are then found by name and phone and sorted by first name. Run again,
// the repair changes nothing.
func TestMigrationRepairsUserKeys(t *testing.T) {
	pgtest.ForEachDriver(t, func(t *testing.T, driver, dsn string) {
		ctx := context.Background()
		s, exec := storeAtVersion(t, driver, dsn, 9)
		now := time.Now().UTC()
		exec(`INSERT INTO orgs (id, name, created_at) VALUES (?, 'acme', ?)`, "o1", now)
		insert := func(id, username, first, last, phone, role, meta, firstKey, searchKey string) {
			t.Helper()
			exec(`INSERT INTO users (id, org_id, username, username_key, email, email_key, first_name, first_name_key,
				last_name, last_name_key, search_key, phone, role, role_rank, status, source, metadata, created_at, updated_at)
				VALUES (?, 'o1', ?, ?, '', '', ?, ?, ?, ?, ?, ?, ?, ?, 'active', 'ldap:corp', ?, ?, ?)`,
				id, username, core.FoldKey(username), first, firstKey, last, core.FoldKey(last), searchKey, phone,
				role, core.Role(role).Rank(), meta, now, now)
		}
		// As InsertUsers left them: no first_name_key, no search_key.
		insert("u1", "zoe", "Zoë", "Ångström", "+46 8 555 0101", "member", "{}", "", "")
		insert("u2", "anna", "Anna", "Åberg", "+46 8 555 0202", "admin", "{}", "", "")
		// As migration 00005 left them: lower(), not FoldKey; metadata without user_metadata rows.
		insert("u3", "bob", "Bob", "Müller", "555-0303", "developer", `{"department":"Sales EMEA"}`,
			"bob", "bob\x1fmüller\x1f555-0303")
		// Already right.
		insert("u4", "carl", "Carl", "Öst", "", "member", "{}", core.FoldKey("Carl"),
			core.FoldKey("Carl")+"\x1f"+core.FoldKey("Öst")+"\x1f")
		exec(`INSERT INTO metadata_fields (org_id, position, name, label, type, required) VALUES ('o1', 0, 'department', '', 'string', false)`)
		// Archived, its names released (the suffix of ReleaseArchivedUser).
		insert("u5", "dora", "Dora", "Ek", "", "member", "{}", "", "")
		exec(`UPDATE users SET status = 'archived', username_key = username_key || ? WHERE id = 'u5'`, s.d.archivedSep+"u5")

		if err := s.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
		for _, u := range []*core.User{
			{Username: "zoe", FirstName: "Zoë", LastName: "Ångström", Phone: "+46 8 555 0101", Role: core.RoleMember},
			{Username: "anna", FirstName: "Anna", LastName: "Åberg", Phone: "+46 8 555 0202", Role: core.RoleAdmin},
			{Username: "bob", FirstName: "Bob", LastName: "Müller", Phone: "555-0303", Role: core.RoleDeveloper},
			{Username: "carl", FirstName: "Carl", LastName: "Öst", Role: core.RoleMember},
		} {
			k := deriveKeys(u)
			want := derivedRow{UsernameKey: k.UsernameKey, FirstNameKey: k.FirstNameKey, LastNameKey: k.LastNameKey, SearchKey: k.SearchKey, RoleRank: k.RoleRank}
			if u.Username == "bob" {
				want.Metadata = "department=" + core.FoldKey("Sales EMEA")
			}
			if got := readDerived(t, s, "o1", u.Username); got != want {
				t.Errorf("%s after the repair:\n %+v, want\n %+v", u.Username, got, want)
			}
		}
		if got := readDerived(t, s, "o1", "dora"); got.UsernameKey != core.FoldKey("dora")+s.d.archivedSep+"u5" || got.SearchKey != core.FoldKey("Dora")+"\x1f"+core.FoldKey("Ek")+"\x1f" {
			t.Errorf("archived user after the repair: %+v", got)
		}

		search := func(text string, sort core.SortKey) []string {
			t.Helper()
			q := &core.UserSearch{OrgID: "o1", Sort: sort, Limit: 10, Statuses: []core.Status{core.StatusActive}}
			q.ParseSearch(text, []core.MetadataField{{Name: "department"}})
			var names []string
			err := s.View(ctx, func(tx core.Tx) error {
				us, _, err := tx.SearchUsers(ctx, q)
				for _, u := range us {
					names = append(names, u.Username)
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return names
		}
		for _, c := range []struct {
			text string
			sort core.SortKey
			want string
		}{
			{"ngstr", core.SortLastName, "zoe"},
			{"ÅNGSTRÖM", core.SortLastName, "zoe"},
			{"zoë", core.SortLastName, "zoe"},
			{"555 02", core.SortLastName, "anna"},
			{"MÜLL", core.SortLastName, "bob"},
			{"department:emea", core.SortLastName, "bob"},
			{"", core.SortFirstName, "anna bob carl zoe"},
		} {
			if got := strings.Join(search(c.text, c.sort), " "); got != c.want {
				t.Errorf("search %q sorted by %s: %q, want %q", c.text, c.sort, got, c.want)
			}
		}

		// Idempotent: migration 00017, the search index rebuild that runs
		// after it (00010's own table is gone by then), gives the same rows
		// a second time.
		beforeBob := readDerived(t, s, "o1", "bob")
		sqltx, err := s.w.BeginTx(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer sqltx.Rollback()
		bind := sqlx.QUESTION
		if driver == "postgres" {
			bind = sqlx.DOLLAR
		}
		if n, err := rebuildSearch(ctx, sqltx, bind); err != nil || n == 0 {
			t.Fatalf("second rebuild: %d users, %v", n, err)
		}
		if err := sqltx.Commit(); err != nil {
			t.Fatal(err)
		}
		if got := readDerived(t, s, "o1", "bob"); got != beforeBob {
			t.Errorf("a second rebuild changed bob's derived rows:\n %+v, was\n %+v", got, beforeBob)
		}
	})
}
