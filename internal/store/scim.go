package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rosterhq/roster/core"
)

// chunk is how many values one IN (…) list or multi-row insert binds
// (SQLite allows 32766 parameters; keep statements small).
const chunk = 400

// userColsU is userCols with the "u." table prefix.
var userColsU = func() string {
	parts := strings.Split(userCols, ",")
	for i, p := range parts {
		parts[i] = "u." + strings.TrimSpace(p)
	}
	return strings.Join(parts, ", ")
}()

func (t *tx) FilterUsers(ctx context.Context, q core.DirectoryQuery) ([]core.User, int, error) {
	dus, total, err := t.searchUsers(ctx, q, false)
	if err != nil {
		return nil, 0, err
	}
	out := make([]core.User, len(dus))
	for i := range dus {
		out[i] = dus[i].User
	}
	return out, total, nil
}

func (t *tx) SearchDirectoryUsers(ctx context.Context, q core.DirectoryQuery) ([]core.DirectoryUser, int, error) {
	return t.searchUsers(ctx, q, true)
}

func (t *tx) searchUsers(ctx context.Context, q core.DirectoryQuery, withProfile bool) ([]core.DirectoryUser, int, error) {
	where := []string{"u.org_id = ?"}
	args := []any{q.OrgID}
	if q.Source != "" {
		where = append(where, "u.source = ?")
		args = append(args, q.Source)
	}
	if q.ExcludeArchived {
		where = append(where, "u.status <> 'archived'")
	}
	if q.Filter != nil {
		s, a, err := filterSQL(t.d, q.OrgID, q.Filter, userFilterCols)
		if err != nil {
			return nil, 0, err
		}
		where = append(where, "("+s+")")
		args = append(args, a...)
	}
	order, err := sortSQL(t.d, q.SortBy, userFilterCols)
	if err != nil {
		return nil, 0, err
	}
	from := ` FROM users u WHERE ` + strings.Join(where, " AND ")
	selFrom := from
	cols := userColsU
	var out []core.DirectoryUser
	if q.Limit > 0 {
		dir := ""
		if q.Descending {
			dir = " DESC"
		}
		orderBy := " ORDER BY u.seq" + dir
		if order != "" {
			orderBy = " ORDER BY " + order + dir + ", u.seq"
		}
		var rows []userRow
		sargs := append(append([]any{}, args...), q.Limit, q.Offset)
		if err := t.sel(ctx, &rows, `SELECT `+cols+selFrom+orderBy+` LIMIT ? OFFSET ?`, sargs...); err != nil {
			return nil, 0, fmt.Errorf("search users: %w", err)
		}
		out = make([]core.DirectoryUser, 0, len(rows))
		for i := range rows {
			u, err := rows[i].user()
			if err != nil {
				return nil, 0, err
			}
			out = append(out, core.DirectoryUser{User: *u})
		}
		// A short page that is not past the end tells the total without counting.
		if len(rows) < q.Limit && (len(rows) > 0 || q.Offset == 0) {
			return out, q.Offset + len(rows), nil
		}
	}
	var total int
	if err := t.get(ctx, &total, "count", "", `SELECT COUNT(*)`+from, args...); err != nil {
		return nil, 0, fmt.Errorf("count users: %w", err)
	}
	return out, total, nil
}

func (t *tx) UsersByIDs(ctx context.Context, orgID string, ids []string) ([]core.User, error) {
	var out []core.User
	err := inChunks(ids, func(part []string) error {
		var rows []userRow
		args := append([]any{orgID}, anys(part)...)
		if err := t.sel(ctx, &rows, `SELECT `+userCols+` FROM users WHERE `+t.d.noIndex("org_id")+` = ? AND id IN (`+placeholders(len(part))+`) ORDER BY seq`, args...); err != nil {
			return fmt.Errorf("users by id: %w", err)
		}
		for i := range rows {
			u, err := rows[i].user()
			if err != nil {
				return err
			}
			out = append(out, *u)
		}
		return nil
	})
	return out, err
}

