package store

import (
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/core"
)

// rowValues builds the VALUES rows of a multi-row INSERT, every row with the
// same columns, all values bound. A column holding one value in every row
// of the statement (the organisation, the source, a role, an empty text, a
// NULL) binds it once, and each row names that parameter by its number (?N
// on SQLite, $N on PostgreSQL): a directory batch then binds what varies
// from user to user, not the thirty-odd columns of each row (a bound value
// costs the driver a conversion and SQLite a copy). Which columns are shared
// is decided for the whole statement, so that the batches of one sync give
// the same statement text, which the driver prepares once.
type rowValues struct {
	pg    bool
	cols  int
	cells []any // row after row
}

func newRowValues(d *dialect, cols, rows int) *rowValues {
	return &rowValues{pg: d.pg(), cols: cols, cells: make([]any, 0, cols*rows)}
}

// add appends one row; vals has one value per column.
func (r *rowValues) add(vals []any) { r.cells = append(r.cells, vals...) }

// build is the VALUES list and its parameters in order.
func (r *rowValues) build() (string, []any) {
	rows := len(r.cells) / r.cols
	shared := make([]int, r.cols) // the parameter number of a shared column, or 0
	args := make([]any, 0, len(r.cells))
	for c := range r.cols {
		v := r.cells[c]
		if rows < 2 || !repeatable(v) {
			continue
		}
		same := true
		for i := 1; i < rows && same; i++ {
			same = r.cells[i*r.cols+c] == v
		}
		if same {
			args = append(args, v)
			shared[c] = len(args)
		}
	}
	var q strings.Builder
	q.Grow(len(r.cells) * 6)
	mark := byte('?')
	if r.pg {
		mark = '$'
	}
	for i := range rows {
		if i > 0 {
			q.WriteString(", ")
		}
		q.WriteByte('(')
		for c := range r.cols {
			if c > 0 {
				q.WriteString(", ")
			}
			n := shared[c]
			if n == 0 {
				args = append(args, r.cells[i*r.cols+c])
				n = len(args)
			}
			q.WriteByte(mark)
			q.WriteString(strconv.Itoa(n))
		}
		q.WriteByte(')')
	}
	return q.String(), args
}

// repeatable tells whether v is of a type whose == is the database's
// equality: texts, numbers, booleans, NULLs. Anything else is bound in
// every row.
func repeatable(v any) bool {
	switch x := v.(type) {
	case nil, string, bool, int, int64, core.Role, core.Status, core.InviteState, core.ActorKind:
		return true
	case *time.Time:
		return x == nil
	}
	return false
}
