package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
)

// A column holding one text, number, boolean or NULL in every row is bound
// once and named by number in each row; every other value is bound where it
// is, and a statement of one row shares nothing.
func TestRowValuesBindSharedColumnsOnce(t *testing.T) {
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	var noTime *time.Time
	rows := [][]any{
		{"org", "alice", core.RoleMember, noTime, &now, []byte("x")},
		{"org", "bob", core.RoleMember, noTime, &now, []byte("x")},
		{"org", "carol", core.RoleAdmin, noTime, nil, []byte("x")},
	}
	tests := []struct {
		name string
		d    *dialect
		rows [][]any
		sql  string
		args []any
	}{
		{"sqlite", sqliteDialect, rows,
			"(?1, ?3, ?4, ?2, ?5, ?6), (?1, ?7, ?8, ?2, ?9, ?10), (?1, ?11, ?12, ?2, ?13, ?14)",
			[]any{"org", noTime, "alice", core.RoleMember, &now, []byte("x"), "bob", core.RoleMember, &now, []byte("x"), "carol", core.RoleAdmin, nil, []byte("x")}},
		{"postgres", postgresDialect, rows,
			"($1, $3, $4, $2, $5, $6), ($1, $7, $8, $2, $9, $10), ($1, $11, $12, $2, $13, $14)",
			[]any{"org", noTime, "alice", core.RoleMember, &now, []byte("x"), "bob", core.RoleMember, &now, []byte("x"), "carol", core.RoleAdmin, nil, []byte("x")}},
		{"one row", sqliteDialect, rows[:1], "(?1, ?2, ?3, ?4, ?5, ?6)", []any{"org", "alice", core.RoleMember, noTime, &now, []byte("x")}},
		{"typed and untyped NULL differ", sqliteDialect, [][]any{{noTime, "a"}, {nil, "a"}}, "(?2, ?1), (?3, ?1)", []any{"a", noTime, nil}},
	}
	for _, tt := range tests {
		rv := newRowValues(tt.d, len(tt.rows[0]), len(tt.rows))
		for _, r := range tt.rows {
			rv.add(r)
		}
		sql, args := rv.build()
		if sql != tt.sql {
			t.Errorf("%s: VALUES %s\nwant        %s", tt.name, sql, tt.sql)
		}
		if !reflect.DeepEqual(args, tt.args) {
			t.Errorf("%s: args %v\nwant %v", tt.name, args, tt.args)
		}
	}
}
