package core

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strings"
	"time"
)

// OpenID Connect: each app of an organisation can be an OIDC client of
// roster. The protocol lives in the oidc door; the rules live here: who may
// sign in to which app (an active user assigned to it, directly or through
// a group, through a catalog session), which redirect URIs a client may
// have, how secrets, codes and tokens are stored (SHA-256 only), how long
// they live, and how refresh tokens rotate.

// OIDCClient is an app's settings as an OpenID Connect client. Its client
// id is the app's id. A confidential client authenticates with a secret
// (shown once, stored as its SHA-256); a public one has none and must use
// PKCE.
type OIDCClient struct {
	AppID   string `json:"client_id" db:"app_id"`
	OrgID   string `json:"-" db:"org_id"`
	AppName string `json:"app_name" db:"app_name"`
	Public  bool   `json:"public" db:"public"`
	// SecretHash is the hex SHA-256 of a confidential client's secret.
	SecretHash           string    `json:"-" db:"secret_hash"`
	RedirectURIs         []string  `json:"redirect_uris" db:"-"`
	PostLogoutURIs       []string  `json:"post_logout_redirect_uris" db:"-"`
	BackchannelLogoutURI string    `json:"backchannel_logout_uri,omitempty" db:"backchannel_logout_uri"`
	CreatedAt            time.Time `json:"created_at" db:"created_at"`
	UpdatedAt            time.Time `json:"updated_at" db:"updated_at"`
}

// OIDCClientInput is what an admin sets on an app's client.
type OIDCClientInput struct {
	Public               bool
	RedirectURIs         []string
	PostLogoutURIs       []string
	BackchannelLogoutURI string
	// RotateSecret issues a new secret for a confidential client (one is
	// always issued when the client is new or was public).
	RotateSecret bool
}

// PrefixOIDCSecret prefixes client secrets; PrefixOIDCRefresh refresh tokens.
const (
	PrefixOIDCSecret  = "roidc_"
	PrefixOIDCRefresh = "rrt_"
)

// maxOIDCURIs bounds each URI list of a client.
const maxOIDCURIs = 20

// checkOIDCURI checks a redirect or logout URI: absolute, https (plain http
// only to a loopback host, for apps on the same machine and for tests), no
// fragment, no user info.
func checkOIDCURI(p *problems, field, raw string) {
	if len(raw) > 2000 {
		p.add(field, "%.40q… is longer than 2000 bytes", raw)
		return
	}
	u, err := url.Parse(raw)
	if err != nil || !u.IsAbs() || u.Host == "" {
		p.add(field, "%q is not an absolute URL", raw)
		return
	}
	switch {
	case u.Fragment != "" || strings.Contains(raw, "#"):
		p.add(field, "%q has a fragment, which a redirect URI must not have", raw)
	case u.User != nil:
		p.add(field, "%q has user info", raw)
	case u.Scheme == "https":
	case u.Scheme == "http" && isLoopback(u.Hostname()):
	default:
		p.add(field, "%q must be https (http only to localhost or a loopback address)", raw)
	}
}

