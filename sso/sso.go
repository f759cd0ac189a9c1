// Package sso is the door through which an organisation's people sign in
// with the organisation's own OpenID provider (single sign-on): roster is
// the relying party, with coreos/go-oidc (discovery, ID-token signature,
// issuer, audience and expiry checks) over golang.org/x/oauth2
// (authorization code with PKCE). The person is matched to a user, or
// created just in time, and gets a session by the core's rules
// (core.Service.ExternalLogin); the door only speaks the protocol.
//
//	GET /auth/sso/{org}/start?audience=console|catalog&return=/path
//	GET /auth/sso/{org}/callback   (the redirect URI to register at the IdP)
//	GET /auth/methods?org=NAME     (how an organisation signs in; no session needed)
package sso

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/coreos/go-oidc/v3/oidc"
	"github.com/gorilla/mux"
	"golang.org/x/oauth2"

	"github.com/rosterhq/roster/core"
)

// Cookie names: the sign-in's state (per organisation path), and the
// sessions it opens, the console's and the OP sign-in page's.
const (
	StateCookie   = "roster_sso"
	consoleCookie = "roster_session"
	csrfCookie    = "roster_csrf"
	catalogCookie = "roster_catalog"
)

// stateTTL bounds how long a person may take at the IdP.
const stateTTL = 10 * time.Minute

// Options are the door's settings beside the IdPs.
type Options struct {
	// PublicURL is the daemon's external base URL: the redirect URI is
	// PublicURL + /auth/sso/{org}/callback.
	PublicURL string
	// SecureCookies marks cookies Secure (the public URL is https).
	SecureCookies bool
	// CSRFToken derives the console's CSRF token from its session token
	// (the admin API's rule, api.CSRFToken).
	CSRFToken func(sessionToken string) string
	// HTTPClient talks to the IdPs (10 s timeout when nil).
	HTTPClient *http.Client
}

// Door serves the routes above for the configured IdPs.
type Door struct {
	svc  *core.Service
	log  *slog.Logger
	opt  Options
	idps map[string]*idp // by organisation name
	page *template.Template
}

type idp struct {
	cfg Config

	mu       sync.Mutex
	provider *oidc.Provider // discovered on first use, retried until it works
}

// New builds the door and tells the core each organisation's sign-in
// policy. An IdP is discovered on first use, so that roster starts while
// it is down.
func New(cfgs []Config, opt Options, svc *core.Service, log *slog.Logger) (*Door, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if opt.HTTPClient == nil {
		opt.HTTPClient = &http.Client{Timeout: 10 * time.Second}
	}
	if opt.CSRFToken == nil {
		return nil, errors.New("sso: a CSRF token function is required")
	}
	opt.PublicURL = strings.TrimRight(opt.PublicURL, "/")
	t, err := template.New("page").Parse(pageHTML)
	if err != nil {
		return nil, err
	}
	d := &Door{svc: svc, log: log.With("component", "sso"), opt: opt, idps: map[string]*idp{}, page: t}
	for _, c := range cfgs {
		c.Defaults()
		if fs := c.Validate(); len(fs) > 0 {
			return nil, fmt.Errorf("sso %s: %s: %s", c.Name, fs[0].Field, fs[0].Message)
		}
		if _, dup := d.idps[c.Org]; dup {
			return nil, fmt.Errorf("sso: organisation %q has two identity providers", c.Org)
		}
		d.idps[c.Org] = &idp{cfg: c}
		svc.SetSignInPolicy(c.Org, &core.SignInPolicy{PasswordLogin: c.PasswordLoginOn(), BreakGlassOwners: c.BreakGlassOwners})
	}
	return d, nil
}

// Mount adds the door's routes.
func (d *Door) Mount(r *mux.Router) {
	r.HandleFunc("/auth/sso/{org}/start", d.start).Methods(http.MethodGet)
	r.HandleFunc("/auth/sso/{org}/callback", d.callback).Methods(http.MethodGet)
	r.HandleFunc("/auth/methods", d.methods).Methods(http.MethodGet)
}

