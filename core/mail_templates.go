package core

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"golang.org/x/text/language"
)

// MailLanguages are the languages every kind of mail has an embedded
// template for (internal/mail ships one set per language). An organisation
// may mail in any other BCP 47 language once it saved its own template of
// that kind in that language (see availableLanguage).
var MailLanguages = []string{"en", "de", "fr", "es"}

// DefaultMailLanguage is used when a user's language has no templates.
const DefaultMailLanguage = "en"

// IsMailLanguage reports whether lang is one of MailLanguages (exactly).
func IsMailLanguage(lang string) bool {
	for _, l := range MailLanguages {
		if l == lang {
			return true
		}
	}
	return false
}

// PickMailLanguage chooses the mail language for a user's preferred language
// tag: the tag itself, else its primary subtag (de-AT → de), else English.
func PickMailLanguage(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if IsMailLanguage(tag) {
		return tag
	}
	if i := strings.IndexByte(tag, '-'); i > 0 && IsMailLanguage(tag[:i]) {
		return tag[:i]
	}
	return DefaultMailLanguage
}

// MaxMailLanguageLen bounds a mail language tag.
const MaxMailLanguageLen = 35

// CanonicalLanguage is the canonical form of a well-formed BCP 47 language
// tag (pt-br → pt-BR, zh-hant-tw → zh-Hant-TW), or an error saying it is not one.
func CanonicalLanguage(tag string) (string, error) {
	tag = strings.TrimSpace(tag)
	if tag == "" || len(tag) > MaxMailLanguageLen {
		return "", fmt.Errorf("%q is not a BCP 47 language tag such as en, de or pt-BR", tag)
	}
	t, err := language.Parse(tag)
	if err != nil || t == language.Und {
		return "", fmt.Errorf("%q is not a BCP 47 language tag such as en, de or pt-BR", tag)
	}
	return t.String(), nil
}

// checkMailLanguage checks that lang is a well-formed BCP 47 tag (whether
// the organisation can mail in it is availableLanguage's question).
func checkMailLanguage(p *problems, field, lang string) {
	if _, err := CanonicalLanguage(lang); err != nil {
		p.add(field, "%v", err)
	}
}

