// Package api is the admin HTTP API (/api/v1): JSON in snake_case, bearer
// sessions and admin tokens (and a cookie variant with CSRF protection for the
// console), role checks through the core service, errors as
// {"error":{"code","message","field"}}.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/mux"
	"golang.org/x/time/rate"

	"github.com/rosterhq/roster/core"
)

// Config tunes the API.
type Config struct {
	// MailPreview builds the handler of /org/mail-templates/preview (the
	// mail adapter renders previews); orgOf tells it the caller's
	// organisation. Without it the route answers 404.
	MailPreview func(orgOf func(*http.Request) (string, error)) http.Handler
	// MailBuiltin returns the template roster ships for a kind of mail in a
	// language (the mail adapter's embedded ones; for a language it does
	// not ship, the one a mail falls back on, its Language telling which),
	// for GET /org/mail-templates/builtin/{kind}/{language}. Without it the
	// route answers 404.
	MailBuiltin        func(kind core.MailKind, language string) (core.MailTemplate, bool)
	PublicURL          string // invite links are built from it
	LoginRatePerMinute int    // per source address
	SecureCookies      bool   // set Secure on cookies (served over TLS)
	// LDAP is the directory door, nil when no LDAP source is configured.
	LDAP LDAPSources
}

// LDAPSources is what the admin API needs of the configured LDAP sources.
// Every method answers core.ErrNotFound for a source outside orgID.
type LDAPSources interface {
	// Names lists the sources of an organisation.
	Names(orgID string) []string
	// SyncNow runs one sync of a source and returns its report.
	SyncNow(ctx context.Context, orgID, source string, full, dryRun bool) (any, error)
	// Import adds one user of an on-demand source by username ("Add an LDAP user").
	Import(ctx context.Context, orgID, source, username string) (*core.UserView, error)
	// Search finds up to limit users of an on-demand source by part of their
	// username, names or email, for an admin to pick one to add.
	Search(ctx context.Context, orgID, source, query string, limit int) ([]DirectoryEntry, error)
}

// DirectoryEntry is a directory user found by LDAPSources.Search.
type DirectoryEntry struct {
	Username  string `json:"username"`
	FirstName string `json:"first_name"`
	LastName  string `json:"last_name"`
	Email     string `json:"email"`
}

// API is the /api/v1 door.
type API struct {
	cfg Config
	svc *core.Service
	log *slog.Logger

	limMu    sync.Mutex
	limiters map[string]*limiterEntry
}

type limiterEntry struct {
	lim  *rate.Limiter
	seen time.Time
}

// New builds the API.
func New(cfg Config, svc *core.Service, log *slog.Logger) (*API, error) {
	if cfg.LoginRatePerMinute <= 0 {
		cfg.LoginRatePerMinute = 30
	}
	return &API{cfg: cfg, svc: svc, log: log.With("component", "api"), limiters: map[string]*limiterEntry{}}, nil
}

// Mount adds the API's routes.
func (a *API) Mount(r *mux.Router) {
	v1 := r.PathPrefix("/api/v1").Subrouter()
	v1.Handle("/auth/login", a.handle(a.login)).Methods(http.MethodPost)
	v1.Handle("/invites/accept", a.handle(a.acceptInvite)).Methods(http.MethodPost)

	// What any session needs, a catalog session included.
	self := v1.NewRoute().Subrouter()
	self.Use(a.authenticate)
	self.Handle("/auth/logout", a.handle(a.logout)).Methods(http.MethodPost)
	self.Handle("/auth/password", a.handle(a.changePassword)).Methods(http.MethodPost)
	self.Handle("/me", a.handle(a.me)).Methods(http.MethodGet)

	// The admin API proper: a console session or an admin token.
	authed := v1.NewRoute().Subrouter()
	authed.Use(a.authenticate, a.adminSession)
	authed.Handle("/users", a.handle(a.listUsers)).Methods(http.MethodGet)
	authed.Handle("/users", a.handle(a.createUser)).Methods(http.MethodPost)
	authed.Handle("/users/bulk", a.handle(a.bulk)).Methods(http.MethodPost)
	authed.Handle("/users/export", a.handle(a.exportUsers)).Methods(http.MethodGet)
	authed.Handle("/users/counts", a.handle(a.userCounts)).Methods(http.MethodGet)
	authed.Handle("/users/import", a.handle(a.importUsers)).Methods(http.MethodPost)
	authed.Handle("/users/{id}", a.handle(a.getUser)).Methods(http.MethodGet)
	authed.Handle("/users/{id}", a.handle(a.patchUser)).Methods(http.MethodPatch)
	authed.Handle("/users/{id}", a.handle(a.deleteUser)).Methods(http.MethodDelete)
	authed.Handle("/users/{id}/history", a.handle(a.history)).Methods(http.MethodGet)
	authed.Handle("/users/{id}/{action}", a.handle(a.userAction)).Methods(http.MethodPost)
	authed.Handle("/audit", a.handle(a.auditLog)).Methods(http.MethodGet)
	authed.Handle("/org", a.handle(a.getOrg)).Methods(http.MethodGet)
	authed.Handle("/org", a.handle(a.putOrg)).Methods(http.MethodPut)
	authed.Handle("/org/settings", a.handle(a.getSettings)).Methods(http.MethodGet)
	authed.Handle("/org/settings", a.handle(a.putSettings)).Methods(http.MethodPut)
	authed.Handle("/org/password-policy", a.handle(a.getPolicy)).Methods(http.MethodGet)
	authed.Handle("/org/password-policy", a.handle(a.putPolicy)).Methods(http.MethodPut)
	authed.Handle("/org/metadata-template", a.handle(a.getTemplate)).Methods(http.MethodGet)
	authed.Handle("/org/user-schema", a.handle(a.userSchema)).Methods(http.MethodGet)
	authed.Handle("/org/metadata-template", a.handle(a.putTemplate)).Methods(http.MethodPut)
	a.mountAccess(authed)
	a.mountMail(v1, authed)
	a.mountLDAP(authed)
	v1.NotFoundHandler = a.handle(func(http.ResponseWriter, *http.Request) error {
		return &httpError{status: http.StatusNotFound, code: "not_found", msg: "no such endpoint"}
	})
}

