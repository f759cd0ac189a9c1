package main

import (
	"bytes"
	"compress/gzip"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"html"
	"io"
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

	"github.com/chromedp/chromedp"
	_ "github.com/mattn/go-sqlite3"

	"github.com/rosterhq/roster/sso"
)

// Single sign-on through a real third-party OpenID provider: Debian's
// glewlwyd, started on loopback by the test, is the organisation's IdP and
// the real roster binary its relying party. A browser is scripted (a
// cookie jar following redirects; glewlwyd's login through its own login
// API, what its login page calls); in headless Chromium, the console's
// sign-in types into glewlwyd's real login form. Covered: a user provisioned by SCIM with
// the IdP's subject as externalId signs in to the console; a disabled user
// and an unknown identity are refused with a clear page; a state and a
// nonce that do not belong to the sign-in are refused; with password
// sign-in off the password API refuses everyone but the break-glass owner;
// just-in-time creation makes a user of source oidc:glew when on.
func TestSSOThroughGlewlwyd(t *testing.T) {
	idp := startGlewlwyd(t)
	dir := t.TempDir()
	port := freePort(t)
	base := "http://127.0.0.1:" + strconv.Itoa(port)
	secret := "sso-client-secret-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	idp.addClient(t, "roster", secret, base+"/auth/sso/default/callback")
	for _, u := range []string{"alice", "bob", "erin"} {
		idp.addUser(t, u)
	}
	secretFile := filepath.Join(dir, "sso-secret")
	if err := os.WriteFile(secretFile, []byte(secret+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	writeCfg := func(extra string) string {
		return writeConfig(t, dir, fmt.Sprintf(`listen: 127.0.0.1:%d
public_url: %s
database: {dsn: %s}
sso:
  - name: glew
    display_name: Glewlwyd
    issuer: %s
    client_id: roster
    client_secret_file: %s
    scopes: [openid]
    match_sources: ["scim:okta"]
%s`, port, base, filepath.Join(dir, "r.db"), idp.issuer, secretFile, extra))
	}
	cfg := writeCfg("")
	if r := roster(t, dir, "", "config", "check", "--config", cfg); r.code != 0 {
		t.Fatalf("config check: %s %s", r.stdout, r.stderr)
	}
	d := startServe(t, dir, "--config", cfg)
	token := adminSetup(t, dir, cfg, "Keeper-passphrase-42")

	// The methods the console's sign-in page offers.
	code, m := call(t, nil, "GET", base+"/auth/methods?org=default", "", "")
	if sso, _ := m["sso"].(map[string]any); code != 200 || m["password"] != true || sso["display_name"] != "Glewlwyd" || sso["start_url"] != "/auth/sso/default/start" {
		t.Fatalf("methods: %d %v", code, m)
	}

	// alice and bob are provisioned by SCIM with their IdP subjects as externalId.
	r := roster(t, dir, "", "token", "create", "--config", cfg, "--name", "okta", "--scope", "scim", "--invite=false")
	if r.code != 0 {
		t.Fatalf("scim token: %s", r.stderr)
	}
	scimToken := strings.TrimSpace(r.stdout)
	ids := map[string]string{}
	for _, name := range []string{"alice", "bob"} {
		sub := idp.subjectOf(t, name, base+"/auth/sso/default/callback", secret)
		code, u := call(t, nil, "POST", base+"/scim/v2/Users", scimToken, fmt.Sprintf(
			`{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"%s","externalId":"%s","emails":[{"value":"%s@corp.example","primary":true}]}`, name, sub, name))
		if code != 201 {
			t.Fatalf("scim %s: %d %v", name, code, u)
		}
		ids[name] = u["id"].(string)
	}
	if code, m := call(t, nil, "POST", d.base+"/api/v1/users/"+ids["bob"]+"/disable", token, ""); code != 200 {
		t.Fatalf("disable bob: %d %v", code, m)
	}

	start := base + "/auth/sso/default/start?audience=console&return=" + url.QueryEscape("/console/")

	// alice signs in to the console through glewlwyd.
	alice := newBrowser(t)
	began := time.Now()
	p := idp.signIn(t, alice, start, "alice")
	t.Logf("a console sign-in through glewlwyd, end to end (roster start, IdP login API, code, callback, console page): %s", time.Since(began).Round(time.Millisecond))
	if p.status != 200 || p.url != base+"/console/" {
		t.Fatalf("alice: %d %s\n%.400s", p.status, p.url, p.body)
	}
	if me := alice.json(t, base+"/api/v1/me"); me["username"] != "alice" || me["source"] != "scim:okta" || me["id"] != ids["alice"] {
		t.Fatalf("alice's console session: %v", me)
	}

	// bob is disabled, erin unknown while jit is off: a clear page each, no
	// session, nobody created.
	for _, tc := range []struct{ user, page string }{
		{"bob", "Your account is disabled"},
		{"erin", "There is no account for erin@example.test"},
	} {
		br := newBrowser(t)
		p = idp.signIn(t, br, start, tc.user)
		if p.status != 403 || !strings.Contains(p.body, tc.page) {
			t.Fatalf("%s: %d %s, want 403 %q\n%s", tc.user, p.status, p.url, tc.page, p.body)
		}
		if code := br.status(t, base+"/api/v1/me"); code != 401 {
			t.Fatalf("refused %s has a session: %d", tc.user, code)
		}
	}

	// A state that does not belong to the browser's sign-in is refused.
	mallory := newBrowser(t)
	cb := idp.authorize(t, mallory, start, "alice")
	cbu, _ := url.Parse(cb)
	q := cbu.Query()
	q.Set("state", "forged-"+q.Get("state"))
	cbu.RawQuery = q.Encode()
	p = mallory.get(t, cbu.String())
	if p.status != 400 || !strings.Contains(p.body, "state mismatch") {
		t.Fatalf("state mismatch: %d %s\n%s", p.status, p.url, p.body)
	}
	if code := mallory.status(t, base+"/api/v1/me"); code != 401 {
		t.Fatalf("a forged state opened a session: %d", code)
	}

	// A nonce that is not the ID token's is refused (the cookie re-sealed
	// with another nonce, state and PKCE verifier kept).
	eve := newBrowser(t)
	cb = idp.authorize(t, eve, start, "alice")
	cookieURL, _ := url.Parse(base + "/auth/sso/default/")
	var sealed string
	for _, c := range eve.c.Jar.Cookies(cookieURL) {
		if c.Name == sso.StateCookie {
			sealed = c.Value
		}
	}
	st, err := sso.OpenState(secret, "default", sealed, time.Now())
	if err != nil {
		t.Fatalf("state cookie: %v", err)
	}
	st.Nonce = "another-nonce"
	eve.c.Jar.SetCookies(cookieURL, []*http.Cookie{{Name: sso.StateCookie, Value: sso.SealState(secret, st), Path: "/auth/sso/default/"}})
	p = eve.get(t, cb)
	if p.status != 401 || !strings.Contains(p.body, "nonce mismatch") {
		t.Fatalf("nonce mismatch: %d %s\n%s", p.status, p.url, p.body)
	}
	if code := eve.status(t, base+"/api/v1/me"); code != 401 {
		t.Fatalf("a wrong nonce opened a session: %d", code)
	}

	// A native member with a password, for the password-off checks.
	if r := roster(t, dir, pw("mallory")+"\n", "user", "create", "--config", cfg, "--username", "mallory", "--email", "mallory@example.com",
		"--no-invite", "--password-stdin"); r.code != 0 {
		t.Fatalf("mallory: %s", r.stderr)
	}
	login := func(user, pass string) (int, map[string]any) {
		return call(t, nil, "POST", base+"/api/v1/auth/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, user, pass))
	}
	if code, m := login("mallory", pw("mallory")); code != 200 {
		t.Fatalf("password sign-in while on: %d %v", code, m)
	}

	// Password sign-in off, the owner as break-glass, jit on.
	d.stop(t)
	cfg = writeCfg("    jit: true\n    password_login: false\n    break_glass_owners: [owner@example.com]\n")
	d = startServe(t, dir, "--config", cfg)
	if logs := d.logs.String(); strings.Contains(logs, "break-glass owner") {
		t.Errorf("a warning for a break-glass owner who is an active owner:\n%s", logs)
	}
	if code, m := call(t, nil, "GET", base+"/auth/methods", "", ""); code != 200 || m["password"] != false {
		t.Fatalf("methods with password off: %d %v", code, m)
	}
	code, m = login("mallory", pw("mallory"))
	if e, _ := m["error"].(map[string]any); code != 401 || e["code"] != "password_login_off" {
		t.Fatalf("password sign-in while off: %d %v", code, m)
	}
	code, m = login("nobody-here", "whatever-password")
	if e, _ := m["error"].(map[string]any); code != 401 || e["code"] != "password_login_off" {
		t.Fatalf("unknown user while off (must get the same answer): %d %v", code, m)
	}
	if code, m := login("owner@example.com", "Keeper-passphrase-42"); code != 200 {
		t.Fatalf("break-glass owner: %d %v", code, m)
	}
	if code, m := login("owner@example.com", "wrong-passphrase-42"); code != 401 {
		t.Fatalf("break-glass owner, wrong password: %d %v", code, m)
	}
	// alice still signs in through the IdP.
	alice = newBrowser(t)
	began = time.Now()
	if p = idp.signIn(t, alice, start, "alice"); p.status != 200 || p.url != base+"/console/" {
		t.Fatalf("alice with password off: %d %s\n%.400s", p.status, p.url, p.body)
	}
	t.Logf("the same after a restart of roster (discovery and keys fetched again): %s", time.Since(began).Round(time.Millisecond))
	began = time.Now()
	if p = idp.signIn(t, newBrowser(t), start, "alice"); p.status != 200 {
		t.Fatalf("alice again: %d", p.status)
	}
	t.Logf("the same, warm: %s", time.Since(began).Round(time.Millisecond))

	// In headless Chromium, the console's sign-in page shows the IdP's
	// button and keeps the password fields folded away; the button leads
	// through glewlwyd back into the console, signed in.
	consoleSSOInChromium(t, base, idp)

	// The OP's own sign-in page (an app of the platform signing alice in)
	// offers the IdP too, with the password form folded away; through it
	// alice reaches the app with a code.
	opSignInThroughSSO(t, base, token, idp, ids["alice"])

	// erin now gets an account just in time: source oidc:glew, member, active.
	erin := newBrowser(t)
	if p = idp.signIn(t, erin, start, "erin"); p.status != 200 || p.url != base+"/console/" {
		t.Fatalf("jit erin: %d %s\n%.400s", p.status, p.url, p.body)
	}
	me := erin.json(t, base+"/api/v1/me")
	if me["username"] != "erin" || me["source"] != "oidc:glew" || me["role"] != "member" || me["status"] != "active" || me["email"] != "erin@example.test" || me["external_id"] == "" {
		t.Fatalf("jit erin: %v", me)
	}
	// A second sign-in finds the same user (by sub in oidc:glew).
	erin2 := newBrowser(t)
	if p = idp.signIn(t, erin2, start, "erin"); p.status != 200 {
		t.Fatalf("erin again: %d %s", p.status, p.body)
	}
	if me2 := erin2.json(t, base+"/api/v1/me"); me2["id"] != me["id"] {
		t.Fatalf("erin's second sign-in is another user: %v vs %v", me2["id"], me["id"])
	}
}

func opSignInThroughSSO(t *testing.T, base, token string, idp *glewlwyd, aliceID string) {
	t.Helper()
	rp := "http://127.0.0.1:9" // never reached: the redirect with the code is the end
	app := setUpOIDCApp(t, base, token, rp)
	if code, m := call(t, nil, "POST", base+"/api/v1/apps/"+app.id+"/assignments", token, `{"user_id":"`+aliceID+`"}`); code != 204 {
		t.Fatalf("assign alice: %d %v", code, m)
	}
	b := newBrowser(t)
	b.c.CheckRedirect = func(req *http.Request, _ []*http.Request) error {
		if req.URL.Host == "127.0.0.1:9" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	// ssoRound asks for a sign-in with extra parameters, finds the SSO
	// button on the OP's page, signs in at glewlwyd's login page through it
	// and returns the code the app gets (no second form: no loop).
	ssoRound := func(what string, extra url.Values) string {
		t.Helper()
		q := url.Values{"response_type": {"code"}, "client_id": {app.id}, "redirect_uri": {rp + "/protected/redirect_uri"},
			"scope": {"openid"}, "state": {"app-state"}, "nonce": {"app-nonce"}}
		for k, v := range extra {
			q[k] = v
		}
		p := b.get(t, app.issuer+"/authorize?"+q.Encode())
		m := regexp.MustCompile(`<a class="sso" id="sso" href="([^"]+)">Sign in with Glewlwyd</a>`).FindStringSubmatch(p.body)
		if p.status != 200 || m == nil || !strings.Contains(p.body, `<details id="break-glass">`) {
			t.Fatalf("%s: the OP's sign-in page has no SSO button or shows the password form: %d %s\n%s", what, p.status, p.url, p.body)
		}
		start, _ := url.Parse(base)
		start, _ = start.Parse(html.UnescapeString(m[1]))
		sq := start.Query()
		if sq.Get("audience") != "catalog" || (extra != nil && (sq.Get("prompt") != "login" || sq.Has("max_age"))) {
			t.Fatalf("%s: sso button: %s", what, start)
		}
		// Both demands go to the IdP as prompt=login (glewlwyd refuses
		// max_age=0, which OpenID Connect says is the same); authorize
		// insists on glewlwyd's login page: glewlwyd asks again although
		// alice has a session there.
		res, err := b.c.Get(idp.authorize(t, b, start.String(), "alice"))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		loc, _ := url.Parse(res.Header.Get("Location"))
		if res.StatusCode != 302 || !strings.HasPrefix(loc.String(), rp+"/protected/redirect_uri?") || loc.Query().Get("code") == "" || loc.Query().Get("state") != "app-state" {
			t.Fatalf("%s: alice through SSO to the app: %d %s\n%.1200s", what, res.StatusCode, loc, body)
		}
		return loc.Query().Get("code")
	}
	authTime := func(code string) time.Time {
		t.Helper()
		form := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {rp + "/protected/redirect_uri"}}
		req, _ := http.NewRequest("POST", app.issuer+"/oauth/token", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.SetBasicAuth(app.id, app.secret)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var tok struct {
			IDToken string `json:"id_token"`
		}
		if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.IDToken == "" {
			t.Fatalf("token exchange: %d %v", res.StatusCode, err)
		}
		parts := strings.Split(tok.IDToken, ".")
		raw, _ := base64.RawURLEncoding.DecodeString(parts[1])
		var c struct {
			AuthTime int64 `json:"auth_time"`
		}
		if err := json.Unmarshal(raw, &c); err != nil || c.AuthTime == 0 {
			t.Fatalf("ID token without auth_time: %s", raw)
		}
		return time.Unix(c.AuthTime, 0)
	}
	ssoRound("a first sign-in", nil)

	// The app asks for a fresh sign-in: alice has a catalog session, but
	// the form is shown; the SSO round trip is a sign-in for this request
	// and ends with a code; the ID token's auth_time is the new sign-in's.
	time.Sleep(1100 * time.Millisecond) // auth_time has seconds
	asked := time.Now().Truncate(time.Second)
	if at := authTime(ssoRound("prompt=login", url.Values{"prompt": {"login"}})); at.Before(asked) {
		t.Fatalf("prompt=login through SSO: auth_time %s is before the request (%s)", at, asked)
	}
	time.Sleep(1100 * time.Millisecond)
	asked = time.Now().Truncate(time.Second)
	if at := authTime(ssoRound("max_age=0", url.Values{"max_age": {"0"}})); at.Before(asked) {
		t.Fatalf("max_age=0 through SSO: auth_time %s is before the request (%s)", at, asked)
	}
	// A generous max_age is met by the session alice has: straight to the app.
	res, err := b.c.Get(app.issuer + "/authorize?" + url.Values{"response_type": {"code"}, "client_id": {app.id}, "redirect_uri": {rp + "/protected/redirect_uri"},
		"scope": {"openid"}, "state": {"app-state"}, "nonce": {"app-nonce"}, "max_age": {"3600"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if loc, _ := url.Parse(res.Header.Get("Location")); res.StatusCode != 302 || loc.Query().Get("code") == "" {
		t.Fatalf("max_age=3600 with a session of seconds: %d %s", res.StatusCode, loc)
	}
}

func consoleSSOInChromium(t *testing.T, base string, idp *glewlwyd) {
	t.Helper()
	exe := requireChromium(t)
	ctx := newChromium(t, exe)
	eval := func(expr string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("%s: %v", expr, err)
		}
		return s
	}
	wait := func(what, expr string) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => { try { return !!(`+expr+`); } catch (e) { return false; } })()`)); err == nil && ok {
				return
			}
		}
		text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.href + "\n" + (document.body ? document.body.innerText : '')`))
		t.Fatalf("%s: %s not true\npage:\n%s", what, expr, text)
	}
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/console/")); err != nil {
		t.Fatal(err)
	}
	wait("the SSO button", `document.getElementById('login-sso-button').textContent === 'Sign in with Glewlwyd'`)
	wait("the password fields folded away", `!document.getElementById('login-password-details').open && !document.getElementById('login-password').checkVisibility()`)
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#login-sso-button"))); err != nil {
		t.Fatal(err)
	}
	wait("glewlwyd's login page", `location.href.startsWith('`+idp.url+`/login.html')`)
	// glewlwyd's own form: typed into (key events through its React
	// inputs), its sign-in button, then its Continue button.
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("#username")), chromedp.SendKeys(chromedp.CSS("#username"), "alice"),
		chromedp.SendKeys(chromedp.CSS("#password"), "alice-password"), chromedp.Click(chromedp.CSS("#loginbut"))); err != nil {
		t.Fatalf("glewlwyd's login form: %v", err)
	}
	const cont = `[...document.querySelectorAll('button.btn-success')].find((b) => b.textContent.trim() === 'Continue')`
	wait("glewlwyd's Continue button", cont)
	eval(`(` + cont + `.click(), 'clicked')`)
	wait("the console, signed in as alice", `location.href.startsWith('`+base+`/console/') && document.getElementById('no-access') && document.getElementById('no-access').innerText.includes('alice')`)
}

