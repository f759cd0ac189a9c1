package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/rosterhq/roster/core"
)

// ---- orgs ----

const orgCols = `id, name, display_name, support_email, catalog_url, created_at`

func (t *tx) CreateOrg(ctx context.Context, o *core.Org) error {
	_, err := t.execMayConflict(ctx, `INSERT INTO orgs (id, name, display_name, support_email, catalog_url, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		o.ID, o.Name, o.DisplayName, o.SupportEmail, o.CatalogURL, o.CreatedAt)
	return err
}

func (t *tx) OrgByName(ctx context.Context, name string) (*core.Org, error) {
	var o core.Org
	if err := t.get(ctx, &o, "organisation", name, `SELECT `+orgCols+` FROM orgs WHERE name = ?`, name); err != nil {
		return nil, err
	}
	return &o, nil
}

func (t *tx) OrgByID(ctx context.Context, id string) (*core.Org, error) {
	var o core.Org
	if err := t.get(ctx, &o, "organisation", id, `SELECT `+orgCols+` FROM orgs WHERE id = ?`, id); err != nil {
		return nil, err
	}
	return &o, nil
}

func (t *tx) UpdateOrg(ctx context.Context, o *core.Org) error {
	n, err := t.execMayConflict(ctx, `UPDATE orgs SET name = ?, display_name = ?, support_email = ?, catalog_url = ? WHERE id = ?`,
		o.Name, o.DisplayName, o.SupportEmail, o.CatalogURL, o.ID)
	if err != nil {
		return err
	}
	if n == 0 {
		return &core.NotFoundError{Kind: "organisation", Key: o.ID}
	}
	return nil
}

func (t *tx) ListOrgs(ctx context.Context) ([]core.Org, error) {
	var out []core.Org
	err := t.sel(ctx, &out, `SELECT `+orgCols+` FROM orgs ORDER BY name`)
	return out, err
}

// ---- users ----

const userCols = `seq, id, org_id, username, email, first_name, last_name, phone, language, role,
	can_create_apps, status, source, external_id, metadata, invite_state, invite_expires_at,
	invite_mail_error, password_hash, password_changed_at, must_change_password, failed_logins,
	status_before_archive, activated_at, last_login_at, created_at, updated_at, locked_at,
	display_name, manager_id, base_role, attributes`

// userRow adds the stored JSON of metadata and attributes to core.User.
type userRow struct {
	core.User
	MetadataJSON   string `db:"metadata"`
	AttributesJSON string `db:"attributes"`
}

func (r *userRow) user() (*core.User, error) {
	u := r.User
	if err := decodeJSONField(r.MetadataJSON, &u.Metadata); err != nil {
		return nil, fmt.Errorf("user %s: decode metadata: %w", u.ID, err)
	}
	if err := decodeJSONField(r.AttributesJSON, &u.Attributes); err != nil {
		return nil, fmt.Errorf("user %s: decode attributes: %w", u.ID, err)
	}
	return &u, nil
}

func attributesJSON(a core.Attributes) (string, error) {
	if len(a) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(a)
	return string(b), err
}

func metadataJSON(m map[string]string) (string, error) {
	if len(m) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(m)
	return string(b), err
}

// userKeys are the columns of a users row derived from its fields: the
// folded keys that uniqueness, lookups, the users list's search and sort
// read, and the role's rank. deriveKeys is their one definition; every
// write of a user row (InsertUser, InsertUsers, UpdateUser, through
// userValues) and the repair of stored rows (migrate_keys.go) use it.
type userKeys struct {
	UsernameKey  string
	EmailKey     string
	FirstNameKey string
	LastNameKey  string
	SearchKey    string
	RoleRank     int
}

func deriveKeys(u *core.User) userKeys {
	first, last := core.FoldKey(u.FirstName), core.FoldKey(u.LastName)
	return userKeys{
		UsernameKey:  core.FoldKey(u.Username),
		EmailKey:     core.FoldKey(u.Email),
		FirstNameKey: first,
		LastNameKey:  last,
		SearchKey:    searchKey(first, last, core.FoldKey(u.Phone)),
		RoleRank:     u.Role.Rank(),
	}
}

// userWriteCols are the users columns that every write of a core.User sets,
// its fields and their derived keys, in the order userValues gives their
// values. An insert adds id, org_id (before) and created_at (after).
var userWriteCols = []string{"username", "username_key", "email", "email_key",
	"first_name", "first_name_key", "last_name", "last_name_key", "search_key", "phone", "language", "role", "role_rank",
	"can_create_apps", "status", "source", "external_id", "metadata", "invite_state", "invite_expires_at",
	"invite_mail_error", "password_hash", "password_changed_at", "must_change_password", "failed_logins",
	"status_before_archive", "activated_at", "last_login_at", "updated_at", "locked_at",
	"display_name", "display_name_key", "manager_id", "base_role", "attributes"}

// userInsertCols and userInsertRow are the column list and one row's
// placeholders of an INSERT INTO users.
var (
	userInsertCols = "id, org_id, " + strings.Join(userWriteCols, ", ") + ", created_at"
	userInsertRow  = "(" + placeholders(len(userWriteCols)+3) + ")"
	userUpdateSet  = strings.Join(userWriteCols, " = ?, ") + " = ?"
)

// userValues appends the values of userWriteCols for u to dst.
func userValues(dst []any, u *core.User) ([]any, error) {
	meta, err := metadataJSON(u.Metadata)
	if err != nil {
		return dst, fmt.Errorf("user %q: encode metadata: %w", u.Username, err)
	}
	attrs, err := attributesJSON(u.Attributes)
	if err != nil {
		return dst, fmt.Errorf("user %q: encode attributes: %w", u.Username, err)
	}
	k := deriveKeys(u)
	return append(dst, u.Username, k.UsernameKey, u.Email, k.EmailKey,
		u.FirstName, k.FirstNameKey, u.LastName, k.LastNameKey, k.SearchKey, u.Phone, u.Language, u.Role, k.RoleRank,
		u.CanCreateApps, u.Status, u.Source, u.ExternalID, meta, u.InviteState, u.InviteExpiresAt,
		u.InviteMailError, u.PasswordHash, u.PasswordChangedAt, u.MustChangePassword, u.FailedLogins,
		u.StatusBeforeArchive, u.ActivatedAt, u.LastLoginAt, u.UpdatedAt, u.LockedAt,
		u.DisplayName, displayKey(u), u.ManagerID, u.BaseRole, attrs), nil
}

// userInsertValues appends one INSERT row's values for u to dst.
func userInsertValues(dst []any, u *core.User) ([]any, error) {
	dst, err := userValues(append(dst, u.ID, u.OrgID), u)
	return append(dst, u.CreatedAt), err
}

func (t *tx) InsertUser(ctx context.Context, u *core.User) error {
	args, err := userInsertValues(make([]any, 0, len(userWriteCols)+3), u)
	if err != nil {
		return err
	}
	if _, err := t.execMayConflict(ctx, `INSERT INTO users (`+userInsertCols+`) VALUES `+userInsertRow, args...); err != nil {
		return fmt.Errorf("insert user %q: %w", u.Username, err)
	}
	return t.writeSearch(ctx, u, false)
}

// writeSearch keeps user_search (the folded values of the searchable
// document attributes and custom fields, core.SearchKeys) in step with the user.
func (t *tx) writeSearch(ctx context.Context, u *core.User, replace bool) error {
	if replace {
		if _, err := t.exec(ctx, `DELETE FROM user_search WHERE user_seq = (SELECT seq FROM users WHERE id = ?)`, u.ID); err != nil {
			return err
		}
	}
	return t.insertSearchRows(ctx, []*core.User{u})
}

// insertSearchRows writes the search index rows of just-written users,
// many rows per statement.
func (t *tx) insertSearchRows(ctx context.Context, us []*core.User) error {
	var args []any
	n := 0
	flush := func() error {
		if n == 0 {
			return nil
		}
		rows := strings.TrimSuffix(strings.Repeat("(CAST(? AS TEXT), CAST(? AS TEXT), CAST(? AS TEXT)), ", n), ", ")
		_, err := t.exec(ctx, `WITH v(id, field, value_key) AS (VALUES `+rows+`)
			INSERT INTO user_search (user_seq, org_id, field, value_key)
			SELECT u.seq, u.org_id, v.field, v.value_key FROM v JOIN users u ON u.id = v.id`, args...)
		args, n = args[:0], 0
		if err != nil {
			return fmt.Errorf("write the search index: %w", err)
		}
		return nil
	}
	for _, u := range us {
		for _, kv := range core.SearchKeys(u) {
			args = append(args, u.ID, kv[0], kv[1])
			if n++; n == batchRows {
				if err := flush(); err != nil {
					return err
				}
			}
		}
	}
	return flush()
}

func (t *tx) UpdateUser(ctx context.Context, u *core.User) error {
	args, err := userValues(make([]any, 0, len(userWriteCols)+2), u)
	if err != nil {
		return err
	}
	n, err := t.execMayConflict(ctx, `UPDATE users SET `+userUpdateSet+` WHERE org_id = ? AND id = ?`, append(args, u.OrgID, u.ID)...)
	if err != nil {
		return fmt.Errorf("update user %s: %w", u.ID, err)
	}
	if n == 0 {
		return &core.NotFoundError{Kind: "user", Key: u.ID}
	}
	return t.writeSearch(ctx, u, true)
}

func (t *tx) DeleteUser(ctx context.Context, orgID, id string) error {
	res, err := t.exec(ctx, `DELETE FROM users WHERE org_id = ? AND id = ?`, orgID, id)
	if err != nil {
		return fmt.Errorf("delete user %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &core.NotFoundError{Kind: "user", Key: id}
	}
	return nil
}

func (t *tx) oneUser(ctx context.Context, key, where string, args ...any) (*core.User, error) {
	var r userRow
	if err := t.get(ctx, &r, "user", key, `SELECT `+userCols+` FROM users WHERE `+where, args...); err != nil {
		return nil, err
	}
	return r.user()
}

func (t *tx) UserByID(ctx context.Context, orgID, id string) (*core.User, error) {
	return t.oneUser(ctx, id, `org_id = ? AND id = ?`, orgID, id)
}

func (t *tx) UserByUsername(ctx context.Context, orgID, username string) (*core.User, error) {
	return t.oneUser(ctx, username, `org_id = ? AND username_key = ?`, orgID, core.FoldKey(username))
}

func (t *tx) UserByEmail(ctx context.Context, orgID, email string) (*core.User, error) {
	if email == "" {
		return nil, &core.NotFoundError{Kind: "user", Key: email}
	}
	return t.oneUser(ctx, email, `org_id = ? AND email_key = ? AND email_key <> ''`, orgID, core.FoldKey(email)) // <> '': lets SQLite use the partial index
}

func (t *tx) UserByExternalID(ctx context.Context, orgID, source, externalID string) (*core.User, error) {
	if externalID == "" {
		return nil, &core.NotFoundError{Kind: "user", Key: externalID}
	}
	return t.oneUser(ctx, externalID, userByExternalIDWhere, orgID, source, externalID)
}

// userByExternalIDWhere says external_id <> ” so that the partial unique
// index users_org_external serves it (the only index on the external id).
const userByExternalIDWhere = `org_id = ? AND source = ? AND external_id = ? AND external_id <> ''`

func (t *tx) ListUsers(ctx context.Context, q core.UserQuery) ([]core.User, error) {
	where := []string{"org_id = ?", "seq > ?"}
	args := []any{q.OrgID, q.AfterSeq}
	if len(q.Statuses) > 0 {
		where = append(where, "status IN ("+placeholders(len(q.Statuses))+")")
		for _, s := range q.Statuses {
			args = append(args, s)
		}
	}
	if len(q.Roles) > 0 {
		where = append(where, "role IN ("+placeholders(len(q.Roles))+")")
		for _, r := range q.Roles {
			args = append(args, r)
		}
	}
	if q.Source != "" {
		where = append(where, "source = ?")
		args = append(args, q.Source)
	}
	query := `SELECT ` + userCols + ` FROM users WHERE ` + strings.Join(where, " AND ") + ` ORDER BY seq`
	if q.Limit > 0 {
		query += ` LIMIT ?`
		args = append(args, q.Limit)
	}
	if q.ForUpdate {
		query += t.d.forUpdate()
	}
	var rows []userRow
	if err := t.sel(ctx, &rows, query, args...); err != nil {
		return nil, fmt.Errorf("list users: %w", err)
	}
	out := make([]core.User, 0, len(rows))
	for i := range rows {
		u, err := rows[i].user()
		if err != nil {
			return nil, err
		}
		out = append(out, *u)
	}
	return out, nil
}

// searchKey is the column the users list's substring search scans: the
// folded first name, last name and phone, separated by U+001F so that no
// match spans two fields.
func searchKey(firstKey, lastKey, phoneKey string) string {
	return firstKey + "\x1f" + lastKey + "\x1f" + phoneKey
}

// placeholders returns "?, ?, …" for n bound values; only the count comes from input.
func placeholders(n int) string {
	return strings.TrimSuffix(strings.Repeat("?, ", n), ", ")
}

// ---- history ----

func (t *tx) InsertHistory(ctx context.Context, h *core.HistoryEntry) error {
	id, err := t.insertID(ctx, `INSERT INTO history (org_id, at, actor_kind, actor_id, actor_name, action,
		target_type, target_id, before_json, after_json, request_id, token_id, token_created_by) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		h.OrgID, h.At, h.ActorKind, h.ActorID, h.ActorName, h.Action, h.TargetType, h.TargetID, h.Before, h.After, h.RequestID,
		h.TokenID, h.TokenCreatedBy)
	if err != nil {
		return err
	}
	h.ID = id
	return nil
}

