package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rosterhq/roster/core"
)

// sortColumns maps sort keys to indexed columns. Only these strings, never
// input, are placed in the query text.
var sortColumns = map[core.SortKey]string{
	core.SortLastName:     "last_name_key",
	core.SortFirstName:    "first_name_key",
	core.SortFullName:     "first_name_key",
	core.SortUsername:     "username_key",
	core.SortEmail:        "email_key",
	core.SortRole:         "role_rank",
	core.SortStatus:       "status",
	core.SortInviteStatus: "invite_state",
	core.SortCreatedAt:    "created_at",
}

// SearchUsers answers the users list in SQL: filters and search in WHERE,
// keyset pagination on (sort column, seq), COUNT for the total when the page
// does not already show it.
func (t *tx) SearchUsers(ctx context.Context, q *core.UserSearch) ([]core.User, int, error) {
	col, ok := sortColumns[q.Sort]
	if !ok {
		return nil, 0, fmt.Errorf("unknown sort %q", q.Sort)
	}
	if q.Nothing {
		return nil, 0, nil
	}
	where := []string{"org_id = ?"}
	args := []any{q.OrgID}
	in := func(column string, n int, each func(i int) any) {
		where = append(where, column+" IN ("+placeholders(n)+")")
		for i := 0; i < n; i++ {
			args = append(args, each(i))
		}
	}
	if len(q.Roles) > 0 {
		in("role_rank", len(q.Roles), func(i int) any { return q.Roles[i].Rank() })
	}
	if len(q.Statuses) > 0 {
		in("status", len(q.Statuses), func(i int) any { return string(q.Statuses[i]) })
	}
	if len(q.InviteStatuses) > 0 {
		var ors []string
		// An unaccepted invitation of a disabled or archived user is on hold,
		// not pending, expired or in mail error (core.DeriveInviteStatus).
		const held, notHeld = "status IN ('disabled', 'archived')", "status NOT IN ('disabled', 'archived')"
		for _, s := range q.InviteStatuses {
			switch s {
			case core.InvitePending:
				ors = append(ors, "(invite_state = 'sent' AND invite_expires_at >= ? AND "+notHeld+")")
				args = append(args, q.Now)
			case core.InviteExpired:
				ors = append(ors, "(invite_state = 'sent' AND invite_expires_at < ? AND "+notHeld+")")
				args = append(args, q.Now)
			case core.InviteMailError:
				ors = append(ors, "(invite_state = 'mail_error' AND "+notHeld+")")
			case core.InviteOnHold:
				ors = append(ors, "(invite_state IN ('sent', 'mail_error') AND "+held+")")
			case core.InviteAccepted:
				ors = append(ors, "invite_state = 'accepted'")
			case core.InviteNone:
				ors = append(ors, "invite_state = 'none'")
			}
		}
		where = append(where, "("+strings.Join(ors, " OR ")+")")
	}
	// Membership filters are IN (subquery), so the member set is built once.
	if q.Group != "" {
		where = append(where, `id IN (SELECT m.user_id FROM group_members m JOIN groups g ON g.id = m.group_id
			WHERE g.org_id = ? AND g.name_key = ?)`)
		args = append(args, q.OrgID, core.FoldKey(q.Group))
	}
	if q.App != "" {
		where = append(where, `id IN (SELECT au.user_id FROM app_users au JOIN apps a ON a.id = au.app_id
			WHERE a.org_id = ? AND a.name_key = ?
			UNION SELECT m.user_id FROM group_members m JOIN app_groups ag ON ag.group_id = m.group_id JOIN apps a ON a.id = ag.app_id
			WHERE a.org_id = ? AND a.name_key = ?)`)
		key := core.FoldKey(q.App)
		args = append(args, q.OrgID, key, q.OrgID, key)
	}
	if q.Text != "" {
		where = append(where, `(`+t.d.contains("search_key")+` OR username_key = ? OR email_key = ?)`)
		args = append(args, q.Text, q.Text, q.Text)
	}
	if q.MetaField != "" {
		where = append(where, `seq IN (SELECT user_seq FROM user_search WHERE org_id = ? AND field = ? AND `+t.d.contains("value_key")+`)`)
		args = append(args, q.OrgID, q.MetaField, q.MetaValue)
	}
	filter := strings.Join(where, " AND ")

	dir, cmp := "ASC", ">"
	if q.Desc {
		dir, cmp = "DESC", "<"
	}
	pageWhere, pageArgs := filter, append([]any(nil), args...)
	if q.After != nil {
		v, err := cursorValue(q.Sort, q.After.Value)
		if err != nil {
			return nil, 0, err
		}
		pageWhere += fmt.Sprintf(" AND (%s %s ? OR (%s = ? AND seq %s ?))", col, cmp, col, cmp)
		pageArgs = append(pageArgs, v, v, q.After.Seq)
	}
	query := fmt.Sprintf(`SELECT %s FROM users WHERE %s ORDER BY %s %s, seq %s LIMIT ?`, userCols, pageWhere, col, dir, dir)
	pageArgs = append(pageArgs, q.Limit+1)
	var rows []userRow
	if err := t.sel(ctx, &rows, query, pageArgs...); err != nil {
		return nil, 0, fmt.Errorf("search users: %w", err)
	}
	out := make([]core.User, 0, len(rows))
	for i := range rows {
		u, err := rows[i].user()
		if err != nil {
			return nil, 0, err
		}
		out = append(out, *u)
	}
	// A first page that is not full holds every match: its length is the
	// total, and a narrow search (an exact email) costs one scan, not two.
	total := len(out)
	if q.After != nil || len(out) > q.Limit {
		countSQL, countArgs := `SELECT COUNT(*) FROM users WHERE `+filter, args
		if metaOnly := q.MetaField != "" && len(where) == 2; metaOnly {
			// Only org and metadata: count the narrow metadata rows, not users.
			countSQL, countArgs = `SELECT COUNT(DISTINCT user_seq) FROM user_search WHERE org_id = ? AND field = ? AND `+t.d.contains("value_key"), []any{q.OrgID, q.MetaField, q.MetaValue}
		}
		if err := t.get(ctx, &total, "users", "count", countSQL, countArgs...); err != nil {
			return nil, 0, fmt.Errorf("count users: %w", err)
		}
	}
	return out, total, nil
}

