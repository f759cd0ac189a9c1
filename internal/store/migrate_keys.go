package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"

	"github.com/rosterhq/roster/core"
)

// Migration 00010 repairs the derived columns of stored users. It is a Go
// migration (registered with the provider, no file in migrations/): the keys
// are core.FoldKey's, which SQL cannot compute. Two writers left wrong keys:
//
//   - the LDAP sync's batch insert (InsertUsers) wrote no first_name_key and
//     no search_key, so directory users were neither found by name or phone
//     nor sorted by first name until a later sync updated them;
//   - migration 00005 filled first_name_key and search_key of the rows it
//     found with SQL lower(), which is not FoldKey (FoldKey maps letters to
//     the smallest rune of their case orbit, upper case for ASCII; SQLite's
//     lower() folds ASCII only; the phone was not folded).
//
// So it does not only fill empty keys: it recomputes, with deriveKeys (the
// function every write uses), first_name_key, last_name_key, search_key and
// role_rank of every row, and writes the rows where one differs; and it
// rewrites a user's user_metadata rows (the folded values searched by
// field:value) where they do not match the user's metadata (00005 created
// that table without filling it). username_key and email_key are left as
// stored: every writer always set them, they are unique (recomputing could
// make two rows clash and stop the upgrade), and an archived user's carry
// the suffix that freed them (ReleaseArchivedUser).
//
// Rows are read in seq order, keysRepairChunk at a time, inside the
// migration's one transaction; goose records version 10 when it commits, so
// it runs once (PostgreSQL replicas take turns under goose's advisory lock).
const keysRepairVersion = 10

const keysRepairChunk = 1000

// keysRepairMigration returns a fresh migration: a goose provider sets
// fields of the migrations it is given, and each call of provider() builds
// its own provider.
func keysRepairMigration(driver string) *goose.Migration {
	bind := sqlx.QUESTION
	if driver == "postgres" {
		bind = sqlx.DOLLAR
	}
	m := goose.NewGoMigration(keysRepairVersion,
		&goose.GoFunc{RunTx: func(ctx context.Context, tx *sql.Tx) error {
			_, err := repairUserKeys(ctx, tx, bind)
			return err
		}},
		// Down: the repaired values are what every write stores; nothing to undo.
		&goose.GoFunc{Mode: goose.TransactionEnabled})
	m.Source = "00010_user_keys.go"
	return m
}

// keysRepair counts what repairUserKeys changed.
type keysRepair struct {
	Users    int // rows whose derived columns were rewritten
	Metadata int // users whose user_metadata rows were rewritten
}

type storedKeys struct {
	seq                                 int64
	username, email, first, last, phone string
	role, metadata                      string
	firstKey, lastKey, searchKey        string
	roleRank                            int
}

// repairUserKeys recomputes the derived columns of every users row (see
// above) and rewrites those that differ.
func repairUserKeys(ctx context.Context, tx *sql.Tx, bind int) (keysRepair, error) {
	var out keysRepair
	q := func(s string) string { return sqlx.Rebind(bind, s) }
	selUsers := q(`SELECT seq, username, email, first_name, last_name, phone, role, metadata,
		first_name_key, last_name_key, search_key, role_rank FROM users WHERE seq > ? ORDER BY seq LIMIT ?`)
	selMeta := q(`SELECT user_seq, field, value_key FROM user_metadata WHERE user_seq >= ? AND user_seq <= ?`)
	updUser := q(`UPDATE users SET first_name_key = ?, last_name_key = ?, search_key = ?, role_rank = ? WHERE seq = ?`)
	delMeta := q(`DELETE FROM user_metadata WHERE user_seq = ?`)
	insMeta := q(`INSERT INTO user_metadata (user_seq, org_id, field, value_key) SELECT seq, org_id, CAST(? AS TEXT), CAST(? AS TEXT) FROM users WHERE seq = ?`)
	var after int64
	rows := make([]storedKeys, 0, keysRepairChunk)
	for {
		rows = rows[:0]
		rs, err := tx.QueryContext(ctx, selUsers, after, keysRepairChunk)
		if err != nil {
			return out, fmt.Errorf("repair user keys: read users: %w", err)
		}
		for rs.Next() {
			var r storedKeys
			if err := rs.Scan(&r.seq, &r.username, &r.email, &r.first, &r.last, &r.phone, &r.role, &r.metadata,
				&r.firstKey, &r.lastKey, &r.searchKey, &r.roleRank); err != nil {
				rs.Close()
				return out, fmt.Errorf("repair user keys: read users: %w", err)
			}
			rows = append(rows, r)
		}
		if err := rs.Close(); err != nil {
			return out, fmt.Errorf("repair user keys: read users: %w", err)
		}
		if err := rs.Err(); err != nil {
			return out, fmt.Errorf("repair user keys: read users: %w", err)
		}
		if len(rows) == 0 {
			return out, nil
		}
		// The chunk's stored metadata values, one query.
		stored := map[int64]map[string]string{}
		ms, err := tx.QueryContext(ctx, selMeta, rows[0].seq, rows[len(rows)-1].seq)
		if err != nil {
			return out, fmt.Errorf("repair user keys: read metadata: %w", err)
		}
		for ms.Next() {
			var seq int64
			var field, key string
			if err := ms.Scan(&seq, &field, &key); err != nil {
				ms.Close()
				return out, fmt.Errorf("repair user keys: read metadata: %w", err)
			}
			if stored[seq] == nil {
				stored[seq] = map[string]string{}
			}
			stored[seq][field] = key
		}
		if err := ms.Close(); err != nil {
			return out, fmt.Errorf("repair user keys: read metadata: %w", err)
		}
		for i := range rows {
			r := &rows[i]
			u := core.User{Username: r.username, Email: r.email, FirstName: r.first, LastName: r.last, Phone: r.phone, Role: core.Role(r.role)}
			k := deriveKeys(&u)
			if k.FirstNameKey != r.firstKey || k.LastNameKey != r.lastKey || k.SearchKey != r.searchKey || k.RoleRank != r.roleRank {
				if _, err := tx.ExecContext(ctx, updUser, k.FirstNameKey, k.LastNameKey, k.SearchKey, k.RoleRank, r.seq); err != nil {
					return out, fmt.Errorf("repair user keys: user %d: %w", r.seq, err)
				}
				out.Users++
			}
			var meta map[string]string
			if r.metadata != "" && r.metadata != "{}" {
				if err := json.Unmarshal([]byte(r.metadata), &meta); err != nil {
					return out, fmt.Errorf("repair user keys: user %d: decode metadata: %w", r.seq, err)
				}
			}
			want := metadataKeys(meta)
			if maps.Equal(want, stored[r.seq]) {
				continue
			}
			if _, err := tx.ExecContext(ctx, delMeta, r.seq); err != nil {
				return out, fmt.Errorf("repair user keys: user %d metadata: %w", r.seq, err)
			}
			for _, field := range slices.Sorted(maps.Keys(want)) {
				if _, err := tx.ExecContext(ctx, insMeta, field, want[field], r.seq); err != nil {
					return out, fmt.Errorf("repair user keys: user %d metadata %s: %w", r.seq, field, err)
				}
			}
			out.Metadata++
		}
		after = rows[len(rows)-1].seq
	}
}

// metadataKeys are the user_metadata rows of a user's metadata: its
// non-empty values, folded (as writeMetadata stores them).
func metadataKeys(m map[string]string) map[string]string {
	out := map[string]string{}
	for field, value := range m {
		if value != "" {
			out[field] = core.FoldKey(value)
		}
	}
	return out
}
