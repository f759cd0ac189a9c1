package oidc

import (
	"context"
	"crypto/rsa"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/rosterhq/roster/core"
)

// storage is op.Storage over the core. The organisation comes from the
// request's context (the door resolved it from the path).
type storage struct{ d *Door }

var (
	_ op.Storage                        = (*storage)(nil)
	_ op.CanSetUserinfoFromRequest      = (*storage)(nil)
	_ op.CanTerminateSessionFromRequest = (*storage)(nil)
)

func (s *storage) svc() *core.Service { return s.d.svc }

// ---- clients ----

type client struct {
	c      *core.OIDCClient
	issuer string
	idTTL  time.Duration
}

func (c *client) GetID() string                    { return c.c.AppID }
func (c *client) RedirectURIs() []string           { return c.c.RedirectURIs }
func (c *client) PostLogoutRedirectURIs() []string { return c.c.PostLogoutURIs }
func (c *client) ApplicationType() op.ApplicationType {
	if c.c.Public {
		return op.ApplicationTypeNative
	}
	return op.ApplicationTypeWeb
}
func (c *client) AuthMethod() oidc.AuthMethod {
	if c.c.Public {
		return oidc.AuthMethodNone
	}
	return oidc.AuthMethodBasic
}
func (c *client) ResponseTypes() []oidc.ResponseType {
	return []oidc.ResponseType{oidc.ResponseTypeCode}
}
func (c *client) GrantTypes() []oidc.GrantType {
	return []oidc.GrantType{oidc.GrantTypeCode, oidc.GrantTypeRefreshToken}
}
func (c *client) LoginURL(id string) string            { return c.issuer + "/login?id=" + id }
func (c *client) AccessTokenType() op.AccessTokenType  { return op.AccessTokenTypeJWT }
func (c *client) IDTokenLifetime() time.Duration       { return c.idTTL }
func (c *client) DevMode() bool                        { return false }
func (c *client) ClockSkew() time.Duration             { return 0 }
func (c *client) IDTokenUserinfoClaimsAssertion() bool { return true }
func (c *client) IsScopeAllowed(scope string) bool {
	return scope == ScopeRoles || scope == ScopeGroups
}
func (c *client) RestrictAdditionalIdTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}
func (c *client) RestrictAdditionalAccessTokenScopes() func([]string) []string {
	return func(s []string) []string { return s }
}

func (s *storage) GetClientByClientID(ctx context.Context, id string) (op.Client, error) {
	c, err := s.svc().OIDCClient(ctx, orgOf(ctx).ID, id)
	if errors.Is(err, core.ErrNotFound) {
		return nil, fmt.Errorf("client %q: %w", id, err)
	} else if err != nil {
		return nil, oidc.ErrServerError().WithParent(err)
	}
	return &client{c: c, issuer: op.IssuerFromContext(ctx), idTTL: s.svc().Config().OIDCIDTokenTTL}, nil
}

func (s *storage) AuthorizeClientIDSecret(ctx context.Context, id, secret string) error {
	err := s.svc().CheckOIDCClientSecret(ctx, orgOf(ctx).ID, id, secret)
	if err != nil && !errors.Is(err, core.ErrUnauthorized) {
		return oidc.ErrServerError().WithParent(err)
	}
	return err
}

// ---- authorization requests ----

// authRequest is op.AuthRequest over a stored request.
type authRequest struct {
	r *core.OIDCAuthRequest
	p oidc.AuthRequest
}

func newAuthRequest(r *core.OIDCAuthRequest) (*authRequest, error) {
	a := &authRequest{r: r}
	if err := json.Unmarshal([]byte(r.Params), &a.p); err != nil {
		return nil, fmt.Errorf("auth request %s: %w", r.ID, err)
	}
	return a, nil
}

