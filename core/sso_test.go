package core_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rosterhq/roster/core"
)

var okta = core.Actor{Kind: core.ActorSCIM, ID: "tok-1", Name: "okta", Source: "scim:okta"}

func (e *env) scimUser(t *testing.T, username, externalID string) *core.UserView {
	t.Helper()
	c, err := e.svc.CreateUser(e.ctx, okta, core.NewUser{OrgID: e.org, Username: username, Email: username + "@corp.example", ExternalID: externalID, Invite: core.NoInvite})
	if err != nil {
		t.Fatalf("create %s: %v", username, err)
	}
	return c.User
}

func identity(sub, email string) core.ExternalIdentity {
	return core.ExternalIdentity{Org: core.DefaultOrg, Provider: "corp", Audience: core.AudienceConsole, Subject: sub, Email: email,
		Match: core.MatchSubject, MatchSources: []string{"scim:okta"}}
}

func TestExternalLoginMatchesAndAppliesTheStatusRule(t *testing.T) {
	e := newEnv(t)
	alice := e.scimUser(t, "alice", "sub-alice")
	bob := e.scimUser(t, "bob", "sub-bob")
	if _, err := e.svc.ChangeStatus(e.ctx, admin, e.org, bob.ID, core.ActDisable); err != nil {
		t.Fatal(err)
	}
	native := e.activeUser(t, "nat@example.com", core.RoleMember)
	f := false
	tests := []struct {
		name     string
		in       func(core.ExternalIdentity) core.ExternalIdentity
		wantUser string
		wantCode string
		wantText string
	}{
		{"by sub in a match source", func(i core.ExternalIdentity) core.ExternalIdentity { return i }, alice.ID, "", ""},
		{"sub of a disabled user", func(i core.ExternalIdentity) core.ExternalIdentity { i.Subject = "sub-bob"; return i }, "", "not_active", "Your account is disabled"},
		{"unknown sub, no jit", func(i core.ExternalIdentity) core.ExternalIdentity {
			i.Subject = "sub-x"
			i.Email = "x@corp.example"
			return i
		}, "", "unknown_user", "no account for x@corp.example"},
		{"sub not in the match sources", func(i core.ExternalIdentity) core.ExternalIdentity { i.MatchSources = nil; return i }, "", "unknown_user", ""},
		{"the email is not a sub match", func(i core.ExternalIdentity) core.ExternalIdentity {
			i.Subject = "other"
			i.Email = "alice@corp.example"
			return i
		}, "", "unknown_user", ""},
		{"by email", func(i core.ExternalIdentity) core.ExternalIdentity {
			i.Match, i.Subject, i.Email = core.MatchEmail, "whatever", "NAT@example.com"
			return i
		}, native.ID, "", ""},
		{"email said unverified", func(i core.ExternalIdentity) core.ExternalIdentity {
			i.Match, i.Email, i.EmailVerified = core.MatchEmail, "nat@example.com", &f
			return i
		}, "", "unverified_email", "not verified"},
		{"email match without email", func(i core.ExternalIdentity) core.ExternalIdentity { i.Match, i.Email = core.MatchEmail, ""; return i }, "", "unverified_email", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := e.countHistory(t)
			res, err := e.svc.ExternalLogin(e.ctx, tt.in(identity("sub-alice", "alice@corp.example")))
			if tt.wantCode != "" {
				var ee *core.ExternalLoginError
				if !errors.As(err, &ee) || ee.Code != tt.wantCode || !strings.Contains(ee.Reason, tt.wantText) || !errors.Is(err, core.ErrUnauthorized) {
					t.Fatalf("got %v, want %s %q", err, tt.wantCode, tt.wantText)
				}
				if e.countHistory(t) != before {
					t.Fatal("a refused sign-in wrote history")
				}
				return
			}
			if err != nil || res.User.ID != tt.wantUser {
				t.Fatalf("got %v %+v, want user %s", err, res, tt.wantUser)
			}
			p, err := e.svc.AuthenticateSession(e.ctx, res.Token)
			if err != nil || p.User.ID != tt.wantUser || p.Audience != core.AudienceConsole {
				t.Fatalf("session: %v %+v", err, p)
			}
			if u, _ := e.svc.GetUser(e.ctx, e.org, tt.wantUser); u.LastLoginAt == nil {
				t.Fatal("last login not recorded")
			}
		})
	}
	// Bad input is named.
	for _, in := range []core.ExternalIdentity{{Org: core.DefaultOrg, Provider: "corp", Audience: "admin", Subject: "s", Match: "sub"},
		{Org: core.DefaultOrg, Provider: "corp", Audience: core.AudienceConsole, Subject: "s", Match: "upn"}} {
		var ve *core.ValidationError
		if _, err := e.svc.ExternalLogin(e.ctx, in); !errors.As(err, &ve) {
			t.Errorf("%+v: %v", in, err)
		}
	}
}

