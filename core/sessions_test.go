package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
)

const goodPW = "Tr0ub4dor&3-horse"

func (e *env) activeUser(t *testing.T, username string, role core.Role) *core.UserView {
	t.Helper()
	c, err := e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: e.org, Username: username, Email: username, Role: role, Invite: core.NoInvite, Password: goodPW})
	if err != nil {
		t.Fatalf("create %s: %v", username, err)
	}
	return c.User
}

func (e *env) login(username, pw string, aud core.Audience) (*core.LoginResult, error) {
	return e.svc.Login(e.ctx, core.LoginInput{Org: core.DefaultOrg, Username: username, Password: pw, Audience: aud})
}

func TestLoginLockoutAfterTenFailures(t *testing.T) {
	e := newEnv(t)
	u := e.activeUser(t, "l@example.com", core.RoleMember)
	// Nine failures, then a success, reset the count.
	for i := 0; i < 9; i++ {
		if _, err := e.login("l@example.com", "wrong-password", core.AudienceConsole); !errors.Is(err, core.ErrUnauthorized) || err.Error() != "invalid username or password" {
			t.Fatalf("failure %d: %v", i+1, err)
		}
	}
	if _, err := e.login("L@EXAMPLE.com", goodPW, core.AudienceConsole); err != nil {
		t.Fatalf("login after 9 failures: %v", err)
	}
	for i := 0; i < 9; i++ {
		_, _ = e.login("l@example.com", "wrong-password", core.AudienceConsole)
	}
	if got, _ := e.svc.GetUser(e.ctx, e.org, u.ID); got.Status != core.StatusActive {
		t.Fatalf("locked after 9 failures following a success: %s", got.Status)
	}
	_, _ = e.login("l@example.com", "wrong-password", core.AudienceConsole)
	got, _ := e.svc.GetUser(e.ctx, e.org, u.ID)
	if got.Status != core.StatusLocked {
		t.Fatalf("status after 10 consecutive failures: %s", got.Status)
	}
	actions := map[string]int{}
	for _, h := range e.history(t, u.ID) {
		actions[h.Action]++
		if h.Action == "user.lock" && h.ActorKind != core.ActorSystem {
			t.Fatalf("lock by %s", h.ActorKind)
		}
	}
	// Two bursts (1st and 5th failure each), the lock, and the session it revoked.
	if actions["user.login_failed"] != 4 || actions["user.lock"] != 1 || actions["user.sessions_revoked"] != 1 {
		t.Fatalf("history actions: %v", actions)
	}
	// The right password no longer helps, and says nothing more than a wrong one.
	_, err := e.login("l@example.com", goodPW, core.AudienceConsole)
	var le *core.LoginError
	if !errors.As(err, &le) || le.Reason != "invalid username or password" {
		t.Fatalf("login of a locked user: %v", err)
	}
	// An admin unlocks and reassigns a password, which must be changed at next login.
	if _, err := e.svc.ChangeStatus(e.ctx, admin, e.org, u.ID, core.ActUnlock); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.SetPassword(e.ctx, admin, e.org, u.ID, "N3w-assigned-secret"); err != nil {
		t.Fatal(err)
	}
	res, err := e.login("l@example.com", "N3w-assigned-secret", core.AudienceConsole)
	if err != nil || !res.User.MustChangePassword {
		t.Fatalf("login with assigned password: %v %+v", err, res)
	}
	p, err := e.svc.AuthenticateSessionForPasswordChange(e.ctx, res.Token)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ChangePassword(e.ctx, p, "N3w-assigned-secret", "An0ther-good-secret"); err != nil {
		t.Fatal(err)
	}
	res, _ = e.login("l@example.com", "An0ther-good-secret", core.AudienceConsole)
	if res == nil || res.User.MustChangePassword {
		t.Fatal("forced change not cleared")
	}
}

