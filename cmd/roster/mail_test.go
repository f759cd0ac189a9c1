package main

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/store"
)

// syncBuf is a goroutine-safe log sink.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) { s.mu.Lock(); defer s.mu.Unlock(); return s.b.Write(p) }
func (s *syncBuf) String() string              { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

type catcher struct {
	mu   sync.Mutex
	msgs [][]byte
}

type catchSession struct{ c *catcher }

func (s catchSession) Reset()                               {}
func (s catchSession) Logout() error                        { return nil }
func (s catchSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s catchSession) Rcpt(string, *smtp.RcptOptions) error { return nil }
func (s catchSession) Data(r io.Reader) error {
	b, err := io.ReadAll(r)
	s.c.mu.Lock()
	s.c.msgs = append(s.c.msgs, b)
	s.c.mu.Unlock()
	return err
}

// The daemon end to end: `roster serve` with an SMTP catcher mails the
// invitation of a user created on the same database, the link in the mail
// opens the acceptance page on serve's own listener, the password is set,
// the user is active, and the token never shows in serve's log.
func TestServeMailsInviteAndAcceptsIt(t *testing.T) {
	c := &catcher{}
	ss := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return catchSession{c}, nil }))
	ss.Domain = "localhost"
	sl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go func() { _ = ss.Serve(sl) }()
	defer ss.Close()

	hl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := hl.Addr().String()
	hl.Close()
	dir := t.TempDir()
	db := filepath.Join(dir, "roster.db")
	cfg := filepath.Join(dir, "roster.yaml")
	if err := os.WriteFile(cfg, []byte(`listen: `+addr+`
public_url: http://`+addr+`
database: {driver: sqlite, dsn: `+db+`}
smtp: {host: 127.0.0.1, port: `+strings.Split(sl.Addr().String(), ":")[1]+`, tls: none, from: "Roster <no-reply@roster.test>"}
`), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	logs := &syncBuf{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--config", cfg}, strings.NewReader(""), io.Discard, logs) }()
	defer func() {
		stop()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("serve: %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Error("serve did not stop")
		}
	}()
	waitFor(t, func() bool { return strings.Contains(logs.String(), "roster ready") }, "serve to start:\n"+logs.String())

	// Another process on the same database (like the admin API would) invites by mail.
	st, err := store.Open(ctx, store.Options{Driver: "sqlite", DSN: db}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := core.NewService(core.Config{}, core.Deps{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	o, err := svc.Org(ctx, core.DefaultOrg)
	if err != nil {
		t.Fatal(err)
	}
	res, err := svc.CreateUser(ctx, core.CLIActor(), core.NewUser{OrgID: o.ID, Username: "quinn@example.com",
		Email: "quinn@example.com", FirstName: "Quinn", Language: "de", Invite: core.InviteByMail})
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { c.mu.Lock(); defer c.mu.Unlock(); return len(c.msgs) == 1 }, "the invitation mail")
	c.mu.Lock()
	raw := strings.ReplaceAll(string(c.msgs[0]), "=\r\n", "") // quoted-printable soft line breaks
	c.mu.Unlock()
	link := regexp.MustCompile(`http://` + regexp.QuoteMeta(addr) + `/invite/rinv_[A-Za-z0-9_-]{43}`).FindString(raw)
	token := link[strings.LastIndex(link, "/")+1:]
	if !core.ValidInviteToken(token) {
		t.Fatalf("no invitation link in the mail:\n%s", raw)
	}
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d", "/invite/…", resp.StatusCode)
	}
	req, _ := http.NewRequest(http.MethodPost, link, strings.NewReader(url.Values{"password": {"correct horse battery"}, "confirm": {"correct horse battery"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://"+addr)
	resp, err = http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST: %d", resp.StatusCode)
	}
	u, err := svc.GetUser(ctx, o.ID, res.User.ID)
	if err != nil {
		t.Fatal(err)
	}
	if u.Status != core.StatusActive || u.InviteStatus != core.InviteAccepted {
		t.Fatalf("after accept: %s %s", u.Status, u.InviteStatus)
	}
	if strings.Contains(logs.String(), token) {
		t.Fatalf("the token appears in serve's log:\n%s", logs.String())
	}
}

func waitFor(t *testing.T, cond func() bool, what string) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
