package core_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
)

// countingDirectory counts binds.
type countingDirectory struct {
	password string
	binds    atomic.Int64
}

func (c *countingDirectory) Authenticate(_ context.Context, _ *core.User, pw string) (bool, error) {
	c.binds.Add(1)
	return pw == c.password, nil
}

// A locked, disabled, inactive or archived account answers any password as
// a wrong one: same error, no directory bind, the same hashing work as an
// unknown username, nothing counted, nothing recorded.
func TestAccountThatCannotLogInIsNoPasswordOracle(t *testing.T) {
	e := newEnv(t)
	dir := &countingDirectory{password: "dir-secret-pw"}
	e.svc.RegisterDirectoryAuthenticator("ldap:corp", dir)
	ldap := core.Actor{Kind: core.ActorLDAP, Name: "corp", Source: "ldap:corp"}
	lock := func(id string) {
		for i := 0; i < 10; i++ {
			u, _ := e.svc.GetUser(e.ctx, e.org, id)
			_, _ = e.login(u.Username, "wrong-password", core.AudienceConsole)
		}
	}
	mk := func(name string, directory bool) (string, string) {
		if directory {
			c, err := e.svc.CreateUser(e.ctx, ldap, core.NewUser{OrgID: e.org, Username: name, Email: name, ExternalID: name, Invite: core.NoInvite})
			if err != nil {
				t.Fatal(err)
			}
			return c.User.ID, dir.password
		}
		return e.activeUser(t, name, core.RoleMember).ID, goodPW
	}
	type setup func(id string)
	status := func(acts ...core.Action) setup {
		return func(id string) {
			for _, a := range acts {
				if _, err := e.svc.ChangeStatus(e.ctx, admin, e.org, id, a); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	idle := func(string) {
		e.clock.Advance(100 * 24 * time.Hour)
		if _, err := e.svc.RunDormancy(e.ctx); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		name      string
		directory bool
		setup     setup
		want      core.Status
	}{
		{"locked", false, lock, core.StatusLocked},
		{"locked directory user", true, lock, core.StatusLocked},
		{"disabled", false, status(core.ActDisable), core.StatusDisabled},
		{"disabled directory user", true, status(core.ActDisable), core.StatusDisabled},
		{"archived", false, status(core.ActArchive), core.StatusArchived},
		{"inactive", false, idle, core.StatusInactive},
		{"inactive directory user", true, idle, core.StatusInactive},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			name := fmt.Sprintf("oracle-%d@example.com", i)
			id, right := mk(name, tc.directory)
			tc.setup(id)
			before, _ := e.svc.GetUser(e.ctx, e.org, id)
			if before.Status != tc.want {
				t.Fatalf("status %s, want %s", before.Status, tc.want)
			}
			hist := len(e.history(t, id))
			binds := dir.binds.Load()
			ch := &countingHasher{PasswordHasher: fastHasher}
			svc, _ := core.NewService(core.Config{}, core.Deps{Store: e.store, Clock: e.clock, Hasher: ch})
			svc.RegisterDirectoryAuthenticator("ldap:corp", dir)
			var errs []string
			for _, pw := range []string{right, "wrong-password", right} {
				ch.verifies = 0
				_, err := svc.Login(e.ctx, core.LoginInput{Org: core.DefaultOrg, Username: name, Password: pw, Audience: core.AudienceConsole})
				var le *core.LoginError
				if !errors.As(err, &le) {
					t.Fatalf("login with %q: %v", pw, err)
				}
				errs = append(errs, le.Error())
				if ch.verifies != 1 {
					t.Errorf("login verified %d hashes, want 1 (an unknown username's work)", ch.verifies)
				}
			}
			for _, m := range errs {
				if m != "invalid username or password" {
					t.Errorf("answers %q: the status shows", errs)
				}
			}
			if n := dir.binds.Load() - binds; n != 0 {
				t.Errorf("%d directory binds for a user who cannot log in", n)
			}
			after, _ := e.svc.GetUser(e.ctx, e.org, id)
			if after.Status != tc.want || after.UpdatedAt != before.UpdatedAt {
				t.Errorf("the attempts changed the user: %s, updated %v -> %v", after.Status, before.UpdatedAt, after.UpdatedAt)
			}
			if n := len(e.history(t, id)); n != hist {
				t.Errorf("the attempts wrote %d history entries", n-hist)
			}
		})
	}
}

// Changing one's password ends every other session, in every audience,
// and keeps the one that changed it; an admin reassigning it ends all.
func TestPasswordChangesEndSessions(t *testing.T) {
	e := newEnv(t)
	u := e.activeUser(t, "sess@example.com", core.RoleMember)
	open := func() []string {
		var toks []string
		for _, aud := range []core.Audience{core.AudienceConsole, core.AudienceConsole, core.AudienceCatalog} {
			r, err := e.login(u.Username, currentPW, aud)
			if err != nil {
				t.Fatal(err)
			}
			toks = append(toks, r.Token)
		}
		return toks
	}
	alive := func(tok string) bool {
		_, err := e.svc.AuthenticateSessionForPasswordChange(e.ctx, tok)
		return err == nil
	}
	currentPW = goodPW
	toks := open()
	p, err := e.svc.AuthenticateSession(e.ctx, toks[0])
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ChangePassword(e.ctx, p, goodPW, "Brand-new-passphrase-9"); err != nil {
		t.Fatal(err)
	}
	currentPW = "Brand-new-passphrase-9"
	for i, want := range []bool{true, false, false} {
		if alive(toks[i]) != want {
			t.Errorf("after a change of password, session %d alive=%v, want %v", i, !want, want)
		}
	}
	toks = open()
	if err := e.svc.SetPassword(e.ctx, admin, e.org, u.ID, "Reassigned-passphrase-3"); err != nil {
		t.Fatal(err)
	}
	for i, tok := range toks {
		if alive(tok) {
			t.Errorf("after an admin reassigned the password, session %d survived", i)
		}
	}
}

var currentPW string

// A session whose password must be changed authenticates only for the
// change (AuthenticateSessionForPasswordChange), until it is changed.
func TestForcedPasswordChangeRestrictsTheSession(t *testing.T) {
	e := newEnv(t)
	u := e.activeUser(t, "forced@example.com", core.RoleAdmin)
	if err := e.svc.SetPassword(e.ctx, admin, e.org, u.ID, "Reassigned-passphrase-3"); err != nil {
		t.Fatal(err)
	}
	r, err := e.login(u.Username, "Reassigned-passphrase-3", core.AudienceConsole)
	if err != nil || !r.User.MustChangePassword {
		t.Fatalf("login: %v %+v", err, r)
	}
	var pce *core.PasswordChangeRequiredError
	if _, err := e.svc.AuthenticateSession(e.ctx, r.Token); !errors.As(err, &pce) || !errors.Is(err, core.ErrForbidden) {
		t.Fatalf("a session that must change its password authenticated: %v", err)
	}
	p, err := e.svc.AuthenticateSessionForPasswordChange(e.ctx, r.Token)
	if err != nil || !p.PasswordChangeRequired() {
		t.Fatalf("for the change: %v", err)
	}
	if err := e.svc.ChangePassword(e.ctx, p, "Reassigned-passphrase-3", "Chosen-passphrase-8"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateSession(e.ctx, r.Token); err != nil {
		t.Fatalf("after the change: %v", err)
	}
	// An expired password flags the next login the same way.
	if err := e.svc.SetPasswordPolicy(e.ctx, core.CLIActor(), e.org, core.PasswordPolicy{MinLength: 10, ExpiryDaysAdmins: 30}); err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(31 * 24 * time.Hour)
	r, err = e.login(u.Username, "Chosen-passphrase-8", core.AudienceConsole)
	if err != nil || !r.User.MustChangePassword {
		t.Fatalf("login with an expired password: %v", err)
	}
	if _, err := e.svc.AuthenticateSession(e.ctx, r.Token); !errors.As(err, &pce) {
		t.Fatalf("expired password: %v", err)
	}
}

// Disabling or archiving a user revokes their admin tokens for good; a lock
// or dormancy only suspends them.
func TestDisablingRevokesAdminTokens(t *testing.T) {
	e := newEnv(t)
	works := func(secret string) bool {
		_, err := e.svc.AuthenticateAdminToken(e.ctx, secret)
		return err == nil
	}
	for _, tc := range []struct {
		name    string
		off, on core.Action
		revoked bool
	}{
		{"disable", core.ActDisable, core.ActEnable, true},
		{"archive", core.ActArchive, core.ActRestore, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			u := e.activeUser(t, tc.name+"-tok@example.com", core.RoleAdmin)
			secret, tok, err := e.svc.CreateToken(e.ctx, core.CLIActor(), e.org, "automation "+tc.name, core.ScopeAdmin, u.ID)
			if err != nil || !works(secret) {
				t.Fatalf("token: %v", err)
			}
			if _, err := e.svc.ChangeStatus(e.ctx, admin, e.org, u.ID, tc.off); err != nil {
				t.Fatal(err)
			}
			if _, err := e.svc.ChangeStatus(e.ctx, admin, e.org, u.ID, tc.on); err != nil {
				t.Fatal(err)
			}
			if got, _ := e.svc.GetUser(e.ctx, e.org, u.ID); got.Status != core.StatusActive {
				t.Fatalf("status %s", got.Status)
			}
			if works(secret) {
				t.Fatalf("the token works again after %s and %s", tc.off, tc.on)
			}
			ts, _ := e.svc.ListTokens(e.ctx, admin, e.org)
			for _, x := range ts {
				if x.ID == tok.ID && x.RevokedAt == nil {
					t.Fatal("the token is not marked revoked")
				}
			}
		})
	}
	// A lock suspends: an unlock brings the token back.
	u := e.activeUser(t, "lock-tok@example.com", core.RoleAdmin)
	secret, _, _ := e.svc.CreateToken(e.ctx, core.CLIActor(), e.org, "automation lock", core.ScopeAdmin, u.ID)
	for i := 0; i < 10; i++ {
		_, _ = e.login(u.Username, "wrong-password", core.AudienceConsole)
	}
	if works(secret) {
		t.Fatal("a locked user's token works")
	}
	if _, err := e.svc.ChangeStatus(e.ctx, admin, e.org, u.ID, core.ActUnlock); err != nil {
		t.Fatal(err)
	}
	if !works(secret) {
		t.Fatal("an unlocked user's token stays suspended")
	}
}

// Ten wrong passwords lock an owner as anyone else, but an owner's lock
// expires (Config.OwnerLockExpiry, 15 minutes by default) and another owner
// may lift it; an admin may not, and other users' locks do not expire.
func TestOwnerLockoutLeavesAWayBack(t *testing.T) {
	e := newEnv(t)
	owner := e.activeUser(t, "boss@example.com", core.RoleOwner)
	other := e.activeUser(t, "boss2@example.com", core.RoleOwner)
	member := e.activeUser(t, "m@example.com", core.RoleMember)
	lock := func(u *core.UserView) {
		for i := 0; i < 10; i++ {
			_, _ = e.login(u.Username, "wrong-password", core.AudienceConsole)
		}
		if got, _ := e.svc.GetUser(e.ctx, e.org, u.ID); got.Status != core.StatusLocked || got.LockedAt == nil {
			t.Fatalf("%s: %s after 10 failures", u.Username, got.Status)
		}
	}
	lock(owner)
	lock(member)
	if _, err := e.login(owner.Username, goodPW, core.AudienceConsole); err == nil {
		t.Fatal("a freshly locked owner logged in")
	}
	e.clock.Advance(14 * time.Minute)
	if _, err := e.login(owner.Username, goodPW, core.AudienceConsole); err == nil {
		t.Fatal("the owner's lock lifted before 15 minutes")
	}
	e.clock.Advance(time.Minute)
	if _, err := e.login(owner.Username, goodPW, core.AudienceConsole); err != nil {
		t.Fatalf("the owner's lock did not expire after 15 minutes: %v", err)
	}
	found := false
	for _, h := range e.history(t, owner.ID) {
		if h.Action == "user.unlock" && h.ActorKind == core.ActorSystem && h.ActorName == "lock_expiry" {
			found = true
		}
	}
	if !found {
		t.Error("no history entry for the expired lock")
	}
	e.clock.Advance(24 * time.Hour)
	if _, err := e.login(member.Username, goodPW, core.AudienceConsole); err == nil {
		t.Fatal("a member's lock expired: only an admin unlocks members")
	}

	// The job lifts expired owner locks without a login.
	lock(owner)
	if n, err := e.svc.ExpireOwnerLocks(e.ctx); err != nil || n != 0 {
		t.Fatalf("job before expiry: %d %v", n, err)
	}
	e.clock.Advance(15 * time.Minute)
	if n, err := e.svc.ExpireOwnerLocks(e.ctx); err != nil || n != 1 {
		t.Fatalf("job after expiry: %d %v", n, err)
	}

	// Another owner may unlock an owner at once; an admin may not.
	lock(owner)
	adminActor := core.Actor{Kind: core.ActorAdmin, ID: "adm", Name: "adm", Role: core.RoleAdmin}
	if _, err := e.svc.ChangeStatus(e.ctx, adminActor, e.org, owner.ID, core.ActUnlock); !errors.Is(err, core.ErrForbidden) {
		t.Fatalf("an admin unlocked an owner: %v", err)
	}
	ownerActor := core.Actor{Kind: core.ActorAdmin, ID: other.ID, Name: other.Username, Role: core.RoleOwner}
	if _, err := e.svc.ChangeStatus(e.ctx, ownerActor, e.org, owner.ID, core.ActUnlock); err != nil {
		t.Fatalf("another owner could not unlock: %v", err)
	}
	if got, _ := e.svc.GetUser(e.ctx, e.org, owner.ID); got.Status != core.StatusActive || got.LockedAt != nil {
		t.Fatalf("after unlock: %s %v", got.Status, got.LockedAt)
	}
	// The operator on the host may unlock anyone (roster user unlock).
	lock(owner)
	if _, err := e.svc.ChangeStatus(e.ctx, core.CLIActor(), e.org, owner.ID, core.ActUnlock); err != nil {
		t.Fatalf("the CLI could not unlock: %v", err)
	}
}
