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

// profileColsS selects a user's directory profile next to the user row
// (empty values when the user has none).
const profileColsS = `, COALESCE(s.display_name, '') AS p_display_name, COALESCE(s.display_name_key, '') AS p_display_name_key,
	COALESCE(s.nick_name, '') AS p_nick_name,
	COALESCE(s.title, '') AS p_title, COALESCE(s.user_type, '') AS p_user_type, COALESCE(s.employee_number, '') AS p_employee_number,
	COALESCE(s.cost_center, '') AS p_cost_center, COALESCE(s.organization, '') AS p_organization, COALESCE(s.division, '') AS p_division,
	COALESCE(s.department, '') AS p_department, COALESCE(s.manager_id, '') AS p_manager_id, COALESCE(s.roles, '[]') AS p_roles,
	COALESCE(s.base_role, '') AS p_base_role`

type userProfileRow struct {
	userRow
	DisplayName    string `db:"p_display_name"`
	DisplayKey     string `db:"p_display_name_key"`
	NickName       string `db:"p_nick_name"`
	Title          string `db:"p_title"`
	UserType       string `db:"p_user_type"`
	EmployeeNumber string `db:"p_employee_number"`
	CostCenter     string `db:"p_cost_center"`
	Organization   string `db:"p_organization"`
	Division       string `db:"p_division"`
	Department     string `db:"p_department"`
	ManagerID      string `db:"p_manager_id"`
	Roles          string `db:"p_roles"`
	BaseRole       string `db:"p_base_role"`
}

func (r *userProfileRow) directoryUser() (*core.DirectoryUser, error) {
	u, err := r.user()
	if err != nil {
		return nil, err
	}
	p := core.DirectoryProfile{UserID: u.ID, OrgID: u.OrgID, DisplayName: r.DisplayName, DisplayKey: r.DisplayKey, NickName: r.NickName, Title: r.Title,
		UserType: r.UserType, EmployeeNumber: r.EmployeeNumber, CostCenter: r.CostCenter, Organization: r.Organization,
		Division: r.Division, Department: r.Department, ManagerID: r.ManagerID, BaseRole: core.Role(r.BaseRole)}
	if r.Roles != "" && r.Roles != "[]" {
		if err := json.Unmarshal([]byte(r.Roles), &p.Roles); err != nil {
			return nil, fmt.Errorf("profile %s: decode roles: %w", u.ID, err)
		}
	}
	return &core.DirectoryUser{User: *u, Profile: p}, nil
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
		s, a, err := filterSQL(t.d, q.Filter, userFilterCols)
		if err != nil {
			return nil, 0, err
		}
		where = append(where, "("+s+")")
		args = append(args, a...)
	}
	order, err := sortSQL(q.SortBy, userFilterCols)
	if err != nil {
		return nil, 0, err
	}
	// Filters on profile attributes are subqueries; only sorting by one
	// needs the join.
	from := ` FROM users u WHERE ` + strings.Join(where, " AND ")
	selFrom := from
	if spec, ok := userFilterCols[q.SortBy]; ok && spec.kind == colProfile {
		selFrom = ` FROM users u LEFT JOIN scim_users s ON s.user_id = u.id WHERE ` + strings.Join(where, " AND ")
		order = "s." + order
	}
	if withProfile {
		selFrom = ` FROM users u LEFT JOIN scim_users s ON s.user_id = u.id WHERE ` + strings.Join(where, " AND ")
	}
	cols := userColsU
	if withProfile {
		cols += profileColsS
	}
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
		var rows []userProfileRow
		sargs := append(append([]any{}, args...), q.Limit, q.Offset)
		if err := t.sel(ctx, &rows, `SELECT `+cols+selFrom+orderBy+` LIMIT ? OFFSET ?`, sargs...); err != nil {
			return nil, 0, fmt.Errorf("search users: %w", err)
		}
		out = make([]core.DirectoryUser, 0, len(rows))
		for i := range rows {
			du, err := rows[i].directoryUser()
			if err != nil {
				return nil, 0, err
			}
			out = append(out, *du)
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
		s, a, err := filterSQL(t.d, q.Filter, groupFilterCols)
		if err != nil {
			return nil, 0, err
		}
		where = append(where, "("+s+")")
		args = append(args, a...)
	}
	order, err := sortSQL(q.SortBy, groupFilterCols)
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

