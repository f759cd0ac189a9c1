// Package scim is roster's SCIM 2.0 door (RFC 7643, RFC 7644) for identity
// providers such as Okta and Microsoft Entra ID. It is a thin layer over the
// core service: it authenticates the per-organisation bearer token,
// translates SCIM documents, filters and PATCH operations into core calls, and
// core errors into SCIM error bodies. The schema definitions are built with
// github.com/elimity-com/scim's schema package; filters and PATCH value
// filters are parsed with the parser that library uses. Discovery, /Users and
// /Groups are served here because the library's handlers get discovery
// paging and filters, pagination, errors, ETags, PATCH and provider quirks
// wrong (see docs/scim.md).
package scim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"time"

	scimerr "github.com/elimity-com/scim/errors"
	"github.com/gorilla/mux"

	"github.com/rosterhq/roster/core"
)

// Config tunes the SCIM door.
type Config struct {
	// PublicURL is the externally visible base URL (for meta.location and
	// Location headers); when empty, the request's host is used.
	PublicURL string
	// MaxBodyBytes bounds request bodies (advertised in ServiceProviderConfig). Default 1 MiB.
	MaxBodyBytes int64
	// MaxInFlight bounds concurrently served requests; beyond it a request
	// waits up to QueueWait, then gets 503 with Retry-After (the server is
	// busy, as when the database is). Default 64 and 5s.
	MaxInFlight int
	QueueWait   time.Duration
	// AuthCacheTTL caches a successful token lookup (a revoked token stops
	// working after at most this long). Default 2s; negative disables.
	AuthCacheTTL time.Duration
}

func (c *Config) defaults() {
	if c.MaxBodyBytes <= 0 {
		c.MaxBodyBytes = defaultMaxBody
	}
	if c.MaxInFlight <= 0 {
		c.MaxInFlight = 64
	}
	if c.QueueWait <= 0 {
		c.QueueWait = 5 * time.Second
	}
	if c.AuthCacheTTL == 0 {
		c.AuthCacheTTL = 2 * time.Second
	}
}

// Service is what the SCIM door asks of the core: provisioning users and
// groups under a SCIM token's settings.
type Service interface {
	AuthenticateDirectory(ctx context.Context, secret string) (*core.APIToken, *core.DirectorySettings, error)
	SearchDirectoryUsers(ctx context.Context, q core.DirectoryQuery) ([]core.DirectoryUser, int, error)
	GetDirectoryUser(ctx context.Context, orgID, source, id string) (*core.DirectoryUser, error)
	CreateDirectoryUser(ctx context.Context, a core.Actor, set *core.DirectorySettings, orgID string, in core.DirectoryUserInput) (*core.DirectoryUser, error)
	ReplaceDirectoryUser(ctx context.Context, a core.Actor, set *core.DirectorySettings, orgID, id string, in core.DirectoryUserInput, check func(*core.DirectoryUser) error) (*core.DirectoryUser, error)
	RemoveDirectoryUser(ctx context.Context, a core.Actor, orgID, id string, check func(*core.DirectoryUser) error) error
	SearchDirectoryGroups(ctx context.Context, q core.GroupSearch, withMembers bool) ([]core.DirectoryGroup, int, error)
	GetDirectoryGroup(ctx context.Context, orgID, source, id string, withMembers bool) (*core.DirectoryGroup, error)
	CreateDirectoryGroup(ctx context.Context, a core.Actor, set *core.DirectorySettings, orgID, name, externalID string, members []string) (*core.DirectoryGroup, error)
	ChangeDirectoryGroup(ctx context.Context, a core.Actor, set *core.DirectorySettings, orgID, id string, ch core.GroupChange, check func(*core.Group) error) (*core.Group, error)
	DeleteDirectoryGroup(ctx context.Context, a core.Actor, set *core.DirectorySettings, orgID, id string, check func(*core.Group) error) error
}

var _ Service = (*core.Service)(nil)

// Handler serves /scim/v2.
type Handler struct {
	cfg   Config
	svc   Service
	log   *slog.Logger
	slots chan struct{}
	auth  *authCache
}

