package e2e_test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// An app's sign-in settings in the console: from the Apps page's row, a
// refused redirect URI is named, good ones are saved (and read back by the
// admin API), the client secret is shown once — not when the dialog is
// opened again —, a new one is issued on request, and the app can stop
// being a client.
func TestConsoleAppSignInSettings(t *testing.T) {
	b := newBrowser(t)
	d, api := uxSetup(t)
	app := d.call(t, "POST", "/api/v1/apps", api, `{"name":"Wiki"}`)
	id := app["id"].(string)
	b.signIn(d.base, "olive@example.com")
	open := func() {
		t.Helper()
		b.do("apps", chromedp.Navigate(d.base+"/console/#/apps"), chromedp.WaitVisible(css(`button[data-oidc=Wiki]`)))
		b.do("sign-in settings", chromedp.Click(css(`button[data-oidc=Wiki]`)), chromedp.WaitVisible(css("#oidc-dialog #oidc-redirects")))
	}
	open()
	b.wait("not a client yet", `document.getElementById('oidc-none') && document.getElementById('oidc-remove').hidden`)
	b.do("a refused redirect URI", chromedp.SendKeys(css("#oidc-redirects"), "https://wiki.example.com/cb\nhttp://wiki.example.com/cb"), chromedp.Click(css("#oidc-save")))
	b.wait("named", `!document.querySelector('#oidc-form .form-error').hidden && document.querySelector('#oidc-redirects').getAttribute('aria-invalid') === 'true'`)
	var msg string
	b.eval(`document.querySelector('#oidc-form .form-error').textContent`, &msg)
	if !strings.Contains(msg, "http://wiki.example.com/cb") || !strings.Contains(msg, "https") {
		t.Errorf("the refusal does not name the URI: %q", msg)
	}
	b.do("good ones", chromedp.Evaluate[chromedp.Void](`document.querySelector('#oidc-redirects').value = ''`),
		chromedp.SendKeys(css("#oidc-redirects"), "https://wiki.example.com/cb\nhttps://wiki.example.com/cb2"),
		chromedp.SendKeys(css("#oidc-logouts"), "https://wiki.example.com/bye"),
		chromedp.SendKeys(css("#oidc-backchannel"), "https://wiki.example.com/bc"),
		chromedp.Click(css("#oidc-save")), chromedp.WaitVisible(css("#oidc-secret")))
	var secret, clientID string
	b.eval(`document.querySelector('#oidc-secret').value`, &secret)
	b.eval(`document.querySelector('#oidc-client-id').value`, &clientID)
	if !strings.HasPrefix(secret, "roidc_") || clientID != id {
		t.Fatalf("secret %q, client id %q (app %s)", secret, clientID, id)
	}
	got := d.call(t, "GET", "/api/v1/apps/"+id+"/oidc", api, "")
	if uris, _ := got["redirect_uris"].([]any); len(uris) != 2 || uris[0] != "https://wiki.example.com/cb" || uris[1] != "https://wiki.example.com/cb2" ||
		got["backchannel_logout_uri"] != "https://wiki.example.com/bc" || got["public"] != false || got["client_secret"] != nil {
		t.Fatalf("the API reads back %v", got)
	}
	// Shown once: the dialog opened again has the settings and no secret.
	b.do("close", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(css("#oidc-dialog")))
	open()
	b.wait("settings loaded", `document.querySelector('#oidc-redirects').value === 'https://wiki.example.com/cb\nhttps://wiki.example.com/cb2'`)
	var page string
	b.eval(`document.querySelector('#oidc-dialog').innerText + [...document.querySelectorAll('#oidc-dialog input, #oidc-dialog textarea')].map((e) => e.value).join(' ')`, &page)
	if strings.Contains(page, secret) || strings.Contains(page, "roidc_") {
		t.Fatal("the secret is shown again")
	}
	// A new secret on request, shown once; the old one is gone.
	b.do("rotate", chromedp.Click(css("#oidc-rotate")), chromedp.WaitVisible(css("#confirm-ok")), chromedp.Click(css("#confirm-ok")), chromedp.WaitVisible(css("#oidc-secret")))
	var second string
	b.eval(`document.querySelector('#oidc-secret').value`, &second)
	if !strings.HasPrefix(second, "roidc_") || second == secret {
		t.Fatalf("rotated secret %q (was %q)", second, secret)
	}
	// Public: no secret, no rotation.
	b.do("public", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#oidc-kind'); s.value = 'public'; s.dispatchEvent(new Event('change')); })()`),
		chromedp.Click(css("#oidc-save")))
	b.wait("public saved", `document.getElementById('oidc-rotate').hidden && !document.getElementById('oidc-secret')`)
	if got := d.call(t, "GET", "/api/v1/apps/"+id+"/oidc", api, ""); got["public"] != true {
		t.Fatalf("not public: %v", got)
	}
	b.do("stop", chromedp.Click(css("#oidc-remove")), chromedp.WaitVisible(css("#confirm-ok")), chromedp.Click(css("#confirm-ok")))
	b.wait("no longer a client", `document.getElementById('oidc-none')`)
}
