package console_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/core"
)

// consoleEnv is the console handler behind a real listener, on a fresh store.
func consoleEnv(t *testing.T) (*env, *console.Console) {
	t.Helper()
	e := newEnv(t)
	c, err := console.NewConsole(e.svc, "", nil)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(c)
	t.Cleanup(srv.Close)
	e.srv = srv
	return e, c
}

func noRedirect() *http.Client {
	return &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func TestConsoleServesFilesWithCSP(t *testing.T) {
	e, _ := consoleEnv(t)
	for _, tc := range []struct {
		path, status, ctype, contains string
	}{
		{"/console/", "200", "text/html; charset=utf-8", `<script type="module" src="/console/static/app.js"></script>`},
		{"/console/static/app.js", "200", "text/javascript; charset=utf-8", "import { usersView }"},
		{"/console/static/users.js", "200", "text/javascript; charset=utf-8", "export async function usersView"},
		{"/console/static/console.css", "200", "text/css; charset=utf-8", ".badge"},
		{"/console/static/favicon.svg", "200", "image/svg+xml", "<svg"},
		{"/console/static/index.html", "200", "text/html; charset=utf-8", "<title>roster console</title>"},
		{"/console/static/i18n/de.json", "200", "application/json; charset=utf-8", `"Sign in": "Anmelden"`},
		{"/console/static/i18n/xx.json", "404", "", ""},
		{"/console/static/missing.js", "404", "", ""},
		{"/console/static/../console.go", "404", "", ""},
		{"/console/static/%2e%2e/console.go", "404", "", ""},
		{"/console/nowhere", "404", "", ""},
		{"/console", "301", "", ""},
	} {
		t.Run(tc.path, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, e.srv.URL+tc.path, nil)
			req.URL.Opaque = tc.path     // keep ../ unresolved
			client := http.DefaultClient // a cleaned path redirects to a file that is not there
			if tc.status == "301" {
				client = noRedirect()
			}
			res, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer res.Body.Close()
			b, _ := io.ReadAll(res.Body)
			if got := res.Status[:3]; got != tc.status {
				t.Fatalf("status %s, want %s", res.Status, tc.status)
			}
			csp := res.Header.Get("Content-Security-Policy")
			for _, want := range []string{"default-src 'self'", "script-src 'self'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"} {
				if !strings.Contains(csp, want) {
					t.Errorf("CSP %q lacks %q", csp, want)
				}
			}
			if strings.Contains(csp, "unsafe-eval") || strings.Contains(csp, "http") {
				t.Errorf("CSP %q allows eval or another origin", csp)
			}
			// Inline styles only, for the mail preview's srcdoc frame: never
			// inline script.
			for _, d := range strings.Split(csp, ";") {
				name, _, _ := strings.Cut(strings.TrimSpace(d), " ")
				if strings.Contains(d, "unsafe-inline") && name != "style-src-attr" && name != "style-src-elem" {
					t.Errorf("CSP %q allows inline code in %s", csp, name)
				}
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("X-Frame-Options") != "DENY" || res.Header.Get("Referrer-Policy") != "no-referrer" {
				t.Errorf("security headers: %v", res.Header)
			}
			if tc.status == "301" && res.Header.Get("Location") != "/console/" {
				t.Errorf("Location %q", res.Header.Get("Location"))
			}
			if tc.ctype != "" && res.Header.Get("Content-Type") != tc.ctype {
				t.Errorf("Content-Type %q, want %q", res.Header.Get("Content-Type"), tc.ctype)
			}
			if !strings.Contains(string(b), tc.contains) {
				t.Errorf("body lacks %q", tc.contains)
			}
		})
	}
}

