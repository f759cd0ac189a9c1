package api_test

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/mail"
)

func TestInvitesAndResetsAreQueuedThroughTheAPI(t *testing.T) {
	f := newFixture(t, 100)
	c := f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": "mia@example.com", "email": "mia@example.com", "first_name": "Mia", "language": "de"})
	if c.code != 201 || c.body["invite_link"] != nil || c.body["invite_status"] != "pending" {
		t.Fatalf("create with mail: %d %s", c.code, c.raw)
	}
	id := c.body["id"].(string)
	m := f.do(nil, "GET", "/api/v1/users/"+id+"/mail", f.owner, nil)
	mails := m.body["mail"].([]any)
	if m.code != 200 || len(mails) != 1 || mails[0].(map[string]any)["language"] != "de" || mails[0].(map[string]any)["state"] != "queued" || strings.Contains(m.raw, "rinv_") {
		t.Fatalf("queued invite: %d %s", m.code, m.raw)
	}
	r := f.do(nil, "POST", "/api/v1/users/"+id+"/resend-invite", f.owner, map[string]any{"language": "fr"})
	if r.code != 200 || r.body["invite_link"] != nil {
		t.Fatalf("resend by mail: %d %s", r.code, r.raw)
	}
	mails = f.do(nil, "GET", "/api/v1/users/"+id+"/mail", f.owner, nil).body["mail"].([]any)
	states := []string{}
	for _, x := range mails {
		states = append(states, x.(map[string]any)["state"].(string)+"/"+x.(map[string]any)["language"].(string))
	}
	if strings.Join(states, ",") != "cancelled/de,queued/fr" {
		t.Fatalf("after resend in fr: %v", states)
	}
	if r := f.do(nil, "POST", "/api/v1/users/"+id+"/resend-invite", f.owner, map[string]any{"language": "tlh"}); r.code != 400 || r.errField() != "language" {
		t.Fatalf("resend in Klingon: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "POST", "/api/v1/users", f.owner, map[string]any{"username": "x@example.com", "email": "x@example.com", "invite_language": "xx"}); r.code != 400 || r.errField() != "invite_language" || !strings.Contains(r.raw, `invite_language: \"xx\"`) {
		t.Fatalf("unknown invite language: %d %s", r.code, r.raw)
	}

	// Forgot password: the same answer for a real account and for nobody.
	known := f.do(nil, "POST", "/api/v1/auth/password-reset", "", map[string]any{"login": "owner@example.com"})
	unknown := f.do(nil, "POST", "/api/v1/auth/password-reset", "", map[string]any{"login": "ghost@example.com"})
	if known.code != 202 || unknown.code != 202 || known.raw != unknown.raw {
		t.Fatalf("reset answers differ: %d %s / %d %s", known.code, known.raw, unknown.code, unknown.raw)
	}
	if _, err := f.svc.ProcessPasswordResetRequests(f.ctx); err != nil { // the mail worker's part
		t.Fatal(err)
	}
	me := f.do(nil, "GET", "/api/v1/me", f.owner, nil)
	om := f.do(nil, "GET", "/api/v1/users/"+me.body["id"].(string)+"/mail", f.owner, nil).body["mail"].([]any)
	if len(om) != 1 || om[0].(map[string]any)["kind"] != "password_reset" {
		t.Fatalf("owner's reset mail: %v", om)
	}

	// Templates: a broken override is refused naming the field; a good one shows in the preview.
	if r := f.do(nil, "PUT", "/api/v1/org/mail-templates/invite/fr", f.owner, map[string]any{"subject": "Bonjour {{.FirstName"}); r.code != 400 || r.errField() != "subject" {
		t.Fatalf("broken template: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "PUT", "/api/v1/org/mail-templates/invite/fr", f.owner, map[string]any{"subject": "Bienvenue chez nous, {{.FirstName}}"}); r.code != 200 {
		t.Fatalf("template: %d %s", r.code, r.raw)
	}
	p := f.do(nil, "GET", "/api/v1/org/mail-templates/preview?kind=invite&language=fr", f.owner, nil)
	if p.code != 200 || !strings.Contains(p.raw, "Bienvenue chez nous, Ada") || p.body["overridden"] != true {
		t.Fatalf("preview: %d %s", p.code, p.raw)
	}
	if r := f.do(nil, "DELETE", "/api/v1/org/mail-templates/invite/fr", f.owner, nil); r.code != 204 {
		t.Fatalf("delete template: %d", r.code)
	}
	if p := f.do(nil, "GET", "/api/v1/org/mail-templates/preview?kind=invite&language=fr", f.owner, nil); p.body["overridden"] != false {
		t.Fatalf("preview after delete: %s", p.raw)
	}
}

// An organisation without template overrides lists an empty list, not null:
// clients that iterate the list must not have to test for null.
func TestMailTemplateListIsNeverNull(t *testing.T) {
	f := newFixture(t, 100)
	r := f.do(nil, "GET", "/api/v1/org/mail-templates", f.owner, nil)
	if r.code != 200 || !strings.Contains(r.raw, `"templates":[]`) {
		t.Fatalf("template list without overrides: %d %s", r.code, r.raw)
	}
}

// The template editor's endpoints: the built-in text of a kind in a
// language (the fallback's, named, for one roster does not ship), the
// variables the checks use, and a draft or a save that is wrong refused in
// words naming the part, the line and the variable, saving nothing.
func TestMailTemplateEditorEndpoints(t *testing.T) {
	f := newFixture(t, 100)
	r, err := mail.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ kind, lang, from string }{
		{"invite", "de", "de"}, {"password_reset", "fr", "fr"}, {"app_message", "es", "es"}, {"group_message", "en", "en"},
		{"invite", "pt-br", "en"}, {"invite", "de-AT", "de"},
	} {
		got := f.do(nil, "GET", "/api/v1/org/mail-templates/builtin/"+tc.kind+"/"+tc.lang, f.owner, nil)
		want, _ := r.Builtin(core.MailKind(tc.kind), tc.lang)
		if got.code != 200 || got.body["from_language"] != tc.from || got.body["subject"] != want.Subject || got.body["html"] != want.HTML ||
			got.body["text"] != want.Text || want.Language != tc.from || got.body["kind"] != tc.kind {
			t.Errorf("built-in %s/%s: %d %.300s", tc.kind, tc.lang, got.code, got.raw)
		}
	}
	if got := f.do(nil, "GET", "/api/v1/org/mail-templates/builtin/invite/pt-br", f.owner, nil); got.body["language"] != "pt-BR" {
		t.Errorf("the language asked for, canonical: %v", got.body["language"])
	}
	de := f.do(nil, "GET", "/api/v1/org/mail-templates/builtin/invite/de", f.owner, nil)
	if !strings.Contains(de.body["html"].(string), "Einladung annehmen") || !strings.Contains(de.body["html"].(string), "background: #2d5fd3") {
		t.Errorf("German built-in invite: %s", de.body["html"])
	}
	// An organisation's own template does not change the built-in one.
	if r := f.do(nil, "PUT", "/api/v1/org/mail-templates/invite/de", f.owner, map[string]any{"subject": "Eigener Betreff"}); r.code != 200 {
		t.Fatalf("save: %d %s", r.code, r.raw)
	}
	if again := f.do(nil, "GET", "/api/v1/org/mail-templates/builtin/invite/de", f.owner, nil); again.raw != de.raw {
		t.Errorf("the built-in template changed with the organisation's: %s", again.raw)
	}
	for _, tc := range []struct{ path, field string }{
		{"spam/en", "kind"}, {"invite/not a language", "language"},
	} {
		if got := f.do(nil, "GET", "/api/v1/org/mail-templates/builtin/"+strings.ReplaceAll(tc.path, " ", "%20"), f.owner, nil); got.code != 400 || got.errField() != tc.field {
			t.Errorf("built-in %s: %d %s, want a 400 naming %s", tc.path, got.code, got.raw, tc.field)
		}
	}

	// The variables listed are the ones the checks accept: each one of a
	// kind saves, and one of another kind only is refused with the list.
	vars := f.do(nil, "GET", "/api/v1/org/mail-templates/variables", f.owner, nil).body["kinds"].(map[string]any)
	var names []string
	for _, v := range vars["password_reset"].([]any) {
		name := v.(map[string]any)["name"].(string)
		names = append(names, name)
		if r := f.do(nil, "PUT", "/api/v1/org/mail-templates/password_reset/en", f.owner, map[string]any{"text": "{{.Link}} {{." + name + "}}"}); r.code != 200 {
			t.Errorf("listed variable %s refused: %d %s", name, r.code, r.raw)
		}
	}
	msg := "text: line 2: unknown variable {{.GroupName}}; known: " + strings.Join(names, ", ")
	bad := map[string]any{"kind": "password_reset", "language": "en", "text": "{{.Link}}\n{{.GroupName}}"}
	p := f.do(nil, "POST", "/api/v1/org/mail-templates/preview?format=html", f.owner, bad)
	s := f.do(nil, "PUT", "/api/v1/org/mail-templates/password_reset/en", f.owner, map[string]any{"text": bad["text"]})
	for name, got := range map[string]resp{"preview": p, "save": s} {
		if got.code != 400 || got.errField() != "text" || got.body["error"].(map[string]any)["message"] != msg {
			t.Errorf("%s of an unknown variable: %d %s, want 400 %q", name, got.code, got.raw, msg)
		}
	}
	parse := f.do(nil, "PUT", "/api/v1/org/mail-templates/invite/en", f.owner, map[string]any{"html": "<p>\n\n{{if .FirstName}}</p>"})
	if m := parse.body["error"].(map[string]any)["message"]; parse.code != 400 || !strings.HasPrefix(m.(string), "html: line 3: does not parse: ") {
		t.Errorf("a part that does not parse: %d %s", parse.code, parse.raw)
	}
	if ts := f.do(nil, "GET", "/api/v1/org/mail-templates", f.owner, nil).body["templates"].([]any); len(ts) != 2 {
		t.Errorf("templates after the refused saves: %v", ts)
	}
}
