package e2e_test

import (
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleSSOLoginUX: an organisation that signs in through its own IdP
// (password sign-in off, one break-glass owner). The sign-in page shows the
// IdP's button, with the password fields folded away until asked for; it
// passes axe-core (no serious or critical violation) at desktop and phone
// size, light and dark, and the screenshots are saved (login-sso-*.png).
// The IdP is not contacted to draw the page (it is discovered on first
// sign-in), so none runs here; the sign-in itself is TestSSOThroughGlewlwyd.
// A browser set to German gets the button and the disclosure in German.
func TestConsoleSSOLoginUX(t *testing.T) {
	b := newBrowser(t)
	art := artifacts(t)
	d := startRoster(t, t.TempDir(), `sso:
  - name: corp
    display_name: Corp IdP
    issuer: http://127.0.0.1:9/idp
    client_id: roster
    client_secret: not-used-here
    password_login: false
    break_glass_owners: [olive@example.com]
`)
	axe := &axeReport{t: t, rows: map[string]map[string]int{}, all: map[string][]axeViolation{}}
	t.Cleanup(func() { axe.write(art) })
	b.do("open the console", chromedp.Navigate(d.base+"/console/#/users"), chromedp.WaitVisible(css("#login-sso-button")))
	b.wait("the button", `document.querySelector('#login-sso-button').textContent === 'Sign in with Corp IdP' &&
		document.querySelector('#login-sso-button').getAttribute('href') === '/auth/sso/default/start?audience=console&return=' + encodeURIComponent('/console/#/users') &&
		document.activeElement === document.querySelector('#login-sso-button')`)
	b.wait("the password fields folded away", `!document.querySelector('#login-password-details').open && !document.querySelector('#login-password').checkVisibility()`)
	axe.check(b, "login-sso")
	b.screenshot(art, "login-sso-desktop.png")
	b.do("unfold the password form", chromedp.Click(css("#login-password-details summary")))
	b.wait("the password fields", `document.querySelector('#login-password').checkVisibility()`)
	axe.check(b, "login-sso-password")
	b.colorScheme("dark")
	b.screenshot(art, "login-sso-dark.png")
	b.colorScheme("light")
	b.do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(), chromedp.WaitVisible(css("#login-sso-button")))
	b.wait("the button fits", `(() => { const r = document.querySelector('#login-sso-button').getBoundingClientRect(); return r.width > 0 && r.right <= innerWidth; })()`)
	axe.check(b, "login-sso-phone")
	b.viewShot(art, "login-sso-phone.png")

	de := newBrowser(t, chromedp.Flag("lang", "de-DE"), chromedp.Flag("accept-lang", "de-DE,de"))
	de.do("open the console in German", chromedp.Navigate(d.base+"/console/"), chromedp.WaitVisible(css("#login-sso-button")))
	de.wait("the button and the disclosure in German", `document.documentElement.lang === 'de' &&
		document.querySelector('#login-sso-button').textContent === 'Mit Corp IdP anmelden' &&
		document.querySelector('#login-password-details summary').textContent === 'Mit Passwort anmelden (nur Notfall-Inhaber)'`)
	axe.check(de, "login-sso-de")
}
