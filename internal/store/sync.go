package store

import (
	"context"
	"fmt"

	"github.com/rosterhq/roster/core"
)

// ---- directory sync (core.DirectoryRepo) ----

// syncRow is one stored user as read for a reconcile; only its compact
// form (core.SyncedUser) is kept.
type syncRow struct {
	Seq        int64  `db:"seq"`
	ID         string `db:"id"`
	ExternalID string `db:"external_id"`
	Username   string `db:"username"`
	Email      string `db:"email"`
	FirstName  string `db:"first_name"`
	LastName   string `db:"last_name"`
	Phone      string `db:"phone"`
	Role       string `db:"role"`
	Status     string `db:"status"`
	Removed    bool   `db:"removed"`
	// Read only when the source owns attributes beyond the five (syncOwnedCols).
	DisplayName    string `db:"display_name"`
	Language       string `db:"language"`
	ManagerExt     string `db:"manager_ext"`
	AttributesJSON string `db:"attributes"`
	MetadataJSON   string `db:"metadata"`
}

func (r *syncRow) compact(owned []string) (core.SyncedUser, error) {
	u := core.User{ID: r.ID, ExternalID: r.ExternalID, Username: r.Username, Email: r.Email, FirstName: r.FirstName,
		LastName: r.LastName, Phone: r.Phone, Role: internRole(r.Role), Status: internStatus(r.Status)}
	if len(owned) == 0 {
		return core.Synced(&u, r.Removed), nil
	}
	u.DisplayName, u.Language = r.DisplayName, r.Language
	if r.AttributesJSON != "" && r.AttributesJSON != "{}" {
		if err := decodeJSONField(r.AttributesJSON, &u.Attributes); err != nil {
			return core.SyncedUser{}, fmt.Errorf("user %s: decode attributes: %w", u.ID, err)
		}
	}
	if r.MetadataJSON != "" && r.MetadataJSON != "{}" {
		if err := decodeJSONField(r.MetadataJSON, &u.Metadata); err != nil {
			return core.SyncedUser{}, fmt.Errorf("user %s: decode metadata: %w", u.ID, err)
		}
	}
	return core.SyncedOwned(&u, r.Removed, r.ManagerExt, owned), nil
}

// internRole and internStatus share the constants' strings instead of
// keeping one copy per row.
func internRole(s string) core.Role {
	for _, r := range core.Roles {
		if string(r) == s {
			return r
		}
	}
	return core.Role(s)
}

func internStatus(s string) core.Status {
	for _, st := range core.Statuses {
		if string(st) == s {
			return st
		}
	}
	return core.Status(s)
}

const syncUserCols = `u.seq, u.id, u.external_id, u.username, u.email, u.first_name, u.last_name, u.phone,
	u.role, u.status, (r.user_id IS NOT NULL) AS removed`

// syncOwnedCols are read besides syncUserCols for a source that owns more
// attributes; the manager is named by its external id in the source.
const syncOwnedCols = `, u.display_name, u.language, COALESCE(m.external_id, '') AS manager_ext, u.attributes, u.metadata`

const syncOwnedJoin = ` LEFT JOIN users m ON m.id = u.manager_id AND m.org_id = u.org_id AND m.source = u.source`

// syncChunk bounds the rows read (and the ids bound) per query.
const syncChunk = 500

// syncUsersQuery reads a source's users, followed by syncUsersPage (the
// whole source, by seq: users_org_source_seq) or syncUsersByIDs (those
// external ids: users_org_external, whose <> ” it repeats).
func syncUsersQuery(owned bool) string {
	cols, join := syncUserCols, ""
	if owned {
		cols, join = syncUserCols+syncOwnedCols, syncOwnedJoin
	}
	return `SELECT ` + cols + ` FROM users u LEFT JOIN ldap_removed r ON r.user_id = u.id` + join + `
		WHERE u.org_id = ? AND u.source = ?`
}

const syncUsersPage = ` AND u.seq > ? ORDER BY u.seq LIMIT ?`

func syncUsersByIDs(n int) string {
	return ` AND u.external_id IN (` + placeholders(n) + `) AND u.external_id <> ''`
}

// SyncUsers reads in chunks and keeps only the compact form of each user:
// a sync holds one per user of the source, so this is its memory floor.
func (t *tx) SyncUsers(ctx context.Context, orgID, source string, externalIDs []string, owned []string) ([]core.SyncedUser, error) {
	base := syncUsersQuery(len(owned) > 0)
	var rows []syncRow
	if externalIDs == nil {
		out := []core.SyncedUser{}
		var after int64
		for {
			rows = rows[:0]
			if err := t.sel(ctx, &rows, base+syncUsersPage, orgID, source, after, 10*syncChunk); err != nil {
				return nil, fmt.Errorf("sync users of %s: %w", source, err)
			}
			for i := range rows {
				c, err := rows[i].compact(owned)
				if err != nil {
					return nil, err
				}
				out = append(out, c)
			}
			if len(rows) < 10*syncChunk {
				return out, nil
			}
			after = rows[len(rows)-1].Seq
		}
	}
	out := make([]core.SyncedUser, 0, len(externalIDs))
	for start := 0; start < len(externalIDs); start += syncChunk {
		ids := externalIDs[start:min(start+syncChunk, len(externalIDs))]
		args := make([]any, 0, len(ids)+2)
		args = append(args, orgID, source)
		for _, id := range ids {
			args = append(args, id)
		}
		rows = rows[:0]
		if err := t.sel(ctx, &rows, base+syncUsersByIDs(len(ids)), args...); err != nil {
			return nil, fmt.Errorf("sync users of %s: %w", source, err)
		}
		for i := range rows {
			c, err := rows[i].compact(owned)
			if err != nil {
				return nil, err
			}
			out = append(out, c)
		}
	}
	return out, nil
}

