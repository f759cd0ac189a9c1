package sso

import (
	"crypto/rand"
	"crypto/rsa"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	"github.com/gorilla/mux"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/rostertest"
)

// fakeIdP is an OpenID provider made for this test from go-jose and
// net/http: discovery, keys, a token endpoint and userinfo. It is a fake
// because no real IdP at hand puts the email and profile only at userinfo:
// glewlwyd 2.7 (TestSSOThroughGlewlwyd) puts each claim in both the ID
// token and userinfo or in neither, unless the relying party sends a
// claims request parameter, which roster does not. Its ID tokens carry
// only the subject; userinfo says the rest.
type fakeIdP struct {
	srv *httptest.Server
	key *rsa.PrivateKey

	mu       sync.Mutex
	nonce    string         // of the last authorization request
	userinfo map[string]any // what userinfo answers
}

func newFakeIdP(t *testing.T) *fakeIdP {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	f := &fakeIdP{key: key}
	m := http.NewServeMux()
	f.srv = httptest.NewServer(m)
	t.Cleanup(f.srv.Close)
	iss := f.srv.URL
	writeJSON := func(w http.ResponseWriter, v any) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(v)
	}
	m.HandleFunc("/.well-known/openid-configuration", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]any{"issuer": iss, "authorization_endpoint": iss + "/auth", "token_endpoint": iss + "/token",
			"userinfo_endpoint": iss + "/userinfo", "jwks_uri": iss + "/jwks", "id_token_signing_alg_values_supported": []string{"RS256"},
			"response_types_supported": []string{"code"}, "subject_types_supported": []string{"public"}})
	})
	m.HandleFunc("/jwks", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, jose.JSONWebKeySet{Keys: []jose.JSONWebKey{{Key: &key.PublicKey, KeyID: "k1", Algorithm: "RS256", Use: "sig"}}})
	})
	m.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
		if r.PostFormValue("code") != "the-code" {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		nonce := f.nonce
		f.mu.Unlock()
		now := time.Now().Unix()
		claims, _ := json.Marshal(map[string]any{"iss": iss, "sub": "sub-ivy", "aud": "roster", "iat": now, "exp": now + 300, "nonce": nonce})
		signer, err := jose.NewSigner(jose.SigningKey{Algorithm: jose.RS256, Key: key}, (&jose.SignerOptions{}).WithType("JWT").WithHeader("kid", "k1"))
		if err != nil {
			t.Error(err)
			return
		}
		jws, err := signer.Sign(claims)
		if err != nil {
			t.Error(err)
			return
		}
		idt, _ := jws.CompactSerialize()
		writeJSON(w, map[string]any{"access_token": "the-access-token", "token_type": "Bearer", "expires_in": 300, "id_token": idt})
	})
	m.HandleFunc("/userinfo", func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer the-access-token" {
			http.Error(w, "", http.StatusUnauthorized)
			return
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		writeJSON(w, f.userinfo)
	})
	return f
}

