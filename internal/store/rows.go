package store

import (
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/core"
)

// rowValues builds the VALUES rows of a multi-row INSERT, every row with the
// same columns, all values bound. A value equal to the one the row above
// holds in the same column (the organisation, the source, a role, an empty
// text, a NULL) is bound once: the statement names the earlier parameter by
// its number (?N on SQLite, $N on PostgreSQL). A directory batch then binds
// what varies from user to user, not the thirty-odd columns of each row: a
// bound value costs the driver a conversion and SQLite a copy.
type rowValues struct {
	pg   bool
	q    strings.Builder
	args []any
	prev []int // per column: the parameter number of the row above's value
	rows int
}

func newRowValues(d *dialect, cols, rows int) *rowValues {
	r := &rowValues{pg: d.pg(), args: make([]any, 0, cols*rows), prev: make([]int, cols)}
	r.q.Grow(rows * cols * 6)
	return r
}

// add appends one row; vals has one value per column.
func (r *rowValues) add(vals []any) {
	if r.rows > 0 {
		r.q.WriteString(", ")
	}
	r.q.WriteByte('(')
	for c, v := range vals {
		if c > 0 {
			r.q.WriteString(", ")
		}
		n := 0
		if r.rows > 0 && repeatable(v) && v == r.args[r.prev[c]-1] {
			n = r.prev[c]
		} else {
			r.args = append(r.args, v)
			n = len(r.args)
			r.prev[c] = n
		}
		if r.pg {
			r.q.WriteByte('$')
		} else {
			r.q.WriteByte('?')
		}
		r.q.WriteString(strconv.Itoa(n))
	}
	r.q.WriteByte(')')
	r.rows++
}

// sql is the VALUES list; args are its parameters in order.
func (r *rowValues) sql() string { return r.q.String() }

// repeatable tells whether v is of a type whose == is the database's
// equality: texts, numbers, booleans, NULLs. Anything else is bound each time.
func repeatable(v any) bool {
	switch x := v.(type) {
	case nil, string, bool, int, int64, core.Role, core.Status, core.InviteState, core.ActorKind:
		return true
	case *time.Time:
		return x == nil
	}
	return false
}