func (t *tx) SearchGroups(ctx context.Context, q core.GroupSearch) ([]core.Group, int, error) {
	where := []string{"g.org_id = ?"}
	args := []any{q.OrgID}
	if q.Source != "" {
		where = append(where, "g.source = ?")
		args = append(args, q.Source)
	}
	if q.Filter != nil {
		s, a, err := filterSQL(t.d, q.OrgID, q.Filter, groupFilterCols)
		if err != nil {
			return nil, 0, err
		}
		where = append(where, "("+s+")")
		args = append(args, a...)
	}
	order, err := sortSQL(t.d, q.SortBy, groupFilterCols)
	if err != nil {
		return nil, 0, err
	}
	from := ` FROM groups g WHERE ` + strings.Join(where, " AND ")
	out := []core.Group{}
	if q.Limit > 0 {
		dir := ""
		if q.Descending {
			dir = " DESC"
		}
		orderBy := " ORDER BY g.created_at" + dir + ", g.id"
		if order != "" {
			orderBy = " ORDER BY " + order + dir + ", g.id"
		}
		sargs := append(append([]any{}, args...), q.Limit, q.Offset)
		if err := t.sel(ctx, &out, `SELECT g.id, g.org_id, g.name, g.source, g.external_id, g.created_at, g.updated_at`+from+orderBy+` LIMIT ? OFFSET ?`, sargs...); err != nil {
			return nil, 0, fmt.Errorf("search groups: %w", err)
		}
		if len(out) < q.Limit && (len(out) > 0 || q.Offset == 0) {
			return out, q.Offset + len(out), nil
		}
	}
	var total int
	if err := t.get(ctx, &total, "count", "", `SELECT COUNT(*)`+from, args...); err != nil {
		return nil, 0, fmt.Errorf("count groups: %w", err)
	}
	return out, total, nil
}

// inChunks calls fn with slices of at most chunk ids.
func inChunks(ids []string, fn func(part []string) error) error {
	for len(ids) > 0 {
		n := min(len(ids), chunk)
		if err := fn(ids[:n]); err != nil {
			return err
		}
		ids = ids[n:]
	}
	return nil
}

func anys(ids []string) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

