// Package console serves roster's server-rendered pages. For now: the
// invitation acceptance page /invite/{token} and the password-reset page
// /reset/{token}.
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
	var err error
	if h.pages, err = parsePages(); err != nil {
		return nil, err
	}
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.render(w, http.StatusForbidden, "invalid", page{Title: "Refused", Heading: "Refused", Error: "This form can only be sent from roster's own page."})
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
	secureHeaders(w)
	h.mux.ServeHTTP(w, r)
}

type page struct {
	Title   string
	Heading string // of the error page
	Hint    string // of the error page
	Error   string
	Info    *core.InviteInfo
	Reset   *core.ResetInfo
	User    *core.UserView
}

const (
	inviteHeading = "This invitation link cannot be used"
	inviteHint    = "If you still need access, ask an administrator of your organisation to send you a new invitation."
)

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

func (h *Invites) fail(w http.ResponseWriter, err error) {
	failPage(w, h.log, h.pages, err, page{Title: "Invitation link", Heading: inviteHeading, Hint: inviteHint})
}

func (h *Invites) render(w http.ResponseWriter, status int, name string, p page) {
	renderPage(w, h.log, h.pages, status, name, p)
}

func parsePages() (map[string]*template.Template, error) {
	pages := map[string]*template.Template{}
	for _, name := range []string{"accept", "done", "invalid", "reset", "reset_done"} {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

// secureHeaders are set on every page: the URL holds a token.
func secureHeaders(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
}

// failPage shows why a link cannot be used (400), a state conflict (409) or
// a generic page (500).
func failPage(w http.ResponseWriter, log *slog.Logger, pages map[string]*template.Template, err error, p page) {
	var ve *core.ValidationError
	if errors.As(err, &ve) {
		msg := ve.Problems[0].Message
		p.Error = strings.ToUpper(msg[:1]) + msg[1:] + "."
		renderPage(w, log, pages, http.StatusBadRequest, "invalid", p)
		return
	}
	if errors.Is(err, core.ErrTransition) {
		p.Error = "This account cannot do this in its current state."
		renderPage(w, log, pages, http.StatusConflict, "invalid", p)
		return
	}
	log.Error("page", "err", err) // errors from core never carry the token
	p.Title, p.Error = "Error", "Something went wrong on our side. Please try again later."
	renderPage(w, log, pages, http.StatusInternalServerError, "invalid", p)
}

func renderPage(w http.ResponseWriter, log *slog.Logger, pages map[string]*template.Template, status int, name string, p page) {
	var b bytes.Buffer
	if err := pages[name].ExecuteTemplate(&b, "layout", p); err != nil {
		log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}
