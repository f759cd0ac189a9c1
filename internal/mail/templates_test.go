package mail_test

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/mail"
)

// Every language ships every kind of mail, and the parts differ by language.
func TestEmbeddedTemplatesEveryLanguage(t *testing.T) {
	r, err := mail.NewRenderer()
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]string{}
	for _, lang := range core.MailLanguages {
		for _, kind := range core.MailKinds {
			m, err := r.Render(kind, lang, nil, core.SampleMailDataFor(kind, lang))
			if err != nil {
				t.Fatalf("%s/%s: %v", kind, lang, err)
			}
			link := core.SampleMailDataFor(kind, lang).Link
			if kind == core.MailGroupMessage || kind == core.MailAppMessage {
				link = "The app catalog is down on Saturday."
			}
			if m.Subject == "" || !strings.Contains(m.Text, link) || !strings.Contains(m.HTML, `lang="`+lang+`"`) {
				t.Errorf("%s/%s renders incompletely: %+v", kind, lang, m)
			}
			if other, dup := seen[m.Text]; dup {
				t.Errorf("%s/%s and %s share the text part", kind, lang, other)
			}
			seen[m.Text] = string(kind) + "/" + lang
		}
	}
}

// User data is escaped in the HTML part (html/template); the plain-text
// part carries it as text.
func TestHTMLEscapesUserData(t *testing.T) {
	e := newEnv(t)
	srv := startSMTP(t, smtpOpts{})
	evil := `<script>alert(1)</script>`
	e.invite("mallory@example.com", evil, "", "")
	// An organisation's own template gets the same escaping.
	if _, err := e.svc.SetMailTemplate(e.ctx, core.CLIActor(), core.MailTemplate{OrgID: e.orgID, Kind: core.MailInvite, Language: "de",
		HTML: `<p>Willkommen {{.FirstName}}</p><a href="{{.Link}}">los</a>`}); err != nil {
		t.Fatal(err)
	}
	e.invite("mallory2@example.com", evil, "de", "")
	e.drain(e.worker(e.sender(srv), mail.WorkerConfig{}))
	msgs := srv.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d mails", len(msgs))
	}
	for _, m := range msgs {
		p := parseMail(t, m.Raw)
		if strings.Contains(p.HTML, "<script>") || !strings.Contains(p.HTML, "&lt;script&gt;alert(1)&lt;/script&gt;") {
			t.Errorf("HTML part not escaped:\n%s", p.HTML)
		}
		if !strings.Contains(p.Text, evil) && p.Text != "" {
			t.Errorf("text part should carry the name verbatim:\n%s", p.Text)
		}
	}
}

// Each organisation can override subject and body per language; other
// organisations and other languages keep the default.
func TestTemplateOverridePerOrganisation(t *testing.T) {
	e := newEnv(t)
	srv := startSMTP(t, smtpOpts{})
	acme, err := e.svc.CreateOrg(e.ctx, core.CLIActor(), "acme", "ACME Inc")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SetMailTemplate(e.ctx, core.CLIActor(), core.MailTemplate{OrgID: acme.ID, Kind: core.MailInvite, Language: "en",
		Subject: "Welcome aboard {{.FirstName}} ({{.OrgName}})", Text: "ACME says hi. {{.Link}}\n"}); err != nil {
		t.Fatal(err)
	}
	mk := func(org, username, lang string) {
		if _, err := e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: org, Username: username, Email: username,
			FirstName: "Ida", Language: lang, Invite: core.InviteByMail}); err != nil {
			t.Fatal(err)
		}
	}
	mk(acme.ID, "ida@acme.test", "en")
	mk(acme.ID, "ida-de@acme.test", "de")
	mk(e.orgID, "ida@default.test", "en")
	e.drain(e.worker(e.sender(srv), mail.WorkerConfig{}))
	got := map[string]parsedMail{}
	for _, m := range srv.Messages() {
		got[m.To[0]] = parseMail(t, m.Raw)
	}
	cases := []struct{ to, subject, textPrefix, htmlPart string }{
		{"ida@acme.test", "Welcome aboard Ida (ACME Inc)", "ACME says hi. " + publicURL + "/invite/", "Accept the invitation"},
		{"ida-de@acme.test", "ACME Inc lädt Sie zu roster ein", "Hallo Ida,", "Einladung annehmen"},
		{"ida@default.test", "Default invites you to roster", "Hello Ida,", "Accept the invitation"},
	}
	for _, tc := range cases {
		p, ok := got[tc.to]
		if !ok {
			t.Fatalf("no mail for %s", tc.to)
		}
		if p.Subject != tc.subject || !strings.HasPrefix(p.Text, tc.textPrefix) || !strings.Contains(p.HTML, tc.htmlPart) {
			t.Errorf("%s: subject %q, text %q…, html has %q: %v", tc.to, p.Subject, p.Text[:min(len(p.Text), 30)], tc.htmlPart, strings.Contains(p.HTML, tc.htmlPart))
		}
	}
}

