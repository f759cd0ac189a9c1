package e2e_test

import (
	"encoding/csv"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
)

// TestUserPageAndAuditLog: one user's page has its own URL (reload and back
// keep it) and shows a role change as a sentence; an app unassigned there is
// gone; the audit log's filters narrow its rows and its CSV export
// downloads the filtered rows.
func TestUserPageAndAuditLog(t *testing.T) {
	b := newBrowser(t)
	art := artifacts(t)
	d, api := uxSetup(t)
	ann := activeUser(t, d, api, "ann@example.com", "member")
	activeUser(t, d, api, "ben@example.com", "member")
	app := d.call(t, "POST", "/api/v1/apps", api, `{"name":"CRM"}`)["id"].(string)
	d.call(t, "POST", "/api/v1/apps/"+app+"/assignments", api, fmt.Sprintf(`{"user_id":%q,"app_role":"editor"}`, ann))
	d.call(t, "PUT", "/api/v1/org/metadata-template", api, `{"fields":[{"name":"office","label":"Office","type":"string"}]}`)
	d.call(t, "PATCH", "/api/v1/users/"+ann, api, `{"metadata":{"office":"Berlin"}}`)

	b.signIn(d.base, "olive@example.com")
	b.wait("rows", `document.querySelector('`+row("ann@example.com")+`')`)
	// The custom metadata column: a tooltip for the users with any.
	b.wait("metadata tip", `document.querySelector('`+row("ann@example.com")+` td[data-col=metadata] [data-metadata]')`)
	var benTip bool
	b.eval(`!!document.querySelector('`+row("ben@example.com")+` td[data-col=metadata] [data-metadata]')`, &benTip)
	if benTip {
		t.Error("a user without custom metadata has a metadata tooltip")
	}
	b.do("hover the tooltip", chromedp.Focus(css(row("ann@example.com")+` [data-metadata]`)))
	b.wait("tooltip shown", `(() => { const tip = document.querySelector('`+row("ann@example.com")+` [role=tooltip]'); return tip.matches(':popover-open') && tip.textContent === 'Office: Berlin'; })()`)

	// The row's name opens the user's page, with its own URL.
	b.do("open ann's page", chromedp.Click(css(row("ann@example.com")+` a.user-link`)), chromedp.WaitVisible(css("#user-page")))
	var hash string
	b.eval(`location.hash`, &hash)
	if hash != "#/users/"+ann {
		t.Fatalf("the user page's URL is %q", hash)
	}
	b.wait("attributes, custom field, apps", `document.querySelector('#user-details dd[data-attr=email]').textContent === 'ann@example.com' && document.querySelector('#user-custom').textContent.includes('Berlin') && document.querySelector('#details-apps tr[data-app=CRM]')`)

	// A role change (through the page's Change role) reads as a sentence.
	b.do("change role", chromedp.Click(css(`#user-actions [data-action=role]`)), chromedp.WaitVisible(css("#role-select")))
	b.setValue("#role-select", "admin")
	b.do("save", chromedp.Click(css(`dialog[open] button[type=submit]`)))
	b.wait("the sentence", `[...document.querySelectorAll('#details-history .sentence')].some((s) => /^Role changed from Member to Admin by olive@example\.com, \d+ \w+ \d\d:\d\d$/.test(s.textContent))`)
	b.do("reload", chromedp.Reload(), chromedp.WaitVisible(css("#user-page")))
	b.wait("the same page after a reload", `location.hash === '#/users/`+ann+`' && document.querySelector('#details-history .sentence')`)

	// The app role is changed, then the app unassigned, on the page.
	b.do("new app role", chromedp.Click(css(`[data-change-role=CRM]`)), chromedp.WaitVisible(css(`[data-app-role=CRM]`)),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-app-role=CRM]').value = 'viewer'`), chromedp.Click(css(`[data-role-form=CRM] button[type=submit]`)))
	b.wait("role changed", `(document.querySelector('[data-app-role-text=CRM]') || {}).textContent === 'viewer Change' && [...document.querySelectorAll('#details-history .sentence')].some((s) => s.textContent.startsWith('App role in CRM changed from editor to viewer by '))`)
	b.do("no toast", chromedp.Evaluate[chromedp.Void](`document.getElementById('toast').className = 'toast'`))
	b.screenshot(art, "user-page-history.png")
	b.do("unassign", chromedp.Click(css(`[data-unassign=CRM]`)), chromedp.WaitVisible(css("#confirm-ok")), chromedp.Click(css("#confirm-ok")))
	b.wait("app gone", `!document.querySelector('#details-apps') && document.querySelector('#no-apps') && [...document.querySelectorAll('#details-history .sentence')].some((s) => s.textContent.startsWith('App CRM unassigned by '))`)
	got := d.call(t, "GET", "/api/v1/users/"+ann, api, "")
	if apps, _ := got["apps"].([]any); len(apps) != 0 {
		t.Fatalf("after unassigning on the page the user still has %v", apps)
	}
	// Back returns to the list.
	b.do("back", chromedp.NavigateBack(), chromedp.WaitVisible(css("#users-table")))

	// The audit log: filters narrow the rows, the URL keeps them, the CSV
	// of the filter downloads.
	b.do("audit", chromedp.Click(css(`#nav a[data-view=audit]`)), chromedp.WaitVisible(css("#audit-table")))
	var all int
	b.eval(`document.querySelectorAll('#audit-table tbody tr[data-id]').length`, &all)
	b.do("filter by user", chromedp.SendKeys(css("#audit-user"), "ann@example.com"), chromedp.Click(css(`#audit-filters button[type=submit]`)))
	b.wait("ann's entries only", `location.hash.includes('user=ann') && document.querySelectorAll('#audit-table tbody tr[data-id]').length > 0 && [...document.querySelectorAll('#audit-table tbody tr[data-id]')].every((tr) => tr.dataset.target === '`+ann+`')`)
	b.do("no toast", chromedp.Evaluate[chromedp.Void](`document.getElementById('toast').className = 'toast'`))
	b.screenshot(art, "audit-log-filtered.png")
	var annRows int
	b.eval(`document.querySelectorAll('#audit-table tbody tr[data-id]').length`, &annRows)
	b.setValue("#audit-action", "app.unassign")
	b.do("and by action", chromedp.Click(css(`#audit-filters button[type=submit]`)))
	b.wait("one entry", `document.querySelectorAll('#audit-table tbody tr[data-id]').length === 1 && document.querySelector('#audit-table tbody tr[data-id]').dataset.action === 'app.unassign'`)
	if annRows >= all || annRows < 4 {
		t.Errorf("all %d rows, ann's %d", all, annRows)
	}
	b.do("reload", chromedp.Reload(), chromedp.WaitVisible(css("#audit-table")))
	b.wait("the filter kept", `document.querySelector('#audit-user').value === 'ann@example.com' && document.querySelector('#audit-action').value === 'app.unassign' && document.querySelectorAll('#audit-table tbody tr[data-id]').length === 1`)
	// A time range after every entry: none; the range back: the same rows.
	b.do("since tomorrow", chromedp.Evaluate[chromedp.Void](`(() => { const d = new Date(Date.now() + 86400000); const p = (n) => String(n).padStart(2, '0');
		document.querySelector('#audit-since').value = d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes()); })()`),
		chromedp.Click(css(`#audit-filters button[type=submit]`)))
	b.wait("nothing since tomorrow", `location.hash.includes('since=') && document.querySelectorAll('#audit-table tbody tr[data-id]').length === 0 && document.querySelector('#audit-table td.empty')`)
	b.do("until tomorrow", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#audit-since'); document.querySelector('#audit-until').value = s.value; s.value = ''; })()`),
		chromedp.Click(css(`#audit-filters button[type=submit]`)))
	b.wait("the entry until tomorrow", `location.hash.includes('until=') && !location.hash.includes('since=') && document.querySelectorAll('#audit-table tbody tr[data-id]').length === 1`)
	b.do("no time range", chromedp.Evaluate[chromedp.Void](`document.querySelector('#audit-until').value = ''`))
	b.do("only ann's", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#audit-action'); s.value = ''; })()`), chromedp.Click(css(`#audit-filters button[type=submit]`)))
	b.wait("ann's rows", fmt.Sprintf(`document.querySelectorAll('#audit-table tbody tr[data-id]').length === %d`, annRows))
	dir := t.TempDir()
	if _, err := chromedp.CallBrowser(b.ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllow, DownloadPath: dir}); err != nil {
		t.Fatal(err)
	}
	b.do("export", chromedp.Click(css("#audit-export")))
	var rows [][]string
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		if f, err := os.Open(filepath.Join(dir, "audit.csv")); err == nil {
			rows, err = csv.NewReader(f).ReadAll()
			f.Close()
			if err == nil && len(rows) > 0 {
				break
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	if len(rows) != annRows+1 || rows[0][0] != "id" {
		t.Fatalf("the download has %d rows, want the header and %d: %v", len(rows), annRows, rows)
	}
	for _, r := range rows[1:] {
		if r[7] != ann {
			t.Fatalf("the download has a row about %s: %v", r[7], r)
		}
	}
	if !strings.Contains(strings.Join(rows[len(rows)-1], ","), "user.create") {
		t.Errorf("the oldest of ann's rows is not her creation: %v", rows[len(rows)-1])
	}
	// A bad time is refused naming its field.
	b.do("a bad filter", chromedp.Navigate(d.base+"/console/#/audit?since=yesterday"), chromedp.WaitVisible(css("#audit-filters")))
	b.wait("the error", `!document.querySelector('#audit-filters .form-error').hidden && document.querySelector('#audit-filters .form-error').textContent.includes('since')`)

	// Paging is in the URL: after a reload (or from a shared link) Newer
	// still goes back page by page, and the browser's Back too.
	ben := userID(t, d, api, "ben@example.com")
	for i := range 210 {
		d.call(t, "PATCH", "/api/v1/users/"+ben, api, fmt.Sprintf(`{"first_name":"Ben%d"}`, i))
	}
	b.do("ben's log", chromedp.Navigate(d.base+"/console/#/audit?user=ben%40example.com"), chromedp.WaitVisible(css("#audit-table tbody tr[data-id]")))
	first := func() string {
		t.Helper()
		var id string
		b.eval(`document.querySelector('#audit-table tbody tr[data-id]').dataset.id`, &id)
		return id
	}
	pages := []string{first()}
	for i := 1; i < 3; i++ {
		b.do("older", chromedp.Click(css("#audit-older")))
		b.wait("the next page", `document.querySelector('#audit-table tbody tr[data-id]').dataset.id !== '`+pages[i-1]+`'`)
		pages = append(pages, first())
	}
	var olderOff bool
	b.eval(`document.querySelector('#audit-older').disabled`, &olderOff)
	if !olderOff {
		t.Errorf("page 3 of ben's %d+ entries still offers Older", 211)
	}
	var third string
	b.eval(`location.href`, &third)
	b.do("reload page 3", chromedp.Reload(), chromedp.WaitVisible(css("#audit-table tbody tr[data-id]")))
	b.wait("page 3 after the reload", `document.querySelector('#audit-table tbody tr[data-id]').dataset.id === '`+pages[2]+`'`)
	for i := 1; i >= 0; i-- {
		b.wait("Newer offered", `!document.querySelector('#audit-newer').disabled`)
		b.do("newer", chromedp.Click(css("#audit-newer")))
		b.wait(fmt.Sprintf("page %d again", i+1), `document.querySelector('#audit-table tbody tr[data-id]').dataset.id === '`+pages[i]+`'`)
	}
	b.wait("the newest: no Newer", `document.querySelector('#audit-newer').disabled && document.querySelector('#audit-newest').disabled && !location.hash.includes('cursor=')`)
	b.do("back", chromedp.NavigateBack())
	b.wait("back on page 2", `location.hash.includes('cursor=') && document.querySelector('#audit-table tbody tr[data-id]').dataset.id === '`+pages[1]+`'`)
	// A shared link of page 3, opened afresh.
	b.do("away", chromedp.Navigate(d.base+"/console/#/users"), chromedp.WaitVisible(css("#users-table")))
	b.do("the link", chromedp.Navigate(third), chromedp.WaitVisible(css("#audit-table tbody tr[data-id]")))
	b.wait("page 3 from the link", `document.querySelector('#audit-table tbody tr[data-id]').dataset.id === '`+pages[2]+`' && document.querySelector('#audit-user').value === 'ben@example.com'`)
	b.do("newer from the link", chromedp.Click(css("#audit-newer")))
	b.wait("page 2 from the link", `document.querySelector('#audit-table tbody tr[data-id]').dataset.id === '`+pages[1]+`'`)
}
