package api_test

import (
	"strings"
	"testing"
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