func TestLoginRefusals(t *testing.T) {
	e := newEnv(t)
	e.activeUser(t, "r@example.com", core.RoleMember)
	pending := e.create(t, "p@example.com", core.InviteByLink).User
	dis := e.activeUser(t, "d@example.com", core.RoleMember)
	if _, err := e.svc.ChangeStatus(e.ctx, admin, e.org, dis.ID, core.ActDisable); err != nil {
		t.Fatal(err)
	}
	_ = pending
	tests := []struct {
		name, user, pw string
		aud            core.Audience
		want           string
	}{
		{"unknown user says nothing about existence", "ghost@example.com", goodPW, core.AudienceConsole, "invalid username or password"},
		{"wrong password", "r@example.com", "nope-nope", core.AudienceConsole, "invalid username or password"},
		{"empty password", "r@example.com", "", core.AudienceConsole, "invalid username or password"},
		// An invited user has no password yet: nobody can prove to know it,
		// so nobody learns that the account exists.
		{"invited user", "p@example.com", goodPW, core.AudienceConsole, "invalid username or password"},
		// A disabled account is no password oracle: the right password gets a wrong one's answer.
		{"disabled user", "d@example.com", goodPW, core.AudienceConsole, "invalid username or password"},
		{"disabled user, wrong password says nothing", "d@example.com", "nope-nope", core.AudienceConsole, "invalid username or password"},
		{"bad audience", "r@example.com", goodPW, "mobile", "audience"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := e.login(tt.user, tt.pw, tt.aud)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want %q", err, tt.want)
			}
		})
	}
}

func TestLogoutEndsOnlyThatAudience(t *testing.T) {
	e := newEnv(t)
	e.activeUser(t, "s@example.com", core.RoleMember)
	c1, _ := e.login("s@example.com", goodPW, core.AudienceConsole)
	c2, _ := e.login("s@example.com", goodPW, core.AudienceConsole)
	k1, _ := e.login("s@example.com", goodPW, core.AudienceCatalog)
	if c1 == nil || c2 == nil || k1 == nil {
		t.Fatal("logins failed")
	}
	if err := e.svc.Logout(e.ctx, c1.Token); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		tok   string
		alive bool
	}{{c1.Token, false}, {c2.Token, false}, {k1.Token, true}} {
		_, err := e.svc.AuthenticateSession(e.ctx, tc.tok)
		if (err == nil) != tc.alive {
			t.Fatalf("session alive=%v, want %v", err == nil, tc.alive)
		}
	}
	// Sessions expire.
	e.clock.Advance(13 * time.Hour)
	if _, err := e.svc.AuthenticateSession(e.ctx, k1.Token); !errors.Is(err, core.ErrUnauthorized) {
		t.Fatalf("expired session accepted: %v", err)
	}
	if n, err := e.svc.PurgeExpiredSessions(e.ctx); err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
}