func (t *tx) ListHistory(ctx context.Context, orgID, targetID string) ([]core.HistoryEntry, error) {
	out := []core.HistoryEntry{}
	err := t.sel(ctx, &out, historyOfTargetQuery, orgID, targetID)
	return out, err
}

const historyOfTargetQuery = `SELECT id, org_id, at, actor_kind, actor_id, actor_name, action, target_type,
	target_id, before_json, after_json, request_id, token_id, token_created_by FROM history WHERE org_id = ? AND target_id = ? ORDER BY id`

// ---- metadata template ----

func (t *tx) MetadataTemplate(ctx context.Context, orgID string) ([]core.MetadataField, error) {
	out := []core.MetadataField{}
	err := t.sel(ctx, &out, `SELECT name, label, type, required FROM metadata_fields WHERE org_id = ? ORDER BY position`, orgID)
	return out, err
}

func (t *tx) SetMetadataTemplate(ctx context.Context, orgID string, fields []core.MetadataField) error {
	if _, err := t.exec(ctx, `DELETE FROM metadata_fields WHERE org_id = ?`, orgID); err != nil {
		return err
	}
	for i, f := range fields {
		if _, err := t.exec(ctx, `INSERT INTO metadata_fields (org_id, position, name, label, type, required) VALUES (?, ?, ?, ?, ?, ?)`,
			orgID, i, f.Name, f.Label, f.Type, f.Required); err != nil {
			return err
		}
	}
	return nil
}

