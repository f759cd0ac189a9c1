package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

	"github.com/gorilla/mux"

	"github.com/rosterhq/roster/core"
)

func (a *API) mountMail(v1, authed *mux.Router) {
	v1.Handle("/auth/password-reset", a.handle(a.requestReset)).Methods(http.MethodPost)
	authed.Handle("/groups/{id}/message", a.handle(a.messageGroup)).Methods(http.MethodPost)
	authed.Handle("/apps/{id}/message", a.handle(a.messageApp)).Methods(http.MethodPost)
	authed.Handle("/users/{id}/mail", a.handle(a.userMail)).Methods(http.MethodGet)
	authed.Handle("/org/mail-templates", a.handle(a.listMailTemplates)).Methods(http.MethodGet)
	authed.Handle("/org/mail-templates/variables", a.handle(a.mailVariables)).Methods(http.MethodGet)
	preview := http.Handler(a.handle(func(http.ResponseWriter, *http.Request) error {
		return &core.NotFoundError{Kind: "mail preview", Key: "this daemon renders no previews"}
	}))
	if a.cfg.MailPreview != nil {
		preview = a.cfg.MailPreview(func(r *http.Request) (string, error) { return orgID(r), nil })
	}
	authed.Handle("/org/mail-templates/preview", a.adminOnly(preview)).Methods(http.MethodGet, http.MethodPost)
	authed.Handle("/org/mail-templates/builtin/{kind}/{language}", a.handle(a.builtinMailTemplate)).Methods(http.MethodGet)
	authed.Handle("/org/mail-templates/{kind}/{language}", a.handle(a.putMailTemplate)).Methods(http.MethodPut)
	authed.Handle("/org/mail-templates/{kind}/{language}", a.handle(a.deleteMailTemplate)).Methods(http.MethodDelete)
}

// adminOnly lets owners and admins through to h.
func (a *API) adminOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := core.AuthorizeRemoveUsers(a.actor(r)); err != nil {
			a.render(w, r, &core.ForbiddenError{Reason: "only owners and admins manage mail templates"})
			return
		}
		h.ServeHTTP(w, r)
	})
}

// requestReset is the self-service "forgot password": it answers 202 whether
// or not the login exists, so it tells an attacker nothing.
func (a *API) requestReset(w http.ResponseWriter, r *http.Request) error {
	if !a.allowLogin(r) {
		return &httpError{status: http.StatusTooManyRequests, code: "rate_limited", msg: "too many requests from this address; try again later"}
	}
	var in struct {
		Org      string `json:"org"`
		Login    string `json:"login"` // username or email
		Language string `json:"language"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	if in.Org == "" {
		in.Org = core.DefaultOrg
	}
	if in.Login == "" {
		return badRequest("login", "a username or email is required")
	}
	o, err := a.svc.Org(r.Context(), in.Org)
	if err == nil {
		err = a.svc.RequestPasswordReset(r.Context(), o.ID, in.Login, in.Language)
	}
	if errors.Is(err, core.ErrInvalid) {
		return err // bad input (e.g. an unknown language) is the caller's to fix
	}
	if err != nil && !errors.Is(err, core.ErrNotFound) {
		a.log.Error("password reset request", "err", err)
	}
	writeJSON(w, http.StatusAccepted, map[string]string{"status": "if the account exists and can sign in, a reset link is on its way"})
	return nil
}

// messageGroup and messageApp mail the users of a group or an app.
func (a *API) messageGroup(w http.ResponseWriter, r *http.Request) error {
	return message(a, w, r, a.svc.MessageGroup)
}

func (a *API) messageApp(w http.ResponseWriter, r *http.Request) error {
	return message(a, w, r, a.svc.MessageApp)
}

func message[R any](a *API, w http.ResponseWriter, r *http.Request,
	send func(context.Context, core.Actor, string, string, core.GroupMessage) (R, error)) error {
	var in struct {
		Subject  string `json:"subject"`
		Body     string `json:"body"`
		Language string `json:"language"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	res, err := send(r.Context(), a.actor(r), orgID(r), mux.Vars(r)["id"], core.GroupMessage{Subject: in.Subject, Body: in.Body, Language: in.Language})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusAccepted, res)
	return nil
}

