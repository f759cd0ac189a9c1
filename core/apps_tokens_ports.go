package core

import (
	"context"
	"time"
)

// AdminTx is the part of Tx behind the admin API's apps and tokens.
type AdminTx interface {
	AppByID(ctx context.Context, orgID, id string) (*App, error)
	ListApps(ctx context.Context, orgID string) ([]App, error)
	UpdateApp(ctx context.Context, a *App) error
	DeleteApp(ctx context.Context, orgID, id string) error
	UnassignApp(ctx context.Context, appID, userID string) (bool, error)
	RevokeGroupApp(ctx context.Context, appID, groupID string) (bool, error)
	ListTokens(ctx context.Context, orgID string) ([]APIToken, error)
	RevokeToken(ctx context.Context, orgID, id string, at time.Time) (bool, error)
}
