package e2e_test

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/rosterhq/roster/internal/testkit/mailtest"
)

// consoleAppsAndInvites is the part of TestConsoleUX that needs mail: a
// directory's group offers no change and says where it is changed;
// disabled and archived invitees show "On hold" with the reason; Resend
// invite mails in the language chosen (the user's by default); the apps
// page renders each app's actions, its users dialog lists direct and group
// access with the app role, changes a role, unassigns (the app leaves the
// user) and assigns; Message app users mails them over SMTP; the
// organisation profile card saves the display name the mails then carry; a
// user manager sees the users of an app and messages them, changes nothing.
// axe-core and screenshots at desktop and phone size for each.
func consoleAppsAndInvites(t *testing.T, axe *axeReport, art string) {
	t.Helper()
	smtp := mailtest.Start(t)
	d, api := uxSetupWith(t, fmt.Sprintf("smtp: {host: %s, port: %d, tls: none, from: \"roster <roster@example.test>\"}\n", smtp.Host, smtp.Port))
	call := func(method, path, body string) map[string]any { t.Helper(); return d.call(t, method, path, api, body) }

	ada := activeUser(t, d, api, "ada@example.com", "member")
	bob := activeUser(t, d, api, "bob@example.com", "member")
	activeUser(t, d, api, "uma@example.com", "user_manager")
	invite := func(username, lang string) string {
		t.Helper()
		return call("POST", "/api/v1/users", fmt.Sprintf(`{"username":%q,"email":%q,"first_name":"Ivy","last_name":"Invitee","language":%q}`, username, username, lang))["id"].(string)
	}
	invite("ivy@example.com", "de")
	hal := invite("hal@example.com", "en")
	arc := invite("arc@example.com", "en")
	call("POST", "/api/v1/users/"+hal+"/disable", `{}`)
	call("POST", "/api/v1/users/"+arc+"/archive", `{}`)
	smtp.WaitTo(t, "ivy@example.com", 30*time.Second)

	scimTok := call("POST", "/api/v1/tokens", `{"name":"okta","scope":"scim"}`)["token"].(string)
	req, _ := http.NewRequest("POST", d.base+"/scim/v2/Groups", strings.NewReader(`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:Group"],"displayName":"Okta-Eng"}`))
	req.Header.Set("Content-Type", "application/scim+json")
	req.Header.Set("Authorization", "Bearer "+scimTok)
	if res, err := http.DefaultClient.Do(req); err != nil || res.StatusCode != 201 {
		t.Fatalf("scim group: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	finance := call("POST", "/api/v1/groups", `{"name":"Finance"}`)["id"].(string)
	call("POST", "/api/v1/groups/"+finance+"/members", fmt.Sprintf(`{"user_ids":[%q]}`, bob))
	app := call("POST", "/api/v1/apps", `{"name":"Expenses"}`)["id"].(string)
	call("POST", "/api/v1/apps/"+app+"/assignments", fmt.Sprintf(`{"user_id":%q,"app_role":"approver"}`, ada))
	call("POST", "/api/v1/apps/"+app+"/assignments", fmt.Sprintf(`{"group_id":%q,"app_role":"viewer"}`, finance))

	b := newBrowser(t)
	b.signIn(d.base, "olive@example.com")
	// shots saves the view at desktop size and on a phone (390×844), with
	// axe-core at both and nothing wider than the phone's viewport.
	// A page (not a dialog) is loaded again at phone size, as a phone opens it.
	shots := func(name, view string) {
		t.Helper()
		b.screenshot(art, name+".png")
		axe.check(b, view)
		b.do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile))
		var inDialog bool
		b.eval(`!!document.querySelector('dialog[open]')`, &inDialog)
		if !inDialog {
			b.do("reload", chromedp.Reload(), chromedp.WaitVisible(css("main h1")))
		}
		b.do("settle", chromedp.Sleep(300*time.Millisecond))
		var over []string
		b.eval(overflowing, &over)
		if len(over) > 0 {
			t.Errorf("at 390×844 %s runs past the viewport: %v", view, over)
		}
		b.screenshot(art, name+"-phone.png")
		axe.check(b, view+" (phone)")
		b.do("desktop", chromedp.EmulateViewport(1440, 900), chromedp.Sleep(200*time.Millisecond))
	}
	text := func(expr string) string {
		t.Helper()
		var s string
		b.eval(`(() => { const e = `+expr+`; return e ? e.textContent.trim() : '(missing)'; })()`, &s)
		return s
	}

	// ---- a directory's group: no rename, delete or member change, a note naming its source.
	b.do("groups", chromedp.Navigate(d.base+"/console/#/groups"), chromedp.WaitVisible(css(`#groups-table tr[data-name=Okta-Eng]`)))
	if got := text(`document.querySelector('[data-note=Okta-Eng]')`); got != "Managed by SCIM source okta: change it in the directory." {
		t.Errorf("the directory group's note: %q", got)
	}
	var offered string
	b.eval(`[...document.querySelectorAll('#groups-table tr[data-name=Okta-Eng] button')].map((b) => Object.keys(b.dataset).join('')).join(',')`, &offered)
	if offered != "members,message" {
		t.Errorf("the directory group offers %q, want members,message (no rename, delete)", offered)
	}
	if got := text(`document.querySelector('[data-note=Finance]')`); got != "(missing)" {
		t.Errorf("the native group has a directory note: %q", got)
	}
	shots("view-groups-directory-note", "groups: directory note")

	// ---- invitees on hold.
	b.do("users", chromedp.Navigate(d.base+"/console/#/users"), chromedp.WaitVisible(css(row("hal@example.com"))))
	for u, want := range map[string]string{"hal@example.com": "On hold: user disabled", "arc@example.com": "On hold: user archived", "ivy@example.com": "Pending"} {
		var got string
		b.eval(`(`+cellText(u, "invite_status")+` || '(missing)').trim()`, &got)
		if got != want {
			t.Errorf("%s: invite status %q, want %q", u, got, want)
		}
	}
	// The header counts them, and the count is the filter.
	b.wait("the on-hold count", `document.querySelector('#counts [data-count=count-invite-on_hold] .n') && document.querySelector('#counts [data-count=count-invite-on_hold] .n').textContent === '2'`)
	if got := text(`document.querySelector('#counts [data-count=count-invite-on_hold]')`); !strings.Contains(got, "Invite on hold") {
		t.Errorf("the on-hold count reads %q", got)
	}
	b.do("click the on-hold count", chromedp.Click(css(`#counts [data-count=count-invite-on_hold]`)))
	b.wait("two on hold", `location.hash.includes('invite_status=on_hold') && document.querySelector('#filter-invite_status').value === 'on_hold' && document.querySelectorAll('#users-table tbody tr[data-username]').length === 2 && document.querySelector('`+row("hal@example.com")+`') && document.querySelector('`+row("arc@example.com")+`')`)
	shots("view-users-on-hold", "users: invitees on hold")

	// ---- the organisation profile: the display name the mails carry.
	b.do("settings", chromedp.Navigate(d.base+"/console/#/settings"), chromedp.WaitVisible(css("#org-profile")))
	var orgName string
	b.eval(`document.querySelector('#org-profile [name=name]').value`, &orgName)
	if orgName != "default" {
		t.Errorf("the profile's organisation name %q, want default", orgName)
	}
	b.do("display name", chromedp.Evaluate[chromedp.Void](`document.querySelector('#org-display-name').value = ''`), chromedp.SendKeys(css("#org-display-name"), "Acme Corp"),
		chromedp.Click(css("#org-profile-save")))
	b.wait("profile saved", `document.getElementById('toast').textContent === 'Organisation profile saved.'`)
	if got := call("GET", "/api/v1/org", "")["display_name"]; got != "Acme Corp" {
		t.Errorf("after saving the profile, display_name %v", got)
	}
	shots("view-settings-profile", "settings: organisation profile")
	b.do("bad support email", chromedp.Evaluate[chromedp.Void](`(() => { const f = document.querySelector('#org-profile'); f.noValidate = true; f.querySelector('#org-support-email').value = 'not-an-address'; })()`),
		chromedp.Click(css("#org-profile-save")))
	b.wait("refused naming the field", `!document.querySelector('#org-profile .form-error').hidden && document.querySelector('#org-support-email').getAttribute('aria-invalid') === 'true'`)
	if got := call("GET", "/api/v1/org", "")["support_email"]; got != "" {
		t.Errorf("a refused support email was stored: %v", got)
	}

	// ---- Resend invite: the user's language by default, another chosen, mailed in it.
	b.do("users", chromedp.Navigate(d.base+"/console/#/users"), chromedp.WaitVisible(css(row("ivy@example.com"))))
	b.do("resend", chromedp.Click(css(row("ivy@example.com")+` .menu-button`)), chromedp.Click(css(row("ivy@example.com")+` [data-action=resend-invite]`)), chromedp.WaitVisible(css("#resend-dialog")))
	var lang, langs string
	b.eval(`document.querySelector('#resend-language').value`, &lang)
	b.eval(`[...document.querySelectorAll('#resend-language option')].map((o) => o.value).join(',')`, &langs)
	if lang != "de" || langs != "en,de,fr,es" {
		t.Errorf("resend language %q of %q, want de (ivy's) of en,de,fr,es", lang, langs)
	}
	shots("dialog-resend-invite", "dialog: resend invite")
	b.setValue("#resend-language", "fr")
	b.do("send", chromedp.Click(css("#resend-submit")), chromedp.WaitNotPresent(css("#resend-dialog")))
	waitMail := func(rcpt string, n int) mailtest.Message {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for len(smtp.To(rcpt)) < n {
			if time.Now().After(deadline) {
				t.Fatalf("no mail %d to %s", n, rcpt)
			}
			time.Sleep(50 * time.Millisecond)
		}
		return smtp.To(rcpt)[n-1]
	}
	if body := waitMail("ivy@example.com", 2).Body(); !strings.Contains(body, "Bonjour Ivy") || !strings.Contains(body, "Acme Corp") {
		t.Errorf("the resent invitation is not in French from Acme Corp:\n%s", body)
	}

	// ---- the apps page: each app's actions, its users, roles, unassign, assign.
	b.do("apps", chromedp.Navigate(d.base+"/console/#/apps"), chromedp.WaitVisible(css(`#apps-table tr[data-name=Expenses]`)))
	b.eval(`[...document.querySelectorAll('#apps-table tr[data-name=Expenses] button')].map((b) => Object.keys(b.dataset).join('')).join(',')`, &offered)
	if offered != "users,assign,oidc,message,rename,delete" {
		t.Errorf("an owner's app actions %q", offered)
	}
	b.do("users of the app", chromedp.Click(css(`button[data-users=Expenses]`)), chromedp.WaitVisible(css("#app-users-dialog")))
	appRows := func() string {
		t.Helper()
		var rows []string
		b.eval(`[...document.querySelectorAll('#app-users tr[data-user]')].map((tr) => { const i = tr.querySelector('input'); return tr.dataset.user + '=' + (i ? i.value : tr.children[2].textContent) + '/' + tr.children[1].textContent; })`, &rows)
		var gs []string
		b.eval(`[...document.querySelectorAll('#app-groups li[data-group]')].map((li) => li.dataset.group)`, &gs)
		return strings.Join(rows, ",") + " | " + strings.Join(gs, ",")
	}
	b.wait("rows", `document.querySelectorAll('#app-users tr[data-user]').length === 2`)
	if got := appRows(); got != "ada@example.com=approver/Assigned directly,bob@example.com=viewer/Through group Finance | Finance" {
		t.Errorf("the app's users: %s", got)
	}
	var bobButtons int
	b.eval(`document.querySelectorAll('#app-users tr[data-user="bob@example.com"] button').length`, &bobButtons)
	if bobButtons != 0 {
		t.Errorf("access through a group offers %d buttons on the user", bobButtons)
	}
	shots("dialog-app-users", "dialog: app users")
	userApps := func(id string) string {
		t.Helper()
		var out []string
		for _, a := range call("GET", "/api/v1/users/"+id, "")["apps"].([]any) {
			m := a.(map[string]any)
			out = append(out, fmt.Sprintf("%s=%s", m["app_name"], m["app_role"]))
		}
		return strings.Join(out, ",")
	}
	b.do("change ada's role", chromedp.Evaluate[chromedp.Void](`document.querySelector('#app-users tr[data-user="ada@example.com"] input').value = 'admin'`),
		chromedp.Click(css(`button[data-save-role="ada@example.com"]`)))
	b.wait("role changed", `document.getElementById('toast').textContent === 'App role of ada@example.com: admin.'`)
	if got := userApps(ada); got != "Expenses=admin" {
		t.Errorf("ada's apps after the role change: %s", got)
	}
	b.do("unassign ada", chromedp.Click(css(`button[data-unassign="ada@example.com"]`)), chromedp.WaitVisible(css("#confirm-ok")), chromedp.Click(css("#confirm-ok")))
	b.wait("ada gone", `!document.querySelector('#app-users tr[data-user="ada@example.com"]') && document.querySelector('#app-users tr[data-user="bob@example.com"]')`)
	if got := userApps(ada); got != "" {
		t.Errorf("ada still has the app after unassigning: %s", got)
	}
	b.do("unassign the group", chromedp.Click(css(`button[data-unassign-group=Finance]`)), chromedp.WaitVisible(css("#confirm-ok")), chromedp.Click(css("#confirm-ok")))
	b.wait("nobody", `document.querySelectorAll('#app-users tr[data-user]').length === 0 && document.querySelector('#app-groups').textContent.includes('No group.')`)
	if got := userApps(bob); got != "" {
		t.Errorf("bob keeps the app after its group's grant ended: %s", got)
	}
	b.do("assign bob from the dialog", chromedp.Click(css("#app-users-assign")), chromedp.WaitVisible(css("#assign-dialog")),
		chromedp.SendKeys(css("#assign-user"), "bob@example.com"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#assign-role').value = 'editor'`),
		chromedp.Click(css("#assign-dialog button[type=submit]")), chromedp.WaitNotPresent(css("#assign-dialog")))
	b.wait("bob listed", `(document.querySelector('#app-users tr[data-user="bob@example.com"] input') || {}).value === 'editor'`)
	if got := userApps(bob); got != "Expenses=editor" {
		t.Errorf("bob's apps after assigning: %s", got)
	}
	b.do("close", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(css("#app-users-dialog")))
	shots("view-apps-actions", "apps: actions")

	// ---- Message app users: a mail to each over SMTP.
	b.do("message", chromedp.Click(css(`button[data-message=Expenses]`)), chromedp.WaitVisible(css("#app-message-dialog")),
		chromedp.SendKeys(css("#app-message-dialog [name=subject]"), "Expenses is down on Saturday"),
		chromedp.SendKeys(css("#app-message-dialog [name=body]"), "Submit by Friday."))
	shots("dialog-app-message", "dialog: message app users")
	b.do("send", chromedp.Click(css("#app-message-dialog button[type=submit]")), chromedp.WaitNotPresent(css("#app-message-dialog")))
	b.wait("queued", `document.getElementById('toast').textContent === '1 mail queued.'`)
	if m := waitMail("bob@example.com", 1); !strings.Contains(string(m.Raw), "Expenses is down on Saturday") || !strings.Contains(m.Body(), "Submit by Friday.") {
		t.Errorf("the app message to bob:\n%s", m.Raw)
	}
	if n := len(smtp.To("ada@example.com")); n != 0 {
		t.Errorf("ada, unassigned, got %d mails", n)
	}

	// ---- a user manager: the users of an app and a message, no change.
	call("PUT", "/api/v1/apps/"+app+"/oidc", `{"redirect_uris":["https://expenses.example.com/cb"]}`)
	b.do("sign out", chromedp.Click(css("#logout")), chromedp.WaitVisible(css("#login-username")))
	b.signIn(d.base, "uma@example.com")
	b.do("apps", chromedp.Navigate(d.base+"/console/#/apps"), chromedp.WaitVisible(css(`#apps-table tr[data-name=Expenses]`)))
	b.eval(`[...document.querySelectorAll('#apps-table tr[data-name=Expenses] button')].map((b) => Object.keys(b.dataset).join('')).join(',')`, &offered)
	var createForm bool
	b.eval(`!!document.querySelector('#app-create')`, &createForm)
	if offered != "users,oidc,message" || createForm {
		t.Errorf("a user manager's apps page offers %q (create form %v), want users,oidc,message only", offered, createForm)
	}
	// The sign-in settings, read-only (the app's view_oidc without edit_oidc).
	b.do("sign-in settings", chromedp.Click(css(`button[data-oidc=Expenses]`)), chromedp.WaitVisible(css("#oidc-dialog #oidc-client-id")))
	b.wait("read-only", `document.querySelector('#oidc-redirects').value === 'https://expenses.example.com/cb' && document.querySelector('#oidc-redirects').readOnly && document.querySelector('#oidc-kind').disabled && document.querySelector('#oidc-read-only')`)
	var changers string
	b.eval(`['#oidc-save', '#oidc-rotate', '#oidc-remove'].filter((s) => { const e = document.querySelector(s); return e && !e.hidden; }).join(',')`, &changers)
	if changers != "" {
		t.Errorf("a user manager's sign-in settings offer %s", changers)
	}
	shots("dialog-app-sign-in-read-only", "dialog: app sign-in settings (user manager, read-only)")
	b.do("close", chromedp.KeyEvent(kb.Escape), chromedp.WaitNotPresent(css("#oidc-dialog")))
	b.do("users of the app", chromedp.Click(css(`button[data-users=Expenses]`)), chromedp.WaitVisible(css("#app-users-dialog")))
	b.wait("bob listed read-only", `document.querySelector('#app-users tr[data-user="bob@example.com"]') && !document.querySelector('#app-users-dialog button[data-unassign], #app-users-dialog input, #app-users-assign')`)
	axe.check(b, "dialog: app users (user manager)")
}
