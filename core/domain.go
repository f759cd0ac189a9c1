// Package core is roster's domain: organisations, users, groups, apps, invites,
// sessions and history, the rules that govern them, and the Service that every
// door (SCIM, LDAP sync, admin API, CLI) calls. It imports nothing of HTTP, SCIM,
// LDAP or SQL drivers; the store and other dependencies are ports defined here.
package core

import "time"

// DefaultOrg is the organisation that exists after the first migration.
const DefaultOrg = "default"

// Org is a tenant. Every user, group, app, token and directory source belongs
// to exactly one.
type Org struct {
	ID           string    `json:"id" db:"id"`
	Name         string    `json:"name" db:"name"`
	DisplayName  string    `json:"display_name" db:"display_name"`   // in every mail and page (the name when empty)
	SupportEmail string    `json:"support_email" db:"support_email"` // where users write with questions ("" none)
	CatalogURL   string    `json:"catalog_url" db:"catalog_url"`     // the app catalog the invitation links to ("" none)
	CreatedAt    time.Time `json:"created_at" db:"created_at"`
}

// Status is a user's place in the one lifecycle shared by every source.
type Status string

const (
	StatusInvited  Status = "invited"  // created, invite not yet accepted
	StatusActive   Status = "active"   // invite accepted, or started active
	StatusDisabled Status = "disabled" // de-activated by an admin or the directory
	StatusLocked   Status = "locked"   // too many wrong passwords in a row
	StatusInactive Status = "inactive" // no login for the dormancy period
	StatusArchived Status = "archived" // removed from the organisation, restorable
)

// Statuses lists every status, in lifecycle order.
var Statuses = []Status{StatusInvited, StatusActive, StatusDisabled, StatusLocked, StatusInactive, StatusArchived}

// Valid reports whether s is a known status.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// CanLogIn reports whether a user in this status may authenticate.
func (s Status) CanLogIn() bool { return s == StatusActive }

// InviteStatus is derived from the user's current invite and the clock.
type InviteStatus string

const (
	InviteNone      InviteStatus = "none"       // no invite was ever issued (e.g. a directory user that starts active)
	InvitePending   InviteStatus = "pending"    // issued, not accepted, not older than the validity period
	InviteExpired   InviteStatus = "expired"    // issued, not accepted, older than the validity period
	InviteMailError InviteStatus = "mail_error" // the invitation mail could not be delivered
	InviteAccepted  InviteStatus = "accepted"   // the user accepted
	// InviteOnHold: issued, not accepted, and the invitee is disabled or
	// archived (invite_reason user_disabled or user_archived): the link does
	// not work until the user is enabled or restored.
	InviteOnHold InviteStatus = "on_hold"
)

// InviteStatuses lists every invite status.
var InviteStatuses = []InviteStatus{InviteNone, InvitePending, InviteExpired, InviteMailError, InviteAccepted, InviteOnHold}

