package mail_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/jobs"
	"github.com/rosterhq/roster/internal/mail"
)

// An invitation mailed in the user's language arrives with both parts, its
// link accepts the invite exactly once, and the raw token leaves the
// database once the mail is delivered.
func TestInviteMailArrivesAndLinkAcceptsOnce(t *testing.T) {
	cases := []struct {
		name, lang, mailLang  string
		wantSubject, wantText string
	}{
		{"english by default", "", "", "Default invites you to roster", "Hello Ada,"},
		{"user language de", "de", "", "Default lädt Sie zu roster ein", "Hallo Ada,"},
		{"regional tag fr-CA falls back to fr", "fr-CA", "", "Default vous invite sur roster", "Bonjour Ada,"},
		{"unsupported language falls back to en", "pt-BR", "", "Default invites you to roster", "Hello Ada,"},
		{"language picked at invite wins", "de", "es", "Default le invita a roster", "Hola Ada:"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			srv := startSMTP(t, smtpOpts{})
			u := e.invite("ada@example.com", "Ada", tc.lang, tc.mailLang)

			rows := e.outbox()
			if len(rows) != 1 || rows[0].State != "queued" || !core.ValidInviteToken(rows[0].Token) {
				t.Fatalf("outbox after create = %+v, want one queued row carrying the token", rows)
			}
			if got := e.drain(e.worker(e.sender(srv), mail.WorkerConfig{})); got != 1 {
				t.Fatalf("processed %d mails, want 1", got)
			}
			msgs := srv.Messages()
			if len(msgs) != 1 || !slices.Equal(msgs[0].To, []string{"ada@example.com"}) || msgs[0].From != "no-reply@roster.test" {
				t.Fatalf("received %+v", msgs)
			}
			p := parseMail(t, msgs[0].Raw)
			if p.Subject != tc.wantSubject {
				t.Errorf("subject %q, want %q", p.Subject, tc.wantSubject)
			}
			if !strings.HasPrefix(p.Text, tc.wantText) {
				t.Errorf("text part starts %q, want %q", p.Text[:min(40, len(p.Text))], tc.wantText)
			}
			token := tokenOf(t, p)
			if !strings.Contains(p.HTML, `href="`+publicURL+"/invite/"+token+`"`) {
				t.Errorf("html part lacks the link:\n%s", p.HTML)
			}
			if p.MessageID != "<"+rows[0].ID+"@roster>" {
				t.Errorf("Message-ID %q, want one built from the outbox id", p.MessageID)
			}

			rows = e.outbox()
			if rows[0].State != "sent" || rows[0].Token != "" {
				t.Fatalf("outbox after delivery = %+v, want sent with the token blanked", rows[0])
			}
			if h := e.history(u.ID); !slices.Contains(h, "invite.mail_sent") {
				t.Errorf("history %v lacks invite.mail_sent", h)
			}
			if _, err := e.svc.AcceptInvite(e.ctx, token, "correct horse battery"); err != nil {
				t.Fatalf("accept: %v", err)
			}
			if got := e.user(u.ID); got.Status != core.StatusActive || got.InviteStatus != core.InviteAccepted {
				t.Fatalf("after accept: status %s, invite %s", got.Status, got.InviteStatus)
			}
			if _, err := e.svc.AcceptInvite(e.ctx, token, "another password"); !errors.Is(err, core.ErrInvalid) {
				t.Fatalf("second accept: %v, want invalid", err)
			}
		})
	}
}

// The mail row exists if and only if the user (or resend) committed; link
// and no-invite users queue nothing.
func TestOutboxRowOnlyWithCommittedInvite(t *testing.T) {
	e := newEnv(t)
	e.invite("first@example.com", "First", "", "")
	_, err := e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: e.orgID, Username: "first@example.com",
		Email: "other@example.com", Invite: core.InviteByMail})
	if !errors.Is(err, core.ErrConflict) {
		t.Fatalf("duplicate username: %v, want conflict", err)
	}
	for _, mode := range []core.InviteMode{core.InviteByLink, core.NoInvite} {
		res, err := e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: e.orgID, Username: "u-" + string(mode) + "@example.com",
			Email: "u-" + string(mode) + "@example.com", Invite: mode})
		if err != nil {
			t.Fatal(err)
		}
		if mode == core.InviteByLink && !core.ValidInviteToken(res.InviteToken) {
			t.Fatalf("link mode returned token %q", res.InviteToken)
		}
	}
	_, err = e.svc.CreateUser(e.ctx, core.CLIActor(), core.NewUser{OrgID: e.orgID, Username: "kl@example.com",
		Email: "kl@example.com", Invite: core.InviteByMail, MailLanguage: "tlh"})
	var ve *core.ValidationError
	if !errors.As(err, &ve) || ve.Field() != "mail_language" {
		t.Fatalf("unknown mail language: %v, want a validation error on mail_language", err)
	}
	if rows := e.outbox(); len(rows) != 1 {
		t.Fatalf("outbox has %d rows, want only the first user's", len(rows))
	}
	if _, err := e.svc.GetUserByUsername(e.ctx, e.orgID, "kl@example.com"); !errors.Is(err, core.ErrNotFound) {
		t.Fatalf("user with a bad mail language was created: %v", err)
	}
}

