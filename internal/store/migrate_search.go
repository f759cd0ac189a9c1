package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"

	"github.com/rosterhq/roster/core"
)

// Migration 00017 fills what migration 00016 could not compute in SQL: each
// user's display_name_key (core.FoldKey of the display name, or of the full
// name when there is none) and the search index user_search (the folded
// values of every searchable document attribute and custom field, from
// core.SearchKeys, the function every write uses). It is a Go migration, like
// 00010, and runs once, in its transaction, searchRebuildChunk users at a time.
const searchRebuildVersion = 17

const searchRebuildChunk = 1000

func searchRebuildMigration(driver string) *goose.Migration {
	bind := sqlx.QUESTION
	if driver == "postgres" {
		bind = sqlx.DOLLAR
	}
	m := goose.NewGoMigration(searchRebuildVersion,
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			_, err := rebuildSearch(ctx, tx, bind)
			return err
		}},
		// Down: 00016's down drops the index and the column.
		&goose.GoFunc{Mode: goose.TransactionEnabled})
	m.Source = "00017_search_index.go"
	return m
}

// rebuildSearch rewrites every user's display_name_key and search rows; it
// returns how many users it read.
func rebuildSearch(ctx context.Context, tx *sql.Tx, bind int) (int, error) {
	q := func(s string) string { return sqlx.Rebind(bind, s) }
	sel := q(`SELECT seq, org_id, email, phone, first_name, last_name, display_name, attributes, metadata FROM users WHERE seq > ? ORDER BY seq LIMIT ?`)
	upd := q(`UPDATE users SET display_name_key = ? WHERE seq = ?`)
	del := q(`DELETE FROM user_search WHERE user_seq = ?`)
	ins := q(`INSERT INTO user_search (user_seq, org_id, field, value_key) VALUES (?, ?, ?, ?)`)
	type row struct {
		seq                  int64
		org, email, phone    string
		first, last, display string
		attrs, meta          string
	}
	var after int64
	n := 0
	for {
		rs, err := tx.QueryContext(ctx, sel, after, searchRebuildChunk)
		if err != nil {
			return n, fmt.Errorf("rebuild search index: read users: %w", err)
		}
		var rows []row
		for rs.Next() {
			var r row
			if err := rs.Scan(&r.seq, &r.org, &r.email, &r.phone, &r.first, &r.last, &r.display, &r.attrs, &r.meta); err != nil {
				rs.Close()
				return n, fmt.Errorf("rebuild search index: read users: %w", err)
			}
			rows = append(rows, r)
		}
		if err := rs.Close(); err != nil {
			return n, fmt.Errorf("rebuild search index: read users: %w", err)
		}
		if len(rows) == 0 {
			return n, nil
		}
		for _, r := range rows {
			u := core.User{Email: r.email, Phone: r.phone, FirstName: r.first, LastName: r.last, DisplayName: r.display}
			if err := decodeJSONField(r.attrs, &u.Attributes); err != nil {
				return n, fmt.Errorf("rebuild search index: user %d attributes: %w", r.seq, err)
			}
			if err := decodeJSONField(r.meta, &u.Metadata); err != nil {
				return n, fmt.Errorf("rebuild search index: user %d metadata: %w", r.seq, err)
			}
			if _, err := tx.ExecContext(ctx, upd, displayKey(&u), r.seq); err != nil {
				return n, fmt.Errorf("rebuild search index: user %d: %w", r.seq, err)
			}
			if _, err := tx.ExecContext(ctx, del, r.seq); err != nil {
				return n, fmt.Errorf("rebuild search index: user %d: %w", r.seq, err)
			}
			for _, kv := range core.SearchKeys(&u) {
				if _, err := tx.ExecContext(ctx, ins, r.seq, r.org, kv[0], kv[1]); err != nil {
					return n, fmt.Errorf("rebuild search index: user %d %s: %w", r.seq, kv[0], err)
				}
			}
			n++
		}
		after = rows[len(rows)-1].seq
	}
}

// decodeJSONField reads a JSON column; "" and "{}" are empty.
func decodeJSONField(s string, dst any) error {
	if s == "" || s == "{}" {
		return nil
	}
	return json.Unmarshal([]byte(s), dst)
}

// displayKey is what displayName filters and sorts read: the folded display
// name, or of the full name when there is none.
func displayKey(u *core.User) string {
	if u.DisplayName != "" {
		return core.FoldKey(u.DisplayName)
	}
	return core.FoldKey(u.FullName())
}