// profileRow is a DirectoryProfile with its roles as stored JSON.
type profileRow struct {
	core.DirectoryProfile
	RolesJSON string `db:"roles"`
}

const profileCols = `user_id, org_id, display_name, display_name_key, nick_name, title, user_type, employee_number, cost_center,
	organization, division, department, manager_id, roles, base_role`

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

func (t *tx) DirectoryProfiles(ctx context.Context, userIDs []string) (map[string]core.DirectoryProfile, error) {
	out := make(map[string]core.DirectoryProfile, len(userIDs))
	err := inChunks(userIDs, func(part []string) error {
		var rows []profileRow
		if err := t.sel(ctx, &rows, `SELECT `+profileCols+` FROM scim_users WHERE user_id IN (`+placeholders(len(part))+`)`, anys(part)...); err != nil {
			return fmt.Errorf("directory profiles: %w", err)
		}
		for _, r := range rows {
			p := r.DirectoryProfile
			if r.RolesJSON != "" && r.RolesJSON != "[]" {
				if err := json.Unmarshal([]byte(r.RolesJSON), &p.Roles); err != nil {
					return fmt.Errorf("profile %s: decode roles: %w", p.UserID, err)
				}
			}
			out[p.UserID] = p
		}
		return nil
	})
	return out, err
}

func (t *tx) PutDirectoryProfile(ctx context.Context, p *core.DirectoryProfile) error {
	roles := "[]"
	if len(p.Roles) > 0 {
		b, err := json.Marshal(p.Roles)
		if err != nil {
			return err
		}
		roles = string(b)
	}
	_, err := t.exec(ctx, `INSERT INTO scim_users (user_id, org_id, display_name, display_name_key, nick_name, title, user_type,
		employee_number, employee_number_key, cost_center, organization, division, department, department_key, manager_id, roles, base_role)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (user_id) DO UPDATE SET display_name = excluded.display_name, display_name_key = excluded.display_name_key,
		nick_name = excluded.nick_name, title = excluded.title, user_type = excluded.user_type,
		employee_number = excluded.employee_number, employee_number_key = excluded.employee_number_key,
		cost_center = excluded.cost_center, organization = excluded.organization, division = excluded.division,
		department = excluded.department, department_key = excluded.department_key, manager_id = excluded.manager_id,
		roles = excluded.roles, base_role = excluded.base_role`,
		p.UserID, p.OrgID, p.DisplayName, p.DisplayKey, p.NickName, p.Title, p.UserType,
		p.EmployeeNumber, core.FoldKey(p.EmployeeNumber), p.CostCenter, p.Organization, p.Division,
		p.Department, core.FoldKey(p.Department), p.ManagerID, roles, p.BaseRole)
	if err != nil {
		return fmt.Errorf("put directory profile %s: %w", p.UserID, err)
	}
	return nil
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
	for len(ms) > 0 {
		part := ms[:min(len(ms), chunk)]
		ms = ms[len(part):]
		values := strings.TrimSuffix(strings.Repeat("(?, ?), ", len(part)), ", ")
		args := make([]any, 0, 2*len(part))
		for _, m := range part {
			args = append(args, m.GroupID, m.UserID)
		}
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
	for len(hs) > 0 {
		n := min(len(hs), per)
		args := make([]any, 0, n*cols)
		for _, h := range hs[:n] {
			args = append(args, h.OrgID, h.At, h.ActorKind, h.ActorID, h.ActorName, h.Action, h.TargetType, h.TargetID, h.Before, h.After, h.RequestID,
				h.TokenID, h.TokenCreatedBy)
		}
		values := strings.TrimSuffix(strings.Repeat("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?), ", n), ", ")
		if _, err := t.exec(ctx, `INSERT INTO history (org_id, at, actor_kind, actor_id, actor_name, action,
			target_type, target_id, before_json, after_json, request_id, token_id, token_created_by) VALUES `+values, args...); err != nil {
			return fmt.Errorf("insert history: %w", err)
		}
		hs = hs[n:]
	}
	return nil
}
