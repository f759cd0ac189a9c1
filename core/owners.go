package core

import "context"

// The organisation always keeps an owner: no door, actor or job may demote,
// disable, archive, delete or idle its last owner. An owner "holds" the
// organisation while active or locked (a lockout is lifted by an unlock).

func holdsOrg(u *User) bool {
	return u != nil && u.Role == RoleOwner && (u.Status == StatusActive || u.Status == StatusLocked)
}

// keepOwner refuses a change that would leave the organisation without an
// owner: before is the user as stored, after as the change would write it
// (nil when the user is deleted); what completes "the last owner cannot …".
func keepOwner(ctx context.Context, tx Tx, before, after *User, what string) error {
	if !holdsOrg(before) || holdsOrg(after) {
		return nil
	}
	// Locked for the transaction: two owners demoting each other at once
	// are served one after the other, and the second sees the first's change.
	owners, err := tx.ListUsers(ctx, UserQuery{OrgID: before.OrgID, Roles: []Role{RoleOwner}, Statuses: []Status{StatusActive, StatusLocked}, ForUpdate: true})
	if err != nil {
		return err
	}
	for _, o := range owners {
		if o.ID != before.ID {
			return nil
		}
	}
	return &ForbiddenError{Reason: "the last owner cannot " + what + "; make another user owner first"}
}

// ownerLoss is what an action does to an owner, for keepOwner's message.
func ownerLoss(act Action) string {
	switch act {
	case ActDisable:
		return "be disabled"
	case ActArchive:
		return "be archived"
	case ActMarkIdle:
		return "become inactive"
	}
	return string(act)
}

// lastOwnerDemoted is keepOwner's refusal for a role change.
const lastOwnerDemoted = "be given another role"