// Delivery outcomes against a real SMTP server: a 4xx is retried after the
// backoff, a 5xx marks the invite mail_error with the reason.
func TestDeliveryOutcomes(t *testing.T) {
	cases := []struct {
		name        string
		rcpt        func(n int, to string) error
		wantState   string
		wantInvite  core.InviteStatus
		wantErrPart string
		wantMsgs    int
	}{
		{"4xx then accepted after backoff", func(n int, _ string) error {
			if n == 1 {
				return smtpErr(451, "greylisted, try again later")
			}
			return nil
		}, "sent", core.InvitePending, "", 1},
		{"550 is permanent", func(int, string) error { return smtpErr(550, "no such mailbox") }, "failed", core.InviteMailError, "550", 0},
		{"553 invalid address is permanent", func(int, string) error { return smtpErr(553, "mailbox name not allowed") }, "failed", core.InviteMailError, "553", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			srv := startSMTP(t, smtpOpts{})
			srv.rcpt = tc.rcpt
			w := e.worker(e.sender(srv), mail.WorkerConfig{RetryInitial: 30 * time.Second})
			u := e.invite("bob@example.com", "Bob", "", "")
			e.drain(w)
			if tc.wantState == "sent" {
				rows := e.outbox()
				if rows[0].State != "queued" || rows[0].Attempts != 1 || !rows[0].Next.Equal(e.clock.Now().Add(30*time.Second)) ||
					!strings.Contains(rows[0].LastError, "451") {
					t.Fatalf("after a 451: %+v, want queued for now+30s with the reason", rows[0])
				}
				if n := e.drain(w); n != 0 {
					t.Fatalf("a deferred mail was retried before its backoff (%d)", n)
				}
				e.clock.Advance(30 * time.Second)
				if n := e.drain(w); n != 1 {
					t.Fatalf("retry after backoff processed %d", n)
				}
			}
			rows := e.outbox()
			if rows[0].State != tc.wantState || rows[0].Token != "" {
				t.Fatalf("row %+v, want %s with the token blanked", rows[0], tc.wantState)
			}
			got := e.user(u.ID)
			if got.InviteStatus != tc.wantInvite {
				t.Fatalf("invite status %s, want %s", got.InviteStatus, tc.wantInvite)
			}
			if tc.wantErrPart != "" {
				if !strings.Contains(got.InviteMailError, tc.wantErrPart) {
					t.Errorf("reason %q lacks %q", got.InviteMailError, tc.wantErrPart)
				}
				if h := e.history(u.ID); !slices.Contains(h, "invite.mail_error") {
					t.Errorf("history %v lacks invite.mail_error", h)
				}
			}
			if n := len(srv.Messages()); n != tc.wantMsgs {
				t.Fatalf("server received %d messages, want %d", n, tc.wantMsgs)
			}
		})
	}
}

