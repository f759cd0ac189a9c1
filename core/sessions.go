package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
)

// LoginInput is a password login.
type LoginInput struct {
	Org      string // organisation name
	Username string
	Password string
	Audience Audience
}

// LoginResult is a new session. Token is shown once; only its hash is stored.
type LoginResult struct {
	Token     string
	ExpiresAt time.Time
	User      *UserView
}

// LoginError is a refused login. Reason is safe to show: it never tells
// whether a username exists, nor whether an account that exists may log in
// (a locked, disabled, inactive, archived or invited account gets the answer
// a wrong password gets, whatever password was sent).
type LoginError struct {
	Reason string
	// Code is a machine-readable reason when it is not a wrong password's
	// (password_login_off); empty otherwise.
	Code string
}

func (e *LoginError) Error() string { return e.Reason }

// Unwrap makes errors.Is(err, ErrUnauthorized) true.
func (e *LoginError) Unwrap() error { return ErrUnauthorized }

var errBadCredentials = &LoginError{Reason: "invalid username or password"}

// dummyHash is verified when a username does not exist, so that a miss costs
// as much time as a wrong password.
var dummyHash string

// RegisterDirectoryAuthenticator lets users of source (e.g. "ldap:corp") log
// in by checking their password against their directory.
func (s *Service) RegisterDirectoryAuthenticator(source string, a DirectoryAuthenticator) {
	s.dirAuthMu.Lock()
	defer s.dirAuthMu.Unlock()
	if s.dirAuth == nil {
		s.dirAuth = map[string]DirectoryAuthenticator{}
	}
	s.dirAuth[source] = a
}

func (s *Service) directoryAuthenticator(source string) DirectoryAuthenticator {
	s.dirAuthMu.RLock()
	defer s.dirAuthMu.RUnlock()
	return s.dirAuth[source]
}

// Login checks a password and opens a session. Consecutive failures are
// counted per user; reaching the lockout threshold locks the account. A
// success resets the count, records the login time, and flags a password the
// policy considers expired for change.
func (s *Service) Login(ctx context.Context, in LoginInput) (*LoginResult, error) {
	locked := false
	res, err := s.login(ctx, in, &locked)
	if s.obs != nil {
		var le *LoginError
		switch {
		case err == nil:
			s.obs.LoginAttempt(LoginSuccess)
		case locked:
			s.obs.LoginAttempt(LoginLockout)
		case errors.As(err, &le):
			s.obs.LoginAttempt(LoginFailure)
		}
	}
	return res, err
}

