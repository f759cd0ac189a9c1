package ldapsync

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// TestPassThroughLogin binds as the user: the right password passes, the
// wrong one, an empty one, a locked account and filter tricks do not.
func TestPassThroughLogin(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.People(3)+slapdtest.Person("locked", "Lou", "Locked", "pwdAccountLockedTime: 000001010000Z"))
	e := newEnv(t)
	src := e.source(sourceConfig(srv, nil))
	mustRun(t, src, core.DirectoryRunOptions{})
	tests := []struct {
		name, user, pw string
		want           error // nil: success
	}{
		{"right password", "user0001", "pw-user0001", nil},
		{"wrong password", "user0001", "pw-user0002", core.ErrUnauthorized},
		{"empty password (an unauthenticated bind on many servers)", "user0001", "", core.ErrUnauthorized},
		{"empty username", "", "x", core.ErrUnauthorized},
		{"unknown user", "nobody", "pw", core.ErrNotFound},
		{"a wildcard is a literal", "user*", "pw-user0001", core.ErrNotFound},
		{"filter injection is escaped", "user0001)(uid=*", "pw-user0001", core.ErrNotFound},
		{"locked in the directory (ppolicy)", "locked", "pw-locked", core.ErrUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ext, err := src.Bind(t.Context(), tt.user, tt.pw)
			if tt.want == nil {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
				if u := e.users()[tt.user]; ext == "" || u.ExternalID != ext {
					t.Errorf("external id %q, user has %q", ext, u.ExternalID)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Errorf("err = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestOnDemandImport: an on-demand source creates nobody on its runs, imports
// one user when asked (role from nested groups), then keeps that user in sync.
func TestOnDemandImport(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.People(5)+
		slapdtest.GroupOfNames("devs", slapdtest.UserDN("user0002"))+
		slapdtest.GroupOfNames("admins", slapdtest.GroupDN("devs")))
	e := newEnv(t)
	src := e.source(sourceConfig(srv, func(c *Config) {
		c.Mode = "on_demand"
		c.RoleRules = []RoleRule{{Group: slapdtest.GroupDN("admins"), Role: "admin"}}
	}))
	if rep := mustRun(t, src, core.DirectoryRunOptions{}); rep.Created != 0 || len(e.users()) != 0 {
		t.Fatalf("run created users: %+v", rep)
	}
	u, err := src.Import(t.Context(), "user0002")
	if err != nil {
		t.Fatal(err)
	}
	if u.Source != "ldap:corp" || u.Role != core.RoleAdmin || u.Email != "user0002@example.com" {
		t.Errorf("imported %+v", u.User)
	}
	if _, err := src.Import(t.Context(), "nobody"); !errors.Is(err, core.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
	if _, err := src.Import(t.Context(), "user0002"); err != nil {
		t.Errorf("a second import is a no-op, got %v", err)
	}
	srv.Modify("dn: " + slapdtest.UserDN("user0002") + "\nchangetype: modify\nreplace: sn\nsn: Kept\n")
	rep := mustRun(t, src, core.DirectoryRunOptions{Full: true})
	if rep.Created != 0 || rep.Updated != 1 || len(e.users()) != 1 || e.users()["user0002"].LastName != "Kept" {
		t.Errorf("run after import: %+v", rep)
	}
	if g := e.users()["user0002"].Groups; len(g) != 2 {
		t.Errorf("groups after the run: %v", g)
	}
	all := e.source(sourceConfig(srv, nil))
	if _, err := all.Import(t.Context(), "user0003"); !errors.Is(err, ErrNotOnDemand) {
		t.Errorf("mode all: %v", err)
	}
}

// TestSecretsNeverLogged: neither the bind password nor a user's password
// appears in log lines, reports or errors, whether the bind works or not.
func TestSecretsNeverLogged(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.People(2))
	e := newEnv(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	// The core logs the run; the source logs its connections.
	svc, err := core.NewService(core.Config{}, core.Deps{Store: e.store, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	var seen []string
	for _, pw := range []string{slapdtest.AdminPW, "wrong-bind-secret"} {
		src, err := New(sourceConfig(srv, func(c *Config) { c.BindPassword = pw }), e.org.ID, Deps{Service: svc, Logger: log})
		if err != nil {
			t.Fatal(err)
		}
		rep, err := src.run(t.Context(), core.DirectoryRunOptions{Full: true})
		b, _ := json.Marshal(rep)
		seen = append(seen, string(b), fmt.Sprint(err))
		_, err = src.Bind(t.Context(), "user0001", "user-secret-guess")
		seen = append(seen, fmt.Sprint(err))
	}
	seen = append(seen, logs.String())
	for _, s := range seen {
		for _, secret := range []string{slapdtest.AdminPW, "wrong-bind-secret", "user-secret-guess"} {
			if strings.Contains(s, secret) {
				t.Errorf("%q leaked in %q", secret, s)
			}
		}
	}
	if !strings.Contains(logs.String(), "directory sync finished") {
		t.Errorf("no log lines were captured: %q", logs.String())
	}
}

// countingAuth counts the binds core asks a source for.
type countingAuth struct {
	core.DirectoryAuthenticator
	n atomic.Int64
}

func (c *countingAuth) Authenticate(ctx context.Context, u *core.User, pw string) (bool, error) {
	c.n.Add(1)
	return c.DirectoryAuthenticator.Authenticate(ctx, u, pw)
}

// TestLoginThroughTheDirectory: core's Login checks a synced user's password
// by binding to slapd, and roster's own rules still apply (ten wrong
// passwords lock the user in roster, whatever the directory says). A locked
// user is no password oracle: no bind is made, and the right password gets
// a wrong one's answer.
func TestLoginThroughTheDirectory(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.People(2))
	e := newEnv(t)
	src := e.source(sourceConfig(srv, nil))
	mustRun(t, src, core.DirectoryRunOptions{})
	login := func(pw string) error {
		_, err := e.svc.Login(e.ctx, core.LoginInput{Org: core.DefaultOrg, Username: "user0001", Password: pw, Audience: core.AudienceConsole})
		return err
	}
	if err := login("pw-user0001"); !errors.Is(err, core.ErrUnauthorized) {
		t.Fatalf("login before the directory is registered: %v", err)
	}
	binds := &countingAuth{DirectoryAuthenticator: src}
	e.svc.RegisterDirectoryAuthenticator("ldap:corp", binds)
	if err := login("pw-user0001"); err != nil {
		t.Fatalf("directory password: %v", err)
	}
	for i := 0; i < 10; i++ {
		if err := login("wrong"); !errors.Is(err, core.ErrUnauthorized) {
			t.Fatalf("wrong password %d: %v", i, err)
		}
	}
	before := binds.n.Load()
	for _, pw := range []string{"pw-user0001", "wrong"} {
		if err := login(pw); err == nil || err.Error() != "invalid username or password" {
			t.Fatalf("after ten failures: %v", err)
		}
	}
	if n := binds.n.Load() - before; n != 0 {
		t.Fatalf("%d binds for a locked user", n)
	}
}
