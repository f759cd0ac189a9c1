package e2e_test

import (
	"encoding/csv"
	"fmt"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleUsersList: the list's view lives in the URL (reload, back and
// forward keep filter and page), "select all N matching" acts on every match
// server-side, and Export downloads the CSV of the current filter.
func TestConsoleUsersList(t *testing.T) {
	b := newBrowser(t)
	d, api := uxSetup(t)
	for i := range 13 {
		activeUser(t, d, api, fmt.Sprintf("dev%02d@example.com", i), "developer")
	}
	for i := range 4 {
		activeUser(t, d, api, fmt.Sprintf("mem%02d@example.com", i), "member")
	}
	b.signIn(d.base, "olive@example.com")
	rows := `[...document.querySelectorAll('#users-table tbody tr[data-username]')].map((r) => r.dataset.username)`
	var got []string
	hash := func() string {
		var h string
		b.eval(`location.hash`, &h)
		return h
	}

	// ---- filter, size and page go into the URL.
	b.setValue("#filter-role", "developer")
	b.wait("developers only", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 13`)
	b.setValue("#page-size", "10")
	b.wait("ten rows", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 10`)
	b.do("next page", chromedp.Click(css("#next-page")))
	b.wait("page 2", `document.getElementById('page-info').textContent.startsWith('11–13 of 13')`)
	page2 := hash()
	for _, want := range []string{"role=developer", "size=10", "page=2", "after="} {
		if !strings.Contains(page2, want) {
			t.Fatalf("page 2's URL %q lacks %q", page2, want)
		}
	}
	var before []string
	b.eval(rows, &before)

	// ---- reload keeps filter and page.
	b.do("reload", chromedp.Reload(), chromedp.WaitVisible(css("#users-table")))
	b.wait("page 2 after reload", `document.getElementById('page-info').textContent.startsWith('11–13 of 13')`)
	b.eval(rows, &got)
	if strings.Join(got, ",") != strings.Join(before, ",") || hash() != page2 {
		t.Fatalf("after reload: rows %v (want %v), URL %s", got, before, hash())
	}
	var role string
	b.eval(`document.getElementById('filter-role').value`, &role)
	if role != "developer" {
		t.Fatalf("the role filter after reload is %q", role)
	}
	// Previous after a reload finds page 1 again.
	b.do("previous", chromedp.Click(css("#prev-page")))
	b.wait("page 1", `document.getElementById('page-info').textContent.startsWith('1–10 of 13')`)

	// ---- back and forward.
	b.do("back", chromedp.Evaluate[chromedp.Void](`history.back()`))
	b.wait("back on page 2", `document.getElementById('page-info') && document.getElementById('page-info').textContent.startsWith('11–13 of 13')`)
	b.do("back", chromedp.Evaluate[chromedp.Void](`history.back()`))
	b.wait("back on page 1 of 10", `location.hash.indexOf('page=') < 0 && document.getElementById('page-info') && document.getElementById('page-info').textContent.startsWith('1–10 of 13')`)
	b.do("back", chromedp.Evaluate[chromedp.Void](`history.back()`))
	b.wait("back to 25 a page", `!location.hash.includes('size=') && document.querySelectorAll('#users-table tbody tr[data-username]').length === 13`)
	b.do("back", chromedp.Evaluate[chromedp.Void](`history.back()`))
	b.wait("back to no filter", `!location.hash.includes('role=') && document.getElementById('filter-role').value === '' && document.querySelectorAll('#users-table tbody tr[data-username]').length === 18`)
	b.do("forward", chromedp.Evaluate[chromedp.Void](`history.forward()`))
	b.wait("forward to the developers", `document.getElementById('filter-role').value === 'developer' && document.querySelectorAll('#users-table tbody tr[data-username]').length === 13`)

	// ---- a shared link opens the same view.
	b.do("open a link", chromedp.Navigate(d.base+"/console/#/users?role=member&sort=-username"), chromedp.WaitVisible(css("#users-table")))
	b.wait("members by username descending", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 4`)
	b.eval(rows, &got)
	if strings.Join(got, ",") != "mem03@example.com,mem02@example.com,mem01@example.com,mem00@example.com" {
		t.Fatalf("the shared link shows %v", got)
	}

	// ---- export: the CSV of the current filter.
	var csvText string
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[string](`(async () => { const a = document.getElementById('export-csv'); const r = await fetch(a.href); return (r.headers.get('content-disposition') || '') + '\n' + await r.text(); })()`, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fail("export", err)
	}
	csvText = raw
	disp, body, _ := strings.Cut(csvText, "\n")
	if !strings.Contains(disp, "attachment") {
		t.Fatalf("the export is not a download: %q", disp)
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil || len(recs) != 5 {
		t.Fatalf("export: %d records, %v\n%s", len(recs), err, body)
	}
	col := map[string]int{}
	for i, h := range recs[0] {
		col[h] = i
	}
	for i, r := range recs[1:] {
		if r[col["role"]] != "member" || r[col["username"]] != got[i] {
			t.Fatalf("export row %d: %v (want %s, member)", i, r, got[i])
		}
	}

	// ---- select all N matching: every developer, not only the page.
	b.do("developers, ten a page", chromedp.Navigate(d.base+"/console/#/users?role=developer&size=10"), chromedp.WaitVisible(css("#users-table")))
	b.wait("ten rows", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 10`)
	b.do("select the page", chromedp.Click(css("#select-all")))
	b.wait("offer all 13", `document.getElementById('select-all-matching') && document.getElementById('select-all-matching').textContent.includes('13')`)
	b.do("select all 13", chromedp.Click(css("#select-all-matching")))
	b.wait("13 selected", `document.getElementById('selected-count').textContent.includes('13')`)
	b.do("de-activate all", chromedp.Click(css(`button[data-bulk=deactivate]`)), chromedp.WaitVisible(css("#confirm-ok")), chromedp.Click(css("#confirm-ok")))
	b.wait("13 results", `document.querySelectorAll('#bulk-results li.ok').length === 13`)
	list := d.call(t, "GET", "/api/v1/users?role=developer&status=disabled", api, "")
	if list["total"] != 13.0 {
		t.Fatalf("after select-all-N: %v developers disabled, want 13", list["total"])
	}
	if m := d.call(t, "GET", "/api/v1/users?role=member&status=active", api, ""); m["total"] != 4.0 {
		t.Fatalf("members outside the filter changed: %v active", m["total"])
	}
	b.checkConsole()
}