// SMTP down: retries with exponential backoff, then mail_error; a resend in
// another language once the server is up delivers, and the old link is void.
func TestServerDownThenResend(t *testing.T) {
	e := newEnv(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ln.Close() // the port now refuses connections: the server is down
	down := e.sender(&smtpServer{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port})
	w := e.worker(down, mail.WorkerConfig{MaxAttempts: 4, RetryInitial: 10 * time.Second, RetryMax: 25 * time.Second})
	u := e.invite("carol@example.com", "Carol", "", "")
	oldToken := e.outbox()[0].Token

	wantDelays := []time.Duration{10 * time.Second, 20 * time.Second, 25 * time.Second}
	for i, d := range wantDelays {
		e.drain(w)
		r := e.outbox()[0]
		if r.State != "queued" || r.Attempts != i+1 || !r.Next.Equal(e.clock.Now().Add(d)) {
			t.Fatalf("after attempt %d: %+v, want queued with next attempt in %s", i+1, r, d)
		}
		if got := e.user(u.ID).InviteStatus; got != core.InvitePending {
			t.Fatalf("invite status while retrying: %s", got)
		}
		e.clock.Advance(d)
	}
	e.drain(w)
	r := e.outbox()[0]
	got := e.user(u.ID)
	if r.State != "failed" || r.Token != "" || got.InviteStatus != core.InviteMailError ||
		!strings.Contains(got.InviteMailError, "gave up after 4 attempts") {
		t.Fatalf("after the last attempt: row %+v, user invite %s %q", r, got.InviteStatus, got.InviteMailError)
	}

	up := startSMTP(t, smtpOpts{})
	res, err := e.svc.ResendInvite(e.ctx, core.CLIActor(), e.orgID, u.ID, core.Resend{Language: "fr"})
	if err != nil {
		t.Fatal(err)
	}
	if res.InviteToken != "" || res.User.InviteStatus != core.InvitePending || res.User.InviteMailError != "" {
		t.Fatalf("resend: %+v", res)
	}
	e.drain(e.worker(e.sender(up), mail.WorkerConfig{}))
	msgs := up.Messages()
	if len(msgs) != 1 {
		t.Fatalf("after resend the server got %d mails", len(msgs))
	}
	p := parseMail(t, msgs[0].Raw)
	if !strings.HasPrefix(p.Text, "Bonjour Carol,") {
		t.Errorf("resend language: text %q", p.Text[:20])
	}
	if _, err := e.svc.AcceptInvite(e.ctx, oldToken, "correct horse battery"); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("old link: %v, want invalid", err)
	}
	if _, err := e.svc.AcceptInvite(e.ctx, tokenOf(t, p), "correct horse battery"); err != nil {
		t.Fatalf("new link: %v", err)
	}
}

// A resend before the first mail went out cancels it: the user gets one
// mail, with the new link, in the language picked at resend.
func TestResendCancelsQueuedMail(t *testing.T) {
	e := newEnv(t)
	srv := startSMTP(t, smtpOpts{})
	u := e.invite("dan@example.com", "Dan", "de", "")
	first := e.outbox()[0]
	if _, err := e.svc.ResendInvite(e.ctx, core.CLIActor(), e.orgID, u.ID, core.Resend{Language: "es"}); err != nil {
		t.Fatal(err)
	}
	rows := e.outbox()
	if len(rows) != 2 || rows[0].State != "cancelled" || rows[0].Token != "" || rows[1].State != "queued" || rows[1].Language != "es" {
		t.Fatalf("outbox after resend: %+v", rows)
	}
	e.drain(e.worker(e.sender(srv), mail.WorkerConfig{}))
	msgs := srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("got %d mails, want 1", len(msgs))
	}
	p := parseMail(t, msgs[0].Raw)
	if p.Subject != "Default le invita a roster" {
		t.Errorf("subject %q", p.Subject)
	}
	if _, err := e.svc.AcceptInvite(e.ctx, first.Token, "correct horse battery"); !errors.Is(err, core.ErrInvalid) {
		t.Fatalf("first link after resend: %v, want invalid", err)
	}
}

// Bad resend input changes nothing: the current link stays valid and no
// mail is queued.
func TestResendBadInputChangesNothing(t *testing.T) {
	cases := []struct {
		name  string
		r     core.Resend
		field string
	}{
		{"unknown language", core.Resend{Language: "xx"}, "language"},
		{"unknown mode", core.Resend{Mode: "pigeon"}, "invite"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			u := e.invite("eve@example.com", "Eve", "", "")
			before := e.outbox()
			_, err := e.svc.ResendInvite(e.ctx, core.CLIActor(), e.orgID, u.ID, tc.r)
			var ve *core.ValidationError
			if !errors.As(err, &ve) || ve.Field() != tc.field {
				t.Fatalf("err %v, want a validation error on %s", err, tc.field)
			}
			if after := e.outbox(); !slices.Equal(before, after) {
				t.Fatalf("outbox changed: %+v → %+v", before, after)
			}
			if _, err := e.svc.AcceptInvite(e.ctx, before[0].Token, "correct horse battery"); err != nil {
				t.Fatalf("current link broke: %v", err)
			}
		})
	}
}

