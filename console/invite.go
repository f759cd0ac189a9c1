// Package console serves roster's server-rendered pages. For now: the
// invitation acceptance page /invite/{token} and the password-reset page
// /reset/{token}, in the language the link was mailed in.
package console

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"

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

// Mount is the path prefix to route to the Invites handler.
const Mount = "/invite/"

// Invites serves /invite/{token}: GET shows the form, POST accepts. POSTs
// from another origin are refused (Sec-Fetch-Site / Origin checks), on top
// of the unguessable token the URL already carries.
type Invites struct {
	svc InviteService
	pages
	mux *http.ServeMux
}

// NewInvites builds the acceptance page handler.
func NewInvites(svc InviteService, log *slog.Logger) (*Invites, error) {
	if svc == nil {
		return nil, errors.New("console: an invite service is required")
	}
	ps, err := newPages(log, "inviteHeading", "inviteHint")
	if err != nil {
		return nil, err
	}
	h := &Invites{svc: svc, pages: ps, mux: http.NewServeMux()}
	h.mux.HandleFunc("GET /invite/{token}", h.show)
	h.mux.Handle("POST /invite/{token}", ps.crossOriginGuard(http.HandlerFunc(h.accept)))
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Invites) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	secureHeaders(w)
	h.mux.ServeHTTP(w, r)
}

func (h *Invites) show(w http.ResponseWriter, r *http.Request) {
	info, err := h.svc.LookupInvite(r.Context(), r.PathValue("token"))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, http.StatusOK, "accept", h.page(r, info.Language, "acceptTitle", func(p *page) { p.Info = info }))
}

func (h *Invites) accept(w http.ResponseWriter, r *http.Request) {
	token := r.PathValue("token")
	info, err := h.svc.LookupInvite(r.Context(), token)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	form := h.page(r, info.Language, "acceptTitle", func(p *page) { p.Info = info })
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	if err := r.ParseForm(); err != nil {
		form.Error = form.T["formUnreadable"]
		h.render(w, http.StatusBadRequest, "accept", form)
		return
	}
	password := ""
	if info.NeedsPassword {
		password = r.PostForm.Get("password")
		if password != r.PostForm.Get("confirm") {
			form.Error = form.T["differ"]
			h.render(w, http.StatusBadRequest, "accept", form)
			return
		}
	}
	u, err := h.svc.AcceptInvite(r.Context(), token, password)
	var ve *core.ValidationError
	switch {
	case err == nil:
		h.render(w, http.StatusOK, "done", h.page(r, info.Language, "welcome", func(p *page) { p.User = u; p.Info = info; p.Title = form.T["acceptTitle"] }))
	case errors.As(err, &ve) && ve.Field() == "password":
		form.Error = localize(form.T, ve.Problems[0].Message)
		h.render(w, http.StatusBadRequest, "accept", form)
	default:
		h.fail(w, r, err)
	}
}

// ---- shared by the pages ----

type page struct {
	Lang    string
	T       map[string]string
	Title   string
	Heading string // of the error page
	Hint    string // of the error page
	Error   string
	Info    *core.InviteInfo
	Reset   *core.ResetInfo
	User    *core.UserView
}

// policy is the organisation's password policy of the page's link.
func (p page) policy() core.PasswordPolicy {
	switch {
	case p.Info != nil:
		return p.Info.Policy
	case p.Reset != nil:
		return p.Reset.Policy
	}
	return core.DefaultPasswordPolicy
}

// MinLength is the policy's minimum length, for the form's minlength.
func (p page) MinLength() int { return max(p.policy().MinLength, 1) }

// PolicyText states the policy in the page's language.
func (p page) PolicyText() string { return policyText(p.T, p.policy()) }

// pages renders one family of pages (invite or reset).
type pages struct {
	log                 *slog.Logger
	tpl                 map[string]*template.Template
	headingKey, hintKey string
}

func newPages(log *slog.Logger, headingKey, hintKey string) (pages, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ps := pages{log: log.With("component", "console"), tpl: map[string]*template.Template{}, headingKey: headingKey, hintKey: hintKey}
	for _, name := range []string{"accept", "done", "invalid", "reset", "reset_done"} {
		t, err := template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html")
		if err != nil {
			return ps, err
		}
		ps.tpl[name] = t
	}
	return ps, nil
}

// page starts a page in the language chosen for r.
func (ps pages) page(r *http.Request, linkLang, titleKey string, fill func(*page)) page {
	lang := pageLanguage(r, linkLang)
	p := page{Lang: lang, T: texts[lang]}
	p.Title = p.T[titleKey]
	if fill != nil {
		fill(&p)
	}
	return p
}

// crossOriginGuard refuses non-safe cross-origin browser requests.
func (ps pages) crossOriginGuard(h http.Handler) http.Handler {
	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := ps.page(r, "", "refused", nil)
		p.Heading, p.Error = p.T["refused"], p.T["refusedMsg"]
		ps.render(w, http.StatusForbidden, "invalid", p)
	}))
	return cop.Handler(h)
}

// secureHeaders are set on every page: the URL holds a token.
func secureHeaders(w http.ResponseWriter) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
}

// fail shows why a link cannot be used (400), a state conflict (409) or a
// generic page (500), in the browser's language (the link's is unknown).
func (ps pages) fail(w http.ResponseWriter, r *http.Request, err error) {
	p := ps.page(r, "", ps.headingKey, nil)
	p.Heading, p.Hint = p.T[ps.headingKey], p.T[ps.hintKey]
	var ve *core.ValidationError
	switch {
	case errors.As(err, &ve):
		p.Error = localize(p.T, ve.Problems[0].Message)
		ps.render(w, http.StatusBadRequest, "invalid", p)
	case errors.Is(err, core.ErrTransition):
		p.Error = p.T["stateConflict"]
		ps.render(w, http.StatusConflict, "invalid", p)
	case errors.Is(err, core.ErrBusy):
		w.Header().Set("Retry-After", "1")
		p.Title, p.Heading, p.Error = p.T["errorTitle"], p.T["errorTitle"], p.T["busyMsg"]
		ps.render(w, http.StatusServiceUnavailable, "invalid", p)
	default:
		ps.log.Error("page", "err", err) // errors from core never carry the token
		p.Title, p.Heading, p.Error = p.T["errorTitle"], p.T["errorTitle"], p.T["errorMsg"]
		ps.render(w, http.StatusInternalServerError, "invalid", p)
	}
}

func (ps pages) render(w http.ResponseWriter, status int, name string, p page) {
	var b bytes.Buffer
	if err := ps.tpl[name].ExecuteTemplate(&b, "layout", p); err != nil {
		ps.log.Error("render page", "page", name, "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes())
}
