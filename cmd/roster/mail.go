package main

import (
	"context"
	"sync"

	"github.com/gorilla/mux"

	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/internal/config"
	"github.com/rosterhq/roster/internal/mail"
)

// mountMailPages mounts the invitation and password-reset pages.
func mountMailPages(a *app, r *mux.Router) error {
	pages, err := console.NewInvites(a.svc, a.log)
	if err != nil {
		return err
	}
	r.PathPrefix(console.Mount).Handler(pages)
	resets, err := console.NewResets(a.svc, a.log)
	if err != nil {
		return err
	}
	r.PathPrefix(console.ResetMount).Handler(resets)
	return nil
}

// mailer runs the outbox worker for the current SMTP settings; a reload
// replaces the worker (the one sending finishes its mail first).
type mailer struct {
	a        *app
	renderer *mail.Renderer

	mu     sync.Mutex
	smtp   config.SMTP // what the running worker was built from
	worker *mail.Worker
	cancel context.CancelFunc
	wg     sync.WaitGroup
	past   mail.Stats // counters of the workers replaced by reloads
}

// prepare builds a worker for c without starting it; nil without smtp.host.
func (m *mailer) prepare(c config.SMTP, publicURL string) (*mail.Worker, error) {
	if c.Host == "" {
		return nil, nil
	}
	sender, err := mail.NewSMTPSender(mail.SMTPConfig{Host: c.Host, Port: c.Port, TLS: c.TLS, Username: c.Username,
		Password: c.Password, From: c.From, Timeout: c.Timeout, CAFile: c.CAFile})
	if err != nil {
		return nil, err
	}
	return mail.NewWorker(mail.WorkerConfig{PublicURL: publicURL, MaxAttempts: c.MaxAttempts,
		RetryInitial: c.RetryInitial, RetryMax: c.RetryMax, SendTimeout: 2 * c.Timeout},
		mail.WorkerDeps{Outbox: m.a.svc, Sender: sender, Renderer: m.renderer, Logger: m.a.log})
}

// swap stops the running worker (waiting for the mail it is sending) and
// starts w, built from c, under ctx.
func (m *mailer) swap(ctx context.Context, c config.SMTP, w *mail.Worker) {
	m.stop()
	m.mu.Lock()
	defer m.mu.Unlock()
	m.smtp, m.worker = c, w
	if w == nil {
		m.a.log.Warn("smtp.host is not set: invitation mails stay queued until an SMTP server is configured")
		return
	}
	wctx, cancel := context.WithCancel(ctx)
	m.cancel = cancel
	m.wg.Go(func() { _ = w.Run(wctx) })
	m.a.log.Info("mail worker configured", "smtp", c.Host, "port", c.Port, "tls", c.TLS)
}

// stop stops the worker and waits until it has finished the mail it is sending.
func (m *mailer) stop() {
	m.mu.Lock()
	cancel, w := m.cancel, m.worker
	m.cancel = nil
	m.mu.Unlock()
	if cancel == nil {
		return
	}
	cancel()
	m.wg.Wait()
	m.mu.Lock()
	st := w.Stats()
	m.past.Sent += st.Sent
	m.past.Failed += st.Failed
	m.past.Retried += st.Retried
	if m.worker == w {
		m.worker = nil
	}
	m.mu.Unlock()
}

// counters are this process's delivery counters across reloads.
func (m *mailer) counters() mailCounters {
	m.mu.Lock()
	defer m.mu.Unlock()
	c := mailCounters{sent: m.past.Sent, failed: m.past.Failed, retried: m.past.Retried}
	if m.worker != nil && m.cancel != nil {
		st := m.worker.Stats()
		c.sent += st.Sent
		c.failed += st.Failed
		c.retried += st.Retried
	}
	return c
}
