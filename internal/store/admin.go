package store

import (
	"context"
	"time"

	"github.com/rosterhq/roster/core"
)

func (t *tx) AppByID(ctx context.Context, orgID, id string) (*core.App, error) {
	var a core.App
	if err := t.get(ctx, &a, "app", id, `SELECT id, org_id, name, created_by_id, created_at FROM apps WHERE org_id = ? AND id = ?`, orgID, id); err != nil {
		return nil, err
	}
	return &a, nil
}

func (t *tx) ListApps(ctx context.Context, orgID string) ([]core.App, error) {
	out := []core.App{}
	err := t.sel(ctx, &out, `SELECT id, org_id, name, created_by_id, created_at FROM apps WHERE org_id = ? ORDER BY name_key`, orgID)
	return out, err
}

func (t *tx) UpdateApp(ctx context.Context, a *core.App) error {
	n, err := t.execMayConflict(ctx, `UPDATE apps SET name = ?, name_key = ? WHERE org_id = ? AND id = ?`, a.Name, core.FoldKey(a.Name), a.OrgID, a.ID)
	if err != nil {
		return err
	}
	if n == 0 {
		return &core.NotFoundError{Kind: "app", Key: a.ID}
	}
	return nil
}

func (t *tx) DeleteApp(ctx context.Context, orgID, id string) error {
	res, err := t.exec(ctx, `DELETE FROM apps WHERE org_id = ? AND id = ?`, orgID, id)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return &core.NotFoundError{Kind: "app", Key: id}
	}
	return nil
}

func (t *tx) UnassignApp(ctx context.Context, appID, userID string) (bool, error) {
	res, err := t.exec(ctx, `DELETE FROM app_users WHERE app_id = ? AND user_id = ?`, appID, userID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

func (t *tx) RevokeGroupApp(ctx context.Context, appID, groupID string) (bool, error) {
	res, err := t.exec(ctx, `DELETE FROM app_groups WHERE app_id = ? AND group_id = ?`, appID, groupID)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

func (t *tx) AppGroups(ctx context.Context, appID string) ([]core.AppGroupGrant, error) {
	out := []core.AppGroupGrant{}
	err := t.sel(ctx, &out, `SELECT g.id AS group_id, g.name AS group_name, ag.app_role
		  FROM app_groups ag JOIN groups g ON g.id = ag.group_id WHERE ag.app_id = ? ORDER BY g.name_key`, appID)
	return out, err
}

func (t *tx) ListTokens(ctx context.Context, orgID string) ([]core.APIToken, error) {
	out := []core.APIToken{}
	err := t.sel(ctx, &out, `SELECT `+tokenCols+` FROM api_tokens WHERE org_id = ? ORDER BY created_at, name`, orgID)
	return out, err
}

func (t *tx) RevokeToken(ctx context.Context, orgID, id string, at time.Time) (bool, error) {
	res, err := t.exec(ctx, `UPDATE api_tokens SET revoked_at = ? WHERE org_id = ? AND id = ? AND revoked_at IS NULL`, at, orgID, id)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}