func TestExternalLoginJustInTime(t *testing.T) {
	e := newEnv(t)
	e.activeUser(t, "taken@example.com", core.RoleMember)
	in := identity("sub-new", "new@corp.example")
	in.JIT, in.Username, in.FirstName, in.LastName, in.Language = true, "newbie", "New", "Bie", "de"
	in.Audience = core.AudienceCatalog
	res, err := e.svc.ExternalLogin(e.ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	u := res.User
	if u.Source != "oidc:corp" || u.ExternalID != "sub-new" || u.Role != core.RoleMember || u.Status != core.StatusActive || u.Username != "newbie" ||
		u.Email != "new@corp.example" || u.FirstName != "New" || u.Language != "de" || u.PasswordHash != "" {
		t.Fatalf("jit user: %+v", u.User)
	}
	var created bool
	for _, h := range e.history(t, u.ID) {
		created = created || h.Action == "user.create"
	}
	if !created {
		t.Fatal("no user.create history")
	}
	// The next sign-in finds the same user (sub in oidc:corp), even with jit off.
	in.JIT = false
	if again, err := e.svc.ExternalLogin(e.ctx, in); err != nil || again.User.ID != u.ID {
		t.Fatalf("again: %v", err)
	}
	// A name already taken is refused, and nothing is created.
	clash := identity("sub-clash", "taken@example.com")
	clash.JIT = true
	var ee *core.ExternalLoginError
	if _, err := e.svc.ExternalLogin(e.ctx, clash); !errors.As(err, &ee) || ee.Code != "conflict" {
		t.Fatalf("clash: %v", err)
	}
	// What the constructor refuses is refused too.
	bad := identity("sub-bad", "not an email")
	bad.JIT = true
	if _, err := e.svc.ExternalLogin(e.ctx, bad); !errors.As(err, &ee) || ee.Code != "conflict" || !strings.Contains(ee.Reason, "email") {
		t.Fatalf("bad email: %v", err)
	}
	us, err := e.svc.ListUsers(e.ctx, core.UserQuery{OrgID: e.org, Source: "oidc:corp"})
	if err != nil || len(us) != 1 {
		t.Fatalf("oidc:corp users: %d %v", len(us), err)
	}
}

func TestPasswordLoginOffKeepsBreakGlassOwners(t *testing.T) {
	e := newEnv(t)
	e.activeUser(t, "root@example.com", core.RoleOwner)
	e.activeUser(t, "member@example.com", core.RoleMember)
	e.activeUser(t, "admin@example.com", core.RoleAdmin)
	e.svc.SetSignInPolicy(core.DefaultOrg, &core.SignInPolicy{PasswordLogin: false, BreakGlassOwners: []string{"root@example.com", "admin@example.com"}})
	if e.svc.PasswordLoginAllowed(core.DefaultOrg) {
		t.Fatal("password login still allowed")
	}
	tests := []struct {
		name, user, pw string
		wantCode       string // "" success
	}{
		{"break-glass owner", "ROOT@example.com", goodPW, ""},
		{"break-glass owner, wrong password", "root@example.com", "wrong-pass", "login_failed"},
		{"member", "member@example.com", goodPW, "password_login_off"},
		{"unknown user: the same answer", "ghost@example.com", goodPW, "password_login_off"},
		{"listed but not an owner", "admin@example.com", goodPW, "login_failed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.login(tt.user, tt.pw, core.AudienceConsole)
			var le *core.LoginError
			switch {
			case tt.wantCode == "" && err != nil:
				t.Fatalf("refused: %v", err)
			case tt.wantCode == "login_failed" && (!errors.As(err, &le) || le.Code != "" || le.Reason != "invalid username or password"):
				t.Fatalf("got %v", err)
			case tt.wantCode == "password_login_off" && (!errors.As(err, &le) || le.Code != "password_login_off"):
				t.Fatalf("got %v", err)
			}
		})
	}
	e.svc.SetSignInPolicy(core.DefaultOrg, nil)
	if _, err := e.login("member@example.com", goodPW, core.AudienceConsole); err != nil {
		t.Fatalf("policy removed, member refused: %v", err)
	}
}

// With password sign-in off, a self-service reset link goes to break-glass
// owners only: a password would open nothing for anyone else. The request
// itself is answered the same for everyone (it is only queued).
func TestPasswordResetWithPasswordLoginOff(t *testing.T) {
	e := newEnv(t)
	e.activeUser(t, "root@example.com", core.RoleOwner)
	e.activeUser(t, "member@example.com", core.RoleMember)
	rec := &recordingStore{Store: e.store}
	svc, err := core.NewService(core.Config{}, core.Deps{Store: rec, Clock: e.clock, Hasher: fastHasher})
	if err != nil {
		t.Fatal(err)
	}
	svc.SetSignInPolicy(core.DefaultOrg, &core.SignInPolicy{PasswordLogin: false, BreakGlassOwners: []string{"root@example.com"}})
	for _, login := range []string{"root@example.com", "member@example.com"} {
		if err := svc.RequestPasswordReset(e.ctx, e.org, login, ""); err != nil {
			t.Fatalf("%s: %v", login, err)
		}
	}
	rec.ops = nil
	if n, err := svc.ProcessPasswordResetRequests(e.ctx); err != nil || n != 2 {
		t.Fatalf("process: %d %v", n, err)
	}
	mails := 0
	for _, op := range rec.ops {
		if op == "InsertMail" {
			mails++
		}
	}
	if mails != 1 {
		t.Fatalf("%d reset mails, want 1 (the break-glass owner's)", mails)
	}
}