func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SetAppOIDC makes an app an OpenID Connect client, or changes its
// settings (whoever manages the app: owners and admins, or the person
// allowed to create apps who created it). It returns the client and, when one was issued, its new secret,
// which is shown once.
func (s *Service) SetAppOIDC(ctx context.Context, a Actor, orgID, appID string, in OIDCClientInput) (string, *OIDCClient, error) {
	var p problems
	if len(in.RedirectURIs) == 0 {
		p.add("redirect_uris", "name at least one redirect URI")
	}
	if len(in.RedirectURIs) > maxOIDCURIs {
		p.add("redirect_uris", "at most %d", maxOIDCURIs)
	}
	if len(in.PostLogoutURIs) > maxOIDCURIs {
		p.add("post_logout_redirect_uris", "at most %d", maxOIDCURIs)
	}
	for i, u := range in.RedirectURIs {
		checkOIDCURI(&p, fmt.Sprintf("redirect_uris[%d]", i), u)
	}
	for i, u := range in.PostLogoutURIs {
		checkOIDCURI(&p, fmt.Sprintf("post_logout_redirect_uris[%d]", i), u)
	}
	if in.BackchannelLogoutURI != "" {
		checkOIDCURI(&p, "backchannel_logout_uri", in.BackchannelLogoutURI)
	}
	if in.Public && in.RotateSecret {
		p.add("rotate_secret", "a public client has no secret")
	}
	if err := p.err(); err != nil {
		return "", nil, err
	}
	var secret string
	var out *OIDCClient
	err := s.store.InTx(ctx, func(tx Tx) error {
		app, err := managedApp(ctx, tx, a, orgID, appID)
		if err != nil {
			return err
		}
		now := s.now()
		before, err := tx.OIDCClientByApp(ctx, orgID, app.ID)
		isNew := errors.Is(err, ErrNotFound)
		if err != nil && !isNew {
			return err
		}
		c := &OIDCClient{AppID: app.ID, OrgID: orgID, AppName: app.Name, Public: in.Public,
			RedirectURIs: slices.Clone(in.RedirectURIs), PostLogoutURIs: slices.Clone(in.PostLogoutURIs),
			BackchannelLogoutURI: in.BackchannelLogoutURI, CreatedAt: now, UpdatedAt: now}
		if c.PostLogoutURIs == nil {
			c.PostLogoutURIs = []string{}
		}
		if !isNew {
			c.CreatedAt = before.CreatedAt
			c.SecretHash = before.SecretHash
		}
		if c.Public {
			c.SecretHash = ""
		} else if isNew || before.Public || in.RotateSecret || c.SecretHash == "" {
			if secret, err = NewSecret(PrefixOIDCSecret); err != nil {
				return err
			}
			c.SecretHash = HashSecret(secret)
		}
		if err := tx.PutOIDCClient(ctx, c); err != nil {
			return err
		}
		out = c
		after := map[string]any{"public": c.Public, "redirect_uris": c.RedirectURIs, "post_logout_redirect_uris": c.PostLogoutURIs,
			"backchannel_logout_uri": c.BackchannelLogoutURI}
		if secret != "" {
			after["secret"] = "[issued]"
		}
		var b any
		if !isNew {
			b = map[string]any{"public": before.Public, "redirect_uris": before.RedirectURIs, "post_logout_redirect_uris": before.PostLogoutURIs,
				"backchannel_logout_uri": before.BackchannelLogoutURI}
		}
		return s.record(ctx, tx, a, orgID, "app.oidc", "app", app.ID, b, after)
	})
	if err != nil {
		return "", nil, fmt.Errorf("set oidc client of app %s: %w", appID, err)
	}
	return secret, out, nil
}

// AppOIDC returns an app's client settings (never its secret): to those
// who see every app, and to a person allowed to create apps for the apps
// they created.
func (s *Service) AppOIDC(ctx context.Context, a Actor, orgID, appID string) (*OIDCClient, error) {
	return read(ctx, s.store, func(tx Tx) (*OIDCClient, error) {
		if AuthorizeUserAdmin(a) != nil {
			if _, err := managedApp(ctx, tx, a, orgID, appID); err != nil {
				return nil, err
			}
		}
		return tx.OIDCClientByApp(ctx, orgID, appID)
	})
}

// DeleteAppOIDC stops an app from being a client: its tokens stop working.
func (s *Service) DeleteAppOIDC(ctx context.Context, a Actor, orgID, appID string) error {
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := managedApp(ctx, tx, a, orgID, appID); err != nil {
			return err
		}
		c, err := tx.OIDCClientByApp(ctx, orgID, appID)
		if err != nil {
			return err
		}
		if err := tx.DeleteOIDCClient(ctx, orgID, appID); err != nil {
			return err
		}
		if _, err := tx.RevokeOIDCTokens(ctx, OIDCTokenScope{AppID: appID}, s.now()); err != nil {
			return err
		}
		return s.record(ctx, tx, a, orgID, "app.oidc_delete", "app", appID, map[string]any{"redirect_uris": c.RedirectURIs}, nil)
	})
	if err != nil {
		return fmt.Errorf("delete oidc client of app %s: %w", appID, err)
	}
	return nil
}

// OIDCClient returns a client for the protocol (no actor: the client is
// who asks).
func (s *Service) OIDCClient(ctx context.Context, orgID, clientID string) (*OIDCClient, error) {
	return read(ctx, s.store, func(tx Tx) (*OIDCClient, error) { return tx.OIDCClientByApp(ctx, orgID, clientID) })
}

