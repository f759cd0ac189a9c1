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
	"github.com/rosterhq/roster/internal/mail"
)

// Config tunes the API.
type Config struct {
	Renderer           *mail.Renderer // mail templates, for previews
	PublicURL          string         // invite links are built from it
	LoginRatePerMinute int            // per source address
	SecureCookies      bool           // set Secure on cookies (served over TLS)
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
	if cfg.Renderer == nil {
		r, err := mail.NewRenderer()
		if err != nil {
			return nil, fmt.Errorf("api: %w", err)
		}
		cfg.Renderer = r
	}
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
	authed.Handle("/org/settings", a.handle(a.getSettings)).Methods(http.MethodGet)
	authed.Handle("/org/settings", a.handle(a.putSettings)).Methods(http.MethodPut)
	authed.Handle("/org/password-policy", a.handle(a.getPolicy)).Methods(http.MethodGet)
	authed.Handle("/org/password-policy", a.handle(a.putPolicy)).Methods(http.MethodPut)
	authed.Handle("/org/metadata-template", a.handle(a.getTemplate)).Methods(http.MethodGet)
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
	Error struct {
		Code    string `json:"code"`
		Message string `json:"message"`
		Field   string `json:"field,omitempty"`
	} `json:"error"`
}

// render translates an error at the edge: core errors to 4xx, anything else
// to a 500 whose details stay in the log.
func (a *API) render(w http.ResponseWriter, r *http.Request, err error) {
	status, body := a.errorBody(r, err)
	var be *core.BusyError
	if errors.As(err, &be) {
		w.Header().Set("Retry-After", strconv.Itoa(max(1, int(be.RetryAfter.Seconds()))))
	}
	writeJSON(w, status, body)
}

// errorBody decides an error's status and body.
func (a *API) errorBody(r *http.Request, err error) (int, *errorBody) {
	body := &errorBody{}
	status := http.StatusInternalServerError
	var he *httpError
	var ve *core.ValidationError
	var ce *core.ConflictError
	var te *core.TransitionError
	var fe *core.ForbiddenError
	var le *core.LoginError
	var ue *core.UnavailableError
	var pce *core.PasswordChangeRequiredError
	var be *core.BusyError
	switch {
	case errors.As(err, &be):
		a.log.Warn("request refused: busy", "request_id", core.RequestIDFrom(r.Context()), "path", r.URL.Path, "limit", be.Limit)
		status, body.Error.Code, body.Error.Message = http.StatusServiceUnavailable, "busy", be.Error()
	case errors.As(err, &ue):
		a.log.Error("request failed: storage", "request_id", core.RequestIDFrom(r.Context()), "path", r.URL.Path, "err", err)
		status, body.Error.Code, body.Error.Message = http.StatusServiceUnavailable, "unavailable", ue.Error()+"; try again later"
	case errors.As(err, &he):
		status, body.Error.Code, body.Error.Message, body.Error.Field = he.status, he.code, he.msg, he.field
	case errors.As(err, &ve):
		status, body.Error.Code, body.Error.Message, body.Error.Field = http.StatusBadRequest, "invalid", ve.Error(), ve.Field()
	case errors.As(err, &ce):
		status, body.Error.Code, body.Error.Message, body.Error.Field = http.StatusConflict, "conflict", ce.Error(), ce.Field
	case errors.As(err, &te):
		status, body.Error.Code, body.Error.Message = http.StatusConflict, "illegal_transition", te.Error()
	case errors.As(err, &pce):
		status, body.Error.Code, body.Error.Message = http.StatusForbidden, "password_change_required", pce.Error()
	case errors.As(err, &fe):
		status, body.Error.Code, body.Error.Message, body.Error.Field = http.StatusForbidden, "forbidden", fe.Error(), fe.Field
	case errors.As(err, &le):
		status, body.Error.Code, body.Error.Message = http.StatusUnauthorized, "login_failed", le.Reason
	case errors.Is(err, core.ErrNotFound):
		status, body.Error.Code, body.Error.Message = http.StatusNotFound, "not_found", trimContext(err)
	case errors.Is(err, core.ErrUnauthorized):
		status, body.Error.Code, body.Error.Message = http.StatusUnauthorized, "unauthorized", "a valid session or admin token is required"
	default:
		a.log.Error("request failed", "request_id", core.RequestIDFrom(r.Context()), "path", r.URL.Path, "err", err)
		body.Error.Code, body.Error.Message = "internal", "internal error"
	}
	return status, body
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
