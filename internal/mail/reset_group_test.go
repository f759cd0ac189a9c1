package mail_test

import (
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/mail"
)

// active creates an active native user with a password.
func (e *env) active(username, lang string) *core.UserView {
	e.t.Helper()
	res, err := e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: e.orgID, Username: username, Email: username,
		FirstName: "Rae", Language: lang, Invite: core.NoInvite, Password: "old password 123"})
	if err != nil {
		e.t.Fatal(err)
	}
	return res.User
}

// Forgot password: the mail arrives in the user's language through the
// outbox, the link sets the password once, and a newer request voids it.
func TestPasswordResetByMail(t *testing.T) {
	e := newEnv(t)
	srv := startSMTP(t, smtpOpts{})
	u := e.active("rae@example.com", "de")
	w := e.worker(e.sender(srv), mail.WorkerConfig{})

	if err := e.svc.RequestPasswordReset(e.ctx, e.orgID, "RAE@example.com", ""); err != nil {
		t.Fatal(err)
	}
	if rows := e.outbox(); len(rows) != 0 {
		t.Fatalf("the request queued mail on the request path: %+v", rows)
	}
	if n, err := e.svc.ProcessPasswordResetRequests(e.ctx); err != nil || n != 1 {
		t.Fatalf("process: %d %v", n, err)
	}
	first := e.outbox()[0]
	if err := e.svc.RequestPasswordReset(e.ctx, e.orgID, "rae@example.com", "fr"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ProcessPasswordResetRequests(e.ctx); err != nil {
		t.Fatal(err)
	}
	rows := e.outbox()
	if len(rows) != 2 || rows[0].State != "cancelled" || rows[0].Token != "" || rows[1].Language != "fr" {
		t.Fatalf("outbox after two requests: %+v", rows)
	}
	e.drain(w)
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d mails, want 1", len(msgs))
	}
	p := parseMail(t, msgs[0].Raw)
	if p.Subject != "Réinitialisez votre mot de passe pour Default" {
		t.Errorf("subject %q", p.Subject)
	}
	i := strings.Index(p.Text, publicURL+"/reset/")
	if i < 0 {
		t.Fatalf("no reset link:\n%s", p.Text)
	}
	token := strings.Fields(p.Text[i+len(publicURL+"/reset/"):])[0]
	if _, err := e.svc.ResetPassword(e.ctx, first.Token, "new password 456"); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("first (voided) link: %v", err)
	}
	if _, err := e.svc.ResetPassword(e.ctx, token, "short"); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("short password: %v", err)
	}
	if _, err := e.svc.ResetPassword(e.ctx, token, "new password 456"); err != nil {
		t.Fatalf("reset: %v", err)
	}
	if _, err := e.svc.ResetPassword(e.ctx, token, "newer password 789"); err == nil || !strings.Contains(err.Error(), "already used") {
		t.Fatalf("second use: %v", err)
	}
	if h := e.history(u.ID); !slices.Contains(h, "user.password_reset") || !slices.Contains(h, "password_reset.mail_sent") {
		t.Fatalf("history %v", h)
	}
}

// No account probing: unknown logins, directory and disabled users get no
// mail and the same answer.
func TestPasswordResetRequestNoProbing(t *testing.T) {
	e := newEnv(t)
	e.active("ok@example.com", "")
	dis := e.active("off@example.com", "")
	if _, err := e.svc.ChangeStatus(e.ctx, core.CLIActor(), e.orgID, dis.ID, core.ActDisable); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.CreateUser(e.ctx, core.Actor{Kind: core.ActorLDAP, Name: "corp", Source: "ldap:corp"}, core.NewUser{OrgID: e.orgID,
		Username: "dir@example.com", Email: "dir@example.com", Invite: core.NoInvite, ExternalID: "uid=dir"}); err != nil {
		t.Fatal(err)
	}
	for _, login := range []string{"nobody@example.com", "off@example.com", "dir@example.com"} {
		if err := e.svc.RequestPasswordReset(e.ctx, e.orgID, login, ""); err != nil {
			t.Fatalf("%s: %v", login, err)
		}
	}
	if n, err := e.svc.ProcessPasswordResetRequests(e.ctx); err != nil || n != 3 {
		t.Fatalf("process: %d %v", n, err)
	}
	if rows := e.outbox(); len(rows) != 0 {
		t.Fatalf("queued %d mails for ineligible logins", len(rows))
	}
	var ve *core.ValidationError
	if err := e.svc.RequestPasswordReset(e.ctx, e.orgID, "ok@example.com", "xx"); !errors.As(err, &ve) || ve.Field() != "language" {
		t.Fatalf("bad language: %v", err)
	}
	if err := e.svc.SendPasswordReset(e.ctx, core.CLIActor(), e.orgID, dis.ID, ""); !errors.Is(err, core.ErrTransition) {
		t.Fatalf("admin reset for a disabled user: %v", err)
	}
	if rows := e.outbox(); len(rows) != 0 {
		t.Fatalf("queued %d mails after refused requests", len(rows))
	}
}