// httpError is an error with its HTTP rendering decided.
type httpError struct {
	status int
	code   string
	msg    string
	field  string
}

func (e *httpError) Error() string { return e.msg }

func badRequest(field, format string, args ...any) error {
	return &httpError{status: http.StatusBadRequest, code: "invalid", field: field, msg: fmt.Sprintf(format, args...)}
}

type errorBody struct {
	Error errorDetail `json:"error"`
}

// errorDetail is what an error says: its code, message and field.
type errorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
	Field   string `json:"field,omitempty"`
}

// render translates an error at the edge: core errors to 4xx, anything else
// to a 500 whose details stay in the log.
func (a *API) render(w http.ResponseWriter, r *http.Request, err error) {
	status, body := a.errorBody(r, err)
	if status == http.StatusServiceUnavailable && core.KindOf(err) == core.KindBusy {
		retry := 1
		var be *core.BusyError
		if errors.As(err, &be) {
			retry = max(1, int(be.RetryAfter.Seconds()))
		}
		w.Header().Set("Retry-After", strconv.Itoa(retry))
	}
	writeJSON(w, status, body)
}

// errorBody decides an error's status and body: the API's own errors
// first, then the core's kind of error (core.KindOf), as every door does.
func (a *API) errorBody(r *http.Request, err error) (int, *errorBody) {
	body := &errorBody{}
	var he *httpError
	if errors.As(err, &he) {
		body.Error.Code, body.Error.Message, body.Error.Field = he.code, he.msg, he.field
		return he.status, body
	}
	reqID := core.RequestIDFrom(r.Context())
	status := http.StatusInternalServerError
	switch core.KindOf(err) {
	case core.KindBusy:
		a.log.Warn("request refused: busy", "request_id", reqID, "path", r.URL.Path, "err", err)
		status, body.Error.Code, body.Error.Message = http.StatusServiceUnavailable, "busy", busyMessage(err)
	case core.KindUnavailable:
		a.log.Error("request failed: storage", "request_id", reqID, "path", r.URL.Path, "err", err)
		var ue *core.UnavailableError
		msg := "the database cannot be written"
		if errors.As(err, &ue) {
			msg = ue.Error()
		}
		status, body.Error.Code, body.Error.Message = http.StatusServiceUnavailable, "unavailable", msg+"; try again later"
	case core.KindInvalid:
		var ve *core.ValidationError
		status, body.Error.Code, body.Error.Message = http.StatusBadRequest, "invalid", "invalid input"
		if errors.As(err, &ve) {
			body.Error.Message, body.Error.Field = ve.Error(), ve.Field()
		}
	case core.KindConflict:
		var ce *core.ConflictError
		status, body.Error.Code, body.Error.Message = http.StatusConflict, "conflict", "a value is already used"
		if errors.As(err, &ce) {
			body.Error.Message, body.Error.Field = ce.Error(), ce.Field
		}
	case core.KindTransition:
		var te *core.TransitionError
		status, body.Error.Code, body.Error.Message = http.StatusConflict, "illegal_transition", "illegal status transition"
		if errors.As(err, &te) {
			body.Error.Message = te.Error()
		}
	case core.KindForbidden:
		var pce *core.PasswordChangeRequiredError
		var fe *core.ForbiddenError
		status, body.Error.Code, body.Error.Message = http.StatusForbidden, "forbidden", "forbidden"
		switch {
		case errors.As(err, &pce):
			body.Error.Code, body.Error.Message = "password_change_required", pce.Error()
		case errors.As(err, &fe):
			body.Error.Message, body.Error.Field = fe.Error(), fe.Field
		}
	case core.KindUnauthorized:
		var le *core.LoginError
		status, body.Error.Code, body.Error.Message = http.StatusUnauthorized, "unauthorized", "a valid session or admin token is required"
		if errors.As(err, &le) {
			body.Error.Code, body.Error.Message = "login_failed", le.Reason
			if le.Code != "" {
				body.Error.Code = le.Code
			}
		}
	case core.KindNotFound:
		status, body.Error.Code, body.Error.Message = http.StatusNotFound, "not_found", trimContext(err)
	default:
		a.log.Error("request failed", "request_id", reqID, "path", r.URL.Path, "err", err)
		body.Error.Code, body.Error.Message = "internal", "internal error"
	}
	return status, body
}

