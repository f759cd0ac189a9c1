// Package mail delivers roster's mail: the outbox worker that claims queued
// rows from the core service, the embedded templates per language (with each
// organisation's overrides), SMTP delivery over wneessen/go-mail, and a
// preview handler for the admin API.
package mail

import (
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/rosterhq/roster/core"
)

//go:embed templates
var templateFS embed.FS

// Renderer renders mails from the embedded defaults and an organisation's
// overrides.
type Renderer struct {
	defaults map[string]core.MailTemplate // by kind/language
}

func key(kind core.MailKind, lang string) string { return string(kind) + "/" + lang }

// NewRenderer loads the embedded templates and checks that every kind of
// mail exists in every language of core.MailLanguages, uses only the
// variables of its kind and renders.
func NewRenderer() (*Renderer, error) {
	r := &Renderer{defaults: map[string]core.MailTemplate{}}
	read := func(lang string, kind core.MailKind, ext string) (string, error) {
		b, err := fs.ReadFile(templateFS, "templates/"+lang+"/"+string(kind)+"."+ext)
		if err != nil {
			return "", fmt.Errorf("mail templates: %w", err)
		}
		return string(b), nil
	}
	for _, lang := range core.MailLanguages {
		for _, kind := range core.MailKinds {
			var t core.MailTemplate
			var err error
			t.Kind, t.Language = kind, lang
			if t.Subject, err = read(lang, kind, "subject"); err != nil {
				return nil, err
			}
			if t.HTML, err = read(lang, kind, "html"); err != nil {
				return nil, err
			}
			if t.Text, err = read(lang, kind, "txt"); err != nil {
				return nil, err
			}
			t.Subject = strings.TrimSpace(t.Subject)
			// The check an organisation's template gets: the variables the
			// editor lists, and every part renders with sample data.
			if err := core.CheckMailParts(kind, lang, t.Subject, t.HTML, t.Text); err != nil {
				return nil, fmt.Errorf("embedded %s template (%s): %w", kind, lang, err)
			}
			r.defaults[key(kind, lang)] = t
		}
	}
	return r, nil
}

// Default returns the embedded template of a kind in a language.
func (r *Renderer) Default(kind core.MailKind, lang string) (core.MailTemplate, bool) {
	t, ok := r.defaults[key(kind, lang)]
	return t, ok
}

// Builtin is the embedded template a mail of kind in lang starts from: the
// one in lang when roster ships it, else the base language's (pt-BR → pt),
// else English. Its Language says which one it is.
func (r *Renderer) Builtin(kind core.MailKind, lang string) (core.MailTemplate, bool) {
	if t, ok := r.Default(kind, lang); ok {
		return t, true
	}
	base, _, _ := strings.Cut(lang, "-")
	if t, ok := r.Default(kind, base); ok {
		return t, true
	}
	return r.Default(kind, core.DefaultMailLanguage)
}

// Render renders kind in lang: each part of override that is set replaces
// the built-in one's part (Builtin). In a language roster does not ship,
// the organisation's template has every part; should a part be missing
// (the template was deleted after the mail was queued) the built-in one of
// the base language (pt-BR → pt), else English, is used.
func (r *Renderer) Render(kind core.MailKind, lang string, override *core.MailTemplate, data core.MailData) (*core.RenderedMail, error) {
	t, ok := r.Builtin(kind, lang)
	if !ok {
		return nil, fmt.Errorf("no %s template in language %q", kind, lang)
	}
	if override != nil {
		if override.Subject != "" {
			t.Subject = override.Subject
		}
		if override.HTML != "" {
			t.HTML = override.HTML
		}
		if override.Text != "" {
			t.Text = override.Text
		}
	}
	return core.RenderMail(t.Subject, t.HTML, t.Text, data)
}

// InviteLink is the acceptance page's address for a token.
func InviteLink(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + "/invite/" + token
}

// ResetLink is the password-reset page's address for a token.
func ResetLink(publicURL, token string) string {
	return strings.TrimRight(publicURL, "/") + "/reset/" + token
}

// mailData is what a claimed mail shows, by kind.
func mailData(c core.ClaimedMail, publicURL string) (core.MailData, error) {
	u, o, m := c.User, c.Org, c.Mail
	org := o.DisplayName
	if org == "" {
		org = o.Name
	}
	d := core.MailData{
		FirstName: u.FirstName, LastName: u.LastName, FullName: u.FullName(), Username: u.Username,
		Email: u.Email, OrgName: org, SupportEmail: o.SupportEmail, CatalogURL: o.CatalogURL, Language: m.Language,
	}
	expires := func(at time.Time) {
		d.ExpiresAt = at.UTC()
		d.ExpiresOn = d.ExpiresAt.Format("2006-01-02 15:04 UTC")
		d.ValidDays = int((d.ExpiresAt.Sub(m.CreatedAt) + 12*time.Hour) / (24 * time.Hour))
	}
	switch m.Kind {
	case core.MailInvite:
		d.Link = InviteLink(publicURL, m.Token)
		if u.InviteExpiresAt != nil {
			expires(*u.InviteExpiresAt)
		}
	case core.MailPasswordReset:
		d.Link = ResetLink(publicURL, m.Token)
		expires(m.CreatedAt.Add(core.PasswordResetValidFor))
	case core.MailGroupMessage:
		d.MessageSubject, d.Message, d.SenderName, d.GroupName = m.Subject, m.Body, m.Sender, m.GroupName
		d.MessageLines = strings.Split(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n")
	case core.MailAppMessage:
		d.MessageSubject, d.Message, d.SenderName, d.AppName = m.Subject, m.Body, m.Sender, m.AppName
		d.MessageLines = strings.Split(strings.ReplaceAll(m.Body, "\r\n", "\n"), "\n")
	default:
		return d, fmt.Errorf("unknown kind of mail %q", m.Kind)
	}
	return d, nil
}
