package core

import (
	"context"
	"fmt"
	"strings"
)

// CreateApp adds an app.
func (s *Service) CreateApp(ctx context.Context, a Actor, orgID, name string) (*App, error) {
	var p problems
	if strings.TrimSpace(name) == "" {
		p.add("name", "is required")
	}
	checkText(&p, "name", name, MaxNameLen)
	if err := p.err(); err != nil {
		return nil, err
	}
	if err := authorizeOwnerAdmin(a, PermApps); err != nil {
		return nil, err
	}
	app := &App{ID: newID(), OrgID: orgID, Name: strings.TrimSpace(name), CreatedAt: s.now()}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.InsertApp(ctx, app); err != nil {
			return err
		}
		return s.record(ctx, tx, a, orgID, "app.create", "app", app.ID, nil, app)
	})
	if err != nil {
		return nil, fmt.Errorf("create app %q: %w", name, err)
	}
	return app, nil
}

// AppGrant names an app's grant to one user or to one group's members.
type AppGrant struct {
	OrgID   string
	AppID   string
	UserID  string // exactly one of UserID and GroupID
	GroupID string
	AppRole string // DefaultAppRole when empty (AssignApp only)
}

// AssignApp gives a user or a group's members access to an app with an app
// role (DefaultAppRole when empty).
func (s *Service) AssignApp(ctx context.Context, a Actor, g AppGrant) error {
	orgID, appID, userID, groupID, appRole := g.OrgID, g.AppID, g.UserID, g.GroupID, g.AppRole
	if appRole == "" {
		appRole = DefaultAppRole
	}
	var p problems
	checkText(&p, "app_role", appRole, MaxNameLen)
	if (userID == "") == (groupID == "") {
		p.add("user_id", "name exactly one of user_id and group_id")
	}
	if err := p.err(); err != nil {
		return err
	}
	if err := authorizeOwnerAdmin(a, PermApps); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		app, err := tx.AppByID(ctx, orgID, appID)
		if err != nil {
			return err
		}
		target := map[string]string{"app": app.Name, "app_role": appRole}
		if userID != "" {
			if _, err := tx.UserByID(ctx, orgID, userID); err != nil {
				return err
			}
			if err := tx.AssignApp(ctx, app.ID, userID, appRole); err != nil {
				return err
			}
			return s.record(ctx, tx, a, orgID, "app.assign", "user", userID, nil, target)
		}
		if _, err := tx.GroupByID(ctx, orgID, groupID); err != nil {
			return err
		}
		if err := tx.GrantGroupApp(ctx, app.ID, groupID, appRole); err != nil {
			return err
		}
		return s.record(ctx, tx, a, orgID, "app.assign", "group", groupID, nil, target)
	})
	if err != nil {
		return fmt.Errorf("assign app %s: %w", appID, err)
	}
	return nil
}

// UnassignApp removes a user's direct assignment or a group's grant.
func (s *Service) UnassignApp(ctx context.Context, a Actor, g AppGrant) error {
	orgID, appID, userID, groupID := g.OrgID, g.AppID, g.UserID, g.GroupID
	if err := authorizeOwnerAdmin(a, PermApps); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		app, err := tx.AppByID(ctx, orgID, appID)
		if err != nil {
			return err
		}
		target, kind := userID, "user"
		var removed bool
		if userID != "" {
			removed, err = tx.UnassignApp(ctx, app.ID, userID)
		} else {
			target, kind = groupID, "group"
			removed, err = tx.RevokeGroupApp(ctx, app.ID, groupID)
		}
		if err != nil {
			return err
		}
		if !removed {
			return &NotFoundError{Kind: "assignment of app " + app.Name + " to " + kind, Key: target}
		}
		return s.record(ctx, tx, a, orgID, "app.unassign", kind, target, map[string]string{"app": app.Name}, nil)
	})
	if err != nil {
		return fmt.Errorf("unassign app %s: %w", appID, err)
	}
	return nil
}

// ListApps returns an organisation's apps by name.
func (s *Service) ListApps(ctx context.Context, orgID string) ([]App, error) {
	return read(ctx, s.store, func(tx Tx) ([]App, error) { return tx.ListApps(ctx, orgID) })
}

// RenameApp changes an app's name.
func (s *Service) RenameApp(ctx context.Context, a Actor, orgID, id, name string) (*App, error) {
	var p problems
	if strings.TrimSpace(name) == "" {
		p.add("name", "is required")
	}
	checkText(&p, "name", name, MaxNameLen)
	if err := p.err(); err != nil {
		return nil, err
	}
	if err := authorizeOwnerAdmin(a, PermApps); err != nil {
		return nil, err
	}
	var out *App
	err := s.store.InTx(ctx, func(tx Tx) error {
		app, err := tx.AppByID(ctx, orgID, id)
		if err != nil {
			return err
		}
		before := *app
		app.Name = strings.TrimSpace(name)
		if err := tx.UpdateApp(ctx, app); err != nil {
			return err
		}
		out = app
		return s.record(ctx, tx, a, orgID, "app.rename", "app", app.ID, &before, app)
	})
	if err != nil {
		return nil, fmt.Errorf("rename app %s: %w", id, err)
	}
	return out, nil
}

// DeleteApp removes an app and every assignment of it.
func (s *Service) DeleteApp(ctx context.Context, a Actor, orgID, id string) error {
	if err := authorizeOwnerAdmin(a, PermApps); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		app, err := tx.AppByID(ctx, orgID, id)
		if err != nil {
			return err
		}
		if err := tx.DeleteApp(ctx, orgID, id); err != nil {
			return err
		}
		return s.record(ctx, tx, a, orgID, "app.delete", "app", app.ID, app, nil)
	})
	if err != nil {
		return fmt.Errorf("delete app %s: %w", id, err)
	}
	return nil
}

// AppRepo stores apps and who is assigned to them.
type AppRepo interface {
	InsertApp(ctx context.Context, a *App) error
	UpdateApp(ctx context.Context, a *App) error
	DeleteApp(ctx context.Context, orgID, id string) error
	AppByID(ctx context.Context, orgID, id string) (*App, error)
	AppByName(ctx context.Context, orgID, name string) (*App, error)
	ListApps(ctx context.Context, orgID string) ([]App, error)
	AssignApp(ctx context.Context, appID, userID, appRole string) error
	UnassignApp(ctx context.Context, appID, userID string) (bool, error)
	GrantGroupApp(ctx context.Context, appID, groupID, appRole string) error
	RevokeGroupApp(ctx context.Context, appID, groupID string) (bool, error)
	UserApps(ctx context.Context, userID string) ([]AppAssignment, error)
}