// Button is what a sign-in page shows for an organisation's IdP.
type Button struct {
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
	// StartURL begins a sign-in (add audience and return).
	StartURL string `json:"start_url"`
}

// ButtonFor is the organisation's IdP button, if it has one.
func (d *Door) ButtonFor(org string) (Button, bool) {
	p, ok := d.idps[org]
	if !ok {
		return Button{}, false
	}
	return Button{Name: p.cfg.Name, DisplayName: p.cfg.DisplayName, StartURL: "/auth/sso/" + url.PathEscape(org) + "/start"}, true
}

// Methods is how an organisation's people sign in.
type Methods struct {
	Org      string  `json:"org"`
	Password bool    `json:"password"`
	SSO      *Button `json:"sso,omitempty"`
}

func (d *Door) methods(w http.ResponseWriter, r *http.Request) {
	org := r.URL.Query().Get("org")
	if org == "" {
		org = core.DefaultOrg
	}
	m := Methods{Org: org, Password: d.svc.PasswordLoginAllowed(org)}
	if b, ok := d.ButtonFor(org); ok {
		m.SSO = &b
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	_ = json.NewEncoder(w).Encode(m)
}

func (p *idp) secret() string { return p.cfg.ClientSecret }

// discover returns the IdP's provider, discovering it when not yet done.
func (d *Door) discover(ctx context.Context, p *idp) (*oidc.Provider, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.provider != nil {
		return p.provider, nil
	}
	// The provider keeps this context for fetching the IdP's keys later:
	// the daemon's client, not the request's lifetime.
	pctx := oidc.ClientContext(context.Background(), d.opt.HTTPClient)
	dctx, cancel := context.WithTimeout(pctx, 10*time.Second)
	defer cancel()
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	prov, err := oidc.NewProvider(dctx, p.cfg.Issuer)
	if err != nil {
		return nil, err
	}
	// dctx ends with this call: the provider is made again from the
	// discovered (and issuer-checked) document on the long-lived context,
	// which fetches and refreshes the IdP's keys.
	var raw struct {
		Issuer   string   `json:"issuer"`
		Auth     string   `json:"authorization_endpoint"`
		Token    string   `json:"token_endpoint"`
		UserInfo string   `json:"userinfo_endpoint"`
		JWKS     string   `json:"jwks_uri"`
		Algs     []string `json:"id_token_signing_alg_values_supported"`
	}
	if err := prov.Claims(&raw); err != nil {
		return nil, err
	}
	pc := oidc.ProviderConfig{IssuerURL: raw.Issuer, AuthURL: raw.Auth, TokenURL: raw.Token, UserInfoURL: raw.UserInfo, JWKSURL: raw.JWKS, Algorithms: raw.Algs}
	p.provider = pc.NewProvider(pctx)
	return p.provider, nil
}

func (d *Door) oauth(p *idp, prov *oidc.Provider) *oauth2.Config {
	return &oauth2.Config{ClientID: p.cfg.ClientID, ClientSecret: p.secret(), Endpoint: prov.Endpoint(),
		RedirectURL: d.opt.PublicURL + "/auth/sso/" + url.PathEscape(p.cfg.Org) + "/callback", Scopes: p.cfg.Scopes}
}

func randomString() string {
	var b [32]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// safeReturn accepts a path of this server only (no scheme, no host, not
// protocol-relative), and for the catalog only the org's OP pages, which
// are where its session cookie is sent.
func safeReturn(ret, org string, aud core.Audience) (string, bool) {
	if ret == "" {
		if aud == core.AudienceConsole {
			return "/console/", true
		}
		return "", false
	}
	u, err := url.Parse(ret)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(ret, "/") || strings.HasPrefix(ret, "//") || strings.ContainsAny(ret, "\\\r\n") {
		return "", false
	}
	if aud == core.AudienceCatalog && !strings.HasPrefix(u.Path, "/oidc/"+url.PathEscape(org)+"/") {
		return "", false
	}
	return ret, true
}

// idpOf is the identity provider of the request's organisation, or a page
// saying it has none (ok false: the answer is written).
func (d *Door) idpOf(w http.ResponseWriter, r *http.Request) (string, *idp, bool) {
	org := mux.Vars(r)["org"]
	p, ok := d.idps[org]
	if !ok {
		d.render(w, http.StatusNotFound, "Single sign-on is not set up", "This organisation does not sign in through an identity provider.", "")
	}
	return org, p, ok
}

func (d *Door) start(w http.ResponseWriter, r *http.Request) {
	org, p, ok := d.idpOf(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	aud := core.Audience(q.Get("audience"))
	if aud == "" {
		aud = core.AudienceConsole
	}
	if !aud.Valid() {
		d.render(w, http.StatusBadRequest, "Sign-in cannot start", "audience: "+fmt.Sprintf("%q is not one of console, catalog", aud), "")
		return
	}
	ret, ok := safeReturn(q.Get("return"), org, aud)
	if !ok {
		d.render(w, http.StatusBadRequest, "Sign-in cannot start", "return: a path on this server is required (for the catalog, one under /oidc/"+org+"/).", "")
		return
	}
	// A fresh sign-in at the IdP, when the app asked roster's OP for one.
	prompt := q.Get("prompt")
	if prompt != "" && prompt != "login" {
		d.render(w, http.StatusBadRequest, "Sign-in cannot start", fmt.Sprintf("prompt: %q is not login", prompt), d.back(aud, ret))
		return
	}
	var maxAge *int
	if v := q.Get("max_age"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			d.render(w, http.StatusBadRequest, "Sign-in cannot start", fmt.Sprintf("max_age: %q is not a number of seconds", v), d.back(aud, ret))
			return
		}
		if n == 0 {
			// The same as prompt=login (OpenID Connect Core 3.1.2.1), which
			// some IdPs understand and max_age=0 not.
			prompt = "login"
		} else {
			maxAge = &n
		}
	}
	prov, err := d.discover(r.Context(), p)
	if err != nil {
		d.log.Error("sso: discovery", "org", org, "idp", p.cfg.Name, "err", err)
		d.render(w, http.StatusBadGateway, "Sign-in is not available", p.cfg.DisplayName+" does not answer. Try again in a moment.", d.back(aud, ret))
		return
	}
	now := time.Now()
	st := State{Org: org, Audience: string(aud), Return: ret, State: randomString(), Nonce: randomString(),
		Verifier: oauth2.GenerateVerifier(), Expires: now.Add(stateTTL), Started: now, Prompt: prompt, MaxAge: maxAge}
	http.SetCookie(w, &http.Cookie{Name: StateCookie, Value: SealState(p.secret(), st), Path: d.statePath(org),
		MaxAge: int(stateTTL / time.Second), HttpOnly: true, Secure: d.opt.SecureCookies, SameSite: http.SameSiteLaxMode})
	opts := []oauth2.AuthCodeOption{oidc.Nonce(st.Nonce), oauth2.S256ChallengeOption(st.Verifier)}
	if prompt != "" {
		opts = append(opts, oauth2.SetAuthURLParam("prompt", prompt))
	}
	if maxAge != nil {
		opts = append(opts, oauth2.SetAuthURLParam("max_age", strconv.Itoa(*maxAge)))
	}
	http.Redirect(w, r, d.oauth(p, prov).AuthCodeURL(st.State, opts...), http.StatusFound)
}

// authSkew is the clock difference allowed between roster and the IdP
// when checking the ID token's auth_time.
const authSkew = 30 * time.Second

// freshEnough checks the ID token's auth_time against the fresh sign-in
// the round trip asked for: with max_age the IdP must say when the person
// signed in (OpenID Connect Core 3.1.2.1), and not longer ago; with
// prompt=login, not before the round trip began. "" when it is fine.
func freshEnough(st State, authTime *float64) string {
	if st.Prompt == "" && st.MaxAge == nil {
		return ""
	}
	if authTime == nil || *authTime <= 0 { // glewlwyd 2.7 sends 0: it says nothing
		if st.MaxAge != nil {
			return "did not say when you signed in (auth_time), which the app requires."
		}
		return ""
	}
	at := time.Unix(int64(*authTime), 0)
	if st.MaxAge != nil && at.Before(st.Started.Add(-time.Duration(*st.MaxAge)*time.Second-authSkew)) {
		return "did not sign you in recently enough for the app (max_age)."
	}
	if st.Prompt == "login" && at.Before(st.Started.Add(-authSkew)) {
		return "did not ask you to sign in again, which the app requires (prompt=login)."
	}
	return ""
}

func (d *Door) statePath(org string) string { return "/auth/sso/" + url.PathEscape(org) + "/" }

// back is where a refused sign-in's page links to.
func (d *Door) back(aud core.Audience, ret string) string {
	if aud == core.AudienceConsole {
		return "/console/"
	}
	return ret
}

func (d *Door) callback(w http.ResponseWriter, r *http.Request) {
	org, p, ok := d.idpOf(w, r)
	if !ok {
		return
	}
	// The state cookie is single-use: cleared whatever happens next.
	http.SetCookie(w, &http.Cookie{Name: StateCookie, Value: "", Path: d.statePath(org), MaxAge: -1, HttpOnly: true, Secure: d.opt.SecureCookies, SameSite: http.SameSiteLaxMode})
	c, err := r.Cookie(StateCookie)
	var st State
	if err == nil {
		st, err = OpenState(p.secret(), org, c.Value, time.Now())
	}
	if err != nil {
		d.render(w, http.StatusBadRequest, "This sign-in has expired", "It was not started in this browser, or took too long. Start again.", "/console/")
		return
	}
	aud := core.Audience(st.Audience)
	back := d.back(aud, st.Return)
	q := r.URL.Query()
	if subtle.ConstantTimeCompare([]byte(q.Get("state")), []byte(st.State)) != 1 {
		d.log.Warn("sso: state mismatch", "org", org, "idp", p.cfg.Name)
		d.render(w, http.StatusBadRequest, "Sign-in refused", "The answer of the identity provider does not belong to this sign-in (state mismatch). Start again.", back)
		return
	}
	if e := q.Get("error"); e != "" {
		msg := e
		if desc := q.Get("error_description"); desc != "" {
			msg += ": " + desc
		}
		d.render(w, http.StatusUnauthorized, "Sign-in refused by "+p.cfg.DisplayName, msg, back)
		return
	}
	prov, err := d.discover(r.Context(), p)
	if err != nil {
		d.log.Error("sso: discovery", "org", org, "idp", p.cfg.Name, "err", err)
		d.render(w, http.StatusBadGateway, "Sign-in is not available", p.cfg.DisplayName+" does not answer. Try again in a moment.", back)
		return
	}
	ctx := oidc.ClientContext(r.Context(), d.opt.HTTPClient)
	tok, err := d.oauth(p, prov).Exchange(ctx, q.Get("code"), oauth2.VerifierOption(st.Verifier))
	if err != nil {
		d.log.Warn("sso: code exchange", "org", org, "idp", p.cfg.Name, "err", err)
		d.render(w, http.StatusUnauthorized, "Sign-in refused", p.cfg.DisplayName+" did not accept the sign-in. Start again.", back)
		return
	}
	raw, _ := tok.Extra("id_token").(string)
	if raw == "" {
		d.render(w, http.StatusBadGateway, "Sign-in refused", p.cfg.DisplayName+" sent no ID token.", back)
		return
	}
	idt, err := prov.Verifier(&oidc.Config{ClientID: p.cfg.ClientID}).Verify(ctx, raw)
	if err != nil {
		d.log.Warn("sso: ID token", "org", org, "idp", p.cfg.Name, "err", err)
		d.render(w, http.StatusUnauthorized, "Sign-in refused", "The ID token of "+p.cfg.DisplayName+" is not valid.", back)
		return
	}
	if subtle.ConstantTimeCompare([]byte(idt.Nonce), []byte(st.Nonce)) != 1 {
		d.log.Warn("sso: nonce mismatch", "org", org, "idp", p.cfg.Name)
		d.render(w, http.StatusUnauthorized, "Sign-in refused", "The ID token does not belong to this sign-in (nonce mismatch). Start again.", back)
		return
	}
	var cl claims
	if err := idt.Claims(&cl); err != nil {
		d.render(w, http.StatusBadGateway, "Sign-in refused", "The ID token's claims cannot be read.", back)
		return
	}
	// Many IdPs put only the subject in the ID token and the email and
	// profile at the userinfo endpoint (OpenID Connect Core 5.4): what the
	// ID token lacks is asked there.
	if cl.incomplete() && prov.UserInfoEndpoint() != "" {
		// Without it the sign-in goes on with the ID token's claims (the
		// core refuses a match by email without one).
		if err := d.userInfo(ctx, prov, tok, idt.Subject, &cl); err != nil {
			d.log.Warn("sso: userinfo", "org", org, "idp", p.cfg.Name, "err", err)
		}
	}
	if why := freshEnough(st, cl.AuthTime); why != "" {
		d.log.Warn("sso: sign-in not fresh", "org", org, "idp", p.cfg.Name, "prompt", st.Prompt, "max_age", st.MaxAge, "auth_time", authTimeOf(cl.AuthTime), "started", st.Started)
		d.render(w, http.StatusUnauthorized, "Sign-in refused", p.cfg.DisplayName+" "+why+" Start again.", back)
		return
	}
	first, last := cl.GivenName, cl.FamilyName
	if first == "" && last == "" && cl.Name != "" {
		first, last, _ = strings.Cut(cl.Name, " ")
	}
	res, err := d.svc.ExternalLogin(r.Context(), core.ExternalIdentity{Org: org, Provider: p.cfg.Name, Audience: aud,
		Subject: idt.Subject, Email: cl.Email, EmailVerified: cl.EmailVerified, Username: cl.Username, FirstName: first, LastName: last,
		Language: languageOf(cl.Locale), Match: p.cfg.MatchClaim, MatchSources: p.cfg.MatchSources, JIT: p.cfg.JIT})
	var ee *core.ExternalLoginError
	switch {
	case errors.As(err, &ee):
		d.log.Info("sso: sign-in refused", "org", org, "idp", p.cfg.Name, "reason", ee.Code)
		d.render(w, http.StatusForbidden, "You cannot sign in", ee.Reason, back)
		return
	case errors.Is(err, core.ErrBusy):
		w.Header().Set("Retry-After", "1")
		d.render(w, http.StatusServiceUnavailable, "Sign-in is busy", "Too many sign-ins at once. Try again in a moment.", back)
		return
	case err != nil:
		d.log.Error("sso: sign-in", "org", org, "idp", p.cfg.Name, "err", err)
		d.render(w, http.StatusServiceUnavailable, "Sign-in is not available", "Try again in a moment.", back)
		return
	}
	if aud == core.AudienceConsole {
		csrf := d.opt.CSRFToken(res.Token)
		http.SetCookie(w, &http.Cookie{Name: consoleCookie, Value: res.Token, Path: "/", Expires: res.ExpiresAt, HttpOnly: true, Secure: d.opt.SecureCookies, SameSite: http.SameSiteStrictMode})
		http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: csrf, Path: "/", Expires: res.ExpiresAt, Secure: d.opt.SecureCookies, SameSite: http.SameSiteStrictMode})
	} else {
		// The OP sign-in page's session: the page it returns to goes on
		// with it (the app access rule is checked there).
		http.SetCookie(w, &http.Cookie{Name: catalogCookie, Value: res.Token, Path: "/oidc/" + url.PathEscape(org) + "/", Expires: res.ExpiresAt,
			HttpOnly: true, Secure: d.opt.SecureCookies, SameSite: http.SameSiteLaxMode})
	}
	http.Redirect(w, r, st.Return, http.StatusFound)
}