func TestPasswordPolicyAndExpiry(t *testing.T) {
	e := newEnv(t)
	pol := core.PasswordPolicy{MinLength: 12, RequireUpper: true, RequireDigit: true, RequireSymbol: true, ExpiryDaysAdmins: 30, ExpiryDaysUsers: 90}
	if err := e.svc.SetPasswordPolicy(e.ctx, admin, e.org, core.PasswordPolicy{MinLength: 4}); err == nil || !strings.Contains(err.Error(), "min_length") {
		t.Fatalf("weak policy accepted: %v", err)
	}
	// The administrators' expiry is the operator's: an admin is refused,
	// naming the field and who may; the operator sets it.
	var fe *core.ForbiddenError
	if err := e.svc.SetPasswordPolicy(e.ctx, admin, e.org, pol); !errors.As(err, &fe) || fe.Field != "expiry_days_admins" || !strings.Contains(fe.Reason, "roster org set") {
		t.Fatalf("an admin setting expiry_days_admins: %v", err)
	}
	if err := e.svc.SetPasswordPolicy(e.ctx, core.CLIActor(), e.org, pol); err != nil {
		t.Fatal(err)
	}
	// Sent back unchanged, the admins' expiry does not stand in an admin's way.
	pol.ExpiryDaysUsers = 91
	if err := e.svc.SetPasswordPolicy(e.ctx, admin, e.org, pol); err != nil {
		t.Fatalf("an admin sending the expiry in force: %v", err)
	}
	pol.ExpiryDaysUsers = 90
	if err := e.svc.SetPasswordPolicy(e.ctx, admin, e.org, pol); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ pw, want string }{
		{"Short1!", "at least 12"},
		{"alllowercase-but-long1", "upper-case"},
		{"NoDigitsHere-at-all", "digit"},
		{"NoSymbolsHere1234", "symbol"},
		{"Password123!", "common password"}, // length 12 with all classes: fine by policy, but known to be weak
		{"Blue-Harbour-77", ""},
	} {
		_, err := e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: e.org, Username: "u" + tt.pw[:3], Invite: core.NoInvite, Password: tt.pw})
		if tt.want == "" {
			if err != nil {
				t.Errorf("%q refused: %v", tt.pw, err)
			}
			continue
		}
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("%q: got %v, want %q", tt.pw, err, tt.want)
		}
	}
	if err := core.DefaultPasswordPolicy.Check("password123", nil); err == nil || !strings.Contains(err.Error(), "common password") {
		t.Fatalf("common password: %v", err)
	}
	if err := core.DefaultPasswordPolicy.Check("alice-is-great-123", &core.User{Username: "Alice@example.com"}); err == nil || !strings.Contains(err.Error(), "username") {
		t.Fatalf("password containing the username: %v", err)
	}
	// Expiry differs for admins and users.
	adm, err := e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: e.org, Username: "a@example.com", Email: "a@example.com", Role: core.RoleAdmin, Invite: core.NoInvite, Password: "Adm1n-passphrase!"})
	if err != nil {
		t.Fatal(err)
	}
	_, err = e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: e.org, Username: "m@example.com", Email: "m@example.com", Invite: core.NoInvite, Password: "Memb3r-passphrase!"})
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(31 * 24 * time.Hour)
	ra, err := e.login("a@example.com", "Adm1n-passphrase!", core.AudienceConsole)
	if err != nil || !ra.User.MustChangePassword {
		t.Fatalf("admin password older than 30 days not flagged: %v", err)
	}
	rm, err := e.login("m@example.com", "Memb3r-passphrase!", core.AudienceConsole)
	if err != nil || rm.User.MustChangePassword {
		t.Fatalf("member password of 31 days flagged: %v", err)
	}
	_ = adm
}

func TestDormancyMarksIdleUsersAndEndsSessions(t *testing.T) {
	e := newEnv(t)
	idle := e.activeUser(t, "idle@example.com", core.RoleMember)
	busy := e.activeUser(t, "busy@example.com", core.RoleMember)
	never := e.activeUser(t, "never@example.com", core.RoleMember)
	invited := e.create(t, "inv@example.com", core.InviteByLink).User
	sess, _ := e.login("idle@example.com", goodPW, core.AudienceCatalog)
	e.clock.Advance(60 * 24 * time.Hour)
	if _, err := e.login("busy@example.com", goodPW, core.AudienceConsole); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(31 * 24 * time.Hour) // idle: 91 days; busy: 31 days
	n, err := e.svc.RunDormancy(e.ctx)
	if err != nil || n != 2 {
		t.Fatalf("dormancy marked %d (%v), want 2 (idle and never)", n, err)
	}
	for _, tc := range []struct {
		id   string
		want core.Status
	}{{idle.ID, core.StatusInactive}, {never.ID, core.StatusInactive}, {busy.ID, core.StatusActive}, {invited.ID, core.StatusInvited}} {
		if got, _ := e.svc.GetUser(e.ctx, e.org, tc.id); got.Status != tc.want {
			t.Errorf("%s: %s, want %s", got.Username, got.Status, tc.want)
		}
	}
	if _, err := e.svc.AuthenticateSession(context.Background(), sess.Token); !errors.Is(err, core.ErrUnauthorized) {
		t.Fatal("a dormant user's session survived")
	}
	if _, err := e.login("idle@example.com", goodPW, core.AudienceConsole); err == nil || err.Error() != "invalid username or password" {
		t.Fatalf("inactive user logged in: %v", err)
	}
	if n, _ := e.svc.RunDormancy(e.ctx); n != 0 {
		t.Fatalf("second run marked %d", n)
	}
}

