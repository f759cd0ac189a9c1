package mail

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/rosterhq/roster/core"
)

// Outbox is what the worker needs of the core service.
type Outbox interface {
	ClaimMail(ctx context.Context, lease time.Duration, limit int) ([]core.ClaimedMail, error)
	MailSent(ctx context.Context, id string) error
	MailRetryLater(ctx context.Context, id string, next time.Time, reason string) error
	MailFailed(ctx context.Context, id, reason string) error
}

var _ Outbox = (*core.Service)(nil)

// WorkerConfig tunes delivery.
type WorkerConfig struct {
	PublicURL    string        // invitation links are built from it (required)
	MaxAttempts  int           // attempts before a mail is given up as mail_error; 8 when 0
	RetryInitial time.Duration // delay after the first transient failure, doubled each time; 30s when 0
	RetryMax     time.Duration // the longest delay between attempts; 1h when 0
	PollInterval time.Duration // how often the queue is checked when idle; 2s when 0
	// Lease is how long a claimed mail is reserved for this worker. A worker
	// that dies mid-send leaves its row to be reclaimed after the lease
	// (at-least-once delivery after a crash). Longer than SendTimeout; 5m (or twice SendTimeout) when 0.
	Lease       time.Duration
	SendTimeout time.Duration // the whole SMTP exchange of one mail; 1m when 0
}

// Validate fills defaults and checks the configuration.
func (c *WorkerConfig) Validate() error {
	if c.PublicURL == "" {
		return errors.New("mail worker: public_url is required to build invitation links")
	}
	if c.MaxAttempts == 0 {
		c.MaxAttempts = 8
	}
	if c.RetryInitial == 0 {
		c.RetryInitial = 30 * time.Second
	}
	if c.RetryMax == 0 {
		c.RetryMax = time.Hour
	}
	if c.PollInterval == 0 {
		c.PollInterval = 2 * time.Second
	}
	if c.SendTimeout == 0 {
		c.SendTimeout = time.Minute
	}
	if c.Lease == 0 {
		c.Lease = max(5*time.Minute, 2*c.SendTimeout)
	}
	switch {
	case c.MaxAttempts < 1:
		return fmt.Errorf("mail worker: max_attempts %d is below 1", c.MaxAttempts)
	case c.RetryInitial < 0 || c.RetryMax < c.RetryInitial:
		return fmt.Errorf("mail worker: retry delays %s..%s are not increasing", c.RetryInitial, c.RetryMax)
	case c.Lease <= c.SendTimeout:
		return fmt.Errorf("mail worker: lease %s must be longer than the send timeout %s", c.Lease, c.SendTimeout)
	}
	return nil
}

// Stats counts what a worker did since it started.
type Stats struct {
	Sent    uint64 `json:"sent"`
	Failed  uint64 `json:"failed"`
	Retried uint64 `json:"retried"`
}

// Worker delivers the outbox: it claims one due mail at a time, renders it,
// sends it and records the outcome through the core service.
type Worker struct {
	cfg    WorkerConfig
	box    Outbox
	sender Sender
	r      *Renderer
	clock  core.Clock
	log    *slog.Logger

	sent, failed, retried atomic.Uint64
}

// WorkerDeps are the worker's collaborators.
type WorkerDeps struct {
	Outbox   Outbox // the core service
	Sender   Sender
	Renderer *Renderer
	Clock    core.Clock // the same clock as the service's; SystemClock when nil
	Logger   *slog.Logger
}

// NewWorker builds a worker; Run starts it.
func NewWorker(cfg WorkerConfig, d WorkerDeps) (*Worker, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if d.Outbox == nil || d.Sender == nil || d.Renderer == nil {
		return nil, errors.New("mail worker: outbox, sender and renderer are required")
	}
	if d.Clock == nil {
		d.Clock = core.SystemClock{}
	}
	if d.Logger == nil {
		d.Logger = slog.New(slog.DiscardHandler)
	}
	return &Worker{cfg: cfg, box: d.Outbox, sender: d.Sender, r: d.Renderer, clock: d.Clock,
		log: d.Logger.With("component", "mail")}, nil
}