func (b *browser) json(t *testing.T, u string) map[string]any {
	t.Helper()
	res, err := b.c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	if res.StatusCode != 200 {
		t.Fatalf("GET %s: %d %v", u, res.StatusCode, m)
	}
	return m
}

func (b *browser) status(t *testing.T, u string) int {
	t.Helper()
	res, err := b.c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// glewlwyd is a throwaway glewlwyd (all state in a temp dir), with an admin
// session for provisioning.
type glewlwyd struct {
	url, issuer string
	admin       *http.Client
}

// requireGlewlwyd returns the path of glewlwyd; under CI its absence fails the test.
func requireGlewlwyd(t *testing.T) string {
	t.Helper()
	bin, err := exec.LookPath("glewlwyd")
	_, errInit := os.Stat("/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz")
	if err != nil || errInit != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("glewlwyd is required (apt-get install glewlwyd): %v %v", err, errInit)
		}
		t.Skip("glewlwyd is not installed")
	}
	return bin
}

func startGlewlwyd(t *testing.T) *glewlwyd {
	t.Helper()
	bin := requireGlewlwyd(t)
	dir := t.TempDir()
	// The database from the package's init script: tables, admin/password,
	// the openid scope and the database user and client backends.
	gz, err := os.ReadFile("/usr/share/doc/glewlwyd/database/init.sqlite3.sql.gz")
	if err != nil {
		t.Fatal(err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatal(err)
	}
	schema, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite3", filepath.Join(dir, "glewlwyd.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(string(schema)); err != nil {
		t.Fatalf("glewlwyd schema: %v", err)
	}
	db.Close()
	// glewlwyd's web UI (its login page), a real copy: glewlwyd refuses
	// files outside its static path, and the package's config.json is a
	// symlink to a directory.
	if out, err := exec.Command("sh", "-c", `mkdir "$1/webapp" && for f in /usr/share/glewlwyd/webapp/*; do [ "$(basename "$f")" = config.json ] || cp -rL "$f" "$1/webapp/"; done && cp /etc/glewlwyd/config-2.7.json/config.json "$1/webapp/config.json"`, "sh", dir).CombinedOutput(); err != nil {
		t.Fatalf("glewlwyd web UI: %v %s", err, out)
	}
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	pub, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	privPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}))
	pubPEM := string(pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: pub}))

	port := freePort(t)
	g := &glewlwyd{url: "http://127.0.0.1:" + strconv.Itoa(port)}
	g.issuer = g.url + "/api/oidc"
	conf := fmt.Sprintf(`port=%d
bind_address="127.0.0.1"
external_url="%s"
login_url="login.html"
api_prefix="api"
static_files_path="%s/webapp/"
allow_origin="*"
log_mode="file"
log_level="INFO"
log_file="%s/glewlwyd.log"
cookie_secure=0
cookie_same_site="empty"
session_expiration=3600
session_key="GLEWLWYD2_SESSION_ID"
admin_session_authentication="cookie,api_key"
profile_session_authentication="cookie"
allow_multiple_user_per_session=true
login_api_enabled=true
add_x_frame_option_header_deny=true
admin_scope="g_admin"
profile_scope="g_profile"
user_module_path="/usr/lib/glewlwyd/user"
client_module_path="/usr/lib/glewlwyd/client"
user_auth_scheme_module_path="/usr/lib/glewlwyd/scheme"
plugin_module_path="/usr/lib/glewlwyd/plugin"
hash_algorithm="SHA512"
database = { type = "sqlite3" path = "%s/glewlwyd.db" };
static_files_mime_types = ( { extension = ".html" mime_type = "text/html" }, { extension = ".js" mime_type = "application/javascript" },
  { extension = ".css" mime_type = "text/css" }, { extension = ".json" mime_type = "application/json" } );
`, port, g.url, dir, dir, dir)
	confPath := filepath.Join(dir, "glewlwyd.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := os.Create(filepath.Join(dir, "glewlwyd.stdout"))
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "-c", confPath)
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-exited
		}
		out.Close()
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "glewlwyd.log"))
			t.Logf("glewlwyd log (tail):\n%s", tail(string(log), 3000))
		}
	})
	for deadline := time.Now().Add(10 * time.Second); ; {
		res, err := http.Get(g.url + "/config")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		select {
		case <-exited:
			b, _ := os.ReadFile(out.Name())
			t.Fatalf("glewlwyd exited: %s", b)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("glewlwyd did not start")
		}
		time.Sleep(50 * time.Millisecond)
	}
	jar, _ := cookiejar.New(nil)
	g.admin = &http.Client{Jar: jar, Timeout: 10 * time.Second}
	g.post(t, "POST", "/api/auth/", map[string]any{"username": "admin", "password": "password"})
	g.post(t, "POST", "/api/mod/plugin/", map[string]any{"module": "oidc", "name": "oidc", "display_name": "OpenID Connect", "enabled": true,
		"parameters": map[string]any{
			"iss": g.issuer, "jwt-type": "rsa", "jwt-key-size": "256", "key": privPEM, "cert": pubPEM,
			"access-token-duration": 3600, "refresh-token-duration": 1209600, "code-duration": 600,
			"refresh-token-rolling": true, "allow-non-oidc": false,
			"auth-type-code-enabled": true, "auth-type-token-enabled": false, "auth-type-none-enabled": false,
			"auth-type-password-enabled": false, "auth-type-client-enabled": false, "auth-type-device-enabled": false,
			"auth-type-refresh-enabled": true,
			"pkce-allowed":              true, "pkce-method-plain-allowed": false, "pkce-required": false, "pkce-required-public-client": true,
			"subject-type": "public", "allowed-scope": []string{"openid", "email", "profile"},
			"name-claim": "mandatory", "email-claim": "mandatory", "scope-claim": "no",
			"claims":                     []map[string]any{{"name": "preferred_username", "user-property": "username", "type": "string", "mandatory": true}},
			"session-management-allowed": false, "request-parameter-allow": true, "jwks-show": true,
		}})
	return g
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func (g *glewlwyd) post(t *testing.T, method, path string, body any) {
	t.Helper()
	b, _ := json.Marshal(body)
	req, _ := http.NewRequest(method, g.url+path, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	res, err := g.admin.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 200 {
		msg, _ := io.ReadAll(res.Body)
		t.Fatalf("glewlwyd %s %s: %d %s", method, path, res.StatusCode, msg)
	}
}

func (g *glewlwyd) addClient(t *testing.T, id, secret, redirect string) {
	g.post(t, "POST", "/api/client/", map[string]any{"client_id": id, "name": id, "enabled": true, "confidential": true, "password": secret,
		"redirect_uri": []string{redirect}, "authorization_type": []string{"code", "refresh_token"},
		"token_endpoint_auth_method": []string{"client_secret_basic", "client_secret_post"}, "scope": []string{}})
}

func (g *glewlwyd) addUser(t *testing.T, name string) {
	g.post(t, "POST", "/api/user/", map[string]any{"username": name, "name": strings.ToUpper(name[:1]) + name[1:] + " Tester",
		"email": name + "@example.test", "enabled": true, "password": name + "-password", "scope": []string{"openid", "g_profile"}})
}

// authorize follows start (roster's /start) to glewlwyd, signs in there as
// user through its login API and returns the redirect back to roster (not
// followed).
func (g *glewlwyd) authorize(t *testing.T, b *browser, start, user string) string {
	t.Helper()
	p := b.get(t, start) // → glewlwyd /api/oidc/auth → /login.html?…&callback_url=…
	u, err := url.Parse(p.url)
	if err != nil || !strings.HasPrefix(p.url, g.url+"/login.html") {
		t.Fatalf("%s did not lead to glewlwyd's login page: %d %s", start, p.status, p.url)
	}
	callback := u.Query().Get("callback_url")
	body, _ := json.Marshal(map[string]string{"username": user, "password": user + "-password"})
	req, _ := http.NewRequest("POST", g.url+"/api/auth/", bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	res, err := b.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Fatalf("glewlwyd login %s: %d", user, res.StatusCode)
	}
	noFollow := &http.Client{Jar: b.c.Jar, Timeout: b.c.Timeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err = noFollow.Get(callback + "&g_continue")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != 302 || !strings.Contains(loc, "code=") {
		t.Fatalf("glewlwyd gave no code: %d %s", res.StatusCode, loc)
	}
	return loc
}

// signIn is authorize, then back to roster with the code.
func (g *glewlwyd) signIn(t *testing.T, b *browser, start, user string) page {
	t.Helper()
	return b.get(t, g.authorize(t, b, start, user))
}

// subjectOf is the IdP's subject of user: what a SCIM client of the same
// IdP sends as externalId. Learnt by a code flow of the test's own.
func (g *glewlwyd) subjectOf(t *testing.T, user, redirect, secret string) string {
	t.Helper()
	b := newBrowser(t)
	auth := g.issuer + "/auth?" + url.Values{"response_type": {"code"}, "client_id": {"roster"}, "redirect_uri": {redirect},
		"scope": {"openid"}, "state": {"s"}, "nonce": {"n"}}.Encode()
	loc, err := url.Parse(g.authorize(t, b, auth, user))
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"grant_type": {"authorization_code"}, "code": {loc.Query().Get("code")}, "redirect_uri": {redirect}}
	req, _ := http.NewRequest("POST", g.issuer+"/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth("roster", secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var tok struct {
		IDToken string `json:"id_token"`
	}
	if err := json.NewDecoder(res.Body).Decode(&tok); err != nil || tok.IDToken == "" {
		t.Fatalf("token for %s: %d %v", user, res.StatusCode, err)
	}
	parts := strings.Split(tok.IDToken, ".")
	claims, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var c struct{ Sub string }
	if err := json.Unmarshal(claims, &c); err != nil || c.Sub == "" {
		t.Fatalf("id token of %s: %s", user, claims)
	}
	return c.Sub
}