// A template that does not parse or render is refused when saved, naming
// the field, and nothing is stored.
func TestSetMailTemplateRejectsBadInput(t *testing.T) {
	cases := []struct {
		name  string
		tpl   core.MailTemplate
		field string
	}{
		{"subject does not parse", core.MailTemplate{Language: "en", Subject: "Hi {{.FirstName"}, "subject"},
		{"html does not parse", core.MailTemplate{Language: "en", HTML: "<p>{{if}}</p>"}, "html"},
		{"text names an unknown field", core.MailTemplate{Language: "en", Text: "{{.Password}}"}, "text"},
		{"unknown language", core.MailTemplate{Language: "xx", Subject: "Hi"}, "language"},
		{"unknown kind", core.MailTemplate{Kind: "spam", Language: "en", Subject: "Hi"}, "kind"},
		{"nothing to override", core.MailTemplate{Language: "en"}, "subject"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			tc.tpl.OrgID = e.orgID
			if tc.tpl.Kind == "" {
				tc.tpl.Kind = core.MailInvite
			}
			_, err := e.svc.SetMailTemplate(e.ctx, core.CLIActor(), tc.tpl)
			var ve *core.ValidationError
			if !errors.As(err, &ve) || ve.Field() != tc.field {
				t.Fatalf("err %v, want a validation error on %s", err, tc.field)
			}
			if ts, err := e.svc.MailTemplates(e.ctx, e.orgID); err != nil || len(ts) != 0 {
				t.Fatalf("stored %v (%v) after a refused template", ts, err)
			}
		})
	}
	t.Run("members may not edit templates", func(t *testing.T) {
		e := newEnv(t)
		_, err := e.svc.SetMailTemplate(e.ctx, core.Actor{Kind: core.ActorAdmin, Role: core.RoleMember},
			core.MailTemplate{OrgID: e.orgID, Kind: core.MailInvite, Language: "en", Subject: "x"})
		if !errors.Is(err, core.ErrForbidden) {
			t.Fatalf("err %v, want forbidden", err)
		}
	})
}

// The preview handler over a real listener: defaults, the organisation's
// override, a draft, and bad input as a 400 naming the field.
func TestPreviewHandler(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.SetMailTemplate(e.ctx, core.CLIActor(), core.MailTemplate{OrgID: e.orgID, Kind: core.MailInvite, Language: "fr",
		Subject: "Salut {{.FirstName}} de {{.OrgName}}"}); err != nil {
		t.Fatal(err)
	}
	h := mail.NewPreviewHandler(e.r, e.svc, func(r *http.Request) (string, error) { return r.Header.Get("X-Test-Org"), nil })
	ts := httptest.NewServer(h)
	defer ts.Close()
	do := func(method, query, org, body string) (int, string, string) {
		req, _ := http.NewRequest(method, ts.URL+"/?"+query, strings.NewReader(body))
		if org != "" {
			req.Header.Set("X-Test-Org", org)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header.Get("Content-Type"), string(b)
	}
	cases := []struct {
		name, method, query, org, body string
		status                         int
		want                           []string
	}{
		{"default en", "GET", "kind=invite&language=en", "", "", 200, []string{`"subject":"Example Corp invites you to roster"`, `"overridden":false`}},
		{"org override fr", "GET", "language=fr", e.orgID, "", 200, []string{`"subject":"Salut Ada de Example Corp"`, `"overridden":true`, "Bonjour Ada"}},
		{"html format", "GET", "language=de&format=html", "", "", 200, []string{"<!DOCTYPE html>", "Einladung annehmen"}},
		{"text format", "GET", "language=es&format=text", "", "", 200, []string{"Hola Ada:"}},
		{"draft", "POST", "", "", `{"language":"en","html":"<b>{{.FirstName}}</b>"}`, 200, []string{`\u003cb\u003eAda\u003c/b\u003e`}},
		{"draft that does not parse", "POST", "", "", `{"language":"en","html":"<b>{{.FirstName</b>"}`, 400, []string{`"field":"html"`, `"code":"invalid"`}},
		{"draft with an unknown variable", "POST", "", "", `{"language":"en","text":"Hi\n{{.Password}}"}`, 400, []string{`"field":"text"`, `text: line 2: unknown variable {{.Password}}; known: FirstName, LastName`}},
		{"unknown language", "GET", "language=" + url.QueryEscape("tlh"), "", "", 400, []string{`"field":"language"`}},
		{"unknown kind", "GET", "kind=spam", "", "", 400, []string{`"field":"kind"`}},
		{"wrong method", "DELETE", "", "", "", 405, []string{"method_not_allowed"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			status, _, body := do(tc.method, tc.query, tc.org, tc.body)
			if status != tc.status {
				t.Fatalf("status %d, want %d: %s", status, tc.status, body)
			}
			for _, w := range tc.want {
				if !strings.Contains(body, w) {
					t.Errorf("body lacks %q:\n%s", w, body)
				}
			}
			if status == 200 && strings.HasPrefix(body, "{") {
				var p mail.Preview
				if err := json.Unmarshal([]byte(body), &p); err != nil {
					t.Fatal(err)
				}
			}
		})
	}
}
