package api

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/gorilla/mux"

	"github.com/rosterhq/roster/core"
)

// Cookie names of the console's cookie sessions.
const (
	SessionCookie = "roster_session"
	CSRFCookie    = "roster_csrf"
	CSRFHeader    = "X-CSRF-Token"
)

type ctxKey int

const (
	principalKey ctxKey = iota
	sessionTokenKey
)

func principal(r *http.Request) *core.Principal {
	p, _ := r.Context().Value(principalKey).(*core.Principal)
	return p
}

func (a *API) actor(r *http.Request) core.Actor {
	return principal(r).Actor(core.RequestIDFrom(r.Context()))
}

func orgID(r *http.Request) string { return principal(r).User.OrgID }

// bearer returns the token of an "Authorization: Bearer" header.
func bearer(r *http.Request) string {
	h := r.Header.Get("Authorization")
	if len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		return strings.TrimSpace(h[7:])
	}
	return ""
}

func isSafe(method string) bool {
	return method == http.MethodGet || method == http.MethodHead || method == http.MethodOptions
}

// passwordChangeRoutes are what a session that must change its password may
// call until it has (core refuses it everything else).
var passwordChangeRoutes = map[string]bool{
	"GET /api/v1/me":             true,
	"POST /api/v1/auth/password": true,
	"POST /api/v1/auth/logout":   true,
}

// authenticate resolves a bearer session or admin token, or the session
// cookie (whose unsafe requests must echo the CSRF cookie in X-CSRF-Token).
func (a *API) authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p *core.Principal
		var err error
		session := a.svc.AuthenticateSession
		if route := mux.CurrentRoute(r); route != nil {
			if tpl, terr := route.GetPathTemplate(); terr == nil && passwordChangeRoutes[r.Method+" "+tpl] {
				session = a.svc.AuthenticateSessionForPasswordChange
			}
		}
		token := bearer(r)
		switch {
		case strings.HasPrefix(token, core.PrefixAdmin):
			p, err = a.svc.AuthenticateAdminToken(r.Context(), token)
		case token != "":
			p, err = session(r.Context(), token)
		default:
			c, cerr := r.Cookie(SessionCookie)
			if cerr != nil {
				a.render(w, r, core.ErrUnauthorized)
				return
			}
			if !isSafe(r.Method) && !csrfOK(r, c.Value) {
				a.render(w, r, &httpError{status: http.StatusForbidden, code: "csrf", msg: "missing or wrong " + CSRFHeader + " header"})
				return
			}
			token = c.Value
			p, err = session(r.Context(), token)
		}
		if err != nil {
			a.render(w, r, err)
			return
		}
		ctx := context.WithValue(r.Context(), principalKey, p)
		ctx = context.WithValue(ctx, sessionTokenKey, token)
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// adminSession refuses catalog sessions: they may only read /me, change
// their password and log out.
func (a *API) adminSession(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := core.AuthorizeAdminSession(principal(r)); err != nil {
			a.render(w, r, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// CSRFToken is the CSRF token of a cookie session: derived from the session
// token, so that it is valid for that session only (a token read from one
// session, or planted in a cookie, does nothing for another). It is one-way:
// the token, readable by the console's script, does not reveal the session.
func CSRFToken(sessionToken string) string {
	sum := sha256.Sum256([]byte("roster-csrf\x00" + sessionToken))
	return base64.RawURLEncoding.EncodeToString(sum[:])
}

// csrfOK checks the X-CSRF-Token header against the session's own token
// (the roster_csrf cookie only hands it to the console's script).
func csrfOK(r *http.Request, sessionToken string) bool {
	h := r.Header.Get(CSRFHeader)
	return sessionToken != "" && h != "" && subtle.ConstantTimeCompare([]byte(CSRFToken(sessionToken)), []byte(h)) == 1
}

type loginRequest struct {
	Org      string        `json:"org"`
	Username string        `json:"username"`
	Password string        `json:"password"`
	Audience core.Audience `json:"audience"`
	Cookie   bool          `json:"cookie"` // set an HttpOnly session cookie instead of returning the token
}

type loginResponse struct {
	Token              string    `json:"token,omitempty"`
	ExpiresAt          time.Time `json:"expires_at"`
	MustChangePassword bool      `json:"must_change_password"`
	CSRFToken          string    `json:"csrf_token,omitempty"`
}

func (a *API) login(w http.ResponseWriter, r *http.Request) error {
	if !a.allowLogin(r) {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, 60/a.cfg.LoginRatePerMinute)))
		return &httpError{status: http.StatusTooManyRequests, code: "rate_limited", msg: "too many login attempts from this address; try again later"}
	}
	var in loginRequest
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Org == "" {
		in.Org = core.DefaultOrg
	}
	if in.Audience == "" {
		in.Audience = core.AudienceConsole
	}
	res, err := a.svc.Login(r.Context(), core.LoginInput{Org: in.Org, Username: in.Username, Password: in.Password, Audience: in.Audience})
	if err != nil {
		return err
	}
	out := loginResponse{ExpiresAt: res.ExpiresAt, MustChangePassword: res.User.MustChangePassword}
	if !in.Cookie {
		out.Token = res.Token
		writeJSON(w, http.StatusOK, out)
		return nil
	}
	csrf := CSRFToken(res.Token)
	secure := a.cfg.SecureCookies || r.TLS != nil
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: res.Token, Path: "/", Expires: res.ExpiresAt, HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode})
	http.SetCookie(w, &http.Cookie{Name: CSRFCookie, Value: csrf, Path: "/", Expires: res.ExpiresAt, Secure: secure, SameSite: http.SameSiteStrictMode})
	out.CSRFToken = csrf
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *API) logout(w http.ResponseWriter, r *http.Request) error {
	if principal(r).TokenID != "" {
		return badRequest("", "admin tokens are not sessions and cannot log out")
	}
	token, _ := r.Context().Value(sessionTokenKey).(string)
	if err := a.svc.Logout(r.Context(), token); err != nil {
		return err
	}
	for _, name := range []string{SessionCookie, CSRFCookie} {
		http.SetCookie(w, &http.Cookie{Name: name, Value: "", Path: "/", MaxAge: -1, HttpOnly: name == SessionCookie, SameSite: http.SameSiteStrictMode})
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (a *API) changePassword(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		OldPassword string `json:"old_password"`
		NewPassword string `json:"new_password"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if err := a.svc.ChangePassword(r.Context(), principal(r), in.OldPassword, in.NewPassword); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// me answers the signed-in user with what they may do in the
// organisation (core.CapabilitiesOf): the console renders from it.
func (a *API) me(w http.ResponseWriter, r *http.Request) error {
	p := principal(r)
	var u *core.User
	if p.User != nil {
		u = &p.User.User
	}
	writeJSON(w, http.StatusOK, struct {
		*core.UserView
		Capabilities core.Capabilities `json:"capabilities"`
	}{p.User, core.CapabilitiesOfUser(a.actor(r), u)})
	return nil
}

func (a *API) acceptInvite(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Token    string `json:"token"`
		Password string `json:"password"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	u, err := a.svc.AcceptInvite(r.Context(), in.Token, in.Password)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, u)
	return nil
}