func (t *tx) ReleaseArchivedUser(ctx context.Context, orgID, id string) error {
	suffix := t.d.archivedSep + id
	res, err := t.exec(ctx, `UPDATE users SET username_key = username_key || ?,
		email_key = CASE WHEN email_key <> '' THEN email_key || ? ELSE '' END, external_id = ''
		WHERE org_id = ? AND id = ? AND status = 'archived'`, suffix, suffix, orgID, id)
	if err != nil {
		return fmt.Errorf("release archived user %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &core.NotFoundError{Kind: "archived user", Key: id}
	}
	return nil
}

func (t *tx) MembershipsOf(ctx context.Context, userIDs []string) ([]core.GroupMembership, error) {
	var out []core.GroupMembership
	err := inChunks(userIDs, func(part []string) error {
		var rows []core.GroupMembership
		if err := t.sel(ctx, &rows, `SELECT m.user_id, g.id, g.name, g.external_id FROM group_members m
			JOIN groups g ON g.id = m.group_id WHERE m.user_id IN (`+placeholders(len(part))+`) ORDER BY g.name_key`, anys(part)...); err != nil {
			return fmt.Errorf("memberships: %w", err)
		}
		out = append(out, rows...)
		return nil
	})
	return out, err
}

func (t *tx) ExistingUserIDs(ctx context.Context, orgID, source string, ids []string) ([]string, error) {
	var out []string
	err := inChunks(ids, func(part []string) error {
		var rows []string
		args := append([]any{orgID, source}, anys(part)...)
		// The unary + keeps the planner on the id index (one look-up per id)
		// instead of scanning every user of the source.
		if err := t.sel(ctx, &rows, `SELECT id FROM users WHERE `+t.d.noIndex("org_id")+` = ? AND `+t.d.noIndex("source")+` = ? AND status <> 'archived'
			AND id IN (`+placeholders(len(part))+`)`, args...); err != nil {
			return fmt.Errorf("existing users: %w", err)
		}
		out = append(out, rows...)
		return nil
	})
	return out, err
}

func (t *tx) AddGroupMembers(ctx context.Context, groupID string, userIDs []string) ([]string, error) {
	var out []string
	err := inChunks(userIDs, func(part []string) error {
		values := strings.TrimSuffix(strings.Repeat("(?, ?), ", len(part)), ", ")
		args := make([]any, 0, 2*len(part))
		for _, id := range part {
			args = append(args, groupID, id)
		}
		var rows []string
		if err := t.sel(ctx, &rows, `INSERT INTO group_members (group_id, user_id) VALUES `+values+`
			ON CONFLICT DO NOTHING RETURNING user_id`, args...); err != nil {
			return fmt.Errorf("add group members: %w", err)
		}
		out = append(out, rows...)
		return nil
	})
	return out, err
}

// InsertGroupMembers is AddGroupMembers without RETURNING, for many groups
// at once: a sync adding 200,000 memberships does not read 200,000 ids back.
func (t *tx) InsertGroupMembers(ctx context.Context, ms []core.Membership) error {
	row := make([]any, 2)
	for len(ms) > 0 {
		part := ms[:min(len(ms), chunk)]
		ms = ms[len(part):]
		rv := newRowValues(t.d, 2, len(part))
		for _, m := range part {
			row[0], row[1] = m.GroupID, m.UserID
			rv.add(row)
		}
		values, args := rv.build()
		if _, err := t.exec(ctx, `INSERT INTO group_members (group_id, user_id) VALUES `+values+`
			ON CONFLICT DO NOTHING`, args...); err != nil {
			return fmt.Errorf("add group members: %w", err)
		}
	}
	return nil
}

func (t *tx) RemoveGroupMembers(ctx context.Context, groupID string, userIDs []string) ([]string, error) {
	var out []string
	err := inChunks(userIDs, func(part []string) error {
		var rows []string
		args := append([]any{groupID}, anys(part)...)
		if err := t.sel(ctx, &rows, `DELETE FROM group_members WHERE group_id = ? AND user_id IN (`+placeholders(len(part))+`)
			RETURNING user_id`, args...); err != nil {
			return fmt.Errorf("remove group members: %w", err)
		}
		out = append(out, rows...)
		return nil
	})
	return out, err
}

func (t *tx) GroupMemberRefs(ctx context.Context, groupID string) ([]core.MemberRef, error) {
	out := []core.MemberRef{}
	err := t.sel(ctx, &out, `SELECT u.id, u.username FROM group_members m JOIN users u ON u.id = m.user_id
		WHERE m.group_id = ? AND u.status <> 'archived' ORDER BY u.seq`, groupID)
	return out, err
}

func (t *tx) TouchGroup(ctx context.Context, orgID, id string, at time.Time) error {
	res, err := t.exec(ctx, `UPDATE groups SET updated_at = ? WHERE org_id = ? AND id = ?`, at, orgID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &core.NotFoundError{Kind: "group", Key: id}
	}
	return nil
}

type settingsRow struct {
	Invite      bool   `db:"invite"`
	DefaultRole string `db:"default_role"`
	RoleRules   string `db:"role_rules"`
}

type ruleJSON struct {
	Group string `json:"group"`
	Role  string `json:"role"`
}

func (t *tx) DirectorySettings(ctx context.Context, tokenID string) (*core.DirectorySettings, error) {
	var r settingsRow
	if err := t.get(ctx, &r, "scim settings", tokenID, `SELECT invite, default_role, role_rules FROM scim_tokens WHERE token_id = ?`, tokenID); err != nil {
		return nil, err
	}
	s := &core.DirectorySettings{TokenID: tokenID, Invite: r.Invite, DefaultRole: core.Role(r.DefaultRole)}
	var rules []ruleJSON
	if err := json.Unmarshal([]byte(r.RoleRules), &rules); err != nil {
		return nil, fmt.Errorf("scim settings %s: decode role rules: %w", tokenID, err)
	}
	for _, rr := range rules {
		s.RoleRules = append(s.RoleRules, core.RoleRule{Group: rr.Group, Role: core.Role(rr.Role)})
	}
	return s, nil
}

func (t *tx) PutDirectorySettings(ctx context.Context, s *core.DirectorySettings) error {
	rules := make([]ruleJSON, 0, len(s.RoleRules))
	for _, r := range s.RoleRules {
		rules = append(rules, ruleJSON{Group: r.Group, Role: string(r.Role)})
	}
	b, err := json.Marshal(rules)
	if err != nil {
		return err
	}
	_, err = t.exec(ctx, `INSERT INTO scim_tokens (token_id, invite, default_role, role_rules) VALUES (?, ?, ?, ?)
		ON CONFLICT (token_id) DO UPDATE SET invite = excluded.invite, default_role = excluded.default_role, role_rules = excluded.role_rules`,
		s.TokenID, s.Invite, s.DefaultRole, string(b))
	return err
}

func (t *tx) InsertHistoryBatch(ctx context.Context, hs []core.HistoryEntry) error {
	const cols = 13
	const per = 80 // rows per statement
	row := make([]any, cols)
	for len(hs) > 0 {
		n := min(len(hs), per)
		rv := newRowValues(t.d, cols, n)
		for i := range hs[:n] {
			h := &hs[i]
			row = append(row[:0], h.OrgID, h.At, h.ActorKind, h.ActorID, h.ActorName, h.Action, h.TargetType, h.TargetID, h.Before, h.After, h.RequestID,
				h.TokenID, h.TokenCreatedBy)
			rv.add(row)
		}
		values, args := rv.build()
		if _, err := t.exec(ctx, `INSERT INTO history (org_id, at, actor_kind, actor_id, actor_name, action,
			target_type, target_id, before_json, after_json, request_id, token_id, token_created_by) VALUES `+values, args...); err != nil {
			return fmt.Errorf("insert history: %w", err)
		}
		hs = hs[n:]
	}
	return nil
}
