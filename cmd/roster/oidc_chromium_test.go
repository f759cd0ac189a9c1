package main

import (
	"context"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The same stack in a real browser: headless Chromium opens the app behind
// Apache, lands on roster's sign-in page, types the password, and comes
// back to the app's page with the claims; logging out through the app ends
// the sign-in (the next visit shows the form again); an unassigned user
// sees the refusal page in the browser.
func TestAppsSignInWithRosterInChromium(t *testing.T) {
	exe := requireChromium(t)
	st := newOIDCStack(t)
	run := func(ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Do(c, steps...); err != nil {
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ''`))
			t.Fatalf("%s: %v\npage:\n%s", what, err, text)
		}
	}
	text := func(ctx context.Context) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// wait polls expr through navigations (an evaluation during one fails
	// and is tried again).
	wait := func(ctx context.Context, what, expr string) {
		t.Helper()
		var err error
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			var ok bool
			if ok, err = chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { try { return !!(`+expr+`); } catch (e) { return false; } })()`)); err == nil && ok {
				return
			}
		}
		t.Fatalf("%s: %v\npage:\n%s", what, err, text(ctx))
	}
	ctx := newChromium(t, exe)
	signIn := func(user string) {
		t.Helper()
		run(ctx, "sign-in page for "+user,
			chromedp.Navigate(st.rp+"/protected/claims"),
			chromedp.WaitVisible(chromedp.CSS("#password")),
			chromedp.SendKeys(chromedp.CSS("#username"), user),
			chromedp.SendKeys(chromedp.CSS("#password"), pw(user)),
			chromedp.Click(chromedp.CSS("#submit")),
		)
	}
	signIn("alice")
	wait(ctx, "the app's page", `document.body.innerText.includes('OIDC_CLAIM_sub=')`)
	page := text(ctx)
	for _, want := range []string{"REMOTE_USER=alice", "OIDC_CLAIM_sub=" + st.users["alice"], "OIDC_CLAIM_email=alice@example.com",
		"OIDC_CLAIM_name=Alice Archer", "OIDC_CLAIM_groups=wiki-users", "OIDC_CLAIM_app_role=editor", "OIDC_CLAIM_roles=member"} {
		if !strings.Contains(page, want) {
			t.Errorf("the app's page in Chromium lacks %q:\n%s", want, page)
		}
	}
	run(ctx, "logout through the app", chromedp.Navigate(st.rp+"/protected/redirect_uri?logout="+url.QueryEscape(st.rp+"/loggedout.html")))
	wait(ctx, "the app's logged-out page", `document.body.innerText.includes('logged out of the wiki')`)
	run(ctx, "the next visit asks for the password", chromedp.Navigate(st.rp+"/protected/claims"), chromedp.WaitVisible(chromedp.CSS("#password")))

	ctx = newChromium(t, exe)
	signIn("bob")
	wait(ctx, "bob's refusal", `document.body.innerText.includes('not assigned to Wiki')`)
}

// requireChromium finds Debian's Chromium; under CI its absence fails.
func requireChromium(t *testing.T) string {
	t.Helper()
	for _, p := range []string{"/usr/bin/chromium", "chromium", "chromium-browser"} {
		if path, err := exec.LookPath(p); err == nil {
			return path
		}
	}
	if os.Getenv("CI") != "" {
		t.Fatal("chromium is required under CI (apt-get install chromium)")
	}
	t.Skip("chromium is not installed")
	return ""
}

// newChromium starts a headless Chromium with a fresh profile.
func newChromium(t *testing.T, exe string) context.Context {
	t.Helper()
	actx, cancelA := chromedp.NewExecAllocator(context.Background(),
		chromedp.ExecPath(exe), chromedp.Flag("headless", true), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.NoFirstRun, chromedp.NoDefaultBrowserCheck, chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true), chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.UserDataDir(t.TempDir()))
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelA() })
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}
