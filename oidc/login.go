package oidc

import (
	"crypto/subtle"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/zitadel/oidc/v3/pkg/oidc"
	"github.com/zitadel/oidc/v3/pkg/op"

	"github.com/rosterhq/roster/core"
)

//go:embed templates/pages.html
var templatesFS embed.FS

type pages struct{ t *template.Template }

func newPages() (*pages, error) {
	t, err := template.ParseFS(templatesFS, "templates/pages.html")
	if err != nil {
		return nil, err
	}
	return &pages{t: t}, nil
}

type pageData struct {
	Title, Message              string
	Org, App, Action, RequestID string
	CSRF, Username, Error       string
	// SSOName and SSOURL are the organisation's own IdP's button;
	// NoPassword hides the password form behind it (password sign-in off).
	SSOName, SSOURL string
	NoPassword      bool
}

func (p *pages) render(w http.ResponseWriter, status int, name string, data pageData) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// No form-action: after the sign-in form, the browser follows redirects
	// to the app's redirect URI.
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'")
	w.WriteHeader(status)
	_ = p.t.ExecuteTemplate(w, name, data)
}

const csrfCookie = "roster_oidc_csrf"

// csrf returns the form token of the browser (a cookie, set when missing):
// a sign-in form posted from elsewhere does not carry it.
func (d *Door) csrf(w http.ResponseWriter, r *http.Request) string {
	if c, err := r.Cookie(csrfCookie); err == nil && len(c.Value) > 20 {
		return c.Value
	}
	v, err := core.NewSecret("")
	if err != nil {
		return ""
	}
	http.SetCookie(w, &http.Cookie{Name: csrfCookie, Value: v, Path: d.cookiePath(r.Context()), HttpOnly: true, Secure: d.secure, SameSite: http.SameSiteLaxMode})
	return v
}

func (d *Door) csrfOK(r *http.Request) bool {
	c, err := r.Cookie(csrfCookie)
	return err == nil && c.Value != "" && subtle.ConstantTimeCompare([]byte(c.Value), []byte(r.PostFormValue("csrf"))) == 1
}

// request loads the authorization request the page is for and its app.
func (d *Door) request(w http.ResponseWriter, r *http.Request, id string) (*authRequest, *core.OIDCClient, bool) {
	ctx := r.Context()
	o := orgOf(ctx)
	req, err := d.svc.OIDCAuthRequestByID(ctx, o.ID, id)
	if err == nil {
		var c *core.OIDCClient
		if c, err = d.svc.OIDCClient(ctx, o.ID, req.AppID); err == nil {
			var ar *authRequest
			if ar, err = newAuthRequest(req); err == nil {
				return ar, c, true
			}
		}
	}
	if errors.Is(err, core.ErrNotFound) || id == "" {
		d.pages.render(w, http.StatusBadRequest, "message", pageData{Title: "This sign-in has expired",
			Message: "Go back to the app and sign in again."})
		return nil, nil, false
	}
	d.log.Error("oidc sign-in: load request", "err", err)
	d.pages.render(w, http.StatusServiceUnavailable, "message", pageData{Title: "Sign-in is not available", Message: "Try again in a moment."})
	return nil, nil, false
}

func (d *Door) form(w http.ResponseWriter, r *http.Request, status int, name string, ar *authRequest, c *core.OIDCClient, username, msg string) {
	o := orgOf(r.Context())
	action := d.cookiePath(r.Context()) + "login"
	if name == "password" {
		action = d.cookiePath(r.Context()) + "password"
	}
	data := pageData{Title: "Sign in to " + c.AppName, Org: displayName(o), App: c.AppName, Action: action,
		RequestID: ar.GetID(), CSRF: d.csrf(w, r), Username: username, Error: msg}
	if d.sso != nil {
		if name, start, ok := d.sso(o.Name); ok {
			back := d.cookiePath(r.Context()) + "login?id=" + url.QueryEscape(ar.GetID())
			data.SSOName = name
			q := url.Values{"audience": {"catalog"}, "return": {back}}
			// The IdP is asked for the same fresh sign-in as the app asked
			// (max_age=0 is prompt=login, which more IdPs understand).
			if m := ar.maxAge(); m != nil && *m == 0 {
				q.Set("prompt", oidc.PromptLogin)
			} else if m != nil {
				q.Set("max_age", strconv.FormatInt(int64(*m/time.Second), 10))
			}
			data.SSOURL = start + "?" + q.Encode()
			data.NoPassword = !d.svc.PasswordLoginAllowed(o.Name)
		}
	}
	d.pages.render(w, status, name, data)
}