// CheckOIDCClientSecret authenticates a confidential client. A public
// client, an unknown one or a wrong secret is ErrUnauthorized.
func (s *Service) CheckOIDCClientSecret(ctx context.Context, orgID, clientID, secret string) error {
	c, err := s.OIDCClient(ctx, orgID, clientID)
	if errors.Is(err, ErrNotFound) {
		return ErrUnauthorized
	} else if err != nil {
		return err
	}
	if c.Public || c.SecretHash == "" || subtle.ConstantTimeCompare([]byte(HashSecret(secret)), []byte(c.SecretHash)) != 1 {
		return ErrUnauthorized
	}
	return nil
}

// AppAccessError refuses a sign-in to an app the user is not assigned to.
// Unwraps to ErrForbidden. Safe to show: it is only ever returned after the
// user authenticated.
type AppAccessError struct {
	App string
}

func (e *AppAccessError) Error() string {
	return fmt.Sprintf("your account is not assigned to %s: ask an administrator of your organisation for access", e.App)
}

// Unwrap makes errors.Is(err, ErrForbidden) true.
func (e *AppAccessError) Unwrap() error { return ErrForbidden }

// OIDCSubject is who a token or a code speaks for, as of now: an active
// user assigned to the app, with the app role they have there.
type OIDCSubject struct {
	User    *UserView
	AppID   string
	AppRole string
	// EmailVerified: the organisation's directory vouches for the email
	// (a SCIM or LDAP user), or the user accepted an invitation.
	EmailVerified bool
}

// oidcSubject checks that u may use app now and returns the subject. It
// reads only what the claims need (the user's groups and their role on this
// app), not the whole view: userinfo calls it on every request.
func (s *Service) oidcSubject(ctx context.Context, tx Tx, u *User, app *App) (*OIDCSubject, error) {
	if !u.Status.CanLogIn() {
		return nil, ErrUnauthorized
	}
	role, err := tx.UserAppRole(ctx, app.ID, u.ID)
	if errors.Is(err, ErrNotFound) {
		if app.Name == "" {
			if a, err := tx.AppByID(ctx, app.OrgID, app.ID); err == nil {
				app = a
			}
		}
		return nil, &AppAccessError{App: app.Name}
	} else if err != nil {
		return nil, fmt.Errorf("app role of user %s: %w", u.ID, err)
	}
	v := &UserView{User: *u, FullName: u.FullName(), Groups: []string{}, Apps: []AppAssignment{}}
	gs, err := tx.UserGroups(ctx, u.ID)
	if err != nil {
		return nil, fmt.Errorf("groups of user %s: %w", u.ID, err)
	}
	for _, g := range gs {
		v.Groups = append(v.Groups, g.Name)
	}
	return &OIDCSubject{User: v, AppID: app.ID, AppRole: role,
		EmailVerified: u.Email != "" && (u.IsDirectory() || u.InviteState == InviteStateAccepted)}, nil
}

// OIDCSubjectOf returns a user as a subject of app, refusing one that may
// no longer sign in to it (ErrUnauthorized, *AppAccessError).
func (s *Service) OIDCSubjectOf(ctx context.Context, orgID, appID, userID string) (*OIDCSubject, error) {
	return read(ctx, s.store, func(tx Tx) (*OIDCSubject, error) {
		app, err := tx.AppByID(ctx, orgID, appID)
		if err != nil {
			return nil, err
		}
		u, err := tx.UserByID(ctx, orgID, userID)
		if errors.Is(err, ErrNotFound) {
			return nil, ErrUnauthorized
		} else if err != nil {
			return nil, err
		}
		return s.oidcSubject(ctx, tx, u, app)
	})
}

// OIDCAuthRequest is an authorization request between the authorization
// endpoint and the code exchange. Params are the door's protocol
// parameters, opaque to the core.
type OIDCAuthRequest struct {
	ID        string     `db:"id"`
	OrgID     string     `db:"org_id"`
	AppID     string     `db:"app_id"`
	UserID    string     `db:"user_id"`    // set once a user signed in for it
	SessionID string     `db:"session_id"` // the catalog session it was granted through
	Params    string     `db:"params"`
	AuthTime  *time.Time `db:"auth_time"`
	CreatedAt time.Time  `db:"created_at"`
	ExpiresAt time.Time  `db:"expires_at"`
}

// Done reports whether a user signed in for the request.
func (r *OIDCAuthRequest) Done() bool { return r.UserID != "" }

// CreateOIDCAuthRequest stores a new request for a known client; it is
// valid for Config.OIDCCodeTTL.
func (s *Service) CreateOIDCAuthRequest(ctx context.Context, orgID, clientID, params string) (*OIDCAuthRequest, error) {
	now := s.now()
	r := &OIDCAuthRequest{ID: newID(), OrgID: orgID, AppID: clientID, Params: params, CreatedAt: now, ExpiresAt: now.Add(s.cfg.OIDCCodeTTL)}
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.OIDCClientByApp(ctx, orgID, clientID); err != nil {
			return err
		}
		return tx.InsertOIDCAuthRequest(ctx, r)
	})
	if err != nil {
		return nil, fmt.Errorf("create auth request: %w", err)
	}
	return r, nil
}

// OIDCAuthRequestByID returns an unexpired request of the organisation.
func (s *Service) OIDCAuthRequestByID(ctx context.Context, orgID, id string) (*OIDCAuthRequest, error) {
	return s.liveAuthRequest(ctx, orgID, func(tx Tx) (*OIDCAuthRequest, error) { return tx.OIDCAuthRequestByID(ctx, id) })
}

// OIDCAuthRequestByCode returns the request a code was issued for.
func (s *Service) OIDCAuthRequestByCode(ctx context.Context, orgID, code string) (*OIDCAuthRequest, error) {
	return s.liveAuthRequest(ctx, orgID, func(tx Tx) (*OIDCAuthRequest, error) { return tx.OIDCAuthRequestByCode(ctx, HashSecret(code)) })
}

func (s *Service) liveAuthRequest(ctx context.Context, orgID string, get func(Tx) (*OIDCAuthRequest, error)) (*OIDCAuthRequest, error) {
	r, err := read(ctx, s.store, get)
	if err != nil {
		return nil, err
	}
	if r.OrgID != orgID || !s.now().Before(r.ExpiresAt) {
		return nil, &NotFoundError{Kind: "auth request", Key: r.ID}
	}
	return r, nil
}

// SaveOIDCAuthCode records the code issued for a request (its SHA-256).
// A request gets one code.
func (s *Service) SaveOIDCAuthCode(ctx context.Context, id, code string) error {
	return s.store.InTx(ctx, func(tx Tx) error { return tx.SetOIDCAuthCode(ctx, id, HashSecret(code)) })
}

// DeleteOIDCAuthRequest ends a request (its code is used, or it failed).
func (s *Service) DeleteOIDCAuthRequest(ctx context.Context, id string) error {
	return s.store.InTx(ctx, func(tx Tx) error { return tx.DeleteOIDCAuthRequest(ctx, id) })
}

// ErrFreshSignInRequired: the app asked for a sign-in more recent than the
// session's (prompt=login, max_age); the person signs in again.
var ErrFreshSignInRequired = errors.New("the app asks for a fresh sign-in")

// CompleteOIDCAuthRequest grants a request to the user of a catalog
// session: the session must be valid (an unexpired catalog session of a
// user who may log in, who need not change their password first) and the
// user assigned to the request's app. Otherwise ErrUnauthorized (sign in
// again), *PasswordChangeRequiredError or *AppAccessError.
//
// maxAge is the app's demand for a recent sign-in (nil: none): the
// session must have been opened at most maxAge before the request was
// made, or after it (0, prompt=login: after it, a sign-in for this
// request); otherwise ErrFreshSignInRequired. The session's opening is the
// request's auth_time.
func (s *Service) CompleteOIDCAuthRequest(ctx context.Context, orgID, requestID, sessionToken string, maxAge *time.Duration) (*OIDCSubject, error) {
	var sub *OIDCSubject
	err := s.store.InTx(ctx, func(tx Tx) error {
		r, err := tx.OIDCAuthRequestByID(ctx, requestID)
		if err != nil {
			return err
		}
		now := s.now()
		if r.OrgID != orgID || !now.Before(r.ExpiresAt) {
			return &NotFoundError{Kind: "auth request", Key: requestID}
		}
		sess, err := tx.SessionByTokenHash(ctx, HashSecret(sessionToken))
		if errors.Is(err, ErrNotFound) {
			return ErrUnauthorized
		} else if err != nil {
			return err
		}
		if sess.OrgID != orgID || sess.Audience != AudienceCatalog || now.After(sess.ExpiresAt) {
			return ErrUnauthorized
		}
		if maxAge != nil && sess.CreatedAt.Before(r.CreatedAt.Add(-*maxAge)) {
			return ErrFreshSignInRequired
		}
		u, err := tx.UserByID(ctx, orgID, sess.UserID)
		if errors.Is(err, ErrNotFound) {
			return ErrUnauthorized
		} else if err != nil {
			return err
		}
		if u.Status.CanLogIn() && u.MustChangePassword {
			return &PasswordChangeRequiredError{}
		}
		app, err := tx.AppByID(ctx, orgID, r.AppID)
		if err != nil {
			return err
		}
		if sub, err = s.oidcSubject(ctx, tx, u, app); err != nil {
			return err
		}
		r.UserID, r.SessionID, r.AuthTime = u.ID, sess.ID, &sess.CreatedAt
		return tx.UpdateOIDCAuthRequest(ctx, r)
	})
	if err != nil {
		return nil, err
	}
	return sub, nil
}

// OIDCToken is an issued access or refresh token. Access tokens are found
// by id (they are signed JWTs naming it); refresh tokens by their SHA-256.
type OIDCToken struct {
	ID        string     `db:"id"`
	OrgID     string     `db:"org_id"`
	AppID     string     `db:"app_id"`
	UserID    string     `db:"user_id"`
	Kind      string     `db:"kind"`   // OIDCAccess or OIDCRefresh
	Family    string     `db:"family"` // the first refresh token of a rotation chain (its own id for access tokens without one)
	TokenHash *string    `db:"token_hash"`
	Scopes    string     `db:"scopes"` // space-separated
	AMR       string     `db:"amr"`    // space-separated
	AuthTime  time.Time  `db:"auth_time"`
	CreatedAt time.Time  `db:"created_at"`
	ExpiresAt time.Time  `db:"expires_at"`
	UsedAt    *time.Time `db:"used_at"`
	RevokedAt *time.Time `db:"revoked_at"`
}

// Token kinds.
const (
	OIDCAccess  = "access"
	OIDCRefresh = "refresh"
)

// ScopeList is the token's scopes.
func (t *OIDCToken) ScopeList() []string { return strings.Fields(t.Scopes) }

// AMRList is how the user authenticated.
func (t *OIDCToken) AMRList() []string { return strings.Fields(t.AMR) }

// OIDCGrant is what tokens are issued for.
type OIDCGrant struct {
	OrgID    string
	AppID    string
	UserID   string
	Scopes   []string
	AMR      []string
	AuthTime time.Time
	// Refresh asks for a refresh token too. CurrentRefresh is the refresh
	// token being exchanged, which is used up (rotation).
	Refresh        bool
	CurrentRefresh string
}

// OIDCIssued is the result of IssueOIDCTokens. Refresh is shown once.
type OIDCIssued struct {
	AccessID        string
	AccessExpiresAt time.Time
	Refresh         string
}

// IssueOIDCTokens issues an access token (and a refresh token when asked)
// to a subject who may still use the app. Exchanging a refresh token uses
// it up: its successor is in the same family, and the old one is refused
// from then on.
func (s *Service) IssueOIDCTokens(ctx context.Context, g OIDCGrant) (*OIDCIssued, error) {
	var out *OIDCIssued
	err := s.store.InTx(ctx, func(tx Tx) error {
		app, err := tx.AppByID(ctx, g.OrgID, g.AppID)
		if err != nil {
			return err
		}
		u, err := tx.UserByID(ctx, g.OrgID, g.UserID)
		if errors.Is(err, ErrNotFound) {
			return ErrUnauthorized
		} else if err != nil {
			return err
		}
		if _, err := s.oidcSubject(ctx, tx, u, app); err != nil {
			return err
		}
		now := s.now()
		family := ""
		if g.CurrentRefresh != "" {
			cur, err := s.liveRefresh(ctx, tx, g.OrgID, g.AppID, g.CurrentRefresh)
			if err != nil {
				return err
			}
			if ok, err := tx.UseOIDCToken(ctx, cur.ID, now); err != nil {
				return err
			} else if !ok {
				return ErrUnauthorized // used concurrently
			}
			family = cur.Family
		}
		access := &OIDCToken{ID: newID(), OrgID: g.OrgID, AppID: g.AppID, UserID: g.UserID, Kind: OIDCAccess, Scopes: strings.Join(g.Scopes, " "),
			AMR: strings.Join(g.AMR, " "), AuthTime: g.AuthTime, CreatedAt: now, ExpiresAt: now.Add(s.cfg.OIDCAccessTokenTTL)}
		out = &OIDCIssued{AccessID: access.ID, AccessExpiresAt: access.ExpiresAt}
		if g.Refresh || g.CurrentRefresh != "" {
			secret, err := NewSecret(PrefixOIDCRefresh)
			if err != nil {
				return err
			}
			h := HashSecret(secret)
			rt := &OIDCToken{ID: newID(), OrgID: g.OrgID, AppID: g.AppID, UserID: g.UserID, Kind: OIDCRefresh, TokenHash: &h, Scopes: access.Scopes,
				AMR: access.AMR, AuthTime: g.AuthTime, CreatedAt: now, ExpiresAt: now.Add(s.cfg.OIDCRefreshTokenTTL)}
			if family == "" {
				family = rt.ID
			}
			rt.Family = family
			if err := tx.InsertOIDCToken(ctx, rt); err != nil {
				return err
			}
			out.Refresh = secret
		}
		if family == "" {
			family = access.ID
		}
		access.Family = family
		return tx.InsertOIDCToken(ctx, access)
	})
	if err != nil {
		return nil, fmt.Errorf("issue tokens: %w", err)
	}
	return out, nil
}

// liveRefresh finds a refresh token of the app that may be exchanged. A
// token used before (a replay, or a thief racing the app) revokes its whole
// family, in its own transaction, so that the revocation stands.
func (s *Service) liveRefresh(ctx context.Context, tx Tx, orgID, appID, secret string) (*OIDCToken, error) {
	t, err := tx.OIDCTokenByHash(ctx, HashSecret(secret))
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUnauthorized
	} else if err != nil {
		return nil, err
	}
	now := s.now()
	if t.Kind != OIDCRefresh || t.OrgID != orgID || (appID != "" && t.AppID != appID) || t.RevokedAt != nil || !now.Before(t.ExpiresAt) {
		return nil, ErrUnauthorized
	}
	if t.UsedAt != nil {
		s.log.Warn("refresh token reused: its family is revoked", "app_id", t.AppID, "user_id", t.UserID, "family", t.Family)
		if _, err := tx.RevokeOIDCTokens(ctx, OIDCTokenScope{Family: t.Family}, now); err != nil {
			return nil, err
		}
		return nil, &reuseError{}
	}
	return t, nil
}

// reuseError commits the family's revocation (InTx commits on a nil
// return only, so the caller maps it after the transaction).
type reuseError struct{}

func (*reuseError) Error() string { return "the refresh token was used before: its family is revoked" }
func (*reuseError) Unwrap() error { return ErrUnauthorized }

// OIDCRefreshToken returns a refresh token of the app (any app when
// appID is empty) that may be exchanged, with its subject checked as of now. A reused token revokes its
// family.
func (s *Service) OIDCRefreshToken(ctx context.Context, orgID, appID, secret string) (*OIDCToken, error) {
	var t *OIDCToken
	var reused bool
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		t, err = s.liveRefresh(ctx, tx, orgID, appID, secret)
		var re *reuseError
		if errors.As(err, &re) {
			reused = true
			return nil // commit the revocation
		}
		if err != nil {
			return err
		}
		app, err := tx.AppByID(ctx, orgID, t.AppID)
		if err != nil {
			return err
		}
		u, err := tx.UserByID(ctx, orgID, t.UserID)
		if err != nil {
			return err
		}
		_, err = s.oidcSubject(ctx, tx, u, app)
		return err
	})
	if reused {
		return nil, &reuseError{}
	}
	if err != nil {
		return nil, err
	}
	return t, nil
}

// OIDCAccessToken returns the subject of a live access token (not
// revoked, not expired, its user still active and assigned to the app).
func (s *Service) OIDCAccessToken(ctx context.Context, orgID, tokenID string) (*OIDCToken, *OIDCSubject, error) {
	var t *OIDCToken
	var sub *OIDCSubject
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		t, err = tx.OIDCTokenByID(ctx, tokenID)
		if errors.Is(err, ErrNotFound) {
			return ErrUnauthorized
		} else if err != nil {
			return err
		}
		if t.Kind != OIDCAccess || t.OrgID != orgID || t.RevokedAt != nil || !s.now().Before(t.ExpiresAt) {
			return ErrUnauthorized
		}
		// The app is not read: the token names it, and its deletion took
		// the token with it (the refusal then names no app).
		app := &App{ID: t.AppID, OrgID: orgID}
		u, err := tx.UserByID(ctx, orgID, t.UserID)
		if errors.Is(err, ErrNotFound) {
			return ErrUnauthorized
		} else if err != nil {
			return err
		}
		sub, err = s.oidcSubject(ctx, tx, u, app)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return t, sub, nil
}