// New builds the SCIM door.
func New(cfg Config, svc Service, log *slog.Logger) (*Handler, error) {
	if svc == nil {
		return nil, errors.New("scim: a core service is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	cfg.defaults()
	return &Handler{cfg: cfg, svc: svc, log: log.With("component", "scim"),
		slots: make(chan struct{}, cfg.MaxInFlight), auth: newAuthCache(cfg.AuthCacheTTL)}, nil
}

// Mount adds the SCIM routes under /scim/v2 to r, and the SCIM
// documentation (unauthenticated) at DocumentationPath.
func (h *Handler) Mount(r *mux.Router) {
	r.HandleFunc(DocumentationPath, documentation).Methods(http.MethodGet, http.MethodHead)
	sub := r.PathPrefix("/scim/v2").Subrouter()
	sub.Use(h.guard)
	route := func(path string, fn func(http.ResponseWriter, *http.Request) error, methods ...string) {
		sub.Handle(path, h.endpoint(fn)).Methods(methods...)
	}
	// Every GET answers HEAD too (the server drops the body, keeps the headers).
	get := func(path string, fn func(http.ResponseWriter, *http.Request) error) {
		route(path, fn, http.MethodGet, http.MethodHead)
	}
	get("/ServiceProviderConfig", h.spConfig)
	get("/Schemas", h.listSchemas)
	get("/Schemas/{id}", h.getSchema)
	get("/ResourceTypes", h.listResourceTypes)
	get("/ResourceTypes/{id}", h.getResourceType)
	// A collection with a trailing slash (/Users/) is the collection.
	for _, c := range []string{"/Users", "/Users/"} {
		get(c, h.listUsers)
		route(c, h.createUser, http.MethodPost)
	}
	route("/Users/.search", h.searchUsers, http.MethodPost)
	get("/Users/{id}", h.getUser)
	route("/Users/{id}", h.replaceUser, http.MethodPut)
	route("/Users/{id}", h.patchUser, http.MethodPatch)
	route("/Users/{id}", h.deleteUser, http.MethodDelete)
	for _, c := range []string{"/Groups", "/Groups/"} {
		get(c, h.listGroups)
		route(c, h.createGroup, http.MethodPost)
	}
	route("/Groups/.search", h.searchGroups, http.MethodPost)
	get("/Groups/{id}", h.getGroup)
	route("/Groups/{id}", h.replaceGroup, http.MethodPut)
	route("/Groups/{id}", h.patchGroup, http.MethodPatch)
	route("/Groups/{id}", h.deleteGroup, http.MethodDelete)
	sub.NotFoundHandler = h.guard(h.endpoint(func(http.ResponseWriter, *http.Request) error {
		return &Error{Status: http.StatusNotFound, Detail: "no such SCIM endpoint"}
	}))
	sub.MethodNotAllowedHandler = h.guard(h.endpoint(func(_ http.ResponseWriter, r *http.Request) error {
		return &Error{Status: http.StatusMethodNotAllowed, Detail: r.Method + " is not supported on this endpoint"}
	}))
	// Not supported, and said so in ServiceProviderConfig (bulk) or here:
	// 501 with a SCIM error body (RFC 7644 §3.4.3, §3.7, §3.11).
	for p, what := range map[string]string{"/Bulk": "Bulk (bulk.supported is false)", "/.search": "searching across resource types (use /Users/.search or /Groups/.search)",
		"/Me": "/Me (tokens act for an identity provider, not a user)"} {
		route(p, func(http.ResponseWriter, *http.Request) error {
			return &Error{Status: http.StatusNotImplemented, Detail: what + " is not supported by roster"}
		}, http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete)
	}
}

// Error is a SCIM error (RFC 7644 §3.12).
type Error struct {
	Status   int
	ScimType scimerr.ScimType
	Detail   string
}

func (e *Error) Error() string { return fmt.Sprintf("%d %s: %s", e.Status, e.ScimType, e.Detail) }

func badRequest(t scimerr.ScimType, format string, args ...any) *Error {
	return &Error{Status: http.StatusBadRequest, ScimType: t, Detail: fmt.Sprintf(format, args...)}
}

// principal is who is calling: the token, its settings and the actor.
type principal struct {
	orgID string
	set   *core.DirectorySettings
	actor core.Actor
}

type ctxKey int

const principalKey ctxKey = 0

func who(r *http.Request) *principal {
	p, _ := r.Context().Value(principalKey).(*principal)
	return p
}

// guard bounds concurrency (429 when saturated), authenticates the bearer
// token (401), limits the body and turns panics into a SCIM 500.
func (h *Handler) guard(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", mediaType)
		timer := time.NewTimer(h.cfg.QueueWait)
		select {
		case h.slots <- struct{}{}:
			timer.Stop()
		case <-timer.C:
			w.Header().Set("Retry-After", "1")
			h.writeError(w, r, &Error{Status: http.StatusServiceUnavailable, Detail: "the server is busy; retry after 1 second"})
			return
		case <-r.Context().Done():
			timer.Stop()
			return
		}
		defer func() { <-h.slots }()
		defer func() {
			if p := recover(); p != nil {
				h.log.Error("panic serving SCIM request", "request_id", core.RequestIDFrom(r.Context()), "panic", fmt.Sprint(p))
				h.writeError(w, r, &Error{Status: http.StatusInternalServerError, Detail: "internal error"})
			}
		}()
		p, err := h.authenticate(r)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer realm="roster-scim"`)
			h.writeError(w, r, err)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, h.cfg.MaxBodyBytes)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), principalKey, p)))
	})
}

func (h *Handler) authenticate(r *http.Request) (*principal, error) {
	hdr := r.Header.Get("Authorization")
	scheme, secret, ok := strings.Cut(hdr, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(secret) == "" {
		return nil, &Error{Status: http.StatusUnauthorized, Detail: "a bearer token is required (Authorization: Bearer <token>)"}
	}
	secret = strings.TrimSpace(secret)
	tok, set, err := h.auth.get(secret, func() (*core.APIToken, *core.DirectorySettings, error) {
		return h.svc.AuthenticateDirectory(r.Context(), secret)
	})
	if errors.Is(err, core.ErrUnauthorized) {
		return nil, &Error{Status: http.StatusUnauthorized, Detail: "the bearer token is not a valid SCIM token"}
	}
	if err != nil {
		return nil, err
	}
	return &principal{orgID: tok.OrgID, set: set, actor: core.Actor{
		Kind: core.ActorSCIM, ID: tok.ID, Name: tok.Name, Source: "scim:" + tok.Name, RequestID: core.RequestIDFrom(r.Context()),
		TokenID: tok.ID, TokenCreatedBy: tok.CreatedByName,
	}}, nil
}

// endpoint adapts a handler returning an error to one error renderer.
func (h *Handler) endpoint(fn func(http.ResponseWriter, *http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := fn(w, r); err != nil {
			h.writeError(w, r, err)
		}
	})
}

// writeError renders any error as a SCIM error body. Internal errors are
// logged with the request id and never shown to the client.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := h.toSCIM(r, err)
	var own *Error
	switch {
	case errors.As(err, &own):
	case core.KindOf(err) == core.KindBusy:
		if r.Context().Err() == nil {
			h.log.Warn("SCIM request refused: busy", "request_id", core.RequestIDFrom(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
		}
	case e.Status >= 500:
		h.log.Error("SCIM request failed", "request_id", core.RequestIDFrom(r.Context()), "method", r.Method, "path", r.URL.Path, "err", err)
	}
	if e.Status == http.StatusTooManyRequests || e.Status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", "1")
	}
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(e.Status)
	b, _ := json.Marshal(scimerr.ScimError{Status: e.Status, ScimType: e.ScimType, Detail: e.Detail})
	_, _ = w.Write(b)
}

func (h *Handler) toSCIM(r *http.Request, err error) *Error {
	var se *Error
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &se):
		return se
	case errors.As(err, &mb):
		return &Error{Status: http.StatusRequestEntityTooLarge, Detail: fmt.Sprintf("the request body exceeds %d bytes (maxPayloadSize)", mb.Limit)}
	}
	switch core.KindOf(err) {
	case core.KindBusy:
		var be *core.BusyError
		if errors.As(err, &be) {
			return &Error{Status: http.StatusServiceUnavailable, Detail: be.Error()}
		}
		return &Error{Status: http.StatusServiceUnavailable, Detail: "the server is busy; retry after 1 second"}
	case core.KindUnavailable:
		var ue *core.UnavailableError
		if errors.As(err, &ue) {
			return &Error{Status: http.StatusServiceUnavailable, Detail: ue.Error() + "; retry later"}
		}
		return &Error{Status: http.StatusServiceUnavailable, Detail: "the database cannot be written; retry later"}
	case core.KindInvalid:
		var ve *core.ValidationError
		if !errors.As(err, &ve) {
			return &Error{Status: http.StatusBadRequest, ScimType: scimerr.ScimTypeInvalidValue, Detail: "invalid value"}
		}
		parts := make([]string, 0, len(ve.Problems))
		t := scimerr.ScimTypeInvalidValue
		for _, p := range ve.Problems {
			if p.Field == "filter" {
				t = scimerr.ScimTypeInvalidFilter
			}
			parts = append(parts, scimAttr(p.Field)+": "+p.Message)
		}
		return &Error{Status: http.StatusBadRequest, ScimType: t, Detail: strings.Join(parts, "; ")}
	case core.KindConflict:
		var ce *core.ConflictError
		if !errors.As(err, &ce) || ce.Field == "" { // a constraint the store could not name: do not show its text
			return &Error{Status: http.StatusConflict, ScimType: scimerr.ScimTypeUniqueness, Detail: "a value is already used by another resource"}
		}
		return &Error{Status: http.StatusConflict, ScimType: scimerr.ScimTypeUniqueness, Detail: scimAttr(ce.Field) + ": " + ce.Message}
	case core.KindNotFound:
		var nf *core.NotFoundError
		if errors.As(err, &nf) {
			return &Error{Status: http.StatusNotFound, Detail: fmt.Sprintf("%s %q not found", nf.Kind, nf.Key)}
		}
		return &Error{Status: http.StatusNotFound, Detail: "not found"}
	case core.KindTransition:
		var te *core.TransitionError
		detail := "illegal status transition"
		if errors.As(err, &te) {
			detail = te.Error()
		}
		return &Error{Status: http.StatusBadRequest, ScimType: scimerr.ScimTypeMutability, Detail: detail}
	case core.KindForbidden:
		var fe *core.ForbiddenError
		if errors.As(err, &fe) {
			return &Error{Status: http.StatusForbidden, Detail: fe.Error()}
		}
		return &Error{Status: http.StatusForbidden, Detail: "forbidden"}
	case core.KindUnauthorized:
		return &Error{Status: http.StatusUnauthorized, Detail: "unauthorized"}
	}
	return &Error{Status: http.StatusInternalServerError, Detail: "internal error (request id " + core.RequestIDFrom(r.Context()) + ")"}
}

// scimFields maps core field names to the SCIM attributes that carry them.
var scimFields = map[string]string{
	"username":     "userName",
	"email":        "emails",
	"first_name":   "name.givenName",
	"last_name":    "name.familyName",
	"phone":        "phoneNumbers",
	"language":     "preferredLanguage",
	"external_id":  "externalId",
	"role":         URNRoster + ":role",
	"display_name": "displayName",
	"manager_id":   URNEnterprise + ":manager",
	"manager":      URNEnterprise + ":manager",
	"name":         "displayName",
	"members":      "members",
	"filter":       "filter",
}

// scimAttr names a core field (an API name, or a document attribute's
// "emails[1].value", "addresses[0].postal_code") by its SCIM path.
func scimAttr(field string) string {
	if s, ok := scimFields[field]; ok {
		return s
	}
	base, rest := field, ""
	if i := strings.IndexAny(field, "[."); i > 0 {
		base, rest = field[:i], field[i:]
	}
	if def, ok := core.SchemaAttribute(base); ok && def.SCIM != "" && def.Storage == core.StoreDocument {
		if j := strings.LastIndex(rest, "."); j >= 0 {
			rest = rest[:j+1] + scimPart(rest[j+1:])
		}
		return def.SCIM + rest
	}
	if rest, ok := strings.CutPrefix(field, "metadata."); ok {
		return URNRoster + ":metadata[name eq \"" + rest + "\"]"
	}
	return field
}

// readJSON reads a size-limited JSON object body.
func readJSON(r *http.Request) (map[string]any, error) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var mb *http.MaxBytesError
		if errors.As(err, &mb) {
			return nil, err
		}
		return nil, badRequest(scimerr.ScimTypeInvalidSyntax, "the request body could not be read")
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, badRequest(scimerr.ScimTypeInvalidSyntax, "the request body is not valid JSON: %s", jsonErr(err))
	}
	if dec.More() {
		return nil, badRequest(scimerr.ScimTypeInvalidSyntax, "the request body holds more than one JSON value")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, badRequest(scimerr.ScimTypeInvalidSyntax, "the request body must be a JSON object")
	}
	return m, nil
}

func jsonErr(err error) string {
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("%s at offset %d", se.Error(), se.Offset)
	}
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return "unexpected end of input"
	}
	return "malformed"
}

func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", mediaType)
	w.WriteHeader(status)
	_, _ = w.Write(b)
	return nil
}

// baseURL is the absolute URL of /scim/v2.
func (h *Handler) baseURL(r *http.Request) string {
	if h.cfg.PublicURL != "" {
		return strings.TrimRight(h.cfg.PublicURL, "/") + "/scim/v2"
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + "/scim/v2"
}
