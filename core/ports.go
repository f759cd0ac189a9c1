package core

import (
	"context"
	"time"
)

// Clock tells the time. Injected so that time-based rules are testable.
type Clock interface{ Now() time.Time }

// SystemClock is the real clock.
type SystemClock struct{}

// Now returns the current time in UTC.
func (SystemClock) Now() time.Time { return time.Now().UTC() }

// PasswordHasher hashes and verifies passwords (argon2id in core/auth).
type PasswordHasher interface {
	Hash(password string) (string, error)
	Verify(hash, password string) (bool, error)
}

// Store opens transactions. Every use case runs in exactly one, so a change,
// its history entry and its outbox rows commit or vanish together.
type Store interface {
	// InTx runs fn in a read-write transaction, committed when fn returns nil.
	InTx(ctx context.Context, fn func(Tx) error) error
	// View runs fn in a read-only transaction.
	View(ctx context.Context, fn func(Tx) error) error
	// ViewBulk runs fn in a read-only transaction meant for reading a large
	// share of the database once (a directory sync's state): the store may
	// serve it without the caches that speed up interactive reads, so the
	// read does not inflate the daemon's resident memory.
	ViewBulk(ctx context.Context, fn func(Tx) error) error
}

// UserQuery selects users of one organisation.
type UserQuery struct {
	OrgID    string
	Statuses []Status
	Roles    []Role
	Source   string
	Limit    int
	AfterSeq int64 // keyset cursor: users with seq > AfterSeq
}

// Tx is the store inside one transaction. Methods return *NotFoundError
// (errors.Is ErrNotFound) for missing rows and *ConflictError for uniqueness
// violations.
type Tx interface {
	GroupTx
	AuthTx
	SearchTx
	AdminTx
	OutboxTx
	SCIMTx
	SyncTx

	CreateOrg(ctx context.Context, o *Org) error
	OrgByName(ctx context.Context, name string) (*Org, error)
	OrgByID(ctx context.Context, id string) (*Org, error)
	ListOrgs(ctx context.Context) ([]Org, error)

	InsertUser(ctx context.Context, u *User) error
	UpdateUser(ctx context.Context, u *User) error
	DeleteUser(ctx context.Context, orgID, id string) error
	UserByID(ctx context.Context, orgID, id string) (*User, error)
	UserByUsername(ctx context.Context, orgID, username string) (*User, error)
	UserByEmail(ctx context.Context, orgID, email string) (*User, error)
	UserByExternalID(ctx context.Context, orgID, source, externalID string) (*User, error)
	ListUsers(ctx context.Context, q UserQuery) ([]User, error)

	InsertHistory(ctx context.Context, h *HistoryEntry) error
	ListHistory(ctx context.Context, orgID, targetID string) ([]HistoryEntry, error)

	MetadataTemplate(ctx context.Context, orgID string) ([]MetadataField, error)
	SetMetadataTemplate(ctx context.Context, orgID string, fields []MetadataField) error

	InsertInvite(ctx context.Context, inv *Invite) error
	InviteByTokenHash(ctx context.Context, hash string) (*Invite, error)
	VoidInvites(ctx context.Context, userID string, at time.Time) error
	MarkInviteUsed(ctx context.Context, id string, at time.Time) error

	InsertSession(ctx context.Context, s *Session) error
	SessionByTokenHash(ctx context.Context, hash string) (*Session, error)
	DeleteSessions(ctx context.Context, userID string, audience Audience) (int64, error) // audience "" ends all
	DeleteSessionsExcept(ctx context.Context, userID, keepID string) (int64, error)      // every audience, all but keepID

	InsertToken(ctx context.Context, t *APIToken) error
	TokenByHash(ctx context.Context, hash string) (*APIToken, error)
	// RevokeUserTokens revokes every unrevoked token acting as userID.
	RevokeUserTokens(ctx context.Context, userID string, at time.Time) (int64, error)

	InsertGroup(ctx context.Context, g *Group) error
	GroupByID(ctx context.Context, orgID, id string) (*Group, error)
	GroupByName(ctx context.Context, orgID, name string) (*Group, error)
	ListGroups(ctx context.Context, orgID string) ([]Group, error)
	AddGroupMember(ctx context.Context, groupID, userID string) error
	RemoveGroupMember(ctx context.Context, groupID, userID string) error
	UserGroups(ctx context.Context, userID string) ([]Group, error)

	InsertApp(ctx context.Context, a *App) error
	AppByName(ctx context.Context, orgID, name string) (*App, error)
	AssignApp(ctx context.Context, appID, userID, appRole string) error
	GrantGroupApp(ctx context.Context, appID, groupID, appRole string) error
	UserApps(ctx context.Context, userID string) ([]AppAssignment, error)
}

// GroupTx is the group part of Tx beyond the basics.
type GroupTx interface {
	UpdateGroup(ctx context.Context, g *Group) error
	DeleteGroup(ctx context.Context, orgID, id string) error
	GroupByExternalID(ctx context.Context, orgID, source, externalID string) (*Group, error)
	GroupMemberIDs(ctx context.Context, groupID string) ([]string, error)
}