// The link expires at the configured validity (7 days) on the injected clock.
func TestInviteExpiresAfterSevenDays(t *testing.T) {
	e := newEnv(t)
	u := e.invite("fay@example.com", "Fay", "", "")
	token := e.outbox()[0].Token
	e.clock.Advance(7 * 24 * time.Hour)
	if got := e.user(u.ID).InviteStatus; got != core.InvitePending {
		t.Fatalf("at exactly 7 days: %s, want pending", got)
	}
	e.clock.Advance(time.Second)
	if got := e.user(u.ID).InviteStatus; got != core.InviteExpired {
		t.Fatalf("after 7 days: %s, want expired", got)
	}
	if _, err := e.svc.AcceptInvite(e.ctx, token, "correct horse battery"); err == nil || !strings.Contains(err.Error(), "expired") {
		t.Fatalf("accept after expiry: %v", err)
	}
	if got := e.user(u.ID); got.Status != core.StatusInvited {
		t.Fatalf("expired accept changed the user: %s", got.Status)
	}
}

// Crash safety: a worker stopped while a mail is in flight finishes that
// mail; a new process on the same database delivers the rest; every user
// gets exactly one mail.
func TestRestartLosesNoneSendsNoneTwice(t *testing.T) {
	e := newEnv(t)
	srv := startSMTP(t, smtpOpts{})
	const n = 5
	var users []string
	for i := range n {
		users = append(users, e.invite(string(rune('a'+i))+"@example.com", "U", "", "").Email)
	}
	inData := make(chan struct{})
	release := make(chan struct{})
	srv.data = func(k int) error {
		if k == 3 {
			close(inData)
			<-release
		}
		return nil
	}
	w := e.worker(e.sender(srv), mail.WorkerConfig{PollInterval: 10 * time.Millisecond})
	ctx, stop := context.WithCancel(e.ctx)
	done := make(chan error, 1)
	go func() { done <- w.Run(ctx) }()
	select {
	case <-inData:
	case <-time.After(10 * time.Second):
		t.Fatal("the third mail never reached DATA")
	}
	stop() // the daemon is asked to stop while mail 3 is being sent
	close(release)
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("worker did not stop")
	}
	if got := len(srv.Messages()); got != 3 {
		t.Fatalf("before restart %d mails arrived, want 3 (the in-flight one finished)", got)
	}
	states := map[string]int{}
	for _, r := range e.outbox() {
		states[r.State]++
	}
	if states["sent"] != 3 || states["queued"] != 2 {
		t.Fatalf("outbox at stop: %v, want 3 sent and 2 queued (none stuck in sending)", states)
	}

	e.restart()
	e.drain(e.worker(e.sender(srv), mail.WorkerConfig{}))
	got := map[string]int{}
	ids := map[string]bool{}
	for _, m := range srv.Messages() {
		for _, to := range m.To {
			got[to]++
		}
		ids[parseMail(t, m.Raw).MessageID] = true
	}
	for _, u := range users {
		if got[u] != 1 {
			t.Errorf("%s received %d mails, want exactly 1", u, got[u])
		}
	}
	if len(ids) != n {
		t.Errorf("%d distinct Message-IDs, want %d", len(ids), n)
	}
}

// A worker that died after claiming a mail (a crash, not a graceful stop)
// leaves it reserved; another worker takes it over once the lease ran out,
// and not before.
func TestCrashedClaimIsRetakenAfterLease(t *testing.T) {
	e := newEnv(t)
	srv := startSMTP(t, smtpOpts{})
	e.invite("gil@example.com", "Gil", "", "")
	claimed, err := e.svc.ClaimMail(e.ctx, 5*time.Minute, 1) // the worker that then dies
	if err != nil || len(claimed) != 1 {
		t.Fatalf("claim: %v %d", err, len(claimed))
	}
	e.restart()
	w := e.worker(e.sender(srv), mail.WorkerConfig{Lease: 5 * time.Minute})
	if n := e.drain(w); n != 0 {
		t.Fatalf("a leased mail was taken over before the lease ran out")
	}
	e.clock.Advance(5 * time.Minute)
	if n := e.drain(w); n != 1 {
		t.Fatalf("after the lease: processed %d, want 1", n)
	}
	if r := e.outbox()[0]; r.State != "sent" || r.Attempts != 2 || len(srv.Messages()) != 1 {
		t.Fatalf("row %+v, %d mails", r, len(srv.Messages()))
	}
}