// cursorValue converts a cursor's value to the column's type.
func cursorValue(k core.SortKey, v string) (any, error) {
	switch k {
	case core.SortRole:
		n, err := strconv.Atoi(v)
		if err != nil {
			return nil, &core.ValidationError{Problems: []core.FieldError{{Field: "page_token", Message: "is damaged"}}}
		}
		return n, nil
	case core.SortCreatedAt:
		ts, err := time.Parse(time.RFC3339Nano, v)
		if err != nil {
			return nil, &core.ValidationError{Problems: []core.FieldError{{Field: "page_token", Message: "is damaged"}}}
		}
		return ts.UTC(), nil
	}
	return v, nil
}

func (t *tx) GroupNamesOfUsers(ctx context.Context, userIDs []string) (map[string][]string, error) {
	out := map[string][]string{}
	if len(userIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		UserID string `db:"user_id"`
		Name   string `db:"name"`
	}
	args := make([]any, len(userIDs))
	for i, id := range userIDs {
		args[i] = id
	}
	err := t.sel(ctx, &rows, `SELECT m.user_id, g.name FROM group_members m JOIN groups g ON g.id = m.group_id
		WHERE m.user_id IN (`+placeholders(len(userIDs))+`) ORDER BY m.user_id, g.name_key`, args...)
	for _, r := range rows {
		out[r.UserID] = append(out[r.UserID], r.Name)
	}
	return out, err
}

func (t *tx) AppsOfUsers(ctx context.Context, userIDs []string) (map[string][]core.AppAssignment, error) {
	out := map[string][]core.AppAssignment{}
	if len(userIDs) == 0 {
		return out, nil
	}
	var rows []struct {
		UserID string `db:"user_id"`
		core.AppAssignment
	}
	ph := placeholders(len(userIDs))
	args := make([]any, 0, 2*len(userIDs))
	for range 2 {
		for _, id := range userIDs {
			args = append(args, id)
		}
	}
	err := t.sel(ctx, &rows, `
		SELECT au.user_id, a.id AS app_id, a.name AS app_name, au.app_role, '' AS via_group
		  FROM app_users au JOIN apps a ON a.id = au.app_id WHERE au.user_id IN (`+ph+`)
		UNION ALL
		SELECT m.user_id, a.id, a.name, MIN(ag.app_role), MIN(g.name)
		  FROM group_members m JOIN app_groups ag ON ag.group_id = m.group_id
		  JOIN apps a ON a.id = ag.app_id JOIN groups g ON g.id = m.group_id
		 WHERE m.user_id IN (`+ph+`)
		   AND NOT EXISTS (SELECT 1 FROM app_users x WHERE x.user_id = m.user_id AND x.app_id = a.id)
		 GROUP BY m.user_id, a.id, a.name
		ORDER BY 1, 3`, args...)
	for _, r := range rows {
		out[r.UserID] = append(out[r.UserID], r.AppAssignment)
	}
	return out, err
}
