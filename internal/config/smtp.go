package config

import (
	netmail "net/mail"
	"os"
	"time"
)

// defaults fills the mail delivery keys beyond the connection.
func (s *SMTP) defaults() {
	if s.MaxAttempts == 0 {
		s.MaxAttempts = 8
	}
	if s.RetryInitial == 0 {
		s.RetryInitial = 30 * time.Second
	}
	if s.RetryMax == 0 {
		s.RetryMax = time.Hour
	}
}

// validate checks the smtp.* keys that go beyond host, port and tls.
func (s *SMTP) validate(ps *Problems) {
	if s.TLS == "none" && s.Username != "" {
		ps.add("smtp.tls", "none would send the credentials of smtp.username in clear; use starttls or tls")
	}
	if s.From != "" {
		if _, err := netmail.ParseAddress(s.From); err != nil {
			ps.add("smtp.from", "%q is not a mail address", s.From)
		}
	}
	if s.Timeout < 0 {
		ps.add("smtp.timeout", "must not be negative")
	}
	if s.CAFile != "" {
		if _, err := os.Stat(s.CAFile); err != nil {
			ps.add("smtp.ca_file", "%v", err)
		}
	}
	if s.MaxAttempts < 1 {
		ps.add("smtp.max_attempts", "must be at least 1")
	}
	if s.RetryInitial < time.Second {
		ps.add("smtp.retry_initial", "%s is shorter than one second", s.RetryInitial)
	}
	if s.RetryMax < s.RetryInitial {
		ps.add("smtp.retry_max", "%s is shorter than smtp.retry_initial (%s)", s.RetryMax, s.RetryInitial)
	}
}
