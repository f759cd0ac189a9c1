package core

import "context"

// Who may do what. Directory actors (SCIM, LDAP) act only on the users of
// their own source; people act by their org role: only owners and admins
// disable or remove users, and user managers manage the roles below theirs.

func isPerson(a Actor) bool { return a.Kind == ActorAdmin }

// errCatalogSession is why a person signed in for the app catalog may not
// administer: a catalog session is not an admin session.
var errCatalogSession = &ForbiddenError{Reason: "a catalog session cannot administer the organisation; sign in to the console or use an admin token"}

// AuthorizeAdminSession checks that a principal may use the admin API at
// all: a console session or an admin token may; a catalog session may only
// read itself, change its password and log out.
func AuthorizeAdminSession(p *Principal) error {
	if p != nil && p.Audience == AudienceCatalog {
		return errCatalogSession
	}
	return nil
}

// catalog reports whether a is a person acting through a catalog session.
func catalog(a Actor) bool { return isPerson(a) && a.Audience == AudienceCatalog }

// Permission is one of the things only owners and admins do to the
// organisation. Each has its own sentence, so a refusal says the real reason.
type Permission int

const (
	PermOrgSettings       Permission = iota + 1 // invite validity, dormancy, default language
	PermPasswordPolicy                          // the password policy
	PermMetadataTemplate                        // the custom metadata template
	PermMailTemplates                           // the mail templates
	PermGroups                                  // groups and their members
	PermApps                                    // apps and who is assigned to them
	PermTokens                                  // SCIM and admin tokens
	PermDirectorySettings                       // a SCIM token's provisioning settings
	PermAuditLog                                // the organisation's audit log
)

// Permissions lists every Permission (for tests and docs).
var Permissions = []Permission{PermOrgSettings, PermPasswordPolicy, PermMetadataTemplate, PermMailTemplates,
	PermGroups, PermApps, PermTokens, PermDirectorySettings, PermAuditLog}

// Sentence is what a refused person is told: who may, and what.
func (p Permission) Sentence() string {
	switch p {
	case PermOrgSettings:
		return "only owners and admins change the organisation's settings"
	case PermPasswordPolicy:
		return "only owners and admins change the password policy"
	case PermMetadataTemplate:
		return "only owners and admins change the custom metadata template"
	case PermMailTemplates:
		return "only owners and admins change the mail templates"
	case PermGroups:
		return "only owners and admins create, rename and delete groups and change their members"
	case PermApps:
		return "only owners and admins, and members allowed to create apps (for the apps they created), create, rename, delete and assign apps"
	case PermTokens:
		return "only owners and admins see, create and revoke API tokens"
	case PermDirectorySettings:
		return "only owners and admins change a SCIM token's provisioning settings"
	case PermAuditLog:
		return "only owners and admins read the organisation's audit log"
	}
	return "only owners and admins do this"
}

// authorizeOwnerAdmin: only owners and admins have permission p (directory
// and system actors are checked by their own rules).
func authorizeOwnerAdmin(a Actor, p Permission) error {
	if catalog(a) {
		return errCatalogSession
	}
	if isPerson(a) && !a.Role.IsAdmin() {
		return &ForbiddenError{Reason: p.Sentence()}
	}
	return nil
}

// authorizeCreate checks that a may create a user with role r.
func authorizeCreate(a Actor, r Role) error {
	switch a.Kind {
	case ActorAdmin:
		if catalog(a) {
			return errCatalogSession
		}
		switch a.Role {
		case RoleOwner:
			return nil
		case RoleAdmin:
			if r == RoleOwner {
				return &ForbiddenError{Reason: "only an owner can make another owner"}
			}
			return nil
		case RoleUserManager:
			if !a.Role.Above(r) {
				return &ForbiddenError{Reason: "a user manager gives only roles below their own (developer, member)"}
			}
			return nil
		}
		return &ForbiddenError{Reason: "your role cannot manage users"}
	case ActorSelf:
		return &ForbiddenError{Reason: "users cannot create users"}
	}
	return nil
}

// manageable loads a user of the organisation that a may manage (remove:
// disable, archive or delete), in the caller's transaction.
func manageable(ctx context.Context, tx Tx, a Actor, orgID, id string, remove bool) (*User, error) {
	u, err := tx.UserByID(ctx, orgID, id)
	if err != nil {
		return nil, err
	}
	if err := authorizeManage(a, u, remove); err != nil {
		return nil, err
	}
	return u, nil
}

// authorizeManage checks that a may change user u with the given action.
// "remove" covers disable, archive and delete.
func authorizeManage(a Actor, u *User, remove bool) error {
	switch a.Kind {
	case ActorSCIM, ActorLDAP:
		if u.Source != a.Source {
			return &ForbiddenError{Reason: "the user belongs to source " + u.Source + ", not " + a.Source}
		}
		return nil
	case ActorAdmin:
		if catalog(a) {
			return errCatalogSession
		}
		if a.ID == u.ID && remove {
			return &ForbiddenError{Reason: "you cannot disable, archive or delete yourself"}
		}
		switch a.Role {
		case RoleOwner:
			return nil
		case RoleAdmin:
			if u.Role == RoleOwner {
				return &ForbiddenError{Reason: "only an owner can change an owner"}
			}
			return nil
		case RoleUserManager:
			if remove {
				return &ForbiddenError{Reason: "only owners and admins can disable or remove users"}
			}
			// Not a peer either: a user manager who could reassign another
			// user manager's password could sign in as them. (Themself they
			// may still edit, as before.)
			if a.ID != u.ID && !a.Role.Above(u.Role) {
				return &ForbiddenError{Reason: "a user manager manages only users whose role is below their own (developers and members), not " + string(u.Role) + "s"}
			}
			return nil
		}
		return &ForbiddenError{Reason: "your role cannot manage users"}
	case ActorSelf:
		if a.ID != u.ID {
			return &ForbiddenError{Reason: "users can change only themselves"}
		}
	}
	return nil
}

// AuthorizeUserAdmin checks that a person may see the organisation's users
// (owners, admins and user managers); directory and system actors may.
func AuthorizeUserAdmin(a Actor) error {
	if catalog(a) {
		return errCatalogSession
	}
	if isPerson(a) && !a.Role.IsAdmin() && a.Role != RoleUserManager {
		return &ForbiddenError{Reason: "only owners, admins and user managers manage users"}
	}
	return nil
}

// AuthorizeRemoveUsers checks that a person may disable or archive users at all
// (only owners and admins may); each user is still checked on its own.
func AuthorizeRemoveUsers(a Actor) error {
	if catalog(a) {
		return errCatalogSession
	}
	if isPerson(a) && !a.Role.IsAdmin() {
		return &ForbiddenError{Reason: "only owners and admins can disable or remove users"}
	}
	return nil
}