// Stats returns the counters.
func (w *Worker) Stats() Stats {
	return Stats{Sent: w.sent.Load(), Failed: w.failed.Load(), Retried: w.retried.Load()}
}

// Run delivers until ctx is done. A mail being sent when ctx ends is
// finished and recorded before Run returns, so a graceful stop neither loses
// nor duplicates a mail; the rest stays queued for the next start.
func (w *Worker) Run(ctx context.Context) error {
	w.log.Info("mail worker started", "max_attempts", w.cfg.MaxAttempts, "retry_initial", w.cfg.RetryInitial)
	t := time.NewTicker(w.cfg.PollInterval)
	defer t.Stop()
	for {
		if _, err := w.Drain(ctx); err != nil && ctx.Err() == nil {
			w.log.Error("mail queue", "err", err)
		}
		select {
		case <-ctx.Done():
			w.log.Info("mail worker stopped")
			return nil
		case <-t.C:
		}
	}
}

// Drain processes due mails until none is left or ctx is done, and returns
// how many it processed.
func (w *Worker) Drain(ctx context.Context) (int, error) {
	n := 0
	for ctx.Err() == nil {
		ok, err := w.ProcessOne(ctx)
		if err != nil {
			return n, err
		}
		if !ok {
			return n, nil
		}
		n++
	}
	return n, nil
}

// ProcessOne claims one due mail and delivers it. It reports whether there
// was one. Once claimed, the mail is sent and its outcome recorded even if
// ctx ends meanwhile (bounded by SendTimeout).
func (w *Worker) ProcessOne(ctx context.Context) (bool, error) {
	claimed, err := w.box.ClaimMail(ctx, w.cfg.Lease, 1)
	if err != nil || len(claimed) == 0 {
		return false, err
	}
	c := claimed[0]
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), w.cfg.SendTimeout)
	defer cancel()
	log := w.log.With("mail_id", c.Mail.ID, "kind", c.Mail.Kind, "attempt", c.Mail.Attempts)
	msg, err := w.render(c)
	if err != nil {
		// A template that renders with sample data but not with this user's;
		// retrying will not change that.
		err = &DeliveryError{Permanent: true, Err: fmt.Errorf("render: %w", err)}
	} else {
		err = w.sender.Send(dctx, *msg)
	}
	// Record with a context that outlives a stop request.
	rctx, rcancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer rcancel()
	switch {
	case err == nil:
		w.sent.Add(1)
		log.Info("mail sent", "language", c.Mail.Language)
		return true, w.box.MailSent(rctx, c.Mail.ID)
	case IsPermanent(err):
		w.failed.Add(1)
		log.Warn("mail refused", "err", err)
		return true, w.box.MailFailed(rctx, c.Mail.ID, err.Error())
	case c.Mail.Attempts >= w.cfg.MaxAttempts:
		w.failed.Add(1)
		log.Warn("mail given up", "err", err)
		return true, w.box.MailFailed(rctx, c.Mail.ID, fmt.Sprintf("gave up after %d attempts: %v", c.Mail.Attempts, err))
	default:
		w.retried.Add(1)
		next := w.clock.Now().Add(w.Backoff(c.Mail.Attempts))
		log.Info("mail deferred", "err", err, "next_attempt_at", next)
		return true, w.box.MailRetryLater(rctx, c.Mail.ID, next, err.Error())
	}
}

// Backoff is the delay after the attempt-th failed attempt: RetryInitial
// doubled for each earlier failure, at most RetryMax.
func (w *Worker) Backoff(attempt int) time.Duration {
	d := w.cfg.RetryInitial
	for i := 1; i < attempt && d < w.cfg.RetryMax; i++ {
		d *= 2
	}
	return min(d, w.cfg.RetryMax)
}

func (w *Worker) render(c core.ClaimedMail) (*Message, error) {
	data, err := mailData(c, w.cfg.PublicURL)
	if err != nil {
		return nil, err
	}
	r, err := w.r.Render(c.Mail.Kind, c.Mail.Language, c.Override, data)
	if err != nil {
		return nil, err
	}
	return &Message{ID: c.Mail.ID, To: c.Mail.To, Subject: r.Subject, Text: r.Text, HTML: r.HTML}, nil
}