func (s *Service) login(ctx context.Context, in LoginInput, locked *bool) (*LoginResult, error) {
	if !in.Audience.Valid() {
		return nil, invalid("audience", "%q is not one of console, catalog", in.Audience)
	}
	if in.Username == "" || in.Password == "" || len(in.Password) > MaxPasswordLen {
		return nil, errBadCredentials
	}
	// An organisation that signs in through its identity provider keeps
	// password sign-in for its break-glass owners only.
	mustBeOwner, err := s.passwordLoginGate(in.Org, in.Username)
	if err != nil {
		return nil, err
	}
	var u *User
	var policy PasswordPolicy
	err = s.store.View(ctx, func(tx Tx) error {
		o, err := tx.OrgByName(ctx, in.Org)
		if err != nil {
			return err
		}
		// Sign in with the username or the email: the username wins when
		// both would match, and every login tries both lookups, so that
		// neither answer's timing tells which exists.
		u, err = tx.UserByUsername(ctx, o.ID, in.Username)
		byEmail, eerr := tx.UserByEmail(ctx, o.ID, in.Username)
		if errors.Is(err, ErrNotFound) && strings.Contains(in.Username, "@") {
			u, err = byEmail, eerr
		}
		if err != nil {
			return err
		}
		policy, err = policyOf(ctx, tx, o.ID)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		if err := s.burnHash(ctx, in.Password); err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
		return nil, errBadCredentials
	}
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	if s.ownerLockExpired(u) {
		if u, err = s.expireLock(ctx, u); err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
	}
	if mustBeOwner && (u.Role != RoleOwner || FoldKey(u.Username) != FoldKey(in.Username)) {
		// A break-glass name that is not (or no longer) an owner, or an
		// email that matched someone else: a wrong password's answer.
		if err := s.burnHash(ctx, in.Password); err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
		return nil, errBadCredentials
	}
	if !u.Status.CanLogIn() {
		// No password oracle: the password is not checked (no directory
		// bind either), the same hashing work is burnt as for an unknown
		// username, nothing is counted, and the answer is a wrong password's.
		if err := s.burnHash(ctx, in.Password); err != nil {
			return nil, fmt.Errorf("login: %w", err)
		}
		return nil, errBadCredentials
	}
	ok, err := s.checkPassword(ctx, u, in.Password)
	if err != nil {
		return nil, fmt.Errorf("login: %w", err)
	}
	var res *LoginResult
	err = s.store.InTx(ctx, func(tx Tx) error {
		// Re-read inside the write: counts must not be lost between concurrent attempts.
		cur, err := tx.UserByID(ctx, u.OrgID, u.ID)
		if err != nil {
			return err
		}
		if !cur.Status.CanLogIn() {
			return errBadCredentials // changed since the read above: still no oracle
		}
		now := s.now()
		if !ok {
			cur.FailedLogins++
			cur.UpdatedAt = now
			if cur.FailedLogins >= s.cfg.LockoutThreshold {
				s.log.Warn("user locked after failed logins", "user_id", cur.ID, "failures", cur.FailedLogins)
				*locked = true
				return s.transition(ctx, tx, SystemActor("lockout"), cur, ActLock)
			}
			if err := tx.UpdateUser(ctx, cur); err != nil {
				return err
			}
			// One history entry per burst: at its first failure, and again halfway to the lockout.
			if cur.FailedLogins == 1 || cur.FailedLogins == (s.cfg.LockoutThreshold+1)/2 {
				return s.record(ctx, tx, Actor{Kind: ActorSelf, ID: cur.ID, Name: cur.Username}, cur.OrgID, "user.login_failed", "user", cur.ID, nil,
					map[string]any{"consecutive_failures": cur.FailedLogins, "lockout_threshold": s.cfg.LockoutThreshold})
			}
			return nil
		}
		cur.FailedLogins = 0
		cur.LastLoginAt = &now
		if !cur.IsDirectory() && policy.Expired(cur, now) {
			cur.MustChangePassword = true
		}
		res, err = s.openSession(ctx, tx, cur, in.Audience, now)
		return err
	})
	if err != nil {
		var le *LoginError
		if errors.As(err, &le) {
			return nil, le
		}
		return nil, fmt.Errorf("login: %w", err)
	}
	if !ok {
		return nil, errBadCredentials
	}
	return res, nil
}

// ownerLockExpired reports whether u is an owner whose lockout has outlived
// Config.OwnerLockExpiry: the lock lifts by itself, so that anonymous wrong
// passwords cannot keep an organisation out of its owner's hands.
func (s *Service) ownerLockExpired(u *User) bool {
	return u.Status == StatusLocked && u.Role == RoleOwner && u.LockedAt != nil &&
		!s.now().Before(u.LockedAt.Add(s.cfg.OwnerLockExpiry))
}

// expireLock unlocks u if its lock has expired, and returns the user as stored.
func (s *Service) expireLock(ctx context.Context, u *User) (*User, error) {
	var out *User
	err := s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.UserByID(ctx, u.OrgID, u.ID)
		if err != nil {
			return err
		}
		out = cur
		if !s.ownerLockExpired(cur) {
			return nil
		}
		s.log.Info("owner lock expired", "user_id", cur.ID)
		return s.transition(ctx, tx, SystemActor("lock_expiry"), cur, ActUnlock)
	})
	return out, err
}