func (a *API) listMailTemplates(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeUserAdmin(a.actor(r)); err != nil {
		return err
	}
	ts, err := a.svc.MailTemplates(r.Context(), orgID(r))
	if err != nil {
		return err
	}
	langs := append([]string{}, core.MailLanguages...)
	for _, t := range ts {
		if !slices.Contains(langs, t.Language) {
			langs = append(langs, t.Language)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"templates": ts, "languages": langs, "shipped_languages": core.MailLanguages})
	return nil
}

// mailVariables lists, per kind of mail, the variables its templates may use.
func (a *API) mailVariables(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeUserAdmin(a.actor(r)); err != nil {
		return err
	}
	kinds := map[core.MailKind][]core.MailVariable{}
	for _, k := range core.MailKinds {
		kinds[k] = core.MailVariables(k)
	}
	writeJSON(w, http.StatusOK, map[string]any{"kinds": kinds})
	return nil
}

// builtinMailTemplate is the text roster ships for a kind and language, the
// one the template editor starts from when the organisation has none: in
// a language roster does not ship, the one mails would fall back on, with
// from_language saying which.
func (a *API) builtinMailTemplate(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeUserAdmin(a.actor(r)); err != nil {
		return err
	}
	v := mux.Vars(r)
	kind := core.MailKind(v["kind"])
	if !kind.Valid() {
		return badRequest("kind", "%q is not a kind of mail; roster has %s", kind, kindList())
	}
	lang, err := core.CanonicalLanguage(v["language"])
	if err != nil {
		return badRequest("language", "%v", err)
	}
	var t core.MailTemplate
	ok := false
	if a.cfg.MailBuiltin != nil {
		t, ok = a.cfg.MailBuiltin(kind, lang)
	}
	if !ok {
		return &core.NotFoundError{Kind: "built-in mail template", Key: string(kind) + "/" + lang}
	}
	writeJSON(w, http.StatusOK, map[string]any{"kind": kind, "language": lang, "from_language": t.Language,
		"subject": t.Subject, "html": t.HTML, "text": t.Text})
	return nil
}

func kindList() string {
	s := make([]string, len(core.MailKinds))
	for i, k := range core.MailKinds {
		s[i] = string(k)
	}
	return strings.Join(s, ", ")
}

func (a *API) putMailTemplate(w http.ResponseWriter, r *http.Request) error {
	var in struct {
		Subject string `json:"subject"`
		HTML    string `json:"html"`
		Text    string `json:"text"`
	}
	if err := decode(w, r, &in); err != nil {
		return err
	}
	v := mux.Vars(r)
	t, err := a.svc.SetMailTemplate(r.Context(), a.actor(r), core.MailTemplate{OrgID: orgID(r), Kind: core.MailKind(v["kind"]), Language: v["language"],
		Subject: in.Subject, HTML: in.HTML, Text: in.Text})
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, t)
	return nil
}

func (a *API) deleteMailTemplate(w http.ResponseWriter, r *http.Request) error {
	v := mux.Vars(r)
	if err := a.svc.DeleteMailTemplate(r.Context(), a.actor(r), orgID(r), core.MailKind(v["kind"]), v["language"]); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// userMail lists the mails queued for and sent to a user (never their links).
func (a *API) userMail(w http.ResponseWriter, r *http.Request) error {
	if err := core.AuthorizeUserAdmin(a.actor(r)); err != nil {
		return err
	}
	m, err := a.svc.UserMail(r.Context(), orgID(r), mux.Vars(r)["id"])
	if err != nil {
		return err
	}
	if m == nil {
		m = []core.OutboxMail{} // a user nobody mailed: an empty list, not null
	}
	writeJSON(w, http.StatusOK, map[string]any{"mail": m})
	return nil
}
