package console_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/rostertest"
)

type env struct {
	t     *testing.T
	ctx   context.Context
	svc   *core.Service
	clock *rostertest.Clock
	orgID string
	srv   *httptest.Server
}

// newEnv: a fresh migrated store (SQLite, or PostgreSQL in the rerun), the service, and the acceptance page
// behind a real listener.
func newEnv(t *testing.T) *env {
	t.Helper()
	re := rostertest.New(t, rostertest.At(time.Date(2026, 3, 1, 8, 0, 0, 0, time.UTC)))
	svc := re.Svc
	h, err := console.NewInvites(svc, nil)
	if err != nil {
		t.Fatal(err)
	}
	rh, err := console.NewResets(svc, nil)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle(console.Mount, h)
	mux.Handle(console.ResetMount, rh)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &env{t: t, ctx: re.Ctx, svc: svc, clock: re.Clock, orgID: re.OrgID, srv: srv}
}

// invite creates a user invited by link and returns the user and token.
func (e *env) invite(nu core.NewUser) (*core.UserView, string) {
	e.t.Helper()
	nu.OrgID, nu.Invite = e.orgID, core.InviteByLink
	a := core.CLIActor()
	if strings.HasPrefix(nu.Source, "ldap:") {
		a = core.Actor{Kind: core.ActorLDAP, Name: "corp", Source: nu.Source}
	}
	res, err := e.svc.CreateUser(e.ctx, a, nu)
	if err != nil {
		e.t.Fatal(err)
	}
	return res.User, res.InviteToken
}

func (e *env) get(path string) (int, http.Header, string) {
	e.t.Helper()
	res, err := http.Get(e.srv.URL + path)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, res.Header, string(b)
}

func (e *env) post(path string, form url.Values, hdr map[string]string) (int, string) {
	e.t.Helper()
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", e.srv.URL)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

func (e *env) status(id string) (core.Status, core.InviteStatus) {
	e.t.Helper()
	u, err := e.svc.GetUser(e.ctx, e.orgID, id)
	if err != nil {
		e.t.Fatal(err)
	}
	return u.Status, u.InviteStatus
}

func pw(p, c string) url.Values { return url.Values{"password": {p}, "confirm": {c}} }

// A native user sets a password through the page; mistakes re-show the form
// and change nothing; the link works once.
func TestAcceptNativeUser(t *testing.T) {
	e := newEnv(t)
	u, token := e.invite(core.NewUser{Username: "nia@example.com", Email: "nia@example.com", FirstName: "<script>alert(1)</script>"})
	path := "/invite/" + token

	code, hdr, body := e.get(path)
	if code != 200 || !strings.Contains(body, `name="password"`) || !strings.Contains(body, `name="confirm"`) {
		t.Fatalf("GET: %d\n%s", code, body)
	}
	if strings.Contains(body, "<script>alert") || !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Fatalf("first name not escaped:\n%s", body)
	}
	for k, want := range map[string]string{"Referrer-Policy": "no-referrer", "Cache-Control": "no-store", "X-Frame-Options": "DENY"} {
		if hdr.Get(k) != want {
			t.Errorf("header %s = %q, want %q", k, hdr.Get(k), want)
		}
	}
	if !strings.Contains(hdr.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("CSP %q", hdr.Get("Content-Security-Policy"))
	}

	steps := []struct {
		name   string
		form   url.Values
		code   int
		want   string
		status core.Status
	}{
		{"passwords differ", pw("correct horse battery", "correct horse batterie"), 400, "The two passwords differ", core.StatusInvited},
		{"password below policy", pw("short", "short"), 400, "at least 10 characters", core.StatusInvited},
		{"good password", pw("correct horse battery", "correct horse battery"), 200, "your account nia@example.com is active", core.StatusActive},
		{"second use", pw("another password 1", "another password 1"), 400, "already used", core.StatusActive},
	}
	for _, s := range steps {
		code, body := e.post(path, s.form, nil)
		if code != s.code || !strings.Contains(body, s.want) {
			t.Fatalf("%s: %d, want %d with %q\n%s", s.name, code, s.code, s.want, body)
		}
		if st, _ := e.status(u.ID); st != s.status {
			t.Fatalf("%s: status %s, want %s", s.name, st, s.status)
		}
	}
	if _, inv := e.status(u.ID); inv != core.InviteAccepted {
		t.Fatalf("invite status %s", inv)
	}
	code, _, body = e.get(path)
	if code != 400 || !strings.Contains(body, "already used") {
		t.Fatalf("GET after use: %d\n%s", code, body)
	}
}

