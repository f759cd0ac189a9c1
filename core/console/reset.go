package console

import (
	"context"
	"errors"
	"html/template"
	"log/slog"
	"net/http"

	"github.com/rosterhq/roster/core"
)

// ResetService is what the password-reset page needs of the core service.
type ResetService interface {
	LookupPasswordReset(ctx context.Context, token string) (*core.ResetInfo, error)
	ResetPassword(ctx context.Context, token, password string) (*core.UserView, error)
}

var _ ResetService = (*core.Service)(nil)

// ResetMount is the path prefix to route to the Resets handler.
const ResetMount = "/reset/"

const (
	resetHeading = "This password reset link cannot be used"
	resetHint    = "Nothing was changed. Ask for a new link from the sign-in page, or ask an administrator."
)

// Resets serves /reset/{token}: GET shows the form, POST sets the password.
// Cross-origin POSTs are refused.
type Resets struct {
	svc   ResetService
	log   *slog.Logger
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// NewResets builds the password-reset page handler.
func NewResets(svc ResetService, log *slog.Logger) (*Resets, error) {
	if svc == nil {
		return nil, errors.New("console: a reset service is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Resets{svc: svc, log: log.With("component", "console")}
	var err error
	if h.pages, err = parsePages(); err != nil {
		return nil, err
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		renderPage(w, h.log, h.pages, http.StatusForbidden, "invalid", page{Title: "Refused", Heading: "Refused", Error: "This form can only be sent from roster's own page."})
	}))
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET /reset/{token}", h.show)
	h.mux.Handle("POST /reset/{token}", cop.Handler(http.HandlerFunc(h.reset)))
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Resets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w)
	h.mux.ServeHTTP(w, r)
}

func (h *Resets) fail(w http.ResponseWriter, err error) {
	failPage(w, h.log, h.pages, err, page{Title: "Password reset", Heading: resetHeading, Hint: resetHint})
}

func (h *Resets) show(w http.ResponseWriter, r *http.Request) {
	info, err := h.svc.LookupPasswordReset(r.Context(), r.PathValue("token"))
	if err != nil {
		h.fail(w, err)
		return
	}
	renderPage(w, h.log, h.pages, http.StatusOK, "reset", page{Title: "Choose a new password", Reset: info})
}

func (h *Resets) reset(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	info, err := h.svc.LookupPasswordReset(r.Context(), token)
	if err != nil {
		h.fail(w, err)
		return
	}
	form := page{Title: "Choose a new password", Reset: info}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		form.Error = "The form could not be read; please try again."
		renderPage(w, h.log, h.pages, http.StatusBadRequest, "reset", form)
		return
	}
	password := r.PostForm.Get("password")
	if password != r.PostForm.Get("confirm") {
		form.Error = "The two passwords differ."
		renderPage(w, h.log, h.pages, http.StatusBadRequest, "reset", form)
		return
	}
	u, err := h.svc.ResetPassword(r.Context(), token, password)
	var ve *core.ValidationError
	switch {
	case err == nil:
		renderPage(w, h.log, h.pages, http.StatusOK, "reset_done", page{Title: "Password changed", User: u})
	case errors.As(err, &ve) && ve.Field() == "password":
		form.Error = "Password " + ve.Problems[0].Message + "."
		renderPage(w, h.log, h.pages, http.StatusBadRequest, "reset", form)
	default:
		h.fail(w, err)
	}
}
