package core

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// NewSecret returns a random 256-bit token, URL-safe, with a prefix naming its kind
// (so a leaked token is recognisable in a secret scanner).
func NewSecret(prefix string) (string, error) {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", fmt.Errorf("read random: %w", err)
	}
	return prefix + base64.RawURLEncoding.EncodeToString(b[:]), nil
}

// HashSecret is how tokens are stored and looked up: hex SHA-256. A 256-bit
// random token needs no salt or slow hash.
func HashSecret(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}

// Token prefixes.
const (
	PrefixInvite  = "rinv_"
	PrefixSession = "rses_"
	PrefixSCIM    = "rscim_"
	PrefixAdmin   = "radm_"
)

// TokenRepo stores API tokens (only their SHA-256) and the provisioning
// settings of SCIM tokens.
type TokenRepo interface {
	InsertToken(ctx context.Context, t *APIToken) error
	TokenByHash(ctx context.Context, hash string) (*APIToken, error)
	ListTokens(ctx context.Context, orgID string) ([]APIToken, error)
	RevokeToken(ctx context.Context, orgID, id string, at time.Time) (bool, error)
	// RevokeUserTokens revokes every unrevoked token acting as userID.
	RevokeUserTokens(ctx context.Context, userID string, at time.Time) (int64, error)
	DirectorySettings(ctx context.Context, tokenID string) (*DirectorySettings, error)
	PutDirectorySettings(ctx context.Context, s *DirectorySettings) error
}

// NewToken is the input of IssueToken.
type NewToken struct {
	Name  string
	Scope TokenScope
	// UserID is the user an admin token acts as. A person may name only
	// themself (empty means themself); the operator (CLI) names anyone.
	UserID string
	// RoleCeiling is the highest role a SCIM token may grant: at most the
	// creator's own role, DefaultRoleCeiling (admin) when empty. Only an
	// owner (or the operator) makes a token that may grant owner, and only
	// by asking for it.
	RoleCeiling Role
	// Settings, when set, are a SCIM token's settings, stored with it.
	Settings *DirectorySettings
}

// CreateToken issues a bearer token for an organisation and returns its
// secret, which is shown once: only its hash is stored. An admin token acts
// as userID.
func (s *Service) CreateToken(ctx context.Context, a Actor, orgID, name string, scope TokenScope, userID string) (string, *APIToken, error) {
	return s.IssueToken(ctx, a, orgID, NewToken{Name: name, Scope: scope, UserID: userID})
}

// creatorRole is the most an actor may grant through a token: a person's
// role; the operator and background jobs are owner-level.
func creatorRole(a Actor) Role {
	if isPerson(a) {
		return a.Role
	}
	return RoleOwner
}

