// Package mailtest runs a real SMTP server (emersion/go-smtp) on a loopback
// port for tests in any package: it accepts every message and keeps it, so a
// test can read what roster sent and follow the links in it.
package mailtest

import (
	"io"
	"log"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"mime/quotedprintable"

	"github.com/emersion/go-smtp"
)

// Message is one mail the catcher accepted.
type Message struct {
	From string
	To   []string
	Raw  []byte
}

// Body is the raw message with quoted-printable soft line breaks undone, so
// that links can be matched whole.
func (m Message) Body() string {
	b, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(string(m.Raw))))
	if err != nil {
		return string(m.Raw)
	}
	return string(b)
}

// Catcher is a running SMTP server on 127.0.0.1.
type Catcher struct {
	Host string
	Port int

	mu   sync.Mutex
	msgs []Message
	srv  *smtp.Server
}

// Start starts a catcher; it stops when the test ends.
func Start(t testing.TB) *Catcher {
	t.Helper()
	c := &Catcher{}
	c.srv = smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &session{c: c}, nil }))
	c.srv.Domain = "localhost"
	c.srv.ErrorLog = log.New(io.Discard, "", 0)
	c.srv.ReadTimeout = 10 * time.Second
	c.srv.WriteTimeout = 10 * time.Second
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c.Host = "127.0.0.1"
	c.Port = ln.Addr().(*net.TCPAddr).Port
	go func() { _ = c.srv.Serve(ln) }()
	t.Cleanup(func() { _ = c.srv.Close() })
	return c
}

// Messages returns a copy of every message accepted so far.
func (c *Catcher) Messages() []Message {
	c.mu.Lock()
	defer c.mu.Unlock()
	return append([]Message(nil), c.msgs...)
}

// To returns the messages addressed to rcpt (case-insensitive).
func (c *Catcher) To(rcpt string) []Message {
	var out []Message
	for _, m := range c.Messages() {
		for _, to := range m.To {
			if strings.EqualFold(to, rcpt) {
				out = append(out, m)
				break
			}
		}
	}
	return out
}

// WaitTo waits up to d for a message to rcpt and returns the first one.
func (c *Catcher) WaitTo(t testing.TB, rcpt string, d time.Duration) Message {
	t.Helper()
	deadline := time.Now().Add(d)
	for {
		if ms := c.To(rcpt); len(ms) > 0 {
			return ms[0]
		}
		if time.Now().After(deadline) {
			t.Fatalf("no mail to %s within %s (got %d messages)", rcpt, d, len(c.Messages()))
		}
		time.Sleep(20 * time.Millisecond)
	}
}

var linkRe = regexp.MustCompile(`https?://[^\s"'<>]+`)

// Link returns the first URL in the message that contains substr, or "".
func (m Message) Link(substr string) string {
	for _, l := range linkRe.FindAllString(m.Body(), -1) {
		if strings.Contains(l, substr) {
			return l
		}
	}
	return ""
}

type session struct {
	c    *Catcher
	from string
	to   []string
}

func (s *session) Reset()        { s.from, s.to = "", nil }
func (s *session) Logout() error { return nil }
func (s *session) Mail(from string, _ *smtp.MailOptions) error {
	s.from = from
	return nil
}
func (s *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *session) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.c.mu.Lock()
	s.c.msgs = append(s.c.msgs, Message{From: s.from, To: append([]string(nil), s.to...), Raw: b})
	s.c.mu.Unlock()
	return nil
}
