package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// BenchmarkOIDC measures the OpenID Provider of the real binary (SQLite)
// at 16 concurrent clients: the token endpoint exchanging authorization
// codes (with PKCE and a client secret), and userinfo with the JWT access
// token against GET /api/v1/me with a catalog session (what an app had to
// call before), in alternating rounds: req/s of each and the time ratio.
//
//	go test ./cmd/roster -run '^$' -bench BenchmarkOIDC -benchtime 2000x
func BenchmarkOIDC(b *testing.B) {
	e := newOIDCBench(b)
	b.Run("token_code_exchange", func(b *testing.B) {
		codes := make(chan string, b.N)
		parallel(16, b.N, func() {
			codes <- e.code(b)
		})
		close(codes)
		b.ResetTimer()
		start := time.Now()
		parallel(16, b.N, func() {
			form := url.Values{"grant_type": {"authorization_code"}, "code": {<-codes}, "redirect_uri": {e.redirect}, "code_verifier": {e.verifier}}
			req, _ := http.NewRequest("POST", e.issuer+"/oauth/token", strings.NewReader(form.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			req.SetBasicAuth(e.client, e.secret)
			e.expect(b, req, 200)
		})
		b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "req/s")
	})
	// A sign-in end to end, as a browser without a session does it: the
	// app's redirect to authorize, roster's sign-in page, the password
	// (argon2id), the redirect back with a code, the app's code exchange
	// and its userinfo call. One client: the latency a person sees.
	b.Run("sign_in_end_to_end", func(b *testing.B) {
		start := time.Now()
		for i := 0; i < b.N; i++ {
			e.signIn(b)
		}
		b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N), "ms/sign-in")
	})
	// userinfo and /api/v1/me in alternating rounds of 100, so that both
	// see the same load of a shared machine; the ratio is the point.
	b.Run("userinfo_vs_api_me", func(b *testing.B) {
		var tUI, tMe time.Duration
		for done := 0; done < b.N; done += 100 {
			n := min(100, b.N-done)
			start := time.Now()
			parallel(16, n, func() {
				req, _ := http.NewRequest("GET", e.issuer+"/userinfo", nil)
				req.Header.Set("Authorization", "Bearer "+e.access)
				e.expect(b, req, 200)
			})
			tUI += time.Since(start)
			start = time.Now()
			parallel(16, n, func() {
				req, _ := http.NewRequest("GET", e.base+"/api/v1/me", nil)
				req.Header.Set("Authorization", "Bearer "+e.session)
				e.expect(b, req, 200)
			})
			tMe += time.Since(start)
		}
		b.ReportMetric(float64(b.N)/tUI.Seconds(), "userinfo-req/s")
		b.ReportMetric(float64(b.N)/tMe.Seconds(), "me-req/s")
		b.ReportMetric(tUI.Seconds()/tMe.Seconds(), "userinfo/me-time")
	})
}

// parallel runs n calls of fn on k goroutines.
func parallel(k, n int, fn func()) {
	var left atomic.Int64
	left.Store(int64(n))
	var wg sync.WaitGroup
	for i := 0; i < k; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for left.Add(-1) >= 0 {
				fn()
			}
		}()
	}
	wg.Wait()
}

type oidcBench struct {
	base, issuer, client, secret, redirect string
	verifier, challenge                    string
	access, session                        string
	browser                                *http.Client // holds the catalog session cookie
	http                                   *http.Client
}

