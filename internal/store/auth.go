package store

import (
	"context"
	"time"

	"github.com/rosterhq/roster/core"
)

func (t *tx) PasswordPolicy(ctx context.Context, orgID string) (*core.PasswordPolicy, error) {
	var p core.PasswordPolicy
	if err := t.get(ctx, &p, "password policy", orgID, `SELECT min_length, require_upper, require_lower, require_digit,
		require_symbol, expiry_days_admins, expiry_days_users FROM password_policies WHERE org_id = ?`, orgID); err != nil {
		return nil, err
	}
	return &p, nil
}

func (t *tx) SetPasswordPolicy(ctx context.Context, orgID string, p *core.PasswordPolicy) error {
	_, err := t.exec(ctx, `INSERT INTO password_policies (org_id, min_length, require_upper, require_lower, require_digit,
		require_symbol, expiry_days_admins, expiry_days_users) VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id) DO UPDATE SET min_length = excluded.min_length, require_upper = excluded.require_upper,
		require_lower = excluded.require_lower, require_digit = excluded.require_digit, require_symbol = excluded.require_symbol,
		expiry_days_admins = excluded.expiry_days_admins, expiry_days_users = excluded.expiry_days_users`,
		orgID, p.MinLength, p.RequireUpper, p.RequireLower, p.RequireDigit, p.RequireSymbol, p.ExpiryDaysAdmins, p.ExpiryDaysUsers)
	return err
}

func (t *tx) UsersIdleSince(ctx context.Context, orgID string, cutoff time.Time, limit int) ([]core.User, error) {
	var rows []userRow
	err := t.sel(ctx, &rows, `SELECT `+userCols+` FROM users
		WHERE org_id = ? AND status = 'active' AND COALESCE(last_login_at, activated_at, created_at) < ? ORDER BY seq LIMIT ?`, orgID, cutoff, limit)
	if err != nil {
		return nil, err
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

func (t *tx) DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error) {
	res, err := t.exec(ctx, `DELETE FROM sessions WHERE expires_at < ?`, now)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *tx) OrgSettings(ctx context.Context, orgID string) (*core.OrgSettings, error) {
	var s core.OrgSettings
	if err := t.get(ctx, &s, "organisation settings", orgID, `SELECT invite_valid_days, dormancy_days, default_language
		FROM org_settings WHERE org_id = ?`, orgID); err != nil {
		return nil, err
	}
	return &s, nil
}

func (t *tx) SetOrgSettings(ctx context.Context, orgID string, s *core.OrgSettings) error {
	_, err := t.exec(ctx, `INSERT INTO org_settings (org_id, invite_valid_days, dormancy_days, default_language) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_id) DO UPDATE SET invite_valid_days = excluded.invite_valid_days,
		dormancy_days = excluded.dormancy_days, default_language = excluded.default_language`,
		orgID, s.InviteValidDays, s.DormancyDays, s.DefaultLanguage)
	return err
}
