package core

import "time"

// Action is a lifecycle action on a user.
type Action string

const (
	ActAccept   Action = "accept"    // the user accepts their invite
	ActDisable  Action = "disable"   // an admin or the directory de-activates
	ActEnable   Action = "enable"    // an admin or the directory re-activates (disabled or inactive)
	ActLock     Action = "lock"      // too many failed logins
	ActUnlock   Action = "unlock"    // an admin unlocks
	ActMarkIdle Action = "mark_idle" // the dormancy job
	ActArchive  Action = "archive"   // removal with history kept
	ActRestore  Action = "restore"   // back from the archive
)

// Transition computes the status a user moves to under an action, or a
// *TransitionError when the lifecycle forbids it. It is pure: the caller
// writes the result.
//
//	invited  --accept-->   active
//	invited|active|locked|inactive --disable--> disabled
//	disabled --enable-->  active (or invited if the invite was never accepted)
//	inactive --enable-->  active
//	active   --lock-->    locked      locked --unlock--> active
//	active   --mark_idle--> inactive
//	any but archived --archive--> archived --restore--> the status before archiving
func Transition(u *User, a Action) (Status, error) {
	from := u.Status
	refuse := func(reason string) (Status, error) {
		return "", &TransitionError{Action: string(a), From: from, Reason: reason}
	}
	switch a {
	case ActAccept:
		if from != StatusInvited {
			return refuse("only an invited user can accept an invitation")
		}
		return StatusActive, nil
	case ActDisable:
		switch from {
		case StatusInvited, StatusActive, StatusLocked, StatusInactive:
			return StatusDisabled, nil
		case StatusDisabled:
			return refuse("already disabled")
		}
		return refuse("restore the user first")
	case ActEnable:
		switch from {
		case StatusDisabled:
			if u.EverAccepted() {
				return StatusActive, nil
			}
			return StatusInvited, nil
		case StatusInactive:
			return StatusActive, nil
		case StatusActive:
			return refuse("already active")
		case StatusLocked:
			return refuse("unlock the user instead")
		case StatusInvited:
			return refuse("the user has not accepted the invitation yet")
		}
		return refuse("restore the user first")
	case ActLock:
		if from != StatusActive {
			return refuse("only an active user can be locked")
		}
		return StatusLocked, nil
	case ActUnlock:
		if from != StatusLocked {
			return refuse("the user is not locked")
		}
		return StatusActive, nil
	case ActMarkIdle:
		if from != StatusActive {
			return refuse("only an active user can become inactive")
		}
		return StatusInactive, nil
	case ActArchive:
		if from == StatusArchived {
			return refuse("already archived")
		}
		return StatusArchived, nil
	case ActRestore:
		if from != StatusArchived {
			return refuse("the user is not archived")
		}
		if u.StatusBeforeArchive.Valid() && u.StatusBeforeArchive != StatusArchived {
			return u.StatusBeforeArchive, nil
		}
		if u.EverAccepted() {
			return StatusActive, nil
		}
		return StatusInvited, nil
	}
	return refuse("unknown action")
}

// DeriveInviteStatus is the invite status admins see, derived from the stored
// state and the clock. An invite is pending up to and including its expiry
// instant and expired strictly after it — never from a cron that may not have run.
// An invitation not accepted by a user who is now disabled or archived is on
// hold, whatever its age or mail state: it cannot be used until the user is
// enabled or restored.
func DeriveInviteStatus(u *User, now time.Time) InviteStatus {
	if (u.InviteState == InviteStateSent || u.InviteState == InviteStateMailError) && invitationHeld(u.Status) {
		return InviteOnHold
	}
	switch u.InviteState {
	case InviteStateAccepted:
		return InviteAccepted
	case InviteStateMailError:
		return InviteMailError
	case InviteStateSent:
		if u.InviteExpiresAt != nil && now.After(*u.InviteExpiresAt) {
			return InviteExpired
		}
		return InvitePending
	}
	return InviteNone
}

// invitationHeld reports whether a user in status s holds an unaccepted
// invitation back (disabled or archived).
func invitationHeld(s Status) bool { return s == StatusDisabled || s == StatusArchived }

// CanDelete reports whether a user may be deleted outright. Only a user who
// never accepted (pending, mail error, expired, or never invited and never
// active) can be; anyone with history is archived instead.
func CanDelete(u *User) bool { return !u.EverAccepted() }
