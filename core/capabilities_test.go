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

// GroupActions: a directory's group (LDAP or SCIM) offers only the message,
// a native one everything to an owner; the refusal names the source.
func TestGroupActionsOfDirectoryGroups(t *testing.T) {
	owner := Actor{Kind: ActorAdmin, ID: "o", Role: RoleOwner}
	for _, tc := range []struct {
		source, wants string
	}{
		{SourceNative, "rename,edit_members,delete,message"},
		{"ldap:corp", "message"},
		{"scim:okta", "message"},
	} {
		g := Group{ID: "g", Name: "G", Source: tc.source}
		if got := strings.Join(GroupActions(owner, &g), ","); got != tc.wants {
			t.Errorf("%s: %s, want %s", tc.source, got, tc.wants)
		}
		if err := authorizeGroup(owner, &g); tc.source != SourceNative && (err == nil || !strings.Contains(err.Error(), tc.source)) {
			t.Errorf("%s: refusal %v does not name the source", tc.source, err)
		}
	}
}

// AppActions follows managedApp: owners and admins manage every app, a
// person allowed to create apps the apps they created; user managers see
// the users and message them.
func TestAppActionsByRole(t *testing.T) {
	mine := App{ID: "a", Name: "Mine", CreatedByID: "d"}
	other := App{ID: "b", Name: "Other", CreatedByID: "x"}
	dev := Actor{Kind: ActorAdmin, ID: "d", Role: RoleDeveloper}
	for _, tc := range []struct {
		name      string
		a         Actor
		app       App
		canCreate bool
		wants     string
	}{
		{"owner", Actor{Kind: ActorAdmin, ID: "o", Role: RoleOwner}, other, false, "rename,assign,edit_oidc,delete,users,view_oidc,message"},
		{"admin", Actor{Kind: ActorAdmin, ID: "o", Role: RoleAdmin}, other, false, "rename,assign,edit_oidc,delete,users,view_oidc,message"},
		{"user manager", Actor{Kind: ActorAdmin, ID: "m", Role: RoleUserManager}, other, false, "users,view_oidc,message"},
		{"creator, own app", dev, mine, true, "rename,assign,edit_oidc,delete,users,view_oidc"},
		{"creator, another's app", dev, other, true, ""},
		{"creator no longer allowed", dev, mine, false, ""},
		{"member", Actor{Kind: ActorAdmin, ID: "z", Role: RoleMember}, other, false, ""},
	} {
		if got := strings.Join(AppActions(tc.a, &tc.app, tc.canCreate), ","); got != tc.wants {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.wants)
		}
	}
}