func (a *authRequest) GetID() string         { return a.r.ID }
func (a *authRequest) GetACR() string        { return "" }
func (a *authRequest) GetAMR() []string      { return []string{"pwd"} }
func (a *authRequest) GetAudience() []string { return []string{a.r.AppID} }
func (a *authRequest) GetAuthTime() time.Time {
	if a.r.AuthTime == nil {
		return time.Time{}
	}
	return *a.r.AuthTime
}
func (a *authRequest) GetClientID() string { return a.r.AppID }
func (a *authRequest) GetCodeChallenge() *oidc.CodeChallenge {
	if a.p.CodeChallenge == "" {
		return nil
	}
	m := a.p.CodeChallengeMethod
	if m == "" {
		m = oidc.CodeChallengeMethodPlain
	}
	return &oidc.CodeChallenge{Challenge: a.p.CodeChallenge, Method: m}
}
func (a *authRequest) GetNonce() string                   { return a.p.Nonce }
func (a *authRequest) GetRedirectURI() string             { return a.p.RedirectURI }
func (a *authRequest) GetResponseType() oidc.ResponseType { return a.p.ResponseType }
func (a *authRequest) GetResponseMode() oidc.ResponseMode { return a.p.ResponseMode }
func (a *authRequest) GetScopes() []string                { return a.p.Scopes }
func (a *authRequest) GetState() string                   { return a.p.State }
func (a *authRequest) GetSubject() string                 { return a.r.UserID }
func (a *authRequest) Done() bool                         { return a.r.Done() }

func (s *storage) CreateAuthRequest(ctx context.Context, req *oidc.AuthRequest, _ string) (op.AuthRequest, error) {
	params, err := json.Marshal(req)
	if err != nil {
		return nil, fmt.Errorf("auth request: %w", err)
	}
	r, err := s.svc().CreateOIDCAuthRequest(ctx, orgOf(ctx).ID, req.ClientID, string(params))
	if err != nil {
		return nil, err
	}
	return newAuthRequest(r)
}

func (s *storage) AuthRequestByID(ctx context.Context, id string) (op.AuthRequest, error) {
	r, err := s.svc().OIDCAuthRequestByID(ctx, orgOf(ctx).ID, id)
	if err != nil {
		return nil, err
	}
	return newAuthRequest(r)
}

func (s *storage) AuthRequestByCode(ctx context.Context, code string) (op.AuthRequest, error) {
	r, err := s.svc().OIDCAuthRequestByCode(ctx, orgOf(ctx).ID, code)
	if err != nil {
		return nil, err
	}
	if !r.Done() {
		return nil, errors.New("auth request not granted")
	}
	return newAuthRequest(r)
}

func (s *storage) SaveAuthCode(ctx context.Context, id, code string) error {
	return s.svc().SaveOIDCAuthCode(ctx, id, code)
}

func (s *storage) DeleteAuthRequest(ctx context.Context, id string) error {
	return s.svc().DeleteOIDCAuthRequest(ctx, id)
}

// ---- tokens ----

// refreshRequest is op.RefreshTokenRequest over a stored refresh token.
type refreshRequest struct {
	t      *core.OIDCToken
	scopes []string
}

func (r *refreshRequest) GetAMR() []string                 { return r.t.AMRList() }
func (r *refreshRequest) GetAudience() []string            { return []string{r.t.AppID} }
func (r *refreshRequest) GetAuthTime() time.Time           { return r.t.AuthTime }
func (r *refreshRequest) GetClientID() string              { return r.t.AppID }
func (r *refreshRequest) GetScopes() []string              { return r.scopes }
func (r *refreshRequest) GetSubject() string               { return r.t.UserID }
func (r *refreshRequest) SetCurrentScopes(scopes []string) { r.scopes = scopes }

func grantOf(ctx context.Context, req op.TokenRequest) (core.OIDCGrant, error) {
	g := core.OIDCGrant{OrgID: orgOf(ctx).ID, UserID: req.GetSubject(), Scopes: req.GetScopes()}
	switch r := req.(type) {
	case *authRequest:
		g.AppID, g.AMR, g.AuthTime = r.r.AppID, r.GetAMR(), r.GetAuthTime()
	case *refreshRequest:
		g.AppID, g.AMR, g.AuthTime = r.t.AppID, r.t.AMRList(), r.t.AuthTime
	default:
		return g, oidc.ErrUnsupportedGrantType()
	}
	return g, nil
}

func (s *storage) CreateAccessToken(ctx context.Context, req op.TokenRequest) (string, time.Time, error) {
	g, err := grantOf(ctx, req)
	if err != nil {
		return "", time.Time{}, err
	}
	out, err := s.svc().IssueOIDCTokens(ctx, g)
	if err != nil {
		return "", time.Time{}, tokenError(err)
	}
	return out.AccessID, out.AccessExpiresAt, nil
}

func (s *storage) CreateAccessAndRefreshTokens(ctx context.Context, req op.TokenRequest, current string) (string, string, time.Time, error) {
	g, err := grantOf(ctx, req)
	if err != nil {
		return "", "", time.Time{}, err
	}
	g.Refresh, g.CurrentRefresh = true, current
	out, err := s.svc().IssueOIDCTokens(ctx, g)
	if err != nil {
		return "", "", time.Time{}, tokenError(err)
	}
	return out.AccessID, out.Refresh, out.AccessExpiresAt, nil
}

