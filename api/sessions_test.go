package api_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
)

const memberPW = "Sturdy-passphrase-7" // what createActive sets

// lockByHTTP sends ten wrong passwords for username.
func (f *fixture) lockByHTTP(username string) {
	f.t.Helper()
	for i := 0; i < 10; i++ {
		if r := f.do(nil, "POST", "/api/v1/auth/login", "", map[string]any{"username": username, "password": "Wrong-passphrase-0"}); r.code != 401 {
			f.t.Fatalf("wrong password %d: %d %s", i+1, r.code, r.raw)
		}
	}
}

// A locked, disabled or archived account answers the right password as a
// wrong one: 401, the same body as for an unknown user.
func TestLoginOfAnAccountThatCannotLogInIsNoOracle(t *testing.T) {
	f := newFixture(t, 1000)
	locked := f.createActive("locked@example.com", core.RoleMember)
	f.lockByHTTP("locked@example.com")
	dis := f.createActive("disabled@example.com", core.RoleMember)
	arc := f.createActive("archived@example.com", core.RoleMember)
	for id, act := range map[string]string{dis: "disable", arc: "archive"} {
		if r := f.do(nil, "POST", "/api/v1/users/"+id+"/"+act, f.owner, nil); r.code != 200 {
			t.Fatalf("%s: %d %s", act, r.code, r.raw)
		}
	}
	if u, _ := f.svc.GetUser(f.ctx, f.org, locked); u.Status != core.StatusLocked {
		t.Fatalf("status %s", u.Status)
	}
	unknown := f.do(nil, "POST", "/api/v1/auth/login", "", map[string]any{"username": "ghost@example.com", "password": memberPW})
	if unknown.code != 401 {
		t.Fatalf("unknown: %d %s", unknown.code, unknown.raw)
	}
	for _, user := range []string{"locked@example.com", "disabled@example.com", "archived@example.com"} {
		for _, pw := range []string{memberPW, "Wrong-passphrase-0"} {
			r := f.do(nil, "POST", "/api/v1/auth/login", "", map[string]any{"username": user, "password": pw})
			if r.code != unknown.code || r.raw != unknown.raw {
				t.Errorf("%s with %s password: %d %s; an unknown user gets %d %s", user, map[bool]string{true: "the right", false: "a wrong"}[pw == memberPW], r.code, r.raw, unknown.code, unknown.raw)
			}
		}
	}
}

// Changing one's password ends one's other sessions in every audience and
// keeps the current one; an admin reassigning it ends all of them.
func TestPasswordChangeEndsOtherSessionsOverHTTP(t *testing.T) {
	f := newFixture(t, 1000)
	id := f.createActive("member@example.com", core.RoleUserManager)
	current := f.login("member@example.com", memberPW, "console")
	other := f.login("member@example.com", memberPW, "console")
	catalog := f.login("member@example.com", memberPW, "catalog")
	if r := f.do(nil, "POST", "/api/v1/auth/password", current, map[string]any{"old_password": memberPW, "new_password": "Brand-new-passphrase-9"}); r.code != 204 {
		t.Fatalf("change: %d %s", r.code, r.raw)
	}
	for name, tc := range map[string]struct {
		tok  string
		want int
	}{"current": {current, 200}, "other console": {other, 401}, "catalog": {catalog, 401}} {
		if r := f.do(nil, "GET", "/api/v1/me", tc.tok, nil); r.code != tc.want {
			t.Errorf("%s session after the change: %d, want %d", name, r.code, tc.want)
		}
	}
	a := f.login("member@example.com", "Brand-new-passphrase-9", "console")
	b := f.login("member@example.com", "Brand-new-passphrase-9", "catalog")
	if r := f.do(nil, "POST", "/api/v1/users/"+id+"/set-password", f.owner, map[string]any{"password": "Reassigned-passphrase-3"}); r.code != 204 {
		t.Fatalf("set-password: %d %s", r.code, r.raw)
	}
	for _, tok := range []string{a, b, current} {
		if r := f.do(nil, "GET", "/api/v1/me", tok, nil); r.code != 401 {
			t.Errorf("a session survived the reassigned password: %d", r.code)
		}
	}
}

