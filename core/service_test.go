package core_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/testkit/rostertest"
)

type env struct {
	svc   *core.Service
	store *store.Store
	clock *rostertest.Clock
	org   string
	ctx   context.Context
}

// fastHasher keeps argon2id but cheap, so tests stay quick.
var fastHasher = rostertest.Hasher

// newEnv opens a fresh, migrated database and a service over it: a SQLite
// file, or, when the suite runs again on PostgreSQL (TestSuiteOnPostgres),
// a new PostgreSQL database.
func newEnv(t *testing.T) *env {
	t.Helper()
	e := rostertest.New(t)
	return &env{svc: e.Svc, store: e.Store, clock: e.Clock, org: e.OrgID, ctx: e.Ctx}
}

var admin = core.Actor{Kind: core.ActorAdmin, ID: "admin-1", Name: "root@example.com", Role: core.RoleOwner}

func (e *env) create(t *testing.T, username string, mode core.InviteMode) *core.Created {
	t.Helper()
	c, err := e.svc.CreateUser(e.ctx, admin, core.NewUser{OrgID: e.org, Username: username, Email: username, FirstName: "F", LastName: "L", Invite: mode})
	if err != nil {
		t.Fatalf("create %s: %v", username, err)
	}
	return c
}

func (e *env) history(t *testing.T, id string) []core.HistoryEntry {
	t.Helper()
	h, err := e.svc.History(e.ctx, e.org, id)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (e *env) countHistory(t *testing.T) int {
	t.Helper()
	n := 0
	err := e.store.View(e.ctx, func(tx core.Tx) error {
		us, err := tx.ListUsers(e.ctx, core.UserQuery{OrgID: e.org})
		if err != nil {
			return err
		}
		for _, u := range us {
			h, err := tx.ListHistory(e.ctx, e.org, u.ID)
			if err != nil {
				return err
			}
			n += len(h)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestCreateUserWritesUserHistoryAndInvite(t *testing.T) {
	e := newEnv(t)
	c := e.create(t, "alice@example.com", core.InviteByLink)
	u := c.User
	if u.Status != core.StatusInvited || u.InviteStatus != core.InvitePending || u.Source != core.SourceNative || u.FullName != "F L" {
		t.Fatalf("unexpected new user %+v", u)
	}
	if !strings.HasPrefix(c.InviteToken, core.PrefixInvite) || len(c.InviteToken) < 40 {
		t.Fatalf("invite token %q is not a 256-bit token", c.InviteToken)
	}
	h := e.history(t, u.ID)
	if len(h) != 2 || h[0].Action != "user.create" || h[1].Action != "invite.issue" || h[0].ActorName != admin.Name {
		t.Fatalf("history = %+v", h)
	}
	// The raw token is stored nowhere: only its hash finds the invite.
	err := e.store.View(e.ctx, func(tx core.Tx) error {
		if _, err := tx.InviteByTokenHash(e.ctx, c.InviteToken); !errors.Is(err, core.ErrNotFound) {
			t.Errorf("invite found by raw token: %v", err)
		}
		_, err := tx.InviteByTokenHash(e.ctx, core.HashSecret(c.InviteToken))
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
}

func TestCreateUserRejectsBadInputAndWritesNothing(t *testing.T) {
	e := newEnv(t)
	e.create(t, "Zoë@example.com", core.InviteByLink)
	before := e.countHistory(t)
	tests := []struct {
		name  string
		in    core.NewUser
		field string
		is    error
	}{
		{"duplicate username, other case", core.NewUser{Username: "zoË@example.com", Email: "z2@example.com"}, "username", core.ErrConflict},
		{"duplicate username, decomposed", core.NewUser{Username: "zoe\u0308@EXAMPLE.com", Email: "z3@example.com"}, "username", core.ErrConflict},
		{"duplicate email", core.NewUser{Username: "zoe2", Email: "ZOË@example.com"}, "email", core.ErrConflict},
		{"admin without email", core.NewUser{Username: "boss", Role: core.RoleAdmin, Invite: core.InviteByLink}, "email", core.ErrInvalid},
		{"mail invite without email", core.NewUser{Username: "noemail", Invite: core.InviteByMail}, "email", core.ErrInvalid},
		{"invalid email", core.NewUser{Username: "x", Email: "x@", Invite: core.InviteByLink}, "email", core.ErrInvalid},
		{"too long last name", core.NewUser{Username: "x", Email: "x@example.com", LastName: strings.Repeat("é", 129)}, "last_name", core.ErrInvalid},
		{"unknown role", core.NewUser{Username: "x", Email: "x@example.com", Role: "root"}, "role", core.ErrInvalid},
		{"metadata not in template", core.NewUser{Username: "x", Email: "x@example.com", Metadata: map[string]string{"team": "a"}}, "metadata.team", core.ErrInvalid},
		{"unknown org", core.NewUser{OrgID: "nope", Username: "x", Email: "x@example.com"}, "", core.ErrNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := tt.in
			if in.OrgID == "" {
				in.OrgID = e.org
			}
			_, err := e.svc.CreateUser(e.ctx, admin, in)
			if !errors.Is(err, tt.is) {
				t.Fatalf("got %v, want %v", err, tt.is)
			}
			if tt.field != "" && !strings.Contains(err.Error(), tt.field+":") {
				t.Fatalf("error %q does not name field %s", err, tt.field)
			}
		})
	}
	users, _ := e.svc.ListUsers(e.ctx, core.UserQuery{OrgID: e.org})
	if len(users) != 1 {
		t.Fatalf("%d users after rejected creates, want 1", len(users))
	}
	if after := e.countHistory(t); after != before {
		t.Fatalf("history grew from %d to %d on rejected creates", before, after)
	}
}

func TestFailedChangeLeavesNoHistory(t *testing.T) {
	e := newEnv(t)
	u := e.create(t, "a@example.com", core.NoInvite).User
	e.create(t, "b@example.com", core.NoInvite)
	n := len(e.history(t, u.ID))
	// The store's unique index refuses the rename half-way through the transaction.
	dup := "b@example.com"
	ldapActor := core.Actor{Kind: core.ActorLDAP, Source: core.SourceNative} // acts as the user's own source
	if _, err := e.svc.UpdateUser(e.ctx, ldapActor, e.org, u.ID, core.UserChanges{Email: &dup}); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("got %v, want conflict", err)
	}
	if got := len(e.history(t, u.ID)); got != n {
		t.Fatalf("history has %d entries after a failed change, want %d", got, n)
	}
	// And a failure inside the transaction after the history write rolls both back.
	boom := errors.New("boom")
	err := e.store.InTx(e.ctx, func(tx core.Tx) error {
		if err := tx.InsertHistory(e.ctx, &core.HistoryEntry{OrgID: e.org, At: time.Now(), ActorKind: core.ActorSystem, Action: "x", TargetType: "user", TargetID: u.ID}); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatal(err)
	}
	if got := len(e.history(t, u.ID)); got != n {
		t.Fatalf("history has %d entries after a rolled-back transaction, want %d", got, n)
	}
}

func TestAdminCannotEditUsernameOrEmailButTheDirectoryCan(t *testing.T) {
	e := newEnv(t)
	nu := core.NewUser{OrgID: e.org, Username: "dir@example.com", Email: "dir@example.com", FirstName: "Dee", ExternalID: "uuid-1", Invite: core.NoInvite}
	scim := core.Actor{Kind: core.ActorSCIM, Name: "okta", Source: "scim:okta"}
	dirUser, err := e.svc.CreateUser(e.ctx, scim, nu)
	if err != nil {
		t.Fatal(err)
	}
	native := e.create(t, "nat@example.com", core.NoInvite).User
	s := func(v string) *string { return &v }
	tests := []struct {
		name   string
		actor  core.Actor
		id     string
		ch     core.UserChanges
		errSub string // "" = allowed
	}{
		{"admin renames native user", admin, native.ID, core.UserChanges{Username: s("n2@example.com")}, "username: cannot be edited by an admin"},
		{"admin changes native email", admin, native.ID, core.UserChanges{Email: s("n2@example.com")}, "email: cannot be edited by an admin"},
		{"admin changes native first name", admin, native.ID, core.UserChanges{FirstName: s("Nat")}, ""},
		{"admin changes directory user's first name", admin, dirUser.User.ID, core.UserChanges{FirstName: s("D")}, "first_name: is managed by the user's directory (scim:okta)"},
		{"admin changes directory user's role", admin, dirUser.User.ID, core.UserChanges{Role: func() *core.Role { r := core.RoleDeveloper; return &r }()}, ""},
		{"directory renames its user", scim, dirUser.User.ID, core.UserChanges{Username: s("dee@example.com"), Email: s("dee@example.com")}, ""},
		{"another directory may not touch it", core.Actor{Kind: core.ActorSCIM, Source: "scim:entra"}, dirUser.User.ID, core.UserChanges{FirstName: s("X")}, "forbidden"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before, _ := e.svc.GetUser(e.ctx, e.org, tt.id)
			got, err := e.svc.UpdateUser(e.ctx, tt.actor, e.org, tt.id, tt.ch)
			if tt.errSub == "" {
				if err != nil {
					t.Fatal(err)
				}
				if tt.ch.Username != nil && got.Username != *tt.ch.Username {
					t.Fatalf("username not applied: %s", got.Username)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.errSub) {
				t.Fatalf("got %v, want %q", err, tt.errSub)
			}
			after, _ := e.svc.GetUser(e.ctx, e.org, tt.id)
			if after.UpdatedAt != before.UpdatedAt || after.Username != before.Username || after.FirstName != before.FirstName {
				t.Fatal("a refused update changed the user")
			}
		})
	}
	h := e.history(t, dirUser.User.ID)
	last := h[len(h)-1]
	if last.ActorKind != core.ActorSCIM || !strings.Contains(last.Before, "dir@example.com") || !strings.Contains(last.After, "dee@example.com") {
		t.Fatalf("rename by the directory not in history with before/after: %+v", last)
	}
}

func TestStatusChangesThroughTheService(t *testing.T) {
	e := newEnv(t)
	u := e.create(t, "s@example.com", core.NoInvite).User
	// A session that must end when the user can no longer log in.
	addSession := func(aud core.Audience) string {
		tok, _ := core.NewSecret(core.PrefixSession)
		err := e.store.InTx(e.ctx, func(tx core.Tx) error {
			return tx.InsertSession(e.ctx, &core.Session{ID: tok[5:20], OrgID: e.org, UserID: u.ID, TokenHash: core.HashSecret(tok), Audience: aud, CreatedAt: e.clock.Now(), ExpiresAt: e.clock.Now().Add(time.Hour)})
		})
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	sessionAlive := func(tok string) bool {
		alive := false
		_ = e.store.View(e.ctx, func(tx core.Tx) error {
			_, err := tx.SessionByTokenHash(e.ctx, core.HashSecret(tok))
			alive = err == nil
			return nil
		})
		return alive
	}
	steps := []struct {
		act      core.Action
		want     core.Status
		sessions bool // sessions survive
	}{
		{core.ActDisable, core.StatusDisabled, false},
		{core.ActEnable, core.StatusActive, true},
		{core.ActLock, core.StatusLocked, false},
		{core.ActUnlock, core.StatusActive, true},
		{core.ActMarkIdle, core.StatusInactive, false},
		{core.ActEnable, core.StatusActive, true},
		{core.ActArchive, core.StatusArchived, false},
		{core.ActRestore, core.StatusActive, true},
	}
	for _, st := range steps {
		tok1, tok2 := addSession(core.AudienceConsole), addSession(core.AudienceCatalog)
		got, err := e.svc.ChangeStatus(e.ctx, admin, e.org, u.ID, st.act)
		if err != nil {
			t.Fatalf("%s: %v", st.act, err)
		}
		if got.Status != st.want {
			t.Fatalf("%s: status %s, want %s", st.act, got.Status, st.want)
		}
		if sessionAlive(tok1) != st.sessions || sessionAlive(tok2) != st.sessions {
			t.Fatalf("%s: sessions alive = %v/%v, want %v", st.act, sessionAlive(tok1), sessionAlive(tok2), st.sessions)
		}
	}
	// An illegal transition is a typed error and changes nothing.
	n := len(e.history(t, u.ID))
	if _, err := e.svc.ChangeStatus(e.ctx, admin, e.org, u.ID, core.ActUnlock); !errors.Is(err, core.ErrTransition) {
		t.Fatalf("unlock an active user: got %v", err)
	}
	if len(e.history(t, u.ID)) != n {
		t.Fatal("refused transition wrote history")
	}
}

func TestDeleteOnlyNeverAcceptedElseArchive(t *testing.T) {
	e := newEnv(t)
	pending := e.create(t, "p@example.com", core.InviteByLink)
	active := e.create(t, "a@example.com", core.NoInvite).User
	if err := e.svc.DeleteUser(e.ctx, admin, e.org, pending.User.ID); err != nil {
		t.Fatalf("delete pending: %v", err)
	}
	if _, err := e.svc.GetUser(e.ctx, e.org, pending.User.ID); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("deleted user still there: %v", err)
	}
	if h := e.history(t, pending.User.ID); len(h) == 0 || h[len(h)-1].Action != "user.delete" {
		t.Fatal("delete not in history (history must outlive the user)")
	}
	err := e.svc.DeleteUser(e.ctx, admin, e.org, active.ID)
	if !errors.Is(err, core.ErrTransition) || !strings.Contains(err.Error(), "archive them instead") {
		t.Fatalf("delete active user: got %v", err)
	}
	if _, err := e.svc.ChangeStatus(e.ctx, admin, e.org, active.ID, core.ActArchive); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.DeleteUser(e.ctx, admin, e.org, active.ID); !errors.Is(err, core.ErrTransition) {
		t.Fatalf("delete archived user who had accepted: %v", err)
	}
	// An expired invite can still be deleted.
	exp := e.create(t, "e@example.com", core.InviteByLink)
	e.clock.Advance(8 * 24 * time.Hour)
	got, _ := e.svc.GetUser(e.ctx, e.org, exp.User.ID)
	if got.InviteStatus != core.InviteExpired {
		t.Fatalf("invite status after 8 days: %s", got.InviteStatus)
	}
	if err := e.svc.DeleteUser(e.ctx, admin, e.org, exp.User.ID); err != nil {
		t.Fatalf("delete expired: %v", err)
	}
}

func TestInviteAcceptanceIsSingleUseAndExpires(t *testing.T) {
	e := newEnv(t)
	c := e.create(t, "i@example.com", core.InviteByLink)
	if _, err := e.svc.AcceptInvite(e.ctx, c.InviteToken, "short"); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("short password accepted: %v", err)
	}
	u, err := e.svc.AcceptInvite(e.ctx, c.InviteToken, "correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != core.StatusActive || u.InviteStatus != core.InviteAccepted || u.ActivatedAt == nil {
		t.Fatalf("after accept: %+v", u)
	}
	if _, err := e.svc.AcceptInvite(e.ctx, c.InviteToken, "correct horse battery"); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("second use: %v", err)
	}
	// The password is stored as argon2id and verifies.
	_ = e.store.View(e.ctx, func(tx core.Tx) error {
		su, _ := tx.UserByID(e.ctx, e.org, u.ID)
		if ok, err := fastHasher.Verify(su.PasswordHash, "correct horse battery"); !ok || err != nil || !strings.HasPrefix(su.PasswordHash, "$argon2id$") {
			t.Errorf("stored hash %q does not verify: %v", su.PasswordHash, err)
		}
		return nil
	})

	// Expiry at the boundary, and resend voids the old link.
	c2 := e.create(t, "j@example.com", core.InviteByLink)
	e.clock.Advance(7*24*time.Hour + time.Second)
	if _, err := e.svc.AcceptInvite(e.ctx, c2.InviteToken, "correct horse battery"); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired link: %v", err)
	}
	res2, err := e.svc.ResendInvite(e.ctx, admin, e.org, c2.User.ID, core.Resend{Mode: core.InviteByLink})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.GetUser(e.ctx, e.org, c2.User.ID); got.InviteStatus != core.InvitePending {
		t.Fatalf("after resend: %s", got.InviteStatus)
	}
	c3 := e.create(t, "k@example.com", core.InviteByLink)
	res3, err := e.svc.ResendInvite(e.ctx, admin, e.org, c3.User.ID, core.Resend{Mode: core.InviteByLink})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AcceptInvite(e.ctx, c3.InviteToken, "correct horse battery"); err == nil || !strings.Contains(err.Error(), "replaced") {
		t.Fatalf("voided link: %v", err)
	}
	for _, tok := range []string{res2.InviteToken, res3.InviteToken} {
		if _, err := e.svc.AcceptInvite(e.ctx, tok, "correct horse battery"); err != nil {
			t.Fatalf("fresh link: %v", err)
		}
	}
	if _, err := e.svc.ResendInvite(e.ctx, admin, e.org, c3.User.ID, core.Resend{Mode: core.InviteByLink}); !errors.Is(err, core.ErrTransition) {
		t.Fatalf("resend to an accepted user: %v", err)
	}
	if _, err := e.svc.AcceptInvite(e.ctx, "rinv_forged", "correct horse battery"); err == nil || !strings.Contains(err.Error(), "not valid") {
		t.Fatalf("forged link: %v", err)
	}
}

func TestPermissionsByRole(t *testing.T) {
	e := newEnv(t)
	target := e.create(t, "t@example.com", core.NoInvite).User
	adminUser, err := e.svc.CreateUser(e.ctx, admin, core.NewUser{OrgID: e.org, Username: "ad@example.com", Email: "ad@example.com", Role: core.RoleAdmin, Invite: core.NoInvite})
	if err != nil {
		t.Fatal(err)
	}
	um := core.Actor{Kind: core.ActorAdmin, ID: "um", Role: core.RoleUserManager}
	member := core.Actor{Kind: core.ActorAdmin, ID: "m", Role: core.RoleMember}
	adm := core.Actor{Kind: core.ActorAdmin, ID: adminUser.User.ID, Role: core.RoleAdmin}
	tests := []struct {
		name string
		do   func() error
		ok   bool
	}{
		{"user manager cannot disable", func() error { _, err := e.svc.ChangeStatus(e.ctx, um, e.org, target.ID, core.ActDisable); return err }, false},
		{"user manager cannot create an admin", func() error {
			_, err := e.svc.CreateUser(e.ctx, um, core.NewUser{OrgID: e.org, Username: "x", Email: "x@example.com", Role: core.RoleAdmin})
			return err
		}, false},
		{"user manager creates a member", func() error {
			_, err := e.svc.CreateUser(e.ctx, um, core.NewUser{OrgID: e.org, Username: "y@example.com", Email: "y@example.com", Invite: core.InviteByLink})
			return err
		}, true},
		{"member cannot create", func() error {
			_, err := e.svc.CreateUser(e.ctx, member, core.NewUser{OrgID: e.org, Username: "z", Email: "z@example.com"})
			return err
		}, false},
		{"admin cannot archive themself", func() error {
			_, err := e.svc.ChangeStatus(e.ctx, adm, e.org, adminUser.User.ID, core.ActArchive)
			return err
		}, false},
		{"admin disables a member", func() error { _, err := e.svc.ChangeStatus(e.ctx, adm, e.org, target.ID, core.ActDisable); return err }, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.do()
			if tt.ok && err != nil {
				t.Fatal(err)
			}
			if !tt.ok && !errors.Is(err, core.ErrForbidden) {
				t.Fatalf("got %v, want forbidden", err)
			}
		})
	}
}

func TestMetadataTemplateAndValues(t *testing.T) {
	e := newEnv(t)
	tpl := []core.MetadataField{{Name: "department", Label: "Department", Type: core.MetaString, Required: true}, {Name: "floor", Type: core.MetaNumber}}
	if err := e.svc.SetMetadataTemplate(e.ctx, admin, e.org, tpl); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateUser(e.ctx, admin, core.NewUser{OrgID: e.org, Username: "m1", Email: "m1@example.com", Invite: core.InviteByLink}); err == nil || !strings.Contains(err.Error(), "metadata.department: is required") {
		t.Fatalf("missing required metadata: %v", err)
	}
	c, err := e.svc.CreateUser(e.ctx, admin, core.NewUser{OrgID: e.org, Username: "m1", Email: "m1@example.com", Invite: core.InviteByLink, Metadata: map[string]string{"department": "NortheastSales", "floor": "4"}})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := e.svc.GetUser(e.ctx, e.org, c.User.ID)
	if got.Metadata["department"] != "NortheastSales" || got.Metadata["floor"] != "4" {
		t.Fatalf("metadata not stored: %v", got.Metadata)
	}
	if _, err := e.svc.UpdateUser(e.ctx, admin, e.org, c.User.ID, core.UserChanges{Metadata: map[string]string{"department": "x", "floor": "top"}}); err == nil || !strings.Contains(err.Error(), "metadata.floor") {
		t.Fatalf("bad metadata update: %v", err)
	}
}

func TestTokensAreStoredHashedAndScoped(t *testing.T) {
	e := newEnv(t)
	secret, tok, err := e.svc.CreateToken(e.ctx, core.CLIActor(), e.org, "okta", core.ScopeSCIM, "")
	if err != nil {
		t.Fatal(err)
	}
	if tok.TokenHash == secret || tok.TokenHash != core.HashSecret(secret) {
		t.Fatal("token not stored as its hash")
	}
	got, err := e.svc.AuthenticateToken(e.ctx, secret, core.ScopeSCIM)
	if err != nil || got.OrgID != e.org || got.Name != "okta" {
		t.Fatalf("authenticate: %+v %v", got, err)
	}
	if _, err := e.svc.AuthenticateToken(e.ctx, secret, core.ScopeAdmin); !errors.Is(err, core.ErrUnauthorized) {
		t.Fatalf("scim token used as admin: %v", err)
	}
	if _, err := e.svc.AuthenticateToken(e.ctx, secret+"x", core.ScopeSCIM); !errors.Is(err, core.ErrUnauthorized) {
		t.Fatalf("wrong secret: %v", err)
	}
	if _, _, err := e.svc.CreateToken(e.ctx, core.CLIActor(), e.org, "okta", core.ScopeSCIM, ""); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("duplicate token name: %v", err)
	}
	// An admin token dies with its user's ability to log in.
	u := e.create(t, "op@example.com", core.NoInvite).User
	asecret, _, err := e.svc.CreateToken(e.ctx, core.CLIActor(), e.org, "ops", core.ScopeAdmin, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateToken(e.ctx, asecret, core.ScopeAdmin); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ChangeStatus(e.ctx, admin, e.org, u.ID, core.ActDisable); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.AuthenticateToken(e.ctx, asecret, core.ScopeAdmin); !errors.Is(err, core.ErrUnauthorized) {
		t.Fatalf("token of a disabled user: %v", err)
	}
}

func TestGroupsAppsAndTenantIsolation(t *testing.T) {
	e := newEnv(t)
	u := e.create(t, "g@example.com", core.NoInvite).User
	g, err := e.svc.CreateGroup(e.ctx, admin, core.NewGroup{OrgID: e.org, Name: "Engineering"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateGroup(e.ctx, admin, core.NewGroup{OrgID: e.org, Name: "engineering"}); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("duplicate group name: %v", err)
	}
	if err := e.svc.ReplaceGroupMembers(e.ctx, admin, e.org, g.ID, []string{u.ID, u.ID}); err != nil {
		t.Fatal(err)
	}
	expenses, err := e.svc.CreateApp(e.ctx, admin, e.org, "Expenses")
	if err != nil {
		t.Fatal(err)
	}
	wiki, err := e.svc.CreateApp(e.ctx, admin, e.org, "Wiki")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateApp(e.ctx, admin, e.org, "WIKI"); !errors.Is(err, core.ErrConflict) {
		t.Fatalf("duplicate app name: %v", err)
	}
	if err := e.svc.AssignApp(e.ctx, admin, core.AppGrant{OrgID: e.org, AppID: expenses.ID, GroupID: g.ID, AppRole: "approver"}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AssignApp(e.ctx, admin, core.AppGrant{OrgID: e.org, AppID: wiki.ID, UserID: u.ID}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.AssignApp(e.ctx, admin, core.AppGrant{OrgID: e.org, AppID: wiki.ID, UserID: u.ID, GroupID: g.ID}); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("user and group at once: %v", err)
	}
	v, _ := e.svc.GetUser(e.ctx, e.org, u.ID)
	if len(v.Groups) != 1 || v.Groups[0] != "Engineering" {
		t.Fatalf("groups = %v", v.Groups)
	}
	if len(v.Apps) != 2 || v.Apps[0].AppName != "Expenses" || v.Apps[0].AppRole != "approver" || v.Apps[0].ViaGroup != "Engineering" ||
		v.Apps[1].AppName != "Wiki" || v.Apps[1].AppRole != core.DefaultAppRole {
		t.Fatalf("apps = %+v", v.Apps)
	}
	// Another organisation sees none of it.
	other, err := e.svc.CreateOrg(e.ctx, core.CLIActor(), "acme", "Acme")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.GetUser(e.ctx, other.ID, u.ID); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("user visible from another org: %v", err)
	}
	if _, err := e.svc.ChangeStatus(e.ctx, admin, other.ID, u.ID, core.ActDisable); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("user changeable from another org: %v", err)
	}
	if err := e.svc.ReplaceGroupMembers(e.ctx, admin, other.ID, g.ID, nil); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("group changeable from another org: %v", err)
	}
	// Same username in another org is fine.
	if _, err := e.svc.CreateUser(e.ctx, admin, core.NewUser{OrgID: other.ID, Username: "g@example.com", Email: "g@example.com", Invite: core.InviteByLink}); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ReplaceGroupMembers(e.ctx, admin, e.org, g.ID, nil); err != nil {
		t.Fatal(err)
	}
	if m, _ := e.svc.GroupMembers(e.ctx, e.org, g.ID); len(m) != 0 {
		t.Fatalf("members after replace with none: %v", m)
	}
}
