package e2e_test

import (
	"context"
	_ "embed"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// axe-core from the npm registry (testdata/axe-core/VERSION), injected into
// the page under test; never served by roster.
//
//go:embed testdata/axe-core/axe.min.js
var axeSource string

const uxPassword = "Sturdy-passphrase-7"

// viewShot saves what the window shows (the first screen), beside the full
// page's screenshot.
func (b *browser) viewShot(dir, name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.CaptureScreenshot())
	if err != nil {
		b.fail("screenshot "+name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// uxSetup starts roster with its owner (olive) and returns an API token.
func uxSetup(t *testing.T) (*daemon, string) {
	t.Helper()
	return uxSetupWith(t, "")
}

// uxSetupWith is uxSetup with extra configuration (an SMTP server).
func uxSetupWith(t *testing.T, extra string) (*daemon, string) {
	t.Helper()
	d := startRoster(t, t.TempDir(), extra)
	tok := strings.TrimPrefix(d.setupLink(t), d.base+"/console/setup?token=")
	form := url.Values{"token": {tok}, "username": {"olive@example.com"}, "email": {"olive@example.com"}, "first_name": {"Olive"}, "last_name": {"Owner"},
		"password": {uxPassword}, "confirm": {uxPassword}}
	res, err := http.PostForm(d.base+"/console/setup", form)
	if err != nil || res.StatusCode != 200 {
		t.Fatalf("setup: %v %v", res, err)
	}
	res.Body.Close()
	api := d.call(t, "POST", "/api/v1/auth/login", "", `{"username":"olive@example.com","password":"`+uxPassword+`"}`)["token"].(string)
	return d, api
}

// activeUser creates a user by invite link and accepts it; returns the id.
func activeUser(t *testing.T, d *daemon, api, username, role string) string {
	t.Helper()
	m := d.call(t, "POST", "/api/v1/users", api, fmt.Sprintf(`{"username":%q,"email":%q,"first_name":"F","last_name":%q,"role":%q,"send_invite":false}`, username, username, strings.Split(username, "@")[0], role))
	link := m["invite_link"].(string)
	d.call(t, "POST", "/api/v1/invites/accept", "", fmt.Sprintf(`{"token":%q,"password":%q}`, link[strings.LastIndex(link, "/")+1:], uxPassword))
	return m["id"].(string)
}

func (b *browser) signIn(base, username string) {
	b.t.Helper()
	b.do("sign in as "+username,
		chromedp.Navigate(base+"/console/#/users"),
		chromedp.WaitVisible(css("#login-username")),
		chromedp.SendKeys(css("#login-username"), username),
		chromedp.SendKeys(css("#login-password"), uxPassword),
		chromedp.Click(css("#login-submit")),
		chromedp.WaitVisible(css("#users-table")),
	)
}

func (b *browser) setValue(sel, value string) {
	b.t.Helper()
	b.do("set "+sel, chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`(() => { const s = document.querySelector(%q); s.value = %q; s.dispatchEvent(new Event('change')); })()`, sel, value)))
}

// throttle makes every request of the page slow by latency (and those
// matching slowPattern, a URLPattern, slower still); zero latency ends it.
func (b *browser) throttle(latency time.Duration, slowPattern string, slow time.Duration) {
	b.t.Helper()
	var rules []*network.Conditions
	if latency > 0 {
		if slowPattern != "" {
			rules = append(rules, &network.Conditions{URLPattern: slowPattern, Latency: float64(slow.Milliseconds()), DownloadThroughput: -1, UploadThroughput: -1})
		}
		rules = append(rules, &network.Conditions{Latency: float64(latency.Milliseconds()), DownloadThroughput: -1, UploadThroughput: -1})
	}
	if _, err := chromedp.Call(b.ctx, network.Enable, network.EnableParams{}); err != nil {
		b.fail("network enable", err)
	}
	if _, err := chromedp.Call(b.ctx, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{MatchedNetworkConditions: rules}); err != nil {
		b.fail("throttle", err)
	}
}

func (b *browser) colorScheme(scheme string) {
	b.t.Helper()
	var features []*emulation.MediaFeature
	if scheme != "" {
		features = []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}}
	}
	if _, err := chromedp.Call(b.ctx, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Features: features}); err != nil {
		b.fail("emulate "+scheme, err)
	}
}

// axeViolation is one rule axe-core found broken, with how many nodes.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Nodes  int    `json:"nodes"`
	Target string `json:"target"`
	Help   string `json:"help"`
}

// axe runs axe-core on the page as it is (injected once per document) and
// returns its violations.
func (b *browser) axe() []axeViolation {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 60*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[chromedp.Void](`window.axe ? undefined : (() => {`+axeSource+"\n})()")); err != nil {
		b.fail("inject axe-core", err)
	}
	raw, err := chromedp.Run(ctx, chromedp.Evaluate[[]byte](`axe.run(document, { resultTypes: ['violations'] }).then((r) => r.violations.map((v) => ({
		id: v.id, impact: v.impact || '', nodes: v.nodes.length, target: v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | '), help: v.help })))`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail("axe.run", err)
	}
	var out []axeViolation
	if err := json.Unmarshal(raw, &out); err != nil {
		b.t.Fatalf("axe result: %v (%s)", err, raw)
	}
	return out
}

// axeReport collects axe-core's counts per view and fails on any serious or
// critical violation.
type axeReport struct {
	t    *testing.T
	rows map[string]map[string]int // view → impact → violations
	all  map[string][]axeViolation
}

func (r *axeReport) check(b *browser, view string) {
	r.t.Helper()
	vs := b.axe()
	counts := map[string]int{"critical": 0, "serious": 0, "moderate": 0, "minor": 0}
	for _, v := range vs {
		counts[v.Impact]++
		if v.Impact == "serious" || v.Impact == "critical" {
			r.t.Errorf("axe-core, %s: %s violation %s (%d nodes: %s): %s", view, v.Impact, v.ID, v.Nodes, v.Target, v.Help)
		}
	}
	r.rows[view] = counts
	r.all[view] = vs
}

