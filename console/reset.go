package console

import (
	"context"
	"errors"
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

// Resets serves /reset/{token}: GET shows the form, POST sets the password.
// Cross-origin POSTs are refused.
type Resets struct {
	svc ResetService
	pages
	mux *http.ServeMux
}

// NewResets builds the password-reset page handler.
func NewResets(svc ResetService, log *slog.Logger) (*Resets, error) {
	if svc == nil {
		return nil, errors.New("console: a reset service is required")
	}
	ps, err := newPages(log, "resetHeading", "resetHint")
	if err != nil {
		return nil, err
	}
	h := &Resets{svc: svc, pages: ps, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /reset/{token}", h.show)
	h.mux.Handle("POST /reset/{token}", ps.crossOriginGuard(http.HandlerFunc(h.reset)))
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Resets) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w)
	h.mux.ServeHTTP(w, r)
}

func (h *Resets) show(w http.ResponseWriter, r *http.Request) {
	info, err := h.svc.LookupPasswordReset(r.Context(), r.PathValue("token"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "reset", h.page(r, info.Language, "resetTitle", func(p *page) { p.Reset = info }))
}

func (h *Resets) reset(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	info, err := h.svc.LookupPasswordReset(r.Context(), token)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	form := h.page(r, info.Language, "resetTitle", func(p *page) { p.Reset = info })
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		form.Error = form.T["formUnreadable"]
		h.render(w, http.StatusBadRequest, "reset", form)
		return
	}
	password := r.PostForm.Get("password")
	if password != r.PostForm.Get("confirm") {
		form.Error = form.T["differ"]
		h.render(w, http.StatusBadRequest, "reset", form)
		return
	}
	u, err := h.svc.ResetPassword(r.Context(), token, password)
	var ve *core.ValidationError
	switch {
	case err == nil:
		h.render(w, http.StatusOK, "reset_done", h.page(r, info.Language, "changedTitle", func(p *page) { p.User = u }))
	case errors.As(err, &ve) && ve.Field() == "password":
		form.Error = localize(form.T, ve.Problems[0].Message)
		h.render(w, http.StatusBadRequest, "reset", form)
	default:
		h.fail(w, r, err)
	}
}