// The CSP forbids inline code, so the files must have none: no <style>, no
// style= attributes, no inline <script> or on*= handlers, nothing from
// another origin, and no innerHTML (the scripts build DOM nodes).
func TestConsoleFilesHaveNoInlineCodeOrExternalURLs(t *testing.T) {
	inlineScript := regexp.MustCompile(`<script(?:\s[^>]*)?>\s*[^<\s]`)
	handler := regexp.MustCompile(`\son[a-z]+\s*=`)
	external := regexp.MustCompile(`(?:src|href)\s*=\s*["']?(?:https?:)?//`)
	var files []string
	for _, pat := range []string{"static/*", "templates/setup.html"} {
		m, err := filepath.Glob(pat)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, m...)
	}
	if len(files) < 7 {
		t.Fatalf("found only %v", files)
	}
	for _, f := range files {
		if fi, err := os.Stat(f); err == nil && fi.IsDir() { // static/i18n: the catalogs, data only
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		s := string(b)
		switch filepath.Ext(f) {
		case ".html":
			if strings.Contains(s, "<style") || strings.Contains(s, " style=") || inlineScript.MatchString(s) || handler.MatchString(s) || external.MatchString(s) {
				t.Errorf("%s has inline style, inline script, an event handler attribute or an external URL", f)
			}
		case ".js":
			if strings.Contains(s, "innerHTML") || strings.Contains(s, "eval(") || strings.Contains(s, "new Function") || strings.Contains(s, "setAttribute('style'") {
				t.Errorf("%s uses innerHTML, eval or inline styles", f)
			}
			if regexp.MustCompile(`(?:fetch|import)\s*\(\s*['"]https?:`).MatchString(s) || regexp.MustCompile(`from\s+['"]https?:`).MatchString(s) {
				t.Errorf("%s loads from another origin", f)
			}
		case ".css":
			if strings.Contains(s, "@import") || strings.Contains(s, "url(http") {
				t.Errorf("%s loads from another origin", f)
			}
		}
	}
}

func setupForm(token, password, confirm string) url.Values {
	return url.Values{"token": {token}, "username": {"first@example.com"}, "email": {"first@example.com"},
		"first_name": {"First"}, "last_name": {"Owner"}, "password": {password}, "confirm": {confirm}}
}

func tokenOf(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil || u.Path != "/console/setup" || u.Query().Get("token") == "" {
		t.Fatalf("setup link %q", link)
	}
	return u.Query().Get("token")
}

func TestSetupLinkIsOneTime(t *testing.T) {
	e, c := consoleEnv(t)
	link, err := c.SetupLink(e.ctx, "https://roster.example.com/")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, "https://roster.example.com/console/setup?token=") {
		t.Fatalf("link %q", link)
	}
	tok := tokenOf(t, link)

	if code, _, body := e.get("/console/setup?token=wrong"); code != http.StatusNotFound || !strings.Contains(body, "not valid") {
		t.Fatalf("a wrong token: %d %s", code, body)
	}
	if code, h, body := e.get("/console/setup?token=" + tok); code != http.StatusOK || !strings.Contains(body, `name="password"`) ||
		h.Get("Cache-Control") != "no-store" || h.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("the form: %d %v %s", code, h, body)
	}
	// Mistakes keep the link usable and create nobody.
	for _, tc := range []struct {
		name       string
		form       url.Values
		code       int
		want       string
		hdr        map[string]string
		tokenStays bool
	}{
		{"passwords differ", setupForm(tok, "Long-passphrase-1", "Long-passphrase-2"), 400, "differ", nil, true},
		{"password too short", setupForm(tok, "short", "short"), 400, "password", nil, true},
		{"no username", func() url.Values {
			f := setupForm(tok, "Long-passphrase-1", "Long-passphrase-1")
			f.Set("username", "")
			return f
		}(), 400, "username", nil, true},
		{"cross-site post", setupForm(tok, "Long-passphrase-1", "Long-passphrase-1"), 403, "", map[string]string{"Sec-Fetch-Site": "cross-site"}, true},
		{"wrong token", setupForm("nope", "Long-passphrase-1", "Long-passphrase-1"), 404, "not valid", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := e.post("/console/setup", tc.form, tc.hdr)
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Fatalf("%d %s", code, body)
			}
			if owners := e.owners(); owners != 0 {
				t.Fatalf("%d owners after a refused setup", owners)
			}
			if code, _, _ := e.get("/console/setup?token=" + tok); code != http.StatusOK {
				t.Fatalf("the link no longer works: %d", code)
			}
		})
	}
	code, body := e.post("/console/setup", setupForm(tok, "Long-passphrase-1", "Long-passphrase-1"), nil)
	if code != http.StatusOK || !strings.Contains(body, "setup-done") {
		t.Fatalf("setup: %d %s", code, body)
	}
	u, err := e.svc.GetUserByUsername(e.ctx, e.orgID, "first@example.com")
	if err != nil || u.Role != core.RoleOwner || u.Status != core.StatusActive {
		t.Fatalf("owner: %+v %v", u, err)
	}
	if _, err := e.svc.Login(e.ctx, core.LoginInput{Org: core.DefaultOrg, Username: "first@example.com", Password: "Long-passphrase-1", Audience: core.AudienceConsole}); err != nil {
		t.Fatalf("the owner cannot log in: %v", err)
	}
	// Used: the link is void, and no new link is opened while an owner exists.
	if code, body := e.post("/console/setup", setupForm(tok, "Long-passphrase-1", "Long-passphrase-1"), nil); code != http.StatusNotFound {
		t.Fatalf("second use: %d %s", code, body)
	}
	if code, _, _ := e.get("/console/setup?token=" + tok); code != http.StatusNotFound {
		t.Fatalf("the used link still shows the form: %d", code)
	}
	if link, err := c.SetupLink(e.ctx, "http://x"); err != nil || link != "" {
		t.Fatalf("a setup link with an owner: %q %v", link, err)
	}
}

