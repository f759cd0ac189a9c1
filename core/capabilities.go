package core

// What a signed-in person may do, told to the console so it renders menus
// from the same rules that refuse: Capabilities for the organisation as a
// whole, UserActions and GroupActions for one target. Each is computed by
// the authorize functions the services call, never by a copy of them.

// Capabilities are the organisation-wide things an actor may do.
type Capabilities struct {
	ManageUsers      bool `json:"manage_users"`      // see, add and edit users (the roles below one's own for a user manager)
	DisableUsers     bool `json:"disable_users"`     // disable, archive and delete users (each user is still checked)
	ArchiveUsers     bool `json:"archive_users"`     // the same rule as disable_users, named for the bulk action
	SetAdmin         bool `json:"set_admin"`         // make users admins (the bulk action)
	ManageGroups     bool `json:"manage_groups"`     // create groups; rename, delete and change members of native groups
	ManageApps       bool `json:"manage_apps"`       // create, rename, delete and assign apps
	CreateApps       bool `json:"create_apps"`       // create apps: manage_apps, or a person allowed to create apps (can_create_apps)
	OrgSettings      bool `json:"org_settings"`      // invite validity, dormancy, default language
	PasswordPolicy   bool `json:"password_policy"`   // the password policy
	MetadataTemplate bool `json:"metadata_template"` // the custom user fields
	MailTemplates    bool `json:"mail_templates"`    // the mail templates
	Tokens           bool `json:"tokens"`            // SCIM and admin tokens
	LDAP             bool `json:"ldap"`              // the LDAP sources page and sync
	AuditLog         bool `json:"audit_log"`         // the organisation's audit log
	// GrantableRoles are the roles the actor may give a new user.
	GrantableRoles []Role `json:"grantable_roles"`
}

// CapabilitiesOf computes an actor's capabilities.
func CapabilitiesOf(a Actor) Capabilities {
	ok := func(err error) bool { return err == nil }
	perm := func(p Permission) bool { return ok(authorizeOwnerAdmin(a, p)) }
	c := Capabilities{
		ManageUsers:      ok(AuthorizeUserAdmin(a)),
		DisableUsers:     ok(AuthorizeRemoveUsers(a)),
		ArchiveUsers:     ok(AuthorizeRemoveUsers(a)),
		ManageGroups:     perm(PermGroups),
		ManageApps:       perm(PermApps),
		OrgSettings:      perm(PermOrgSettings),
		PasswordPolicy:   perm(PermPasswordPolicy),
		MetadataTemplate: perm(PermMetadataTemplate),
		MailTemplates:    perm(PermMailTemplates),
		Tokens:           perm(PermTokens),
		// The LDAP page runs syncs that disable and archive: the same rule.
		LDAP:           ok(AuthorizeRemoveUsers(a)),
		GrantableRoles: []Role{},
		AuditLog:       ok(AuthorizeAuditLog(a)),
	}
	for _, r := range []Role{RoleOwner, RoleAdmin, RoleUserManager, RoleDeveloper, RoleMember} {
		if c.ManageUsers && ok(authorizeCreate(a, r)) {
			c.GrantableRoles = append(c.GrantableRoles, r)
		}
	}
	c.SetAdmin = c.ManageUsers && ok(authorizeCreate(a, RoleAdmin))
	c.CreateApps = c.ManageApps
	return c
}

// CapabilitiesOfUser is CapabilitiesOf for a person whose stored user is u
// (nil for an operator or a token without one): create_apps follows u's
// can_create_apps, as CreateApp reads it.
func CapabilitiesOfUser(a Actor, u *User) Capabilities {
	c := CapabilitiesOf(a)
	if !c.CreateApps && u != nil && u.ID == a.ID {
		c.CreateApps = mayManageApp(a, &App{CreatedByID: a.ID}, u.CanCreateApps) == nil
	}
	return c
}