// ExpireOwnerLocks unlocks every owner whose lockout has expired (a job, so
// that the console shows them unlocked without waiting for a login) and
// returns how many it unlocked.
func (s *Service) ExpireOwnerLocks(ctx context.Context) (int64, error) {
	var orgs []Org
	if err := s.store.View(ctx, func(tx Tx) error {
		var err error
		orgs, err = tx.ListOrgs(ctx)
		return err
	}); err != nil {
		return 0, fmt.Errorf("expire owner locks: %w", err)
	}
	var n int64
	for _, o := range orgs {
		var locked []User
		if err := s.store.View(ctx, func(tx Tx) error {
			var err error
			locked, err = tx.ListUsers(ctx, UserQuery{OrgID: o.ID, Statuses: []Status{StatusLocked}, Roles: []Role{RoleOwner}, Limit: 1000})
			return err
		}); err != nil {
			return n, fmt.Errorf("expire owner locks in %s: %w", o.Name, err)
		}
		for i := range locked {
			if !s.ownerLockExpired(&locked[i]) {
				continue
			}
			u, err := s.expireLock(ctx, &locked[i])
			if err != nil {
				return n, fmt.Errorf("expire owner locks in %s: %w", o.Name, err)
			}
			if u.Status == StatusActive {
				n++
			}
		}
	}
	return n, nil
}

func (s *Service) checkPassword(ctx context.Context, u *User, password string) (bool, error) {
	if u.IsDirectory() {
		a := s.directoryAuthenticator(u.Source)
		if a == nil {
			return false, nil // no way to check: a refusal, counted like a wrong password
		}
		return a.Authenticate(ctx, u, password)
	}
	if u.PasswordHash == "" || s.hasher == nil {
		return false, s.burnHash(ctx, password)
	}
	return s.verifyPassword(ctx, u.PasswordHash, password)
}

// burnHash costs what a password check costs, within the same bound; its
// only error is a *BusyError (or the request's end).
func (s *Service) burnHash(ctx context.Context, password string) error {
	if s.hasher == nil {
		return nil
	}
	release, err := s.hashes.acquire(ctx)
	if err != nil {
		return err
	}
	defer release()
	s.dummyOnce.Do(func() { dummyHash, _ = s.hasher.Hash("roster-dummy-password") })
	_, _ = s.hasher.Verify(dummyHash, password)
	return nil
}

// Principal is who a session or admin token speaks for.
type Principal struct {
	User      *UserView
	Audience  Audience // empty for API tokens
	TokenID   string   // the API token, when authenticated by one
	SessionID string   // the session, when authenticated by one
	// TokenCreatedBy is who created that token (a username, or "cli").
	TokenCreatedBy string
}

// Actor is the principal as the actor of a change.
func (p *Principal) Actor(requestID string) Actor {
	return Actor{Kind: ActorAdmin, ID: p.User.ID, Name: p.User.Username, Role: p.User.Role, RequestID: requestID,
		Audience: p.Audience, TokenID: p.TokenID, TokenCreatedBy: p.TokenCreatedBy}
}

// PasswordChangeRequired reports whether the principal is a session that must
// choose a new password (reassigned by an admin, or expired) before it may do
// anything but read itself, change its password and log out.
func (p *Principal) PasswordChangeRequired() bool {
	return p.SessionID != "" && p.User.MustChangePassword
}

// PasswordChangeRequiredError refuses a session that must change its
// password first. Unwraps to ErrForbidden.
type PasswordChangeRequiredError struct{}

func (*PasswordChangeRequiredError) Error() string {
	return "the password must be changed before anything else (POST /api/v1/auth/password)"
}

// Unwrap makes errors.Is(err, ErrForbidden) true.
func (*PasswordChangeRequiredError) Unwrap() error { return ErrForbidden }

// AuthenticateSession resolves a session token. Expired sessions, and
// sessions of users who can no longer log in, are refused; a session that
// must change its password first is refused with a
// *PasswordChangeRequiredError (see AuthenticateSessionForPasswordChange).
func (s *Service) AuthenticateSession(ctx context.Context, token string) (*Principal, error) {
	p, err := s.AuthenticateSessionForPasswordChange(ctx, token)
	if err != nil {
		return nil, err
	}
	if p.PasswordChangeRequired() {
		return nil, &PasswordChangeRequiredError{}
	}
	return p, nil
}

