package core

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strconv"
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
	app := &App{ID: newID(), OrgID: orgID, Name: strings.TrimSpace(name), CreatedAt: s.now()}
	if isPerson(a) {
		app.CreatedByID = a.ID
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := appManager(ctx, tx, a, orgID); err != nil {
			return err
		}
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

// appManager checks that a may create and manage apps: owners and admins
// (and the operator) every app; a person allowed to create apps
// (can_create_apps, read from the store now, not from the session) only the
// apps they created: own is true then.
func appManager(ctx context.Context, tx Tx, a Actor, orgID string) (own bool, err error) {
	if err := authorizeOwnerAdmin(a, PermApps); err == nil {
		return false, nil
	} else if !isPerson(a) || catalog(a) {
		return false, err
	}
	u, err := tx.UserByID(ctx, orgID, a.ID)
	if err != nil || !u.CanCreateApps {
		return false, &ForbiddenError{Reason: PermApps.Sentence()}
	}
	return true, nil
}

// canCreateApps reads a's can_create_apps now (false for anyone but a person).
func canCreateApps(ctx context.Context, tx Tx, a Actor, orgID string) (bool, error) {
	if !isPerson(a) || catalog(a) {
		return false, nil
	}
	u, err := tx.UserByID(ctx, orgID, a.ID)
	if err != nil {
		var nf *NotFoundError
		if errors.As(err, &nf) {
			return false, nil
		}
		return false, err
	}
	return u.CanCreateApps, nil
}

// mayManageApp is the rule of managedApp for one app, a's can_create_apps
// given: owners and admins every app, a person allowed to create apps the
// apps they created.
func mayManageApp(a Actor, app *App, canCreateApps bool) error {
	err := authorizeOwnerAdmin(a, PermApps)
	if err == nil {
		return nil
	}
	if !isPerson(a) || catalog(a) || !canCreateApps {
		return err
	}
	if app.CreatedByID != a.ID {
		return &ForbiddenError{Reason: "a member allowed to create apps manages only the apps they created; " + strconv.Quote(app.Name) + " was created by someone else"}
	}
	return nil
}

// managedApp loads an app that a may manage (rename, delete, assign).
func managedApp(ctx context.Context, tx Tx, a Actor, orgID, id string) (*App, error) {
	own, err := appManager(ctx, tx, a, orgID)
	if err != nil {
		return nil, err
	}
	app, err := tx.AppByID(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	if err := mayManageApp(a, app, own); err != nil {
		return nil, err
	}
	return app, nil
}

// AppRow is an app with what the caller may do to it (AppActions).
type AppRow struct {
	App
	Actions []string `json:"actions"`
}

// AppsWithActions is AppsFor, each app with the caller's actions.
func (s *Service) AppsWithActions(ctx context.Context, a Actor, orgID string) ([]AppRow, error) {
	apps, err := s.AppsFor(ctx, a, orgID)
	if err != nil {
		return nil, err
	}
	return read(ctx, s.store, func(tx Tx) ([]AppRow, error) {
		may, err := canCreateApps(ctx, tx, a, orgID)
		if err != nil {
			return nil, err
		}
		out := make([]AppRow, len(apps))
		for i := range apps {
			out[i] = AppRow{App: apps[i], Actions: AppActions(a, &apps[i], may)}
		}
		return out, nil
	})
}

// AppMember is a user with access to an app: the app role in force, and
// the group it comes through (ViaGroup empty: assigned directly, which wins
// over a group's grant).
type AppMember struct {
	UserID   string `json:"user_id"`
	Username string `json:"username"`
	FullName string `json:"full_name"`
	Email    string `json:"email"`
	Status   Status `json:"status"`
	AppRole  string `json:"app_role"`
	ViaGroup string `json:"via_group,omitempty"`
}

// AppGroupGrant is a group whose members have access to an app.
type AppGroupGrant struct {
	GroupID   string `json:"group_id" db:"group_id"`
	GroupName string `json:"group_name" db:"group_name"`
	AppRole   string `json:"app_role" db:"app_role"`
}

// AppAccess is who has access to an app: its users, by username, and the
// groups granted it, by name.
type AppAccess struct {
	Users  []AppMember     `json:"users"`
	Groups []AppGroupGrant `json:"groups"`
}

// AppAccessOf lists an app's users (direct or through a group, with the
// app role) and granted groups, for those who may see it: owners, admins
// and user managers, and whoever manages the app.
func (s *Service) AppAccessOf(ctx context.Context, a Actor, orgID, appID string) (*AppAccess, error) {
	out, err := read(ctx, s.store, func(tx Tx) (*AppAccess, error) {
		app, err := tx.AppByID(ctx, orgID, appID)
		if err != nil {
			return nil, err
		}
		if AuthorizeUserAdmin(a) != nil {
			if _, err := managedApp(ctx, tx, a, orgID, appID); err != nil {
				return nil, err
			}
		}
		users, err := tx.AppUsers(ctx, app.ID)
		if err != nil {
			return nil, err
		}
		ids := make([]string, len(users))
		for i, u := range users {
			ids[i] = u.UserID
		}
		us, err := tx.UsersByIDs(ctx, orgID, ids)
		if err != nil {
			return nil, err
		}
		grants, err := tx.AppsOfUsers(ctx, ids)
		if err != nil {
			return nil, err
		}
		out := &AppAccess{Users: make([]AppMember, 0, len(us)), Groups: []AppGroupGrant{}}
		for _, u := range us {
			m := AppMember{UserID: u.ID, Username: u.Username, FullName: u.FullName(), Email: u.Email, Status: u.Status}
			for _, g := range grants[u.ID] {
				if g.AppID == app.ID {
					m.AppRole, m.ViaGroup = g.AppRole, g.ViaGroup
					break
				}
			}
			out.Users = append(out.Users, m)
		}
		sort.Slice(out.Users, func(i, j int) bool { return FoldKey(out.Users[i].Username) < FoldKey(out.Users[j].Username) })
		if out.Groups, err = tx.AppGroups(ctx, app.ID); err != nil {
			return nil, err
		}
		return out, nil
	})
	if err != nil {
		return nil, fmt.Errorf("users of app %s: %w", appID, err)
	}
	return out, nil
}

// AppsFor lists the apps a may see: every app of the organisation for
// owners, admins and user managers; the apps they created for a person
// allowed to create apps.
func (s *Service) AppsFor(ctx context.Context, a Actor, orgID string) ([]App, error) {
	if AuthorizeUserAdmin(a) == nil {
		return s.ListApps(ctx, orgID)
	}
	return read(ctx, s.store, func(tx Tx) ([]App, error) {
		if _, err := appManager(ctx, tx, a, orgID); err != nil {
			return nil, err
		}
		all, err := tx.ListApps(ctx, orgID)
		if err != nil {
			return nil, err
		}
		own := []App{}
		for _, app := range all {
			if app.CreatedByID == a.ID {
				own = append(own, app)
			}
		}
		return own, nil
	})
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
	err := s.store.InTx(ctx, func(tx Tx) error {
		app, err := managedApp(ctx, tx, a, orgID, appID)
		if err != nil {
			return err
		}
		target := map[string]string{"app": app.Name, "app_role": appRole}
		if userID != "" {
			if _, err := tx.UserByID(ctx, orgID, userID); err != nil {
				return err
			}
			// A new role for a user already assigned keeps the old one
			// in history (the user page reads "App role … changed from … to …").
			var before any
			apps, err := tx.UserApps(ctx, userID)
			if err != nil {
				return err
			}
			for _, got := range apps {
				if got.AppID == app.ID && got.ViaGroup == "" {
					before = map[string]string{"app": app.Name, "app_role": got.AppRole}
				}
			}
			if err := tx.AssignApp(ctx, app.ID, userID, appRole); err != nil {
				return err
			}
			return s.record(ctx, tx, a, orgID, "app.assign", "user", userID, before, target)
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
	err := s.store.InTx(ctx, func(tx Tx) error {
		app, err := managedApp(ctx, tx, a, orgID, appID)
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
	var out *App
	err := s.store.InTx(ctx, func(tx Tx) error {
		app, err := managedApp(ctx, tx, a, orgID, id)
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
	err := s.store.InTx(ctx, func(tx Tx) error {
		app, err := managedApp(ctx, tx, a, orgID, id)
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
	// AppUsers lists the users of an app, each once: direct assignments,
	// then members of the groups granted it, by user id.
	AppUsers(ctx context.Context, appID string) ([]AppUser, error)
	// AppGroups lists the groups granted an app, by name.
	AppGroups(ctx context.Context, appID string) ([]AppGroupGrant, error)
}