// A directory (LDAP/SSO) user confirms without a password.
func TestAcceptDirectoryUser(t *testing.T) {
	e := newEnv(t)
	u, token := e.invite(core.NewUser{Username: "lee", Email: "lee@example.com", FirstName: "Lee", Source: "ldap:corp", ExternalID: "uid=lee"})
	code, _, body := e.get("/invite/" + token)
	if code != 200 || strings.Contains(body, `name="password"`) || !strings.Contains(body, "Accept the invitation") {
		t.Fatalf("GET: %d\n%s", code, body)
	}
	if code, body := e.post("/invite/"+token, url.Values{}, nil); code != 200 || !strings.Contains(body, "Welcome, Lee") {
		t.Fatalf("POST: %d\n%s", code, body)
	}
	if st, inv := e.status(u.ID); st != core.StatusActive || inv != core.InviteAccepted {
		t.Fatalf("after accept: %s %s", st, inv)
	}
}

// Malformed, unknown, replaced and expired links get a clear page; nothing changes.
func TestAcceptBadLinks(t *testing.T) {
	cases := []struct {
		name  string
		setup func(e *env, id, token string) string // returns the token to use
		want  string
	}{
		{"too short", func(_ *env, _, _ string) string { return "rinv_abc" }, "malformed"},
		{"wrong alphabet", func(_ *env, _, tok string) string { return tok[:len(tok)-1] + "*" }, "malformed"},
		{"wrong prefix", func(_ *env, _, tok string) string { return "radm_" + tok[5:] }, "malformed"},
		{"unknown", func(_ *env, _, tok string) string {
			return core.PrefixInvite + strings.Repeat("A", 43)
		}, "not valid"},
		{"replaced by a resend", func(e *env, id, tok string) string {
			if _, err := e.svc.ResendInvite(e.ctx, core.CLIActor(), e.orgID, id, core.Resend{Mode: core.InviteByLink}); err != nil {
				e.t.Fatal(err)
			}
			return tok
		}, "replaced by a newer one"},
		{"expired", func(e *env, _, tok string) string { e.clock.Advance(7*24*time.Hour + time.Minute); return tok }, "expired"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			u, token := e.invite(core.NewUser{Username: "oz@example.com", Email: "oz@example.com", FirstName: "Oz"})
			tok := tc.setup(e, u.ID, token)
			code, _, body := e.get("/invite/" + url.PathEscape(tok))
			if code != 400 || !strings.Contains(body, tc.want) {
				t.Fatalf("GET: %d, want 400 with %q\n%s", code, tc.want, body)
			}
			code, body = e.post("/invite/"+url.PathEscape(tok), pw("correct horse battery", "correct horse battery"), nil)
			if code != 400 || !strings.Contains(body, tc.want) {
				t.Fatalf("POST: %d, want 400 with %q\n%s", code, tc.want, body)
			}
			if st, _ := e.status(u.ID); st != core.StatusInvited {
				t.Fatalf("status %s after a bad link", st)
			}
		})
	}
}

