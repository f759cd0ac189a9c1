package main

import (
	"context"
	"net/http"
	"sync"

	"github.com/gorilla/mux"

	"github.com/rosterhq/roster/core/console"
	"github.com/rosterhq/roster/core/mail"
)

// startMail mounts the invitation and password-reset pages and starts the outbox worker when an
// SMTP server is configured. The returned stop waits until the worker has
// finished the mail it is sending.
func startMail(ctx context.Context, a *app, r *mux.Router, renderer *mail.Renderer) (stop func(), err error) {
	pages, err := console.NewInvites(a.svc, a.log)
	if err != nil {
		return nil, err
	}
	r.PathPrefix(console.Mount).Handler(pages)
	resets, err := console.NewResets(a.svc, a.log)
	if err != nil {
		return nil, err
	}
	r.PathPrefix(console.ResetMount).Handler(resets)
	var worker *mail.Worker // nil without SMTP: the counters stay zero
	r.Handle("/metrics", metricsHandler(a, func() *mail.Worker { return worker })).Methods(http.MethodGet)
	if a.cfg.SMTP.Host == "" {
		a.log.Warn("smtp.host is not set: invitation mails stay queued until an SMTP server is configured")
		return func() {}, nil
	}
	c := a.cfg.SMTP
	sender, err := mail.NewSMTPSender(mail.SMTPConfig{Host: c.Host, Port: c.Port, TLS: c.TLS, Username: c.Username,
		Password: c.Password, From: c.From, Timeout: c.Timeout, CAFile: c.CAFile})
	if err != nil {
		return nil, err
	}
	worker, err = mail.NewWorker(mail.WorkerConfig{PublicURL: a.cfg.PublicURL, MaxAttempts: c.MaxAttempts,
		RetryInitial: c.RetryInitial, RetryMax: c.RetryMax, SendTimeout: 2 * c.Timeout},
		mail.WorkerDeps{Outbox: a.svc, Sender: sender, Renderer: renderer, Logger: a.log})
	if err != nil {
		return nil, err
	}
	wctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	wg.Go(func() { _ = worker.Run(wctx) })
	a.log.Info("mail worker configured", "smtp", c.Host, "port", c.Port, "tls", c.TLS)
	return func() { cancel(); wg.Wait() }, nil
}
