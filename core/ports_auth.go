package core

import (
	"context"
	"time"
)

// AuthTx is the authentication part of Tx.
type AuthTx interface {
	PasswordPolicy(ctx context.Context, orgID string) (*PasswordPolicy, error)
	SetPasswordPolicy(ctx context.Context, orgID string, p *PasswordPolicy) error
	// UsersIdleSince lists active users whose last login (or activation, if
	// they never logged in) is before cutoff.
	UsersIdleSince(ctx context.Context, cutoff time.Time, limit int) ([]User, error)
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
}

// DirectoryAuthenticator checks a directory user's password against their
// directory (LDAP bind). Registered per source ("ldap:corp").
type DirectoryAuthenticator interface {
	Authenticate(ctx context.Context, u *User, password string) (bool, error)
}