func (e *oidcBench) expect(b *testing.B, req *http.Request, status int) {
	res, err := e.http.Do(req)
	if err != nil {
		b.Error(err)
		return
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if res.StatusCode != status {
		b.Errorf("%s %s: %d", req.Method, req.URL.Path, res.StatusCode)
	}
}

// code gets a fresh authorization code through the browser's catalog
// session (no password check: authorize → sign-in page → callback).
func (e *oidcBench) code(b *testing.B) string {
	q := url.Values{"response_type": {"code"}, "client_id": {e.client}, "redirect_uri": {e.redirect}, "scope": {"openid profile email roles groups"},
		"state": {"s"}, "nonce": {"n"}, "code_challenge": {e.challenge}, "code_challenge_method": {"S256"}}
	res, err := e.browser.Get(e.issuer + "/authorize?" + q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != 302 || loc == nil || loc.Query().Get("code") == "" {
		b.Fatalf("no code: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

// signIn runs one sign-in from a fresh browser to a userinfo answer and
// checks the answer names the user.
func (e *oidcBench) signIn(b *testing.B) {
	access := e.exchange(b, e.passwordSignIn(b, e.newBrowser(), "openid profile email roles groups"))
	ureq, _ := http.NewRequest("GET", e.issuer+"/userinfo", nil)
	ureq.Header.Set("Authorization", "Bearer "+access)
	ures, err := e.http.Do(ureq)
	if err != nil {
		b.Fatal(err)
	}
	var info struct {
		PreferredUsername string `json:"preferred_username"`
	}
	_ = json.NewDecoder(ures.Body).Decode(&info)
	ures.Body.Close()
	if info.PreferredUsername != "bench" {
		b.Fatalf("userinfo: %d %q", ures.StatusCode, info.PreferredUsername)
	}
}

// newBrowser is a client with its own cookies that stops at the app's
// redirect URI (where the code is).
func (e *oidcBench) newBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar, Transport: e.http.Transport, CheckRedirect: func(r *http.Request, _ []*http.Request) error {
		if strings.HasPrefix(r.URL.String(), e.redirect) {
			return http.ErrUseLastResponse
		}
		return nil
	}}
}

// passwordSignIn goes from the app's redirect to authorize through roster's
// sign-in page with the password; the browser keeps the catalog session and
// the code the app would get is returned.
func (e *oidcBench) passwordSignIn(b *testing.B, br *http.Client, scope string) string {
	q := url.Values{"response_type": {"code"}, "client_id": {e.client}, "redirect_uri": {e.redirect}, "scope": {scope},
		"state": {"s"}, "nonce": {"n"}, "code_challenge": {e.challenge}, "code_challenge_method": {"S256"}}
	res, err := br.Get(e.issuer + "/authorize?" + q.Encode())
	if err != nil {
		b.Fatal(err)
	}
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	form := url.Values{"username": {"bench"}, "password": {"Tulip-garden-42-Bx9"}}
	for _, m := range hiddenRE.FindAllStringSubmatch(string(page), -1) {
		form.Set(m[1], m[2])
	}
	res, err = br.PostForm(e.issuer+"/login", form)
	if err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	loc, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != 302 || loc == nil || loc.Query().Get("code") == "" {
		b.Fatalf("sign in: %d %s", res.StatusCode, res.Header.Get("Location"))
	}
	return loc.Query().Get("code")
}

// exchange is the app's code exchange; it returns the access token.
func (e *oidcBench) exchange(b *testing.B, code string) string {
	tf := url.Values{"grant_type": {"authorization_code"}, "code": {code}, "redirect_uri": {e.redirect}, "code_verifier": {e.verifier}}
	treq, _ := http.NewRequest("POST", e.issuer+"/oauth/token", strings.NewReader(tf.Encode()))
	treq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	treq.SetBasicAuth(e.client, e.secret)
	tres, err := e.http.Do(treq)
	if err != nil {
		b.Fatal(err)
	}
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	_ = json.NewDecoder(tres.Body).Decode(&tok)
	tres.Body.Close()
	if tok.AccessToken == "" {
		b.Fatalf("token exchange: %d", tres.StatusCode)
	}
	return tok.AccessToken
}

func newOIDCBench(b *testing.B) *oidcBench {
	dir := b.TempDir()
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := ln.Addr().String()
	ln.Close()
	base := "http://" + addr
	cfg := filepath.Join(dir, "r.yaml")
	_ = os.WriteFile(cfg, []byte("listen: "+addr+"\npublic_url: "+base+"\nlog: {level: warn}\nsecurity: {login_rate_per_minute: 100000}\ndatabase: {dsn: "+filepath.Join(dir, "r.db")+"}\n"), 0o600)
	cli := func(stdin string, args ...string) string {
		cmd := exec.Command(binary, append(args, "--config", cfg)...)
		cmd.Stdin = strings.NewReader(stdin)
		cmd.Env = append(os.Environ(), "ROSTER_CONFIG=")
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("roster %v: %v %s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	cli("Keeper-passphrase-42\n", "user", "create", "--username", "owner@example.com", "--email", "owner@example.com", "--role", "owner", "--no-invite", "--password-stdin")
	created := cli("Tulip-garden-42-Bx9\n", "user", "create", "--username", "bench", "--email", "bench@example.com", "--first", "Ben", "--last", "Chmark", "--no-invite", "--password-stdin")
	token := cli("", "token", "create", "--name", "ops", "--scope", "admin", "--user", "owner@example.com")

	cmd := exec.Command(binary, "serve", "--config", cfg)
	cmd.Env = append(os.Environ(), "ROSTER_CONFIG=")
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = cmd.Process.Signal(syscall.SIGTERM); _ = cmd.Wait() })
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	for {
		if res, err := http.Get(base + "/readyz"); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if ctx.Err() != nil {
			b.Fatal("not ready in 20s")
		}
		time.Sleep(5 * time.Millisecond)
	}
	api := func(method, path, body string) map[string]any {
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer res.Body.Close()
		var m map[string]any
		_ = json.NewDecoder(res.Body).Decode(&m)
		if res.StatusCode >= 300 {
			b.Fatalf("%s %s: %d %v", method, path, res.StatusCode, m)
		}
		return m
	}
	e := &oidcBench{base: base, redirect: "http://127.0.0.1:9/cb", verifier: "bench-verifier-0123456789-0123456789-0123456789",
		http: &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 32}}}
	sum := sha256.Sum256([]byte(e.verifier))
	e.challenge = base64.RawURLEncoding.EncodeToString(sum[:])
	app := api("POST", "/api/v1/apps", `{"name":"Wiki"}`)
	e.client = app["id"].(string)
	c := api("PUT", "/api/v1/apps/"+e.client+"/oidc", `{"redirect_uris":["`+e.redirect+`"]}`)
	e.secret, e.issuer = c["client_secret"].(string), c["issuer"].(string)
	var bench struct{ ID string }
	if err := json.Unmarshal([]byte(created), &bench); err != nil || bench.ID == "" {
		b.Fatalf("bench user: %q %v", created, err)
	}
	benchID := bench.ID
	api("POST", "/api/v1/apps/"+e.client+"/assignments", `{"user_id":"`+benchID+`"}`)

	// One sign-in on roster's page gives the browser its catalog session,
	// and an access token for userinfo.
	e.browser = e.newBrowser()
	e.access = e.exchange(b, e.passwordSignIn(b, e.browser, "openid"))
	// A catalog session for /api/v1/me.
	lres, err := http.Post(base+"/api/v1/auth/login", "application/json", strings.NewReader(`{"username":"bench","password":"Tulip-garden-42-Bx9","audience":"catalog"}`))
	if err != nil {
		b.Fatal(err)
	}
	var login map[string]any
	_ = json.NewDecoder(lres.Body).Decode(&login)
	lres.Body.Close()
	e.session, _ = login["token"].(string)
	if e.session == "" {
		b.Fatalf("catalog session: %v", login)
	}
	return e
}