// A reset link expires after an hour; a mail still queued then is not sent.
func TestPasswordResetExpires(t *testing.T) {
	e := newEnv(t)
	srv := startSMTP(t, smtpOpts{})
	u := e.active("oldie@example.com", "")
	if err := e.svc.SendPasswordReset(e.ctx, core.CLIActor(), e.orgID, u.ID, "es"); err != nil {
		t.Fatal(err)
	}
	token := e.outbox()[0].Token
	e.clock.Advance(core.PasswordResetValidFor + time.Second)
	e.drain(e.worker(e.sender(srv), mail.WorkerConfig{}))
	if r := e.outbox()[0]; r.State != "cancelled" || len(srv.Messages()) != 0 {
		t.Fatalf("expired reset mail: %+v, %d sent", r, len(srv.Messages()))
	}
	if _, err := e.svc.ResetPassword(e.ctx, token, "new password 456"); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("expired link: %v", err)
	}
}

// Messaging a group: one mail per reachable member, the sender's text
// escaped in HTML with its line breaks, skipped members reported.
func TestMessageGroup(t *testing.T) {
	e := newEnv(t)
	srv := startSMTP(t, smtpOpts{})
	g, err := e.svc.CreateGroup(e.ctx, core.CLIActor(), core.NewGroup{OrgID: e.orgID, Name: "Field sales"})
	if err != nil {
		t.Fatal(err)
	}
	de := e.active("de@example.com", "de")
	inv := e.invite("inv@example.com", "Ivy", "", "")
	off := e.active("off@example.com", "")
	if _, err := e.svc.ChangeStatus(e.ctx, core.CLIActor(), e.orgID, off.ID, core.ActDisable); err != nil {
		t.Fatal(err)
	}
	noMail, err := e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: e.orgID, Username: "nomail", Invite: core.NoInvite})
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{de.ID, inv.ID, off.ID, noMail.User.ID} {
		if err := e.svc.SetGroupMember(e.ctx, core.CLIActor(), e.orgID, g.ID, id, true); err != nil {
			t.Fatal(err)
		}
	}
	e.drain(e.worker(e.sender(srv), mail.WorkerConfig{})) // the invitation
	before := len(srv.Messages())

	bad := []struct {
		m     core.GroupMessage
		a     core.Actor
		field string
	}{
		{core.GroupMessage{Subject: "", Body: "x"}, core.CLIActor(), "subject"},
		{core.GroupMessage{Subject: "a\nBcc: x@evil.example", Body: "x"}, core.CLIActor(), "subject"},
		{core.GroupMessage{Subject: "a", Body: " "}, core.CLIActor(), "body"},
		{core.GroupMessage{Subject: "a", Body: "x", Language: "xx"}, core.CLIActor(), "language"},
		{core.GroupMessage{Subject: "a", Body: "x"}, core.Actor{Kind: core.ActorAdmin, Role: core.RoleMember}, ""},
	}
	for _, b := range bad {
		_, err := e.svc.MessageGroup(e.ctx, b.a, e.orgID, g.ID, b.m)
		var ve *core.ValidationError
		if b.field == "" {
			if !errors.Is(err, core.ErrForbidden) {
				t.Fatalf("member messaging: %v", err)
			}
		} else if !errors.As(err, &ve) || ve.Field() != b.field {
			t.Fatalf("%+v: %v, want invalid %s", b.m, err, b.field)
		}
	}
	res, err := e.svc.MessageGroup(e.ctx, core.Actor{Kind: core.ActorAdmin, Name: "Grace", Role: core.RoleUserManager}, e.orgID, g.ID,
		core.GroupMessage{Subject: "Planned maintenance", Body: "Down on <b>Saturday</b>.\nPlan ahead."})
	if err != nil {
		t.Fatal(err)
	}
	if res.Queued != 2 || len(res.Skipped) != 2 {
		t.Fatalf("result %+v, want 2 queued, 2 skipped", res)
	}
	e.drain(e.worker(e.sender(srv), mail.WorkerConfig{}))
	msgs := srv.Messages()[before:]
	if len(msgs) != 2 {
		t.Fatalf("%d group mails, want 2", len(msgs))
	}
	for _, m := range msgs {
		p := parseMail(t, m.Raw)
		if p.Subject != "[Default] Planned maintenance" || !strings.HasPrefix(p.Text, "Down on <b>Saturday</b>.\nPlan ahead.") {
			t.Errorf("to %v: subject %q text %q", m.To, p.Subject, p.Text)
		}
		if !strings.Contains(p.HTML, "Down on &lt;b&gt;Saturday&lt;/b&gt;.<br>Plan ahead.") {
			t.Errorf("HTML part:\n%s", p.HTML)
		}
		if m.To[0] == "de@example.com" && !strings.Contains(p.Text, "Gesendet von Grace an die Mitglieder von Field sales") {
			t.Errorf("German member's frame: %q", p.Text)
		}
	}
}
