package console_test

import (
	"strings"
	"testing"

	"github.com/rosterhq/roster/core"
)

// The invitation and reset pages state the organisation's real password
// policy (the form's minlength and a sentence), not a fixed 8.
func TestPagesStateThePasswordPolicy(t *testing.T) {
	e := newEnv(t)
	_, invite := e.invite(core.NewUser{Username: "pol@example.com", Email: "pol@example.com", FirstName: "Pol"})
	res, err := e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: e.orgID, Username: "sam@example.com", Email: "sam@example.com",
		FirstName: "Sam", Invite: core.NoInvite, Password: "old password 123"})
	if err != nil {
		t.Fatal(err)
	}
	reset := e.resetToken(res.User.ID)
	check := func(wantMin, wantText string) {
		t.Helper()
		for _, path := range []string{"/invite/" + invite, "/reset/" + reset} {
			code, _, body := e.get(path)
			if code != 200 {
				t.Fatalf("GET %s: %d", path, code)
			}
			if strings.Contains(body, `minlength="8"`) || strings.Count(body, `minlength="`+wantMin+`"`) != 2 {
				t.Errorf("%s: the form does not require the policy's %s characters:\n%s", path, wantMin, body)
			}
			if !strings.Contains(body, wantText) {
				t.Errorf("%s: the page does not state %q:\n%s", path, wantText, body)
			}
		}
	}
	check("10", "At least 10 characters. Common and breached passwords are refused.")
	if err := e.svc.SetPasswordPolicy(e.ctx, core.CLIActor(), e.orgID, core.PasswordPolicy{MinLength: 14, RequireUpper: true, RequireDigit: true, RequireSymbol: true}); err != nil {
		t.Fatal(err)
	}
	check("14", "At least 14 characters, with an upper-case letter, a digit and a symbol.")
	if code, _, body := e.get("/reset/" + reset + "?lang=de"); code != 200 || !strings.Contains(body, "Mindestens 14 Zeichen, mit einem Großbuchstaben, einer Ziffer und einem Sonderzeichen.") {
		t.Errorf("German page: %d\n%s", code, body)
	}
}

// A known-weak password is refused on the page, naming the rule.
func TestPagesNameTheWeakPasswordRule(t *testing.T) {
	e := newEnv(t)
	_, invite := e.invite(core.NewUser{Username: "weak@example.com", Email: "weak@example.com", FirstName: "W"})
	for _, tc := range []struct{ pw, want string }{
		{"Password123!", "a common one with digits, symbols or letter swaps added"},
		{"aaaaaaaaaaaa", "repeated or sequential characters"},
	} {
		if code, body := e.post("/invite/"+invite, pw(tc.pw, tc.pw), nil); code != 400 || !strings.Contains(body, tc.want) {
			t.Errorf("%q: %d, want 400 naming %q\n%s", tc.pw, code, tc.want, body)
		}
	}
}
