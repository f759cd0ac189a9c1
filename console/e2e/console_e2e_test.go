package e2e_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
	"github.com/xuri/excelize/v2"

	"github.com/rosterhq/roster/internal/testkit/mailtest"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// The tests run the real binary, built once.
var binary string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "roster-e2e")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	binary = filepath.Join(dir, "roster")
	out, err := exec.Command("go", "build", "-o", binary, "github.com/rosterhq/roster/cmd/roster").CombinedOutput()
	if err != nil {
		fmt.Fprintf(os.Stderr, "build roster: %v\n%s", err, out)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// chromium finds Debian's Chromium: missing, the test skips, or fails under CI.
func chromium(t testing.TB) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is required under CI (apt-get install chromium)")
	}
	t.Skip("chromium is not installed (apt-get install chromium); skipping the browser tests")
	return ""
}

func artifacts(t *testing.T) string {
	dir := os.Getenv("ROSTER_E2E_ARTIFACTS")
	if dir == "" {
		return t.TempDir()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

// syncBuffer is a bytes.Buffer safe for a process writing while the test reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type daemon struct {
	base string
	logs *syncBuffer
}

var setupRE = regexp.MustCompile(`setup_url="?([^"\s]+)`)

// startRoster writes the config (listen and public_url on a free port are
// added) and starts `roster serve`, waiting until it is ready.
func startRoster(t testing.TB, dir, extra string) *daemon {
	t.Helper()
	port := slapdtest.FreePort(t)
	base := fmt.Sprintf("http://127.0.0.1:%d", port)
	cfg := filepath.Join(dir, "roster.yaml")
	conf := fmt.Sprintf("listen: 127.0.0.1:%d\npublic_url: %s\ndatabase: {driver: sqlite, dsn: %s}\n%s", port, base, filepath.Join(dir, "roster.db"), extra)
	if err := os.WriteFile(cfg, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &daemon{base: base, logs: &syncBuffer{}}
	cmd := exec.Command(binary, "serve", "--config", cfg)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "ROSTER_CONFIG=")
	cmd.Stdout, cmd.Stderr = d.logs, d.logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("roster serve logs:\n%s", d.logs)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(d.logs.String(), `msg="roster ready"`) {
			return d
		}
		select {
		case err := <-done:
			done <- err
			t.Fatalf("serve exited early: %v\n%s", err, d.logs)
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("serve not ready:\n%s", d.logs)
	return nil
}

func (d *daemon) setupLink(t testing.TB) string {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if m := setupRE.FindStringSubmatch(d.logs.String()); m != nil {
			return m[1]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no setup link logged:\n%s", d.logs)
	return ""
}

// call is a small admin-API client for arranging state the console does not edit.
func (d *daemon) call(t testing.TB, method, path, token, body string) map[string]any {
	t.Helper()
	req, err := http.NewRequest(method, d.base+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		t.Fatalf("%s %s: %d %s", method, path, res.StatusCode, b)
	}
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return m
}

// browser is one headless Chromium tab with its console watched: a CSP
// violation or an uncaught exception fails the test.
type browser struct {
	t   testing.TB
	ctx context.Context
	mu  sync.Mutex
	log []string
}

// newBrowser starts headless Chromium; extra adds flags (a language).
func newBrowser(t testing.TB, extra ...chromedp.ExecAllocatorOption) *browser {
	t.Helper()
	exe := chromium(t)
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox, // root in a container
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	}
	opts = append(opts, extra...)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	b := &browser{t: t, ctx: ctx}
	if err := chromedp.Do(ctx); err != nil { // start the browser
		t.Fatalf("start chromium: %v", err)
	}
	msgs := chromedp.Console(ctx)
	go func() {
		for m, err := range msgs {
			if err != nil {
				return
			}
			b.mu.Lock()
			b.log = append(b.log, fmt.Sprintf("%s: %s (%s:%d)", m.Type, m.Text, m.URL, m.Line))
			b.mu.Unlock()
		}
	}()
	t.Cleanup(b.checkConsole)
	return b
}

// checkConsole fails on CSP violations and script errors in the console.
func (b *browser) checkConsole() {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, l := range b.log {
		if strings.Contains(l, "Content Security Policy") || strings.HasPrefix(l, "exception") {
			b.t.Errorf("browser console: %s", l)
		}
	}
}

func (b *browser) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.fail(what, err)
	}
}

func (b *browser) fail(what string, err error) {
	b.t.Helper()
	text, _ := chromedp.Run(b.ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
	b.mu.Lock()
	console := strings.Join(b.log, "\n")
	b.mu.Unlock()
	b.t.Fatalf("%s: %v\n--- page text:\n%s\n--- browser console:\n%s", what, err, text, console)
}

// wait polls a JavaScript predicate until it is true.
func (b *browser) wait(what, expr string) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 30*time.Second)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`(() => { try { return !!(`+expr+`); } catch (e) { return false; } })()`, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(25*time.Second))); err != nil {
		b.fail(what, err)
	}
}

func (b *browser) eval(expr string, out any) {
	b.t.Helper()
	raw, err := chromedp.Run(b.ctx, chromedp.Evaluate[[]byte](expr))
	if err != nil {
		b.fail("evaluate "+expr, err)
	}
	if err := json.Unmarshal(raw, out); err != nil {
		b.t.Fatalf("evaluate %s: %v (%s)", expr, err, raw)
	}
}

