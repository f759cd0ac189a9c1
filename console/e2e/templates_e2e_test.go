package e2e_test

import (
	"bytes"
	"encoding/json"
	"image/png"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// styledInvite is an organisation's invite as mail HTML is written: a
// <style> block, inline styles, a button that is a styled link, and the
// scripts a careless paste brings along, which must never run in the console.
const styledInvite = `<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><style>.foot { font-size: 12px; color: #667; }</style></head>
<body style="font-family: Georgia, serif; background: #f4f1ea; margin: 0; padding: 24px;">
<h1 style="color: #7a2e0e; margin: 0 0 12px;">Welcome, {{.FirstName}}</h1>
<p><a href="{{.Link}}" style="display: inline-block; padding: 14px 28px; background: #2d5fd3; color: #ffffff; text-decoration: none; border-radius: 6px;">Accept the invitation</a></p>
<p class="foot">{{.OrgName}}</p>
<script>parent.postMessage('script ran', '*'); top.document.title = 'owned';</script>
<img src="data:," alt="" onerror="parent.postMessage('handler ran', '*')" onload="parent.postMessage('handler ran', '*')">
</body>
</html>
`

// TestConsoleMailTemplates: the editor starts from the built-in template of
// the kind and language, lists the server's variables and inserts one at the
// cursor, shows a refusal in words beside the editor and clears it with the
// next action, previews the mail as it is sent (the HTML the server
// renders, inline styles applied, in a sandboxed frame where no script
// runs), saves only what differs from the built-in text, and resets to it.
func TestConsoleMailTemplates(t *testing.T) {
	b := newBrowser(t)
	d, api := uxSetup(t)
	builtin := func(kind, lang string) map[string]any {
		return d.call(t, "GET", "/api/v1/org/mail-templates/builtin/"+kind+"/"+lang, api, "")
	}
	value := func(sel string) string {
		t.Helper()
		var s string
		b.eval(`document.querySelector(`+jsQuote(sel)+`).value`, &s)
		return s
	}
	text := func(sel string) string {
		t.Helper()
		var s string
		b.eval(`(document.querySelector(`+jsQuote(sel)+`) || { textContent: '' }).textContent`, &s)
		return s
	}
	setField := func(sel, v string) {
		t.Helper()
		b.do("set "+sel, chromedp.Evaluate[chromedp.Void](`(() => { const e = document.querySelector(`+jsQuote(sel)+`); e.value = `+jsQuote(v)+`; e.dispatchEvent(new Event('input')); })()`))
	}

	b.signIn(d.base, "olive@example.com")
	b.do("settings", chromedp.Navigate(d.base+"/console/#/settings"), chromedp.WaitVisible(css("#mail-templates")))

	// ---- 1. the built-in template of the kind and language.
	en := builtin("invite", "en")
	b.wait("the built-in English invite", `document.querySelector('#tpl-html').value === `+jsQuote(en["html"].(string)))
	if value("#tpl-subject") != en["subject"] || value("#tpl-text") != en["text"] {
		t.Errorf("the editor's subject %q and text do not start from the built-in invite (%q)", value("#tpl-subject"), en["subject"])
	}
	if s := text("#tpl-state"); !strings.Contains(s, "built-in template is in force") {
		t.Errorf("state %q", s)
	}
	b.setValue("#tpl-language", "de")
	de := builtin("invite", "de")
	b.wait("the built-in German invite", `document.querySelector('#tpl-html').value === `+jsQuote(de["html"].(string))+` && document.querySelector('#tpl-subject').value === `+jsQuote(de["subject"].(string)))
	b.wait("its preview", `document.querySelector('#tpl-preview-subject').textContent.includes('Example Corp') && document.querySelector('#tpl-preview-frame').srcdoc.includes('Einladung annehmen')`)
	b.setValue("#tpl-kind", "password_reset")
	deReset := builtin("password_reset", "de")
	b.wait("the built-in German reset", `document.querySelector('#tpl-text').value === `+jsQuote(deReset["text"].(string)))

	// ---- 2. the variables are the server's, inserted at the cursor.
	vars := d.call(t, "GET", "/api/v1/org/mail-templates/variables", api, "")["kinds"].(map[string]any)
	shown := func() string {
		var names []string
		b.eval(`[...document.querySelectorAll('#tpl-variables [data-variable]')].map((e) => e.dataset.variable)`, &names)
		return strings.Join(names, ",")
	}
	names := func(kind string) string {
		var out []string
		for _, v := range vars[kind].([]any) {
			out = append(out, v.(map[string]any)["name"].(string))
		}
		return strings.Join(out, ",")
	}
	b.wait("the reset mail's variables", `document.querySelector('#tpl-variables [data-variable=Link]')`)
	if got := shown(); got != names("password_reset") {
		t.Errorf("variables shown %q, want the server's %q", got, names("password_reset"))
	}
	b.setValue("#tpl-kind", "group_message")
	b.wait("the group message's variables", `document.querySelector('#tpl-variables [data-variable=GroupName]') && !document.querySelector('#tpl-variables [data-variable=Link]')`)
	if got := shown(); got != names("group_message") {
		t.Errorf("variables shown %q, want the server's %q", got, names("group_message"))
	}
	b.setValue("#tpl-kind", "invite")
	b.setValue("#tpl-language", "en")
	b.wait("the English invite again", `document.querySelector('#tpl-html').value === `+jsQuote(en["html"].(string)))
	setField("#tpl-subject", "Hello , welcome")
	b.do("cursor after Hello", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#tpl-subject'); s.focus(); s.setSelectionRange(6, 6); })()`),
		chromedp.Click(css(`#tpl-variables [data-variable=FirstName]`)))
	if got := value("#tpl-subject"); got != "Hello {{.FirstName}}, welcome" {
		t.Errorf("after inserting FirstName the subject is %q", got)
	}
	b.do("into the text part", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#tpl-text'); s.focus(); s.setSelectionRange(0, 0); })()`),
		chromedp.Click(css(`#tpl-variables [data-variable=OrgName]`)))
	if got := value("#tpl-text"); !strings.HasPrefix(got, "{{.OrgName}}Hello {{.FirstName}},") {
		t.Errorf("after inserting OrgName the text starts %q", got[:min(40, len(got))])
	}

	// ---- 3. a refusal in words beside the editor, cleared by the next action.
	setField("#tpl-html", "<p>one</p>\n<p>two</p>\n<p>{{.Foo}}</p>")
	b.do("preview the broken draft", chromedp.Click(css("#tpl-preview-button")))
	b.wait("the error", `!document.querySelector('#mail-templates .form-error').hidden`)
	want := "html: line 3: unknown variable {{.Foo}}; known: " + strings.ReplaceAll(names("invite"), ",", ", ")
	if got := text("#mail-templates .form-error"); got != want {
		t.Errorf("preview error %q, want %q", got, want)
	}
	var invalid, inEditor bool
	b.eval(`document.querySelector('#tpl-html').getAttribute('aria-invalid') === 'true'`, &invalid)
	b.eval(`document.querySelector('.tpl-fields').contains(document.querySelector('#mail-templates .form-error'))`, &inEditor)
	if !invalid || !inEditor {
		t.Errorf("the HTML field is marked invalid: %v; the message is beside the fields: %v", invalid, inEditor)
	}
	if !strings.Contains(text("#tpl-preview"), "No preview") {
		t.Errorf("a broken draft keeps showing a preview: %q", text("#tpl-preview"))
	}
	b.do("save the broken draft", chromedp.Click(css("#tpl-save")))
	b.wait("the save's error", `document.querySelector('#mail-templates .form-error').textContent.startsWith('html: line 3: unknown variable {{.Foo}}')`)
	setField("#tpl-html", "<p>\n{{if .FirstName}}</p>")
	b.do("preview a draft that does not parse", chromedp.Click(css("#tpl-preview-button")))
	b.wait("the parse error", `document.querySelector('#mail-templates .form-error').textContent.startsWith('html: line 2: does not parse:')`)
	if n := len(d.call(t, "GET", "/api/v1/org/mail-templates", api, "")["templates"].([]any)); n != 0 {
		t.Fatalf("%d templates saved after refusals", n)
	}

	// ---- 4. the preview is the mail: the server's HTML, styles applied,
	// in a frame without scripts.
	setField("#tpl-html", styledInvite)
	b.do("listen for messages", chromedp.Evaluate[chromedp.Void](`window.__msgs = []; addEventListener('message', (e) => window.__msgs.push(String(e.data)))`))
	b.do("preview", chromedp.Click(css("#tpl-preview-button")))
	b.wait("the styled preview", `document.querySelector('#mail-templates .form-error').hidden && (document.querySelector('#tpl-preview-frame') || {}).srcdoc && document.querySelector('#tpl-preview-frame').srcdoc.includes('Welcome, Ada')`)
	draft, _ := json.Marshal(map[string]string{"kind": "invite", "language": "en", "subject": value("#tpl-subject"), "html": styledInvite, "text": value("#tpl-text")})
	server := d.call(t, "POST", "/api/v1/org/mail-templates/preview", api, string(draft))
	var srcdoc, sandbox, previewText string
	var hasSandbox bool
	b.eval(`document.querySelector('#tpl-preview-frame').srcdoc`, &srcdoc)
	b.eval(`document.querySelector('#tpl-preview-frame').hasAttribute('sandbox')`, &hasSandbox)
	b.eval(`document.querySelector('#tpl-preview-frame').getAttribute('sandbox')`, &sandbox)
	b.eval(`document.querySelector('#tpl-preview-text').textContent`, &previewText)
	if srcdoc != server["html"] || previewText != server["text"] || text("#tpl-preview-subject") != server["subject"] {
		t.Errorf("the console's preview is not the server's rendering:\n%s\n---\n%s", srcdoc, server["html"])
	}
	if !hasSandbox || sandbox != "" {
		t.Errorf("the preview frame's sandbox attribute is %q (present %v), want sandbox=\"\"", sandbox, hasSandbox)
	}
	if !strings.Contains(srcdoc, `<script>parent.postMessage`) {
		t.Fatalf("the script is not in the preview, so nothing is tested: %s", srcdoc)
	}
	// The button's background (#2d5fd3, an inline style) is painted: the
	// styles are applied, not just present in the markup.
	// The frame loads and paints on its own time: look again until it
	// shows, for up to 15 s.
	var blue, beige int
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(250 * time.Millisecond) {
		shot, err := chromedp.Run(b.ctx, chromedp.Screenshot(css("#tpl-preview-frame")))
		if err != nil {
			b.fail("screenshot the preview", err)
		}
		if blue, beige = colourCount(t, shot, 0x2d, 0x5f, 0xd3), colourCount(t, shot, 0xf4, 0xf1, 0xea); blue >= 2000 && beige >= 20000 {
			break
		}
	}
	if blue < 2000 || beige < 20000 {
		t.Errorf("the preview paints %d pixels of the button's #2d5fd3 and %d of the body's #f4f1ea: its inline styles are not applied", blue, beige)
	}
	var msgs []string
	var title string
	b.eval(`window.__msgs`, &msgs)
	b.eval(`document.title`, &title)
	if len(msgs) != 0 || title == "owned" {
		t.Errorf("a template's script ran in the console: messages %v, title %q", msgs, title)
	}
	art := artifacts(t)
	b.screenshot(art, "templates-preview.png")

	// ---- 5. save: only what differs from the built-in text is stored.
	b.do("save", chromedp.Click(css("#tpl-save")))
	b.wait("saved", `document.querySelector('#tpl-state').textContent.includes("organisation's own")`)
	saved := d.call(t, "GET", "/api/v1/org/mail-templates", api, "")["templates"].([]any)
	if len(saved) != 1 {
		t.Fatalf("templates %v", saved)
	}
	s := saved[0].(map[string]any)
	if s["html"] != styledInvite || s["subject"] != "Hello {{.FirstName}}, welcome" || !strings.HasPrefix(s["text"].(string), "{{.OrgName}}") {
		t.Errorf("saved %v", s)
	}
	// Another kind: only the subject changed, so only the subject is saved.
	b.setValue("#tpl-kind", "password_reset")
	reset := builtin("password_reset", "en")
	b.wait("the built-in reset", `document.querySelector('#tpl-html').value === `+jsQuote(reset["html"].(string)))
	setField("#tpl-subject", "Reset your password, {{.FirstName}}")
	b.do("save the subject", chromedp.Click(css("#tpl-save")))
	b.wait("saved", `document.querySelector('#tpl-state').textContent.includes("organisation's own")`)
	for _, x := range d.call(t, "GET", "/api/v1/org/mail-templates", api, "")["templates"].([]any) {
		if m := x.(map[string]any); m["kind"] == "password_reset" && (m["html"] != "" || m["text"] != "" || m["subject"] != "Reset your password, {{.FirstName}}") {
			t.Errorf("saved the built-in parts too: %v", m)
		}
	}
	if value("#tpl-html") != reset["html"] {
		t.Error("after saving the subject the editor no longer shows the built-in HTML in force")
	}

	// ---- 6. a reload shows the saved template; Reset to built-in removes it.
	b.do("reload", chromedp.Reload(), chromedp.WaitVisible(css("#tpl-html")))
	b.wait("the saved invite", `document.querySelector('#tpl-html').value === `+jsQuote(styledInvite))
	b.do("reset", chromedp.Click(css("#tpl-reset")), chromedp.WaitVisible(css("#confirm-ok")))
	b.screenshot(art, "templates-reset-confirm.png")
	b.do("confirm", chromedp.Click(css("#confirm-ok")))
	b.wait("the built-in invite again", `document.querySelector('#tpl-html').value === `+jsQuote(en["html"].(string))+` && document.querySelector('#tpl-state').textContent.includes('built-in')`)
	for _, x := range d.call(t, "GET", "/api/v1/org/mail-templates", api, "")["templates"].([]any) {
		if x.(map[string]any)["kind"] == "invite" {
			t.Errorf("the invite override is still stored: %v", x)
		}
	}
	// Without an override, Reset only takes back the unsaved edits.
	setField("#tpl-subject", "unsaved")
	b.do("reset the edits", chromedp.Click(css("#tpl-reset")))
	b.wait("edits gone", `document.querySelector('#tpl-subject').value === `+jsQuote(en["subject"].(string)))
}

// colourCount counts the pixels of a PNG of exactly the colour r, g, b.
func colourCount(t *testing.T, shot []byte, r, g, b uint8) int {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		t.Fatalf("decode screenshot: %v", err)
	}
	n := 0
	bounds := img.Bounds()
	for y := bounds.Min.Y; y < bounds.Max.Y; y++ {
		for x := bounds.Min.X; x < bounds.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if uint8(cr>>8) == r && uint8(cg>>8) == g && uint8(cb>>8) == b {
				n++
			}
		}
	}
	return n
}
