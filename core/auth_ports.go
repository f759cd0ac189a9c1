package core

import (
	"context"
	"time"
)

// AuthTx is the authentication part of Tx.
type AuthTx interface {
	PasswordPolicy(ctx context.Context, orgID string) (*PasswordPolicy, error)
	SetPasswordPolicy(ctx context.Context, orgID string, p *PasswordPolicy) error
	// UsersIdleSince lists an organisation's active users whose last login
	// (or activation, if they never logged in) is before cutoff.
	UsersIdleSince(ctx context.Context, orgID string, cutoff time.Time, limit int) ([]User, error)
	OrgSettings(ctx context.Context, orgID string) (*OrgSettings, error)
	SetOrgSettings(ctx context.Context, orgID string, s *OrgSettings) error
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
}

// DirectoryAuthenticator checks a directory user's password against their
// directory (LDAP bind). Registered per source ("ldap:corp").
type DirectoryAuthenticator interface {
	Authenticate(ctx context.Context, u *User, password string) (bool, error)
}