// tokenError answers a refused subject (disabled, unassigned) or a used
// refresh token with invalid_grant, anything else with server_error.
func tokenError(err error) error {
	if errors.Is(err, core.ErrUnauthorized) || errors.Is(err, core.ErrForbidden) || errors.Is(err, core.ErrNotFound) {
		return oidc.ErrInvalidGrant().WithDescription("the grant is no longer valid").WithParent(err)
	}
	return oidc.ErrServerError().WithParent(err)
}

func (s *storage) TokenRequestByRefreshToken(ctx context.Context, token string) (op.RefreshTokenRequest, error) {
	t, err := s.svc().OIDCRefreshToken(ctx, orgOf(ctx).ID, "", token)
	if err != nil {
		return nil, tokenError(err)
	}
	return &refreshRequest{t: t, scopes: t.ScopeList()}, nil
}

func (s *storage) TerminateSession(ctx context.Context, userID, _ string) error {
	return s.d.logout(ctx, userID)
}

// TerminateSessionFromRequest ends the user's catalog sign-in: the user of
// the ID token hint, or else of the sign-in page's session cookie.
func (s *storage) TerminateSessionFromRequest(ctx context.Context, req *op.EndSessionRequest) (string, error) {
	userID := req.UserID
	if tok, _ := ctx.Value(sessionKey).(string); tok != "" {
		if id, err := s.svc().CatalogSessionUser(ctx, orgOf(ctx).ID, tok); err == nil {
			if userID != "" && id != userID {
				// The hint names someone else: end the hinted user's sign-in only.
				s.d.log.Info("oidc logout: the id token hint and the session cookie name different users")
			} else {
				userID = id
			}
		}
	}
	if userID != "" {
		if err := s.d.logout(ctx, userID); err != nil {
			return "", err
		}
	}
	if req.RedirectURI != "" {
		return req.RedirectURI, nil
	}
	return op.IssuerFromContext(ctx) + "/logged-out", nil
}

func (s *storage) RevokeToken(ctx context.Context, tokenOrID, userID, clientID string) *oidc.Error {
	var err error
	if userID != "" {
		err = s.svc().RevokeOIDCToken(ctx, orgOf(ctx).ID, clientID, tokenOrID, "")
	} else {
		err = s.svc().RevokeOIDCToken(ctx, orgOf(ctx).ID, clientID, "", tokenOrID)
	}
	if err != nil {
		return oidc.ErrServerError().WithParent(err)
	}
	return nil
}

func (s *storage) GetRefreshTokenInfo(ctx context.Context, clientID, token string) (string, string, error) {
	t, err := s.svc().OIDCRefreshTokenInfo(ctx, orgOf(ctx).ID, clientID, token)
	if err != nil {
		return "", "", op.ErrInvalidRefreshToken
	}
	return t.UserID, t.ID, nil
}

// ---- keys ----

type signingKey struct {
	id  string
	key *rsa.PrivateKey
}

func (k *signingKey) SignatureAlgorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *signingKey) Key() any                                    { return k.key }
func (k *signingKey) ID() string                                  { return k.id }

type publicKey struct{ signingKey }

func (k *publicKey) Algorithm() jose.SignatureAlgorithm { return jose.RS256 }
func (k *publicKey) Use() string                        { return "sig" }
func (k *publicKey) Key() any                           { return &k.key.PublicKey }

// keyCache holds the parsed keys for a minute (less than
// core.OIDCKeyActivation, so a new key is published everywhere before it
// signs).
type keyCache struct {
	svc     *core.Service
	mu      sync.Mutex
	at      time.Time
	signing *signingKey
	all     []op.Key
	parsed  map[string]*rsa.PrivateKey
}

const keyCacheTTL = time.Minute

func newKeyCache(svc *core.Service) *keyCache {
	return &keyCache{svc: svc, parsed: map[string]*rsa.PrivateKey{}}
}

