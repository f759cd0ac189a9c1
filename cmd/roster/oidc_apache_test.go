package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The OpenID Provider against a real relying party: Debian's Apache with
// mod_auth_openidc protects a page (a CGI that prints the claims it gets)
// with the real roster binary as its provider. Scripted browser (a cookie
// jar following redirects, as a browser does): a user assigned to the app
// through a group signs in on roster's page and the page shows their
// claims; a user not assigned is refused with a clear page; logout through
// the app ends the catalog session (the next visit asks for the password
// again); a disabled user cannot sign in.
func TestAppsSignInWithRosterThroughApache(t *testing.T) {
	st := newOIDCStack(t)
	d, token, app, users, base, rp := st.d, st.token, st.app, st.users, st.base, st.rp

	// alice signs in and the app sees her claims.
	alice := newBrowser(t)
	page := alice.signIn(t, rp+"/protected/claims", "alice", pw("alice"))
	if page.status != 200 {
		t.Fatalf("alice: %d %s\n%s", page.status, page.url, page.body)
	}
	t.Logf("the app's page for alice:\n%s", page.body)
	for _, want := range []string{
		"REMOTE_USER=alice\n",
		"OIDC_CLAIM_sub=" + users["alice"] + "\n",
		"OIDC_CLAIM_email=alice@example.com\n",
		"OIDC_CLAIM_name=Alice Archer\n",
		"OIDC_CLAIM_given_name=Alice\n",
		"OIDC_CLAIM_family_name=Archer\n",
		"OIDC_CLAIM_preferred_username=alice\n",
		"OIDC_CLAIM_locale=de\n",
		"OIDC_CLAIM_roles=member\n",
		"OIDC_CLAIM_groups=wiki-users\n",
		"OIDC_CLAIM_app_role=editor\n",
		"OIDC_CLAIM_iss=" + base + "/oidc/default\n",
		"OIDC_CLAIM_aud=" + app.id + "\n",
	} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the app's page lacks %q:\n%s", want, page.body)
		}
	}
	// Her session with the app alone serves the page again.
	if again := alice.get(t, rp+"/protected/claims"); again.status != 200 || !strings.Contains(again.body, "REMOTE_USER=alice") {
		t.Fatalf("alice again: %d %s", again.status, again.body)
	}

	// bob is not assigned: a clear page, and no code for the app.
	bob := newBrowser(t)
	page = bob.signIn(t, rp+"/protected/claims", "bob", pw("bob"))
	if page.status != 403 || !strings.Contains(page.body, "not assigned to Wiki") || strings.HasPrefix(page.url, rp) {
		t.Fatalf("bob: %d %s\n%s", page.status, page.url, page.body)
	}

	// Logout through the app ends alice's catalog session at roster: the
	// next visit gets the sign-in form again, not a silent sign-in.
	page = alice.get(t, rp+"/protected/redirect_uri?logout="+url.QueryEscape(rp+"/loggedout.html"))
	if page.status != 200 || page.url != rp+"/loggedout.html" || !strings.Contains(page.body, "logged out of the wiki") {
		t.Fatalf("logout: %d %s\n%s", page.status, page.url, page.body)
	}
	page = alice.get(t, rp+"/protected/claims")
	if page.status != 200 || !strings.HasPrefix(page.url, base+"/oidc/default/login?") || !strings.Contains(page.body, `name="password"`) {
		t.Fatalf("after logout, alice was not asked to sign in again: %d %s\n%s", page.status, page.url, page.body)
	}

	// carol, assigned, signs in; once disabled she cannot.
	carol := newBrowser(t)
	if page = carol.signIn(t, rp+"/protected/claims", "carol", pw("carol")); page.status != 200 || !strings.Contains(page.body, "REMOTE_USER=carol") {
		t.Fatalf("carol: %d %s", page.status, page.body)
	}
	if code, m := call(t, nil, "POST", d.base+"/api/v1/users/"+users["carol"]+"/disable", token, ""); code != 200 {
		t.Fatalf("disable carol: %d %v", code, m)
	}
	carol2 := newBrowser(t)
	page = carol2.signIn(t, rp+"/protected/claims", "carol", pw("carol"))
	if page.status != 401 || !strings.Contains(page.body, "invalid username or password") || strings.HasPrefix(page.url, rp) {
		t.Fatalf("disabled carol: %d %s\n%s", page.status, page.url, page.body)
	}
}

// oidcStack is the real binary as the provider of an Apache RP: the app
// "Wiki", alice assigned through the group wiki-users (app role editor),
// carol directly, bob not at all.
type oidcStack struct {
	d               *daemon
	token, base, rp string
	app             oidcApp
	users           map[string]string
}

