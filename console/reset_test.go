package console_test

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
)

// resetToken requests a reset for an active user and takes the token from
// the outbox, as the mail worker would.
func (e *env) resetToken(id string) string {
	e.t.Helper()
	if err := e.svc.SendPasswordReset(e.ctx, core.CLIActor(), e.orgID, id, ""); err != nil {
		e.t.Fatal(err)
	}
	c, err := e.svc.ClaimMail(e.ctx, time.Minute, 10)
	if err != nil || len(c) != 1 {
		e.t.Fatalf("claim: %v (%d)", err, len(c))
	}
	return c[0].Mail.Token
}

func TestResetPage(t *testing.T) {
	e := newEnv(t)
	res, err := e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: e.orgID, Username: "sam@example.com", Email: "sam@example.com",
		FirstName: "Sam", Invite: core.NoInvite, Password: "old password 123"})
	if err != nil {
		t.Fatal(err)
	}
	token := e.resetToken(res.User.ID)
	path := "/reset/" + token
	code, hdr, body := e.get(path)
	if code != 200 || !strings.Contains(body, "Choose a new password") || hdr.Get("Referrer-Policy") != "no-referrer" {
		t.Fatalf("GET: %d\n%s", code, body)
	}
	if code, _ := e.post(path, pw("new password 456", "new password 456"), map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}); code != 403 {
		t.Fatalf("cross-origin POST: %d", code)
	}
	steps := []struct {
		form url.Values
		code int
		want string
	}{
		{pw("new password 456", "new password 457"), 400, "The two passwords differ"},
		{pw("short", "short"), 400, "at least 10 characters"},
		{pw("new password 456", "new password 456"), 200, "Password changed"},
		{pw("new password 789", "new password 789"), 400, "already used"},
	}
	for _, s := range steps {
		if code, body := e.post(path, s.form, nil); code != s.code || !strings.Contains(body, s.want) {
			t.Fatalf("POST %v: %d, want %d with %q\n%s", s.form, code, s.code, s.want, body)
		}
	}
	for _, bad := range []string{"rrst_short", core.PrefixReset + strings.Repeat("B", 43), token[:len(token)-1] + "*"} {
		if code, _, body := e.get("/reset/" + url.PathEscape(bad)); code != 400 || !strings.Contains(body, "password reset link") {
			t.Fatalf("GET %q: %d\n%s", bad, code, body)
		}
	}
}
