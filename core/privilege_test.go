package core_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
)

// Privilege (issue 15): no one acts above their role, on any door. These
// tests drive the Service as every door does; the wire tests are in
// core/api (privilege_test.go) and cmd/roster (privilege_test.go).

const privPW = "Sturdy-passphrase-7"

// person creates an active native user with role r (by the operator) and
// returns it with the actor it is when it signs in to the console.
func (e *env) person(t *testing.T, username string, r core.Role) (*core.UserView, core.Actor) {
	t.Helper()
	c, err := e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: e.org, Username: username, Email: username, FirstName: "F", LastName: "L",
		Role: r, Invite: core.NoInvite, Password: privPW})
	if err != nil {
		t.Fatalf("create %s: %v", username, err)
	}
	p := &core.Principal{User: c.User, Audience: core.AudienceConsole}
	return c.User, p.Actor("")
}

func forbidden(t *testing.T, err error, want string) {
	t.Helper()
	var fe *core.ForbiddenError
	if !errors.As(err, &fe) || !strings.Contains(err.Error(), want) {
		t.Fatalf("got %v, want forbidden: …%s…", err, want)
	}
}

// scimActor issues a SCIM token as a (with ceiling) and authenticates it as
// the SCIM door does.
func (e *env) scimActor(t *testing.T, a core.Actor, name string, ceiling core.Role) (core.Actor, *core.DirectorySettings) {
	t.Helper()
	secret, tok, err := e.svc.IssueToken(e.ctx, a, e.org, core.NewToken{Name: name, Scope: core.ScopeSCIM, RoleCeiling: ceiling,
		Settings: &core.DirectorySettings{Invite: false, DefaultRole: core.RoleMember}})
	if err != nil {
		t.Fatal(err)
	}
	_, set, err := e.svc.AuthenticateDirectory(e.ctx, secret)
	if err != nil {
		t.Fatal(err)
	}
	return core.Actor{Kind: core.ActorSCIM, ID: tok.ID, Name: name, Source: "scim:" + name}, set
}

func TestAdminTokenActsOnlyAsItsCreator(t *testing.T) {
	e := newEnv(t)
	owner, _ := e.person(t, "owner@example.com", core.RoleOwner)
	adm, admA := e.person(t, "admin@example.com", core.RoleAdmin)
	member, _ := e.person(t, "member@example.com", core.RoleMember)
	for _, tc := range []struct {
		name  string
		actor core.Actor
		user  string
		want  string // the user the token acts as; "" for a refusal
	}{
		{"an admin naming the owner is refused", admA, owner.ID, ""},
		{"an admin naming a member is refused", admA, member.ID, ""},
		{"an admin naming no one gets a token acting as themself", admA, "", adm.ID},
		{"an admin naming themself", admA, adm.ID, adm.ID},
		{"the operator names anyone", core.CLIActor(), owner.ID, owner.ID},
	} {
		t.Run(tc.name, func(t *testing.T) {
			secret, tok, err := e.svc.IssueToken(e.ctx, tc.actor, e.org, core.NewToken{Name: "t-" + tc.name, Scope: core.ScopeAdmin, UserID: tc.user})
			if tc.want == "" {
				var fe *core.ForbiddenError
				if !errors.As(err, &fe) || fe.Field != "user_id" || !strings.Contains(err.Error(), "acts only as the person who creates it") {
					t.Fatalf("got %v, want forbidden on user_id", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			p, err := e.svc.AuthenticateAdminToken(e.ctx, secret)
			if err != nil || p.User.ID != tc.want {
				t.Fatalf("token acts as %v (%v), want %s", p, err, tc.want)
			}
			if tok.CreatedByName != tc.actor.Name {
				t.Errorf("created by %q, want %q", tok.CreatedByName, tc.actor.Name)
			}
			// History names the person, the token and who created it.
			if _, err := e.svc.UpdateUser(e.ctx, p.Actor(""), e.org, member.ID, core.UserChanges{LastName: ptr("By-" + tok.ID[:6])}); err != nil {
				t.Fatal(err)
			}
			h := e.history(t, member.ID)
			last := h[len(h)-1]
			if last.ActorID != tc.want || last.TokenID != tok.ID || last.TokenCreatedBy != tc.actor.Name {
				t.Fatalf("history actor %s via token %q created by %q; want %s via %s created by %s", last.ActorID, last.TokenID, last.TokenCreatedBy, tc.want, tok.ID, tc.actor.Name)
			}
		})
	}
}

func ptr[T any](v T) *T { return &v }

func TestSCIMTokenRoleCeiling(t *testing.T) {
	e := newEnv(t)
	_, ownerA := e.person(t, "owner@example.com", core.RoleOwner)
	_, admA := e.person(t, "admin@example.com", core.RoleAdmin)
	set := func(def core.Role, rules ...core.RoleRule) *core.DirectorySettings {
		return &core.DirectorySettings{DefaultRole: def, RoleRules: rules}
	}
	n := 0
	for _, tc := range []struct {
		name     string
		actor    core.Actor
		ceiling  core.Role
		settings *core.DirectorySettings
		want     core.Role // the ceiling stored; "" for a refusal
		field    string    // the field a refusal names
	}{
		{"an admin's token grants at most admin", admA, "", nil, core.RoleAdmin, ""},
		{"an admin cannot ask for owner", admA, core.RoleOwner, nil, "", "role_ceiling"},
		{"an admin may ask for less", admA, core.RoleUserManager, nil, core.RoleUserManager, ""},
		{"an owner's token is admin unless asked", ownerA, "", nil, core.RoleAdmin, ""},
		{"an owner asks for owner explicitly", ownerA, core.RoleOwner, nil, core.RoleOwner, ""},
		{"the operator's token is admin unless asked", core.CLIActor(), "", nil, core.RoleAdmin, ""},
		{"the operator asks for owner", core.CLIActor(), core.RoleOwner, set(core.RoleOwner), core.RoleOwner, ""},
		{"a default role above the ceiling is refused", ownerA, "", set(core.RoleOwner), "", "default_role"},
		{"a role rule above the ceiling is refused", admA, "", set(core.RoleMember, core.RoleRule{Group: "Boss", Role: core.RoleOwner}), "", "role_rules[0].role"},
		{"a role rule within the ceiling", admA, "", set(core.RoleMember, core.RoleRule{Group: "Admins", Role: core.RoleAdmin}), core.RoleAdmin, ""},
		{"an unknown ceiling", ownerA, "god", nil, "", "role_ceiling"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n++
			_, tok, err := e.svc.IssueToken(e.ctx, tc.actor, e.org, core.NewToken{Name: "scim" + string(rune('a'+n)), Scope: core.ScopeSCIM, RoleCeiling: tc.ceiling, Settings: tc.settings})
			if tc.want == "" {
				var fe *core.ForbiddenError
				var ve *core.ValidationError
				switch {
				case errors.As(err, &fe):
					if fe.Field != tc.field {
						t.Fatalf("refused on %q (%v), want %q", fe.Field, err, tc.field)
					}
				case errors.As(err, &ve):
					if ve.Field() != tc.field {
						t.Fatalf("refused on %q (%v), want %q", ve.Field(), err, tc.field)
					}
				default:
					t.Fatalf("got %v, want a refusal naming %s", err, tc.field)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tok.RoleCeiling != tc.want {
				t.Fatalf("ceiling %q, want %q", tok.RoleCeiling, tc.want)
			}
		})
	}

	// Settings changed later stay within the ceiling too.
	_, tok, err := e.svc.IssueToken(e.ctx, core.CLIActor(), e.org, core.NewToken{Name: "later", Scope: core.ScopeSCIM})
	if err != nil {
		t.Fatal(err)
	}
	err = e.svc.SetDirectorySettings(e.ctx, core.CLIActor(), e.org, core.DirectorySettings{TokenID: tok.ID, DefaultRole: core.RoleMember,
		RoleRules: []core.RoleRule{{Group: "Boss", Role: core.RoleOwner}}})
	if !errors.Is(err, core.ErrInvalid) || !strings.Contains(err.Error(), "above the token's role ceiling (admin)") {
		t.Fatalf("an owner rule on an admin-ceiling token: %v", err)
	}
}

// Roles a directory asks for are clamped to the ceiling: SCIM (roster's
// extension, roles values, rules) and LDAP (rules, default).
func TestDirectoryRolesAreClampedToTheCeiling(t *testing.T) {
	e := newEnv(t)
	_, admA := e.person(t, "admin@example.com", core.RoleAdmin)
	_, ownerA := e.person(t, "owner@example.com", core.RoleOwner)
	okta, oktaSet := e.scimActor(t, admA, "okta", "")
	owned, ownedSet := e.scimActor(t, ownerA, "owned", core.RoleOwner)
	for _, tc := range []struct {
		name  string
		actor core.Actor
		set   *core.DirectorySettings
		in    core.DirectoryUserInput
		want  core.Role
	}{
		{"extension role owner from an admin's token", okta, oktaSet, core.DirectoryUserInput{Role: ptr(core.RoleOwner)}, core.RoleAdmin},
		{"roles value owner from an admin's token", okta, oktaSet, core.DirectoryUserInput{Attributes: core.Attributes{"roles": {List: []core.MultiValue{{Value: "owner"}}}}}, core.RoleAdmin},
		{"extension role within the ceiling", okta, oktaSet, core.DirectoryUserInput{Role: ptr(core.RoleUserManager)}, core.RoleUserManager},
		{"owner from a token an owner made for owners", owned, ownedSet, core.DirectoryUserInput{Role: ptr(core.RoleOwner)}, core.RoleOwner},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := tc.in
			in.Username = strings.ReplaceAll(tc.name, " ", "-") + "@example.com"
			in.Email = in.Username
			u, err := e.svc.CreateDirectoryUser(e.ctx, tc.actor, tc.set, e.org, in)
			if err != nil {
				t.Fatal(err)
			}
			if u.Role != tc.want {
				t.Fatalf("role %s, want %s", u.Role, tc.want)
			}
		})
	}

	// LDAP: a source without a ceiling grants at most admin.
	src := core.SyncSource{Name: "corp", OrgID: e.org, DefaultRole: core.RoleOwner}
	snap := &core.DirectorySnapshot{Full: true, Users: []core.SyncEntry{
		{ExternalID: "1", Username: "ldap-boss@example.com", Email: "ldap-boss@example.com", Role: core.RoleOwner},
		{ExternalID: "2", Username: "ldap-default@example.com", Email: "ldap-default@example.com"},
	}}
	if _, err := e.svc.ApplyDirectory(e.ctx, src, snap, core.SyncOptions{}); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ldap-boss@example.com", "ldap-default@example.com"} {
		u, err := e.svc.GetUserByUsername(e.ctx, e.org, name)
		if err != nil || u.Role != core.RoleAdmin {
			t.Fatalf("%s: %v %v, want admin", name, u, err)
		}
	}
}

func TestImportGrantsAtMostTheImportersRole(t *testing.T) {
	e := newEnv(t)
	_, admA := e.person(t, "admin@example.com", core.RoleAdmin)
	_, umA := e.person(t, "um@example.com", core.RoleUserManager)
	for _, tc := range []struct {
		name  string
		actor core.Actor
		role  core.Role
		ok    bool
	}{
		{"an admin imports an owner", admA, core.RoleOwner, false},
		{"an admin imports an admin", admA, core.RoleAdmin, true},
		{"a user manager imports a user manager", umA, core.RoleUserManager, false},
		{"a user manager imports a developer", umA, core.RoleDeveloper, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			name := strings.ReplaceAll(tc.name, " ", "-") + "@example.com"
			out, err := e.svc.ImportUsers(e.ctx, tc.actor, e.org, []core.ImportRow{{Line: 2, User: core.NewUser{Username: name, Email: name, Role: tc.role, Invite: core.InviteByLink}}}, false)
			if err != nil {
				t.Fatal(err)
			}
			if got := out[0].Outcome == "created"; got != tc.ok {
				t.Fatalf("outcome %s (%v), want created=%v", out[0].Outcome, out[0].Error, tc.ok)
			}
			if !tc.ok && !errors.Is(out[0].Error, core.ErrForbidden) {
				t.Fatalf("refused with %v, want forbidden", out[0].Error)
			}
		})
	}
}

// The organisation always keeps an owner, whatever the door.
func TestTheLastOwnerIsKept(t *testing.T) {
	t.Run("people, the operator and the dormancy job", func(t *testing.T) {
		e := newEnv(t)
		owner, ownerA := e.person(t, "owner@example.com", core.RoleOwner)
		cli := core.CLIActor()
		for _, tc := range []struct {
			name string
			do   func() error
			want string
		}{
			{"the owner demotes themself", func() error {
				_, err := e.svc.UpdateUser(e.ctx, ownerA, e.org, owner.ID, core.UserChanges{Role: ptr(core.RoleAdmin)})
				return err
			}, "the last owner cannot be given another role"},
			{"the operator demotes the owner", func() error {
				_, err := e.svc.UpdateUser(e.ctx, cli, e.org, owner.ID, core.UserChanges{Role: ptr(core.RoleMember)})
				return err
			}, "the last owner cannot be given another role"},
			{"the operator disables the owner", func() error {
				_, err := e.svc.ChangeStatus(e.ctx, cli, e.org, owner.ID, core.ActDisable)
				return err
			}, "the last owner cannot be disabled"},
			{"the operator archives the owner", func() error {
				_, err := e.svc.ChangeStatus(e.ctx, cli, e.org, owner.ID, core.ActArchive)
				return err
			}, "the last owner cannot be archived"},
		} {
			t.Run(tc.name, func(t *testing.T) { forbidden(t, tc.do(), tc.want) })
		}
		// Dormancy idles everyone else, never the last owner.
		m, _ := e.person(t, "m@example.com", core.RoleMember)
		e.clock.Advance(200 * 24 * time.Hour)
		if _, err := e.svc.RunDormancy(e.ctx); err != nil {
			t.Fatal(err)
		}
		for id, want := range map[string]core.Status{owner.ID: core.StatusActive, m.ID: core.StatusInactive} {
			u, _ := e.svc.GetUser(e.ctx, e.org, id)
			if u.Status != want {
				t.Errorf("%s after dormancy: %s, want %s", u.Username, u.Status, want)
			}
		}
		// With a second owner, the first may step down; then the second is the last.
		second, _ := e.person(t, "second@example.com", core.RoleOwner)
		if _, err := e.svc.UpdateUser(e.ctx, ownerA, e.org, owner.ID, core.UserChanges{Role: ptr(core.RoleAdmin)}); err != nil {
			t.Fatalf("stepping down beside another owner: %v", err)
		}
		_, err := e.svc.ChangeStatus(e.ctx, cli, e.org, second.ID, core.ActDisable)
		forbidden(t, err, "the last owner cannot be disabled")
	})

	t.Run("SCIM", func(t *testing.T) {
		e := newEnv(t)
		native, nativeA := e.person(t, "owner@example.com", core.RoleOwner)
		scimA, set := e.scimActor(t, nativeA, "okta", core.RoleOwner)
		in := core.DirectoryUserInput{Username: "idp-owner@example.com", Email: "idp-owner@example.com", Role: ptr(core.RoleOwner)}
		u, err := e.svc.CreateDirectoryUser(e.ctx, scimA, set, e.org, in)
		if err != nil || u.Role != core.RoleOwner {
			t.Fatalf("create the IdP's owner: %v %v", u, err)
		}
		if _, err := e.svc.UpdateUser(e.ctx, nativeA, e.org, native.ID, core.UserChanges{Role: ptr(core.RoleAdmin)}); err != nil {
			t.Fatal(err)
		}
		off, demoted := in, in
		off.Active = ptr(false)
		demoted.Role = ptr(core.RoleAdmin)
		_, err = e.svc.ReplaceDirectoryUser(e.ctx, scimA, set, e.org, u.ID, off, nil)
		forbidden(t, err, "the last owner cannot be disabled")
		_, err = e.svc.ReplaceDirectoryUser(e.ctx, scimA, set, e.org, u.ID, demoted, nil)
		forbidden(t, err, "the last owner cannot be given another role")
		forbidden(t, e.svc.RemoveDirectoryUser(e.ctx, scimA, e.org, u.ID, nil), "the last owner cannot be archived")
	})

	t.Run("LDAP", func(t *testing.T) {
		e := newEnv(t)
		native, nativeA := e.person(t, "owner@example.com", core.RoleOwner)
		src := core.SyncSource{Name: "corp", OrgID: e.org, RoleCeiling: core.RoleOwner}
		entry := core.SyncEntry{ExternalID: "1", Username: "ldap-owner@example.com", Email: "ldap-owner@example.com", Role: core.RoleOwner}
		if _, err := e.svc.ApplyDirectory(e.ctx, src, &core.DirectorySnapshot{Full: true, Users: []core.SyncEntry{entry}}, core.SyncOptions{}); err != nil {
			t.Fatal(err)
		}
		if _, err := e.svc.UpdateUser(e.ctx, nativeA, e.org, native.ID, core.UserChanges{Role: ptr(core.RoleAdmin)}); err != nil {
			t.Fatal(err)
		}
		demoted, off := entry, entry
		demoted.Role = core.RoleMember
		off.Disabled = true
		for name, e2 := range map[string]core.SyncEntry{"demoted": demoted, "disabled": off} {
			guard, _ := core.ParseMaxRemovals("100%")
			res, err := e.svc.ApplyDirectory(e.ctx, src, &core.DirectorySnapshot{Full: true, Users: []core.SyncEntry{e2}}, core.SyncOptions{MaxRemovals: guard})
			if err != nil {
				t.Fatal(err)
			}
			if res.Errors != 1 || len(res.Problems) != 1 || !strings.Contains(res.Problems[0], "the last owner cannot") {
				t.Fatalf("%s: %+v, want one problem naming the last owner", name, res)
			}
		}
		u, _ := e.svc.GetUserByUsername(e.ctx, e.org, "ldap-owner@example.com")
		if u.Role != core.RoleOwner || u.Status != core.StatusActive {
			t.Fatalf("the last owner became %s %s", u.Role, u.Status)
		}
	})
}

// A user manager manages only users whose role is below their own.
func TestUserManagerManagesOnlyRolesBelowTheirs(t *testing.T) {
	e := newEnv(t)
	_, umA := e.person(t, "um@example.com", core.RoleUserManager)
	targets := map[core.Role]string{}
	for _, r := range []core.Role{core.RoleUserManager, core.RoleAdmin, core.RoleOwner, core.RoleDeveloper, core.RoleMember} {
		u, _ := e.person(t, "t-"+string(r)+"@example.com", r)
		targets[r] = u.ID
	}
	actions := map[string]func(id string) error{
		"set password": func(id string) error { return e.svc.SetPassword(e.ctx, umA, e.org, id, "Taken-over-passphrase-9") },
		"edit": func(id string) error {
			_, err := e.svc.UpdateUser(e.ctx, umA, e.org, id, core.UserChanges{LastName: ptr("X")})
			return err
		},
		"unlock": func(id string) error { _, err := e.svc.ChangeStatus(e.ctx, umA, e.org, id, core.ActUnlock); return err },
		"send password reset": func(id string) error {
			return e.svc.SendPasswordReset(e.ctx, umA, e.org, id, "")
		},
	}
	for name, do := range actions {
		for role, id := range targets {
			t.Run(name+" of a "+string(role), func(t *testing.T) {
				err := do(id)
				if role == core.RoleDeveloper || role == core.RoleMember {
					if errors.Is(err, core.ErrForbidden) {
						t.Fatalf("refused: %v", err)
					}
					return
				}
				forbidden(t, err, "")
			})
		}
	}
	for _, tc := range []struct {
		name string
		role core.Role
		ok   bool
	}{{"create a user manager", core.RoleUserManager, false}, {"create a developer", core.RoleDeveloper, true}} {
		t.Run(tc.name, func(t *testing.T) {
			name := strings.ReplaceAll(tc.name, " ", "-") + "@example.com"
			_, err := e.svc.CreateUser(e.ctx, umA, core.NewUser{OrgID: e.org, Username: name, Email: name, Role: tc.role, Invite: core.InviteByLink})
			if tc.ok != (err == nil) {
				t.Fatalf("got %v, want ok=%v", err, tc.ok)
			}
		})
	}
	_, err := e.svc.UpdateUser(e.ctx, umA, e.org, targets[core.RoleMember], core.UserChanges{Role: ptr(core.RoleUserManager)})
	forbidden(t, err, "only roles below their own")
	if _, err := e.svc.UpdateUser(e.ctx, umA, e.org, umA.ID, core.UserChanges{LastName: ptr("Self")}); err != nil {
		t.Fatalf("a user manager edits themself: %v", err)
	}
}

// A catalog session administers nothing, whatever its user's role.
func TestCatalogSessionAdministersNothing(t *testing.T) {
	e := newEnv(t)
	owner, _ := e.person(t, "owner@example.com", core.RoleOwner)
	m, _ := e.person(t, "m@example.com", core.RoleMember)
	p := &core.Principal{User: owner, Audience: core.AudienceCatalog}
	a := p.Actor("")
	forbidden(t, core.AuthorizeAdminSession(p), "a catalog session")
	forbidden(t, core.AuthorizeUserAdmin(a), "a catalog session")
	_, err := e.svc.CreateUser(e.ctx, a, core.NewUser{OrgID: e.org, Username: "x@example.com", Email: "x@example.com", Invite: core.InviteByLink})
	forbidden(t, err, "a catalog session")
	_, err = e.svc.ChangeStatus(e.ctx, a, e.org, m.ID, core.ActDisable)
	forbidden(t, err, "a catalog session")
	_, _, err = e.svc.IssueToken(e.ctx, a, e.org, core.NewToken{Name: "x", Scope: core.ScopeAdmin})
	forbidden(t, err, "a catalog session")
	if err := core.AuthorizeAdminSession(&core.Principal{User: owner, Audience: core.AudienceConsole}); err != nil {
		t.Fatalf("a console session: %v", err)
	}
}

// Two owners demoting each other at once: one of them stays owner (on
// PostgreSQL the check locks the owners' rows; SQLite has one writer).
func TestTwoOwnersDemotingEachOtherAtOnceKeepOne(t *testing.T) {
	e := newEnv(t)
	holder, _ := e.person(t, "owner0@example.com", core.RoleOwner)
	for i := 1; i <= 8; i++ {
		other, _ := e.person(t, "owner"+string(rune('0'+i))+"@example.com", core.RoleOwner)
		errs := make(chan error, 2)
		for _, id := range []string{holder.ID, other.ID} {
			go func() {
				_, err := e.svc.UpdateUser(e.ctx, core.CLIActor(), e.org, id, core.UserChanges{Role: ptr(core.RoleAdmin)})
				errs <- err
			}()
		}
		refused := 0
		for range 2 {
			if err := <-errs; err != nil {
				forbidden(t, err, "the last owner cannot")
				refused++
			}
		}
		owners, err := e.svc.ListUsers(e.ctx, core.UserQuery{OrgID: e.org, Roles: []core.Role{core.RoleOwner}})
		if err != nil {
			t.Fatal(err)
		}
		if refused != 1 || len(owners) != 1 {
			t.Fatalf("round %d: %d refused, %d owners left; want 1 and 1", i, refused, len(owners))
		}
		holder = &owners[0]
	}
}