// OIDCRefreshTokenInfo returns the user and id of a refresh token of the
// app (for revocation); ErrNotFound when it is none.
func (s *Service) OIDCRefreshTokenInfo(ctx context.Context, orgID, appID, secret string) (*OIDCToken, error) {
	t, err := read(ctx, s.store, func(tx Tx) (*OIDCToken, error) { return tx.OIDCTokenByHash(ctx, HashSecret(secret)) })
	if err != nil {
		return nil, err
	}
	if t.Kind != OIDCRefresh || t.OrgID != orgID || t.AppID != appID {
		return nil, &NotFoundError{Kind: "refresh token", Key: "token"}
	}
	return t, nil
}

// RevokeOIDCToken revokes a token of the app (RFC 7009): an access token by
// id, a refresh token by its secret, with its whole family. A token of
// another app, or an unknown one, is left alone (and not an error: the
// answer must not tell).
func (s *Service) RevokeOIDCToken(ctx context.Context, orgID, appID, accessID, refreshSecret string) error {
	return s.store.InTx(ctx, func(tx Tx) error {
		var t *OIDCToken
		var err error
		if refreshSecret != "" {
			t, err = tx.OIDCTokenByHash(ctx, HashSecret(refreshSecret))
		} else {
			t, err = tx.OIDCTokenByID(ctx, accessID)
		}
		if errors.Is(err, ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		if t.OrgID != orgID || t.AppID != appID {
			return nil
		}
		scope := OIDCTokenScope{ID: t.ID}
		if t.Kind == OIDCRefresh {
			scope = OIDCTokenScope{Family: t.Family}
		}
		_, err = tx.RevokeOIDCTokens(ctx, scope, s.now())
		return err
	})
}

// CatalogLogout is a user's catalog sign-in that ended: every catalog
// session and every app token of the user. Apps lists the clients that
// held a token and asked to be told (a backchannel_logout_uri).
type CatalogLogout struct {
	OrgID, OrgName, UserID string
	Apps                   []OIDCClient
}

// CatalogLogoutListener is told, after the commit, when a catalog sign-in
// ended, through the OpenID Provider's end_session or through the admin
// API's logout of a catalog session. The OpenID Provider door implements
// it (back-channel logout). It must not block: the call is on the path of
// the logout's answer.
type CatalogLogoutListener interface {
	CatalogLoggedOut(ctx context.Context, ev CatalogLogout)
}

type catalogListener struct{ l CatalogLogoutListener }

// SetCatalogLogoutListener sets who is told of catalog logouts (nil: no one).
func (s *Service) SetCatalogLogoutListener(l CatalogLogoutListener) {
	if l == nil {
		s.catalogOut.Store(nil)
		return
	}
	s.catalogOut.Store(&catalogListener{l: l})
}

// endCatalog ends u's catalog sign-in in tx: their catalog sessions and
// every token an app holds for them. It returns what to tell.
func (s *Service) endCatalog(ctx context.Context, tx Tx, orgID string, u *User, via string) (*CatalogLogout, error) {
	now := s.now()
	ev := &CatalogLogout{OrgID: orgID, UserID: u.ID}
	if o, err := tx.OrgByID(ctx, orgID); err == nil {
		ev.OrgName = o.Name
	} else {
		return nil, err
	}
	apps, err := tx.OIDCAppsOfUser(ctx, u.ID, now)
	if err != nil {
		return nil, err
	}
	for _, id := range apps {
		c, err := tx.OIDCClientByApp(ctx, orgID, id)
		if err == nil && c.BackchannelLogoutURI != "" {
			ev.Apps = append(ev.Apps, *c)
		}
	}
	n, err := tx.DeleteSessions(ctx, u.ID, AudienceCatalog)
	if err != nil {
		return nil, err
	}
	revoked, err := tx.RevokeOIDCTokens(ctx, OIDCTokenScope{UserID: u.ID}, now)
	if err != nil {
		return nil, err
	}
	err = s.record(ctx, tx, Actor{Kind: ActorSelf, ID: u.ID, Name: u.Username}, orgID, "user.logout", "user", u.ID, nil,
		map[string]any{"audience": AudienceCatalog, "sessions_ended": n, "app_tokens_revoked": revoked, "via": via})
	return ev, err
}

// tellCatalogLogout hands a committed catalog logout to the listener.
func (s *Service) tellCatalogLogout(ctx context.Context, ev *CatalogLogout) {
	if ev == nil || len(ev.Apps) == 0 {
		return
	}
	if l := s.catalogOut.Load(); l != nil {
		l.l.CatalogLoggedOut(ctx, *ev)
	}
}

// OIDCLogout ends a user's sign-in to the catalog: every catalog session of
// the user (the catalog is one audience: signing out of one app signs out
// of all of them; console sessions stay) and every token any app holds for
// them. The CatalogLogoutListener is told.
func (s *Service) OIDCLogout(ctx context.Context, orgID, userID string) error {
	var ev *CatalogLogout
	err := s.store.InTx(ctx, func(tx Tx) error {
		u, err := tx.UserByID(ctx, orgID, userID)
		if errors.Is(err, ErrNotFound) {
			return nil
		} else if err != nil {
			return err
		}
		ev, err = s.endCatalog(ctx, tx, orgID, u, "oidc")
		return err
	})
	if err != nil {
		return fmt.Errorf("oidc logout: %w", err)
	}
	s.tellCatalogLogout(ctx, ev)
	return nil
}

// CatalogSessionUser returns the user id of a live catalog session of the
// organisation, or ErrUnauthorized.
func (s *Service) CatalogSessionUser(ctx context.Context, orgID, token string) (string, error) {
	p, err := s.AuthenticateSessionForPasswordChange(ctx, token)
	if err != nil {
		return "", err
	}
	if p.Audience != AudienceCatalog || p.User.OrgID != orgID {
		return "", ErrUnauthorized
	}
	return p.User.ID, nil
}

// PurgeOIDC deletes expired authorization requests and tokens.
func (s *Service) PurgeOIDC(ctx context.Context) (int64, error) {
	var n int64
	err := s.store.InTx(ctx, func(tx Tx) error {
		var err error
		n, err = tx.DeleteExpiredOIDC(ctx, s.now())
		return err
	})
	return n, err
}

// OIDCTokenScope selects tokens to revoke: by id, family, user or app
// (exactly one set).
type OIDCTokenScope struct {
	ID, Family, UserID, AppID string
}

// OIDCRepo stores OIDC clients, authorization requests, tokens and keys.
type OIDCRepo interface {
	PutOIDCClient(ctx context.Context, c *OIDCClient) error
	OIDCClientByApp(ctx context.Context, orgID, appID string) (*OIDCClient, error)
	DeleteOIDCClient(ctx context.Context, orgID, appID string) error

	InsertOIDCAuthRequest(ctx context.Context, r *OIDCAuthRequest) error
	OIDCAuthRequestByID(ctx context.Context, id string) (*OIDCAuthRequest, error)
	OIDCAuthRequestByCode(ctx context.Context, codeHash string) (*OIDCAuthRequest, error)
	UpdateOIDCAuthRequest(ctx context.Context, r *OIDCAuthRequest) error
	SetOIDCAuthCode(ctx context.Context, id, codeHash string) error
	DeleteOIDCAuthRequest(ctx context.Context, id string) error

	InsertOIDCToken(ctx context.Context, t *OIDCToken) error
	OIDCTokenByID(ctx context.Context, id string) (*OIDCToken, error)
	OIDCTokenByHash(ctx context.Context, hash string) (*OIDCToken, error)
	// UseOIDCToken marks an unused token used; false when it already was.
	UseOIDCToken(ctx context.Context, id string, at time.Time) (bool, error)
	RevokeOIDCTokens(ctx context.Context, sel OIDCTokenScope, at time.Time) (int64, error)
	// UserAppRole is a user's role on an app: their direct assignment's, or
	// else the least of their groups' grants (as UserApps); ErrNotFound
	// when the user is not assigned.
	UserAppRole(ctx context.Context, appID, userID string) (string, error)
	// OIDCAppsOfUser lists the apps holding an unexpired, unrevoked token of the user.
	OIDCAppsOfUser(ctx context.Context, userID string, now time.Time) ([]string, error)
	DeleteExpiredOIDC(ctx context.Context, now time.Time) (int64, error)

	InsertOIDCKey(ctx context.Context, k *OIDCKey) error
	ListOIDCKeys(ctx context.Context) ([]OIDCKey, error)
	// UpdateOIDCKeyPrivate replaces a key's stored private key when it is
	// still from; false when it is not (changed by another process).
	UpdateOIDCKeyPrivate(ctx context.Context, id, from, to string) (bool, error)
	RetireOIDCKeys(ctx context.Context, exceptID string, at time.Time) error
	DeleteOIDCKeysRetiredBefore(ctx context.Context, before time.Time) (int64, error)
}
