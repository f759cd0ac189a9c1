package mail_test

import (
	"fmt"
	"testing"

	"github.com/rosterhq/roster/internal/mail"
)

// BenchmarkDeliver measures the worker end to end: claim, render, SMTP to a
// local go-smtp server (a new connection per mail), record — on SQLite.
func BenchmarkDeliver(b *testing.B) {
	e := newEnvB(b)
	srv := startSMTPB(b)
	for i := range b.N {
		e.invite(fmt.Sprintf("u%d@example.com", i), "B", "", "")
	}
	w := e.worker(e.sender(srv), mail.WorkerConfig{})
	b.ResetTimer()
	n, err := w.Drain(e.ctx)
	if err != nil || n != b.N {
		b.Fatalf("drained %d of %d: %v", n, b.N, err)
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "mails/s")
}

// BenchmarkInviteByMail measures CreateUser with the outbox row in the same
// transaction.
func BenchmarkInviteByMail(b *testing.B) {
	e := newEnvB(b)
	b.ResetTimer()
	for i := range b.N {
		e.invite(fmt.Sprintf("u%d@example.com", i), "B", "", "")
	}
}
