package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/rosterhq/roster/core"
)

// ---- OIDC clients ----

type oidcClientRow struct {
	core.OIDCClient
	RedirectURIs   string `db:"redirect_uris"`
	PostLogoutURIs string `db:"post_logout_uris"`
}

func (t *tx) PutOIDCClient(ctx context.Context, c *core.OIDCClient) error {
	ru, err := json.Marshal(c.RedirectURIs)
	if err != nil {
		return fmt.Errorf("redirect uris: %w", err)
	}
	pu, err := json.Marshal(c.PostLogoutURIs)
	if err != nil {
		return fmt.Errorf("post-logout uris: %w", err)
	}
	_, err = t.exec(ctx, `INSERT INTO oidc_clients (app_id, org_id, public, secret_hash, redirect_uris, post_logout_uris, backchannel_logout_uri, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (app_id) DO UPDATE SET public = excluded.public, secret_hash = excluded.secret_hash, redirect_uris = excluded.redirect_uris,
		  post_logout_uris = excluded.post_logout_uris, backchannel_logout_uri = excluded.backchannel_logout_uri, updated_at = excluded.updated_at`,
		c.AppID, c.OrgID, c.Public, c.SecretHash, string(ru), string(pu), c.BackchannelLogoutURI, c.CreatedAt, c.UpdatedAt)
	return err
}

func (t *tx) OIDCClientByApp(ctx context.Context, orgID, appID string) (*core.OIDCClient, error) {
	var r oidcClientRow
	if err := t.get(ctx, &r, "oidc client", appID, `SELECT c.app_id, c.org_id, a.name AS app_name, c.public, c.secret_hash, c.redirect_uris, c.post_logout_uris,
		c.backchannel_logout_uri, c.created_at, c.updated_at
		FROM oidc_clients c JOIN apps a ON a.id = c.app_id WHERE c.org_id = ? AND c.app_id = ?`, orgID, appID); err != nil {
		return nil, err
	}
	c := r.OIDCClient
	if err := json.Unmarshal([]byte(r.RedirectURIs), &c.RedirectURIs); err != nil {
		return nil, fmt.Errorf("oidc client %s: redirect uris: %w", appID, err)
	}
	if err := json.Unmarshal([]byte(r.PostLogoutURIs), &c.PostLogoutURIs); err != nil {
		return nil, fmt.Errorf("oidc client %s: post-logout uris: %w", appID, err)
	}
	return &c, nil
}

func (t *tx) DeleteOIDCClient(ctx context.Context, orgID, appID string) error {
	_, err := t.exec(ctx, `DELETE FROM oidc_clients WHERE org_id = ? AND app_id = ?`, orgID, appID)
	return err
}

// ---- authorization requests ----

const authReqCols = `id, org_id, app_id, user_id, session_id, params, auth_time, created_at, expires_at`

func (t *tx) InsertOIDCAuthRequest(ctx context.Context, r *core.OIDCAuthRequest) error {
	_, err := t.exec(ctx, `INSERT INTO oidc_auth_requests (`+authReqCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.ID, r.OrgID, r.AppID, r.UserID, r.SessionID, r.Params, r.AuthTime, r.CreatedAt, r.ExpiresAt)
	return err
}

func (t *tx) OIDCAuthRequestByID(ctx context.Context, id string) (*core.OIDCAuthRequest, error) {
	var r core.OIDCAuthRequest
	if err := t.get(ctx, &r, "auth request", id, `SELECT `+authReqCols+` FROM oidc_auth_requests WHERE id = ?`, id); err != nil {
		return nil, err
	}
	return &r, nil
}

func (t *tx) OIDCAuthRequestByCode(ctx context.Context, codeHash string) (*core.OIDCAuthRequest, error) {
	var r core.OIDCAuthRequest
	if err := t.get(ctx, &r, "auth request", "code", `SELECT `+authReqCols+` FROM oidc_auth_requests WHERE code_hash = ?`, codeHash); err != nil {
		return nil, err
	}
	return &r, nil
}

func (t *tx) UpdateOIDCAuthRequest(ctx context.Context, r *core.OIDCAuthRequest) error {
	_, err := t.exec(ctx, `UPDATE oidc_auth_requests SET user_id = ?, session_id = ?, auth_time = ? WHERE id = ?`, r.UserID, r.SessionID, r.AuthTime, r.ID)
	return err
}

func (t *tx) SetOIDCAuthCode(ctx context.Context, id, codeHash string) error {
	res, err := t.exec(ctx, `UPDATE oidc_auth_requests SET code_hash = ? WHERE id = ? AND code_hash IS NULL`, codeHash, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &core.ConflictError{Field: "code", Message: "the request already has a code, or is gone"}
	}
	return nil
}

func (t *tx) DeleteOIDCAuthRequest(ctx context.Context, id string) error {
	_, err := t.exec(ctx, `DELETE FROM oidc_auth_requests WHERE id = ?`, id)
	return err
}

// ---- tokens ----

const oidcTokenCols = `id, org_id, app_id, user_id, kind, family, token_hash, scopes, amr, auth_time, created_at, expires_at, used_at, revoked_at`

func (t *tx) InsertOIDCToken(ctx context.Context, tk *core.OIDCToken) error {
	_, err := t.exec(ctx, `INSERT INTO oidc_tokens (`+oidcTokenCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		tk.ID, tk.OrgID, tk.AppID, tk.UserID, tk.Kind, tk.Family, tk.TokenHash, tk.Scopes, tk.AMR, tk.AuthTime, tk.CreatedAt, tk.ExpiresAt, tk.UsedAt, tk.RevokedAt)
	return err
}

