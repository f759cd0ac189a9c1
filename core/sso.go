package core

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// SignInPolicy is how the users of an organisation may sign in, when it
// signs in through its own identity provider (single sign-on).
type SignInPolicy struct {
	// PasswordLogin false refuses password sign-in (native passwords and
	// directory binds alike) to everyone but the BreakGlassOwners.
	PasswordLogin bool
	// BreakGlassOwners are usernames that keep password sign-in while it is
	// off; each must be an owner of the organisation when they sign in.
	BreakGlassOwners []string
}

func (p SignInPolicy) breakGlass(username string) bool {
	return slices.ContainsFunc(p.BreakGlassOwners, func(b string) bool { return FoldKey(b) == FoldKey(username) })
}

// SetSignInPolicy sets the sign-in policy of the organisation named org;
// nil returns it to the default (password sign-in on).
func (s *Service) SetSignInPolicy(org string, p *SignInPolicy) {
	s.signInMu.Lock()
	defer s.signInMu.Unlock()
	if s.signIn == nil {
		s.signIn = map[string]SignInPolicy{}
	}
	if p == nil {
		delete(s.signIn, org)
		return
	}
	s.signIn[org] = SignInPolicy{PasswordLogin: p.PasswordLogin, BreakGlassOwners: slices.Clone(p.BreakGlassOwners)}
}

// PasswordLoginAllowed reports whether the organisation named org offers
// password sign-in (to everyone: break-glass owners keep it anyway).
func (s *Service) PasswordLoginAllowed(org string) bool {
	p, ok := s.signInPolicy(org)
	return !ok || p.PasswordLogin
}

func (s *Service) signInPolicy(org string) (SignInPolicy, bool) {
	s.signInMu.RLock()
	defer s.signInMu.RUnlock()
	p, ok := s.signIn[org]
	return p, ok
}

// passwordUsable reports whether u could sign in with a password under
// their organisation's policy (a self-service reset is not sent otherwise).
func (s *Service) passwordUsable(ctx context.Context, tx Tx, u *User) (bool, error) {
	o, err := tx.OrgByID(ctx, u.OrgID)
	if err != nil {
		return false, err
	}
	p, ok := s.signInPolicy(o.Name)
	return !ok || p.PasswordLogin || (u.Role == RoleOwner && p.breakGlass(u.Username)), nil
}

// errPasswordLoginOff refuses a password sign-in in an organisation that
// signs in through its identity provider. It is given for every username
// that is not a break-glass owner, existing or not, before any lookup: it
// tells nothing about accounts.
var errPasswordLoginOff = &LoginError{Code: "password_login_off", Reason: "password sign-in is turned off for this organisation: sign in with single sign-on"}

// passwordLoginGate is the policy's part of a password login, before the
// user is looked up: nil when the attempt may go on (then mustBeOwner says
// whether the user found must be an owner to be let in).
func (s *Service) passwordLoginGate(org, username string) (mustBeOwner bool, err error) {
	p, ok := s.signInPolicy(org)
	if !ok || p.PasswordLogin {
		return false, nil
	}
	if !p.breakGlass(username) {
		return false, errPasswordLoginOff
	}
	return true, nil
}

// Match claims: how an upstream identity is matched to a user.
const (
	MatchSubject = "sub"   // the IdP's subject against the user's external id
	MatchEmail   = "email" // the (verified) email address
)

// ExternalIdentity is a person an organisation's identity provider vouches
// for (an ID token verified by the door), signing in to one audience.
type ExternalIdentity struct {
	Org      string // organisation name
	Provider string // the IdP's name: its users' source is "oidc:" + Provider
	Audience Audience

	Subject       string
	Email         string
	EmailVerified *bool // nil when the IdP does not say
	Username      string
	FirstName     string
	LastName      string
	Language      string

	// Match is MatchSubject or MatchEmail. With MatchSubject the subject is
	// looked up as the external id of users of each MatchSources (e.g.
	// "scim:okta") and of the provider's own source.
	Match        string
	MatchSources []string
	// JIT creates an unknown identity as an active member of source
	// "oidc:" + Provider; otherwise it is refused.
	JIT bool
}

// ProviderSource is the source of the users an identity provider creates.
func ProviderSource(provider string) string { return "oidc:" + provider }

// ExternalLoginError refuses a single sign-on. Unlike a password login's,
// its reason is specific (the IdP has proven who the person is, so there is
// no one to hide an account's state from). Unwraps to ErrUnauthorized.
type ExternalLoginError struct {
	Code   string // unknown_user, not_active, ambiguous, unverified_email, conflict
	Reason string
}

func (e *ExternalLoginError) Error() string { return e.Reason }

// Unwrap makes errors.Is(err, ErrUnauthorized) true.
func (e *ExternalLoginError) Unwrap() error { return ErrUnauthorized }

// statusRefusal is what a person whose account may not sign in is told.
func statusRefusal(st Status) string {
	switch st {
	case StatusDisabled:
		return "Your account is disabled. Ask an administrator of your organisation to enable it."
	case StatusLocked:
		return "Your account is locked. Ask an administrator of your organisation to unlock it."
	case StatusArchived:
		return "Your account has been removed from this organisation."
	case StatusInvited:
		return "Your account is not active yet: accept your invitation first."
	case StatusInactive:
		return "Your account was deactivated after a long time without sign-in. Ask an administrator to reactivate it."
	}
	return "Your account cannot sign in (" + string(st) + ")."
}

