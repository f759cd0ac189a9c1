package mail_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/mail"
)

// styledTemplate is an organisation's invite with what mail HTML is made
// of: a <style> block, inline styles and a button that is a styled link.
// Its variables are those whose sample values (Ada Lovelace of Example
// Corp) a real user can have, so preview and mail must be the same bytes.
const styledTemplate = `<!DOCTYPE html>
<html lang="{{.Language}}">
<head><meta charset="utf-8"><style>.foot { font-size: 12px; color: #667; }</style></head>
<body style="font-family: Georgia, serif; background: #f4f1ea; padding: 24px;">
<h1 style="color: #7a2e0e; margin: 0 0 12px;">Welcome, {{.FirstName}} {{.LastName}}</h1>
<p>{{.OrgName}} has an account for <strong>{{.Username}}</strong> ({{.Email}}) — “{{.FullName}}”.</p>
<p><a href="https://apps.example.com/start" style="display: inline-block; padding: 12px 20px; background: #2d5fd3; color: #ffffff; text-decoration: none; border-radius: 6px;">Get started</a></p>
<p class="foot">Sent by {{.OrgName}} &amp; roster.</p>
</body>
</html>
`

// The preview is the mail: the HTML the preview handler answers (GET for
// the saved template, POST with ?format=html for the same draft) is byte for
// byte the HTML part the real SMTP server receives for a user with the
// sample values (its lines in CRLF as on the wire), and so are the subject
// and the text part. Inline styles,
// the <style> block and the styled button survive as written.
func TestPreviewIsWhatIsSent(t *testing.T) {
	e := newEnv(t)
	srv := startSMTP(t, smtpOpts{})
	org, err := e.svc.CreateOrg(e.ctx, core.CLIActor(), "example", "Example Corp")
	if err != nil {
		t.Fatal(err)
	}
	tpl := core.MailTemplate{OrgID: org.ID, Kind: core.MailInvite, Language: "en",
		Subject: "{{.OrgName}} → {{.FullName}}", HTML: styledTemplate, Text: "Hello {{.FirstName}},\n\n{{.OrgName}} has an account for {{.Username}}.\n"}
	if _, err := e.svc.SetMailTemplate(e.ctx, core.CLIActor(), tpl); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: org.ID, Username: "ada@example.com", Email: "ada@example.com",
		FirstName: "Ada", LastName: "Lovelace", Language: "en", Invite: core.InviteByMail}); err != nil {
		t.Fatal(err)
	}
	e.drain(e.worker(e.sender(srv), mail.WorkerConfig{}))
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d mails", len(msgs))
	}
	sent := parseMail(t, msgs[0].Raw)
	// On the wire a text part's lines end in CRLF (RFC 5322); a mail
	// client reads them as line breaks. Nothing else may differ.
	sent.HTML = strings.ReplaceAll(sent.HTML, "\r\n", "\n")

	ts := httptest.NewServer(mail.NewPreviewHandler(e.r, e.svc, func(*http.Request) (string, error) { return org.ID, nil }))
	defer ts.Close()
	get := func(method, query, body string) (string, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, ts.URL+"/?"+query, strings.NewReader(body))
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != 200 {
			t.Fatalf("%s %s: %d %s", method, query, res.StatusCode, b)
		}
		return string(b), res.Header
	}
	draft, _ := json.Marshal(map[string]string{"kind": "invite", "language": "en", "subject": tpl.Subject, "html": tpl.HTML, "text": tpl.Text})
	savedHTML, hdr := get("GET", "kind=invite&language=en&format=html", "")
	draftHTML, _ := get("POST", "format=html", string(draft))
	for name, got := range map[string]string{"saved template (GET)": savedHTML, "draft (POST)": draftHTML} {
		if got != sent.HTML {
			t.Errorf("%s: the preview's HTML differs from the mail's HTML part\npreview:\n%q\nmail:\n%q", name, got, sent.HTML)
		}
	}
	for _, want := range []string{
		`style="display: inline-block; padding: 12px 20px; background: #2d5fd3; color: #ffffff; text-decoration: none; border-radius: 6px;"`,
		`<style>.foot { font-size: 12px; color: #667; }</style>`,
		`<h1 style="color: #7a2e0e; margin: 0 0 12px;">Welcome, Ada Lovelace</h1>`,
	} {
		if !strings.Contains(sent.HTML, want) {
			t.Errorf("the mail lost %s:\n%s", want, sent.HTML)
		}
	}
	if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "sandbox") || !strings.Contains(csp, "style-src 'unsafe-inline'") || strings.Contains(csp, "script-src") {
		t.Errorf("the HTML preview's CSP %q", csp)
	}
	var p mail.Preview
	js, _ := get("GET", "kind=invite&language=en", "")
	if err := json.Unmarshal([]byte(js), &p); err != nil {
		t.Fatal(err)
	}
	if p.Subject != sent.Subject || p.Text != sent.Text || p.HTML != sent.HTML || !p.Overridden {
		t.Errorf("JSON preview %+v\ndiffers from the mail: subject %q, text %q", p, sent.Subject, sent.Text)
	}

}