// A form posted from another site is refused and changes nothing.
func TestAcceptRefusesCrossOrigin(t *testing.T) {
	cases := []struct {
		name string
		hdr  map[string]string
	}{
		{"sec-fetch-site cross-site", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}},
		{"foreign origin without fetch metadata", map[string]string{"Sec-Fetch-Site": "", "Origin": "https://evil.example"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			u, token := e.invite(core.NewUser{Username: "pat@example.com", Email: "pat@example.com", FirstName: "Pat"})
			code, body := e.post("/invite/"+token, pw("correct horse battery", "correct horse battery"), tc.hdr)
			if code != http.StatusForbidden {
				t.Fatalf("cross-origin POST: %d\n%s", code, body)
			}
			if st, _ := e.status(u.ID); st != core.StatusInvited {
				t.Fatalf("status %s after a refused POST", st)
			}
			if _, err := e.svc.LookupInvite(e.ctx, token); err != nil {
				t.Fatalf("the link was consumed: %v", err)
			}
		})
	}
}

func TestLookupInviteRejectsMalformed(t *testing.T) {
	e := newEnv(t)
	_, err := e.svc.LookupInvite(e.ctx, "rinv_"+strings.Repeat("é", 43))
	if !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("err %v", err)
	}
}

// Pages speak the language the link was mailed in; ?lang= switches; error
// pages follow the browser's Accept-Language.
func TestPagesInTheLinksLanguage(t *testing.T) {
	e := newEnv(t)
	u, token := e.invite(core.NewUser{Username: "uwe@example.com", Email: "uwe@example.com", FirstName: "Uwe", Language: "de-AT"})
	path := "/invite/" + token
	code, _, body := e.get(path)
	if code != 200 || !strings.Contains(body, `<html lang="de">`) || !strings.Contains(body, "Passwort wählen") || !strings.Contains(body, "Hallo Uwe") {
		t.Fatalf("German page: %d\n%s", code, body)
	}
	if _, _, body := e.get(path + "?lang=fr"); !strings.Contains(body, "Choisissez un mot de passe") {
		t.Fatalf("?lang=fr:\n%s", body)
	}
	if code, body := e.post(path, pw("correct horse battery", "correct horse batterie"), nil); code != 400 || !strings.Contains(body, "Die beiden Passwörter sind verschieden.") {
		t.Fatalf("German mismatch: %d\n%s", code, body)
	}
	if code, body := e.post(path, pw("kurz", "kurz"), nil); code != 400 || !strings.Contains(body, "mindestens 10 Zeichen") {
		t.Fatalf("German policy error: %d\n%s", code, body)
	}
	e.clock.Advance(8 * 24 * time.Hour)
	req, _ := http.NewRequest(http.MethodGet, e.srv.URL+path, nil)
	req.Header.Set("Accept-Language", "es-MX,es;q=0.9,en;q=0.5")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 400 || !strings.Contains(string(b), "El enlace ha caducado.") || !strings.Contains(string(b), "Este enlace de invitación no se puede usar") {
		t.Fatalf("Spanish expired page: %d\n%s", res.StatusCode, b)
	}
	if st, _ := e.status(u.ID); st != core.StatusInvited {
		t.Fatalf("status %s", st)
	}
}

// An invitation mailed in the language picked at invite (es) opens the page
// in that language, not the user's own (de).
func TestPageFollowsMailLanguage(t *testing.T) {
	e := newEnv(t)
	if _, err := e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: e.orgID, Username: "vera@example.com", Email: "vera@example.com",
		FirstName: "Vera", Language: "de", MailLanguage: "es", Invite: core.InviteByMail}); err != nil {
		t.Fatal(err)
	}
	c, err := e.svc.ClaimMail(e.ctx, time.Minute, 1)
	if err != nil || len(c) != 1 {
		t.Fatalf("claim: %v", err)
	}
	if _, _, body := e.get("/invite/" + c[0].Mail.Token); !strings.Contains(body, "Elija una contraseña") {
		t.Fatalf("page not in the mail's language:\n%s", body)
	}
}