// asSent renames the core's field names in err to those the caller sent
// (names: core name → request field), so a 400, 403 or 409 names the
// field of the request, not of the core (the core's mail_language is
// POST /users' invite_language).
func asSent(err error, names map[string]string) error {
	var ve *core.ValidationError
	if errors.As(err, &ve) {
		out := &core.ValidationError{Problems: make([]core.FieldError, len(ve.Problems))}
		for i, p := range ve.Problems {
			if n, ok := names[p.Field]; ok {
				p.Field = n
			}
			out.Problems[i] = p
		}
		return out
	}
	var fe *core.ForbiddenError
	if errors.As(err, &fe) {
		if n, ok := names[fe.Field]; ok {
			return &core.ForbiddenError{Reason: fe.Reason, Field: n}
		}
	}
	var ce *core.ConflictError
	if errors.As(err, &ce) {
		if n, ok := names[ce.Field]; ok {
			return &core.ConflictError{Field: n, Message: ce.Message}
		}
	}
	return err
}

// busyMessage is what a client is told of a busy condition: the core's
// words, never a driver's.
func busyMessage(err error) string {
	var be *core.BusyError
	if errors.As(err, &be) {
		return be.Error()
	}
	return "the server is busy; try again shortly"
}

// trimContext keeps the innermost part of a wrapped not-found error.
func trimContext(err error) string {
	var nf *core.NotFoundError
	if errors.As(err, &nf) {
		return nf.Error()
	}
	return "not found"
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	if status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", "30")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func (a *API) handle(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			a.render(w, r, err)
		}
	})
}

// maxBody bounds request bodies.
const maxBody = 1 << 20

// decode reads a JSON body strictly: unknown fields and trailing data are errors naming the field.
func decode(w http.ResponseWriter, r *http.Request, dst any) error {
	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		return &httpError{status: http.StatusUnsupportedMediaType, code: "unsupported_media_type", msg: "send application/json"}
	}
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxBody))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		var se *json.SyntaxError
		var te *json.UnmarshalTypeError
		var mbe *http.MaxBytesError
		switch {
		case errors.As(err, &te):
			return badRequest(te.Field, "%s must be a %s", te.Field, te.Type)
		case errors.As(err, &se):
			return badRequest("", "malformed JSON at byte %d", se.Offset)
		case errors.As(err, &mbe):
			return &httpError{status: http.StatusRequestEntityTooLarge, code: "too_large", msg: "the body is over 1 MiB"}
		case errors.Is(err, io.EOF):
			return badRequest("", "a JSON body is required")
		case strings.HasPrefix(err.Error(), "json: unknown field "):
			f := strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)
			return badRequest(f, "unknown field %q", f)
		}
		return badRequest("", "malformed JSON: %v", err)
	}
	if dec.More() {
		return badRequest("", "trailing data after the JSON body")
	}
	return nil
}

// allowLogin applies the per-source-address login rate limit.
func (a *API) allowLogin(r *http.Request) bool {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	now := time.Now()
	a.limMu.Lock()
	defer a.limMu.Unlock()
	if len(a.limiters) > 10000 {
		for k, e := range a.limiters {
			if now.Sub(e.seen) > 10*time.Minute {
				delete(a.limiters, k)
			}
		}
	}
	e, ok := a.limiters[host]
	if !ok {
		per := float64(a.cfg.LoginRatePerMinute) / 60
		e = &limiterEntry{lim: rate.NewLimiter(rate.Limit(per), a.cfg.LoginRatePerMinute)}
		a.limiters[host] = e
	}
	e.seen = now
	return e.lim.Allow()
}
