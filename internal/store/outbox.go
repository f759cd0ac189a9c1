package store

import (
	"context"
	"time"

	"github.com/rosterhq/roster/core"
)

// ---- mail outbox ----

const mailCols = `id, org_id, user_id, ref_id, kind, language, to_addr, token, subject, body, sender, group_name, app_name, state, attempts,
	next_attempt_at, claimed_until, claimed_by, last_error, created_at, finished_at`

func (t *tx) InsertMail(ctx context.Context, m *core.OutboxMail) error {
	_, err := t.exec(ctx, `INSERT INTO mail_outbox (`+mailCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.ID, m.OrgID, m.UserID, m.RefID, m.Kind, m.Language, m.To, m.Token, m.Subject, m.Body, m.Sender, m.GroupName, m.AppName, m.State, m.Attempts,
		m.NextAttemptAt, m.ClaimedUntil, m.ClaimedBy, m.LastError, m.CreatedAt, m.FinishedAt)
	return err
}

func (t *tx) CancelUserMail(ctx context.Context, userID string, kind core.MailKind, at time.Time) error {
	_, err := t.exec(ctx, `UPDATE mail_outbox SET state = 'cancelled', token = '', finished_at = ?
		WHERE user_id = ? AND kind = ? AND state = 'queued'`, at, userID, kind)
	return err
}

func (t *tx) ClaimMail(ctx context.Context, now time.Time, owner string, lease time.Duration, limit int) ([]core.OutboxMail, error) {
	var ids []string
	err := t.sel(ctx, &ids, `SELECT id FROM mail_outbox
		WHERE (state = 'queued' AND next_attempt_at <= ?) OR (state = 'sending' AND claimed_until <= ?)
		ORDER BY next_attempt_at, created_at LIMIT ?`+t.d.forUpdateSkipLocked(), now, now, limit)
	if err != nil || len(ids) == 0 {
		return nil, err
	}
	until := now.Add(lease)
	out := make([]core.OutboxMail, 0, len(ids))
	for _, id := range ids {
		// The state condition makes the claim safe against a concurrent claimer.
		res, err := t.exec(ctx, `UPDATE mail_outbox SET state = 'sending', claimed_until = ?, claimed_by = ?, attempts = attempts + 1
			WHERE id = ? AND (state = 'queued' OR (state = 'sending' AND claimed_until <= ?))`, until, owner, id, now)
		if err != nil {
			return nil, err
		}
		if n, err := res.RowsAffected(); err != nil {
			return nil, err
		} else if n == 0 {
			continue
		}
		m, err := t.MailByID(ctx, id)
		if err != nil {
			return nil, err
		}
		out = append(out, *m)
	}
	return out, nil
}

func (t *tx) MailClaimOwners(ctx context.Context, now time.Time) ([]string, error) {
	var out []string
	err := t.sel(ctx, &out, `SELECT DISTINCT claimed_by FROM mail_outbox
		WHERE state = 'sending' AND claimed_until > ? AND claimed_by <> '' ORDER BY claimed_by`, now)
	return out, err
}

func (t *tx) ExpireMailClaims(ctx context.Context, owner string, now time.Time) (int64, error) {
	res, err := t.exec(ctx, `UPDATE mail_outbox SET claimed_until = ? WHERE state = 'sending' AND claimed_by = ? AND claimed_until > ?`,
		now, owner, now)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *tx) MailByID(ctx context.Context, id string) (*core.OutboxMail, error) {
	var m core.OutboxMail
	if err := t.get(ctx, &m, "mail", id, `SELECT `+mailCols+` FROM mail_outbox WHERE id = ?`, id); err != nil {
		return nil, err
	}
	return &m, nil
}

func (t *tx) FinishMail(ctx context.Context, id string, state core.MailState, at time.Time, lastError string) error {
	res, err := t.exec(ctx, `UPDATE mail_outbox SET state = ?, token = '', claimed_until = NULL, claimed_by = '', finished_at = ?, last_error = ?
		WHERE id = ?`, state, at, lastError, id)
	if err != nil {
		return err
	}
	return mailOneRow(res, "mail", id)
}

func (t *tx) RetryMail(ctx context.Context, id string, next time.Time, lastError string) error {
	res, err := t.exec(ctx, `UPDATE mail_outbox SET state = 'queued', claimed_until = NULL, claimed_by = '', next_attempt_at = ?, last_error = ?
		WHERE id = ? AND state = 'sending'`, next, lastError, id)
	if err != nil {
		return err
	}
	return mailOneRow(res, "mail", id)
}

func (t *tx) ListUserMail(ctx context.Context, orgID, userID string) ([]core.OutboxMail, error) {
	var out []core.OutboxMail
	err := t.sel(ctx, &out, `SELECT `+mailCols+` FROM mail_outbox WHERE org_id = ? AND user_id = ? ORDER BY created_at, id`, orgID, userID)
	return out, err
}

func (t *tx) MailStats(ctx context.Context) (core.MailStats, error) {
	var rows []struct {
		State string `db:"state"`
		N     int64  `db:"n"`
	}
	var st core.MailStats
	if err := t.sel(ctx, &rows, `SELECT state, COUNT(*) AS n FROM mail_outbox GROUP BY state`); err != nil {
		return st, err
	}
	for _, r := range rows {
		switch core.MailState(r.State) {
		case core.MailQueued:
			st.Queued = r.N
		case core.MailSending:
			st.Sending = r.N
		case core.MailSent:
			st.Sent = r.N
		case core.MailFailed:
			st.Failed = r.N
		case core.MailCancelled:
			st.Cancelled = r.N
		}
	}
	return st, nil
}

