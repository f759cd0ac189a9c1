package mailtest_test

import (
	"net/smtp"
	"strconv"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit/mailtest"
)

func TestCatcherKeepsMessagesAndLinks(t *testing.T) {
	c := mailtest.Start(t)
	msg := "Subject: hi\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\nOpen http://x.test/invite/rinv_abc=\r\ndef now\r\n"
	if err := smtp.SendMail(c.Host+":"+strconv.Itoa(c.Port), nil, "a@x.test", []string{"Zoe@x.test"}, []byte(msg)); err != nil {
		t.Fatal(err)
	}
	m := c.WaitTo(t, "zoe@x.test", 2*time.Second)
	if got := m.Link("/invite/"); got != "http://x.test/invite/rinv_abcdef" {
		t.Fatalf("link = %q", got)
	}
	if len(c.To("nobody@x.test")) != 0 {
		t.Fatal("message to an unrelated address")
	}
}