// IssueToken issues a bearer token (see NewToken) and returns its secret,
// which is shown once: only its hash is stored. No one acts as someone
// else: a person's admin token acts as that person. A SCIM token grants at
// most its role ceiling, which is at most its creator's role.
func (s *Service) IssueToken(ctx context.Context, a Actor, orgID string, in NewToken) (string, *APIToken, error) {
	name, scope, userID := in.Name, in.Scope, in.UserID
	var p problems
	checkText(&p, "name", name, MaxNameLen)
	if strings.TrimSpace(name) == "" {
		p.add("name", "is required")
	}
	prefix := ""
	ceiling := in.RoleCeiling
	switch scope {
	case ScopeSCIM:
		prefix = PrefixSCIM
		if userID != "" {
			p.add("user_id", "a SCIM token does not act as a user")
		}
		if ceiling == "" {
			ceiling = ClampRole(DefaultRoleCeiling, creatorRole(a))
		} else if !ceiling.Valid() {
			p.add("role_ceiling", "%q is not one of owner, admin, user_manager, developer, member", ceiling)
		}
	case ScopeAdmin:
		prefix = PrefixAdmin
		if ceiling != "" {
			p.add("role_ceiling", "applies to SCIM tokens only; an admin token acts with its user's role")
		}
		if in.Settings != nil {
			p.add("scope", "SCIM settings apply to SCIM tokens only")
		}
		if userID == "" && isPerson(a) {
			userID = a.ID
		}
		if userID == "" {
			p.add("user_id", "is required for an admin token")
		}
	default:
		p.add("scope", "%q is not one of scim, admin", scope)
	}
	if err := p.err(); err != nil {
		return "", nil, err
	}
	if err := authorizeOwnerAdmin(a, PermTokens); err != nil {
		return "", nil, err
	}
	if scope == ScopeAdmin && isPerson(a) && userID != a.ID {
		return "", nil, &ForbiddenError{Field: "user_id", Reason: "an admin token acts only as the person who creates it; leave user_id empty or give your own id (the operator names other users with `roster token create --user`)"}
	}
	if scope == ScopeSCIM && ceiling.Above(creatorRole(a)) {
		return "", nil, &ForbiddenError{Field: "role_ceiling", Reason: fmt.Sprintf("a token cannot grant more than its creator may: your role (%s) cannot give a token the role ceiling %s", creatorRole(a), ceiling)}
	}
	var set *DirectorySettings
	if scope == ScopeSCIM && in.Settings != nil {
		c := *in.Settings
		set = &c
		if err := checkDirectorySettings(a, set, ceiling); err != nil {
			return "", nil, err
		}
	}
	secret, err := NewSecret(prefix)
	if err != nil {
		return "", nil, err
	}
	t := &APIToken{ID: newID(), OrgID: orgID, Name: name, Scope: scope, TokenHash: HashSecret(secret), CreatedAt: s.now(),
		CreatedByID: a.ID, CreatedByName: a.Name}
	if scope == ScopeSCIM {
		t.RoleCeiling = ceiling
	}
	if !isPerson(a) {
		t.CreatedByID = ""
	}
	if userID != "" {
		t.UserID = &userID
	}
	err = s.store.InTx(ctx, func(tx Tx) error {
		if userID != "" {
			u, err := tx.UserByID(ctx, orgID, userID)
			if err != nil {
				return err
			}
			if !u.Status.CanLogIn() {
				return invalid("user_id", "%s is %s and cannot act", u.Username, u.Status)
			}
		}
		if err := tx.InsertToken(ctx, t); err != nil {
			return err
		}
		if err := s.record(ctx, tx, a, orgID, "token.create", "token", t.ID, nil, t); err != nil {
			return err
		}
		if set != nil {
			set.TokenID = t.ID
			if err := tx.PutDirectorySettings(ctx, set); err != nil {
				return err
			}
			return s.record(ctx, tx, a, orgID, "token.scim_settings", "token", t.ID, nil, set)
		}
		return nil
	})
	if err != nil {
		return "", nil, fmt.Errorf("create %s token %q: %w", scope, name, err)
	}
	return secret, t, nil
}

// AuthenticateToken resolves a bearer secret to its token. It fails with
// ErrUnauthorized for unknown or revoked tokens, and for admin tokens whose
// user can no longer log in.
func (s *Service) AuthenticateToken(ctx context.Context, secret string, scope TokenScope) (*APIToken, error) {
	var t *APIToken
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		t, err = tx.TokenByHash(ctx, HashSecret(secret))
		if errors.Is(err, ErrNotFound) {
			return ErrUnauthorized
		}
		if err != nil {
			return err
		}
		if t.RevokedAt != nil || t.Scope != scope {
			return ErrUnauthorized
		}
		if t.UserID != nil {
			u, err := tx.UserByID(ctx, t.OrgID, *t.UserID)
			if errors.Is(err, ErrNotFound) {
				return ErrUnauthorized
			}
			if err != nil {
				return err
			}
			if !u.Status.CanLogIn() {
				return ErrUnauthorized
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

// ListTokens returns an organisation's API tokens (never their secrets).
func (s *Service) ListTokens(ctx context.Context, a Actor, orgID string) ([]APIToken, error) {
	if err := authorizeOwnerAdmin(a, PermTokens); err != nil {
		return nil, err
	}
	return read(ctx, s.store, func(tx Tx) ([]APIToken, error) { return tx.ListTokens(ctx, orgID) })
}

// RevokeToken stops a token from working.
func (s *Service) RevokeToken(ctx context.Context, a Actor, orgID, id string) error {
	if err := authorizeOwnerAdmin(a, PermTokens); err != nil {
		return err
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		ok, err := tx.RevokeToken(ctx, orgID, id, s.now())
		if err != nil {
			return err
		}
		if !ok {
			return &NotFoundError{Kind: "active token", Key: id}
		}
		return s.record(ctx, tx, a, orgID, "token.revoke", "token", id, nil, nil)
	})
	if err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	return nil
}