func (c *keyCache) get(ctx context.Context) (*signingKey, []op.Key, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.signing != nil && time.Since(c.at) < keyCacheTTL {
		return c.signing, c.all, nil
	}
	set, err := c.svc.OIDCKeys(ctx)
	if err != nil {
		return nil, nil, err
	}
	parsed := map[string]*rsa.PrivateKey{}
	var all []op.Key
	for i := range set.Verify {
		k := &set.Verify[i]
		rk := c.parsed[k.ID]
		if rk == nil {
			if rk, err = k.RSA(); err != nil {
				return nil, nil, err
			}
		}
		parsed[k.ID] = rk
		all = append(all, &publicKey{signingKey{id: k.ID, key: rk}})
	}
	c.parsed, c.all, c.at = parsed, all, time.Now()
	c.signing = &signingKey{id: set.Signing.ID, key: parsed[set.Signing.ID]}
	return c.signing, c.all, nil
}

func (s *storage) SigningKey(ctx context.Context) (op.SigningKey, error) {
	k, _, err := s.d.keys.get(ctx)
	if err != nil {
		return nil, err
	}
	return k, nil
}

func (s *storage) SignatureAlgorithms(context.Context) ([]jose.SignatureAlgorithm, error) {
	return []jose.SignatureAlgorithm{jose.RS256}, nil
}

func (s *storage) KeySet(ctx context.Context) ([]op.Key, error) {
	_, all, err := s.d.keys.get(ctx)
	return all, err
}

// ---- claims ----

// fillUserinfo sets the claims the scopes ask for.
func fillUserinfo(ui *oidc.UserInfo, sub *core.OIDCSubject, scopes []string) {
	u := sub.User
	ui.Subject = u.ID
	for _, sc := range scopes {
		switch sc {
		case oidc.ScopeProfile:
			ui.Name, ui.GivenName, ui.FamilyName = u.FullName, u.FirstName, u.LastName
			ui.PreferredUsername = u.Username
			if u.Language != "" {
				if tag, err := language.Parse(u.Language); err == nil {
					ui.Locale = oidc.NewLocale(tag)
				}
			}
		case oidc.ScopeEmail:
			ui.Email, ui.EmailVerified = u.Email, oidc.Bool(sub.EmailVerified)
		case ScopeRoles:
			ui.AppendClaims("roles", []string{string(u.Role)})
			ui.AppendClaims("app_role", sub.AppRole)
		case ScopeGroups:
			ui.AppendClaims("groups", slices.Clone(u.Groups))
		}
	}
}

func (s *storage) SetUserinfoFromScopes(context.Context, *oidc.UserInfo, string, string, []string) error {
	return nil // SetUserinfoFromRequest does it
}

func (s *storage) SetUserinfoFromRequest(ctx context.Context, ui *oidc.UserInfo, req op.IDTokenRequest, scopes []string) error {
	sub, err := s.svc().OIDCSubjectOf(ctx, orgOf(ctx).ID, req.GetClientID(), req.GetSubject())
	if err != nil {
		return tokenError(err)
	}
	fillUserinfo(ui, sub, scopes)
	return nil
}

func (s *storage) SetUserinfoFromToken(ctx context.Context, ui *oidc.UserInfo, tokenID, subject, _ string) error {
	t, sub, err := s.svc().OIDCAccessToken(ctx, orgOf(ctx).ID, tokenID)
	if err != nil {
		return err
	}
	if t.UserID != subject {
		return errors.New("token subject mismatch")
	}
	fillUserinfo(ui, sub, t.ScopeList())
	return nil
}

func (s *storage) SetIntrospectionFromToken(ctx context.Context, resp *oidc.IntrospectionResponse, tokenID, subject, clientID string) error {
	t, sub, err := s.svc().OIDCAccessToken(ctx, orgOf(ctx).ID, tokenID)
	if err != nil || t.UserID != subject || t.AppID != clientID {
		return errors.New("token is not active")
	}
	ui := new(oidc.UserInfo)
	fillUserinfo(ui, sub, t.ScopeList())
	resp.SetUserInfo(ui)
	resp.Scope = t.ScopeList()
	resp.ClientID = t.AppID
	resp.Audience = []string{t.AppID}
	resp.Active = true
	return nil
}

func (s *storage) GetPrivateClaimsFromScopes(context.Context, string, string, []string) (map[string]any, error) {
	return nil, nil
}

func (s *storage) GetKeyByIDAndClientID(context.Context, string, string) (*jose.JSONWebKey, error) {
	return nil, errors.New("private_key_jwt client authentication is not supported")
}

func (s *storage) ValidateJWTProfileScopes(context.Context, string, []string) ([]string, error) {
	return nil, errors.New("the JWT profile grant is not supported")
}

func (s *storage) Health(ctx context.Context) error { return nil }
