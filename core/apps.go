package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
)

// NewToken is the input of IssueToken.
type NewToken struct {
	Name  string
	Scope TokenScope
	// UserID is the user an admin token acts as. A person may name only
	// themself (empty means themself); the operator (CLI) names anyone.
	UserID string
	// RoleCeiling is the highest role a SCIM token may grant: at most the
	// creator's own role, DefaultRoleCeiling (admin) when empty. Only an
	// owner (or the operator) makes a token that may grant owner, and only
	// by asking for it.
	RoleCeiling Role
	// Settings, when set, are a SCIM token's settings, stored with it.
	Settings *DirectorySettings
}

// CreateToken issues a bearer token for an organisation and returns its
// secret, which is shown once: only its hash is stored. An admin token acts
// as userID.
func (s *Service) CreateToken(ctx context.Context, a Actor, orgID, name string, scope TokenScope, userID string) (string, *APIToken, error) {
	return s.IssueToken(ctx, a, orgID, NewToken{Name: name, Scope: scope, UserID: userID})
}

// creatorRole is the most an actor may grant through a token: a person's
// role; the operator and background jobs are owner-level.
func creatorRole(a Actor) Role {
	if isPerson(a) {
		return a.Role
	}
	return RoleOwner
}

// IssueToken issues a bearer token (see NewToken) and returns its secret,
// which is shown once: only its hash is stored. No one acts as someone
// else: a person's admin token acts as that person. A SCIM token grants at
// most its role ceiling, which is at most its creator's role.
func (s *Service) IssueToken(ctx context.Context, a Actor, orgID string, in NewToken) (string, *APIToken, error) {
	name, scope, userID := in.Name, in.Scope, in.UserID
	var p problems
	checkText(&p, "name", name, MaxNameLen)
	if strings.TrimSpace(name) == "" {
		p.add("name", "is required")
	}
	prefix := ""
	ceiling := in.RoleCeiling
	switch scope {
	case ScopeSCIM:
		prefix = PrefixSCIM
		if userID != "" {
			p.add("user_id", "a SCIM token does not act as a user")
		}
		if ceiling == "" {
			ceiling = ClampRole(DefaultRoleCeiling, creatorRole(a))
		} else if !ceiling.Valid() {
			p.add("role_ceiling", "%q is not one of owner, admin, user_manager, developer, member", ceiling)
		}
	case ScopeAdmin:
		prefix = PrefixAdmin
		if ceiling != "" {
			p.add("role_ceiling", "applies to SCIM tokens only; an admin token acts with its user's role")
		}
		if in.Settings != nil {
			p.add("scope", "SCIM settings apply to SCIM tokens only")
		}
		if userID == "" && isPerson(a) {
			userID = a.ID
		}
		if userID == "" {
			p.add("user_id", "is required for an admin token")
		}
	default:
		p.add("scope", "%q is not one of scim, admin", scope)
	}
	if err := p.err(); err != nil {
		return "", nil, err
	}
	if err := authorizeOrgSettings(a); err != nil {
		return "", nil, err
	}
	if scope == ScopeAdmin && isPerson(a) && userID != a.ID {
		return "", nil, &ForbiddenError{Field: "user_id", Reason: "an admin token acts only as the person who creates it; leave user_id empty or give your own id (the operator names other users with `roster token create --user`)"}
	}
	if scope == ScopeSCIM && ceiling.Above(creatorRole(a)) {
		return "", nil, &ForbiddenError{Field: "role_ceiling", Reason: fmt.Sprintf("a token cannot grant more than its creator may: your role (%s) cannot give a token the role ceiling %s", creatorRole(a), ceiling)}
	}
	var set *DirectorySettings
	if scope == ScopeSCIM && in.Settings != nil {
		c := *in.Settings
		set = &c
		if err := checkDirectorySettings(a, set, ceiling); err != nil {
			return "", nil, err
		}
	}
	secret, err := NewSecret(prefix)
	if err != nil {
		return "", nil, err
	}
	t := &APIToken{ID: newID(), OrgID: orgID, Name: name, Scope: scope, TokenHash: HashSecret(secret), CreatedAt: s.now(),
		CreatedByID: a.ID, CreatedByName: a.Name}
	if scope == ScopeSCIM {
		t.RoleCeiling = ceiling
	}
	if !isPerson(a) {
		t.CreatedByID = ""
	}
	if userID != "" {
		t.UserID = &userID
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if userID != "" {
			u, err := tx.UserByID(ctx, orgID, userID)
			if err != nil {
				return err
			}
			if !u.Status.CanLogIn() {
				return invalid("user_id", "%s is %s and cannot act", u.Username, u.Status)
			}
		}
		if err := tx.InsertToken(ctx, t); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, orgID, "token.create", "token", t.ID, nil, t); err != nil {
			return err
		}
		if set != nil {
			set.TokenID = t.ID
			if err := tx.PutDirectorySettings(ctx, set); err != nil {
				return err
			}
			return s.record(ctx, tx, a, orgID, "token.scim_settings", "token", t.ID, nil, set)
		}
		return nil
	})
	if err != nil {
		return "", nil, fmt.Errorf("create %s token %q: %w", scope, name, err)
	}
	return secret, t, nil
}