// A link opened before an owner was made elsewhere (the CLI) creates nobody;
// a new link replaces the previous one.
func TestSetupLinkVoidOnceAnOwnerExists(t *testing.T) {
	e, c := consoleEnv(t)
	first, _ := c.SetupLink(e.ctx, "http://x")
	second, _ := c.SetupLink(e.ctx, "http://x")
	if code, _, _ := e.get("/console/setup?token=" + tokenOf(t, first)); code != http.StatusNotFound {
		t.Fatalf("the replaced link still works: %d", code)
	}
	if _, err := e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: e.orgID, Username: "cli@example.com", Email: "cli@example.com",
		Role: core.RoleOwner, Invite: core.NoInvite, Password: "Owner-by-shell-9"}); err != nil {
		t.Fatal(err)
	}
	if code, body := e.post("/console/setup", setupForm(tokenOf(t, second), "Long-passphrase-1", "Long-passphrase-1"), nil); code != http.StatusNotFound {
		t.Fatalf("setup with an owner present: %d %s", code, body)
	}
	if n := e.owners(); n != 1 {
		t.Fatalf("%d owners", n)
	}
}

func (e *env) owners() int {
	e.t.Helper()
	us, err := e.svc.ListUsers(e.ctx, core.UserQuery{OrgID: e.orgID, Roles: []core.Role{core.RoleOwner}})
	if err != nil {
		e.t.Fatal(err)
	}
	return len(us)
}

// Static files carry an ETag and answer 304 while unchanged.
func TestConsoleFilesRevalidate(t *testing.T) {
	e, _ := consoleEnv(t)
	res, err := http.Get(e.srv.URL + "/console/static/app.js")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	tag := res.Header.Get("ETag")
	if tag == "" || res.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("headers %v", res.Header)
	}
	for _, tc := range []struct {
		name, inm string
		code      int
	}{{"same", tag, 304}, {"other", `"x"`, 200}} {
		req, _ := http.NewRequest(http.MethodGet, e.srv.URL+"/console/static/app.js", nil)
		req.Header.Set("If-None-Match", tc.inm)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != tc.code || (tc.code == 304 && len(b) != 0) || res.Header.Get("Content-Security-Policy") == "" {
			t.Fatalf("%s: %d, %d bytes", tc.name, res.StatusCode, len(b))
		}
	}
	res, _ = http.Get(e.srv.URL + "/console/static/users.js")
	res.Body.Close()
	if res.Header.Get("ETag") == tag {
		t.Fatal("two files share an ETag")
	}
}
