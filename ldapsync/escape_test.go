package ldapsync

import (
	"errors"
	"testing"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// hostileUsernames are LDAP filter injections: each must be searched as the
// literal string it is, which no directory entry has.
var hostileUsernames = []string{
	"*)(uid=*", "*", "*)(|(uid=*", "user0001)(|(objectClass=*)", "user0001)(uid=*", "(uid=*)", `user0001\2a`,
	"user0001\x00", "user*", "*)(&", "))(((", "*)(userPassword=*",
}

// Against a real slapd: a username such as `*)(uid=*` finds nobody — not by
// the on-demand lookup, not by a pass-through bind, not by login through
// core — while a user whose username really holds those characters is
// found exactly (the input is escaped, not stripped).
func TestLDAPFilterInjectionFindsNothing(t *testing.T) {
	const odd = "odd*(user)"
	srv := slapdtest.Start(t, slapdtest.People(3)+slapdtest.Person(`odd*\28user\29`, "Odd", "User", "uid: "+odd))
	e := newEnv(t)
	ondemand := e.source(sourceConfig(srv, func(c *Config) { c.Name = "od"; c.Mode = "on_demand" }))
	all := e.source(sourceConfig(srv, nil))
	mustRun(t, all, core.DirectoryRunOptions{})
	e.svc.RegisterDirectoryAuthenticator("ldap:corp", all)
	before := len(e.users())
	for _, name := range hostileUsernames {
		t.Run(name, func(t *testing.T) {
			if u, err := ondemand.Import(t.Context(), name); err == nil || !errors.Is(err, core.ErrNotFound) {
				t.Errorf("on-demand import of %q: %v, %+v", name, err, u)
			}
			for _, pw := range []string{"pw-user0001", "pw-user0000", "*"} {
				if ext, err := all.Bind(t.Context(), name, pw); err == nil {
					t.Errorf("bind as %q with %q succeeded (%s)", name, pw, ext)
				}
				if _, err := e.svc.Login(e.ctx, core.LoginInput{Org: core.DefaultOrg, Username: name, Password: pw, Audience: core.AudienceConsole}); !errors.Is(err, core.ErrUnauthorized) {
					t.Errorf("login as %q: %v", name, err)
				}
			}
		})
	}
	if n := len(e.users()); n != before {
		t.Fatalf("hostile names changed the users: %d → %d", before, n)
	}
	// The real odd username is found, exactly.
	u, err := ondemand.Import(t.Context(), odd)
	if err != nil && !errors.Is(err, core.ErrConflict) {
		t.Fatalf("import of the literal %q: %v", odd, err)
	}
	if err == nil && u.Username != odd {
		t.Fatalf("imported %q", u.Username)
	}
	if ext, err := all.Bind(t.Context(), odd, "pw-"+`odd*\28user\29`); err != nil || ext == "" {
		t.Fatalf("bind as the literal %q: %q, %v", odd, ext, err)
	}
}