func newOIDCStack(t *testing.T) *oidcStack {
	t.Helper()
	apache := requireApache(t)
	dir := t.TempDir()
	rosterPort, rpPort := freePort(t), freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(rosterPort)
	rp := "http://127.0.0.1:" + strconv.Itoa(rpPort)
	cfg := writeConfig(t, dir, fmt.Sprintf("listen: 127.0.0.1:%d\npublic_url: %s\ndatabase: {dsn: %s}\n", rosterPort, base, filepath.Join(dir, "r.db")))
	d := startServe(t, dir, "--config", cfg)
	token := adminSetup(t, dir, cfg, "Keeper-passphrase-42")
	app := setUpOIDCApp(t, d.base, token, rp)

	users := map[string]string{}
	for _, u := range []struct{ name, first, last, lang string }{{"alice", "Alice", "Archer", "de"}, {"bob", "Bob", "Baker", ""}, {"carol", "Carol", "Cook", ""}} {
		r := roster(t, dir, pw(u.name)+"\n", "user", "create", "--config", cfg, "--username", u.name, "--email", u.name+"@example.com",
			"--first", u.first, "--last", u.last, "--language", u.lang, "--no-invite", "--password-stdin")
		if r.code != 0 {
			t.Fatalf("create %s: %s", u.name, r.stderr)
		}
		var v struct{ ID string }
		if err := json.Unmarshal([]byte(r.stdout), &v); err != nil || v.ID == "" {
			t.Fatalf("create %s: %q %v", u.name, r.stdout, err)
		}
		users[u.name] = v.ID
	}
	// alice through a group, carol directly; bob not at all.
	code, g := call(t, nil, "POST", d.base+"/api/v1/groups", token, `{"name":"wiki-users"}`)
	if code != 201 {
		t.Fatalf("group: %d %v", code, g)
	}
	if code, m := call(t, nil, "POST", d.base+"/api/v1/groups/"+g["id"].(string)+"/members", token, `{"user_ids":["`+users["alice"]+`"]}`); code != 200 {
		t.Fatalf("members: %d %v", code, m)
	}
	for _, body := range []string{`{"group_id":"` + g["id"].(string) + `","app_role":"editor"}`, `{"user_id":"` + users["carol"] + `"}`} {
		if code, m := call(t, nil, "POST", d.base+"/api/v1/apps/"+app.id+"/assignments", token, body); code != 204 {
			t.Fatalf("assign %s: %d %v", body, code, m)
		}
	}

	startApacheRP(t, apache, dir, rpPort, app, "openid email profile roles groups")

	return &oidcStack{d: d, token: token, base: base, rp: rp, app: app, users: users}
}

type oidcApp struct{ id, secret, issuer string }

// setUpOIDCApp creates the app "Wiki" and makes it a confidential client of
// the Apache RP at rp.
func setUpOIDCApp(t *testing.T, base, token, rp string) oidcApp {
	t.Helper()
	code, m := call(t, nil, "POST", base+"/api/v1/apps", token, `{"name":"Wiki"}`)
	if code != 201 {
		t.Fatalf("app: %d %v", code, m)
	}
	id := m["id"].(string)
	code, m = call(t, nil, "PUT", base+"/api/v1/apps/"+id+"/oidc", token, fmt.Sprintf(
		`{"redirect_uris":["%s/protected/redirect_uri"],"post_logout_redirect_uris":["%s/loggedout.html"]}`, rp, rp))
	if code != 200 {
		t.Fatalf("oidc client: %d %v", code, m)
	}
	secret, _ := m["client_secret"].(string)
	if !strings.HasPrefix(secret, "roidc_") || m["client_id"] != id {
		t.Fatalf("oidc client: %v", m)
	}
	return oidcApp{id: id, secret: secret, issuer: m["issuer"].(string)}
}

