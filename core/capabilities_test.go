package core

import (
	"strings"
	"testing"
)

// UserActions follows the user's status and the actor's rule over the user.
func TestUserActionsByStatusAndRole(t *testing.T) {
	owner := Actor{Kind: ActorAdmin, ID: "o", Role: RoleOwner}
	um := Actor{Kind: ActorAdmin, ID: "m", Role: RoleUserManager}
	for _, tc := range []struct {
		name  string
		a     Actor
		u     User
		wants string
	}{
		{"invited", owner, User{ID: "u", Status: StatusInvited, Role: RoleMember, Source: SourceNative}, "resend_invite,invite_link,delete,edit,change_role"},
		{"active native", owner, User{ID: "u", Status: StatusActive, Role: RoleMember, Source: SourceNative}, "disable,set_password,send_password_reset,archive,edit,change_role"},
		{"active from a directory", owner, User{ID: "u", Status: StatusActive, Role: RoleMember, Source: "ldap:corp"}, "disable,archive,edit,change_role"},
		{"locked", owner, User{ID: "u", Status: StatusLocked, Role: RoleMember, Source: SourceNative}, "disable,unlock,set_password,send_password_reset,archive,edit,change_role"},
		{"disabled", owner, User{ID: "u", Status: StatusDisabled, Role: RoleMember, Source: SourceNative}, "enable,archive,edit,change_role"},
		{"archived", owner, User{ID: "u", Status: StatusArchived, Role: RoleMember, Source: SourceNative}, "restore"},
		{"oneself", owner, User{ID: "o", Status: StatusActive, Role: RoleOwner, Source: SourceNative}, "set_password,send_password_reset,edit,change_role"},
		{"user manager on a member", um, User{ID: "u", Status: StatusActive, Role: RoleMember, Source: SourceNative}, "set_password,send_password_reset,edit,change_role"},
		{"user manager on an invitee", um, User{ID: "u", Status: StatusInvited, Role: RoleDeveloper, Source: SourceNative}, "resend_invite,invite_link,edit,change_role"},
		{"user manager on a peer", um, User{ID: "p", Status: StatusActive, Role: RoleUserManager, Source: SourceNative}, ""},
		{"admin on an owner", Actor{Kind: ActorAdmin, ID: "a", Role: RoleAdmin}, User{ID: "o", Status: StatusActive, Role: RoleOwner, Source: SourceNative}, ""},
	} {
		if got := strings.Join(UserActions(tc.a, &tc.u), ","); got != tc.wants {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.wants)
		}
	}
}