// signIn runs a console sign-in through the door: start, the IdP's
// answer (a code), the callback. It returns the callback's response.
func (f *fakeIdP) signIn(t *testing.T, roster *httptest.Server) *http.Response {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(roster.URL + "/auth/sso/default/start?audience=console")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	auth, _ := url.Parse(res.Header.Get("Location"))
	if res.StatusCode != http.StatusFound || !strings.HasPrefix(auth.String(), f.srv.URL+"/auth?") {
		t.Fatalf("start: %d %s", res.StatusCode, auth)
	}
	f.mu.Lock()
	f.nonce = auth.Query().Get("nonce")
	f.mu.Unlock()
	res, err = c.Get(auth.Query().Get("redirect_uri") + "?" + url.Values{"code": {"the-code"}, "state": {auth.Query().Get("state")}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	return res
}

func TestUserInfoFallback(t *testing.T) {
	tests := []struct {
		name     string
		match    string
		userinfo map[string]any
		// want: the console (signed in), else the refusal's words.
		want string
	}{
		{"just in time from userinfo's email and profile", core.MatchSubject,
			map[string]any{"sub": "sub-ivy", "email": "ivy@corp.example", "email_verified": true, "preferred_username": "ivy", "given_name": "Ivy", "family_name": "Ideal"}, ""},
		{"matched by userinfo's email", core.MatchEmail,
			map[string]any{"sub": "sub-ivy", "email": "olga@corp.example", "email_verified": true}, ""},
		{"userinfo of another subject is not used", core.MatchEmail,
			map[string]any{"sub": "sub-mallory", "email": "olga@corp.example", "email_verified": true}, "sent no email address"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := rostertest.New(t)
			if _, err := e.Svc.CreateUser(e.Ctx, core.CLIActor(), core.NewUser{OrgID: e.OrgID, Username: "olga", Email: "olga@corp.example", Invite: core.NoInvite}); err != nil {
				t.Fatal(err)
			}
			idp := newFakeIdP(t)
			idp.userinfo = tt.userinfo
			r := mux.NewRouter()
			roster := httptest.NewServer(r)
			t.Cleanup(roster.Close)
			d, err := New([]Config{{Name: "corp", Issuer: idp.srv.URL, ClientID: "roster", ClientSecret: "s", MatchClaim: tt.match,
				AllowMutableMatch: tt.match == core.MatchEmail, JIT: tt.match == core.MatchSubject}},
				Options{PublicURL: roster.URL, CSRFToken: func(string) string { return "csrf" }}, e.Svc, nil)
			if err != nil {
				t.Fatal(err)
			}
			d.Mount(r)
			res := idp.signIn(t, roster)
			body, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if tt.want != "" {
				if res.StatusCode != http.StatusForbidden || !strings.Contains(string(body), tt.want) {
					t.Fatalf("want a refusal with %q, got %d\n%s", tt.want, res.StatusCode, string(body))
				}
				return
			}
			if res.StatusCode != http.StatusFound || res.Header.Get("Location") != "/console/" {
				t.Fatalf("sign-in: %d %s\n%s", res.StatusCode, res.Header.Get("Location"), string(body))
			}
			var tok string
			for _, c := range res.Cookies() {
				if c.Name == consoleCookie {
					tok = c.Value
				}
			}
			p, err := e.Svc.AuthenticateSession(e.Ctx, tok)
			if err != nil {
				t.Fatalf("console session: %v", err)
			}
			u := p.User
			if tt.match == core.MatchEmail {
				if u.Username != "olga" {
					t.Fatalf("matched %s, want olga", u.Username)
				}
				return
			}
			if u.Username != "ivy" || u.Email != "ivy@corp.example" || u.FirstName != "Ivy" || u.LastName != "Ideal" || u.Source != "oidc:corp" || u.ExternalID != "sub-ivy" {
				t.Fatalf("just-in-time user: %+v", u)
			}
		})
	}
}

// A fresh-sign-in demand the door does not understand is refused by name
// before the IdP is contacted (none runs here).
func TestStartRefusesBadFreshness(t *testing.T) {
	e := rostertest.New(t)
	d, err := New([]Config{{Name: "corp", Issuer: "http://127.0.0.1:9/idp", ClientID: "roster", ClientSecret: "s"}},
		Options{PublicURL: "http://roster.test", CSRFToken: func(string) string { return "" }}, e.Svc, nil)
	if err != nil {
		t.Fatal(err)
	}
	r := mux.NewRouter()
	d.Mount(r)
	for _, tt := range []struct{ query, want string }{
		{"prompt=consent", `prompt: &#34;consent&#34; is not login`},
		{"max_age=-1", `max_age: &#34;-1&#34; is not a number of seconds`},
		{"max_age=soon", `max_age: &#34;soon&#34; is not a number of seconds`},
	} {
		w := httptest.NewRecorder()
		r.ServeHTTP(w, httptest.NewRequest("GET", "/auth/sso/default/start?audience=catalog&return=%2Foidc%2Fdefault%2Flogin%3Fid%3Dx&"+tt.query, nil))
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), tt.want) || w.Header().Get("Set-Cookie") != "" {
			t.Errorf("%s: %d %s", tt.query, w.Code, w.Body.String())
		}
	}
}
