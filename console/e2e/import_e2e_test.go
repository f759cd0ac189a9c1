package e2e_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// TestConsoleImport: picking a file again after editing it checks the new
// content (it failed with "Failed to fetch"), the errors-only view names
// each bad cell, and lines typed into the grid import like a file's.
func TestConsoleImport(t *testing.T) {
	b := newBrowser(t)
	d, api := uxSetup(t)
	b.signIn(d.base, "olive@example.com")
	file := filepath.Join(t.TempDir(), "people.csv")
	write := func(s string) {
		if err := os.WriteFile(file, []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("username,email,can_create_apps\nann@example.com,ann@example.com,yes\nbad@example.com,not-an-email,no\nbob@example.com,bob@example.com,perhaps\n")
	b.do("pick and check",
		chromedp.Navigate(d.base+"/console/#/import"),
		chromedp.WaitVisible(css("#import-file")),
		chromedp.SetUploadFiles(css("#import-file"), []string{file}),
		chromedp.Click(css("#import-check")),
		chromedp.WaitVisible(css("#import-summary")))
	b.wait("first report", `document.querySelector('#import-summary').textContent === '3 rows: 1 valid, 2 with errors.'`)
	// ---- errors only: each bad cell by line and column, what is wrong.
	b.wait("errors-only view", `document.getElementById('import-errors-only').checked && !document.getElementById('import-errors-view').hidden && document.getElementById('import-all').hidden`)
	var cells [][]string
	b.eval(`[...document.querySelectorAll('#import-errors tbody tr')].map((r) => [...r.cells].map((c) => c.textContent))`, &cells)
	if len(cells) != 2 || cells[0][0] != "3" || cells[0][1] != "email" || !strings.Contains(cells[0][2], "not-an-email") ||
		cells[1][0] != "4" || cells[1][1] != "can_create_apps" || !strings.Contains(cells[1][2], "perhaps") {
		t.Fatalf("errors-only view: %q", cells)
	}
	b.screenshot(artifacts(t), "import-errors-only.png")
	b.do("every row", chromedp.Click(css("#import-errors-only")))
	b.wait("every row shown", `!document.getElementById('import-all').hidden && document.querySelectorAll('#import-rows tbody tr').length === 3`)

	// ---- the file edited and picked again.
	write("username,email\nann@example.com,ann@example.com\ncid@example.com,cid@example.com\ndan@example.com,dan@example.com\n")
	b.do("pick the edited file", chromedp.SetUploadFiles(css("#import-file"), []string{file}), chromedp.Click(css("#import-check")))
	b.wait("the edited file's report", `document.querySelector('#import-summary') && document.querySelector('#import-summary').textContent === '3 rows: 3 valid, 0 with errors.'`)

	// ---- the picked file replaced on disk (an editor's save) and checked
	// again without picking: a message in words, not "Failed to fetch";
	// picking it again then checks the new content.
	b.do("pick it", chromedp.SetUploadFiles(css("#import-file"), []string{file}))
	if err := os.Remove(file); err != nil {
		t.Fatal(err)
	}
	write("username,email\neve@example.com,eve@example.com\n")
	b.do("check again", chromedp.Click(css("#import-check")))
	b.wait("checked again", `document.querySelector('#import-form .form-error:not([hidden])')`)
	var msg string
	b.eval(`document.querySelector('#import-form .form-error').textContent`, &msg)
	if !strings.Contains(msg, "pick it again") || strings.Contains(msg, "fetch") {
		t.Fatalf("replaced on disk: %q", msg)
	}
	b.do("pick it again", chromedp.SetUploadFiles(css("#import-file"), []string{file}), chromedp.Click(css("#import-check")))
	b.wait("the new content", `document.querySelector('#import-summary') && document.querySelector('#import-summary').textContent === '1 rows: 1 valid, 0 with errors.'`)

	// ---- lines typed in: "+" adds one; they import like a file's.
	b.do("typed in", chromedp.Navigate(d.base+"/console/#/import"), chromedp.WaitVisible(css("#import-from-grid")), chromedp.Click(css("#import-from-grid")),
		chromedp.WaitVisible(css("#import-grid")))
	b.do("line 2", chromedp.SendKeys(css(`#import-grid tr[data-row="1"] [data-col=username]`), "gus@example.com"),
		chromedp.SendKeys(css(`#import-grid tr[data-row="1"] [data-col=email]`), "gus@example.com"),
		chromedp.SendKeys(css(`#import-grid tr[data-row="1"] [data-col=last_name]`), "Gray, Jr."))
	b.do("+", chromedp.Click(css("#import-add-line")))
	b.do("line 3", chromedp.SendKeys(css(`#import-grid tr[data-row="2"] [data-col=username]`), "hal@example.com"),
		chromedp.SendKeys(css(`#import-grid tr[data-row="2"] [data-col=role]`), "wizard"))
	b.screenshot(artifacts(t), "import-grid.png")
	b.do("check the lines", chromedp.Click(css("#import-check")))
	b.wait("lines report", `document.querySelector('#import-summary') && document.querySelector('#import-summary').textContent === '2 rows: 1 valid, 1 with errors.'`)
	b.eval(`[...document.querySelectorAll('#import-errors tbody tr')].map((r) => [...r.cells].map((c) => c.textContent))`, &cells)
	if len(cells) != 1 || cells[0][0] != "3" || cells[0][1] != "role" {
		t.Fatalf("typed lines' errors: %q", cells)
	}
	b.do("import them", chromedp.Click(css("#import-confirm")))
	b.wait("imported", `document.querySelector('#import-summary').textContent === '2 rows: 1 created, 1 with errors.'`)
	u := d.call(t, "GET", "/api/v1/users?q=gus@example.com", api, "")
	if u["total"] != 1.0 || !strings.Contains(fmt.Sprint(u["users"]), "Gray, Jr.") {
		t.Fatalf("the typed line's user: %v", u)
	}
	b.checkConsole()
}
