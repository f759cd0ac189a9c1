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

// PasswordHasher hashes and verifies passwords (argon2id in internal/argon2id).
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
	// ForUpdate locks the users read until the transaction ends, so that a
	// concurrent transaction checking the same rule waits for this one.
	ForUpdate bool
}

// Tx is the store inside one transaction: the composition of each
// aggregate's repository, declared beside its use cases. Methods return
// *NotFoundError (errors.Is ErrNotFound) for missing rows and
// *ConflictError for uniqueness violations.
type Tx interface {
	OrgRepo
	UserRepo
	UserSearchRepo
	InviteRepo
	PasswordResetRepo
	SessionRepo
	TokenRepo
	GroupRepo
	AppRepo
	HistoryRepo
	AuditRepo
	OutboxRepo
	MailTemplateRepo
	DirectoryRepo
	OIDCRepo
}
