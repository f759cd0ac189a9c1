package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	netmail "net/mail"
	"os"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// Message is one rendered mail to one recipient.
type Message struct {
	ID      string // the outbox row's id: the Message-ID is built from it, so a resent copy is recognisable
	To      string
	Subject string
	Text    string
	HTML    string
}

// Sender delivers a message. A *DeliveryError with Permanent set means that
// retrying will not help.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// DeliveryError is a failed delivery, classified.
type DeliveryError struct {
	Permanent bool
	Code      int // the SMTP reply code when there was one
	Err       error
}

func (e *DeliveryError) Error() string { return e.Err.Error() }
func (e *DeliveryError) Unwrap() error { return e.Err }

// IsPermanent reports whether err is a delivery that retrying cannot fix.
func IsPermanent(err error) bool {
	var de *DeliveryError
	return errors.As(err, &de) && de.Permanent
}

// TLS modes.
const (
	TLSNone     = "none"     // plain SMTP (a local relay or catcher); no credentials allowed
	TLSStartTLS = "starttls" // STARTTLS is required, the connection fails without it
	TLSImplicit = "tls"      // TLS from the first byte (usually port 465)
)

// SMTPConfig configures the SMTP sender.
type SMTPConfig struct {
	Host     string
	Port     int    // 587 for starttls, 465 for tls, 25 for none when 0
	TLS      string // none | starttls | tls; starttls when empty
	Username string // set: authenticate (the mechanism is discovered)
	Password string
	From     string        // "Example Corp <no-reply@example.com>"
	Timeout  time.Duration // dial and each command; 30s when 0
	CAFile   string        // PEM CA bundle; the system roots when empty
	RootCAs  *x509.CertPool
	HELO     string // the name roster gives in EHLO; go-mail's default (the host name) when empty
}

// Validate fills defaults and checks the configuration. Errors name the smtp.* key.
func (c *SMTPConfig) Validate() error {
	var errs []error
	if c.TLS == "" {
		c.TLS = TLSStartTLS
	}
	if c.Timeout == 0 {
		c.Timeout = 30 * time.Second
	}
	if c.Port == 0 {
		switch c.TLS {
		case TLSImplicit:
			c.Port = 465
		case TLSNone:
			c.Port = 25
		default:
			c.Port = 587
		}
	}
	if c.Host == "" {
		errs = append(errs, errors.New("smtp.host: is required"))
	}
	if c.Port < 1 || c.Port > 65535 {
		errs = append(errs, fmt.Errorf("smtp.port: %d is not a port", c.Port))
	}
	switch c.TLS {
	case TLSNone, TLSStartTLS, TLSImplicit:
	default:
		errs = append(errs, fmt.Errorf("smtp.tls: %q is not one of none, starttls, tls", c.TLS))
	}
	if c.TLS == TLSNone && c.Username != "" {
		errs = append(errs, errors.New("smtp.tls: none would send the credentials of smtp.username in clear; use starttls or tls"))
	}
	if _, err := netmail.ParseAddress(c.From); err != nil {
		errs = append(errs, fmt.Errorf("smtp.from: %q is not a mail address: %v", c.From, err))
	}
	if c.CAFile != "" && c.RootCAs == nil {
		pem, err := os.ReadFile(c.CAFile)
		if err != nil {
			errs = append(errs, fmt.Errorf("smtp.ca_file: %w", err))
		} else {
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				errs = append(errs, fmt.Errorf("smtp.ca_file: %s holds no PEM certificate", c.CAFile))
			}
			c.RootCAs = pool
		}
	}
	return errors.Join(errs...)
}

// SMTPSender delivers over SMTP, one connection per message.
type SMTPSender struct {
	cfg  SMTPConfig
	opts []gomail.Option
}

// NewSMTPSender validates cfg and builds the sender. It does not connect.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	opts := []gomail.Option{gomail.WithPort(cfg.Port), gomail.WithTimeout(cfg.Timeout),
		gomail.WithTLSConfig(&tls.Config{ServerName: cfg.Host, RootCAs: cfg.RootCAs, MinVersion: tls.VersionTLS12})}
	switch cfg.TLS {
	case TLSNone:
		opts = append(opts, gomail.WithTLSPolicy(gomail.NoTLS))
	case TLSStartTLS:
		opts = append(opts, gomail.WithTLSPolicy(gomail.TLSMandatory))
	case TLSImplicit:
		opts = append(opts, gomail.WithSSL())
	}
	if cfg.Username != "" {
		opts = append(opts, gomail.WithSMTPAuth(gomail.SMTPAuthAutoDiscover),
			gomail.WithUsername(cfg.Username), gomail.WithPassword(cfg.Password))
	}
	if cfg.HELO != "" {
		opts = append(opts, gomail.WithHELO(cfg.HELO))
	}
	return &SMTPSender{cfg: cfg, opts: opts}, nil
}

// Send delivers m. A refused recipient or message (5xx) and an address that
// does not parse are permanent; a 4xx reply, a connection, TLS or
// authentication problem is transient (the worker retries, then gives up).
func (s *SMTPSender) Send(ctx context.Context, m Message) error {
	msg := gomail.NewMsg()
	if err := msg.From(s.cfg.From); err != nil {
		return &DeliveryError{Permanent: true, Err: fmt.Errorf("from address %q: %w", s.cfg.From, err)}
	}
	if _, err := netmail.ParseAddress(m.To); err != nil {
		return &DeliveryError{Permanent: true, Err: fmt.Errorf("invalid recipient address %q: %v", m.To, err)}
	}
	if err := msg.To(m.To); err != nil {
		return &DeliveryError{Permanent: true, Err: fmt.Errorf("invalid recipient address %q: %v", m.To, err)}
	}
	msg.Subject(m.Subject)
	msg.SetDate()
	if m.ID != "" {
		msg.SetMessageIDWithValue(m.ID + "@roster")
	}
	msg.SetGenHeader(gomail.Header("Auto-Submitted"), "auto-generated")
	msg.SetBodyString(gomail.TypeTextPlain, m.Text)
	if m.HTML != "" {
		msg.AddAlternativeString(gomail.TypeTextHTML, m.HTML)
	}
	client, err := gomail.NewClient(s.cfg.Host, s.opts...)
	if err != nil {
		return &DeliveryError{Err: fmt.Errorf("smtp client: %w", err)}
	}
	if err := client.DialAndSendWithContext(ctx, msg); err != nil {
		return classify(err)
	}
	return nil
}

// classify tells a permanent refusal from a transient failure.
func classify(err error) error {
	var se *gomail.SendError
	if errors.As(err, &se) {
		code := se.ErrorCode()
		switch se.Reason {
		case gomail.ErrSMTPMailFrom, gomail.ErrSMTPRcptTo, gomail.ErrSMTPData, gomail.ErrSMTPDataClose:
			if code >= 500 && code < 600 {
				return &DeliveryError{Permanent: true, Code: code, Err: err}
			}
		}
		return &DeliveryError{Code: code, Err: err}
	}
	return &DeliveryError{Err: err}
}