type fakeDirectory struct{ password string }

func (f fakeDirectory) Authenticate(_ context.Context, _ *core.User, pw string) (bool, error) {
	return pw == f.password, nil
}

func TestDirectoryUsersLogInThroughTheirDirectoryWithTheSameRules(t *testing.T) {
	e := newEnv(t)
	ldap := core.Actor{Kind: core.ActorLDAP, Name: "corp", Source: "ldap:corp"}
	c, err := e.svc.CreateUser(e.ctx, ldap, core.NewUser{OrgID: e.org, Username: "dir@example.com", Email: "dir@example.com", ExternalID: "x1", Invite: core.NoInvite})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.login("dir@example.com", "dir-secret", core.AudienceConsole); !errors.Is(err, core.ErrUnauthorized) {
		t.Fatalf("login without a registered directory: %v", err)
	}
	e.svc.RegisterDirectoryAuthenticator("ldap:corp", fakeDirectory{password: "dir-secret"})
	if _, err := e.login("dir@example.com", "dir-secret", core.AudienceConsole); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 10; i++ {
		_, _ = e.login("dir@example.com", "wrong", core.AudienceConsole)
	}
	if got, _ := e.svc.GetUser(e.ctx, e.org, c.User.ID); got.Status != core.StatusLocked {
		t.Fatalf("directory user not locked after 10 failures: %s", got.Status)
	}
}

// countingHasher counts verifications, to show that a login for an unknown
// username does the same hashing work as one for a known username.
type countingHasher struct {
	core.PasswordHasher
	verifies int
}

func (c *countingHasher) Verify(hash, pw string) (bool, error) {
	c.verifies++
	return c.PasswordHasher.Verify(hash, pw)
}

func TestUnknownUsernameCostsTheSameHashingWork(t *testing.T) {
	e := newEnv(t)
	e.activeUser(t, "known@example.com", core.RoleMember)
	ch := &countingHasher{PasswordHasher: fastHasher}
	svc, _ := core.NewService(core.Config{}, core.Deps{Store: e.store, Clock: e.clock, Hasher: ch})
	for _, tc := range []struct{ user, pw string }{
		{"known@example.com", "wrong-password"},
		{"unknown@example.com", "wrong-password"},
		{"known@example.com", goodPW},
	} {
		ch.verifies = 0
		_, _ = svc.Login(e.ctx, core.LoginInput{Org: core.DefaultOrg, Username: tc.user, Password: tc.pw, Audience: core.AudienceConsole})
		if ch.verifies != 1 {
			t.Errorf("login %s/%s verified %d hashes, want exactly 1", tc.user, tc.pw, ch.verifies)
		}
	}
}

func TestDormancyAtTheBoundary(t *testing.T) {
	e := newEnv(t)
	u := e.activeUser(t, "edge@example.com", core.RoleMember)
	if _, err := e.login("edge@example.com", goodPW, core.AudienceConsole); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(90 * 24 * time.Hour) // exactly the dormancy period
	if n, _ := e.svc.RunDormancy(e.ctx); n != 0 {
		t.Fatalf("marked inactive at exactly 90 days")
	}
	e.clock.Advance(time.Microsecond)
	if n, _ := e.svc.RunDormancy(e.ctx); n != 1 {
		t.Fatalf("not marked inactive just after 90 days")
	}
	if got, _ := e.svc.GetUser(e.ctx, e.org, u.ID); got.Status != core.StatusInactive {
		t.Fatalf("status %s", got.Status)
	}
}