// requireApache returns the path of apache2 when it and mod_auth_openidc
// are installed; under CI their absence fails the test.
func requireApache(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("apache2")
	if err != nil {
		bin = "/usr/sbin/apache2"
	}
	_, errBin := os.Stat(bin)
	_, errMod := os.Stat("/usr/lib/apache2/modules/mod_auth_openidc.so")
	if errBin != nil || errMod != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("apache2 and libapache2-mod-auth-openidc are required (apt-get install apache2 libapache2-mod-auth-openidc): %v %v", errBin, errMod)
		}
		t.Skip("apache2 or mod_auth_openidc is not installed")
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// startApacheRP starts Apache on port with mod_auth_openidc protecting
// /protected (claims.cgi prints what the app gets) and stops it at the
// end, by its pid.
func startApacheRP(t *testing.T, bin, dir string, port int, app oidcApp, scopes string) {
	t.Helper()
	a := filepath.Join(dir, "apache")
	for _, sub := range []string{"logs", "run", "cgi-bin", "htdocs"} {
		if err := os.MkdirAll(filepath.Join(a, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	// Running as root, Apache's children are www-data: they must reach the CGI.
	for p := a; p != "/" && p != "."; p = filepath.Dir(p) {
		if fi, err := os.Stat(p); err == nil && fi.Mode().Perm()&0o001 == 0 {
			_ = os.Chmod(p, fi.Mode().Perm()|0o011)
		}
	}
	cgi := "#!/bin/sh\nprintf 'Content-Type: text/plain\\r\\n\\r\\n'\necho \"REMOTE_USER=$REMOTE_USER\"\nenv | grep '^OIDC_CLAIM_' | sort\n"
	if err := os.WriteFile(filepath.Join(a, "cgi-bin", "claims.cgi"), []byte(cgi), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(a, "htdocs", "loggedout.html"), []byte("<p>You are logged out of the wiki.</p>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	rp := fmt.Sprintf("http://127.0.0.1:%d", port)
	m := "/usr/lib/apache2/modules"
	conf := fmt.Sprintf(`ServerRoot "%[1]s"
ServerName 127.0.0.1
Listen 127.0.0.1:%[2]d
PidFile "%[1]s/run/httpd.pid"
DefaultRuntimeDir "%[1]s/run"
Mutex file:%[1]s/run default
ErrorLog "%[1]s/logs/error.log"
LogLevel warn auth_openidc:info
User www-data
Group www-data
LoadModule mpm_prefork_module %[3]s/mod_mpm_prefork.so
StartServers 2
MinSpareServers 1
MaxSpareServers 4
LoadModule authn_core_module  %[3]s/mod_authn_core.so
LoadModule authz_core_module  %[3]s/mod_authz_core.so
LoadModule authz_user_module  %[3]s/mod_authz_user.so
LoadModule alias_module       %[3]s/mod_alias.so
LoadModule cgi_module         %[3]s/mod_cgi.so
LoadModule mime_module        %[3]s/mod_mime.so
LoadModule auth_openidc_module %[3]s/mod_auth_openidc.so
TypesConfig /etc/mime.types
DocumentRoot "%[1]s/htdocs"
<Directory />
  AllowOverride None
  Require all denied
</Directory>
<Directory "%[1]s/htdocs">
  Require all granted
</Directory>

# The app's OpenID Connect settings: roster is the provider.
OIDCProviderMetadataURL %[4]s/.well-known/openid-configuration
OIDCClientID %[5]s
OIDCClientSecret %[6]s
OIDCProviderTokenEndpointAuth client_secret_basic
OIDCRedirectURI %[7]s/protected/redirect_uri
OIDCCryptoPassphrase %[8]s
OIDCScope "%[9]s"
OIDCPKCEMethod S256
OIDCResponseType code
OIDCRemoteUserClaim preferred_username
OIDCPassClaimsAs environment
OIDCCookieSameSite On
OIDCSessionType server-cache
OIDCCacheType shm

ScriptAlias /protected/claims "%[1]s/cgi-bin/claims.cgi"
<Directory "%[1]s/cgi-bin">
  Require all granted
</Directory>
<Location /protected>
  AuthType openid-connect
  Require valid-user
</Location>
`, a, port, m, app.issuer, app.id, app.secret, rp, "test-passphrase-"+strconv.Itoa(port), scopes)
	confPath := filepath.Join(a, "httpd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command(bin, "-f", confPath, "-k", "start").CombinedOutput(); err != nil {
		t.Fatalf("apache start: %v\n%s", err, out)
	}
	pidFile := filepath.Join(a, "run", "httpd.pid")
	t.Cleanup(func() {
		b, err := os.ReadFile(pidFile)
		if err != nil {
			return
		}
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		if pid <= 0 {
			return
		}
		_ = syscall.Kill(pid, syscall.SIGTERM)
		for i := 0; i < 100 && syscall.Kill(pid, 0) == nil; i++ {
			time.Sleep(50 * time.Millisecond)
		}
		if t.Failed() {
			if b, err := os.ReadFile(filepath.Join(a, "logs", "error.log")); err == nil {
				t.Logf("apache error.log:\n%s", b)
			}
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		if b, err := os.ReadFile(pidFile); err == nil && len(b) > 0 {
			if res, err := http.Get(rp + "/loggedout.html"); err == nil {
				res.Body.Close()
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatal("apache did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// browser is a scripted browser: a cookie jar, redirects followed, and
// Accept: text/html (mod_auth_openidc answers others 401).
type browser struct{ c *http.Client }

type page struct {
	status    int
	url, body string
}

func newBrowser(t *testing.T) *browser {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &browser{c: &http.Client{Jar: jar, Timeout: 20 * time.Second}}
}

func (b *browser) do(t *testing.T, req *http.Request) page {
	t.Helper()
	req.Header.Set("Accept", "text/html,application/xhtml+xml")
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return page{status: res.StatusCode, url: res.Request.URL.String(), body: string(body)}
}

func (b *browser) get(t *testing.T, u string) page {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	return b.do(t, req)
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="(id|csrf)" value="([^"]*)">`)
var actionRE = regexp.MustCompile(`<form method="post" action="([^"]+)"`)

// submit posts the page's form with its hidden fields and values.
func (b *browser) submit(t *testing.T, p page, values url.Values) page {
	t.Helper()
	m := actionRE.FindStringSubmatch(p.body)
	if m == nil {
		t.Fatalf("no form on %s (%d):\n%s", p.url, p.status, p.body)
	}
	for _, h := range hiddenRE.FindAllStringSubmatch(p.body, -1) {
		values.Set(h[1], h[2])
	}
	pu, _ := url.Parse(p.url)
	action, _ := pu.Parse(m[1])
	req, err := http.NewRequest(http.MethodPost, action.String(), strings.NewReader(values.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(t, req)
}

// signIn opens start, which must lead to roster's sign-in form, and signs in.
func (b *browser) signIn(t *testing.T, start, username, password string) page {
	t.Helper()
	p := b.get(t, start)
	if p.status != 200 || !strings.Contains(p.url, "/oidc/") || !strings.Contains(p.body, `name="password"`) {
		t.Fatalf("%s did not lead to roster's sign-in form: %d %s\n%s", start, p.status, p.url, p.body)
	}
	return b.submit(t, p, url.Values{"username": {username}, "password": {password}})
}

// pw is a test user's password (one that the policy accepts: it must not
// contain the username).
func pw(name string) string {
	return "Tulip-garden-" + strconv.Itoa(len(name)) + "-" + strings.ToUpper(name[:1]) + "x9"
}

// A catalog logout through the admin API (the user signs out of the
// catalog, not of the app) reaches Apache by back-channel logout:
// mod_auth_openidc verifies roster's logout token and ends its own session
// of the user, so the page asks for the password again; the console
// session stays.
func TestApacheBackchannelLogoutOnCatalogLogout(t *testing.T) {
	st := newOIDCStack(t)
	if code, m := call(t, nil, "PUT", st.d.base+"/api/v1/apps/"+st.app.id+"/oidc", st.token, fmt.Sprintf(
		`{"redirect_uris":["%[1]s/protected/redirect_uri"],"post_logout_redirect_uris":["%[1]s/loggedout.html"],"backchannel_logout_uri":"%[1]s/protected/redirect_uri?logout=backchannel"}`, st.rp)); code != 200 {
		t.Fatalf("back-channel URI: %d %v", code, m)
	}
	alice := newBrowser(t)
	if page := alice.signIn(t, st.rp+"/protected/claims", "alice", pw("alice")); page.status != 200 || !strings.Contains(page.body, "REMOTE_USER=alice") {
		t.Fatalf("alice: %d %s\n%s", page.status, page.url, page.body)
	}
	if page := alice.get(t, st.rp+"/protected/claims"); page.status != 200 || !strings.Contains(page.body, "REMOTE_USER=alice") {
		t.Fatalf("alice's Apache session: %d %s", page.status, page.url)
	}
	login := func(aud string) string {
		code, m := call(t, nil, "POST", st.d.base+"/api/v1/auth/login", "", `{"username":"alice","password":"`+pw("alice")+`","audience":"`+aud+`"}`)
		if code != 200 {
			t.Fatalf("%s login: %d %v", aud, code, m)
		}
		return m["token"].(string)
	}
	catalog, console := login("catalog"), login("console")
	if code, m := call(t, nil, "POST", st.d.base+"/api/v1/auth/logout", catalog, ""); code != 204 {
		t.Fatalf("catalog logout: %d %v", code, m)
	}
	var page page
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if page = alice.get(t, st.rp+"/protected/claims"); strings.Contains(page.body, `name="password"`) {
			break
		}
	}
	if !strings.HasPrefix(page.url, st.base+"/oidc/default/login?") || !strings.Contains(page.body, `name="password"`) {
		t.Fatalf("after the catalog logout Apache still serves alice (no back-channel logout): %d %s\n%s", page.status, page.url, page.body)
	}
	if code, m := call(t, nil, "GET", st.d.base+"/api/v1/me", console, ""); code != 200 {
		t.Fatalf("the console session after the catalog logout: %d %v", code, m)
	}
}
