// Package oidc is roster's OpenID Provider door: each app of an
// organisation that has OIDC client settings can sign its users in through
// roster (authorization code with PKCE, refresh tokens with rotation,
// userinfo, revocation, RP-initiated logout). The protocol is
// zitadel/oidc's op package; its Storage is implemented here by calling
// the core, which holds every rule (who may sign in to which app, token
// lifetimes and rotation, signing keys). The sign-in page is roster's own.
//
// One issuer per organisation: {public_url}/oidc/{org}, with discovery at
// {issuer}/.well-known/openid-configuration.
package oidc

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"github.com/zitadel/oidc/v3/pkg/op"
	"golang.org/x/text/language"

	"github.com/rosterhq/roster/core"
)

// Config is the door's configuration.
type Config struct {
	// PublicURL is the daemon's external base URL; issuers are
	// PublicURL + "/oidc/" + organisation name.
	PublicURL string
	// SecureCookies marks the sign-in cookies Secure (the public URL is https).
	SecureCookies bool
	// LoginRatePerMinute bounds password checks on the sign-in pages per
	// source address (default 30, as the admin API's login).
	LoginRatePerMinute int
	// SSO, when set, tells the sign-in page an organisation's own IdP: the
	// button's name and the URL that starts a sign-in through it.
	SSO func(org string) (displayName, startURL string, ok bool)
}

// Validate checks the configuration.
func (c *Config) Validate() error {
	u, err := url.Parse(c.PublicURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("oidc: public_url %q is not an http(s) URL", c.PublicURL)
	}
	return nil
}

// Scopes beyond the standard ones: roles (the org role and the app role)
// and groups (the user's group names).
const (
	ScopeRoles  = "roles"
	ScopeGroups = "groups"
)

// Door serves /oidc/{org}/...
type Door struct {
	svc      *core.Service
	log      *slog.Logger
	public   string
	secure   bool
	provider *op.Provider
	keys     *keyCache
	pages    *pages
	http     *http.Client // back-channel logout notices
	limit    *loginLimiter
	sso      func(org string) (displayName, startURL string, ok bool)
	orgs     sync.Map // name → orgEntry: organisations seen in the last orgCacheTTL
}

// orgCacheTTL is how long the door remembers an organisation by name (a
// request to the OP reads it first; renames are rare).
const orgCacheTTL = 30 * time.Second

type orgEntry struct {
	org *core.Org
	at  time.Time
}

// org resolves an organisation by name.
func (d *Door) org(ctx context.Context, name string) (*core.Org, error) {
	if e, ok := d.orgs.Load(name); ok && time.Since(e.(orgEntry).at) < orgCacheTTL {
		return e.(orgEntry).org, nil
	}
	o, err := d.svc.Org(ctx, name)
	if err != nil {
		d.orgs.Delete(name)
		return nil, err
	}
	d.orgs.Store(name, orgEntry{org: o, at: time.Now()})
	return o, nil
}

// New builds the door.
func New(cfg Config, svc *core.Service, log *slog.Logger) (*Door, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	d := &Door{svc: svc, log: log.With("component", "oidc"), public: strings.TrimRight(cfg.PublicURL, "/"), secure: cfg.SecureCookies,
		keys: newKeyCache(svc), limit: newLoginLimiter(cfg.LoginRatePerMinute), sso: cfg.SSO, http: &http.Client{Timeout: backchannelTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
	pg, err := newPages()
	if err != nil {
		return nil, err
	}
	d.pages = pg
	// The crypto key only makes authorization codes unpredictable (they are
	// looked up by their hash, and access tokens are signed JWTs), so a key
	// per process is enough, also with several replicas.
	var key [32]byte
	if _, err := rand.Read(key[:]); err != nil {
		return nil, fmt.Errorf("oidc: crypto key: %w", err)
	}
	conf := &op.Config{
		CryptoKey:             key,
		CodeMethodS256:        true,
		AuthMethodPost:        true,
		GrantTypeRefreshToken: true,
		// Back-channel logout, without sid: a logout ends the user's
		// catalog sign-in, every session of it.
		BackChannelLogoutSupported: true,
		SupportedUILocales:         []language.Tag{language.English},
		SupportedScopes:            []string{"openid", "profile", "email", "offline_access", ScopeRoles, ScopeGroups},
		SupportedClaims: append(append([]string(nil), op.DefaultSupportedClaims...),
			"roles", "groups", "app_role"),
	}
	opts := []op.Option{}
	if strings.HasPrefix(d.public, "http://") {
		opts = append(opts, op.WithAllowInsecure())
	}
	p, err := op.NewProvider(conf, &storage{d: d}, func(bool) (op.IssuerFromRequest, error) {
		return func(r *http.Request) string { return d.issuer(r.Context()) }, nil
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("oidc: provider: %w", err)
	}
	d.provider = p
	return d, nil
}

// Mount adds the door's routes.
func (d *Door) Mount(r *mux.Router) {
	r.PathPrefix("/oidc/").Handler(d)
}

type ctxKey int

const (
	orgKey ctxKey = iota
	sessionKey
)

func orgOf(ctx context.Context) *core.Org {
	o, _ := ctx.Value(orgKey).(*core.Org)
	if o == nil {
		return &core.Org{} // never matches a stored row
	}
	return o
}

// issuer is the organisation's issuer.
func (d *Door) issuer(ctx context.Context) string {
	return d.public + "/oidc/" + url.PathEscape(orgOf(ctx).Name)
}

// sessionCookie is the catalog session of the sign-in page, per organisation.
const sessionCookie = "roster_catalog"

func (d *Door) cookiePath(ctx context.Context) string {
	return "/oidc/" + url.PathEscape(orgOf(ctx).Name) + "/"
}

// ServeHTTP resolves the organisation, then serves roster's own pages
// (sign-in, password change, signed out) or hands the protocol to op.
func (d *Door) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rest := strings.TrimPrefix(r.URL.EscapedPath(), "/oidc/")
	name, sub, _ := strings.Cut(rest, "/")
	orgName, err := url.PathUnescape(name)
	if err != nil || orgName == "" {
		http.NotFound(w, r)
		return
	}
	o, err := d.org(r.Context(), orgName)
	if errors.Is(err, core.ErrNotFound) {
		http.NotFound(w, r)
		return
	} else if err != nil {
		d.log.Error("oidc: organisation", "err", err)
		http.Error(w, "the server cannot answer now", http.StatusServiceUnavailable)
		return
	}
	ctx := context.WithValue(r.Context(), orgKey, o)
	ctx = context.WithValue(ctx, libLogKey{}, true)
	if c, err := r.Cookie(sessionCookie); err == nil && c.Value != "" {
		ctx = context.WithValue(ctx, sessionKey, c.Value)
	}
	ctx = op.ContextWithIssuer(ctx, d.issuer(ctx))
	r = r.WithContext(ctx)
	switch sub {
	case "login":
		d.login(w, r)
		return
	case "password":
		d.password(w, r)
		return
	case "logged-out":
		d.pages.render(w, http.StatusOK, "message", pageData{Title: "Signed out", Message: "You are signed out of the apps of " + displayName(o) + "."})
		return
	}
	prefix := "/oidc/" + orgName
	http.StripPrefix(prefix, d.provider).ServeHTTP(w, r)
}

func displayName(o *core.Org) string {
	if o.DisplayName != "" {
		return o.DisplayName
	}
	return o.Name
}