// Valid reports whether s is a known invite status.
func (s InviteStatus) Valid() bool {
	for _, v := range InviteStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// InviteState is what the store keeps about a user's current invite; the
// InviteStatus shown to admins is derived from it and the clock.
type InviteState string

const (
	InviteStateNone      InviteState = "none"
	InviteStateSent      InviteState = "sent" // issued (mailed, queued, or handed to the admin)
	InviteStateMailError InviteState = "mail_error"
	InviteStateAccepted  InviteState = "accepted"
)

// Role is an organisation role.
type Role string

const (
	RoleOwner       Role = "owner"
	RoleAdmin       Role = "admin"
	RoleUserManager Role = "user_manager"
	RoleDeveloper   Role = "developer"
	RoleMember      Role = "member"
)

// roleRanks orders roles for sorting: User, Administrator, Developer, User
// Manager (the product's documented order); owner sits beside admin.
var roleRanks = map[Role]int{
	RoleMember:      1,
	RoleOwner:       2,
	RoleAdmin:       3,
	RoleDeveloper:   4,
	RoleUserManager: 5,
}

// Roles lists every role in rank order.
var Roles = []Role{RoleMember, RoleOwner, RoleAdmin, RoleDeveloper, RoleUserManager}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { _, ok := roleRanks[r]; return ok }

// Rank is the role's position when users are sorted by role.
func (r Role) Rank() int { return roleRanks[r] }

// IsAdmin reports whether the role administers the organisation.
func (r Role) IsAdmin() bool { return r == RoleOwner || r == RoleAdmin }

// rolePowers orders roles by what they may do (unlike roleRanks, which only
// sorts): owner > admin > user_manager > developer > member.
var rolePowers = map[Role]int{
	RoleMember:      1,
	RoleDeveloper:   2,
	RoleUserManager: 3,
	RoleAdmin:       4,
	RoleOwner:       5,
}

// Power is the role's place in the order of powers; 0 for an unknown role.
func (r Role) Power() int { return rolePowers[r] }

// Above reports whether r holds more powers than o.
func (r Role) Above(o Role) bool { return r.Power() > o.Power() }

// ClampRole is r, or ceiling when r is above it: the most a token or a
// directory source may grant.
func ClampRole(r, ceiling Role) Role {
	if ceiling.Valid() && r.Above(ceiling) {
		return ceiling
	}
	return r
}

// DefaultRoleCeiling is the most a SCIM token or an LDAP source grants when
// nobody asked for more: admin. Owners are made only on purpose.
const DefaultRoleCeiling = RoleAdmin

// SourceNative is the source of users created by admins, the console or the CLI.
const SourceNative = "native"

// User is a person in an organisation, whatever door they came through.
type User struct {
	ID            string `json:"id" db:"id"`
	OrgID         string `json:"org_id" db:"org_id"`
	Seq           int64  `json:"-" db:"seq"`
	Username      string `json:"username" db:"username"`
	Email         string `json:"email" db:"email"`
	FirstName     string `json:"first_name" db:"first_name"`
	LastName      string `json:"last_name" db:"last_name"`
	Phone         string `json:"phone" db:"phone"`
	Language      string `json:"language" db:"language"`
	Role          Role   `json:"role" db:"role"`
	CanCreateApps bool   `json:"can_create_apps" db:"can_create_apps"`
	Status        Status `json:"status" db:"status"`
	Source        string `json:"source" db:"source"`
	ExternalID    string `json:"external_id" db:"external_id"`
	DisplayName   string `json:"display_name" db:"display_name"`
	ManagerID     string `json:"manager_id" db:"manager_id"` // another user of the organisation
	// Attributes are the schema's document attributes (UserSchema rows with
	// StoreDocument): middle name, title, emails, addresses, …
	Attributes Attributes        `json:"attributes" db:"-"`
	Metadata   map[string]string `json:"metadata" db:"-"`
	// BaseRole is the org role a directory asked for explicitly (before
	// role rules); empty when it did not, or for native users.
	BaseRole Role `json:"-" db:"base_role"`

	// Invite bookkeeping; InviteStatus is derived from it.
	InviteState     InviteState `json:"-" db:"invite_state"`
	InviteExpiresAt *time.Time  `json:"invite_expires_at,omitempty" db:"invite_expires_at"`
	InviteMailError string      `json:"invite_mail_error,omitempty" db:"invite_mail_error"`

	// Secrets and counters never leave the store through JSON.
	PasswordHash        string     `json:"-" db:"password_hash"`
	PasswordChangedAt   *time.Time `json:"-" db:"password_changed_at"`
	MustChangePassword  bool       `json:"must_change_password" db:"must_change_password"`
	FailedLogins        int        `json:"-" db:"failed_logins"`
	StatusBeforeArchive Status     `json:"-" db:"status_before_archive"`
	// LockedAt is when the lockout locked the user (nil unless locked): a
	// lock of an owner expires after Config.OwnerLockExpiry.
	LockedAt *time.Time `json:"locked_at,omitempty" db:"locked_at"`

	ActivatedAt *time.Time `json:"activated_at,omitempty" db:"activated_at"`
	LastLoginAt *time.Time `json:"last_login_at" db:"last_login_at"`
	CreatedAt   time.Time  `json:"created_at" db:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at" db:"updated_at"`
}

// FullName is "First Last", derived.
func (u *User) FullName() string {
	switch {
	case u.FirstName == "":
		return u.LastName
	case u.LastName == "":
		return u.FirstName
	}
	return u.FirstName + " " + u.LastName
}

// IsDirectory reports whether an external directory (SCIM or LDAP) manages the user.
func (u *User) IsDirectory() bool { return u.Source != SourceNative }

// EverAccepted reports whether the user ever became active (accepted an
// invite, or started active). Such a user has history and is archived, never deleted.
func (u *User) EverAccepted() bool { return u.ActivatedAt != nil }

// Group holds users and grants access to apps.
type Group struct {
	ID         string    `json:"id" db:"id"`
	OrgID      string    `json:"org_id" db:"org_id"`
	Name       string    `json:"name" db:"name"`
	Source     string    `json:"source" db:"source"`
	ExternalID string    `json:"external_id" db:"external_id"`
	CreatedAt  time.Time `json:"created_at" db:"created_at"`
	UpdatedAt  time.Time `json:"updated_at" db:"updated_at"`
}

// App is an application of the platform (a "solution", a catalog app).
type App struct {
	ID    string `json:"id" db:"id"`
	OrgID string `json:"org_id" db:"org_id"`
	Name  string `json:"name" db:"name"`
	// CreatedByID is the person who created the app ("" for the operator
	// and apps from before it was recorded): a member allowed to create apps
	// manages the apps they created.
	CreatedByID string    `json:"created_by_id,omitempty" db:"created_by_id"`
	CreatedAt   time.Time `json:"created_at" db:"created_at"`
}

// DefaultAppRole is the app role given when none is named.
const DefaultAppRole = "user"

// AppAssignment gives a user access to an app with an app role, directly or
// through a group.
type AppAssignment struct {
	AppID    string `json:"app_id" db:"app_id"`
	AppName  string `json:"app_name" db:"app_name"`
	AppRole  string `json:"app_role" db:"app_role"`
	ViaGroup string `json:"via_group,omitempty" db:"via_group"`
}

// MetadataType is the type of a custom metadata field.
type MetadataType string

const (
	MetaString  MetadataType = "string"
	MetaNumber  MetadataType = "number"
	MetaBoolean MetadataType = "boolean"
	MetaDate    MetadataType = "date"
)

// MetadataField is one field of an organisation's custom metadata template.
type MetadataField struct {
	Name     string       `json:"name" db:"name"`
	Label    string       `json:"label" db:"label"`
	Type     MetadataType `json:"type" db:"type"`
	Required bool         `json:"required" db:"required"`
}

// Invite is one invitation link. Only the SHA-256 of its token is stored.
type Invite struct {
	ID        string     `db:"id"`
	OrgID     string     `db:"org_id"`
	UserID    string     `db:"user_id"`
	TokenHash string     `db:"token_hash"`
	CreatedAt time.Time  `db:"created_at"`
	ExpiresAt time.Time  `db:"expires_at"`
	UsedAt    *time.Time `db:"used_at"`
	VoidedAt  *time.Time `db:"voided_at"`
}

// Audience is what a session is for.
type Audience string

const (
	AudienceConsole Audience = "console"
	AudienceCatalog Audience = "catalog"
)

// Valid reports whether a is a known audience.
func (a Audience) Valid() bool { return a == AudienceConsole || a == AudienceCatalog }

// Session is a login. Only the SHA-256 of its token is stored.
type Session struct {
	ID        string    `db:"id"`
	OrgID     string    `db:"org_id"`
	UserID    string    `db:"user_id"`
	TokenHash string    `db:"token_hash"`
	Audience  Audience  `db:"audience"`
	CreatedAt time.Time `db:"created_at"`
	ExpiresAt time.Time `db:"expires_at"`
}

// TokenScope is what an API token may be used for.
type TokenScope string

const (
	ScopeSCIM  TokenScope = "scim"
	ScopeAdmin TokenScope = "admin"
)

// APIToken is a long-lived bearer token. Only the SHA-256 of its secret is stored.
type APIToken struct {
	ID     string     `json:"id" db:"id"`
	OrgID  string     `json:"org_id" db:"org_id"`
	Name   string     `json:"name" db:"name"`
	Scope  TokenScope `json:"scope" db:"scope"`
	UserID *string    `json:"user_id,omitempty" db:"user_id"`
	// RoleCeiling is the highest org role a SCIM token may grant (its
	// creator's powers at most); empty for admin tokens, which act with
	// their user's current role.
	RoleCeiling Role `json:"role_ceiling,omitempty" db:"role_ceiling"`
	// CreatedByID and CreatedByName are who created the token: a person's
	// user id and username, or "" and "cli" for the operator on the host.
	CreatedByID   string     `json:"created_by_id,omitempty" db:"created_by_id"`
	CreatedByName string     `json:"created_by,omitempty" db:"created_by_name"`
	TokenHash     string     `json:"-" db:"token_hash"`
	CreatedAt     time.Time  `json:"created_at" db:"created_at"`
	RevokedAt     *time.Time `json:"revoked_at,omitempty" db:"revoked_at"`
}

// HistoryEntry records one change: who, what, when, before and after.
type HistoryEntry struct {
	ID         int64     `json:"id" db:"id"`
	OrgID      string    `json:"org_id" db:"org_id"`
	At         time.Time `json:"at" db:"at"`
	ActorKind  ActorKind `json:"actor_kind" db:"actor_kind"`
	ActorID    string    `json:"actor_id" db:"actor_id"`
	ActorName  string    `json:"actor_name" db:"actor_name"`
	Action     string    `json:"action" db:"action"`
	TargetType string    `json:"target_type" db:"target_type"`
	TargetID   string    `json:"target_id" db:"target_id"`
	Before     string    `json:"before,omitempty" db:"before_json"`
	After      string    `json:"after,omitempty" db:"after_json"`
	RequestID  string    `json:"request_id,omitempty" db:"request_id"`
	// TokenID and TokenCreatedBy are set when a person acted through an
	// admin token: the token, and who created it (a username, or "cli").
	TokenID        string `json:"token_id,omitempty" db:"token_id"`
	TokenCreatedBy string `json:"token_created_by,omitempty" db:"token_created_by"`
	// Changes lists, for an entry about a user, the attributes it changed
	// by name (derived from Before and After).
	Changes []AttrChange `json:"changes,omitempty" db:"-"`
}

// ActorKind says what kind of party made a change.
type ActorKind string

const (
	ActorAdmin  ActorKind = "admin"  // a person through the admin API or console
	ActorCLI    ActorKind = "cli"    // an operator on the host
	ActorSCIM   ActorKind = "scim"   // an identity provider through SCIM
	ActorLDAP   ActorKind = "ldap"   // an LDAP/AD sync
	ActorSystem ActorKind = "system" // a background job
	ActorSelf   ActorKind = "self"   // the user themself (accepting an invite, logging in)
)

// Actor is who asks for a change. Directory actors carry the Source they
// speak for ("scim:okta", "ldap:corp"); that source is authoritative for its users.
type Actor struct {
	Kind      ActorKind
	ID        string
	Name      string
	Source    string
	Role      Role // for people: their org role, used for permission checks
	RequestID string
	// Audience is the session's audience for a person acting through a
	// session; empty for admin tokens. A catalog session administers nothing.
	Audience Audience
	// TokenID and TokenCreatedBy name the admin token a person acts
	// through and who created it; history records both.
	TokenID        string
	TokenCreatedBy string
}

// SystemActor is the actor of background jobs.
func SystemActor(job string) Actor { return Actor{Kind: ActorSystem, Name: job} }

// CLIActor is the actor of commands run on the host.
func CLIActor() Actor { return Actor{Kind: ActorCLI, Name: "cli", Role: RoleOwner} }