func (r *axeReport) write(dir string) {
	views := make([]string, 0, len(r.rows))
	for v := range r.rows {
		views = append(views, v)
	}
	sort.Strings(views)
	var sb strings.Builder
	sb.WriteString("view\tcritical\tserious\tmoderate\tminor\n")
	for _, v := range views {
		c := r.rows[v]
		fmt.Fprintf(&sb, "%s\t%d\t%d\t%d\t%d\n", v, c["critical"], c["serious"], c["moderate"], c["minor"])
	}
	r.t.Logf("axe-core violations per view:\n%s", sb.String())
	_ = os.WriteFile(filepath.Join(dir, "axe-counts.tsv"), []byte(sb.String()), 0o644)
	raw, _ := json.MarshalIndent(r.all, "", "  ")
	_ = os.WriteFile(filepath.Join(dir, "axe-violations.json"), raw, 0o644)
}

// menuInViewport is a script answering why the open ⋯ menu is not wholly
// usable: items outside the viewport, or covered or clipped where a click
// would land ("" when every item is visible and reachable).
const menuInViewport = `(() => {
	const open = document.querySelectorAll('.menu:popover-open');
	if (open.length !== 1) return 'open menus: ' + open.length;
	const m = open[0], r = m.getBoundingClientRect();
	const vw = document.documentElement.clientWidth, vh = window.innerHeight;
	if (r.left < 0 || r.top < 0 || r.right > vw || r.bottom > vh) return 'menu box ' + JSON.stringify(r) + ' outside ' + vw + 'x' + vh;
	for (const it of m.querySelectorAll('[role=menuitem]')) {
		const b = it.getBoundingClientRect();
		if (b.height < 10 || b.top < r.top - 1 || b.bottom > r.bottom + 1) return it.dataset.action + ' scrolled out of the menu';
		const x = b.left + b.width / 2, y = b.top + b.height / 2;
		const hit = document.elementFromPoint(x, y);
		if (!hit || !it.contains(hit)) return it.dataset.action + ' covered by ' + (hit ? hit.outerHTML.slice(0, 80) : 'nothing');
	}
	return '';
})()`

// overflowing lists elements whose box runs past the viewport's sides.
// docWiderWhy says how the document is wider than a phone (390 px: a
// mobile viewport widens to what overflows, so innerWidth alone could hide
// it), naming the widest elements; "" when it fits.
func docWiderWhy(b *browser) string {
	b.t.Helper()
	var why string
	b.eval(`(() => {
		const vw = Math.min(innerWidth, 390), w = document.documentElement.scrollWidth;
		if (w <= vw) return '';
		return w + ' px > ' + vw + ' px: ' + [...document.querySelectorAll('body *')].filter((e) => e.getBoundingClientRect().right > vw + 1)
			.slice(-4).map((e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '')).join(', ');
	})()`, &why)
	return why
}

const overflowing = `(() => {
	const vw = document.documentElement.clientWidth, out = [];
	for (const e of document.querySelectorAll('body *')) {
		if (e.closest('.sr-only, .skip, thead, dialog:not([open]), [popover]:not(:popover-open)')) continue;
		const r = e.getBoundingClientRect();
		if (r.width === 0 && r.height === 0) continue;
		if (r.right > vw + 1 || r.left < -1) out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + '.' + e.className + ' [' + Math.round(r.left) + ',' + Math.round(r.right) + ']');
	}
	return out.slice(0, 10);
})()`

