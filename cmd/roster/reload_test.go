package main

import (
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/rosterhq/roster/internal/testkit/mailtest"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// waitLog waits until the daemon's log contains want after offset from.
func (d *daemon) waitLog(t *testing.T, from int, want string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if l := d.logs.String(); len(l) >= from && strings.Contains(l[from:], want) {
			return l[from:]
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no %q in the log after offset %d:\n%s", want, from, d.logs.String()[from:])
	return ""
}

func (d *daemon) hup(t *testing.T) int {
	t.Helper()
	at := len(d.logs.String())
	if err := d.cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	return at
}

// SIGHUP re-reads the config: a good one changes the log level and adds an
// LDAP source (scheduled at once, visible in the admin API and /metrics)
// and reports the restart-only keys it kept; a bad one is rejected with its
// reasons logged while the old configuration keeps running.
func TestSIGHUPReloadsTheConfig(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.People(3))
	dir := t.TempDir()
	base := "listen: 127.0.0.1:0\ndatabase: {dsn: " + filepath.Join(dir, "r.db") + "}\n"
	cfg := writeConfig(t, dir, base+"log: {level: info}\n")
	if r := roster(t, dir, "Owner-of-it-all-1\n", "user", "create", "--config", cfg, "--username", "boss@example.com", "--email", "boss@example.com",
		"--first", "B", "--last", "Oss", "--role", "owner", "--no-invite", "--password-stdin"); r.code != 0 {
		t.Fatalf("owner: %s", r.stderr)
	}
	d := startServe(t, dir, "--config", cfg)
	code, m := call(t, nil, "POST", d.base+"/api/v1/auth/login", "", `{"username":"boss@example.com","password":"Owner-of-it-all-1"}`)
	if code != 200 {
		t.Fatalf("login: %d %v", code, m)
	}
	tok := m["token"].(string)
	sources := func() []string {
		code, m := call(t, nil, "GET", d.base+"/api/v1/ldap/sources", tok, "")
		if code != 200 {
			t.Fatalf("ldap sources: %d %v", code, m)
		}
		var out []string
		list, _ := m["sources"].([]any)
		for _, s := range list {
			out = append(out, s.(map[string]any)["name"].(string))
		}
		return out
	}
	if s := sources(); len(s) != 0 {
		t.Fatalf("sources before reload: %v", s)
	}
	at := len(d.logs.String())
	get(t, d.base+"/healthz")
	d.waitLog(t, at, `msg=request`) // info lines are logged

	// A good config: log level warn, a new LDAP source, and a new listen
	// address (which cannot change live).
	good := strings.Replace(base, "127.0.0.1:0", "127.0.0.1:1", 1) + `log: {level: warn}
ldap:
  sources:
    - name: corp
      urls: ["` + srv.URL + `"]
      bind_dn: "` + slapdtest.AdminDN + `"
      bind_password: "` + slapdtest.AdminPW + `"
      users: {base_dn: "` + slapdtest.PeopleDN + `"}
      invite: false
`
	writeConfig(t, dir, good)
	at = d.hup(t)
	logs := d.waitLog(t, at, `msg="config reloaded"`)
	for _, want := range []string{`keys="[listen public_url]"`, `ldap_sources=[corp]`, `log_level=warn`} {
		if !strings.Contains(logs, want) {
			t.Errorf("reload log lacks %s:\n%s", want, logs)
		}
	}
	if s := sources(); len(s) != 1 || s[0] != "corp" {
		t.Fatalf("sources after reload: %v", s)
	}
	// The new source was scheduled: its first run shows in /metrics.
	deadline := time.Now().Add(20 * time.Second)
	for value(scrape(t, nil, d.base), "roster_ldap_sync_runs_total", "source=corp", "status=ok") < 1 {
		if time.Now().After(deadline) {
			t.Fatalf("no sync run of the new source:\n%s", d.logs)
		}
		time.Sleep(100 * time.Millisecond)
	}
	fams := scrape(t, nil, d.base)
	if v := value(fams, "roster_ldap_sync_changes_total", "source=corp", "change=created"); v != 3 {
		t.Errorf("created by the new source: %v", v)
	}
	if v := value(fams, "roster_config_reloads_total", "result=applied"); v != 1 {
		t.Errorf("applied reloads: %v", v)
	}
	// At level warn the request lines are gone; the old listener still serves.
	at = len(d.logs.String())
	if code, _ := get(t, d.base+"/healthz"); code != 200 {
		t.Fatal("healthz after reload")
	}
	time.Sleep(200 * time.Millisecond)
	if l := d.logs.String()[at:]; strings.Contains(l, "msg=request") {
		t.Fatalf("request logged at level warn:\n%s", l)
	}

	// Bad configs: rejected, reasons logged, the old one keeps running.
	for _, tt := range []struct {
		name, body string
		reasons    []string
	}{
		{"unknown key and bad level", base + "log: {level: loud}\nlisten_typo: x\n", []string{"listen_typo: unknown key (line 4)"}},
		{"bad values", base + "log: {level: loud}\n", []string{`log.level: \"loud\" is not one of debug, info, warn, error`}},
		{"smtp that cannot be built", base + "log: {level: debug}\nsmtp: {host: mail.example.com, from: r@example.com, ca_file: " + filepath.Join(dir, "nope.pem") + "}\n",
			[]string{"nope.pem"}},
		{"unreadable file", "", []string{"read config"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.body == "" {
				os.Remove(cfg)
			} else {
				writeConfig(t, dir, tt.body)
			}
			at := d.hup(t)
			logs := d.waitLog(t, at, `msg="config reload rejected; the running configuration stays"`)
			for _, r := range tt.reasons {
				if !strings.Contains(logs, r) {
					t.Errorf("rejection does not give %q:\n%s", r, logs)
				}
			}
			if code, _ := get(t, d.base+"/healthz"); code != http.StatusOK {
				t.Fatal("the daemon stopped serving after a bad reload")
			}
			if s := sources(); len(s) != 1 || s[0] != "corp" {
				t.Fatalf("sources after a rejected reload: %v", s)
			}
			at = len(d.logs.String())
			get(t, d.base+"/healthz")
			time.Sleep(150 * time.Millisecond)
			if l := d.logs.String()[at:]; strings.Contains(l, "msg=request") {
				t.Fatalf("the rejected log level was applied:\n%s", l)
			}
		})
	}
	if v := value(scrape(t, nil, d.base), "roster_config_reloads_total", "result=rejected"); v != 4 {
		t.Errorf("rejected reloads: %v", v)
	}
	// Directory users log in through the source; once a reload drops the
	// source, they no longer can.
	if code, _ := call(t, nil, "POST", d.base+"/api/v1/auth/login", "", `{"username":"user0001","password":"pw-user0001"}`); code != 200 {
		t.Fatalf("directory login: %d", code)
	}
	writeConfig(t, dir, base+"log: {level: info}\n")
	at = d.hup(t)
	d.waitLog(t, at, `msg="config reloaded"`)
	if s := sources(); len(s) != 0 {
		t.Fatalf("sources after dropping corp: %v", s)
	}
	if code, _ := call(t, nil, "POST", d.base+"/api/v1/auth/login", "", `{"username":"user0002","password":"pw-user0002"}`); code != 401 {
		t.Fatalf("directory login after its source was dropped: %d", code)
	}
	d.stop(t)
}

// SMTP settings apply on reload: a mail queued while no SMTP server was
// configured is delivered once a reload names one.
func TestSIGHUPAppliesSMTP(t *testing.T) {
	catcher := mailtest.Start(t)
	dir := t.TempDir()
	base := "listen: 127.0.0.1:0\npublic_url: http://roster.test\ndatabase: {dsn: " + filepath.Join(dir, "r.db") + "}\n"
	cfg := writeConfig(t, dir, base)
	d := startServe(t, dir, "--config", cfg)
	if r := roster(t, dir, "", "user", "create", "--config", cfg, "--username", "wait@example.com", "--email", "wait@example.com",
		"--first", "W", "--last", "Ait", "--invite", "mail"); r.code != 0 {
		t.Fatalf("user create: %s", r.stderr)
	}
	if v := value(scrape(t, nil, d.base), "roster_mail_queue_depth"); v != 1 {
		t.Fatalf("queue depth %v", v)
	}
	writeConfig(t, dir, base+fmt.Sprintf("smtp: {host: %s, port: %d, tls: none, from: \"Roster <no-reply@roster.test>\"}\n", catcher.Host, catcher.Port))
	at := d.hup(t)
	logs := d.waitLog(t, at, `msg="config reloaded"`)
	if !strings.Contains(logs, "changed=[smtp]") {
		t.Errorf("reload log:\n%s", logs)
	}
	msg := catcher.WaitTo(t, "wait@example.com", 20*time.Second)
	if msg.Link("http://roster.test/invite/") == "" {
		t.Fatalf("no invite link:\n%s", msg.Body())
	}
	deadline := time.Now().Add(10 * time.Second)
	for value(scrape(t, nil, d.base), "roster_mail_sent_total") != 1 {
		if time.Now().After(deadline) {
			t.Fatal("roster_mail_sent_total did not reach 1")
		}
		time.Sleep(50 * time.Millisecond)
	}
	// Removing SMTP again stops the worker; the counters stay.
	writeConfig(t, dir, base)
	at = d.hup(t)
	d.waitLog(t, at, `msg="config reloaded"`)
	if v := value(scrape(t, nil, d.base), "roster_mail_sent_total"); v != 1 {
		t.Fatalf("sent counter after the worker was replaced: %v", v)
	}
	d.stop(t)
}