// claims are the ID token's (and userinfo's) claims roster reads.
type claims struct {
	AuthTime      *float64 `json:"auth_time"`
	Email         string   `json:"email"`
	EmailVerified *bool    `json:"email_verified"`
	Username      string   `json:"preferred_username"`
	GivenName     string   `json:"given_name"`
	FamilyName    string   `json:"family_name"`
	Name          string   `json:"name"`
	Locale        string   `json:"locale"`
}

// incomplete reports whether the email or the profile is missing.
func (c *claims) incomplete() bool {
	return c.Email == "" || c.Username == "" || (c.Name == "" && c.GivenName == "" && c.FamilyName == "")
}

// userInfo fills what cl lacks from the IdP's userinfo endpoint, whose
// subject must be the ID token's (OpenID Connect Core 5.3.2).
func (d *Door) userInfo(ctx context.Context, prov *oidc.Provider, tok *oauth2.Token, subject string, cl *claims) error {
	ui, err := prov.UserInfo(ctx, oauth2.StaticTokenSource(tok))
	if err != nil {
		return err
	}
	if ui.Subject != subject {
		return fmt.Errorf("userinfo is of subject %q, not the ID token's", ui.Subject)
	}
	var u claims
	if err := ui.Claims(&u); err != nil {
		return fmt.Errorf("userinfo claims: %w", err)
	}
	fill := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	if cl.Email == "" {
		cl.Email, cl.EmailVerified = u.Email, u.EmailVerified
	}
	fill(&cl.Username, u.Username)
	if cl.Name == "" && cl.GivenName == "" && cl.FamilyName == "" {
		cl.Name, cl.GivenName, cl.FamilyName = u.Name, u.GivenName, u.FamilyName
	}
	fill(&cl.Locale, u.Locale)
	return nil
}

