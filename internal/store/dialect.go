package store

import (
	"context"
	"fmt"
	"unicode/utf8"
)

// dialect holds the few places where SQLite and PostgreSQL need different
// SQL. Everything else is shared text with ? placeholders (rebound per driver).
type dialect struct {
	name string // "sqlite" or "postgres"
	// archivedSep starts the suffix that frees an archived user's names.
	// PostgreSQL text cannot hold NUL, so it uses U+001F (never in a folded
	// name: validation rejects control characters).
	archivedSep string
}

var (
	sqliteDialect   = &dialect{name: "sqlite", archivedSep: "\x00archived:"}
	postgresDialect = &dialect{name: "postgres", archivedSep: "\x1farchived:"}
)

func (d *dialect) pg() bool { return d.name == "postgres" }

// jsonText is the text of key (a fixed schema name, never input) of the JSON
// object in col, lower-cased; "" when absent.
func (d *dialect) jsonText(col, key string) string {
	if d.pg() {
		return "lower(COALESCE(" + col + "::jsonb ->> '" + key + "', ''))"
	}
	return "lower(COALESCE(json_extract(" + col + ", '$." + key + "'), ''))"
}

// contains is "haystack contains the bound needle".
func (d *dialect) contains(col string) string {
	if d.pg() {
		return "strpos(" + col + ", ?) > 0"
	}
	return "instr(" + col + ", ?) > 0"
}

// endsWith is "col ends with v" and its bound values.
func (d *dialect) endsWith(col, v string) (string, []any) {
	if d.pg() {
		return "right(" + col + ", ?) = ?", []any{utf8.RuneCountInString(v), v}
	}
	return "substr(" + col + ", -length(?)) = ?", []any{v, v}
}

// noIndex keeps the SQLite planner off an index for a column (unary +);
// PostgreSQL's planner does not need the hint.
func (d *dialect) noIndex(col string) string {
	if d.pg() {
		return col
	}
	return "+" + col
}

// forUpdateSkipLocked locks the selected rows for this transaction and
// skips rows another transaction holds (PostgreSQL). SQLite has one writer:
// the transaction already excludes every other claimer.
func (d *dialect) forUpdateSkipLocked() string {
	if d.pg() {
		return " FOR UPDATE SKIP LOCKED"
	}
	return ""
}

// forUpdate locks the selected rows until the transaction ends
// (PostgreSQL); SQLite has one writer, so its write transactions already
// exclude each other.
func (d *dialect) forUpdate() string {
	if d.pg() {
		return " FOR UPDATE"
	}
	return ""
}

// insertID runs an INSERT into a table with an "id" identity column and
// returns the new id (SQLite: last_insert_rowid; PostgreSQL: RETURNING).
func (t *tx) insertID(ctx context.Context, q string, args ...any) (int64, error) {
	if t.d.pg() {
		var id int64
		if err := t.tx.GetContext(ctx, &id, t.tx.Rebind(q+" RETURNING id"), args...); err != nil {
			return 0, mapErr(err)
		}
		return id, nil
	}
	res, err := t.exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.LastInsertId()
}

// execMayConflict runs a write that may violate a unique index, leaving the
// transaction usable when it does (callers handle the conflict and go on).
// SQLite rolls back only the failed statement; PostgreSQL aborts the whole
// transaction, so there the statement runs inside a savepoint.
func (t *tx) execMayConflict(ctx context.Context, q string, args ...any) (rowsAffected int64, err error) {
	if !t.d.pg() {
		res, err := t.exec(ctx, q, args...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	}
	if _, err := t.tx.ExecContext(ctx, "SAVEPOINT may_conflict"); err != nil {
		return 0, fmt.Errorf("savepoint: %w", err)
	}
	res, err := t.exec(ctx, q, args...)
	if err != nil {
		if _, rerr := t.tx.ExecContext(ctx, "ROLLBACK TO SAVEPOINT may_conflict"); rerr != nil {
			return 0, fmt.Errorf("%w (and rollback to savepoint: %v)", err, rerr)
		}
		return 0, err
	}
	if _, err := t.tx.ExecContext(ctx, "RELEASE SAVEPOINT may_conflict"); err != nil {
		return 0, fmt.Errorf("release savepoint: %w", err)
	}
	return res.RowsAffected()
}