// ExternalLogin opens a session for a person the organisation's identity
// provider vouches for: matched to one user by in.Match, or, when unknown
// and in.JIT, created through the one user constructor (source
// "oidc:<provider>", active, member). The status rule is the password
// login's (active only; an owner's expired lock lifts); sessions are per
// audience as for a password login.
func (s *Service) ExternalLogin(ctx context.Context, in ExternalIdentity) (*LoginResult, error) {
	res, err := s.externalLogin(ctx, in)
	if s.obs != nil {
		switch {
		case err == nil:
			s.obs.LoginAttempt(LoginSuccess)
		case errors.Is(err, ErrUnauthorized):
			s.obs.LoginAttempt(LoginFailure)
		}
	}
	return res, err
}

func (s *Service) externalLogin(ctx context.Context, in ExternalIdentity) (*LoginResult, error) {
	if !in.Audience.Valid() {
		return nil, invalid("audience", "%q is not one of console, catalog", in.Audience)
	}
	if in.Provider == "" {
		return nil, invalid("provider", "is required")
	}
	if in.Match != MatchSubject && in.Match != MatchEmail {
		return nil, invalid("match_claim", "%q is not one of sub, email", in.Match)
	}
	if strings.TrimSpace(in.Subject) == "" {
		return nil, &ExternalLoginError{Code: "unknown_user", Reason: "The identity provider sent no subject."}
	}
	var o *Org
	var u *User
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		if o, err = tx.OrgByName(ctx, in.Org); err != nil {
			return err
		}
		u, err = matchIdentity(ctx, tx, o.ID, in)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("single sign-on: %w", err)
	}
	if u != nil && s.ownerLockExpired(u) {
		if u, err = s.expireLock(ctx, u); err != nil {
			return nil, fmt.Errorf("single sign-on: %w", err)
		}
	}
	var nu *User
	var nin NewUser
	if u == nil {
		if !in.JIT {
			who := in.Subject
			if in.Email != "" {
				who = in.Email
			}
			return nil, &ExternalLoginError{Code: "unknown_user", Reason: fmt.Sprintf("There is no account for %s in this organisation. Ask an administrator to add you.", who)}
		}
		username := firstNonEmpty(in.Username, in.Email, in.Subject)
		nin = NewUser{OrgID: o.ID, Username: username, Email: in.Email, FirstName: in.FirstName, LastName: in.LastName,
			Language: in.Language, Role: RoleMember, Source: ProviderSource(in.Provider), ExternalID: in.Subject, Invite: NoInvite}
		if nu, nin, err = s.prepareUser(ctx, s.providerActor(in.Provider), nin); err != nil {
			var ve *ValidationError
			if errors.As(err, &ve) {
				return nil, &ExternalLoginError{Code: "conflict", Reason: "Your account cannot be created from what the identity provider sent: " + ve.Error()}
			}
			return nil, fmt.Errorf("single sign-on: %w", err)
		}
	}
	var res *LoginResult
	err = s.store.InTx(ctx, func(tx Tx) error {
		var cur *User
		if nu != nil {
			if err := checkNewUser(ctx, tx, nu); err != nil {
				var ce *ConflictError
				if errors.As(err, &ce) {
					return &ExternalLoginError{Code: "conflict", Reason: "An account with your " + ce.Field + " already exists but is not linked to this identity provider. Ask an administrator."}
				}
				return err
			}
			if _, err := s.insertUser(ctx, tx, s.providerActor(in.Provider), nu, nin); err != nil {
				return err
			}
			cur = nu
		} else {
			var err error
			if cur, err = tx.UserByID(ctx, u.OrgID, u.ID); err != nil {
				return err
			}
		}
		if !cur.Status.CanLogIn() {
			return &ExternalLoginError{Code: "not_active", Reason: statusRefusal(cur.Status)}
		}
		now := s.now()
		cur.LastLoginAt = &now
		var err error
		res, err = s.openSession(ctx, tx, cur, in.Audience, now)
		return err
	})
	var ee *ExternalLoginError
	if errors.As(err, &ee) {
		return nil, ee
	}
	if err != nil {
		return nil, fmt.Errorf("single sign-on: %w", err)
	}
	return res, nil
}

func (s *Service) providerActor(provider string) Actor {
	return Actor{Kind: ActorSystem, Name: ProviderSource(provider), Source: ProviderSource(provider)}
}

// matchIdentity finds the one user the identity is; nil when none.
func matchIdentity(ctx context.Context, tx Tx, orgID string, in ExternalIdentity) (*User, error) {
	if in.Match == MatchEmail {
		if in.Email == "" {
			return nil, &ExternalLoginError{Code: "unverified_email", Reason: "The identity provider sent no email address to match your account by."}
		}
		if in.EmailVerified != nil && !*in.EmailVerified {
			return nil, &ExternalLoginError{Code: "unverified_email", Reason: "The identity provider says your email address is not verified."}
		}
		u, err := tx.UserByEmail(ctx, orgID, in.Email)
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		return u, err
	}
	sources := append(slices.Clone(in.MatchSources), ProviderSource(in.Provider))
	var found *User
	for _, src := range slices.Compact(sources) {
		u, err := tx.UserByExternalID(ctx, orgID, src, in.Subject)
		if errors.Is(err, ErrNotFound) {
			continue
		} else if err != nil {
			return nil, err
		}
		if found != nil && found.ID != u.ID {
			return nil, &ExternalLoginError{Code: "ambiguous", Reason: "Your identity matches more than one account. Ask an administrator."}
		}
		found = u
	}
	return found, nil
}

func firstNonEmpty(vs ...string) string {
	for _, v := range vs {
		if strings.TrimSpace(v) != "" {
			return v
		}
	}
	return ""
}