func (t *tx) OIDCTokenByID(ctx context.Context, id string) (*core.OIDCToken, error) {
	var tk core.OIDCToken
	if err := t.get(ctx, &tk, "token", id, `SELECT `+oidcTokenCols+` FROM oidc_tokens WHERE id = ?`, id); err != nil {
		return nil, err
	}
	return &tk, nil
}

func (t *tx) OIDCTokenByHash(ctx context.Context, hash string) (*core.OIDCToken, error) {
	var tk core.OIDCToken
	if err := t.get(ctx, &tk, "token", "token", `SELECT `+oidcTokenCols+` FROM oidc_tokens WHERE token_hash = ?`, hash); err != nil {
		return nil, err
	}
	return &tk, nil
}

func (t *tx) UseOIDCToken(ctx context.Context, id string, at time.Time) (bool, error) {
	res, err := t.exec(ctx, `UPDATE oidc_tokens SET used_at = ? WHERE id = ? AND used_at IS NULL AND revoked_at IS NULL`, at, id)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *tx) RevokeOIDCTokens(ctx context.Context, sel core.OIDCTokenScope, at time.Time) (int64, error) {
	col, v := "", ""
	switch {
	case sel.ID != "":
		col, v = "id", sel.ID
	case sel.Family != "":
		col, v = "family", sel.Family
	case sel.UserID != "":
		col, v = "user_id", sel.UserID
	case sel.AppID != "":
		col, v = "app_id", sel.AppID
	default:
		return 0, fmt.Errorf("revoke oidc tokens: no selection")
	}
	res, err := t.exec(ctx, `UPDATE oidc_tokens SET revoked_at = ? WHERE `+col+` = ? AND revoked_at IS NULL`, at, v)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (t *tx) UserAppRole(ctx context.Context, appID, userID string) (string, error) {
	var role string
	err := t.get(ctx, &role, "assignment", appID, `SELECT app_role FROM app_users WHERE app_id = ? AND user_id = ?`, appID, userID)
	if err == nil || !errors.Is(err, core.ErrNotFound) {
		return role, err
	}
	var r *string
	if err := t.get(ctx, &r, "assignment", appID, `SELECT MIN(ag.app_role) FROM app_groups ag JOIN group_members m ON m.group_id = ag.group_id
		WHERE ag.app_id = ? AND m.user_id = ?`, appID, userID); err != nil {
		return "", err
	}
	if r == nil {
		return "", &core.NotFoundError{Kind: "assignment", Key: appID}
	}
	return *r, nil
}

func (t *tx) OIDCAppsOfUser(ctx context.Context, userID string, now time.Time) ([]string, error) {
	out := []string{}
	err := t.sel(ctx, &out, `SELECT DISTINCT app_id FROM oidc_tokens WHERE user_id = ? AND revoked_at IS NULL AND expires_at > ? ORDER BY app_id`, userID, now)
	return out, err
}

func (t *tx) DeleteExpiredOIDC(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	for _, q := range []string{`DELETE FROM oidc_auth_requests WHERE expires_at <= ?`, `DELETE FROM oidc_tokens WHERE expires_at <= ?`} {
		res, err := t.exec(ctx, q, now)
		if err != nil {
			return n, err
		}
		d, _ := res.RowsAffected()
		n += d
	}
	return n, nil
}

// ---- signing keys ----

func (t *tx) InsertOIDCKey(ctx context.Context, k *core.OIDCKey) error {
	_, err := t.exec(ctx, `INSERT INTO oidc_keys (id, alg, private_key, created_at, retired_at) VALUES (?, ?, ?, ?, ?)`,
		k.ID, k.Alg, k.PrivateKey, k.CreatedAt, k.RetiredAt)
	return err
}

func (t *tx) ListOIDCKeys(ctx context.Context) ([]core.OIDCKey, error) {
	out := []core.OIDCKey{}
	err := t.sel(ctx, &out, `SELECT id, alg, private_key, created_at, retired_at FROM oidc_keys ORDER BY created_at, id`)
	return out, err
}

func (t *tx) UpdateOIDCKeyPrivate(ctx context.Context, id, from, to string) (bool, error) {
	if !t.d.pg() {
		// The old text must not stay in the page's free space.
		if _, err := t.exec(ctx, `PRAGMA secure_delete = ON`); err != nil {
			return false, err
		}
		defer func() { _, _ = t.exec(context.WithoutCancel(ctx), `PRAGMA secure_delete = OFF`) }()
	}
	res, err := t.exec(ctx, `UPDATE oidc_keys SET private_key = ? WHERE id = ? AND private_key = ?`, to, id, from)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

func (t *tx) RetireOIDCKeys(ctx context.Context, exceptID string, at time.Time) error {
	_, err := t.exec(ctx, `UPDATE oidc_keys SET retired_at = ? WHERE id <> ? AND retired_at IS NULL`, at, exceptID)
	return err
}

func (t *tx) DeleteOIDCKeysRetiredBefore(ctx context.Context, before time.Time) (int64, error) {
	res, err := t.exec(ctx, `DELETE FROM oidc_keys WHERE retired_at IS NOT NULL AND retired_at < ?`, before)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}