// User actions, as the console's ⋯ menu offers them.
const (
	UserActSendInvite        = "resend_invite"       // mail the invitation (again)
	UserActInviteLink        = "invite_link"         // a new invitation link to copy
	UserActDelete            = "delete"              // an invitee who never accepted
	UserActDisable           = "disable"             //
	UserActEnable            = "enable"              //
	UserActUnlock            = "unlock"              //
	UserActSetPassword       = "set_password"        // a native user's password, reassigned
	UserActSendPasswordReset = "send_password_reset" //
	UserActArchive           = "archive"             //
	UserActRestore           = "restore"             //
	UserActEdit              = "edit"                //
	UserActChangeRole        = "change_role"         //
)

// UserActions lists what actor a may do to user u now: what u's status
// allows, kept only where a's role may manage u (a user manager is not
// offered to disable anyone, nor anything on a peer; nobody removes
// themself).
func UserActions(a Actor, u *User) []string {
	out := []string{}
	mayManage := authorizeManage(a, u, false) == nil
	mayRemove := authorizeManage(a, u, true) == nil
	add := func(allowed bool, acts ...string) {
		if allowed {
			out = append(out, acts...)
		}
	}
	switch u.Status {
	case StatusInvited:
		add(mayManage, UserActSendInvite, UserActInviteLink)
		add(mayRemove, UserActDelete)
	case StatusActive, StatusLocked, StatusInactive:
		add(mayRemove, UserActDisable)
	}
	if u.Status == StatusDisabled || u.Status == StatusInactive {
		add(mayManage, UserActEnable)
	}
	if u.Status == StatusLocked {
		add(mayManage, UserActUnlock)
	}
	if (u.Status == StatusActive || u.Status == StatusLocked) && u.Source == SourceNative {
		add(mayManage, UserActSetPassword, UserActSendPasswordReset)
	}
	if u.Status != StatusArchived && u.Status != StatusInvited {
		add(mayRemove, UserActArchive)
	}
	if u.Status == StatusArchived {
		add(mayRemove, UserActRestore)
	}
	if u.Status != StatusArchived {
		add(mayManage, UserActEdit)
		add(mayManage, UserActChangeRole)
	}
	return out
}

// Group actions.
const (
	GroupActRename  = "rename"
	GroupActDelete  = "delete"
	GroupActMembers = "edit_members" // add and remove members
	GroupActMessage = "message"      // mail the members
)

// GroupActions lists what actor a may do to group g: a group its directory
// owns is changed there (its sync would revert a rename here).
func GroupActions(a Actor, g *Group) []string {
	out := []string{}
	if authorizeGroup(a, g) == nil {
		out = append(out, GroupActRename, GroupActMembers, GroupActDelete)
	}
	if authorizeMessage(a, "groups") == nil {
		out = append(out, GroupActMessage)
	}
	return out
}

// App actions.
const (
	AppActRename  = "rename"
	AppActDelete  = "delete"
	AppActAssign  = "assign"  // assign, change the app role, unassign
	AppActUsers   = "users"   // list the app's users and granted groups
	AppActMessage = "message" // mail the app's users
	// AppActViewOIDC: read the app's sign-in (OpenID Connect client)
	// settings, never its secret (Service.AppOIDC).
	AppActViewOIDC = "view_oidc"
	// AppActEditOIDC: change them, issue a new secret, stop the client
	// (Service.SetAppOIDC, DeleteAppOIDC).
	AppActEditOIDC = "edit_oidc"
)

// AppActions lists what actor a may do to app: canCreateApps is a's
// can_create_apps as stored now (a person allowed to create apps manages
// the apps they created, the rule of managedApp). Those who see every
// app's users (user managers too) read its sign-in settings; only those who
// manage the app change them.
func AppActions(a Actor, app *App, canCreateApps bool) []string {
	out := []string{}
	manage := mayManageApp(a, app, canCreateApps) == nil
	if manage {
		out = append(out, AppActRename, AppActAssign, AppActEditOIDC, AppActDelete)
	}
	if manage || AuthorizeUserAdmin(a) == nil {
		out = append(out, AppActUsers, AppActViewOIDC)
	}
	if authorizeMessage(a, "the users of apps") == nil {
		out = append(out, AppActMessage)
	}
	return out
}