func (b *browser) screenshot(dir, name string) {
	b.t.Helper()
	png, err := chromedp.Run(b.ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fail("screenshot "+name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

func css(s string) chromedp.CSS { return chromedp.CSS(s) }

// row is the users-table row of a username.
func row(username string) string { return fmt.Sprintf(`tr[data-username=%q]`, username) }

func cellText(username, col string) string {
	return fmt.Sprintf(`(document.querySelector('%s td[data-col=%s]')||{}).textContent`, row(username), col)
}

// TestConsole walks the console's flows in one browser against one roster:
// first-run setup, login, invite → Pending → accept from the mail → Active,
// search field:value, columns and sort, per-user actions by keyboard,
// bulk de-activate, import with a dry run, settings and tokens pages.
func TestConsole(t *testing.T) {
	b := newBrowser(t)
	art := artifacts(t)
	smtp := mailtest.Start(t)
	dir := t.TempDir()
	d := startRoster(t, dir, fmt.Sprintf("smtp: {host: %s, port: %d, tls: none, from: \"roster <roster@example.test>\"}\n", smtp.Host, smtp.Port))

	// ---- first run: the setup link creates the owner, once.
	link := d.setupLink(t)
	if !strings.HasPrefix(link, d.base+"/console/setup?token=") {
		t.Fatalf("setup link %q", link)
	}
	b.do("setup form",
		chromedp.Navigate(link),
		chromedp.WaitVisible(css("#s-username")),
		chromedp.SendKeys(css("#s-username"), "olive@example.com"),
		chromedp.SendKeys(css("#s-email"), "olive@example.com"),
		chromedp.SendKeys(css("#s-first"), "Olive"),
		chromedp.SendKeys(css("#s-last"), "Owner"),
		chromedp.SendKeys(css("#s-password"), "Owner-passphrase-1"),
		chromedp.SendKeys(css("#s-confirm"), "Owner-passphrase-1"),
		chromedp.Submit(css("#s-username")),
		chromedp.WaitVisible(css("#setup-done")),
	)
	b.do("setup link is one-time", chromedp.Navigate(link), chromedp.WaitVisible(css("#setup-error")))
	token := strings.TrimPrefix(link, d.base+"/console/setup?token=")
	if n := strings.Count(d.logs.String(), token); n != 1 {
		t.Fatalf("the setup token appears %d times in the logs, want once", n)
	}

	// The CSP is in force in a real browser: an injected inline script does
	// not run (in a second tab, whose console the test does not watch).
	tab, closeTab := chromedp.NewContext(b.ctx)
	if err := chromedp.Do(tab, chromedp.Navigate(d.base+"/console/"), chromedp.WaitVisible(css("#login-username"))); err != nil {
		t.Fatal(err)
	}
	ran, err := chromedp.Run(tab, chromedp.Evaluate[bool](`(() => { const s = document.createElement('script'); s.textContent = 'window.inlineRan = true'; document.head.appendChild(s); return window.inlineRan === true; })()`))
	if err != nil || ran {
		t.Fatalf("an inline script ran under the console's CSP (ran=%v, err=%v)", ran, err)
	}
	closeTab()

	// An API session of the owner, to check what the console wrote.
	login := d.call(t, "POST", "/api/v1/auth/login", "", `{"username":"olive@example.com","password":"Owner-passphrase-1"}`)
	api := login["token"].(string)

	// ---- login: a wrong password is refused in place, the right one opens the dashboard
	b.do("wrong password",
		chromedp.Navigate(d.base+"/console/"),
		chromedp.WaitVisible(css("#login-username")),
		chromedp.SendKeys(css("#login-username"), "olive@example.com"),
		chromedp.SendKeys(css("#login-password"), "not-the-password"),
		chromedp.Click(css("#login-submit")),
		chromedp.WaitVisible(css("#login-form .form-error")),
	)
	// A locked or disabled account gets this same answer (no password
	// oracle): the form says once what such a user can do.
	b.wait("the sign-in hint", `document.querySelector('#login-form .form-error').textContent.includes('invalid username or password') && document.querySelector('#login-form .form-error').textContent.includes('ask an administrator to unlock it')`)
	b.do("clear the form",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#login-username').value = ''; document.querySelector('#login-password').value = ''`),
	)
	b.do("login",
		chromedp.SendKeys(css("#login-username"), "olive@example.com"),
		chromedp.SendKeys(css("#login-password"), "Owner-passphrase-1"),
		chromedp.Click(css("#login-submit")),
		chromedp.WaitVisible(css("#users-table")),
	)
	b.wait("owner listed", cellText("olive@example.com", "status")+` === 'Active'`)

	// ---- a custom user field, defined in the settings
	b.do("custom field",
		chromedp.Navigate(d.base+"/console/#/settings"),
		chromedp.WaitVisible(css("#metadata-template")),
		chromedp.Click(css("#metadata-template .actions button[type=button]")),
		chromedp.SendKeys(css("#metadata-template tr.meta-field [name=name]"), "department"),
		chromedp.SendKeys(css("#metadata-template tr.meta-field [name=label]"), "Department"),
		chromedp.Click(css("#metadata-template button[type=submit]")),
	)
	b.wait("saved", `document.querySelector('#toast').textContent === 'Custom fields saved.'`)
	if m := d.call(t, "GET", "/api/v1/org/metadata-template", api, ""); !strings.Contains(fmt.Sprint(m["fields"]), "department") {
		t.Fatalf("metadata template: %v", m)
	}
	b.do("back to the users", chromedp.Navigate(d.base+"/console/#/users"), chromedp.WaitVisible(css("#users-table")))
	b.wait("header counts", `document.querySelector('.count-active .n').textContent === '1'`)

	// ---- invite a user by mail: Pending
	b.do("open the add dialog by keyboard",
		chromedp.Focus(css("#add-user")),
		chromedp.KeyEvent(kb.Enter),
		chromedp.WaitVisible(css("#add-dialog #add-username")),
	)
	b.wait("focus in the username", `document.activeElement.id === 'add-username'`)
	b.do("fill the basic info",
		chromedp.SendKeys(css("#add-username"), "ivy@example.com"),
		chromedp.SendKeys(css("#add-email"), "ivy@example.com"),
		chromedp.SendKeys(css("#add-first"), "Ivy"),
		chromedp.SendKeys(css("#add-last"), "Invitee"),
		chromedp.SendKeys(css("#meta-department"), "Engineering"),
	)
	b.screenshot(art, "invite-dialog.png")
	b.do("email invite tab by arrow key",
		chromedp.Focus(css("#tab-basic")),
		chromedp.KeyEvent(kb.ArrowRight),
		chromedp.WaitVisible(css("#invite-mail")),
	)
	b.wait("invite tab selected and focused", `document.activeElement.id === 'tab-invite' && document.querySelector('#tab-invite').getAttribute('aria-selected') === 'true' && document.querySelector('#panel-basic').hidden`)
	var sendNow bool
	b.eval(`document.querySelector('#invite-mail').checked`, &sendNow)
	if !sendNow {
		t.Fatal("send now is not the default")
	}
	b.do("add", chromedp.Click(css("#add-submit")), chromedp.WaitNotPresent(css("#add-dialog")))
	b.wait("invitee pending", cellText("ivy@example.com", "invite_status")+` === 'Pending'`)
	b.wait("invitee invited", cellText("ivy@example.com", "status")+` === 'Invited'`)

	// ---- a user invited by a link the admin copies, with a custom field
	b.do("add with a link",
		chromedp.Click(css("#add-user")),
		chromedp.WaitVisible(css("#add-dialog #add-username")),
		chromedp.SendKeys(css("#add-username"), "sam@example.com"),
		chromedp.SendKeys(css("#add-email"), "sam@example.com"),
		chromedp.SendKeys(css("#add-first"), "Sam"),
		chromedp.SendKeys(css("#add-last"), "Sales"),
		chromedp.SendKeys(css("#meta-department"), "Sales"),
	)
	// The role: any the owner may give, chosen in the dialog.
	var roles string
	b.eval(`[...document.querySelectorAll('#add-role option')].map((o) => o.value).join(',') + '/' + document.querySelector('#add-role').value`, &roles)
	if roles != "owner,admin,user_manager,developer,member/member" {
		t.Fatalf("the add dialog's roles: %q", roles)
	}
	b.do("choose developer and invite by link",
		chromedp.SetValue(css("#add-role"), "developer"),
		chromedp.Click(css("#tab-invite")),
		chromedp.Click(css("#invite-link-choice")),
		chromedp.Click(css("#add-submit")),
		chromedp.WaitVisible(css("#link-dialog #invite-link")),
	)
	var copied string
	b.eval(`document.querySelector('#invite-link').value`, &copied)
	if !strings.HasPrefix(copied, d.base+"/invite/") {
		t.Fatalf("copied link %q", copied)
	}
	b.do("close the link dialog", chromedp.Click(css("#link-dialog .dialog-head button")), chromedp.WaitNotPresent(css("#link-dialog")))
	b.wait("sam added as a developer", cellText("sam@example.com", "role")+` === 'Developer'`)

	// ---- accept the mailed invitation: Active
	msg := smtp.WaitTo(t, "ivy@example.com", 30*time.Second)
	invite := msg.Link("/invite/")
	if invite == "" {
		t.Fatalf("no invite link in the mail:\n%s", msg.Body())
	}
	b.do("accept the invitation",
		chromedp.Navigate(invite),
		chromedp.WaitVisible(css("#password")),
		chromedp.SendKeys(css("#password"), "Tulip-garden-73x"),
		chromedp.SendKeys(css("#confirm"), "Tulip-garden-73x"),
		chromedp.Submit(css("#password")),
		chromedp.WaitNotPresent(css("#password")),
		chromedp.Navigate(d.base+"/console/#/users"),
		chromedp.WaitVisible(css("#users-table")),
	)
	b.wait("invitee active", cellText("ivy@example.com", "status")+` === 'Active'`)
	b.wait("invite accepted", cellText("ivy@example.com", "invite_status")+` === 'Accepted'`)

	// ---- search: field:value on custom metadata, case-insensitive value
	b.do("search department:sales", chromedp.SendKeys(css("#search"), "department:sales\r"))
	b.wait("only Sam", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 1 && document.querySelector('`+row("sam@example.com")+`')`)
	b.do("clear the search", chromedp.Evaluate[chromedp.Void](`document.querySelector("#search").value = ""`), chromedp.SendKeys(css("#search"), "\r"))
	b.wait("everyone back", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 3`)

	// ---- sort by a header; hide a column, remembered after a reload
	b.do("sort by username", chromedp.Click(css(`button[data-col=username]`)))
	b.wait("sorted ascending", `document.querySelector('button[data-col=username]').closest('th').getAttribute('aria-sort') === 'ascending' && document.querySelector('#users-table tbody tr').dataset.username === 'ivy@example.com'`)
	b.do("sort descending", chromedp.Click(css(`button[data-col=username]`)))
	b.wait("sorted descending", `document.querySelector('#users-table tbody tr').dataset.username === 'sam@example.com'`)
	b.do("hide the email column",
		chromedp.Click(css("#columns-button")),
		chromedp.Click(css(`input[name=col-email]`)),
	)
	b.wait("email hidden", `!document.querySelector('#users-table td[data-col=email]')`)
	b.do("reload", chromedp.Reload(), chromedp.WaitVisible(css("#users-table")))
	b.wait("still hidden after reload", `document.querySelector('#users-table td[data-col=username]') && !document.querySelector('#users-table td[data-col=email]')`)
	b.do("show the email column again",
		chromedp.Click(css("#columns-button")),
		chromedp.Click(css(`input[name=col-email]`)),
		chromedp.Click(css("#columns-button")),
	)
	b.wait("email shown", `document.querySelector('#users-table td[data-col=email]')`)

	// ---- per-user actions menu, by keyboard: details with history
	b.do("actions menu by keyboard",
		chromedp.Focus(css(row("ivy@example.com")+` .menu-button`)),
		chromedp.KeyEvent("\r"),
	)
	b.wait("menu open, first item focused", `document.activeElement && document.activeElement.getAttribute('role') === 'menuitem'`)
	var items []string
	b.eval(`[...document.querySelectorAll('`+row("ivy@example.com")+` [role=menuitem]')].map(e => e.dataset.action)`, &items)
	if got := strings.Join(items, ","); !strings.Contains(got, "disable") || strings.Contains(got, "enable") || strings.Contains(got, "resend-invite") {
		t.Fatalf("actions for an active user: %v", items)
	}
	b.do("details", chromedp.KeyEvent(kb.End), chromedp.KeyEvent(kb.Enter), chromedp.WaitVisible(css("#user-page")))
	b.wait("history shown", `document.querySelectorAll('#details-history li').length >= 2 && document.querySelector('#user-custom').textContent.includes('Engineering')`)
	b.do("back to the list", chromedp.NavigateBack(), chromedp.WaitVisible(css("#users-table")))

	var pendingItems []string
	b.eval(`[...document.querySelectorAll('`+row("sam@example.com")+` [role=menuitem]')].map(e => e.dataset.action)`, &pendingItems)
	if got := strings.Join(pendingItems, ","); !strings.Contains(got, "resend-invite") || !strings.Contains(got, "delete") || strings.Contains(got, "archive") {
		t.Fatalf("actions for a pending user: %v", pendingItems)
	}

	// ---- bulk de-activate two users, per-user outcomes
	b.do("select two",
		chromedp.Click(css(row("ivy@example.com")+` .row-select`)),
		chromedp.Click(css(row("sam@example.com")+` .row-select`)),
		chromedp.WaitVisible(css("#bulkbar")),
	)
	b.wait("2 selected", `document.querySelector('#selected-count').textContent === '2 selected'`)
	b.do("de-activate",
		chromedp.Click(css(`button[data-bulk=deactivate]`)),
		chromedp.WaitVisible(css("#confirm-ok")),
		chromedp.Click(css("#confirm-ok")),
		chromedp.WaitVisible(css("#bulk-results")),
	)
	b.wait("two outcomes", `document.querySelectorAll('#bulk-results li.ok').length === 2 && document.querySelector('#bulk-results').textContent.includes('ivy@example.com')`)
	b.do("close outcomes", chromedp.Click(css("#bulk-dialog .dialog-head button")), chromedp.WaitNotPresent(css("#bulk-dialog")))
	b.wait("both disabled", cellText("ivy@example.com", "status")+` === 'Disabled' && `+cellText("sam@example.com", "status")+` === 'Disabled'`)
	b.wait("count disabled", `document.querySelector('.count-disabled .n').textContent === '2'`)

	// ---- import a CSV: dry run report, then confirm
	csv := filepath.Join(dir, "people.csv")
	if err := os.WriteFile(csv, []byte("username,email,first_name,last_name,metadata.department\n"+
		"ann@example.com,ann@example.com,Ann,Archer,Ops\n"+
		"bob@example.com,bob@example.com,Bob,Baker,Ops\n"+
		"bad@example.com,not-an-email,Bad,Row,Ops\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	b.do("dry run",
		chromedp.Navigate(d.base+"/console/#/import"),
		chromedp.WaitVisible(css("#import-file")),
		chromedp.SetUploadFiles(css("#import-file"), []string{csv}),
		chromedp.Click(css("#import-check")),
		chromedp.WaitVisible(css("#import-summary")),
	)
	b.wait("dry-run report", `document.querySelector('#import-summary').textContent === '3 rows: 2 valid, 1 with errors.' && document.querySelector('#import-rows tr[data-line="4"]').textContent.includes('email')`)
	if m := d.call(t, "GET", "/api/v1/users?q=ann@example.com", api, ""); m["total"].(float64) != 0 {
		t.Fatal("the dry run wrote a user")
	}
	b.do("confirm the import", chromedp.Click(css("#import-confirm")))
	b.wait("import report", `document.querySelector('#import-summary').textContent === '3 rows: 2 created, 1 with errors.'`)
	// An Excel workbook goes through the same dry run and import.
	xf := excelize.NewFile()
	for i, r := range [][]any{{"Username", "Email", "First Name", "Last Name"}, {"cy@example.com", "cy@example.com", "Cy", "Xlsx"}} {
		cell, _ := excelize.CoordinatesToCellName(1, i+1)
		if err := xf.SetSheetRow(xf.GetSheetName(0), cell, &r); err != nil {
			t.Fatal(err)
		}
	}
	xlsx := filepath.Join(dir, "people.xlsx")
	if err := xf.SaveAs(xlsx); err != nil {
		t.Fatal(err)
	}
	b.do("xlsx dry run",
		chromedp.Navigate(d.base+"/console/#/users"),
		chromedp.WaitVisible(css("#users-table")),
		chromedp.Navigate(d.base+"/console/#/import"),
		chromedp.WaitVisible(css("#import-file")),
		chromedp.SetUploadFiles(css("#import-file"), []string{xlsx}),
		chromedp.Click(css("#import-check")),
	)
	b.wait("xlsx report", `document.querySelector('#import-summary').textContent === '1 rows: 1 valid, 0 with errors.'`)
	b.do("xlsx import", chromedp.Click(css("#import-confirm")))
	b.wait("xlsx imported", `document.querySelector('#import-summary').textContent === '1 rows: 1 created, 0 with errors.'`)
	b.do("to the users", chromedp.Navigate(d.base+"/console/#/users"), chromedp.WaitVisible(css("#users-table")))
	b.wait("xlsx user listed", cellText("cy@example.com", "full_name")+` === 'Cy Xlsx'`)
	action0 := func(username, act string) {
		t.Helper()
		b.do(act+" "+username, chromedp.Click(css(row(username)+` .menu-button`)), chromedp.Click(css(row(username)+` [data-action="`+act+`"]`)))
	}
	action0("cy@example.com", "delete")
	b.do("confirm delete", chromedp.WaitVisible(css("#confirm-ok")), chromedp.Click(css("#confirm-ok")))
	b.wait("cy deleted", `!document.querySelector('`+row("cy@example.com")+`')`)
	b.wait("imported users listed", cellText("ann@example.com", "invite_status")+` === 'Pending' && `+cellText("bob@example.com", "status")+` === 'Invited'`)

	// ---- per-user actions by state, through the ⋯ menu
	action := func(username, act string) {
		t.Helper()
		b.do(act+" "+username,
			chromedp.Click(css(row(username)+` .menu-button`)),
			chromedp.WaitVisible(css(row(username)+` [data-action="`+act+`"]`)),
			chromedp.Click(css(row(username)+` [data-action="`+act+`"]`)),
		)
	}
	confirm := func() {
		b.t.Helper()
		b.do("confirm", chromedp.WaitVisible(css("#confirm-ok")), chromedp.Click(css("#confirm-ok")))
	}
	smtp.WaitTo(t, "bob@example.com", 30*time.Second) // the import's invitation
	action("bob@example.com", "resend-invite")
	b.do("send it", chromedp.WaitVisible(css("#resend-submit")), chromedp.Click(css("#resend-submit")), chromedp.WaitNotPresent(css("#resend-dialog")))
	deadline := time.Now().Add(30 * time.Second)
	for len(smtp.To("bob@example.com")) < 2 {
		if time.Now().After(deadline) {
			t.Fatal("no second invitation to bob after resend")
		}
		time.Sleep(50 * time.Millisecond)
	}
	action("bob@example.com", "resend-link")
	b.do("a new link to copy", chromedp.WaitVisible(css("#link-dialog #invite-link")))
	var fresh string
	b.eval(`document.querySelector('#invite-link').value`, &fresh)
	if !strings.HasPrefix(fresh, d.base+"/invite/") {
		t.Fatalf("new invite link %q", fresh)
	}
	b.do("close the new link", chromedp.Click(css("#link-dialog .dialog-head button")), chromedp.WaitNotPresent(css("#link-dialog")))
	if res, err := http.Get(fresh); err != nil || res.StatusCode != 200 {
		t.Fatalf("the new link: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	action("bob@example.com", "delete")
	confirm()
	b.wait("bob deleted", `!document.querySelector('`+row("bob@example.com")+`')`)
	action("ivy@example.com", "enable")
	b.wait("ivy enabled", cellText("ivy@example.com", "status")+` === 'Active'`)
	action("ivy@example.com", "role")
	b.do("set admin", chromedp.WaitVisible(css("#role-select")), chromedp.SetValue(css("#role-select"), "admin"), chromedp.Click(css("dialog button[type=submit]")))
	b.wait("ivy is an admin", cellText("ivy@example.com", "role")+` === 'Admin'`)
	action("ivy@example.com", "edit")
	b.do("edit ivy",
		chromedp.WaitVisible(css("#edit-form [name=last_name]")),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#edit-form [name=last_name]').value = ''; document.querySelector('#edit-form [name="metadata.department"]').value = ''`),
		chromedp.SendKeys(css("#edit-form [name=last_name]"), "Ivanova"),
		chromedp.SendKeys(css(`#edit-form [name="metadata.department"]`), "Research"),
		chromedp.Click(css("#edit-dialog button[type=submit]")),
		chromedp.WaitNotPresent(css("#edit-dialog")),
	)
	b.wait("ivy renamed", cellText("ivy@example.com", "full_name")+` === 'Ivy Ivanova'`)
	b.do("search the new department", chromedp.SendKeys(css("#search"), "department:RESEARCH\r"))
	b.wait("found by the new value", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 1 && document.querySelector('`+row("ivy@example.com")+`')`)
	b.do("clear the search again", chromedp.Evaluate[chromedp.Void](`document.querySelector("#search").value = ""`), chromedp.SendKeys(css("#search"), "\r"))
	b.wait("all back", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 4`)
	// A document attribute of the user schema (title), through the form
	// the schema builds, into the details and their history by name.
	action("ivy@example.com", "edit")
	b.do("edit ivy's title",
		chromedp.WaitVisible(css(`#edit-form [name="attributes.title"]`)),
		chromedp.SendKeys(css(`#edit-form [name="attributes.title"]`), "Team Lead"),
		chromedp.Click(css("#edit-dialog button[type=submit]")),
		chromedp.WaitNotPresent(css("#edit-dialog")),
	)
	b.do("details of ivy", chromedp.Click(css(row("ivy@example.com")+` .user-link`)), chromedp.WaitVisible(css("#user-page")))
	b.wait("the title in the details and in the history", `(document.querySelector('#user-details dd[data-attr=title]')||{}).textContent === 'Team Lead' && [...document.querySelectorAll('#details-history .sentence')].some((s) => s.textContent.startsWith('Title set to Team Lead by '))`)
	b.do("back to the list", chromedp.NavigateBack(), chromedp.WaitVisible(css("#users-table")))
	b.do("search by title", chromedp.SendKeys(css("#search"), "title:team lead\r"))
	b.wait("found by title", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 1 && document.querySelector('`+row("ivy@example.com")+`')`)
	b.do("clear the title search", chromedp.Evaluate[chromedp.Void](`document.querySelector("#search").value = ""`), chromedp.SendKeys(css("#search"), "\r"))
	b.wait("all back again", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 4`)
	action("ivy@example.com", "archive")
	confirm()
	b.wait("ivy archived", cellText("ivy@example.com", "status")+` === 'Archived'`)
	action("ivy@example.com", "restore")
	b.wait("ivy restored", cellText("ivy@example.com", "status")+` === 'Active'`)

	// Ten wrong passwords lock ivy; the admin unlocks and reassigns a password.
	for range 10 {
		req, _ := http.NewRequest("POST", d.base+"/api/v1/auth/login", strings.NewReader(`{"username":"ivy@example.com","password":"wrong-guess"}`))
		req.Header.Set("Content-Type", "application/json")
		if res, err := http.DefaultClient.Do(req); err == nil {
			res.Body.Close()
		}
	}
	b.do("reload locked", chromedp.Reload(), chromedp.WaitVisible(css("#users-table")))
	b.wait("ivy locked", cellText("ivy@example.com", "status")+` === 'Locked'`)
	action("ivy@example.com", "unlock")
	b.wait("ivy unlocked", cellText("ivy@example.com", "status")+` === 'Active'`)
	action("ivy@example.com", "set-password")
	b.do("reassign the password",
		chromedp.WaitVisible(css("dialog [name=password]")),
		chromedp.SendKeys(css("dialog [name=password]"), "Temporary-secret-77"),
		chromedp.Click(css("dialog button[type=submit]")),
		chromedp.WaitNotPresent(css("dialog [name=password]")),
	)
	if m := d.call(t, "POST", "/api/v1/auth/login", "", `{"username":"ivy@example.com","password":"Temporary-secret-77"}`); m["must_change_password"] != true {
		t.Fatalf("login with the reassigned password: %v", m)
	}

	// ---- groups and apps: a group with a member, an app assigned to the group
	b.do("create a group",
		chromedp.Navigate(d.base+"/console/#/groups"),
		chromedp.WaitVisible(css("#group-create-name")),
		chromedp.SendKeys(css("#group-create-name"), "Engineering\r"),
		chromedp.WaitVisible(css(`#groups-table tr[data-name=Engineering]`)),
		chromedp.Click(css(`button[data-members=Engineering]`)),
		chromedp.WaitVisible(css("#member-login")),
		chromedp.SendKeys(css("#member-login"), "ann@example.com\r"),
	)
	b.wait("member listed", `document.querySelector('#members-list').textContent.includes('ann@example.com')`)
	b.do("close members", chromedp.Click(css("#members-dialog .dialog-head button")), chromedp.WaitNotPresent(css("#members-dialog")))
	b.wait("member count", `document.querySelector('#groups-table tr[data-name=Engineering]').children[2].textContent === '1'`)
	before := len(smtp.To("ann@example.com"))
	b.do("message the group",
		chromedp.Click(css(`#groups-table tr[data-name=Engineering] button:nth-child(2)`)),
		chromedp.WaitVisible(css("dialog [name=subject]")),
		chromedp.SendKeys(css("dialog [name=subject]"), "Stand-up moved"),
		chromedp.SendKeys(css("dialog [name=body]"), "Tomorrow at ten."),
		chromedp.Click(css("dialog button[type=submit]")),
		chromedp.WaitNotPresent(css("dialog [name=subject]")),
	)
	deadline = time.Now().Add(30 * time.Second)
	for len(smtp.To("ann@example.com")) == before || !strings.Contains(smtp.To("ann@example.com")[before].Body(), "Tomorrow at ten.") {
		if time.Now().After(deadline) {
			t.Fatal("the group message did not reach ann")
		}
		time.Sleep(50 * time.Millisecond)
	}
	b.do("create an app and assign it to the group",
		chromedp.Navigate(d.base+"/console/#/apps"),
		chromedp.WaitVisible(css("#app-create-name")),
		chromedp.SendKeys(css("#app-create-name"), "CRM\r"),
		chromedp.WaitVisible(css(`#apps-table tr[data-name=CRM]`)),
		chromedp.Click(css(`button[data-assign=CRM]`)),
		chromedp.WaitVisible(css("#assign-who")),
		chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#assign-who'); s.value = 'group'; s.dispatchEvent(new Event('change')); })()`),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#assign-role').value = 'editor'`),
		chromedp.Click(css("#assign-dialog button[type=submit]")),
		chromedp.WaitNotPresent(css("#assign-dialog")),
	)
	b.do("filter by app", chromedp.Navigate(d.base+"/console/#/users"), chromedp.WaitVisible(css("#users-table")))
	b.wait("group column", cellText("ann@example.com", "groups")+` === 'Engineering'`)
	b.do("app filter", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#filter-app'); s.value = 'CRM'; s.dispatchEvent(new Event('change')); })()`))
	b.wait("only Ann has CRM", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 1 && document.querySelector('`+row("ann@example.com")+`')`)
	b.do("details of Ann", chromedp.Click(css(row("ann@example.com")+` .user-link`)), chromedp.WaitVisible(css("#user-page")))
	b.wait("app with its role and group", `document.querySelector('#details-apps').textContent.includes('CRM') && document.querySelector('#details-apps').textContent.includes('editor') && document.querySelector('#details-groups').textContent.includes('Engineering')`)
	b.do("back to the list", chromedp.NavigateBack(), chromedp.WaitVisible(css("#users-table")))
	b.do("any app", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#filter-app'); s.value = ''; s.dispatchEvent(new Event('change')); })()`))
	b.wait("everyone", `document.querySelectorAll('#users-table tbody tr[data-username]').length === 4`)
	b.do("no toast in the picture", chromedp.Evaluate[chromedp.Void](`document.getElementById('toast').className = 'toast'`), chromedp.Sleep(300*time.Millisecond))
	b.screenshot(art, "dashboard.png")

	// ---- the phone-sized window: no sideways scrolling
	b.do("phone width", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(), chromedp.WaitVisible(css("#users-table")))
	b.wait("rows rendered", `document.querySelector('`+row("ann@example.com")+`')`)
	var overflow int
	b.eval(`document.documentElement.scrollWidth - window.innerWidth`, &overflow)
	if overflow > 1 {
		t.Errorf("the dashboard scrolls sideways by %d px at 390 px", overflow)
	}
	b.screenshot(art, "dashboard-phone.png")
	b.do("laptop width", chromedp.EmulateViewport(1440, 900), chromedp.Reload(), chromedp.WaitVisible(css("#users-table")))

	// ---- settings: the invite template preview; tokens: shown once
	b.do("settings", chromedp.Navigate(d.base+"/console/#/settings"), chromedp.WaitVisible(css("#mail-templates")))
	b.wait("invite preview", `(document.querySelector('#tpl-preview-subject')||{}).textContent`)
	b.do("German", chromedp.Evaluate[chromedp.Void](`(() => { const s = document.querySelector('#tpl-language'); s.value = 'de'; s.dispatchEvent(new Event('change')); })()`))
	b.wait("the built-in German invite", `document.querySelector('#tpl-html').value.includes('Einladung annehmen')`)
	b.do("a German invitation subject",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('#tpl-subject').value = ''`),
		chromedp.SendKeys(css("#tpl-subject"), "Willkommen bei roster"),
		chromedp.Click(css("#tpl-preview-button")),
	)
	b.wait("draft preview", `document.querySelector('#tpl-preview-subject').textContent === 'Willkommen bei roster'`)
	b.do("save the template", chromedp.Click(css("#mail-templates button[type=submit]")))
	b.wait("saved as the organisation's own", `document.querySelector('#tpl-state').textContent.includes("organisation's own")`)
	if m := d.call(t, "GET", "/api/v1/org/mail-templates", api, ""); !strings.Contains(fmt.Sprint(m["templates"]), "Willkommen bei roster") {
		t.Fatalf("template not saved: %v", m)
	}
	b.do("tokens",
		chromedp.Navigate(d.base+"/console/#/tokens"),
		chromedp.WaitVisible(css("#token-name")),
		chromedp.SendKeys(css("#token-name"), "okta"),
		chromedp.Click(css("#token-create button[type=submit]")),
		chromedp.WaitVisible(css("#token-value")),
	)
	var secret string
	b.eval(`document.querySelector('#token-value').value`, &secret)
	if len(secret) < 20 {
		t.Fatalf("token secret %q", secret)
	}
	b.wait("token listed", `document.querySelector('#tokens-table tr[data-name=okta]')`)
	b.do("reload tokens", chromedp.Reload(), chromedp.WaitVisible(css("#tokens-table")))
	var html string
	b.eval(`document.body.innerHTML`, &html)
	if strings.Contains(html, secret) {
		t.Fatal("the token secret is shown again after a reload")
	}

	// ---- a user without an email: created all the same, and the badge says
	// why no invitation went out (the same words as the API's invite_reason).
	if m := d.call(t, "POST", "/api/v1/users", api, `{"username":"nomail","first_name":"No","last_name":"Mail"}`); m["invite_reason"] != "no_email" {
		t.Fatalf("user without email: %v", m)
	}
	b.do("users again", chromedp.Navigate(d.base+"/console/#/users"), chromedp.Reload(), chromedp.WaitVisible(css("#users-table")))
	b.wait("no-email badge", cellText("nomail", "invite_status")+` === 'No email: no invitation sent'`)

	// ---- sign out ends the session
	b.do("sign out", chromedp.Click(css("#logout")), chromedp.WaitVisible(css("#login-username")))
	b.do("reload signed out", chromedp.Reload(), chromedp.WaitVisible(css("#login-username")))

	// ivy's password was reassigned: she must choose her own before anything else.
	b.do("ivy signs in",
		chromedp.SendKeys(css("#login-username"), "ivy@example.com"),
		chromedp.SendKeys(css("#login-password"), "Temporary-secret-77"),
		chromedp.Click(css("#login-submit")),
		chromedp.WaitVisible(css("#change-password")),
		chromedp.SendKeys(css("#change-password [name=old_password]"), "Temporary-secret-77"),
		chromedp.SendKeys(css("#change-password [name=new_password]"), "Fresh-start-2026x"),
		chromedp.Click(css("#change-password button[type=submit]")),
		chromedp.WaitNotPresent(css("#change-password")),
		chromedp.Navigate(d.base+"/console/#/users"),
		chromedp.WaitVisible(css("#users-table")),
	)
	b.wait("ivy, an admin, sees the users", `document.querySelector('#me').textContent === 'ivy@example.com (Admin)' && document.querySelector('`+row("olive@example.com")+`')`)
	// A member has no console: the page says so instead of failing.
	// (Signing out ended every console session of olive, the API one too.)
	api = d.call(t, "POST", "/api/v1/auth/login", "", `{"username":"olive@example.com","password":"Owner-passphrase-1"}`)["token"].(string)
	d.call(t, "PATCH", "/api/v1/users/"+userID(t, d, api, "ivy@example.com"), api, `{"role":"member"}`)
	b.do("member", chromedp.Reload())
	b.wait("no access", `document.querySelector('#no-access') && document.querySelector('#topbar').hidden`)
}

// TestConsoleLDAPSync adds a directory user from the add dialog's directory
// search and runs "Sync now" on the LDAP page against a real slapd.
func TestConsoleLDAPSync(t *testing.T) {
	slapdtest.Require(t)
	b := newBrowser(t)
	art := artifacts(t)
	srv := slapdtest.Start(t, slapdtest.People(5))
	other := slapdtest.Start(t, slapdtest.Person("zoe", "Zoe", "Zimmer", "title: Architect")+slapdtest.Person("zack", "Zack", "Young"))
	dir := t.TempDir()
	d := startRoster(t, dir, `ldap:
  sources:
    - name: corp
      urls: ["`+srv.URL+`"]
      bind_dn: "`+slapdtest.AdminDN+`"
      bind_password: "`+slapdtest.AdminPW+`"
      users: {base_dn: "`+slapdtest.PeopleDN+`"}
      interval: 24h
      invite: false
    - name: people
      urls: ["`+other.URL+`"]
      bind_dn: "`+slapdtest.AdminDN+`"
      bind_password: "`+slapdtest.AdminPW+`"
      users: {base_dn: "`+slapdtest.PeopleDN+`"}
      mode: on_demand
      invite: false
`)
	link := d.setupLink(t)
	b.do("setup",
		chromedp.Navigate(link),
		chromedp.WaitVisible(css("#s-username")),
		chromedp.SendKeys(css("#s-username"), "root@example.com"),
		chromedp.SendKeys(css("#s-email"), "root@example.com"),
		chromedp.SendKeys(css("#s-password"), "Garden-gnome-42x"),
		chromedp.SendKeys(css("#s-confirm"), "Garden-gnome-42x"),
		chromedp.Submit(css("#s-username")),
		chromedp.WaitVisible(css("#setup-done")),
		chromedp.Navigate(d.base+"/console/"),
		chromedp.WaitVisible(css("#login-username")),
		chromedp.SendKeys(css("#login-username"), "root@example.com"),
		chromedp.SendKeys(css("#login-password"), "Garden-gnome-42x\r"),
		chromedp.WaitVisible(css("#users-table")),
	)
	// Wait for the scheduler's first run, so that the click makes the next one.
	api := d.call(t, "POST", "/api/v1/auth/login", "", `{"username":"root@example.com","password":"Garden-gnome-42x"}`)["token"].(string)
	deadline := time.Now().Add(30 * time.Second)
	for {
		var st struct {
			Sources []struct {
				Runs []struct {
					Status string `json:"status"`
				} `json:"runs"`
			} `json:"sources"`
		}
		raw, _ := json.Marshal(d.call(t, "GET", "/api/v1/ldap/sources", api, ""))
		_ = json.Unmarshal(raw, &st)
		done := len(st.Sources) == 2
		for _, src := range st.Sources {
			done = done && len(src.Runs) > 0 && src.Runs[0].Status != "running"
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scheduled sync did not finish: %+v", st)
		}
		time.Sleep(100 * time.Millisecond)
	}
	b.do("ldap page", chromedp.Navigate(d.base+"/console/#/ldap"), chromedp.WaitVisible(css(`button[data-sync=corp]`)))
	var before int
	b.eval(`document.querySelectorAll('[data-source=corp] table.runs tbody tr').length`, &before)
	b.do("sync now", chromedp.Click(css(`button[data-sync=corp]`)))
	b.wait("a new run listed and drawn", fmt.Sprintf(`document.querySelectorAll('[data-source=corp] table.runs tbody tr').length === %d && document.querySelectorAll('[data-source=corp] svg.runs-chart rect.bar').length === %d`, before+1, before+1))
	b.wait("run ok", `document.querySelector('[data-source=corp] table.runs tbody tr').classList.contains('run-ok')`)
	b.screenshot(art, "ldap.png")
	// On a phone, a source with its runs and chart fits the width.
	b.do("phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile), chromedp.Reload(), chromedp.WaitVisible(css(`[data-source=corp] table.runs tbody tr`)))
	b.do("settle", chromedp.Sleep(300*time.Millisecond))
	if why := docWiderWhy(b); why != "" {
		t.Errorf("at 390×844 the LDAP page with a source scrolls sideways: %s", why)
	}
	b.screenshot(art, "ldap-phone.png")
	b.do("desktop", chromedp.EmulateViewport(1440, 900))
	b.do("users", chromedp.Navigate(d.base+"/console/#/users"), chromedp.WaitVisible(css("#users-table")))
	b.wait("directory users listed", cellText("user0003", "status")+` === 'Active' && document.querySelectorAll('#users-table tbody tr[data-username]').length === 6`)

	// Add an LDAP user: search the on-demand directory by name and pick.
	b.do("add from the directory",
		chromedp.Click(css("#add-user")),
		chromedp.WaitVisible(css("#add-dialog")),
		chromedp.Click(css("#src-ldap")),
		chromedp.WaitVisible(css("#ldap-query")),
		chromedp.SetValue(css("#ldap-source"), "people"),
		chromedp.SendKeys(css("#ldap-query"), "zimm"),
		chromedp.Click(css("#ldap-search")),
		chromedp.WaitVisible(css(`input[name=ldap_pick][value=zoe]`)),
	)
	var found int
	b.eval(`document.querySelectorAll('input[name=ldap_pick]').length`, &found)
	if found != 1 {
		t.Fatalf("the directory search found %d users, want Zoe only", found)
	}
	b.do("pick and add", chromedp.Click(css(`input[name=ldap_pick][value=zoe]`)), chromedp.Click(css("#add-submit")), chromedp.WaitNotPresent(css("#add-dialog")))
	b.wait("Zoe added from the directory", cellText("zoe", "status")+` === 'Active' && `+cellText("zoe", "full_name")+` === 'Zoe Zimmer'`)

	// The directory owns Zoe's names and title (directory_owned in the user
	// schema; the OpenLDAP preset maps title): the form the schema builds
	// shows them read-only, with the directory's values; what it does not
	// own (can create apps) is editable.
	b.do("edit Zoe",
		chromedp.Click(css(row("zoe")+` .menu-button`)),
		chromedp.WaitVisible(css(row("zoe")+` [data-action="edit"]`)),
		chromedp.Click(css(row("zoe")+` [data-action="edit"]`)),
		chromedp.WaitVisible(css(`#edit-form [name="attributes.title"]`)),
	)
	b.wait("directory-owned attributes read-only", `(() => { const f = document.querySelector('#edit-form');
		const title = f.querySelector('[name="attributes.title"]'), first = f.querySelector('[name=first_name]'), apps = f.querySelector('[name=can_create_apps]');
		return title.disabled && title.value === 'Architect' && title.dataset.directoryOwned === 'true' && first.disabled && first.value === 'Zoe' && first.dataset.directoryOwned === 'true' && !apps.disabled; })()`)
	b.do("close the form", chromedp.Click(css("#edit-dialog .dialog-head button")), chromedp.WaitNotPresent(css("#edit-dialog")))
	b.do("details of Zoe", chromedp.Click(css(row("zoe")+` .user-link`)), chromedp.WaitVisible(css("#user-page")))
	b.wait("the directory's title and first name, marked as its", `(document.querySelector('#user-details dd[data-attr=title]')||{}).textContent === 'Architect (ldap:people)' && (document.querySelector('#user-details dd[data-attr=first_name]')||{}).textContent === 'Zoe (ldap:people)'`)
}

func userID(t *testing.T, d *daemon, token, username string) string {
	t.Helper()
	m := d.call(t, "GET", "/api/v1/users?q="+username, token, "")
	us, _ := m["users"].([]any)
	if len(us) != 1 {
		t.Fatalf("user %s: %v", username, m)
	}
	return us[0].(map[string]any)["id"].(string)
}