// languageOf turns a locale claim (de-DE, de_DE) into a language tag roster keeps.
func languageOf(locale string) string {
	l, _, _ := strings.Cut(strings.ReplaceAll(locale, "_", "-"), "-")
	if len(l) < 2 || len(l) > 3 {
		return ""
	}
	return strings.ToLower(l)
}

type pageData struct{ Title, Message, Back string }

func (d *Door) render(w http.ResponseWriter, status int, title, msg, back string) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = d.page.Execute(w, pageData{Title: title, Message: msg, Back: back})
}

const pageHTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}} · roster</title>
<style>
:root{color-scheme:light dark}
body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem;line-height:1.5}
main{border:1px solid #8886;border-radius:.5rem;padding:1rem 1.5rem}
a{color:#1a5fb4}@media (prefers-color-scheme:dark){a{color:#8fb8ff}}
</style></head>
<body><main><h1>{{.Title}}</h1><p id="message">{{.Message}}</p>{{if .Back}}<p><a href="{{.Back}}">Back to sign-in</a></p>{{end}}</main></body></html>
`

// CheckBreakGlass warns of each organisation with password sign-in off
// whose break-glass owners are not active owners: while the IdP is down,
// nobody could sign in to it. Returns the warnings (also logged).
func (d *Door) CheckBreakGlass(ctx context.Context) []string {
	var out []string
	for org, p := range d.idps {
		if p.cfg.PasswordLoginOn() {
			continue
		}
		o, err := d.svc.Org(ctx, org)
		if err != nil {
			out = append(out, fmt.Sprintf("sso %s: organisation %q: %v", p.cfg.Name, org, err))
			continue
		}
		owners, err := d.svc.ListUsers(ctx, core.UserQuery{OrgID: o.ID, Roles: []core.Role{core.RoleOwner}, Statuses: []core.Status{core.StatusActive}, Limit: 1000})
		if err != nil {
			out = append(out, fmt.Sprintf("sso %s: owners of %q: %v", p.cfg.Name, org, err))
			continue
		}
		active := map[string]bool{}
		for _, u := range owners {
			active[core.FoldKey(u.Username)] = true
		}
		ok := 0
		for _, b := range p.cfg.BreakGlassOwners {
			if active[core.FoldKey(b)] {
				ok++
			} else {
				out = append(out, fmt.Sprintf("sso %s: break-glass owner %q of %q is not an active owner: they cannot sign in with a password", p.cfg.Name, b, org))
			}
		}
		if ok == 0 {
			out = append(out, fmt.Sprintf("sso %s: %q has password sign-in off and no active break-glass owner: while %s is down, nobody can sign in", p.cfg.Name, org, p.cfg.DisplayName))
		}
	}
	for _, w := range out {
		d.log.Warn(w)
	}
	return out
}

func authTimeOf(at *float64) any {
	if at == nil {
		return nil
	}
	return time.Unix(int64(*at), 0).UTC()
}