// hasTemplate reports whether mails of kind can be written in lang (canonical)
// for the organisation: roster ships it, or the organisation saved its own.
func hasTemplate(ctx context.Context, tx Tx, orgID string, kind MailKind, lang string) (bool, error) {
	if IsMailLanguage(lang) {
		return true, nil
	}
	_, err := tx.MailTemplateOverride(ctx, orgID, kind, lang)
	if errors.Is(err, ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// availableLanguage is the canonical form of a language a caller chose for
// a mail of kind ("" stays ""): one roster ships, or one the organisation
// saved a template of that kind in. Anything else is a 400 naming field and
// the language.
func availableLanguage(ctx context.Context, tx Tx, orgID string, kind MailKind, field, lang string) (string, error) {
	if lang == "" {
		return "", nil
	}
	c, err := CanonicalLanguage(lang)
	if err != nil {
		return "", invalid(field, "%v", err)
	}
	ok, err := hasTemplate(ctx, tx, orgID, kind, c)
	if err != nil || ok {
		return c, err
	}
	return "", invalid(field, "%q has no %s template in this organisation: roster ships %s; save the %s template in %s first (PUT /api/v1/org/mail-templates/%s/%s)",
		c, kind, strings.Join(MailLanguages, ", "), kind, c, kind, c)
}

// pickMailLanguage chooses the language of a mail of kind for a user's
// preferred language tag: the tag itself, else its base language (de-AT →
// de), when roster ships it or the organisation has a template of kind in
// it; else the organisation's default language; else English.
func (s *Service) pickMailLanguage(ctx context.Context, tx Tx, orgID string, kind MailKind, tag string) (string, error) {
	var cands []string
	if t, err := language.Parse(strings.TrimSpace(tag)); err == nil && t != language.Und {
		cands = append(cands, t.String())
		if base, conf := t.Base(); conf != language.No {
			cands = append(cands, base.String())
		}
	}
	o, err := orgSettingsOf(ctx, tx, orgID)
	if err != nil {
		return "", err
	}
	if o.DefaultLanguage != "" {
		cands = append(cands, o.DefaultLanguage)
	}
	for _, c := range cands {
		ok, err := hasTemplate(ctx, tx, orgID, kind, c)
		if err != nil {
			return "", err
		}
		if ok {
			return c, nil
		}
	}
	return DefaultMailLanguage, nil
}

// MailData is what a mail template sees. User-supplied values are escaped by
// html/template in the HTML part.
type MailData struct {
	FirstName string
	LastName  string
	FullName  string
	Username  string
	Email     string
	OrgName   string // the organisation's display name (its name when empty)
	// SupportEmail and CatalogURL are the organisation's ("" when unset).
	SupportEmail string
	CatalogURL   string
	Link         string // the invitation link
	ExpiresAt    time.Time
	ExpiresOn    string // ExpiresAt as "2006-01-02 15:04 UTC"
	ValidDays    int
	Language     string

	// group_message: what the sender wrote.
	MessageSubject string
	Message        string
	MessageLines   []string // Message split into lines, for the HTML part
	GroupName      string
	SenderName     string
	// app_message: the app whose users are messaged (and the fields above).
	AppName string
}

// SampleMailData is the data templates are checked and previewed with.
func SampleMailData(lang string) MailData {
	exp := time.Date(2030, 1, 8, 9, 30, 0, 0, time.UTC)
	return MailData{
		FirstName: "Ada", LastName: "Lovelace", FullName: "Ada Lovelace", Username: "ada@example.com",
		Email: "ada@example.com", OrgName: "Example Corp", SupportEmail: "help@example.com",
		CatalogURL: "https://apps.example.com/catalog",
		Link:       "https://roster.example.com/invite/" + PrefixInvite + "SAMPLE-TOKEN-NOT-VALID",
		ExpiresAt:  exp, ExpiresOn: exp.Format("2006-01-02 15:04 UTC"), ValidDays: 7, Language: lang,
		MessageSubject: "Planned maintenance", Message: "The app catalog is down on Saturday.\nPlease plan ahead.",
		MessageLines: []string{"The app catalog is down on Saturday.", "Please plan ahead."}, GroupName: "Field sales",
		SenderName: "Grace Hopper", AppName: "Expenses",
	}
}

// SampleMailDataFor is SampleMailData with the link a mail of kind carries.
func SampleMailDataFor(kind MailKind, lang string) MailData {
	d := SampleMailData(lang)
	if kind == MailPasswordReset {
		d.Link = "https://roster.example.com/reset/" + PrefixReset + "SAMPLE-TOKEN-NOT-VALID"
		d.ValidDays = 0
	}
	return d
}

// RenderedMail is a mail ready to send.
type RenderedMail struct {
	Subject string `json:"subject"`
	HTML    string `json:"html"`
	Text    string `json:"text"`
}

// Size limits of template parts.
const (
	MaxMailSubject = 1000
	MaxMailBody    = 64 << 10
)

// RenderMail renders the three parts of a mail: the subject and the text part
// with text/template, the HTML part with html/template (so that user data is
// escaped). An error is a *ValidationError naming the part ("subject",
// "html", "text") that does not parse or execute, or that would exceed the
// bounds of mail_render.go (size, steps, time).
func RenderMail(subject, html, text string, data MailData) (*RenderedMail, error) {
	var p problems
	out := &RenderedMail{}
	if s, err := execBounded("subject", subject, false, data); err != nil {
		p.add("subject", "%v", err)
	} else {
		// A subject is one header line: no line breaks can be smuggled in.
		out.Subject = strings.Join(strings.Fields(s), " ")
	}
	if s, err := execBounded("text", text, false, data); err != nil {
		p.add("text", "%v", err)
	} else {
		out.Text = s
	}
	if s, err := execBounded("html", html, true, data); err != nil {
		p.add("html", "%v", err)
	} else {
		out.HTML = s
	}
	if err := p.err(); err != nil {
		return nil, err
	}
	return out, nil
}

// validateMailTemplate checks an override before it is saved: known kind and
// language, at least one part, sizes, and every part parses and renders with
// sample data. Problems name the field.
func validateMailTemplate(t *MailTemplate) error {
	var p problems
	if !t.Kind.Valid() {
		p.add("kind", "%q is not a kind of mail", t.Kind)
	}
	if c, err := CanonicalLanguage(t.Language); err != nil {
		p.add("language", "%v", err)
	} else {
		t.Language = c
	}
	switch {
	case t.Subject == "" && t.HTML == "" && t.Text == "":
		p.add("subject", "at least one of subject, html and text is required")
	case t.Language != "" && !IsMailLanguage(t.Language):
		// No embedded template to fall back on: every part is the organisation's.
		for _, f := range [][2]string{{"subject", t.Subject}, {"html", t.HTML}, {"text", t.Text}} {
			if f, v := f[0], f[1]; strings.TrimSpace(v) == "" {
				p.add(f, "is required: roster ships no %s template in %s (it ships %s), so the organisation's must have subject, html and text",
					t.Kind, t.Language, strings.Join(MailLanguages, ", "))
			}
		}
	}
	if err := p.err(); err != nil {
		return err
	}
	return CheckMailParts(t.Kind, t.Language, t.Subject, t.HTML, t.Text)
}

// CheckMailParts checks the parts of a template of kind in lang as saving,
// previewing and sending do: sizes, every {{.Name}} a variable of the kind
// (MailVariables, the editor's list), and every part set parses and renders
// with sample data. An empty part is the built-in one's and is not checked.
// Problems name the part and, where the template packages tell it, the line.
func CheckMailParts(kind MailKind, lang, subject, html, text string) error {
	var p problems
	if len(subject) > MaxMailSubject {
		p.add("subject", "is longer than %d bytes", MaxMailSubject)
	}
	if len(html) > MaxMailBody {
		p.add("html", "is longer than %d bytes", MaxMailBody)
	}
	if len(text) > MaxMailBody {
		p.add("text", "is longer than %d bytes", MaxMailBody)
	}
	if err := p.err(); err != nil {
		return err
	}
	for _, part := range [][2]string{{"subject", subject}, {"html", html}, {"text", text}} {
		checkVariables(&p, kind, part[0], part[1])
	}
	if err := p.err(); err != nil {
		return err
	}
	_, err := RenderMail(subject, html, text, SampleMailDataFor(kind, lang))
	return err
}

// SetMailTemplate saves an organisation's override of one mail in one
// language. A template that does not parse or render is rejected here, not
// when a mail is sent; nothing is written then.
func (s *Service) SetMailTemplate(ctx context.Context, a Actor, t MailTemplate) (*MailTemplate, error) {
	if err := authorizeOwnerAdmin(a, PermMailTemplates); err != nil {
		return nil, err
	}
	if err := validateMailTemplate(&t); err != nil {
		return nil, err
	}
	t.UpdatedAt = s.now()
	err := s.store.InTx(ctx, func(tx Tx) error {
		if _, err := tx.OrgByID(ctx, t.OrgID); err != nil {
			return err
		}
		before, err := tx.MailTemplateOverride(ctx, t.OrgID, t.Kind, t.Language)
		if err != nil && !errors.Is(err, ErrNotFound) {
			return err
		}
		if err := tx.PutMailTemplate(ctx, &t); err != nil {
			return err
		}
		var b any
		if before != nil {
			b = before
		}
		return s.record(ctx, tx, a, t.OrgID, "mail_template.set", "org", t.OrgID, b, &t)
	})
	if err != nil {
		return nil, fmt.Errorf("set %s mail template (%s): %w", t.Kind, t.Language, err)
	}
	return &t, nil
}

// DeleteMailTemplate removes an override: the embedded default applies again.
func (s *Service) DeleteMailTemplate(ctx context.Context, a Actor, orgID string, kind MailKind, language string) error {
	if err := authorizeOwnerAdmin(a, PermMailTemplates); err != nil {
		return err
	}
	if c, err := CanonicalLanguage(language); err == nil {
		language = c
	}
	err := s.store.InTx(ctx, func(tx Tx) error {
		before, err := tx.MailTemplateOverride(ctx, orgID, kind, language)
		if err != nil {
			return err
		}
		if err := tx.DeleteMailTemplate(ctx, orgID, kind, language); err != nil {
			return err
		}
		return s.record(ctx, tx, a, orgID, "mail_template.delete", "org", orgID, before, nil)
	})
	if err != nil {
		return fmt.Errorf("delete %s mail template (%s): %w", kind, language, err)
	}
	return nil
}

// MailTemplates lists an organisation's overrides.
func (s *Service) MailTemplates(ctx context.Context, orgID string) ([]MailTemplate, error) {
	ts, err := read(ctx, s.store, func(tx Tx) ([]MailTemplate, error) { return tx.ListMailTemplates(ctx, orgID) })
	if ts == nil && err == nil {
		ts = []MailTemplate{} // none: an empty list, never null
	}
	return ts, err
}

// MailTemplateOverride returns an organisation's override, or nil when it
// has none.
func (s *Service) MailTemplateOverride(ctx context.Context, orgID string, kind MailKind, language string) (*MailTemplate, error) {
	if c, err := CanonicalLanguage(language); err == nil {
		language = c
	}
	var out *MailTemplate
	err := s.store.View(ctx, func(tx Tx) error {
		t, err := tx.MailTemplateOverride(ctx, orgID, kind, language)
		if errors.Is(err, ErrNotFound) {
			return nil
		}
		out = t
		return err
	})
	return out, err
}

// MailTemplateRepo stores the organisations' mail template overrides.
type MailTemplateRepo interface {
	MailTemplateOverride(ctx context.Context, orgID string, kind MailKind, language string) (*MailTemplate, error)
	ListMailTemplates(ctx context.Context, orgID string) ([]MailTemplate, error)
	PutMailTemplate(ctx context.Context, t *MailTemplate) error
	DeleteMailTemplate(ctx context.Context, orgID string, kind MailKind, language string) error
}