// TestConsoleUX: the ⋯ menu in a layer inside the viewport, messages that
// clear with the next action, loading state and stale answers on a slow
// network, menus from the server's capabilities and actions, the phone
// layout, dark mode, keyboard shortcuts, and axe-core on every view and
// dialog (screenshots of each at desktop and phone size as artifacts).
func TestConsoleUX(t *testing.T) {
	b := newBrowser(t)
	art := artifacts(t)
	d, api := uxSetup(t)
	axe := &axeReport{t: t, rows: map[string]map[string]int{}, all: map[string][]axeViolation{}}
	t.Cleanup(func() { axe.write(art) })

	for i := range 12 {
		activeUser(t, d, api, fmt.Sprintf("member%02d@example.com", i), "member")
	}
	devID := activeUser(t, d, api, "dev@example.com", "developer")
	activeUser(t, d, api, "uma@example.com", "user_manager")
	activeUser(t, d, api, "umb@example.com", "user_manager")
	for _, u := range []string{"member00@example.com", "member01@example.com"} {
		d.call(t, "POST", "/api/v1/users/"+userID(t, d, api, u)+"/disable", api, `{}`)
	}
	d.call(t, "POST", "/api/v1/users/"+userID(t, d, api, "member02@example.com")+"/archive", api, `{}`)
	// A group its directory owns (SCIM) beside a native one.
	scimTok := d.call(t, "POST", "/api/v1/tokens", api, `{"name":"okta","scope":"scim"}`)["token"].(string)
	req, _ := http.NewRequest("POST", d.base+"/scim/v2/Groups", strings.NewReader(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Okta-Eng"}`))
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set("Authorization", "Bearer "+scimTok)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 201 {
		t.Fatalf("scim group: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	d.call(t, "POST", "/api/v1/groups", api, `{"name":"Native"}`)
	// Long unbroken names, as real directories have: a phone wraps them.
	long := "Platform-Engineering-Site-Reliability-Infrastructure-EMEA"
	lg := d.call(t, "POST", "/api/v1/groups", api, `{"name":"`+long+`"}`)["id"].(string)
	d.call(t, "POST", "/api/v1/groups/"+lg+"/members", api, `{"user_ids":["`+devID+`"]}`)
	la := d.call(t, "POST", "/api/v1/apps", api, `{"name":"`+long+`-Portal"}`)["id"].(string)
	d.call(t, "POST", "/api/v1/apps/"+la+"/assignments", api, `{"user_id":"`+devID+`","app_role":"`+long+`"}`)
	d.call(t, "POST", "/api/v1/tokens", api, `{"name":"`+long+`-provisioning","scope":"scim"}`)
	d.call(t, "PATCH", "/api/v1/users/"+devID, api, `{"last_name":"Vandersteenhoven-Oppenheimer-Castellanos-Wolfeschlegelsteinhausen"}`)
	// An app that is an OpenID Connect client (its sign-in settings dialog).
	wiki := d.call(t, "POST", "/api/v1/apps", api, `{"name":"Wiki"}`)["id"].(string)
	d.call(t, "PUT", "/api/v1/apps/"+wiki+"/oidc", api, `{"redirect_uris":["https://wiki.example.com/protected/redirect_uri"],"post_logout_redirect_uris":["https://wiki.example.com/bye"],"backchannel_logout_uri":"https://wiki.example.com/bc"}`)
	oidcDialog := func(name string) {
		t.Helper()
		b.do("apps", chromedp.Navigate(d.base+"/console/#/apps"), chromedp.WaitVisible(css(`button[data-oidc=Wiki]`)))
		b.do("sign-in settings", chromedp.Click(css(`button[data-oidc=Wiki]`)), chromedp.WaitVisible(css("#oidc-dialog #oidc-client-id")))
		// Each client type's text fits its select (a select shows one line,
		// cut at its width), and the select fits the dialog.
		var cut []string
		b.eval(`(() => {
			const s = document.querySelector('#oidc-kind'), cs = getComputedStyle(s), c = document.createElement('canvas').getContext('2d');
			c.font = cs.fontStyle + ' ' + cs.fontWeight + ' ' + cs.fontSize + ' ' + cs.fontFamily;
			const room = s.clientWidth - parseFloat(cs.paddingLeft) - parseFloat(cs.paddingRight) - 20; // the arrow
			const out = [...s.options].filter((o) => c.measureText(o.text).width > room).map((o) => o.text + ' (' + Math.round(c.measureText(o.text).width) + ' px > ' + Math.round(room) + ' px)');
			const d = s.closest('dialog').getBoundingClientRect(), r = s.getBoundingClientRect();
			if (s.scrollWidth > s.clientWidth || r.right > d.right || r.left < d.left) out.push('the select runs past the dialog');
			return out;
		})()`, &cut)
		if len(cut) > 0 {
			t.Errorf("%s: the client type is cut off: %v", name, cut)
		}
		b.do("a new secret", chromedp.Click(css("#oidc-rotate")), chromedp.WaitVisible(css("#confirm-ok")), chromedp.Click(css("#confirm-ok")), chromedp.WaitVisible(css("#oidc-secret")))
		b.do("settle", chromedp.Sleep(200*time.Millisecond))
		b.screenshot(art, name+".png")
		axe.check(b, "dialog: app sign-in settings ("+name+")")
		b.do("close", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(css("#oidc-dialog")))
	}

	b.signIn(d.base, "olive@example.com")
	b.wait("all rows", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 16`)

	// ---- 1. the ⋯ menu: in a layer above the table, inside the viewport,
	// every action visible, at any table height and on a phone.
	openMenu := func(username string) {
		t.Helper()
		b.do("open the menu of "+username, chromedp.Click(css(row(username)+` .menu-button`)))
		b.wait("menu open", `document.querySelector('`+row(username)+` .menu').matches(':popover-open')`)
	}
	menuOK := func(what string) {
		t.Helper()
		var why string
		b.eval(menuInViewport, &why)
		if why != "" {
			t.Errorf("%s: the ⋯ menu is not wholly usable: %s", what, why)
		}
	}
	closeMenu := func() {
		t.Helper()
		b.do("close the menu", chromedp.KeyEvent(kb.Escape))
		b.wait("menu closed", `!document.querySelector('.menu:popover-open')`)
	}
	b.do("search one user", chromedp.SendKeys(css("#search"), "dev@example.com\r"))
	b.wait("one row", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 1`)
	openMenu("dev@example.com")
	var n int
	b.eval(`document.querySelectorAll('`+row("dev@example.com")+` [role=menuitem]').length`, &n)
	if n < 6 {
		t.Fatalf("the developer's menu has %d items, want at least 6", n)
	}
	menuOK("one row, desktop")
	b.screenshot(art, "menu-one-row.png")
	axe.check(b, "users: actions menu")
	closeMenu()
	// axe-core really looks: a button without a name is found.
	b.do("plant a nameless button", chromedp.Evaluate[chromedp.Void](`document.querySelector('main').appendChild(Object.assign(document.createElement('button'), { id: 'axe-plant' }))`))
	planted := false
	for _, v := range b.axe() {
		planted = planted || (v.ID == "button-name" && strings.Contains(v.Target, "axe-plant") && v.Impact == "critical")
	}
	if !planted {
		t.Fatal("axe-core did not report a button without a name")
	}
	b.do("remove it", chromedp.Evaluate[chromedp.Void](`document.getElementById('axe-plant').remove()`))
	b.do("clear the search", chromedp.Evaluate[chromedp.Void](`document.querySelector("#search").value = ""`), chromedp.SendKeys(css("#search"), "\r"))
	b.wait("all rows back", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 16`)
	var last string
	b.eval(`[...document.querySelectorAll('#users-table tbody tr[data-username]')].pop().dataset.username`, &last)
	b.do("scroll the last row to the bottom", chromedp.Evaluate[chromedp.Void](`document.querySelector('`+row(last)+`').scrollIntoView({block: 'end'})`))
	openMenu(last)
	menuOK("last row of a full table")
	closeMenu()
	b.do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(), chromedp.WaitVisible(css("#users-table")))
	b.wait("rows", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 16`)
	b.do("search one user on the phone", chromedp.SendKeys(css("#search"), "dev@example.com\r"))
	b.wait("one row", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 1`)
	openMenu("dev@example.com")
	menuOK("one row, phone")
	b.screenshot(art, "menu-phone.png")
	closeMenu()
	b.do("clear the search", chromedp.Evaluate[chromedp.Void](`document.querySelector("#search").value = ""`), chromedp.SendKeys(css("#search"), "\r"))
	b.wait("all rows back", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 16`)
	b.do("scroll the last row into view", chromedp.Evaluate[chromedp.Void](`document.querySelector('`+row(last)+`').scrollIntoView({block: 'end'})`))
	openMenu(last)
	menuOK("last row, phone")
	closeMenu()

	// ---- 5. phone layout: the checkbox beside (not over) the username, sort
	// and select-all reachable, the list on the first screen, nothing wider
	// than the viewport on any page.
	b.do("top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	var overlaps []string
	b.eval(`[...document.querySelectorAll('#users-table tbody tr[data-username]')].filter((tr) => {
		const a = tr.querySelector('td.sel input').getBoundingClientRect(), u = tr.querySelector('td[data-col=username]').getBoundingClientRect();
		return a.right > u.left && a.left < u.right && a.bottom > u.top && a.top < u.bottom;
	}).map((tr) => tr.dataset.username)`, &overlaps)
	if len(overlaps) > 0 {
		t.Errorf("on a phone the row checkbox covers the username of %v", overlaps)
	}
	var firstRowTop, vh float64
	b.eval(`document.querySelector('#users-table tbody tr[data-username]').getBoundingClientRect().top`, &firstRowTop)
	b.eval(`window.innerHeight`, &vh)
	if firstRowTop > vh-60 {
		t.Errorf("on a phone the list starts at %.0f px, below the first screen (%.0f px)", firstRowTop, vh)
	}
	var reach string
	b.eval(`['#sort-select', '#sort-order', '#select-all-phone'].filter((s) => { const e = document.querySelector(s); if (!e) return true; const r = e.getBoundingClientRect(); return r.width === 0 || r.right > innerWidth; }).join(',')`, &reach)
	if reach != "" {
		t.Errorf("on a phone not reachable: %s", reach)
	}
	b.do("sort by username on the phone", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#sort-select'); s.value = 'username'; s.dispatchEvent(new Event('change')); })()`))
	b.wait("sorted by username", `document.querySelector('#users-table tbody tr[data-username]').dataset.username === 'dev@example.com'`)
	b.do("descending", chromedp.Click(css("#sort-order")))
	b.wait("sorted descending", `document.querySelector('#users-table tbody tr[data-username]').dataset.username === 'umb@example.com'`)
	b.do("select all on the phone", chromedp.Click(css("#select-all-phone")))
	b.wait("all selected", `document.querySelector('#selected-count').textContent === '16 selected'`)
	b.do("clear the selection", chromedp.Click(css("#bulkbar button.link")))
	// docWider says how the document is wider than the phone (390 px: a
	// mobile viewport widens to what overflows, so innerWidth alone would
	// hide it), naming the widest elements; "" when it fits.
	docWider := func(what string) {
		t.Helper()
		if why := docWiderWhy(b); why != "" {
			t.Errorf("at 390×844 the document of %s scrolls sideways: %s", what, why)
		}
	}
	// The check really looks: a box wider than the phone is found.
	b.do("plant a wide box", chromedp.Evaluate[chromedp.Void](`document.querySelector('main').appendChild(Object.assign(document.createElement('div'), { id: 'wide-plant', style: 'width: 600px; height: 4px' }))`))
	if why := docWiderWhy(b); !strings.Contains(why, "wide-plant") {
		t.Fatalf("a 600 px box on a 390 px phone is not found: %q", why)
	}
	b.do("remove it", chromedp.Evaluate[chromedp.Void](`document.getElementById('wide-plant').remove()`))
	phoneViews := []string{"users", "import", "groups", "apps", "settings", "tokens", "ldap", "audit", "templates"}
	for _, v := range phoneViews {
		if v == "templates" {
			// The template editor (in the settings) with its preview shown.
			b.do("phone templates", chromedp.Navigate(d.base+"/console/#/settings"), chromedp.WaitVisible(css(`#mail-templates`)))
			b.wait("the built-in template", `document.querySelector('#tpl-html').value !== ''`)
			b.do("preview", chromedp.Click(css("#tpl-preview-button")))
			b.wait("the preview", `document.querySelector('#tpl-preview-frame')`)
			b.do("settle", chromedp.Sleep(300*time.Millisecond))
			docWider("the template editor")
			b.do("to the editor", chromedp.Evaluate[chromedp.Void](`document.querySelector('#mail-templates').scrollIntoView()`))
			b.viewShot(art, "view-templates-phone.png")
			axe.check(b, "templates (phone)")
			continue
		}
		b.do("phone "+v, chromedp.Navigate(d.base+"/console/#/"+v), chromedp.WaitVisible(css(`.view[data-view=`+v+`] h1`)))
		b.do("settle", chromedp.Sleep(300*time.Millisecond))
		docWider("the " + v + " page")
		if v == "users" || v == "groups" || v == "apps" || v == "tokens" {
			var over []string
			b.eval(overflowing, &over)
			if len(over) > 0 {
				t.Errorf("at 390×844 the %s page has elements wider than the viewport: %v", v, over)
			}
		}
		b.screenshot(art, "view-"+v+"-phone.png")
		b.viewShot(art, "view-"+v+"-phone-first-screen.png")
		axe.check(b, v+" (phone)")
	}
	oidcDialog("dialog-app-sign-in-phone")
	// One user's page on the phone.
	b.do("phone user page", chromedp.Navigate(d.base+"/console/#/users/"+devID), chromedp.WaitVisible(css("#user-page")))
	b.wait("history", `document.querySelectorAll('#details-history .sentence').length >= 1`)
	docWider("the user page")
	var overUser []string
	b.eval(overflowing, &overUser)
	if len(overUser) > 0 {
		t.Errorf("at 390×844 the user page has elements wider than the viewport: %v", overUser)
	}
	b.screenshot(art, "view-user-phone.png")
	b.viewShot(art, "view-user-phone-first-screen.png")
	axe.check(b, "user page (phone)")

	// ---- 6. dark mode follows prefers-color-scheme.
	b.do("desktop", chromedp.EmulateViewport(1440, 900), chromedp.Navigate(d.base+"/console/#/users"), chromedp.WaitVisible(css("#users-table")))
	b.colorScheme("dark")
	var lum float64
	luminance := `(() => { const m = getComputedStyle(document.body).backgroundColor.match(/\d+(\.\d+)?/g).map(Number); return (0.2126 * m[0] + 0.7152 * m[1] + 0.0722 * m[2]) / 255; })()`
	b.eval(luminance, &lum)
	if lum > 0.2 {
		t.Errorf("prefers-color-scheme: dark, the background's luminance is %.2f", lum)
	}
	b.do("settle", chromedp.Sleep(300*time.Millisecond))
	b.screenshot(art, "view-users-dark.png")
	axe.check(b, "users (dark)")
	openMenu("dev@example.com")
	axe.check(b, "users: actions menu (dark)")
	closeMenu()
	b.colorScheme("light")
	b.eval(luminance, &lum)
	if lum < 0.8 {
		t.Errorf("prefers-color-scheme: light, the background's luminance is %.2f", lum)
	}
	b.colorScheme("")

	// ---- 6. keyboard shortcuts: / search, n new user, ? the list.
	b.do("blur", chromedp.Evaluate[chromedp.Void](`document.activeElement && document.activeElement.blur()`))
	b.do("/", chromedp.KeyEvent("/"))
	b.wait("search focused", `document.activeElement.id === 'search'`)
	b.do("blur", chromedp.Evaluate[chromedp.Void](`document.activeElement.blur()`))
	b.do("n", chromedp.KeyEvent("n"))
	b.wait("add dialog", `document.querySelector('#add-dialog[open]') && document.activeElement.id === 'add-username'`)
	b.screenshot(art, "dialog-add-user.png")
	axe.check(b, "dialog: add user")
	b.do("close", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(css("#add-dialog")))
	b.do("?", chromedp.KeyEvent("?"))
	b.wait("shortcuts listed", `document.querySelector('#shortcuts-dialog[open]') && document.querySelector('#shortcuts-list').textContent.includes('Search users')`)
	axe.check(b, "dialog: shortcuts")
	b.do("close", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(css("#shortcuts-dialog")))
	b.do("n in the search types n", chromedp.Focus(css("#search")), chromedp.KeyEvent("n"))
	var dlg bool
	b.eval(`!!document.querySelector('#add-dialog')`, &dlg)
	if dlg {
		t.Error("n typed into the search opened the add dialog")
	}
	b.do("clear", chromedp.Evaluate[chromedp.Void](`document.querySelector('#search').value = ''; document.activeElement.blur()`))

	// ---- 3. loading state on a slow network.
	// Add user cannot be sent twice: its buttons are disabled in flight.
	b.do("count the POSTs", chromedp.Evaluate[chromedp.Void](`(() => { window.__posts = 0; const f = window.fetch; window.fetch = (u, o) => { if (String(u) === '/api/v1/users' && o && o.method === 'POST') window.__posts++; return f(u, o); }; })()`))
	b.throttle(900*time.Millisecond, "", 0)
	b.do("open add", chromedp.Click(css("#add-user")), chromedp.WaitVisible(css("#add-username")), chromedp.SendKeys(css("#add-username"), "twice@example.com"))
	var inFlight bool
	b.eval(`(() => { const s = document.querySelector('#add-submit'); s.click(); s.click(); document.querySelector('#add-form').requestSubmit(); return s.disabled && document.querySelector('#add-form').getAttribute('aria-busy') === 'true' && [...document.querySelectorAll('#add-form button')].every((x) => x.disabled); })()`, &inFlight)
	if !inFlight {
		t.Error("Add user's buttons are not disabled while its request is in flight")
	}
	b.wait("added", `!document.querySelector('#add-dialog') && document.querySelector('`+row("twice@example.com")+`')`)
	var posts int
	b.eval(`window.__posts`, &posts)
	if posts != 1 {
		t.Errorf("Add user was sent %d times, want once", posts)
	}
	b.do("close the toast", chromedp.Evaluate[chromedp.Void](`document.getElementById('toast').className = 'toast'`))
	b.wait("every status on screen", `[...document.querySelectorAll('#users-table td[data-col=status]')].some((td) => td.textContent === 'Disabled') && [...document.querySelectorAll('#users-table td[data-col=status]')].some((td) => td.textContent === 'Archived')`)
	// Disabled is picked, then Active at once; the Disabled answer arrives last.
	b.throttle(700*time.Millisecond, strings.Replace(d.base, "http://", "http://", 1)+"/api/v1/users?*status=disabled*", 2000*time.Millisecond)
	b.do("watch for stale rows", chromedp.Evaluate[chromedp.Void](`(() => {
		window.__stale = [];
		window.__check = () => {
			const f = document.querySelector('#filter-status');
			if (!f || f.value !== 'active') return;
			for (const td of document.querySelectorAll('#users-table td[data-col=status]')) if (td.textContent !== 'Active') window.__stale.push(td.textContent);
		};
		window.__observer = new MutationObserver(window.__check);
		window.__observer.observe(document.body, { subtree: true, childList: true, characterData: true });
		window.__timer = setInterval(window.__check, 20);
	})()`))
	var progressShown bool
	b.eval(`(() => {
		const s = document.querySelector('#filter-status');
		s.value = 'disabled'; s.dispatchEvent(new Event('change'));
		s.value = 'active'; s.dispatchEvent(new Event('change'));
		window.__check();
		return document.querySelector('.table-wrap').getAttribute('aria-busy') === 'true';
	})()`, &progressShown)
	if !progressShown {
		t.Error("the list is not marked busy while it loads")
	}
	// A slow answer (700 ms here) shows the progress bar while it comes.
	b.wait("progress shown", `!document.querySelector('#users-loading').hidden && document.querySelector('#users-table tbody tr.loading-row')`)
	b.wait("the Active answer", `document.querySelector('#users-loading').hidden && document.querySelectorAll('#users-table tbody tr[data-username]').length > 0`)
	b.do("wait past the Disabled answer", chromedp.Sleep(2500*time.Millisecond))
	var stale []string
	b.eval(`(clearInterval(window.__timer), window.__observer.disconnect(), window.__check(), window.__stale.filter((v, i, a) => a.indexOf(v) === i))`, &stale)
	if len(stale) > 0 {
		t.Errorf("under the Active filter the list showed %v rows", stale)
	}
	var statuses []string
	b.eval(`[...new Set([...document.querySelectorAll('#users-table td[data-col=status]')].map((td) => td.textContent))]`, &statuses)
	if strings.Join(statuses, ",") != "Active" {
		t.Errorf("after the filter switch the rows' statuses are %v", statuses)
	}
	b.throttle(0, "", 0)
	b.setValue("#filter-status", "")
	b.wait("everyone", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 17`)

	// ---- desktop screenshots and axe-core of each view and dialog.
	for _, v := range phoneViews {
		if v == "templates" {
			continue // in the settings, just above
		}
		b.do("desktop "+v, chromedp.Navigate(d.base+"/console/#/"+v), chromedp.WaitVisible(css(`.view[data-view=`+v+`] h1`)))
		b.do("settle", chromedp.Sleep(300*time.Millisecond))
		b.screenshot(art, "view-"+v+"-desktop.png")
		axe.check(b, v)
	}
	oidcDialog("dialog-app-sign-in-desktop")
	// The import's typed-in grid and its errors-only dry run.
	badCSV := filepath.Join(t.TempDir(), "bad.csv")
	if err := os.WriteFile(badCSV, []byte("username,email\nzed@example.com,not-an-email\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b.do("import: errors only", chromedp.Navigate(d.base+"/console/#/import"), chromedp.WaitVisible(css("#import-file")),
		chromedp.SetUploadFiles(css("#import-file"), []string{badCSV}), chromedp.Click(css("#import-check")), chromedp.WaitVisible(css("#import-errors")))
	b.screenshot(art, "view-import-errors-only.png")
	axe.check(b, "import: errors only")
	b.do("import: typed in", chromedp.Click(css("#import-from-grid")), chromedp.WaitVisible(css("#import-grid")), chromedp.Click(css("#import-add-line")))
	b.screenshot(art, "view-import-grid.png")
	axe.check(b, "import: typed in")
	b.do("users", chromedp.Navigate(d.base+"/console/#/users"), chromedp.WaitVisible(css("#users-table")))
	b.wait("rows", `document.querySelector('`+row("dev@example.com")+`')`)
	b.do("user page", chromedp.Click(css(row("dev@example.com")+` .user-link`)), chromedp.WaitVisible(css("#user-page")))
	b.wait("user page loaded", `document.querySelectorAll('#details-history .sentence').length >= 1`)
	b.screenshot(art, "view-user-desktop.png")
	axe.check(b, "user page")
	b.colorScheme("dark")
	b.do("settle", chromedp.Sleep(200*time.Millisecond))
	b.screenshot(art, "view-user-dark.png")
	axe.check(b, "user page (dark)")
	b.colorScheme("")
	b.do("audit, filtered", chromedp.Navigate(d.base+"/console/#/audit?user=dev%40example.com"), chromedp.WaitVisible(css("#audit-table")))
	b.wait("dev's entries", `document.querySelectorAll('#audit-table tbody tr[data-id]').length >= 2`)
	b.screenshot(art, "view-audit-filtered.png")
	axe.check(b, "audit: filtered")
	b.do("users", chromedp.Navigate(d.base+"/console/#/users"), chromedp.WaitVisible(css("#users-table")))
	b.wait("rows", `document.querySelector('`+row("dev@example.com")+`')`)
	b.do("select two", chromedp.Click(css(row("dev@example.com")+` .row-select`)), chromedp.Click(css(row("member03@example.com")+` .row-select`)))
	b.wait("bulk bar", `document.querySelector('#selected-count').textContent === '2 selected'`)
	axe.check(b, "users: bulk bar")
	b.do("clear the selection", chromedp.Click(css("#bulkbar button.link")))
	// "Select all N matching" offered once the page is selected, then chosen.
	b.do("ten a page", chromedp.Navigate(d.base+"/console/#/users?size=10"), chromedp.WaitVisible(css("#users-table")))
	b.wait("ten rows", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 10`)
	b.do("select the page", chromedp.Click(css("#select-all")))
	b.wait("the offer", `document.getElementById('select-all-matching')`)
	b.screenshot(art, "users-select-all-matching.png")
	axe.check(b, "users: select all N matching")
	b.do("select all matching", chromedp.Click(css("#select-all-matching")))
	b.wait("all selected", `document.getElementById('select-page-only')`)
	axe.check(b, "users: all N matching selected")
	b.do("clear the selection", chromedp.Click(css("#clear-selection")))

	// ---- 2. a message belongs to the action that caused it.
	// Tokens: a refused create, then a good one.
	b.do("tokens", chromedp.Navigate(d.base+"/console/#/tokens"), chromedp.WaitVisible(css("#token-name")),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#token-create').noValidate = true`), // the server's refusal, not the browser's
		chromedp.Click(css("#token-create button[type=submit]")))
	b.wait("token error", `!document.querySelector('#token-create .form-error').hidden`)
	axe.check(b, "tokens: with an error")
	b.do("a good token", chromedp.SendKeys(css("#token-name"), "azure"), chromedp.Click(css("#token-create button[type=submit]")), chromedp.WaitVisible(css("#token-value")))
	b.wait("token error gone", `document.querySelector('#token-create .form-error').hidden && !document.querySelector('[aria-invalid]')`)
	// Groups: a duplicate name, then a new one.
	b.do("groups", chromedp.Navigate(d.base+"/console/#/groups"), chromedp.WaitVisible(css("#group-create-name")),
		chromedp.SendKeys(css("#group-create-name"), "Native\r"))
	b.wait("group error", `!document.querySelector('#group-create .form-error').hidden`)
	b.do("a new group", chromedp.Evaluate[chromedp.Void](`document.querySelector('#group-create-name').value = ''`), chromedp.SendKeys(css("#group-create-name"), "Sales\r"), chromedp.WaitVisible(css(`#groups-table tr[data-name=Sales]`)))
	b.wait("group error gone", `document.querySelector('#group-create .form-error').hidden`)
	// 4. A directory's group offers no rename; a native one does.
	var renames []string
	b.eval(`[...document.querySelectorAll('#groups-table button[data-rename]')].map((b) => b.dataset.rename)`, &renames)
	if strings.Join(renames, ",") != "Native,"+long+",Sales" {
		t.Errorf("groups offering rename: %v, want Native, %s and Sales (not the directory's Okta-Eng)", renames, long)
	}
	// Members: an unknown user, then a real one.
	b.do("members", chromedp.Click(css(`button[data-members=Sales]`)), chromedp.WaitVisible(css("#member-login")),
		chromedp.SendKeys(css("#member-login"), "nobody@example.com\r"))
	b.wait("member error", `!document.querySelector('#member-add .form-error').hidden`)
	b.screenshot(art, "dialog-members.png")
	axe.check(b, "dialog: members")
	b.do("a real member", chromedp.Evaluate[chromedp.Void](`document.querySelector('#member-login').value = ''`), chromedp.SendKeys(css("#member-login"), "dev@example.com\r"))
	b.wait("member added, error gone", `document.querySelector('#members-list').textContent.includes('dev@example.com') && document.querySelector('#member-add .form-error').hidden`)
	b.do("close members", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(css("#members-dialog")))
	// The list redraws after the member change: click in one step in the
	// page, never on a node found before the redraw.
	b.do("directory group's members", chromedp.WaitVisible(css(`button[data-members=Okta-Eng]`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('button[data-members=Okta-Eng]').click()`), chromedp.WaitVisible(css("#members-dialog")))
	var editable bool
	b.eval(`!!document.querySelector('#member-add')`, &editable)
	if editable {
		t.Error("the directory's group offers to change its members")
	}
	b.do("close members", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(css("#members-dialog")))
	// Mail templates: a broken template, then a good save.
	b.do("settings", chromedp.Navigate(d.base+"/console/#/settings"), chromedp.WaitVisible(css("#tpl-subject")))
	b.wait("preview", `(document.querySelector('#tpl-preview-subject')||{}).textContent`)
	b.do("a broken subject", chromedp.SendKeys(css("#tpl-subject"), "Hello {{.Nope"), chromedp.Click(css("#mail-templates button[type=submit]")))
	b.wait("template error", `!document.querySelector('#mail-templates .form-error').hidden`)
	axe.check(b, "settings: with an error")
	b.do("a good subject", chromedp.Evaluate[chromedp.Void](`document.querySelector('#tpl-subject').value = ''`), chromedp.SendKeys(css("#tpl-subject"), "Welcome to roster"),
		chromedp.Click(css("#mail-templates button[type=submit]")))
	b.wait("saved, error gone", `document.querySelector('#tpl-state').textContent.includes("organisation's own") && document.querySelector('#mail-templates .form-error').hidden`)
	// The editor (built-in text, variables) and its preview (the mail in a
	// sandboxed frame): axe-core and screenshots at desktop and phone size.
	templateShots := func(suffix string) {
		t.Helper()
		b.wait("editor and preview", `document.querySelector('#tpl-variables [data-variable=FirstName]') && (document.querySelector('#tpl-preview-frame') || {}).srcdoc`)
		b.do("settle", chromedp.Sleep(300*time.Millisecond))
		b.do("to the editor", chromedp.Evaluate[chromedp.Void](`document.querySelector('#mail-templates').scrollIntoView({ block: 'start' })`))
		b.viewShot(art, "settings-template-editor"+suffix+".png")
		b.do("to the preview", chromedp.Evaluate[chromedp.Void](`document.querySelector('#tpl-preview').scrollIntoView({ block: 'start' })`))
		b.viewShot(art, "settings-template-preview"+suffix+".png")
		var over []string
		b.eval(strings.Replace(overflowing, "document.querySelectorAll('body *')", "document.querySelectorAll('#mail-templates, #mail-templates *')", 1), &over)
		if len(over) > 0 {
			t.Errorf("the template editor%s has elements wider than the viewport: %v", suffix, over)
		}
	}
	templateShots("")
	axe.check(b, "settings: mail template editor and preview")
	b.do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(), chromedp.WaitVisible(css("#tpl-html")))
	templateShots("-phone")
	axe.check(b, "settings: mail template editor and preview (phone)")
	b.colorScheme("dark")
	templateShots("-dark-phone")
	axe.check(b, "settings: mail template editor and preview (dark, phone)")
	b.colorScheme("")
	b.do("desktop", chromedp.EmulateViewport(1440, 900), chromedp.Reload(), chromedp.WaitVisible(css("#tpl-html")))

	// ---- 4. a user manager is offered only what they may do.
	b.do("sign out", chromedp.Click(css("#logout")), chromedp.WaitVisible(css("#login-username")))
	b.signIn(d.base, "uma@example.com")
	b.wait("rows", `document.querySelector('`+row("dev@example.com")+`')`)
	var hiddenNav string
	b.eval(`[...document.querySelectorAll('#nav li')].filter((li) => li.hidden).map((li) => li.firstElementChild.dataset.view).join(',')`, &hiddenNav)
	if hiddenNav != "settings,tokens,ldap,audit" {
		t.Errorf("a user manager's hidden pages: %q", hiddenNav)
	}
	items := func(username string) string {
		var acts []string
		b.eval(`[...document.querySelectorAll('`+row(username)+` [role=menuitem]')].map((e) => e.dataset.action)`, &acts)
		return strings.Join(acts, ",")
	}
	if got := items("dev@example.com"); strings.Contains(got, "disable") || strings.Contains(got, "archive") || !strings.Contains(got, "edit") {
		t.Errorf("a user manager's menu on a developer: %s", got)
	}
	if got := items("umb@example.com"); got != "details" {
		t.Errorf("a user manager's menu on a peer: %s, want details only", got)
	}
	openMenu("dev@example.com")
	b.do("change role", chromedp.Click(css(row("dev@example.com")+` [data-action=role]`)), chromedp.WaitVisible(css("#role-select")))
	var roles string
	b.eval(`[...document.querySelectorAll('#role-select option')].map((o) => o.value).join(',')`, &roles)
	if roles != "developer,member" {
		t.Errorf("a user manager may give the roles %q, want developer,member", roles)
	}
	b.do("close", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(css("#role-select")))
	b.do("select the developer", chromedp.Click(css(row("dev@example.com")+` .row-select`)))
	var bulk string
	b.eval(`[...document.querySelectorAll('#bulkbar [data-bulk]')].map((b) => b.dataset.bulk).join(',')`, &bulk)
	if bulk != "" {
		t.Errorf("a user manager's bulk actions: %q, want none", bulk)
	}
	b.do("groups as a user manager", chromedp.Navigate(d.base+"/console/#/groups"), chromedp.WaitVisible(css("#groups-table")))
	var umGroups string
	b.eval(`document.querySelectorAll('#groups-table [data-rename], #groups-table [data-delete], #group-create').length + ''`, &umGroups)
	if umGroups != "0" {
		t.Errorf("a user manager is offered %s group changes", umGroups)
	}
	_ = devID

	// Groups owned by a directory, invitees on hold, resending an invitation
	// in a language, the apps page (users, roles, unassign, message) and the
	// organisation profile: against a roster that mails.
	consoleAppsAndInvites(t, axe, art)

	// ---- 5. the console in the browser's language (German), the switcher
	// (French, kept over a reload), and English when a catalog fails.
	consoleLanguages(t, d, axe, art)
}

// consoleLanguages checks the console in German for a browser set to
// German, then French from the switcher, then English when the catalog
// cannot be fetched.
func consoleLanguages(t *testing.T, d *daemon, axe *axeReport, art string) {
	t.Helper()
	b := newBrowser(t, chromedp.Flag("lang", "de-DE"), chromedp.Flag("accept-lang", "de-DE,de"))
	var navLang string
	b.do("open the console", chromedp.Navigate(d.base+"/console/#/users"), chromedp.WaitVisible(css("#login-username")))
	b.eval(`navigator.languages[0] || navigator.language`, &navLang)
	if !strings.HasPrefix(navLang, "de") {
		t.Fatalf("chromium with --lang=de reports navigator.languages %q", navLang)
	}
	text := func(sel string) string {
		t.Helper()
		var s string
		b.eval(`(document.querySelector(`+jsQuote(sel)+`) || { textContent: '(missing)' }).textContent.trim()`, &s)
		return s
	}
	b.wait("login in German", `document.documentElement.lang === 'de' && document.querySelector('#login-submit').textContent === 'Anmelden'`)
	if got := text("label[for=login-language]"); got != "Sprache" {
		t.Errorf("the sign-in page's language switcher is labelled %q", got)
	}
	var loginLang string
	b.eval(`document.querySelector('#login-language').value`, &loginLang)
	if loginLang != "de" {
		t.Errorf("the sign-in page's language switcher shows %q, want de", loginLang)
	}
	axe.check(b, "sign-in (German)")
	b.signIn(d.base, "olive@example.com")
	b.wait("rows", `document.querySelector('`+row("dev@example.com")+`')`)
	for _, c := range []struct{ sel, want string }{
		{"main h1", "Benutzer"},
		{"#add-user", "+ Benutzer hinzufügen"},
		{"#logout", "Abmelden"},
		{"#nav a[data-view=settings]", "Einstellungen"},
		{"#language-label", "Sprache"},
		{"#columns-button", "Spalten"},
		{`#users-table th button[data-col=full_name]`, "Vollständiger Name ▲"},
		{row("dev@example.com") + ` td[data-col=status]`, "Aktiv"},
		{`#users-table th button[data-col=email]`, "E-Mail"}, // the schema's label, translated
		{`#users-table th button[data-col=status]`, "Status"},
		{`#users-table th button[data-col=role]`, "Rolle"},
		{"#filters-box summary", "Filter"},
		{"#prev-page", "Zurück"},
	} {
		if got := text(c.sel); got != c.want {
			t.Errorf("German users list, %s: %q, want %q", c.sel, got, c.want)
		}
	}
	if got := text("[data-count=count-all]"); !strings.HasSuffix(got, " Alle Benutzer") {
		t.Errorf("German counts: %q, want … Alle Benutzer", got)
	}
	var aria string
	b.eval(`document.querySelector('`+row("dev@example.com")+` .menu-button').getAttribute('aria-label')`, &aria)
	if aria != "Aktionen für dev@example.com" {
		t.Errorf("German actions button label %q", aria)
	}
	b.screenshot(art, "view-users-de.png")
	axe.check(b, "users (German)")

	b.do("add user", chromedp.Click(css("#add-user")), chromedp.WaitVisible(css("#add-dialog")))
	for _, c := range []struct{ sel, want string }{
		{"#add-dialog h2", "Benutzer hinzufügen"},
		{"#tab-basic", "Grunddaten"},
		{"#tab-invite", "Einladung per E-Mail"},
		{"#add-dialog .actions button[type=button]", "Abbrechen"},
		{"label[for=add-first]", "Vorname"},
	} {
		if got := text(c.sel); got != c.want {
			t.Errorf("German add dialog, %s: %q, want %q", c.sel, got, c.want)
		}
	}
	b.screenshot(art, "dialog-add-user-de.png")
	axe.check(b, "dialog: add user (German)")
	b.do("close", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(css("#add-dialog")))

	// Dates by Intl in the chosen language: 4. Dez. 2026, 04:16.
	b.do("user page", chromedp.Click(css(row("dev@example.com")+` .user-link`)), chromedp.WaitVisible(css("#user-page")))
	b.wait("history", `document.querySelectorAll('#details-history .sentence').length >= 1`)
	if got := text("#user-history-title"); got != "Verlauf" {
		t.Errorf("German user page: the history heading is %q", got)
	}
	var stamp, want, english, sentence string
	at := `new Date(document.querySelector('#details-history time').getAttribute('datetime'))`
	short := func(lang string) string {
		return `new Intl.DateTimeFormat('` + lang + `', { day: 'numeric', month: 'short' }).format(` + at + `) + ' ' + new Intl.DateTimeFormat('` + lang + `', { hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(` + at + `)`
	}
	b.eval(`document.querySelector('#details-history time').textContent`, &stamp)
	b.eval(short("de"), &want)
	b.eval(short("en-GB"), &english)
	if stamp != want || stamp == english {
		t.Errorf("German user page: the history time is %q, want %q (English %q)", stamp, want, english)
	}
	b.eval(`[...document.querySelectorAll('#details-history .sentence')].pop().textContent`, &sentence)
	if !strings.HasPrefix(sentence, "Angelegt von olive@example.com, ") {
		t.Errorf("German user page: the first history sentence is %q", sentence)
	}
	axe.check(b, "user page (German)")
	b.do("back", chromedp.NavigateBack(), chromedp.WaitVisible(css("#users-table")))

	// The switcher: French now and after a reload.
	b.do("switch to French", chromedp.Evaluate[chromedp.Void](`(() => { window.frenchMark = 1; const s = document.querySelector('#language-switch'); s.value = 'fr'; s.dispatchEvent(new Event('change')); })()`))
	b.waitAcrossLoad("French", `window.frenchMark === undefined && document.documentElement.lang === 'fr' && (document.querySelector('main h1') || {}).textContent === 'Utilisateurs'`)
	b.do("reload", chromedp.Reload())
	b.wait("still French", `document.documentElement.lang === 'fr' && (document.querySelector('main h1') || {}).textContent === 'Utilisateurs' && document.querySelector('#language-switch').value === 'fr'`)
	if got := text("#logout"); got != "Se déconnecter" {
		t.Errorf("French after reload, sign-out button %q", got)
	}

	// A catalog that cannot be fetched: English, and the console works.
	if _, err := chromedp.Call(b.ctx, network.Enable, network.EnableParams{}); err != nil {
		b.fail("network enable", err)
	}
	if _, err := chromedp.Call(b.ctx, network.SetBlockedURLs, network.SetBlockedURLsParams{URLPatterns: []*network.BlockPattern{{URLPattern: d.base + "/console/static/i18n/*", Block: true}}}); err != nil {
		b.fail("block the catalogs", err)
	}
	b.do("reload without catalogs", chromedp.Reload())
	b.wait("English", `document.documentElement.lang === 'en' && (document.querySelector('main h1') || {}).textContent === 'Users' && document.querySelector('`+row("dev@example.com")+`')`)
	if got := text("#add-user"); got != "+ Add user" {
		t.Errorf("without its catalog, the add button reads %q", got)
	}
}

// waitAcrossLoad polls expr while the page may be reloading (an
// evaluation in a document being replaced fails; it is tried again).
func (b *browser) waitAcrossLoad(what, expr string) {
	b.t.Helper()
	deadline := time.Now().Add(25 * time.Second)
	for time.Now().Before(deadline) {
		ok, err := chromedp.Run(b.ctx, chromedp.Evaluate[bool](`(() => { try { return !!(`+expr+`); } catch (e) { return false; } })()`))
		if err == nil && ok {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.fail(what, fmt.Errorf("not true after 25 s: %s", expr))
}

// jsQuote is s as a JavaScript string literal.
func jsQuote(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}
