// Package console serves roster's server-rendered pages. For now: the
// invitation acceptance page /invite/{token}.
package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strings"

	"github.com/rosterhq/roster/core"
)

//go:embed templates/*.html
var templateFS embed.FS

// InviteService is what the acceptance page needs of the core service.
type InviteService interface {
	LookupInvite(ctx context.Context, token string) (*core.InviteInfo, error)
	AcceptInvite(ctx context.Context, token, password string) (*core.UserView, error)
}

var _ InviteService = (*core.Service)(nil)

// Invites serves /invite/{token}: GET shows the form, POST accepts. POSTs
// from another origin are refused (Sec-Fetch-Site / Origin checks), on top
// of the unguessable token the URL already carries.
type Invites struct {
	svc   InviteService
	log   *slog.Logger
	pages map[string]*template.Template
	mux   *http.ServeMux
}

// NewInvites builds the acceptance page handler.
func NewInvites(svc InviteService, log *slog.Logger) (*Invites, error) {
	if svc == nil {
		return nil, errors.New("console: an invite service is required")
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Invites{svc: svc, log: log.With("component", "console"), pages: map[string]*template.Template{}}
	for _, name := range []string{"accept", "done", "invalid"} {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		h.pages[name] = t
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.render(w, http.StatusForbidden, "invalid", page{Title: "Refused", Error: "This form can only be sent from roster's own page."})
	}))
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET /invite/{token}", h.show)
	h.mux.Handle("POST /invite/{token}", cop.Handler(http.HandlerFunc(h.accept)))
	return h, nil
}

// Mount is the path prefix to route to this handler.
const Mount = "/invite/"

// ServeHTTP implements http.Handler.
func (h *Invites) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer") // the URL holds the token
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
	h.mux.ServeHTTP(w, r)
}

type page struct {
	Title string
	Error string
	Info  *core.InviteInfo
	User  *core.UserView
}

func (h *Invites) show(w http.ResponseWriter, r *http.Request) {
	info, err := h.svc.LookupInvite(r.Context(), r.PathValue("token"))
	if err != nil {
		h.fail(w, err)
		return
	}
	h.render(w, http.StatusOK, "accept", page{Title: "Accept your invitation", Info: info})
}

func (h *Invites) accept(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	info, err := h.svc.LookupInvite(r.Context(), token)
	if err != nil {
		h.fail(w, err)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		h.render(w, http.StatusBadRequest, "accept", page{Title: "Accept your invitation", Info: info, Error: "The form could not be read; please try again."})
		return
	}
	password := ""
	if info.NeedsPassword {
		password = r.PostForm.Get("password")
		if password != r.PostForm.Get("confirm") {
			h.render(w, http.StatusBadRequest, "accept", page{Title: "Accept your invitation", Info: info, Error: "The two passwords differ."})
			return
		}
	}
	u, err := h.svc.AcceptInvite(r.Context(), token, password)
	var ve *core.ValidationError
	switch {
	case err == nil:
		h.render(w, http.StatusOK, "done", page{Title: "Welcome", User: u})
	case errors.As(err, &ve) && ve.Field() == "password":
		h.render(w, http.StatusBadRequest, "accept", page{Title: "Accept your invitation", Info: info, Error: "Password " + ve.Problems[0].Message + "."})
	default:
		h.fail(w, err)
	}
}

// fail shows why a link cannot be used (400) or a generic page (500).
func (h *Invites) fail(w http.ResponseWriter, err error) {
	var ve *core.ValidationError
	if errors.As(err, &ve) {
		msg := ve.Problems[0].Message
		h.render(w, http.StatusBadRequest, "invalid", page{Title: "Invitation link", Error: strings.ToUpper(msg[:1]) + msg[1:] + "."})
		return
	}
	if errors.Is(err, core.ErrTransition) {
		h.render(w, http.StatusConflict, "invalid", page{Title: "Invitation link", Error: "This account cannot accept an invitation in its current state."})
		return
	}
	h.log.Error("invitation page", "err", err) // errors from core never carry the token
	h.render(w, http.StatusInternalServerError, "invalid", page{Title: "Error", Error: "Something went wrong on our side. Please try again later."})
}

func (h *Invites) render(w http.ResponseWriter, status int, name string, p page) {
	var b bytes.Buffer
	if err := h.pages[name].ExecuteTemplate(&b, "layout", p); err != nil {
		h.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}
