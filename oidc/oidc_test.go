package oidc_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/gorilla/mux"

	"github.com/rosterhq/roster/api"
	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/rostertest"
	"github.com/rosterhq/roster/oidc"
)

// env is roster's OP on a loopback listener over a fresh store, with one
// app ("Wiki") and users: alice assigned (role editor), bob not.
type env struct {
	*rostertest.Env
	srv      *httptest.Server
	issuer   string
	app      *core.App
	secret   string
	users    map[string]string
	redirect string
	base     string
}

var cli = core.CLIActor()

func newEnv(t *testing.T) *env { t.Helper(); return newEnvRate(t, 0) }

// newEnvRate is newEnv with a login rate per minute (0: the default).
func newEnvRate(t *testing.T, perMinute int) *env {
	t.Helper()
	e := &env{Env: rostertest.New(t, rostertest.At(time.Now().UTC())), users: map[string]string{}}
	r := mux.NewRouter()
	e.srv = httptest.NewUnstartedServer(r)
	base := "http://" + e.srv.Listener.Addr().String()
	d, err := oidc.New(oidc.Config{PublicURL: base, LoginRatePerMinute: perMinute}, e.Svc, nil)
	if err != nil {
		t.Fatal(err)
	}
	d.Mount(r)
	e.Svc.SetCatalogLogoutListener(d)
	adminAPI, err := api.New(api.Config{PublicURL: base}, e.Svc, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	adminAPI.Mount(r)
	e.base = base
	e.srv.Start()
	t.Cleanup(e.srv.Close)
	e.issuer = base + "/oidc/default"
	e.redirect = "http://127.0.0.1:9/cb"
	if e.app, err = e.Svc.CreateApp(e.Ctx, cli, e.OrgID, "Wiki"); err != nil {
		t.Fatal(err)
	}
	if e.secret, _, err = e.Svc.SetAppOIDC(e.Ctx, cli, e.OrgID, e.app.ID, core.OIDCClientInput{RedirectURIs: []string{e.redirect},
		PostLogoutURIs: []string{"http://127.0.0.1:9/bye"}}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"alice", "bob"} {
		c, err := e.Svc.CreateUser(e.Ctx, cli, core.NewUser{OrgID: e.OrgID, Username: name, Email: name + "@example.com", FirstName: strings.ToUpper(name[:1]) + name[1:],
			LastName: "Tester", Password: password(name), Invite: core.NoInvite})
		if err != nil {
			t.Fatal(err)
		}
		e.users[name] = c.User.ID
	}
	if err := e.Svc.AssignApp(e.Ctx, cli, core.AppGrant{OrgID: e.OrgID, AppID: e.app.ID, UserID: e.users["alice"], AppRole: "editor"}); err != nil {
		t.Fatal(err)
	}
	return e
}

func password(name string) string { return "Maple-syrup-" + name[:1] + "-2024!" }

// flow is one browser's authorization request.
type flow struct {
	clientID, verifier string
	scopes             string
	noPKCE             bool
	extra              url.Values // more authorization parameters (prompt, max_age)
}

var hiddenRE = regexp.MustCompile(`<input type="hidden" name="(id|csrf)" value="([^"]*)">`)

// browser follows redirects within roster and stops at the app's redirect URI.
func (e *env) browser(t *testing.T) *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(req.URL.String(), "http://127.0.0.1:9/") {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// authorize starts f in c and returns the last response (the sign-in page,
// or the redirect to the app when a session exists).
func (e *env) authorize(t *testing.T, c *http.Client, f flow) *http.Response {
	t.Helper()
	q := url.Values{"response_type": {"code"}, "client_id": {f.clientID}, "redirect_uri": {e.redirect}, "scope": {f.scopes},
		"state": {"st"}, "nonce": {"nn"}}
	for k, v := range f.extra {
		q[k] = v
	}
	if !f.noPKCE {
		sum := sha256.Sum256([]byte(f.verifier))
		q.Set("code_challenge", base64.RawURLEncoding.EncodeToString(sum[:]))
		q.Set("code_challenge_method", "S256")
	}
	res, err := c.Get(e.issuer + "/authorize?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func body(t *testing.T, res *http.Response) string {
	t.Helper()
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

// signIn posts the sign-in page res with a user's password.
func (e *env) signIn(t *testing.T, c *http.Client, res *http.Response, user, pw string) *http.Response {
	t.Helper()
	page := body(t, res)
	if res.StatusCode != 200 || !strings.Contains(page, `name="password"`) {
		t.Fatalf("no sign-in page: %d %s", res.StatusCode, page)
	}
	v := url.Values{"username": {user}, "password": {pw}}
	for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
		v.Set(m[1], m[2])
	}
	res, err := c.PostForm(e.issuer+"/login", v)
	if err != nil {
		t.Fatal(err)
	}
	return res
}

// codeOf reads the code of a redirect to the app.
func codeOf(t *testing.T, res *http.Response) string {
	t.Helper()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || loc == nil || loc.Query().Get("code") == "" || loc.Query().Get("state") != "st" {
		t.Fatalf("no code: %d %s %s", res.StatusCode, res.Header.Get("Location"), body(t, res))
	}
	res.Body.Close()
	return loc.Query().Get("code")
}

func newVerifier() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// token posts to the token endpoint, with basic auth when secret is set.
func (e *env) token(t *testing.T, clientID, secret string, form url.Values) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("POST", e.issuer+"/oauth/token", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if secret != "" {
		req.SetBasicAuth(url.QueryEscape(clientID), url.QueryEscape(secret))
	} else {
		form.Set("client_id", clientID)
		req.Body = io.NopCloser(strings.NewReader(form.Encode()))
		req.ContentLength = int64(len(form.Encode()))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	res.Body.Close()
	return res.StatusCode, m
}

func (e *env) exchange(t *testing.T, clientID, secret, code, verifier string) (int, map[string]any) {
	t.Helper()
	f := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.redirect}}
	if verifier != "" {
		f.Set("code_verifier", verifier)
	}
	return e.token(t, clientID, secret, f)
}

func (e *env) userinfo(t *testing.T, access string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest("GET", e.issuer+"/userinfo", nil)
	req.Header.Set("Authorization", "Bearer "+access)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	res.Body.Close()
	return res.StatusCode, m
}

// jwtClaims decodes a JWT's payload (its signature is the RP's business;
// TestDiscoveryAndKeys checks the key set).
func jwtClaims(t *testing.T, tok string) map[string]any {
	t.Helper()
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %q", tok)
	}
	b, err := base64.RawURLEncoding.DecodeString(parts[1])
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

func TestDiscoveryAndKeys(t *testing.T) {
	e := newEnv(t)
	res, err := http.Get(e.issuer + "/.well-known/openid-configuration")
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	_ = json.NewDecoder(res.Body).Decode(&d)
	res.Body.Close()
	for k, want := range map[string]string{"issuer": e.issuer, "authorization_endpoint": e.issuer + "/authorize", "token_endpoint": e.issuer + "/oauth/token",
		"userinfo_endpoint": e.issuer + "/userinfo", "jwks_uri": e.issuer + "/keys", "revocation_endpoint": e.issuer + "/revoke",
		"end_session_endpoint": e.issuer + "/end_session"} {
		if d[k] != want {
			t.Errorf("%s = %v, want %s", k, d[k], want)
		}
	}
	for _, sc := range []string{"openid", "profile", "email", "offline_access", "roles", "groups"} {
		if !strings.Contains(strings.Join(toStrings(d["scopes_supported"]), " "), sc) {
			t.Errorf("scopes_supported lacks %s: %v", sc, d["scopes_supported"])
		}
	}
	if d["backchannel_logout_supported"] != true {
		t.Errorf("backchannel_logout_supported = %v", d["backchannel_logout_supported"])
	}
	if m := toStrings(d["code_challenge_methods_supported"]); len(m) != 1 || m[0] != "S256" {
		t.Errorf("code_challenge_methods_supported = %v", m)
	}
	res, err = http.Get(e.issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	var ks struct {
		Keys []map[string]any `json:"keys"`
	}
	_ = json.NewDecoder(res.Body).Decode(&ks)
	res.Body.Close()
	if len(ks.Keys) != 1 || ks.Keys[0]["kty"] != "RSA" || ks.Keys[0]["alg"] != "RS256" || ks.Keys[0]["kid"] == "" || ks.Keys[0]["d"] != nil {
		t.Fatalf("keys: %v", ks.Keys)
	}
	// An unknown organisation has no issuer.
	if res, _ := http.Get(e.srv.URL + "/oidc/nope/.well-known/openid-configuration"); res.StatusCode != 404 {
		t.Fatalf("unknown org: %d", res.StatusCode)
	}
}

func toStrings(v any) []string {
	var out []string
	for _, x := range v.([]any) {
		out = append(out, x.(string))
	}
	return out
}

// The code flow for a confidential client, with PKCE: the ID token and
// userinfo carry the claims the scopes ask for; a wrong secret, a wrong
// verifier and a second use of the code are refused; a user who is no
// longer active loses userinfo at once.
func TestCodeFlowConfidential(t *testing.T) {
	e := newEnv(t)
	c := e.browser(t)
	v := newVerifier()
	res := e.signIn(t, c, e.authorize(t, c, flow{clientID: e.app.ID, verifier: v, scopes: "openid profile email roles groups"}), "alice", password("alice"))
	code := codeOf(t, res)

	if st, m := e.exchange(t, e.app.ID, "roidc_wrong", code, v); st != 401 || m["error"] != "invalid_client" {
		t.Fatalf("wrong secret: %d %v", st, m)
	}
	if st, m := e.exchange(t, e.app.ID, e.secret, code, newVerifier()); st != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("wrong verifier: %d %v", st, m)
	}
	// The code survives failed attempts (they did not authenticate or prove possession) … until it is used.
	st, tok := e.exchange(t, e.app.ID, e.secret, code, v)
	if st != 200 {
		t.Fatalf("exchange: %d %v", st, tok)
	}
	if st, m := e.exchange(t, e.app.ID, e.secret, code, v); st != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("second use of the code: %d %v", st, m)
	}
	if tok["refresh_token"] != nil {
		t.Fatalf("a refresh token without offline_access: %v", tok)
	}
	id := jwtClaims(t, tok["id_token"].(string))
	if aud := toStrings(id["aud"]); len(aud) != 1 || aud[0] != e.app.ID {
		t.Errorf("id token aud = %v", id["aud"])
	}
	for k, want := range map[string]any{"iss": e.issuer, "sub": e.users["alice"], "nonce": "nn", "email": "alice@example.com",
		"name": "Alice Tester", "given_name": "Alice", "family_name": "Tester", "preferred_username": "alice", "app_role": "editor"} {
		if id[k] != want {
			t.Errorf("id token %s = %v, want %v", k, id[k], want)
		}
	}
	if r := toStrings(id["roles"]); len(r) != 1 || r[0] != "member" {
		t.Errorf("roles = %v", id["roles"])
	}
	st, ui := e.userinfo(t, tok["access_token"].(string))
	if st != 200 || ui["sub"] != e.users["alice"] || ui["email"] != "alice@example.com" || ui["app_role"] != "editor" || ui["preferred_username"] != "alice" {
		t.Fatalf("userinfo: %d %v", st, ui)
	}
	if _, err := e.Svc.ChangeStatus(e.Ctx, cli, e.OrgID, e.users["alice"], core.ActDisable); err != nil {
		t.Fatal(err)
	}
	if st, ui := e.userinfo(t, tok["access_token"].(string)); st != 401 && st != 403 {
		t.Fatalf("userinfo of a disabled user: %d %v", st, ui)
	}
}

// An app's demand for a fresh sign-in (prompt=login, max_age) is kept
// although the browser has a catalog session: the form is shown, a sign-in
// for the request satisfies it (no second form) and is the ID token's
// auth_time; a session young enough for max_age goes straight on.
func TestPromptLoginAndMaxAge(t *testing.T) {
	e := newEnv(t)
	c := e.browser(t)
	v := newVerifier()
	codeOf(t, e.signIn(t, c, e.authorize(t, c, flow{clientID: e.app.ID, verifier: v, scopes: "openid"}), "alice", password("alice")))
	tests := []struct {
		name  string
		extra url.Values
		form  bool
	}{
		{"no demand", nil, false},
		{"prompt=login", url.Values{"prompt": {"login"}}, true},
		{"max_age older than the session", url.Values{"max_age": {"3600"}}, false},
		{"max_age younger than the session", url.Values{"max_age": {"60"}}, true},
		{"max_age=0", url.Values{"max_age": {"0"}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e.Clock.Advance(2 * time.Minute) // the browser's session is 2 minutes old
			res := e.authorize(t, c, flow{clientID: e.app.ID, verifier: v, scopes: "openid", extra: tt.extra})
			if !tt.form {
				codeOf(t, res)
				return
			}
			asked := e.Clock.Now()
			code := codeOf(t, e.signIn(t, c, res, "alice", password("alice")))
			st, tok := e.exchange(t, e.app.ID, e.secret, code, v)
			if st != 200 {
				t.Fatalf("exchange: %d %v", st, tok)
			}
			at, _ := jwtClaims(t, tok["id_token"].(string))["auth_time"].(float64)
			if int64(at) < asked.Unix() {
				t.Fatalf("auth_time %v is before the request (%d)", at, asked.Unix())
			}
		})
	}
}

// Scopes decide the claims: openid alone gives sub and no profile.
func TestScopesDecideClaims(t *testing.T) {
	e := newEnv(t)
	c := e.browser(t)
	v := newVerifier()
	code := codeOf(t, e.signIn(t, c, e.authorize(t, c, flow{clientID: e.app.ID, verifier: v, scopes: "openid"}), "alice", password("alice")))
	_, tok := e.exchange(t, e.app.ID, e.secret, code, v)
	_, ui := e.userinfo(t, tok["access_token"].(string))
	if ui["sub"] != e.users["alice"] || ui["email"] != nil || ui["name"] != nil || ui["roles"] != nil || ui["groups"] != nil {
		t.Fatalf("userinfo for openid only: %v", ui)
	}
}

// Only users assigned to the app sign in to it; the page says why.
func TestUnassignedUserIsRefused(t *testing.T) {
	e := newEnv(t)
	c := e.browser(t)
	res := e.signIn(t, c, e.authorize(t, c, flow{clientID: e.app.ID, verifier: newVerifier(), scopes: "openid"}), "bob", password("bob"))
	if b := body(t, res); res.StatusCode != 403 || !strings.Contains(b, "not assigned to Wiki") {
		t.Fatalf("bob: %d %s", res.StatusCode, b)
	}
	// Assigned through a group, he gets in (the catalog session he opened serves).
	g, err := e.Svc.CreateGroup(e.Ctx, cli, core.NewGroup{OrgID: e.OrgID, Name: "wiki"})
	if err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.SetGroupMember(e.Ctx, cli, e.OrgID, g.ID, e.users["bob"], true); err != nil {
		t.Fatal(err)
	}
	if err := e.Svc.AssignApp(e.Ctx, cli, core.AppGrant{OrgID: e.OrgID, AppID: e.app.ID, GroupID: g.ID}); err != nil {
		t.Fatal(err)
	}
	codeOf(t, e.authorize(t, c, flow{clientID: e.app.ID, verifier: newVerifier(), scopes: "openid"}))
}

// A public client has no secret and must use PKCE.
func TestPublicClientNeedsPKCE(t *testing.T) {
	e := newEnv(t)
	app, err := e.Svc.CreateApp(e.Ctx, cli, e.OrgID, "Mobile")
	if err != nil {
		t.Fatal(err)
	}
	secret, _, err := e.Svc.SetAppOIDC(e.Ctx, cli, e.OrgID, app.ID, core.OIDCClientInput{Public: true, RedirectURIs: []string{e.redirect}})
	if err != nil || secret != "" {
		t.Fatalf("public client: %q %v", secret, err)
	}
	if err := e.Svc.AssignApp(e.Ctx, cli, core.AppGrant{OrgID: e.OrgID, AppID: app.ID, UserID: e.users["alice"]}); err != nil {
		t.Fatal(err)
	}
	c := e.browser(t)
	code := codeOf(t, e.signIn(t, c, e.authorize(t, c, flow{clientID: app.ID, noPKCE: true, scopes: "openid"}), "alice", password("alice")))
	if st, m := e.exchange(t, app.ID, "", code, ""); st != 400 || !strings.Contains(m["error_description"].(string), "PKCE") {
		t.Fatalf("public client without PKCE: %d %v", st, m)
	}
	v := newVerifier()
	code = codeOf(t, e.authorize(t, c, flow{clientID: app.ID, verifier: v, scopes: "openid"}))
	if st, m := e.exchange(t, app.ID, "", code, v); st != 200 || m["id_token"] == nil {
		t.Fatalf("public client with PKCE: %d %v", st, m)
	}
}

// Refresh tokens rotate: each exchange gives a new one and uses up the old;
// presenting a used one again revokes the whole family. Revocation (RFC
// 7009) of a refresh token ends it.
func TestRefreshRotationReuseAndRevocation(t *testing.T) {
	e := newEnv(t)
	c := e.browser(t)
	v := newVerifier()
	code := codeOf(t, e.signIn(t, c, e.authorize(t, c, flow{clientID: e.app.ID, verifier: v, scopes: "openid email offline_access"}), "alice", password("alice")))
	_, tok := e.exchange(t, e.app.ID, e.secret, code, v)
	r1, _ := tok["refresh_token"].(string)
	if !strings.HasPrefix(r1, core.PrefixOIDCRefresh) {
		t.Fatalf("no refresh token: %v", tok)
	}
	refresh := func(rt string) (int, map[string]any) {
		return e.token(t, e.app.ID, e.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}})
	}
	st, tok2 := refresh(r1)
	r2, _ := tok2["refresh_token"].(string)
	if st != 200 || r2 == "" || r2 == r1 || tok2["id_token"] == nil {
		t.Fatalf("refresh: %d %v", st, tok2)
	}
	if st, ui := e.userinfo(t, tok2["access_token"].(string)); st != 200 || ui["email"] != "alice@example.com" {
		t.Fatalf("userinfo after refresh: %d %v", st, ui)
	}
	// r1 again: a replay. It is refused and r2 dies with it.
	if st, m := refresh(r1); st != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("reuse of r1: %d %v", st, m)
	}
	if st, m := refresh(r2); st != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("r2 after the family was revoked: %d %v", st, m)
	}

	// A fresh family, revoked by the app.
	code = codeOf(t, e.authorize(t, c, flow{clientID: e.app.ID, verifier: v, scopes: "openid offline_access"}))
	_, tok = e.exchange(t, e.app.ID, e.secret, code, v)
	r3 := tok["refresh_token"].(string)
	req, _ := http.NewRequest("POST", e.issuer+"/revoke", strings.NewReader(url.Values{"token": {r3}, "token_type_hint": {"refresh_token"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.app.ID, e.secret)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	if res.StatusCode != 200 {
		t.Fatalf("revoke: %d %s", res.StatusCode, body(t, res))
	}
	res.Body.Close()
	if st, m := refresh(r3); st != 400 || m["error"] != "invalid_grant" {
		t.Fatalf("a revoked refresh token: %d %v", st, m)
	}
	// Revoking the refresh token ends the grant: its access tokens too (RFC 7009 2.1).
	if st, _ := e.userinfo(t, tok["access_token"].(string)); st == 200 {
		t.Fatal("an access token of a revoked grant still reads userinfo")
	}
	// An access token alone, revoked by the app.
	code = codeOf(t, e.authorize(t, c, flow{clientID: e.app.ID, verifier: v, scopes: "openid"}))
	_, tok = e.exchange(t, e.app.ID, e.secret, code, v)
	at := tok["access_token"].(string)
	if st, _ := e.userinfo(t, at); st != 200 {
		t.Fatalf("userinfo before revoking the access token: %d", st)
	}
	req, _ = http.NewRequest("POST", e.issuer+"/revoke", strings.NewReader(url.Values{"token": {at}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(e.app.ID, e.secret)
	if res, err = http.DefaultClient.Do(req); err != nil || res.StatusCode != 200 {
		t.Fatalf("revoke access token: %v %v", err, res)
	}
	res.Body.Close()
	if st, _ := e.userinfo(t, at); st == 200 {
		t.Fatal("a revoked access token still reads userinfo")
	}
}

// RP-initiated logout ends the user's catalog sessions and every app
// token: the next authorization asks for the password again, refresh
// tokens are dead, and the browser goes to the registered post-logout URI.
func TestRPInitiatedLogout(t *testing.T) {
	e := newEnv(t)
	c := e.browser(t)
	v := newVerifier()
	code := codeOf(t, e.signIn(t, c, e.authorize(t, c, flow{clientID: e.app.ID, verifier: v, scopes: "openid offline_access"}), "alice", password("alice")))
	_, tok := e.exchange(t, e.app.ID, e.secret, code, v)
	// A session exists: a second authorization goes straight to the app.
	codeOf(t, e.authorize(t, c, flow{clientID: e.app.ID, verifier: v, scopes: "openid"}))

	q := url.Values{"id_token_hint": {tok["id_token"].(string)}, "post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "client_id": {e.app.ID}}
	res, err := c.Get(e.issuer + "/end_session?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if loc := res.Header.Get("Location"); res.StatusCode != 302 || loc != "http://127.0.0.1:9/bye" {
		t.Fatalf("end_session: %d %s %s", res.StatusCode, loc, body(t, res))
	}
	res.Body.Close()
	if res := e.authorize(t, c, flow{clientID: e.app.ID, verifier: v, scopes: "openid"}); !strings.Contains(body(t, res), `name="password"`) {
		t.Fatal("after logout the session still signs in")
	}
	if st, m := e.token(t, e.app.ID, e.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {tok["refresh_token"].(string)}}); st != 400 {
		t.Fatalf("refresh after logout: %d %v", st, m)
	}
	// An unregistered post-logout URI is not followed.
	q.Set("post_logout_redirect_uri", "https://evil.example/")
	res, err = c.Get(e.issuer + "/end_session?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	if loc := res.Header.Get("Location"); strings.HasPrefix(loc, "https://evil.example") {
		t.Fatalf("followed an unregistered post-logout URI: %s", loc)
	}
	res.Body.Close()
}

// A user who must change their password (reassigned by an admin) does so
// on the sign-in page, under the policy, and then goes on to the app; a
// disabled user is refused with the answer a wrong password gets.
func TestSignInRules(t *testing.T) {
	e := newEnv(t)
	admin := core.Actor{Kind: core.ActorAdmin, ID: "admin-1", Name: "root", Role: core.RoleOwner}
	const reassigned = "Given-by-admin-77"
	if err := e.Svc.SetPassword(e.Ctx, admin, e.OrgID, e.users["alice"], reassigned); err != nil {
		t.Fatal(err)
	}
	c := e.browser(t)
	res := e.signIn(t, c, e.authorize(t, c, flow{clientID: e.app.ID, verifier: newVerifier(), scopes: "openid"}), "alice", reassigned)
	page := body(t, res)
	if res.StatusCode != 200 || !strings.Contains(page, "Choose a new password") {
		t.Fatalf("forced change: %d %s", res.StatusCode, page)
	}
	change := func(old, nw string) *http.Response {
		v := url.Values{"old_password": {old}, "new_password": {nw}}
		for _, m := range hiddenRE.FindAllStringSubmatch(page, -1) {
			v.Set(m[1], m[2])
		}
		res, err := c.PostForm(e.issuer+"/password", v)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	if res := change(reassigned, "short"); res.StatusCode != 400 || !strings.Contains(body(t, res), "at least") {
		t.Fatalf("a password the policy refuses: %d", res.StatusCode)
	}
	codeOf(t, change(reassigned, "Brand-new-secret-91"))

	if _, err := e.Svc.ChangeStatus(e.Ctx, cli, e.OrgID, e.users["alice"], core.ActDisable); err != nil {
		t.Fatal(err)
	}
	c = e.browser(t)
	res = e.signIn(t, c, e.authorize(t, c, flow{clientID: e.app.ID, verifier: newVerifier(), scopes: "openid"}), "alice", "Brand-new-secret-91")
	if b := body(t, res); res.StatusCode != 401 || !strings.Contains(b, "invalid username or password") {
		t.Fatalf("disabled alice: %d %s", res.StatusCode, b)
	}
}

// backchannelApp gives the env's app a back-channel logout URI on a real
// listener and returns the logout tokens it receives.
func (e *env) backchannelApp(t *testing.T, buffer int) <-chan string {
	t.Helper()
	got := make(chan string, buffer)
	rp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got <- r.PostForm.Get("logout_token")
	}))
	t.Cleanup(rp.Close)
	if _, _, err := e.Svc.SetAppOIDC(e.Ctx, cli, e.OrgID, e.app.ID, core.OIDCClientInput{RedirectURIs: []string{e.redirect},
		PostLogoutURIs: []string{"http://127.0.0.1:9/bye"}, BackchannelLogoutURI: rp.URL + "/bc"}); err != nil {
		t.Fatal(err)
	}
	return got
}

// Back-channel logout: an app that holds a token of the user and has a
// backchannel_logout_uri gets a logout token, signed with a key of the
// issuer's JWKS, naming the user and the app, when the user logs out.
func TestBackchannelLogout(t *testing.T) {
	e := newEnv(t)
	got := e.backchannelApp(t, 1)
	c := e.browser(t)
	v := newVerifier()
	code := codeOf(t, e.signIn(t, c, e.authorize(t, c, flow{clientID: e.app.ID, verifier: v, scopes: "openid"}), "alice", password("alice")))
	_, tok := e.exchange(t, e.app.ID, e.secret, code, v)
	q := url.Values{"id_token_hint": {tok["id_token"].(string)}, "post_logout_redirect_uri": {"http://127.0.0.1:9/bye"}, "client_id": {e.app.ID}}
	res, err := c.Get(e.issuer + "/end_session?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var lt string
	select {
	case lt = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("no logout token")
	}
	e.checkLogoutToken(t, lt, e.users["alice"])
}

// checkLogoutToken verifies a back-channel logout token against the
// issuer's JWKS and checks its claims.
func (e *env) checkLogoutToken(t *testing.T, lt, userID string) {
	t.Helper()
	res, err := http.Get(e.issuer + "/keys")
	if err != nil {
		t.Fatal(err)
	}
	var jwks jose.JSONWebKeySet
	_ = json.NewDecoder(res.Body).Decode(&jwks)
	res.Body.Close()
	sig, err := jose.ParseSigned(lt, []jose.SignatureAlgorithm{jose.RS256})
	if err != nil {
		t.Fatal(err)
	}
	keys := jwks.Key(sig.Signatures[0].Header.KeyID)
	if len(keys) != 1 {
		t.Fatalf("the logout token's key %q is not in the JWKS", sig.Signatures[0].Header.KeyID)
	}
	payload, err := sig.Verify(keys[0].Key)
	if err != nil {
		t.Fatalf("logout token signature: %v", err)
	}
	var claims map[string]any
	_ = json.Unmarshal(payload, &claims)
	events, _ := claims["events"].(map[string]any)
	if claims["iss"] != e.issuer || claims["sub"] != userID || toStrings(claims["aud"])[0] != e.app.ID || claims["jti"] == "" ||
		events["http://schemas.openid.net/event/backchannel-logout"] == nil || claims["nonce"] != nil {
		t.Fatalf("logout token claims: %v", claims)
	}
}

// apiCall calls the admin API with a bearer session token.
func (e *env) apiCall(t *testing.T, method, path, token, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, e.base+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	var m map[string]any
	_ = json.NewDecoder(res.Body).Decode(&m)
	return res.StatusCode, m
}

// A catalog logout through the admin API (POST /api/v1/auth/logout with a
// catalog session) ends the user's catalog sign-in as the OP's logout does:
// the OP's session cookie, every app token (access and refresh), and the
// apps that held one get a signed logout token. The console session stays.
func TestCatalogLogoutThroughAPIEndsAppTokens(t *testing.T) {
	e := newEnv(t)
	got := e.backchannelApp(t, 4)
	c := e.browser(t)
	v := newVerifier()
	code := codeOf(t, e.signIn(t, c, e.authorize(t, c, flow{clientID: e.app.ID, verifier: v, scopes: "openid offline_access"}), "alice", password("alice")))
	_, tok := e.exchange(t, e.app.ID, e.secret, code, v)
	at, rt := tok["access_token"].(string), tok["refresh_token"].(string)
	if st, _ := e.userinfo(t, at); st != 200 {
		t.Fatalf("userinfo before the logout: %d", st)
	}
	login := func(aud string) string {
		st, m := e.apiCall(t, "POST", "/api/v1/auth/login", "", `{"username":"alice","password":"`+password("alice")+`","audience":"`+aud+`"}`)
		if st != 200 {
			t.Fatalf("%s login: %d %v", aud, st, m)
		}
		return m["token"].(string)
	}
	catalog, console := login("catalog"), login("console")
	if st, m := e.apiCall(t, "POST", "/api/v1/auth/logout", catalog, ""); st != 204 {
		t.Fatalf("catalog logout: %d %v", st, m)
	}
	select {
	case lt := <-got:
		e.checkLogoutToken(t, lt, e.users["alice"])
	case <-time.After(10 * time.Second):
		t.Fatal("no logout token after the catalog logout through the API")
	}
	if st, _ := e.userinfo(t, at); st == 200 {
		t.Fatal("the app's access token still reads userinfo after the catalog logout")
	}
	if st, m := e.token(t, e.app.ID, e.secret, url.Values{"grant_type": {"refresh_token"}, "refresh_token": {rt}}); st != 400 {
		t.Fatalf("refresh after the catalog logout: %d %v", st, m)
	}
	if res := e.authorize(t, c, flow{clientID: e.app.ID, verifier: v, scopes: "openid"}); !strings.Contains(body(t, res), `name="password"`) {
		t.Fatal("after the catalog logout the OP's session still signs in")
	}
	if st, m := e.apiCall(t, "GET", "/api/v1/me", catalog, ""); st != 401 {
		t.Fatalf("the catalog session after its logout: %d %v", st, m)
	}
	if st, m := e.apiCall(t, "GET", "/api/v1/me", console, ""); st != 200 {
		t.Fatalf("the console session after the catalog logout: %d %v", st, m)
	}
	// A console logout ends no app token and tells no app.
	code = codeOf(t, e.signIn(t, c, e.authorize(t, c, flow{clientID: e.app.ID, verifier: v, scopes: "openid"}), "alice", password("alice")))
	_, tok = e.exchange(t, e.app.ID, e.secret, code, v)
	if st, m := e.apiCall(t, "POST", "/api/v1/auth/logout", console, ""); st != 204 {
		t.Fatalf("console logout: %d %v", st, m)
	}
	if st, _ := e.userinfo(t, tok["access_token"].(string)); st != 200 {
		t.Fatalf("a console logout ended the app's token: userinfo %d", st)
	}
	select {
	case <-got:
		t.Fatal("a console logout sent a back-channel logout")
	case <-time.After(300 * time.Millisecond):
	}
}

// Password checks on the sign-in page are rate-limited per address, as the
// admin API's login is.
func TestSignInIsRateLimited(t *testing.T) {
	e := newEnvRate(t, 2)
	c := e.browser(t)
	for i := 0; i < 2; i++ {
		res := e.signIn(t, c, e.authorize(t, c, flow{clientID: e.app.ID, verifier: newVerifier(), scopes: "openid"}), "bob", "wrong-password")
		if res.StatusCode != 401 {
			t.Fatalf("attempt %d: %d", i+1, res.StatusCode)
		}
		res.Body.Close()
	}
	res := e.signIn(t, c, e.authorize(t, c, flow{clientID: e.app.ID, verifier: newVerifier(), scopes: "openid"}), "alice", password("alice"))
	if b := body(t, res); res.StatusCode != 429 || !strings.Contains(b, "Too many sign-in attempts") || res.Header.Get("Retry-After") == "" {
		t.Fatalf("third attempt: %d %s", res.StatusCode, b)
	}
}

// zitadel/oidc's own log records (it logs through slog's default logger)
// reach the door's logger with component=oidc when the door's LogHandler
// is the default, and carry no secret: a token request with a wrong client
// secret logs the library's "request error" without the secret or the code.
func TestLibraryLogsGoThroughTheDoorLogger(t *testing.T) {
	var buf syncBuf
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e := &env{Env: rostertest.New(t, rostertest.At(time.Now().UTC()))}
	r := mux.NewRouter()
	srv := httptest.NewServer(r)
	defer srv.Close()
	d, err := oidc.New(oidc.Config{PublicURL: srv.URL}, e.Svc, log)
	if err != nil {
		t.Fatal(err)
	}
	d.Mount(r)
	var other syncBuf
	prev := slog.Default()
	slog.SetDefault(slog.New(d.LogHandler(slog.NewJSONHandler(&other, nil))))
	defer slog.SetDefault(prev)

	form := url.Values{"grant_type": {"authorization_code"}, "code": {"the-code-9f3e"}, "client_id": {"nope"}, "client_secret": {"the-secret-77ab"},
		"redirect_uri": {"http://127.0.0.1:9/cb"}, "code_verifier": {"the-verifier-1c2d"}}
	res, err := http.PostForm(srv.URL+"/oidc/default/oauth/token", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode < 400 {
		t.Fatalf("token with a wrong client: %d", res.StatusCode)
	}
	slog.Info("outside the door", "x", 1)
	logs := buf.String()
	if !strings.Contains(logs, `"msg":"request error"`) || !strings.Contains(logs, `"component":"oidc"`) {
		t.Fatalf("the library's record did not reach the door's logger:\n%s\nelsewhere:\n%s", logs, other.String())
	}
	for _, secret := range []string{"the-code-9f3e", "the-secret-77ab", "the-verifier-1c2d"} {
		if strings.Contains(logs+other.String(), secret) {
			t.Errorf("a secret is logged: %s\n%s", secret, logs)
		}
	}
	if strings.Contains(logs, "outside the door") || !strings.Contains(other.String(), "outside the door") {
		t.Errorf("a record from outside the door went to the door's logger:\n%s", logs)
	}
	// Secrets in attributes and in URLs are redacted.
	slog.New(d.LogHandler(slog.NewJSONHandler(&other, nil))).InfoContext(oidc.LogContextForTest(context.Background()), "auth request redirect",
		"url", "https://app.example/cb?code=abc123secret&state=s1", "client_secret", "xyz-secret", slog.Group("g", "refresh_token", "rrt_zzz"))
	if l := buf.String(); strings.Contains(l, "abc123secret") || strings.Contains(l, "xyz-secret") || strings.Contains(l, "rrt_zzz") || !strings.Contains(l, "state=s1") {
		t.Errorf("not redacted:\n%s", l)
	}
}

type syncBuf struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }
