package core_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/rosterhq/roster/core"
)

// scimActor and ldapSource are an inviting SCIM token and an inviting LDAP
// source, as their doors hand them to the core.
var (
	scimActor   = core.Actor{Kind: core.ActorSCIM, ID: "tok-1", Name: "okta", Source: "scim:okta"}
	scimInvites = &core.DirectorySettings{TokenID: "tok-1", Invite: true, DefaultRole: core.RoleMember, RoleCeiling: core.RoleAdmin}
)

func ldapSource(org string) core.SyncSource {
	return core.SyncSource{Name: "corp", OrgID: org, Invite: true, DefaultRole: core.RoleMember}
}

// creatingPaths are every way the core creates a user, each creating an
// email-less user called username under its inviting policy. update, when
// set, is the door's own later update of that user, still without an email.
type creatingPath struct {
	name   string
	create func(t *testing.T, e *env, username string) string // the new user's id
	update func(t *testing.T, e *env, id, username string)
}

func creatingPaths() []creatingPath {
	byName := func(t *testing.T, e *env, username string) string {
		t.Helper()
		u, err := e.svc.GetUserByUsername(e.ctx, e.org, username)
		if err != nil {
			t.Fatalf("user %s was not created: %v", username, err)
		}
		return u.ID
	}
	ldapRun := func(t *testing.T, e *env, snap *core.DirectorySnapshot) {
		t.Helper()
		res, err := e.svc.ApplyDirectory(e.ctx, ldapSource(e.org), snap, core.SyncOptions{MaxRemovals: core.MaxRemovals{N: 100}})
		if err != nil {
			t.Fatal(err)
		}
		if res.Errors+res.Conflicts > 0 {
			t.Fatalf("sync problems: %v", res.Problems)
		}
	}
	entry := func(username string) core.SyncEntry {
		return core.SyncEntry{ExternalID: "ext-" + username, Username: username, FirstName: "No", LastName: "Mail"}
	}
	scimIn := func(username, first string) core.DirectoryUserInput {
		return core.DirectoryUserInput{Username: username, FirstName: first, LastName: "Mail", ExternalID: "ext-" + username}
	}
	return []creatingPath{
		{name: "admin API and CLI (CreateUser, invite by mail)", create: func(t *testing.T, e *env, username string) string {
			c, err := e.svc.CreateUser(e.ctx, admin, core.NewUser{OrgID: e.org, Username: username, FirstName: "No", LastName: "Mail", Invite: core.InviteByMail})
			if err != nil {
				t.Fatal(err)
			}
			return c.User.ID
		}},
		{name: "CSV/XLSX import", create: func(t *testing.T, e *env, username string) string {
			out, err := e.svc.ImportUsers(e.ctx, admin, e.org, []core.ImportRow{{Line: 2, User: core.NewUser{Username: username, FirstName: "No", LastName: "Mail"}}}, false)
			if err != nil {
				t.Fatal(err)
			}
			if out[0].Outcome != "created" {
				t.Fatalf("row: %s %v", out[0].Outcome, out[0].Error)
			}
			return out[0].ID
		}},
		{name: "SCIM create and replace (inviting token)", create: func(t *testing.T, e *env, username string) string {
			u, err := e.svc.CreateDirectoryUser(e.ctx, scimActor, scimInvites, e.org, scimIn(username, "No"))
			if err != nil {
				t.Fatal(err)
			}
			return u.ID
		}, update: func(t *testing.T, e *env, id, username string) {
			if _, err := e.svc.ReplaceDirectoryUser(e.ctx, scimActor, scimInvites, e.org, id, scimIn(username, "Still"), nil); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "LDAP full sync (inviting source)", create: func(t *testing.T, e *env, username string) string {
			ldapRun(t, e, &core.DirectorySnapshot{Full: true, Users: []core.SyncEntry{entry(username)}})
			return byName(t, e, username)
		}, update: func(t *testing.T, e *env, id, username string) {
			d := entry(username)
			d.FirstName = "Still"
			ldapRun(t, e, &core.DirectorySnapshot{Full: true, Users: []core.SyncEntry{d}})
		}},
		{name: "LDAP on-demand import (inviting source)", create: func(t *testing.T, e *env, username string) string {
			// What ldapsync's Import hands the core: one entry, not a full listing.
			ldapRun(t, e, &core.DirectorySnapshot{Users: []core.SyncEntry{entry(username)}})
			return byName(t, e, username)
		}, update: func(t *testing.T, e *env, id, username string) {
			d := entry(username)
			d.FirstName = "Still"
			ldapRun(t, e, &core.DirectorySnapshot{Users: []core.SyncEntry{d}})
		}},
	}
}

// mailsTo lists the outbox rows of a user.
func mailsTo(t *testing.T, e *env, id string) []core.OutboxMail {
	t.Helper()
	ms, err := e.svc.UserMail(e.ctx, e.org, id)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// TestEmailLessUserSameInviteStatusOnEveryPath: whichever path creates it, a
// user without an email under an inviting policy is created invited, with
// invite status none and reason no_email, and nobody is mailed. An admin then
// sets the email once, sends the invitation, and the door's next update
// without an email does not erase it.
func TestEmailLessUserSameInviteStatusOnEveryPath(t *testing.T) {
	for _, p := range creatingPaths() {
		t.Run(p.name, func(t *testing.T) {
			e := newEnv(t)
			const username = "nomail"
			id := p.create(t, e, username)
			u, err := e.svc.GetUser(e.ctx, e.org, id)
			if err != nil {
				t.Fatal(err)
			}
			if u.Status != core.StatusInvited || u.InviteStatus != core.InviteNone || u.InviteReason != core.InviteReasonNoEmail {
				t.Fatalf("status %s, invite status %s (%q); want invited, none (no_email)", u.Status, u.InviteStatus, u.InviteReason)
			}
			if ms := mailsTo(t, e, id); len(ms) != 0 {
				t.Fatalf("%d mails queued for a user without email", len(ms))
			}
			// The users list filter agrees with the user JSON.
			page, err := e.svc.SearchUsers(e.ctx, core.UserSearch{OrgID: e.org, InviteStatuses: []core.InviteStatus{core.InviteNone}}, "")
			if err != nil {
				t.Fatal(err)
			}
			if len(page.Users) != 1 || page.Users[0].ID != id || page.Users[0].InviteReason != core.InviteReasonNoEmail {
				t.Fatalf("invite_status=none lists %+v", page.Users)
			}
			// Resending by mail needs the email; the refusal names it.
			if _, err := e.svc.ResendInvite(e.ctx, admin, e.org, id, core.Resend{}); !errors.Is(err, core.ErrInvalid) || !strings.Contains(err.Error(), "email:") {
				t.Fatalf("resend without email: %v", err)
			}

			// An admin sets the email once, while it is empty.
			email := "nomail@example.com"
			u, err = e.svc.UpdateUser(e.ctx, admin, e.org, id, core.UserChanges{Email: &email})
			if err != nil {
				t.Fatalf("set an empty email: %v", err)
			}
			if u.Email != email || u.InviteStatus != core.InviteNone || u.InviteReason != core.InviteReasonNotSent {
				t.Fatalf("after setting the email: %q, %s (%q)", u.Email, u.InviteStatus, u.InviteReason)
			}
			other := "other@example.com"
			if _, err := e.svc.UpdateUser(e.ctx, admin, e.org, id, core.UserChanges{Email: &other}); !errors.Is(err, core.ErrInvalid) || !strings.Contains(err.Error(), "email:") {
				t.Fatalf("changing a set email: %v", err)
			}
			// …and sends the invitation.
			res, err := e.svc.ResendInvite(e.ctx, admin, e.org, id, core.Resend{})
			if err != nil {
				t.Fatalf("send the invitation once the email exists: %v", err)
			}
			if res.User.InviteStatus != core.InvitePending || res.User.InviteReason != "" {
				t.Fatalf("after sending: %s (%q)", res.User.InviteStatus, res.User.InviteReason)
			}
			ms := mailsTo(t, e, id)
			if len(ms) != 1 || ms[0].Kind != core.MailInvite || ms[0].To != email {
				t.Fatalf("mails after sending: %+v", ms)
			}
			// The door's own update, still without an email, keeps it.
			if p.update != nil {
				p.update(t, e, id, username)
				u, err = e.svc.GetUser(e.ctx, e.org, id)
				if err != nil {
					t.Fatal(err)
				}
				if u.FirstName != "Still" || u.Email != email || u.InviteStatus != core.InvitePending {
					t.Fatalf("after the directory's update: first name %q, email %q, invite %s", u.FirstName, u.Email, u.InviteStatus)
				}
			}
		})
	}
}

// TestAdminsStillNeedAnEmail: the one place the rules require an email (owners
// and admins) holds on the admin API and SCIM alike, naming the field.
func TestAdminsStillNeedAnEmail(t *testing.T) {
	admins := core.RoleAdmin
	tests := []struct {
		name   string
		create func(e *env) error
	}{
		{"admin API", func(e *env) error {
			_, err := e.svc.CreateUser(e.ctx, admin, core.NewUser{OrgID: e.org, Username: "boss", Role: core.RoleAdmin})
			return err
		}},
		{"SCIM", func(e *env) error {
			_, err := e.svc.CreateDirectoryUser(e.ctx, scimActor, scimInvites, e.org, core.DirectoryUserInput{Username: "boss", Role: &admins})
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			if err := tt.create(e); !errors.Is(err, core.ErrInvalid) || !strings.Contains(err.Error(), "email:") {
				t.Fatalf("an admin without email: %v", err)
			}
		})
	}
}
