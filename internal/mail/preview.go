package mail

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/rosterhq/roster/core"
)

// TemplateSource is what the preview needs of the core service.
type TemplateSource interface {
	MailTemplateOverride(ctx context.Context, orgID string, kind core.MailKind, language string) (*core.MailTemplate, error)
}

var _ TemplateSource = (*core.Service)(nil)

// OrgOf tells which organisation a request acts for ("" for none: the
// embedded defaults). The admin API passes the organisation of the token.
type OrgOf func(r *http.Request) (string, error)

// PreviewRequest is the body of a POST: a draft to render before saving.
type PreviewRequest struct {
	Kind     core.MailKind `json:"kind"`
	Language string        `json:"language"`
	Subject  string        `json:"subject"`
	HTML     string        `json:"html"`
	Text     string        `json:"text"`
}

// Preview is a template rendered with sample data.
type Preview struct {
	Kind       core.MailKind `json:"kind"`
	Language   string        `json:"language"`
	Overridden bool          `json:"overridden"` // the organisation's own text was used
	core.RenderedMail
}

// NewPreviewHandler renders a mail template with sample data (Ada Lovelace
// of Example Corp, a link that is not a token).
//
//	GET  ?kind=invite&language=de[&format=json|html|text]  the template in force
//	     for the organisation (its override over the embedded default)
//	POST {"kind","language","subject","html","text"}        a draft, before saving
//
// A bad kind, language or a draft that does not parse answers 400 with
// {"error":{"code":"invalid","message","field"}}. Authorization is the
// mounting API's job.
func NewPreviewHandler(r *Renderer, src TemplateSource, orgOf OrgOf) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		p, err := preview(r, src, orgOf, req)
		if err != nil {
			writePreviewError(w, err)
			return
		}
		w.Header().Set("Cache-Control", "no-store")
		switch req.URL.Query().Get("format") {
		case "html":
			// Shown in an iframe: no script, no outside resource.
			w.Header().Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox")
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			_, _ = w.Write([]byte(p.HTML))
		case "text":
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			_, _ = w.Write([]byte(p.Text))
		default:
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(p)
		}
	})
}

func preview(r *Renderer, src TemplateSource, orgOf OrgOf, req *http.Request) (*Preview, error) {
	var in PreviewRequest
	switch req.Method {
	case http.MethodGet, http.MethodHead:
		q := req.URL.Query()
		in.Kind, in.Language = core.MailKind(q.Get("kind")), q.Get("language")
	case http.MethodPost:
		if err := json.NewDecoder(http.MaxBytesReader(nil, req.Body, 4*core.MaxMailBody)).Decode(&in); err != nil {
			var mb *http.MaxBytesError
			if errors.As(err, &mb) {
				return nil, mb
			}
			return nil, fieldErr("body", "is not a JSON preview request: %v", err)
		}
	default:
		return nil, errMethod
	}
	if in.Kind == "" {
		in.Kind = core.MailInvite
	}
	if in.Language == "" {
		in.Language = core.DefaultMailLanguage
	}
	if !in.Kind.Valid() {
		return nil, fieldErr("kind", "%q is not a kind of mail", in.Kind)
	}
	lang, err := core.CanonicalLanguage(in.Language)
	if err != nil {
		return nil, fieldErr("language", "%v", err)
	}
	in.Language = lang
	out := &Preview{Kind: in.Kind, Language: in.Language}
	var override *core.MailTemplate
	if req.Method == http.MethodPost {
		// The same checks as saving (the variables of the kind, lines named).
		if err := core.CheckMailParts(in.Kind, in.Language, in.Subject, in.HTML, in.Text); err != nil {
			return nil, err
		}
		override = &core.MailTemplate{Subject: in.Subject, HTML: in.HTML, Text: in.Text}
	} else if orgOf != nil {
		org, err := orgOf(req)
		if err != nil {
			return nil, err
		}
		if org != "" {
			if override, err = src.MailTemplateOverride(req.Context(), org, in.Kind, in.Language); err != nil {
				return nil, err
			}
		}
	}
	out.Overridden = override != nil && (override.Subject != "" || override.HTML != "" || override.Text != "")
	if !core.IsMailLanguage(in.Language) && !out.Overridden {
		return nil, fieldErr("language", "%q has no %s template in this organisation: roster ships %s; save one first", in.Language, in.Kind, strings.Join(core.MailLanguages, ", "))
	}
	m, err := r.Render(in.Kind, in.Language, override, core.SampleMailDataFor(in.Kind, in.Language))
	if err != nil {
		return nil, err
	}
	out.RenderedMail = *m
	return out, nil
}

var errMethod = errors.New("method not allowed")

func fieldErr(field, format string, args ...any) error {
	return &core.ValidationError{Problems: []core.FieldError{{Field: field, Message: fmt.Sprintf(format, args...)}}}
}

func writePreviewError(w http.ResponseWriter, err error) {
	code, status, field := "internal", http.StatusInternalServerError, ""
	msg := "internal error"
	var ve *core.ValidationError
	var mb *http.MaxBytesError
	switch {
	case errors.As(err, &mb):
		code, status, msg = "too_large", http.StatusRequestEntityTooLarge, fmt.Sprintf("the body is over %d bytes", mb.Limit)
	case errors.As(err, &ve):
		code, status, field, msg = "invalid", http.StatusBadRequest, ve.Field(), ve.Error()
	case errors.Is(err, errMethod):
		code, status, msg = "method_not_allowed", http.StatusMethodNotAllowed, err.Error()
	case errors.Is(err, core.ErrNotFound):
		code, status, msg = "not_found", http.StatusNotFound, err.Error()
	case errors.Is(err, core.ErrForbidden):
		code, status, msg = "forbidden", http.StatusForbidden, err.Error()
	case errors.Is(err, core.ErrUnauthorized):
		code, status, msg = "unauthorized", http.StatusUnauthorized, err.Error()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]string{"code": code, "message": msg, "field": field}})
}
