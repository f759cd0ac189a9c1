package core

import "context"

// Who may do what. Directory actors (SCIM, LDAP) act only on the users of
// their own source; people act by their org role (Jigx: only owners and admins
// disable or remove users; Digital.ai: user managers manage non-admin users).

func isPerson(a Actor) bool { return a.Kind == ActorAdmin }

// authorizeOrgSettings: only owners and admins change organisation settings.
func authorizeOrgSettings(a Actor) error {
	if isPerson(a) && !a.Role.IsAdmin() {
		return &ForbiddenError{Reason: "only owners and admins change organisation settings"}
	}
	return nil
}

// authorizeCreate checks that a may create a user with role r.
func authorizeCreate(a Actor, r Role) error {
	switch a.Kind {
	case ActorAdmin:
		switch a.Role {
		case RoleOwner:
			return nil
		case RoleAdmin:
			if r == RoleOwner {
				return &ForbiddenError{Reason: "only an owner can make another owner"}
			}
			return nil
		case RoleUserManager:
			if r.IsAdmin() {
				return &ForbiddenError{Reason: "a user manager cannot create owners or admins"}
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
			if u.Role.IsAdmin() {
				return &ForbiddenError{Reason: "a user manager cannot change owners or admins"}
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
	if isPerson(a) && !a.Role.IsAdmin() && a.Role != RoleUserManager {
		return &ForbiddenError{Reason: "only owners, admins and user managers manage users"}
	}
	return nil
}

// AuthorizeRemoveUsers checks that a person may disable or archive users at all
// (Jigx: only owners and admins); each user is still checked on its own.
func AuthorizeRemoveUsers(a Actor) error {
	if isPerson(a) && !a.Role.IsAdmin() {
		return &ForbiddenError{Reason: "only owners and admins can disable or remove users"}
	}
	return nil
}
