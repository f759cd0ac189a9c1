package core

import (
	"context"
)

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

// DirectoryUser is a user with its group memberships.
type DirectoryUser struct {
	User
	Groups []GroupRef
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