// AuthenticateSessionForPasswordChange is AuthenticateSession that also
// accepts a session that must change its password. A door uses it only for
// what such a session may do: read itself, change the password, log out.
func (s *Service) AuthenticateSessionForPasswordChange(ctx context.Context, token string) (*Principal, error) {
	var p *Principal
	err := s.store.View(ctx, func(tx Tx) error {
		sess, err := tx.SessionByTokenHash(ctx, HashSecret(token))
		if errors.Is(err, ErrNotFound) {
			return ErrUnauthorized
		} else if err != nil {
			return err
		}
		if s.now().After(sess.ExpiresAt) {
			return ErrUnauthorized
		}
		u, err := tx.UserByID(ctx, sess.OrgID, sess.UserID)
		if errors.Is(err, ErrNotFound) {
			return ErrUnauthorized
		} else if err != nil {
			return err
		}
		if !u.Status.CanLogIn() {
			return ErrUnauthorized
		}
		v, err := s.view(ctx, tx, u)
		if err != nil {
			return err
		}
		p = &Principal{User: v, Audience: sess.Audience, SessionID: sess.ID}
		return nil
	})
	return p, err
}

// AuthenticateAdminToken resolves an admin API token to the user it acts as.
func (s *Service) AuthenticateAdminToken(ctx context.Context, secret string) (*Principal, error) {
	t, err := s.AuthenticateToken(ctx, secret, ScopeAdmin)
	if err != nil {
		return nil, err
	}
	u, err := s.GetUser(ctx, t.OrgID, *t.UserID)
	if err != nil {
		return nil, ErrUnauthorized
	}
	return &Principal{User: u, TokenID: t.ID, TokenCreatedBy: t.CreatedByName}, nil
}

// Logout ends every session of the token's user in the token's audience,
// and none of the other audience: signing out of the console leaves the
// catalog signed in, and the other way round. Signing out of the catalog
// ends the user's catalog sign-in as the OpenID Provider's logout does:
// every app token of the user too, and the apps that held one are told
// (CatalogLogoutListener).
func (s *Service) Logout(ctx context.Context, token string) error {
	var ev *CatalogLogout
	err := s.store.InTx(ctx, func(tx Tx) error {
		sess, err := tx.SessionByTokenHash(ctx, HashSecret(token))
		if errors.Is(err, ErrNotFound) {
			return ErrUnauthorized
		} else if err != nil {
			return err
		}
		if sess.Audience == AudienceCatalog {
			u, err := tx.UserByID(ctx, sess.OrgID, sess.UserID)
			if err != nil {
				return err
			}
			ev, err = s.endCatalog(ctx, tx, sess.OrgID, u, "api")
			return err
		}
		n, err := tx.DeleteSessions(ctx, sess.UserID, sess.Audience)
		if err != nil {
			return err
		}
		return s.record(ctx, tx, Actor{Kind: ActorSelf, ID: sess.UserID}, sess.OrgID, "user.logout", "user", sess.UserID, nil,
			map[string]any{"audience": sess.Audience, "sessions_ended": n})
	})
	if err != nil {
		return err
	}
	s.tellCatalogLogout(ctx, ev)
	return nil
}

// ChangePassword lets a logged-in native user change their own password,
// which clears a forced change and ends every other session of the user, in
// every audience (the session that changed it stays; through an admin token,
// every session ends).
func (s *Service) ChangePassword(ctx context.Context, p *Principal, oldPassword, newPassword string) error {
	u := &p.User.User
	if u.IsDirectory() {
		return invalid("password", "directory users change their password in their directory (%s)", u.Source)
	}
	ok, err := s.checkPassword(ctx, u, oldPassword)
	if err != nil {
		return err
	}
	if !ok {
		return invalid("old_password", "is not correct")
	}
	if newPassword == oldPassword {
		return invalid("new_password", "must differ from the old password")
	}
	if err := s.setPassword(ctx, u, newPassword); err != nil {
		return err
	}
	return s.store.InTx(ctx, func(tx Tx) error {
		cur, err := tx.UserByID(ctx, u.OrgID, u.ID)
		if err != nil {
			return err
		}
		cur.PasswordHash, cur.PasswordChangedAt = u.PasswordHash, u.PasswordChangedAt
		cur.MustChangePassword = false
		cur.UpdatedAt = s.now()
		if err := tx.UpdateUser(ctx, cur); err != nil {
			return err
		}
		self := Actor{Kind: ActorSelf, ID: cur.ID, Name: cur.Username}
		if err := s.record(ctx, tx, self, cur.OrgID, "user.change_password", "user", cur.ID, nil, map[string]string{"password": "[redacted]"}); err != nil {
			return err
		}
		return s.endSessions(ctx, tx, self, cur, p.SessionID, "password_changed")
	})
}

