package store

import (
	"reflect"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
)

// A value that repeats the row above's in its column is bound once and named
// by number; anything else, and every value of the first row, is bound.
func TestRowValuesBindRepeatsOnce(t *testing.T) {
	now := time.Date(2026, 12, 4, 0, 0, 0, 0, time.UTC)
	var noTime *time.Time
	rows := [][]any{
		{"org", "alice", core.RoleMember, noTime, &now, []byte("x")},
		{"org", "bob", core.RoleMember, noTime, &now, []byte("x")},
		{"org", "carol", core.RoleAdmin, noTime, nil, []byte("x")},
		{"other", "carol", core.RoleAdmin, nil, nil, "x"},
	}
	tests := []struct {
		d    *dialect
		want string
	}{
		{sqliteDialect, "(?1, ?2, ?3, ?4, ?5, ?6), (?1, ?7, ?3, ?4, ?8, ?9), (?1, ?10, ?11, ?4, ?12, ?13), (?14, ?10, ?11, ?15, ?12, ?16)"},
		{postgresDialect, "($1, $2, $3, $4, $5, $6), ($1, $7, $3, $4, $8, $9), ($1, $10, $11, $4, $12, $13), ($14, $10, $11, $15, $12, $16)"},
	}
	for _, tt := range tests {
		rv := newRowValues(tt.d, 6, len(rows))
		for _, r := range rows {
			rv.add(r)
		}
		if got := rv.sql(); got != tt.want {
			t.Errorf("%s: VALUES %s\nwant        %s", tt.d.name, got, tt.want)
		}
		want := []any{"org", "alice", core.RoleMember, noTime, &now, []byte("x"), "bob", &now, []byte("x"),
			"carol", core.RoleAdmin, nil, []byte("x"), "other", nil, "x"}
		if !reflect.DeepEqual(rv.args, want) {
			t.Errorf("%s: args %v\nwant %v", tt.d.name, rv.args, want)
		}
	}
}