// A session that must change its password may read /me, change the
// password and log out; every other route answers 403
// password_change_required, for bearer and cookie sessions alike.
func TestForcedPasswordChangeIsEnforcedByTheServer(t *testing.T) {
	f := newFixture(t, 1000)
	id := f.createActive("forced@example.com", core.RoleAdmin)
	if r := f.do(nil, "POST", "/api/v1/users/"+id+"/set-password", f.owner, map[string]any{"password": "Reassigned-passphrase-3"}); r.code != 204 {
		t.Fatalf("set-password: %d %s", r.code, r.raw)
	}
	r := f.do(nil, "POST", "/api/v1/auth/login", "", map[string]any{"username": "forced@example.com", "password": "Reassigned-passphrase-3"})
	if r.code != 200 || r.body["must_change_password"] != true {
		t.Fatalf("login: %d %s", r.code, r.raw)
	}
	tok := r.body["token"].(string)
	for _, c := range []struct{ method, path string }{
		{"GET", "/api/v1/users"},
		{"GET", "/api/v1/users/" + id},
		{"POST", "/api/v1/users/" + id + "/set-password"},
		{"GET", "/api/v1/org/settings"},
		{"GET", "/api/v1/tokens"},
		{"POST", "/api/v1/tokens"},
		{"GET", "/api/v1/groups"},
	} {
		if r := f.do(nil, c.method, c.path, tok, map[string]any{}); r.code != 403 || r.errCode() != "password_change_required" {
			t.Errorf("%s %s: %d %s, want 403 password_change_required", c.method, c.path, r.code, r.raw)
		}
	}
	if r := f.do(nil, "GET", "/api/v1/me", tok, nil); r.code != 200 || r.body["must_change_password"] != true {
		t.Fatalf("/me: %d %s", r.code, r.raw)
	}
	// The cookie session of the console: the same rule.
	jar, _ := cookiejar.New(nil)
	cl := &http.Client{Jar: jar}
	lr := f.do(cl, "POST", "/api/v1/auth/login", "", map[string]any{"username": "forced@example.com", "password": "Reassigned-passphrase-3", "cookie": true})
	if lr.code != 200 {
		t.Fatalf("cookie login: %d", lr.code)
	}
	csrf := lr.body["csrf_token"].(string)
	if r := f.do(cl, "GET", "/api/v1/users", "", nil); r.code != 403 || r.errCode() != "password_change_required" {
		t.Errorf("cookie GET /users: %d %s", r.code, r.raw)
	}
	if r := f.do(cl, "POST", "/api/v1/auth/password", "", map[string]any{"old_password": "Reassigned-passphrase-3", "new_password": "Chosen-passphrase-8"}, "X-CSRF-Token", csrf); r.code != 204 {
		t.Fatalf("change through the cookie session: %d %s", r.code, r.raw)
	}
	if r := f.do(cl, "GET", "/api/v1/users", "", nil); r.code != 200 {
		t.Errorf("after the change: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "GET", "/api/v1/me", tok, nil); r.code != 401 {
		t.Errorf("the other (bearer) session survived the change: %d", r.code)
	}
	// Logging out is allowed while the change is pending.
	if r := f.do(nil, "POST", "/api/v1/users/"+id+"/set-password", f.owner, map[string]any{"password": "Reassigned-passphrase-4"}); r.code != 204 {
		t.Fatal(r.raw)
	}
	tok = f.login("forced@example.com", "Reassigned-passphrase-4", "console")
	if r := f.do(nil, "POST", "/api/v1/auth/logout", tok, nil); r.code != 204 {
		t.Errorf("logout while the change is pending: %d %s", r.code, r.raw)
	}
}

// Disabling (or archiving) a user revokes their admin tokens: enabling them
// again does not bring the tokens back.
func TestDisabledUsersAdminTokensStayRevoked(t *testing.T) {
	f := newFixture(t, 1000)
	for _, tc := range []struct{ off, on string }{{"disable", "enable"}, {"archive", "restore"}} {
		id := f.createActive(tc.off+"-admin@example.com", core.RoleAdmin)
		// The admin makes their own token: an admin token acts only as its creator.
		self := f.login(tc.off+"-admin@example.com", "Sturdy-passphrase-7", "console")
		r := f.do(nil, "POST", "/api/v1/tokens", self, map[string]any{"name": "ci " + tc.off, "scope": "admin"})
		if r.code != 201 {
			t.Fatalf("token: %d %s", r.code, r.raw)
		}
		secret := r.body["token"].(string)
		if r := f.do(nil, "GET", "/api/v1/users", secret, nil); r.code != 200 {
			t.Fatalf("token before: %d", r.code)
		}
		for _, act := range []string{tc.off, tc.on} {
			if r := f.do(nil, "POST", "/api/v1/users/"+id+"/"+act, f.owner, nil); r.code != 200 {
				t.Fatalf("%s: %d %s", act, r.code, r.raw)
			}
		}
		if r := f.do(nil, "GET", "/api/v1/users", secret, nil); r.code != 401 {
			t.Errorf("after %s and %s the token answers %d, want 401", tc.off, tc.on, r.code)
		}
		list := f.do(nil, "GET", "/api/v1/tokens", f.owner, nil)
		for _, x := range list.body["tokens"].([]any) {
			m := x.(map[string]any)
			if m["name"] == "ci "+tc.off && m["revoked_at"] == nil {
				t.Errorf("token %s is listed unrevoked", m["name"])
			}
		}
	}
}

// An owner locked by anonymous wrong passwords is not lost: another owner
// unlocks them over the API (an admin may not), and the lock of an owner
// expires by itself.
func TestLockedOwnerCanBeUnlocked(t *testing.T) {
	f := newFixture(t, 1000)
	second := f.createActive("second-owner@example.com", core.RoleAdmin)
	if r := f.do(nil, "PATCH", "/api/v1/users/"+second, f.owner, map[string]any{"role": "owner"}); r.code != 200 {
		t.Fatalf("promote: %d %s", r.code, r.raw)
	}
	f.createActive("plain-admin@example.com", core.RoleAdmin)
	adminTok := f.login("plain-admin@example.com", memberPW, "console")
	secondTok := f.login("second-owner@example.com", memberPW, "console")
	me := f.do(nil, "GET", "/api/v1/me", f.owner, nil).body["id"].(string)
	f.lockByHTTP("owner@example.com")
	if r := f.do(nil, "POST", "/api/v1/auth/login", "", map[string]any{"username": "owner@example.com", "password": ownerPW}); r.code != 401 {
		t.Fatalf("a locked owner logged in: %d", r.code)
	}
	if r := f.do(nil, "POST", "/api/v1/users/"+me+"/unlock", adminTok, nil); r.code != 403 {
		t.Errorf("an admin unlocked an owner: %d %s", r.code, r.raw)
	}
	if r := f.do(nil, "POST", "/api/v1/users/"+me+"/unlock", secondTok, nil); r.code != 200 || r.body["status"] != "active" {
		t.Fatalf("another owner could not unlock: %d %s", r.code, r.raw)
	}
	f.login("owner@example.com", ownerPW, "console")
}

// A self-service reset request takes the same time whether or not the
// account exists: medians over many requests through the listener, within
// 1.25x of each other (before, an existing account cost ~35% more: a token,
// five writes and a history entry on the request path).
func TestPasswordResetAnswersTakeTheSameTime(t *testing.T) {
	f := newFixture(t, 1_000_000)
	f.createActive("real@example.com", core.RoleMember)
	const rounds = 150
	var known, unknown []time.Duration
	send := func(login string) time.Duration {
		start := time.Now()
		r := f.do(nil, "POST", "/api/v1/auth/password-reset", "", map[string]any{"login": login})
		d := time.Since(start)
		if r.code != 202 {
			t.Fatalf("%s: %d %s", login, r.code, r.raw)
		}
		return d
	}
	for i := 0; i < 10; i++ { // warm up connections and caches
		send("real@example.com")
		send("ghost" + url.PathEscape(time.Now().String()) + "@example.com")
	}
	for i := 0; i < rounds; i++ {
		// Alternate the order so that drift hits both alike.
		if i%2 == 0 {
			known = append(known, send("real@example.com"))
			unknown = append(unknown, send("ghost@example.com"))
		} else {
			unknown = append(unknown, send("ghost@example.com"))
			known = append(known, send("real@example.com"))
		}
	}
	med := func(d []time.Duration) time.Duration { s := slices.Clone(d); slices.Sort(s); return s[len(s)/2] }
	k, u := med(known), med(unknown)
	ratio := float64(max(k, u)) / float64(min(k, u))
	t.Logf("median: existing account %v, no account %v (ratio %.2f)", k, u, ratio)
	if ratio > 1.25 {
		t.Errorf("the answer's time tells whether the account exists: median %v vs %v", k, u)
	}
	// The requests are still served: the worker's part mails the real user.
	if _, err := f.svc.ProcessPasswordResetRequests(f.ctx); err != nil {
		t.Fatal(err)
	}
	u2, _ := f.svc.GetUserByUsername(f.ctx, f.org, "real@example.com")
	mails := f.do(nil, "GET", "/api/v1/users/"+u2.ID+"/mail", f.owner, nil).body["mail"].([]any)
	if len(mails) == 0 {
		t.Fatal("no reset mail for the real account")
	}
}