func (t *tx) CountSyncUsers(ctx context.Context, orgID, source string) (int, error) {
	var n int
	err := t.get(ctx, &n, "users", source, `SELECT COUNT(*) FROM users WHERE org_id = ? AND source = ? AND status NOT IN ('disabled', 'archived')`, orgID, source)
	return n, err
}

func (t *tx) SetSyncRemoved(ctx context.Context, userID, source string, removed bool) error {
	var err error
	if removed {
		_, err = t.exec(ctx, `INSERT INTO ldap_removed (user_id, source) VALUES (?, ?)
			ON CONFLICT (user_id) DO UPDATE SET source = excluded.source`, userID, source)
	} else {
		_, err = t.exec(ctx, `DELETE FROM ldap_removed WHERE user_id = ?`, userID)
	}
	return err
}

// batchRows bounds the rows of one multi-row statement (SQLite binds at most 32766 values).
const batchRows = 200

// InsertUsers writes the same columns as InsertUser (userInsertCols and
// userInsertValues), many rows per statement.
func (t *tx) InsertUsers(ctx context.Context, us []*core.User) error {
	cols := len(userWriteCols) + 3
	row := make([]any, 0, cols)
	for start := 0; start < len(us); start += batchRows {
		part := us[start:min(start+batchRows, len(us))]
		rv := newRowValues(t.d, cols, len(part))
		for _, u := range part {
			var err error
			if row, err = userInsertValues(row[:0], u); err != nil {
				return err
			}
			rv.add(row)
		}
		values, args := rv.build()
		if _, err := t.execMayConflict(ctx, `INSERT INTO users (`+userInsertCols+`) VALUES `+values, args...); err != nil {
			return fmt.Errorf("insert %d users: %w", len(part), err)
		}
		if err := t.insertSearchRows(ctx, part); err != nil {
			return err
		}
	}
	return nil
}

func (t *tx) SourceGroups(ctx context.Context, orgID, source string) ([]core.Group, error) {
	out := []core.Group{}
	err := t.sel(ctx, &out, `SELECT `+groupCols+` FROM groups WHERE org_id = ? AND source = ? ORDER BY name_key`, orgID, source)
	return out, err
}

func (t *tx) SyncState(ctx context.Context, source string) (*core.SyncState, error) {
	var st core.SyncState
	if err := t.get(ctx, &st, "sync state", source, `SELECT source, org_id, watermark, last_full_at, last_run_at, fingerprint
		FROM ldap_sync_state WHERE source = ?`, source); err != nil {
		return nil, err
	}
	return &st, nil
}

func (t *tx) SaveSyncState(ctx context.Context, st *core.SyncState) error {
	_, err := t.exec(ctx, `INSERT INTO ldap_sync_state (source, org_id, watermark, last_full_at, last_run_at, fingerprint)
		VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (source) DO UPDATE SET org_id = excluded.org_id, watermark = excluded.watermark,
			last_full_at = excluded.last_full_at, last_run_at = excluded.last_run_at, fingerprint = excluded.fingerprint`,
		st.Source, st.OrgID, st.Watermark, st.LastFullAt, st.LastRunAt, st.Fingerprint)
	return err
}

const runCols = `id, source, org_id, mode, reason, dry_run, started_at, finished_at, status, entries_read, created, updated,
	disabled, archived, enabled, unchanged, linked, conflicts, errors, memberships, message`

func (t *tx) InsertSyncRun(ctx context.Context, r *core.SyncRun) error {
	id, err := t.insertID(ctx, `INSERT INTO ldap_sync_runs (source, org_id, mode, reason, dry_run, started_at, status)
		VALUES (?, ?, ?, ?, ?, ?, ?)`, r.Source, r.OrgID, r.Mode, r.Reason, r.DryRun, r.StartedAt, r.Status)
	if err != nil {
		return fmt.Errorf("insert sync run: %w", err)
	}
	r.ID = id
	return nil
}

func (t *tx) UpdateSyncRun(ctx context.Context, r *core.SyncRun) error {
	_, err := t.exec(ctx, `UPDATE ldap_sync_runs SET mode = ?, reason = ?, finished_at = ?, status = ?, entries_read = ?,
		created = ?, updated = ?, disabled = ?, archived = ?, enabled = ?, unchanged = ?, linked = ?,
		conflicts = ?, errors = ?, memberships = ?, message = ? WHERE id = ?`,
		r.Mode, r.Reason, r.FinishedAt, r.Status, r.EntriesRead, r.Created, r.Updated, r.Disabled, r.Archived, r.Enabled,
		r.Unchanged, r.Linked, r.Conflicts, r.Errors, r.Memberships, r.Message, r.ID)
	return err
}

func (t *tx) ListSyncRuns(ctx context.Context, source string, limit int) ([]core.SyncRun, error) {
	if limit <= 0 {
		limit = 50
	}
	out := []core.SyncRun{}
	q := `SELECT ` + runCols + ` FROM ldap_sync_runs`
	args := []any{}
	if source != "" {
		q += ` WHERE source = ?`
		args = append(args, source)
	}
	q += ` ORDER BY id DESC LIMIT ?`
	args = append(args, limit)
	err := t.sel(ctx, &out, q, args...)
	return out, err
}
