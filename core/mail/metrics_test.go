package mail_test

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/core/mail"
)

// Queue depth, sent and failed follow what the worker did.
func TestMetrics(t *testing.T) {
	e := newEnv(t)
	srv := startSMTP(t, smtpOpts{})
	srv.rcpt = func(_ int, to string) error {
		if strings.HasPrefix(to, "bad") {
			return smtpErr(550, "no such user")
		}
		if strings.HasPrefix(to, "later") {
			return smtpErr(451, "later")
		}
		return nil
	}
	for _, u := range []string{"ok1@example.com", "ok2@example.com", "bad@example.com", "later@example.com"} {
		e.invite(u, "M", "", "")
	}
	w := e.worker(e.sender(srv), mail.WorkerConfig{RetryInitial: time.Minute, RetryMax: time.Hour})
	stats, err := e.svc.MailStats(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := mail.WriteMetrics(&b, stats, w.Stats()); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "roster_mail_queue_depth 4\n") {
		t.Fatalf("before delivery:\n%s", b.String())
	}
	e.drain(w)
	if stats, err = e.svc.MailStats(e.ctx); err != nil {
		t.Fatal(err)
	}
	b.Reset()
	_ = mail.WriteMetrics(&b, stats, w.Stats())
	for _, want := range []string{"roster_mail_queue_depth 1\n", `roster_mail_outbox{state="sent"} 2`, `roster_mail_outbox{state="failed"} 1`,
		"roster_mail_sent_total 2\n", "roster_mail_failed_total 1\n", "roster_mail_retried_total 1\n"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("metrics lack %q:\n%s", want, b.String())
		}
	}
}