// RunDormancy marks inactive every active user with no login for their
// organisation's dormancy period (their activation counts when they never
// logged in). It works in batches, each its own transaction, and returns how
// many it marked.
func (s *Service) RunDormancy(ctx context.Context) (int, error) {
	var orgs []Org
	if err := s.store.View(ctx, func(tx Tx) error {
		var err error
		orgs, err = tx.ListOrgs(ctx)
		return err
	}); err != nil {
		return 0, fmt.Errorf("dormancy: %w", err)
	}
	total := 0
	for _, o := range orgs {
		for {
			n := 0
			err := s.store.InTx(ctx, func(tx Tx) error {
				set, err := orgSettingsOf(ctx, tx, o.ID)
				if err != nil {
					return err
				}
				after := s.cfg.DormancyAfter
				if set.DormancyDays > 0 {
					after = time.Duration(set.DormancyDays) * 24 * time.Hour
				}
				users, err := tx.UsersIdleSince(ctx, o.ID, s.now().Add(-after), 200)
				if err != nil {
					return err
				}
				for i := range users {
					if err := s.transition(ctx, tx, SystemActor("dormancy"), &users[i], ActMarkIdle); err != nil {
						if errors.Is(err, ErrForbidden) {
							continue // the last owner stays active
						}
						return err
					}
				}
				n = len(users)
				return nil
			})
			if err != nil {
				return total, fmt.Errorf("dormancy in %s: %w", o.Name, err)
			}
			total += n
			if ctx.Err() != nil {
				return total, ctx.Err()
			}
			if n < 200 {
				break
			}
		}
	}
	return total, nil
}

// PurgeExpiredSessions deletes sessions past their expiry.
func (s *Service) PurgeExpiredSessions(ctx context.Context) (int64, error) {
	var n int64
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		n, err = tx.DeleteExpiredSessions(ctx, s.now())
		return err
	})
	return n, err
}

// SessionRepo stores sessions. Only the SHA-256 of a token is stored.
type SessionRepo interface {
	InsertSession(ctx context.Context, s *Session) error
	SessionByTokenHash(ctx context.Context, hash string) (*Session, error)
	DeleteSessions(ctx context.Context, userID string, audience Audience) (int64, error) // audience "" ends all
	DeleteSessionsExcept(ctx context.Context, userID, keepID string) (int64, error)      // every audience, all but keepID
	DeleteExpiredSessions(ctx context.Context, now time.Time) (int64, error)
}

// DirectoryAuthenticator checks a directory user's password against their
// directory (LDAP bind). Registered per source ("ldap:corp").
type DirectoryAuthenticator interface {
	Authenticate(ctx context.Context, u *User, password string) (bool, error)
}

// openSession records a successful sign-in of cur (its other fields already
// set by the caller) and opens a session for the audience: the token is
// returned once, its hash stored.
func (s *Service) openSession(ctx context.Context, tx Tx, cur *User, audience Audience, now time.Time) (*LoginResult, error) {
	cur.UpdatedAt = now
	if err := tx.UpdateUser(ctx, cur); err != nil {
		return nil, err
	}
	token, err := NewSecret(PrefixSession)
	if err != nil {
		return nil, err
	}
	sess := &Session{ID: newID(), OrgID: cur.OrgID, UserID: cur.ID, TokenHash: HashSecret(token), Audience: audience, CreatedAt: now, ExpiresAt: now.Add(s.cfg.SessionTTL)}
	if err := tx.InsertSession(ctx, sess); err != nil {
		return nil, err
	}
	v, err := s.view(ctx, tx, cur)
	if err != nil {
		return nil, err
	}
	return &LoginResult{Token: token, ExpiresAt: sess.ExpiresAt, User: v}, nil
}
