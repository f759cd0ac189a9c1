package store

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/pressly/goose/v3"

	"github.com/rosterhq/roster/core"
)

// nfkcVersion is the migration that recomputes the folded keys of users
// and groups after core.FoldKey moved from NFC to NFKC (so that
// "ｍｅｍｂｅｒ" and "member" are one username). It is Go, not SQL, because
// neither database computes NFKC. Only rows whose key changes are written
// (keys of ASCII text are unchanged). A row whose new username, email or
// group-name key would collide with another row's keeps its old key: it is
// still found by its exact (NFC) spelling, and the warning names it for the
// operator to rename.
const nfkcVersion = 12

func (s *Store) nfkcMigration() *goose.Migration {
	return goose.NewGoMigration(nfkcVersion, &goose.GoFunc{RunTx: s.rekeyNFKC}, &goose.GoFunc{RunTx: func(context.Context, *sql.Tx) error { return nil }})
}

// nameKey is the new key of a username or email whose key was old: an
// archived user's released name keeps its suffix (ReleaseArchivedUser).
func (s *Store) nameKey(name, old, id string) string {
	if old == "" {
		return ""
	}
	suffix := s.d.archivedSep + id
	if strings.HasSuffix(old, suffix) {
		return core.FoldKey(name) + suffix
	}
	return core.FoldKey(name)
}

func (s *Store) rekeyNFKC(ctx context.Context, tx *sql.Tx) error {
	bind := sqlx.QUESTION
	if s.driver == "postgres" {
		bind = sqlx.DOLLAR
	}
	q := func(query string) string { return sqlx.Rebind(bind, query) }
	type row struct {
		id, org, username, usernameKey, email, emailKey, first, firstKey, last, lastKey, phone, searchKey string
	}
	rs, err := tx.QueryContext(ctx, `SELECT id, org_id, username, username_key, email, email_key, first_name, first_name_key,
		last_name, last_name_key, phone, search_key FROM users ORDER BY seq`)
	if err != nil {
		return fmt.Errorf("nfkc rekey: %w", err)
	}
	var stale []row
	for rs.Next() {
		var r row
		if err := rs.Scan(&r.id, &r.org, &r.username, &r.usernameKey, &r.email, &r.emailKey, &r.first, &r.firstKey, &r.last, &r.lastKey, &r.phone, &r.searchKey); err != nil {
			rs.Close()
			return fmt.Errorf("nfkc rekey: %w", err)
		}
		k := deriveKeys(&core.User{FirstName: r.first, LastName: r.last, Phone: r.phone})
		if s.nameKey(r.username, r.usernameKey, r.id) != r.usernameKey || s.nameKey(r.email, r.emailKey, r.id) != r.emailKey || k.FirstNameKey != r.firstKey ||
			k.LastNameKey != r.lastKey || k.SearchKey != r.searchKey {
			stale = append(stale, r)
		}
	}
	rs.Close()
	if err := rs.Err(); err != nil {
		return fmt.Errorf("nfkc rekey: %w", err)
	}
	taken := func(table, col, org, key, id string) (bool, error) {
		var n int
		err := tx.QueryRowContext(ctx, q(`SELECT COUNT(*) FROM `+table+` WHERE org_id = ? AND `+col+` = ? AND id <> ?`), org, key, id).Scan(&n)
		return n > 0, err
	}
	for _, r := range stale {
		uk, ek := s.nameKey(r.username, r.usernameKey, r.id), s.nameKey(r.email, r.emailKey, r.id)
		if uk != r.usernameKey {
			if t, err := taken("users", "username_key", r.org, uk, r.id); err != nil {
				return fmt.Errorf("nfkc rekey: %w", err)
			} else if t {
				s.log.Warn("migration 12: a username collides with another once NFKC-normalised; it keeps its old key, rename one of them", "user_id", r.id)
				uk = r.usernameKey
			}
		}
		if ek != r.emailKey {
			if t, err := taken("users", "email_key", r.org, ek, r.id); err != nil {
				return fmt.Errorf("nfkc rekey: %w", err)
			} else if t {
				s.log.Warn("migration 12: an email collides with another once NFKC-normalised; it keeps its old key", "user_id", r.id)
				ek = r.emailKey
			}
		}
		k := deriveKeys(&core.User{FirstName: r.first, LastName: r.last, Phone: r.phone})
		if _, err := tx.ExecContext(ctx, q(`UPDATE users SET username_key = ?, email_key = ?, first_name_key = ?, last_name_key = ?, search_key = ? WHERE id = ?`),
			uk, ek, k.FirstNameKey, k.LastNameKey, k.SearchKey, r.id); err != nil {
			return fmt.Errorf("nfkc rekey user %s: %w", r.id, err)
		}
	}
	gs, err := tx.QueryContext(ctx, `SELECT id, org_id, name, name_key FROM groups`)
	if err != nil {
		return fmt.Errorf("nfkc rekey: %w", err)
	}
	type group struct{ id, org, name, key string }
	var staleGroups []group
	for gs.Next() {
		var g group
		if err := gs.Scan(&g.id, &g.org, &g.name, &g.key); err != nil {
			gs.Close()
			return fmt.Errorf("nfkc rekey: %w", err)
		}
		if core.FoldKey(g.name) != g.key {
			staleGroups = append(staleGroups, g)
		}
	}
	gs.Close()
	if err := gs.Err(); err != nil {
		return fmt.Errorf("nfkc rekey: %w", err)
	}
	for _, g := range staleGroups {
		k := core.FoldKey(g.name)
		if t, err := taken("groups", "name_key", g.org, k, g.id); err != nil {
			return fmt.Errorf("nfkc rekey: %w", err)
		} else if t {
			s.log.Warn("migration 12: a group name collides with another once NFKC-normalised; it keeps its old key", "group_id", g.id)
			continue
		}
		if _, err := tx.ExecContext(ctx, q(`UPDATE groups SET name_key = ? WHERE id = ?`), k, g.id); err != nil {
			return fmt.Errorf("nfkc rekey group %s: %w", g.id, err)
		}
	}
	if len(stale)+len(staleGroups) > 0 {
		s.log.Info("migration 12: folded keys recomputed with NFKC", "users", len(stale), "groups", len(staleGroups))
	}
	return nil
}