// ---- invites ----

func (t *tx) InsertInvite(ctx context.Context, inv *core.Invite) error {
	_, err := t.exec(ctx, `INSERT INTO invites (id, org_id, user_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		inv.ID, inv.OrgID, inv.UserID, inv.TokenHash, inv.CreatedAt, inv.ExpiresAt)
	return err
}

func (t *tx) InviteByTokenHash(ctx context.Context, hash string) (*core.Invite, error) {
	var inv core.Invite
	if err := t.get(ctx, &inv, "invite", "token", `SELECT id, org_id, user_id, token_hash, created_at, expires_at, used_at, voided_at
		FROM invites WHERE token_hash = ?`, hash); err != nil {
		return nil, err
	}
	return &inv, nil
}

func (t *tx) VoidInvites(ctx context.Context, userID string, at time.Time) error {
	_, err := t.exec(ctx, `UPDATE invites SET voided_at = ? WHERE user_id = ? AND used_at IS NULL AND voided_at IS NULL`, at, userID)
	return err
}

func (t *tx) MarkInviteUsed(ctx context.Context, id string, at time.Time) error {
	res, err := t.exec(ctx, `UPDATE invites SET used_at = ? WHERE id = ? AND used_at IS NULL`, at, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &core.NotFoundError{Kind: "unused invite", Key: id}
	}
	return nil
}

// ---- sessions ----

func (t *tx) InsertSession(ctx context.Context, s *core.Session) error {
	_, err := t.exec(ctx, `INSERT INTO sessions (id, org_id, user_id, token_hash, audience, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.OrgID, s.UserID, s.TokenHash, s.Audience, s.CreatedAt, s.ExpiresAt)
	return err
}

func (t *tx) SessionByTokenHash(ctx context.Context, hash string) (*core.Session, error) {
	var s core.Session
	if err := t.get(ctx, &s, "session", "token", `SELECT id, org_id, user_id, token_hash, audience, created_at, expires_at
		FROM sessions WHERE token_hash = ?`, hash); err != nil {
		return nil, err
	}
	return &s, nil
}

func (t *tx) DeleteSessions(ctx context.Context, userID string, audience core.Audience) (int64, error) {
	q, args := `DELETE FROM sessions WHERE user_id = ?`, []any{userID}
	if audience != "" {
		q += ` AND audience = ?`
		args = append(args, audience)
	}
	res, err := t.exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// DeleteSessionsExcept ends every session of a user but one (keepID).
func (t *tx) DeleteSessionsExcept(ctx context.Context, userID, keepID string) (int64, error) {
	res, err := t.exec(ctx, `DELETE FROM sessions WHERE user_id = ? AND id <> ?`, userID, keepID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// ---- API tokens ----

// RevokeUserTokens revokes every unrevoked token that acts as a user.
func (t *tx) RevokeUserTokens(ctx context.Context, userID string, at time.Time) (int64, error) {
	res, err := t.exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE user_id = ? AND revoked_at IS NULL`, at, userID)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

const tokenCols = `id, org_id, name, scope, user_id, role_ceiling, created_by_id, created_by_name, token_hash, created_at, revoked_at`

func (t *tx) InsertToken(ctx context.Context, tk *core.APIToken) error {
	_, err := t.execMayConflict(ctx, `INSERT INTO api_tokens (id, org_id, name, scope, user_id, role_ceiling, created_by_id, created_by_name, token_hash, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tk.ID, tk.OrgID, tk.Name, tk.Scope, tk.UserID, tk.RoleCeiling, tk.CreatedByID, tk.CreatedByName, tk.TokenHash, tk.CreatedAt)
	return err
}

func (t *tx) TokenByHash(ctx context.Context, hash string) (*core.APIToken, error) {
	var tk core.APIToken
	if err := t.get(ctx, &tk, "token", "token", `SELECT `+tokenCols+` FROM api_tokens WHERE token_hash = ?`, hash); err != nil {
		return nil, err
	}
	return &tk, nil
}

// ---- groups ----

const groupCols = `id, org_id, name, source, external_id, created_at, updated_at`

func (t *tx) InsertGroup(ctx context.Context, g *core.Group) error {
	_, err := t.execMayConflict(ctx, `INSERT INTO groups (id, org_id, name, name_key, source, external_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		g.ID, g.OrgID, g.Name, core.FoldKey(g.Name), g.Source, g.ExternalID, g.CreatedAt, g.UpdatedAt)
	return err
}

func (t *tx) GroupByID(ctx context.Context, orgID, id string) (*core.Group, error) {
	var g core.Group
	if err := t.get(ctx, &g, "group", id, `SELECT `+groupCols+` FROM groups WHERE org_id = ? AND id = ?`, orgID, id); err != nil {
		return nil, err
	}
	return &g, nil
}

func (t *tx) GroupByName(ctx context.Context, orgID, name string) (*core.Group, error) {
	var g core.Group
	if err := t.get(ctx, &g, "group", name, `SELECT `+groupCols+` FROM groups WHERE org_id = ? AND name_key = ?`, orgID, core.FoldKey(name)); err != nil {
		return nil, err
	}
	return &g, nil
}

func (t *tx) ListGroups(ctx context.Context, orgID string) ([]core.Group, error) {
	out := []core.Group{}
	err := t.sel(ctx, &out, `SELECT `+groupCols+` FROM groups WHERE org_id = ? ORDER BY name_key`, orgID)
	return out, err
}

func (t *tx) AddGroupMember(ctx context.Context, groupID, userID string) error {
	_, err := t.exec(ctx, `INSERT INTO group_members (group_id, user_id) VALUES (?, ?) ON CONFLICT DO NOTHING`, groupID, userID)
	return err
}

func (t *tx) RemoveGroupMember(ctx context.Context, groupID, userID string) error {
	_, err := t.exec(ctx, `DELETE FROM group_members WHERE group_id = ? AND user_id = ?`, groupID, userID)
	return err
}

func (t *tx) UserGroups(ctx context.Context, userID string) ([]core.Group, error) {
	out := []core.Group{}
	err := t.sel(ctx, &out, userGroupsQuery, userID)
	return out, err
}

const userGroupsQuery = `SELECT g.id, g.org_id, g.name, g.source, g.external_id, g.created_at, g.updated_at
	FROM groups g JOIN group_members m ON m.group_id = g.id WHERE m.user_id = ? ORDER BY g.name_key`

// ---- apps ----

func (t *tx) InsertApp(ctx context.Context, a *core.App) error {
	_, err := t.execMayConflict(ctx, `INSERT INTO apps (id, org_id, name, name_key, created_by_id, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		a.ID, a.OrgID, a.Name, core.FoldKey(a.Name), a.CreatedByID, a.CreatedAt)
	return err
}

func (t *tx) AppByName(ctx context.Context, orgID, name string) (*core.App, error) {
	var a core.App
	if err := t.get(ctx, &a, "app", name, `SELECT id, org_id, name, created_by_id, created_at FROM apps WHERE org_id = ? AND name_key = ?`, orgID, core.FoldKey(name)); err != nil {
		return nil, err
	}
	return &a, nil
}

func (t *tx) AssignApp(ctx context.Context, appID, userID, appRole string) error {
	_, err := t.exec(ctx, `INSERT INTO app_users (app_id, user_id, app_role) VALUES (?, ?, ?)
		ON CONFLICT (app_id, user_id) DO UPDATE SET app_role = excluded.app_role`, appID, userID, appRole)
	return err
}

func (t *tx) GrantGroupApp(ctx context.Context, appID, groupID, appRole string) error {
	_, err := t.exec(ctx, `INSERT INTO app_groups (app_id, group_id, app_role) VALUES (?, ?, ?)
		ON CONFLICT (app_id, group_id) DO UPDATE SET app_role = excluded.app_role`, appID, groupID, appRole)
	return err
}

// UserApps lists a user's apps: direct assignments first, then those granted
// through groups (one row per app: a direct assignment wins over a group's).
func (t *tx) UserApps(ctx context.Context, userID string) ([]core.AppAssignment, error) {
	out := []core.AppAssignment{}
	err := t.sel(ctx, &out, `
		SELECT a.id AS app_id, a.name AS app_name, au.app_role, '' AS via_group
		  FROM app_users au JOIN apps a ON a.id = au.app_id WHERE au.user_id = ?
		UNION ALL
		SELECT a.id, a.name, MIN(ag.app_role), MIN(g.name)
		  FROM group_members m JOIN app_groups ag ON ag.group_id = m.group_id
		  JOIN apps a ON a.id = ag.app_id JOIN groups g ON g.id = m.group_id
		 WHERE m.user_id = ? AND a.id NOT IN (SELECT app_id FROM app_users WHERE user_id = ?)
		 GROUP BY a.id, a.name
		ORDER BY app_name`, userID, userID, userID)
	return out, err
}

func (t *tx) AppUsers(ctx context.Context, appID string) ([]core.AppUser, error) {
	out := []core.AppUser{}
	err := t.sel(ctx, &out, `
		SELECT au.user_id, '' AS via_group FROM app_users au WHERE au.app_id = ?
		UNION ALL
		SELECT m.user_id, MIN(g.name)
		  FROM app_groups ag JOIN group_members m ON m.group_id = ag.group_id JOIN groups g ON g.id = ag.group_id
		 WHERE ag.app_id = ? AND m.user_id NOT IN (SELECT user_id FROM app_users WHERE app_id = ?)
		 GROUP BY m.user_id
		ORDER BY user_id`, appID, appID, appID)
	return out, err
}

func (t *tx) UpdateGroup(ctx context.Context, g *core.Group) error {
	n, err := t.execMayConflict(ctx, `UPDATE groups SET name = ?, name_key = ?, external_id = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
		g.Name, core.FoldKey(g.Name), g.ExternalID, g.UpdatedAt, g.OrgID, g.ID)
	if err != nil {
		return err
	}
	if n == 0 {
		return &core.NotFoundError{Kind: "group", Key: g.ID}
	}
	return nil
}

func (t *tx) DeleteGroup(ctx context.Context, orgID, id string) error {
	res, err := t.exec(ctx, `DELETE FROM groups WHERE org_id = ? AND id = ?`, orgID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &core.NotFoundError{Kind: "group", Key: id}
	}
	return nil
}

func (t *tx) GroupByExternalID(ctx context.Context, orgID, source, externalID string) (*core.Group, error) {
	var g core.Group
	if err := t.get(ctx, &g, "group", externalID, `SELECT `+groupCols+` FROM groups WHERE org_id = ? AND source = ? AND external_id = ?`,
		orgID, source, externalID); err != nil {
		return nil, err
	}
	return &g, nil
}

func (t *tx) GroupMemberIDs(ctx context.Context, groupID string) ([]string, error) {
	out := []string{}
	err := t.sel(ctx, &out, `SELECT user_id FROM group_members WHERE group_id = ? ORDER BY user_id`, groupID)
	return out, err
}

// ---- audit log ----

// ListAudit reads the audit log newest first, keyset paged by id.
func (t *tx) ListAudit(ctx context.Context, f core.AuditFilter) ([]core.HistoryEntry, error) {
	q, args := auditQuery(f)
	out := []core.HistoryEntry{}
	if err := t.sel(ctx, &out, q, args...); err != nil {
		return nil, fmt.Errorf("list audit log: %w", err)
	}
	return out, nil
}

// auditQuery is the audit log's query: every filter is an equality or a
// range the indexes of migration 00021 serve (org_id, then actor_name,
// target_id or action, then id).
func auditQuery(f core.AuditFilter) (string, []any) {
	where := []string{"org_id = ?"}
	args := []any{f.OrgID}
	if f.Actor != "" {
		where = append(where, "actor_name = ?")
		args = append(args, f.Actor)
	}
	if f.UserID != "" {
		where = append(where, "target_type = 'user' AND target_id = ?")
		args = append(args, f.UserID)
	}
	if f.Action != "" {
		where = append(where, "action = ?")
		args = append(args, f.Action)
	}
	if !f.Since.IsZero() {
		where = append(where, "at >= ?")
		args = append(args, f.Since.UTC())
	}
	if !f.Until.IsZero() {
		where = append(where, "at < ?")
		args = append(args, f.Until.UTC())
	}
	if f.Before > 0 {
		where = append(where, "id < ?")
		args = append(args, f.Before)
	}
	return `SELECT id, org_id, at, actor_kind, actor_id, actor_name, action, target_type,
		target_id, before_json, after_json, request_id, token_id, token_created_by FROM history
		WHERE ` + strings.Join(where, " AND ") + ` ORDER BY id DESC LIMIT ?`, append(args, f.Limit)
}