// A process on this host that died after claiming a mail leaves a claim
// naming it (claimed_by); the next process on the host takes the mail over
// at once instead of after the lease, as it does the directory's run lease.
// A claim by a process that is alive is left to its lease.
func TestClaimOfDeadLocalProcessIsTakenOverAtOnce(t *testing.T) {
	host, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	alive := exec.Command("sleep", "60")
	if err := alive.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = alive.Process.Kill(); _ = alive.Wait() })

	for _, tc := range []struct {
		name     string
		pid      int
		takeOver bool
	}{
		{"dead owner", dead.Process.Pid, true},
		{"live owner", alive.Process.Pid, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			srv := startSMTP(t, smtpOpts{})
			e.invite("gil@example.com", "Gil", "", "")
			e.owner = fmt.Sprintf("%s/%d/first", host, tc.pid)
			e.restart()
			claimed, err := e.svc.ClaimMail(e.ctx, 5*time.Minute, 1) // the process that then dies (or hangs)
			if err != nil || len(claimed) != 1 {
				t.Fatalf("claim: %v %d", err, len(claimed))
			}
			if rows := e.outbox(); rows[0].ClaimedBy != e.owner {
				t.Fatalf("claimed_by %q, want %q", rows[0].ClaimedBy, e.owner)
			}
			e.owner, e.ownerGone = fmt.Sprintf("%s/%d/second", host, os.Getpid()), jobs.OwnerGone
			e.restart()
			w := e.worker(e.sender(srv), mail.WorkerConfig{Lease: 5 * time.Minute})
			n := e.drain(w)
			if tc.takeOver && (n != 1 || len(srv.Messages()) != 1) {
				t.Fatalf("dead owner's claim: processed %d, %d mails; want it taken over at once", n, len(srv.Messages()))
			}
			if !tc.takeOver && n != 0 {
				t.Fatalf("a live owner's claim was taken over before its lease ran out")
			}
		})
	}
}

// STARTTLS and implicit TLS with a private CA and authentication; a server without
// STARTTLS or a certificate from an unknown CA is refused, never downgraded.
func TestSTARTTLSWithAuth(t *testing.T) {
	serverTLS, pool := testCA(t)
	_, otherPool := testCA(t)
	cases := []struct {
		name     string
		srvTLS   bool
		implicit bool
		other    bool
		wantOK   bool
		wantErr  string
	}{
		{"starttls with the test CA", true, false, false, true, ""},
		{"implicit tls with the test CA", true, true, false, true, ""},
		{"unknown CA is refused", true, false, true, false, "certificate"},
		{"unknown CA is refused with implicit tls", true, true, true, false, "certificate"},
		{"no STARTTLS offered is refused", false, false, false, false, "TLS"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o := smtpOpts{auth: map[string]string{"roster": "s3cret"}}
			if tc.srvTLS {
				o.tls, o.implicit = serverTLS, tc.implicit
			}
			srv := startSMTP(t, o)
			if !tc.srvTLS {
				srv.srv.AllowInsecureAuth = true
			}
			cfg := mail.SMTPConfig{Host: srv.Host, Port: srv.Port, TLS: mail.TLSStartTLS, Username: "roster", Password: "s3cret",
				From: "no-reply@roster.test", Timeout: 5 * time.Second, RootCAs: pool}
			if tc.implicit {
				cfg.TLS = mail.TLSImplicit
			}
			if tc.other {
				cfg.RootCAs = otherPool
			}
			snd, err := mail.NewSMTPSender(cfg)
			if err != nil {
				t.Fatal(err)
			}
			err = snd.Send(context.Background(), mail.Message{ID: "x", To: "hal@example.com", Subject: "s", Text: "t", HTML: "<p>h</p>"})
			if tc.wantOK {
				msgs := srv.Messages()
				if err != nil || len(msgs) != 1 || !msgs[0].TLS || msgs[0].User != "roster" {
					t.Fatalf("err %v, msgs %+v: want one mail over TLS, authenticated", err, msgs)
				}
				return
			}
			if err == nil || mail.IsPermanent(err) || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want a transient error mentioning %q", err, tc.wantErr)
			}
			if len(srv.Messages()) != 0 {
				t.Fatal("a mail was delivered without TLS")
			}
		})
	}
}