// login is the sign-in page: GET shows it (or, with a catalog session
// already open, goes straight on), POST checks the password.
func (d *Door) login(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet, http.MethodHead:
		ar, c, ok := d.request(w, r, r.URL.Query().Get("id"))
		if !ok {
			return
		}
		// With a session the sign-in goes on, unless the app asks for a
		// fresher one (prompt=login, max_age): then complete shows the form,
		// and a sign-in for this request (the password form's, or the SSO
		// round trip's, which comes back here) satisfies it.
		if tok, _ := r.Context().Value(sessionKey).(string); tok != "" {
			d.complete(w, r, ar, c, tok)
			return
		}
		d.form(w, r, http.StatusOK, "login", ar, c, ar.p.LoginHint, "")
	case http.MethodPost:
		ar, c, ok := d.request(w, r, r.PostFormValue("id"))
		if !ok {
			return
		}
		if !d.csrfOK(r) {
			d.form(w, r, http.StatusForbidden, "login", ar, c, "", "The form expired. Please sign in again.")
			return
		}
		username := r.PostFormValue("username")
		if !d.limit.allow(r) {
			w.Header().Set("Retry-After", "60")
			d.form(w, r, http.StatusTooManyRequests, "login", ar, c, username, "Too many sign-in attempts from this address. Try again in a minute.")
			return
		}
		res, err := d.svc.Login(r.Context(), core.LoginInput{Org: orgOf(r.Context()).Name, Username: username,
			Password: r.PostFormValue("password"), Audience: core.AudienceCatalog})
		var le *core.LoginError
		switch {
		case errors.As(err, &le):
			d.form(w, r, http.StatusUnauthorized, "login", ar, c, username, le.Reason)
			return
		case errors.Is(err, core.ErrBusy):
			w.Header().Set("Retry-After", "1")
			d.form(w, r, http.StatusServiceUnavailable, "login", ar, c, username, "Too many sign-ins at once. Try again in a moment.")
			return
		case err != nil:
			d.log.Error("oidc sign-in", "err", err)
			d.form(w, r, http.StatusServiceUnavailable, "login", ar, c, username, "Sign-in is not available. Try again in a moment.")
			return
		}
		http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: res.Token, Path: d.cookiePath(r.Context()), Expires: res.ExpiresAt,
			HttpOnly: true, Secure: d.secure, SameSite: http.SameSiteLaxMode})
		d.complete(w, r, ar, c, res.Token)
	default:
		w.Header().Set("Allow", "GET, HEAD, POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
	}
}

// complete grants the request to the session's user and goes back to op,
// which sends the code to the app; or says why not.
func (d *Door) complete(w http.ResponseWriter, r *http.Request, ar *authRequest, c *core.OIDCClient, token string) {
	_, err := d.svc.CompleteOIDCAuthRequest(r.Context(), orgOf(r.Context()).ID, ar.GetID(), token, ar.maxAge())
	var ae *core.AppAccessError
	var pe *core.PasswordChangeRequiredError
	switch {
	case err == nil:
		http.Redirect(w, r, op.AuthCallbackURL(d.provider)(r.Context(), ar.GetID()), http.StatusFound)
	case errors.As(err, &ae):
		d.pages.render(w, http.StatusForbidden, "message", pageData{Title: "No access to " + c.AppName, Message: ae.Error()})
	case errors.As(err, &pe):
		d.form(w, r, http.StatusOK, "password", ar, c, "", "")
	case errors.Is(err, core.ErrUnauthorized):
		d.clearSession(w, r)
		d.form(w, r, http.StatusOK, "login", ar, c, "", "")
	case errors.Is(err, core.ErrFreshSignInRequired):
		d.form(w, r, http.StatusOK, "login", ar, c, ar.p.LoginHint, "")
	case errors.Is(err, core.ErrNotFound):
		d.pages.render(w, http.StatusBadRequest, "message", pageData{Title: "This sign-in has expired", Message: "Go back to the app and sign in again."})
	default:
		d.log.Error("oidc sign-in: grant", "err", err)
		d.pages.render(w, http.StatusServiceUnavailable, "message", pageData{Title: "Sign-in is not available", Message: "Try again in a moment."})
	}
}

func (d *Door) clearSession(w http.ResponseWriter, r *http.Request) {
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: d.cookiePath(r.Context()), MaxAge: -1, HttpOnly: true, Secure: d.secure, SameSite: http.SameSiteLaxMode})
}

// password is the forced password change, under the same rules as the
// console's (core.ChangePassword): then the sign-in goes on.
func (d *Door) password(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", "POST")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	ar, c, ok := d.request(w, r, r.PostFormValue("id"))
	if !ok {
		return
	}
	tok, _ := r.Context().Value(sessionKey).(string)
	p, err := d.svc.AuthenticateSessionForPasswordChange(r.Context(), tok)
	if err != nil || p.Audience != core.AudienceCatalog || p.User.OrgID != orgOf(r.Context()).ID {
		d.clearSession(w, r)
		d.form(w, r, http.StatusUnauthorized, "login", ar, c, "", "Please sign in again.")
		return
	}
	if !d.csrfOK(r) {
		d.form(w, r, http.StatusForbidden, "password", ar, c, "", "The form expired. Please try again.")
		return
	}
	if !d.limit.allow(r) {
		w.Header().Set("Retry-After", "60")
		d.form(w, r, http.StatusTooManyRequests, "password", ar, c, "", "Too many attempts from this address. Try again in a minute.")
		return
	}
	err = d.svc.ChangePassword(r.Context(), p, r.PostFormValue("old_password"), r.PostFormValue("new_password"))
	var ve *core.ValidationError
	switch {
	case errors.As(err, &ve):
		d.form(w, r, http.StatusBadRequest, "password", ar, c, "", ve.Error())
		return
	case err != nil:
		d.log.Error("oidc sign-in: change password", "err", err)
		d.form(w, r, http.StatusServiceUnavailable, "password", ar, c, "", "The password cannot be changed now. Try again in a moment.")
		return
	}
	d.complete(w, r, ar, c, tok)
}

// maxAge is how recent the request's sign-in must be (nil: any): 0 for
// prompt=login, else max_age.
func (a *authRequest) maxAge() *time.Duration {
	if slices.Contains(a.p.Prompt, oidc.PromptLogin) {
		z := time.Duration(0)
		return &z
	}
	if a.p.MaxAge != nil {
		m := time.Duration(*a.p.MaxAge) * time.Second
		return &m
	}
	return nil
}