// AuthenticateToken resolves a bearer secret to its token. It fails with
// ErrUnauthorized for unknown or revoked tokens, and for admin tokens whose
// user can no longer log in.
func (s *Service) AuthenticateToken(ctx context.Context, secret string, scope TokenScope) (*APIToken, error) {
	var t *APIToken
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		t, err = tx.TokenByHash(ctx, HashSecret(secret))
		if errors.Is(err, ErrNotFound) {
			return ErrUnauthorized
		}
		if err != nil {
			return err
		}
		if t.RevokedAt != nil || t.Scope != scope {
			return ErrUnauthorized
		}
		if t.UserID != nil {
			u, err := tx.UserByID(ctx, t.OrgID, *t.UserID)
			if errors.Is(err, ErrNotFound) {
				return ErrUnauthorized
			}
			if err != nil {
				return err
			}
			if !u.Status.CanLogIn() {
				return ErrUnauthorized
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// NewGroup is a group to create: a native one unless a directory creates
// one of its own source.
type NewGroup struct {
	OrgID      string
	Name       string
	Source     string // SourceNative when empty
	ExternalID string
}

// CreateGroup adds a group.
func (s *Service) CreateGroup(ctx context.Context, a Actor, in NewGroup) (*Group, error) {
	orgID, name, source, externalID := in.OrgID, in.Name, in.Source, in.ExternalID
	var p problems
	if strings.TrimSpace(name) == "" {
		p.add("name", "is required")
	}
	checkText(&p, "name", name, MaxNameLen)
	checkText(&p, "external_id", externalID, MaxExternalID)
	if err := p.err(); err != nil {
		return nil, err
	}
	if source == "" {
		source = SourceNative
	}
	if (a.Kind == ActorSCIM || a.Kind == ActorLDAP) && source != a.Source {
		return nil, &ForbiddenError{Reason: "a directory creates groups of its own source only"}
	}
	if err := authorizeOrgSettings(a); err != nil {
		return nil, err
	}
	now := s.now()
	g := &Group{ID: newID(), OrgID: orgID, Name: strings.TrimSpace(name), Source: source, ExternalID: externalID, CreatedAt: now, UpdatedAt: now}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.GroupByName(ctx, orgID, g.Name); err == nil {
			return &ConflictError{Field: "name", Message: fmt.Sprintf("a group %q already exists", g.Name)}
		} else if !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := tx.InsertGroup(ctx, g); err != nil {
			return err
		}
		return s.record(ctx, tx, a, orgID, "group.create", "group", g.ID, nil, g)
	})
	if err != nil {
		return nil, fmt.Errorf("create group %q: %w", name, err)
	}
	return g, nil
}

// SetGroupMember adds (member=true) or removes a user from a group.
func (s *Service) SetGroupMember(ctx context.Context, a Actor, orgID, groupID, userID string, member bool) error {
	err := s.store.InTx(ctx, func(tx Tx) error {
		g, err := tx.GroupByID(ctx, orgID, groupID)
		if err != nil {
			return err
		}
		u, err := tx.UserByID(ctx, orgID, userID)
		if err != nil {
			return err
		}
		if err := authorizeGroup(a, g); err != nil {
			return err
		}
		action := "group.add_member"
		if member {
			err = tx.AddGroupMember(ctx, g.ID, u.ID)
		} else {
			action = "group.remove_member"
			err = tx.RemoveGroupMember(ctx, g.ID, u.ID)
		}
		if err != nil {
			return err
		}
		return s.record(ctx, tx, a, orgID, action, "user", u.ID, nil, map[string]string{"group": g.Name})
	})
	if err != nil {
		return fmt.Errorf("group %s member %s: %w", groupID, userID, err)
	}
	return nil
}

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
	if err := authorizeOrgSettings(a); err != nil {
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
	if err := authorizeOrgSettings(a); err != nil {
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
	if err := authorizeOrgSettings(a); err != nil {
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
	if err := authorizeOrgSettings(a); err != nil {
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
	if err := authorizeOrgSettings(a); err != nil {
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

// ListTokens returns an organisation's API tokens (never their secrets).
func (s *Service) ListTokens(ctx context.Context, a Actor, orgID string) ([]APIToken, error) {
	if err := authorizeOrgSettings(a); err != nil {
		return nil, err
	}
	return read(ctx, s.store, func(tx Tx) ([]APIToken, error) { return tx.ListTokens(ctx, orgID) })
}

// RevokeToken stops a token from working.
func (s *Service) RevokeToken(ctx context.Context, a Actor, orgID, id string) error {
	if err := authorizeOrgSettings(a); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		ok, err := tx.RevokeToken(ctx, orgID, id, s.now())
		if err != nil {
			return err
		}
		if !ok {
			return &NotFoundError{Kind: "active token", Key: id}
		}
		return s.record(ctx, tx, a, orgID, "token.revoke", "token", id, nil, nil)
	})
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
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