func TestSMTPConfigValidate(t *testing.T) {
	cases := []struct {
		name    string
		cfg     mail.SMTPConfig
		wantErr string
	}{
		{"ok", mail.SMTPConfig{Host: "smtp.example.com", From: "Example <no-reply@example.com>"}, ""},
		{"auth over plain text", mail.SMTPConfig{Host: "h", TLS: "none", Username: "u", From: "a@b.c"}, "smtp.tls"},
		{"unknown tls mode", mail.SMTPConfig{Host: "h", TLS: "ssl", From: "a@b.c"}, "smtp.tls"},
		{"bad from", mail.SMTPConfig{Host: "h", From: "not an address"}, "smtp.from"},
		{"no host", mail.SMTPConfig{From: "a@b.c"}, "smtp.host"},
		{"missing CA file", mail.SMTPConfig{Host: "h", From: "a@b.c", CAFile: "/nonexistent/ca.pem"}, "smtp.ca_file"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.cfg.Validate()
			if tc.wantErr == "" {
				if err != nil || tc.cfg.Port != 587 || tc.cfg.TLS != "starttls" {
					t.Fatalf("err %v, cfg %+v", err, tc.cfg)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err %v, want one naming %s", err, tc.wantErr)
			}
		})
	}
}

// An address that does not parse is refused before any connection: permanent.
func TestInvalidRecipientIsPermanent(t *testing.T) {
	srv := startSMTP(t, smtpOpts{})
	snd, err := mail.NewSMTPSender(mail.SMTPConfig{Host: srv.Host, Port: srv.Port, TLS: mail.TLSNone, From: "a@roster.test"})
	if err != nil {
		t.Fatal(err)
	}
	err = snd.Send(context.Background(), mail.Message{To: "not an address", Subject: "s", Text: "t"})
	if !mail.IsPermanent(err) {
		t.Fatalf("err %v, want permanent", err)
	}
}

// Two daemons on the same database (two store handles, two workers) drain
// the queue together: every mail goes out exactly once.
func TestTwoWorkersNeverSendTwice(t *testing.T) {
	e := newEnv(t)
	srv := startSMTP(t, smtpOpts{})
	const n = 30
	for i := range n {
		e.invite(fmt.Sprintf("w%02d@example.com", i), "W", "", "")
	}
	w1 := e.worker(e.sender(srv), mail.WorkerConfig{})
	other := &env{t: t, ctx: e.ctx, path: e.path, drv: e.drv, clock: e.clock, r: e.r}
	other.open()
	w2 := other.worker(other.sender(srv), mail.WorkerConfig{})
	var wg sync.WaitGroup
	counts := make([]int, 2)
	for i, w := range []*mail.Worker{w1, w2} {
		wg.Go(func() {
			c, err := w.Drain(e.ctx)
			if err != nil {
				t.Errorf("worker %d: %v", i, err)
			}
			counts[i] = c
		})
	}
	wg.Wait()
	got := map[string]int{}
	for _, m := range srv.Messages() {
		got[m.To[0]]++
	}
	if len(got) != n || counts[0]+counts[1] != n {
		t.Fatalf("%d recipients, workers processed %v; want %d in all", len(got), counts, n)
	}
	for to, c := range got {
		if c != 1 {
			t.Errorf("%s got %d mails", to, c)
		}
	}
	t.Logf("worker 1 sent %d, worker 2 sent %d", counts[0], counts[1])
}

// Deleting a user who never accepted takes their queued mail (and its
// token) with them; nothing in history ever holds a token.
func TestDeleteUserDropsQueuedMailAndHistoryHoldsNoToken(t *testing.T) {
	e := newEnv(t)
	u := e.invite("zed@example.com", "Zed", "", "")
	token := e.outbox()[0].Token
	if _, err := e.svc.ResendInvite(e.ctx, core.CLIActor(), e.orgID, u.ID, core.Resend{Language: "de"}); err != nil {
		t.Fatal(err)
	}
	token2 := e.outbox()[1].Token
	hs, err := e.svc.History(e.ctx, e.orgID, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range hs {
		for _, tok := range []string{token, token2, core.HashSecret(token2)} {
			if strings.Contains(h.Before+h.After, tok) {
				t.Fatalf("history %s holds a token or its hash", h.Action)
			}
		}
	}
	if err := e.svc.DeleteUser(e.ctx, core.CLIActor(), e.orgID, u.ID); err != nil {
		t.Fatal(err)
	}
	if rows := e.outbox(); len(rows) != 0 {
		t.Fatalf("outbox keeps %d rows of a deleted user", len(rows))
	}
}
