package core

import (
	"context"
)

// DirectoryProfile holds the attributes an identity provider manages for its
// users beyond the core user fields (SCIM core and enterprise attributes).
type DirectoryProfile struct {
	UserID      string `json:"-" db:"user_id"`
	OrgID       string `json:"-" db:"org_id"`
	DisplayName string `json:"display_name,omitempty" db:"display_name"`
	// DisplayKey is what displayName filters match: the folded display
	// name, or of the full name when the directory sends none.
	DisplayKey     string   `json:"-" db:"display_name_key"`
	NickName       string   `json:"nick_name,omitempty" db:"nick_name"`
	Title          string   `json:"title,omitempty" db:"title"`
	UserType       string   `json:"user_type,omitempty" db:"user_type"`
	EmployeeNumber string   `json:"employee_number,omitempty" db:"employee_number"`
	CostCenter     string   `json:"cost_center,omitempty" db:"cost_center"`
	Organization   string   `json:"organization,omitempty" db:"organization"`
	Division       string   `json:"division,omitempty" db:"division"`
	Department     string   `json:"department,omitempty" db:"department"`
	ManagerID      string   `json:"manager_id,omitempty" db:"manager_id"`
	Roles          []string `json:"roles,omitempty" db:"-"`
	// BaseRole is the org role the directory asked for explicitly (before
	// role rules); empty when it did not.
	BaseRole Role `json:"base_role,omitempty" db:"base_role"`
}

// DirectorySettings are the per-token settings of a SCIM client.
type DirectorySettings struct {
	TokenID     string     `json:"-"`
	Invite      bool       `json:"invite"`       // new users are invited (mail); false: they start active
	DefaultRole Role       `json:"default_role"` // when neither the directory nor a rule names one
	RoleRules   []RoleRule `json:"role_rules"`   // first match wins
	// RoleCeiling is the token's: no role this token's directory asks for,
	// by roles, roster's extension, a rule or the default, goes above it
	// (DefaultRoleCeiling when empty). Filled from the token, not stored here.
	RoleCeiling Role `json:"-"`
}

// InviteMode is how the token's new users are invited: by mail, or not at
// all (they start active).
func (d *DirectorySettings) InviteMode() InviteMode {
	if d.Invite {
		return InviteByMail
	}
	return NoInvite
}

// DefaultDirectorySettings is what a token without stored settings gets.
func DefaultDirectorySettings(tokenID string) DirectorySettings {
	return DirectorySettings{TokenID: tokenID, Invite: true, DefaultRole: RoleMember}
}

// DirectoryQuery selects users of one organisation and source with a filter,
// sorted and paged by the store.
type DirectoryQuery struct {
	OrgID           string
	Source          string
	ExcludeArchived bool
	Filter          *Filter
	SortBy          FilterAttr // "" = creation order
	Descending      bool
	Offset          int
	Limit           int // 0: count only
}

// GroupSearch selects groups of one organisation and source.
type GroupSearch struct {
	OrgID      string
	Source     string
	Filter     *Filter
	SortBy     FilterAttr
	Descending bool
	Offset     int
	Limit      int
}

// DirectoryUser is a user with its directory profile and group memberships.
type DirectoryUser struct {
	User
	Profile DirectoryProfile
	Groups  []GroupRef
}

// GroupRef names a group a user belongs to.
type GroupRef struct {
	ID         string `db:"id"`
	Name       string `db:"name"`
	ExternalID string `db:"external_id"`
}

// MemberRef names a group member.
type MemberRef struct {
	ID       string `db:"id"`
	Username string `db:"username"`
}

// Membership is one user in one group.
type Membership struct {
	GroupID string
	UserID  string
}

// GroupMembership is one (user, group) pair with the group's names, for role rules.
type GroupMembership struct {
	UserID string `db:"user_id"`
	GroupRef
}

// BatchStore is a Store that can let concurrent small write transactions
// share one commit (group commit); each caller's function still commits or
// rolls back on its own.
type BatchStore interface {
	InTxBatched(ctx context.Context, fn func(Tx) error) error
}