func (t *tx) UserStatusCounts(ctx context.Context) (map[core.Status]int64, error) {
	var rows []struct {
		Status string `db:"status"`
		N      int64  `db:"n"`
	}
	if err := t.sel(ctx, &rows, `SELECT status, COUNT(*) AS n FROM users GROUP BY status`); err != nil {
		return nil, err
	}
	out := make(map[core.Status]int64, len(rows))
	for _, r := range rows {
		out[core.Status(r.Status)] = r.N
	}
	return out, nil
}

// ---- mail templates ----

const mailTplCols = `org_id, kind, language, subject, html_body, text_body, updated_at`

func (t *tx) MailTemplateOverride(ctx context.Context, orgID string, kind core.MailKind, language string) (*core.MailTemplate, error) {
	var m core.MailTemplate
	key := string(kind) + "/" + language
	if err := t.get(ctx, &m, "mail template", key, `SELECT `+mailTplCols+` FROM mail_templates
		WHERE org_id = ? AND kind = ? AND language = ?`, orgID, kind, language); err != nil {
		return nil, err
	}
	return &m, nil
}

func (t *tx) ListMailTemplates(ctx context.Context, orgID string) ([]core.MailTemplate, error) {
	var out []core.MailTemplate
	err := t.sel(ctx, &out, `SELECT `+mailTplCols+` FROM mail_templates WHERE org_id = ? ORDER BY kind, language`, orgID)
	return out, err
}

func (t *tx) PutMailTemplate(ctx context.Context, m *core.MailTemplate) error {
	_, err := t.exec(ctx, `INSERT INTO mail_templates (`+mailTplCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id, kind, language) DO UPDATE SET subject = excluded.subject,
		html_body = excluded.html_body, text_body = excluded.text_body, updated_at = excluded.updated_at`,
		m.OrgID, m.Kind, m.Language, m.Subject, m.HTML, m.Text, m.UpdatedAt)
	return err
}

func (t *tx) DeleteMailTemplate(ctx context.Context, orgID string, kind core.MailKind, language string) error {
	res, err := t.exec(ctx, `DELETE FROM mail_templates WHERE org_id = ? AND kind = ? AND language = ?`, orgID, kind, language)
	if err != nil {
		return err
	}
	return mailOneRow(res, "mail template", string(kind)+"/"+language)
}

func mailOneRow(res interface{ RowsAffected() (int64, error) }, kind, key string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return &core.NotFoundError{Kind: kind, Key: key}
	}
	return nil
}

// ---- password resets ----

func (t *tx) InsertPasswordReset(ctx context.Context, r *core.PasswordReset) error {
	_, err := t.exec(ctx, `INSERT INTO password_resets (id, org_id, user_id, token_hash, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)`,
		r.ID, r.OrgID, r.UserID, r.TokenHash, r.CreatedAt, r.ExpiresAt)
	return err
}

func (t *tx) PasswordResetByTokenHash(ctx context.Context, hash string) (*core.PasswordReset, error) {
	var r core.PasswordReset
	if err := t.get(ctx, &r, "password reset", "(token)", `SELECT id, org_id, user_id, token_hash, created_at, expires_at, used_at, voided_at
		FROM password_resets WHERE token_hash = ?`, hash); err != nil {
		return nil, err
	}
	return &r, nil
}

func (t *tx) VoidPasswordResets(ctx context.Context, userID string, at time.Time) error {
	_, err := t.exec(ctx, `UPDATE password_resets SET voided_at = ? WHERE user_id = ? AND used_at IS NULL AND voided_at IS NULL`, at, userID)
	return err
}

func (t *tx) MarkPasswordResetUsed(ctx context.Context, id string, at time.Time) error {
	res, err := t.exec(ctx, `UPDATE password_resets SET used_at = ? WHERE id = ? AND used_at IS NULL`, at, id)
	if err != nil {
		return err
	}
	return mailOneRow(res, "password reset", id)
}

func (t *tx) InsertResetRequest(ctx context.Context, r *core.ResetRequest) error {
	_, err := t.exec(ctx, `INSERT INTO password_reset_requests (id, org_id, login, language, created_at) VALUES (?, ?, ?, ?, ?)`,
		r.ID, r.OrgID, r.Login, r.Language, r.CreatedAt)
	return err
}

// TakeResetRequests deletes each request it returns: a request taken by a
// concurrent transaction deletes no row here and is skipped, so each is
// resolved once.
func (t *tx) TakeResetRequests(ctx context.Context, limit int) ([]core.ResetRequest, error) {
	var rows []core.ResetRequest
	if err := t.sel(ctx, &rows, `SELECT id, org_id, login, language, created_at FROM password_reset_requests ORDER BY created_at, id LIMIT ?`, limit); err != nil {
		return nil, err
	}
	out := rows[:0]
	for _, r := range rows {
		res, err := t.exec(ctx, `DELETE FROM password_reset_requests WHERE id = ?`, r.ID)
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n == 1 {
			out = append(out, r)
		}
	}
	return out, nil
}
