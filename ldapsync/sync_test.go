package ldapsync

import (
	"errors"
	"fmt"
	"slices"
	"testing"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

func mustRun(t *testing.T, s *Source, o core.DirectoryRunOptions) *core.DirectoryReport {
	t.Helper()
	rep, err := s.run(t.Context(), o)
	if err != nil {
		t.Fatalf("run: %v (report %+v)", err, rep)
	}
	return rep
}

// TestSyncLifecycle walks one directory through the life of its users; each
// step checks what the run reported and what the store holds.
func TestSyncLifecycle(t *testing.T) {
	data := slapdtest.People(20) +
		slapdtest.Person("locked", "Lou", "Locked", "pwdAccountLockedTime: 000001010000Z") +
		slapdtest.GroupOfNames("roster-admins", slapdtest.UserDN("user0001")) +
		slapdtest.GroupOfNames("engineering", slapdtest.UserDN("user0002"), slapdtest.UserDN("user0003"), slapdtest.GroupDN("roster-admins"))
	srv := slapdtest.Start(t, data)
	e := newEnv(t)
	src := e.source(sourceConfig(srv, func(c *Config) {
		c.RoleRules = []RoleRule{{Group: "CN=Roster-Admins, ou=groups,dc=example,dc=com", Role: "admin"}}
		f := false
		c.ImportDisabled = &f // today's behaviour kept: the locked newcomer is skipped (TestImportDisabled: the default)
	}))

	// First sync: 20 users (the locked one is never imported), two groups, roles.
	rep := mustRun(t, src, core.DirectoryRunOptions{})
	if rep.Mode != core.SyncFull || rep.Created != 20 || rep.Disabled != 0 || rep.Status != core.RunOK {
		t.Fatalf("first sync: %+v", rep)
	}
	// The run says who it skipped, and why.
	if rep.Skipped != 1 || rep.SkippedReasons[core.SkipDisabled] != 1 {
		t.Errorf("skipped: %d %v, want the locked newcomer, as disabled", rep.Skipped, rep.SkippedReasons)
	}
	us := e.users()
	u1 := us["user0001"]
	if u1.Role != core.RoleAdmin || us["user0002"].Role != core.RoleMember {
		t.Errorf("roles: user0001 %s, user0002 %s", u1.Role, us["user0002"].Role)
	}
	if u1.Source != "ldap:corp" || u1.ExternalID == "" || u1.Email != "user0001@example.com" || u1.FirstName != "First1" || u1.Status != core.StatusActive {
		t.Errorf("user0001 = %+v", u1.User)
	}
	if _, ok := us["locked"]; ok {
		t.Error("a locked newcomer was imported")
	}
	if got := us["user0003"].Groups; !slices.Equal(got, []string{"engineering"}) {
		t.Errorf("user0003 groups = %v", got)
	}
	// Nested: roster-admins is inside engineering, so user0001 is in both.
	if got := u1.Groups; !slices.Equal(got, []string{"engineering", "roster-admins"}) {
		t.Errorf("user0001 groups = %v", got)
	}

	// New users' first memberships are recorded on their groups.
	if n := e.count(`SELECT COUNT(*) FROM history WHERE action = 'group.add_members' AND target_type = 'group'`); n != 2 {
		t.Errorf("%d group.add_members entries, want one per group", n)
	}
	// Idempotent: a second run writes nothing.
	h := e.history()
	rep = mustRun(t, src, core.DirectoryRunOptions{Full: true})
	if rep.Unchanged != 20 || rep.Created+rep.Updated+rep.Disabled+rep.Enabled+rep.Memberships != 0 {
		t.Fatalf("resync: %+v", rep)
	}
	if e.history() != h {
		t.Errorf("resync wrote %d history entries", e.history()-h)
	}

	steps := []struct {
		name  string
		ldif  string
		want  func(r *core.DirectoryReport) bool
		check func(t *testing.T)
	}{
		{name: "attribute change",
			ldif: "dn: " + slapdtest.UserDN("user0004") + "\nchangetype: modify\nreplace: sn\nsn: Renamed\n-\nreplace: telephoneNumber\ntelephoneNumber: +44 20 7946 0000\n",
			want: func(r *core.DirectoryReport) bool { return r.Updated == 1 && r.Unchanged == 19 },
			check: func(t *testing.T) {
				u := e.users()["user0004"]
				if u.LastName != "Renamed" || u.Phone != "+44 20 7946 0000" {
					t.Errorf("user0004 = %s %s", u.LastName, u.Phone)
				}
			}},
		{name: "user removed is disabled",
			ldif: "dn: " + slapdtest.UserDN("user0005") + "\nchangetype: delete\n",
			want: func(r *core.DirectoryReport) bool { return r.Disabled == 1 },
			check: func(t *testing.T) {
				if st := e.statuses()["user0005"]; st != core.StatusDisabled {
					t.Errorf("user0005 is %s", st)
				}
			}},
		{name: "re-added is re-enabled, not duplicated",
			ldif: "dn: " + slapdtest.UserDN("user0005") + "\nchangetype: add\nobjectClass: inetOrgPerson\nuid: user0005\ncn: x\ngivenName: First5\nsn: Last5\nmail: user0005@example.com\n",
			want: func(r *core.DirectoryReport) bool { return r.Enabled == 1 && r.Created == 0 },
			check: func(t *testing.T) {
				us := e.users()
				if len(us) != 20 || us["user0005"].Status != core.StatusActive {
					t.Errorf("%d users, user0005 %s", len(us), us["user0005"].Status)
				}
			}},
		{name: "locked account is disabled",
			ldif: "dn: " + slapdtest.UserDN("user0006") + "\nchangetype: modify\nadd: pwdAccountLockedTime\npwdAccountLockedTime: 000001010000Z\n",
			want: func(r *core.DirectoryReport) bool { return r.Disabled == 1 },
			check: func(t *testing.T) {
				if st := e.statuses()["user0006"]; st != core.StatusDisabled {
					t.Errorf("user0006 is %s", st)
				}
			}},
		{name: "unlocked account is active again",
			ldif: "dn: " + slapdtest.UserDN("user0006") + "\nchangetype: modify\ndelete: pwdAccountLockedTime\n",
			want: func(r *core.DirectoryReport) bool { return r.Enabled == 1 },
			check: func(t *testing.T) {
				if st := e.statuses()["user0006"]; st != core.StatusActive {
					t.Errorf("user0006 is %s", st)
				}
			}},
		{name: "joining the admin group makes an admin, leaving it a member",
			ldif: "dn: " + slapdtest.GroupDN("roster-admins") + "\nchangetype: modify\nreplace: member\nmember: " + slapdtest.UserDN("user0007") + "\n",
			want: func(r *core.DirectoryReport) bool { return r.Updated == 2 },
			check: func(t *testing.T) {
				us := e.users()
				if us["user0007"].Role != core.RoleAdmin || us["user0001"].Role != core.RoleMember {
					t.Errorf("user0007 %s, user0001 %s", us["user0007"].Role, us["user0001"].Role)
				}
				// A known user joining a group is recorded on the user.
				if n := e.count(`SELECT COUNT(*) FROM history WHERE action = 'group.add_member' AND target_id = ?`, us["user0007"].ID); n != 2 {
					t.Errorf("user0007 has %d group.add_member entries, want 2 (roster-admins, and engineering through it)", n)
				}
			}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			srv.Modify(st.ldif)
			rep := mustRun(t, src, core.DirectoryRunOptions{Full: true})
			if !st.want(rep) {
				t.Errorf("report: %+v", rep)
			}
			st.check(t)
		})
	}
}

// TestDeletionGuard: a broken filter, a half-empty answer or a dead server
// must apply nothing and disable nobody.
func TestDeletionGuard(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.People(20)+slapdtest.GroupOfNames("admins", slapdtest.UserDN("user0001")))
	tests := []struct {
		name   string
		edit   func(c *Config)
		before func()
		guard  bool
	}{
		{name: "a filter that matches nobody", guard: true,
			edit: func(c *Config) { c.Users.Filter = "(objectClass=nothingLikeThis)"; c.MaxRemovals = "100%" }},
		{name: "a filter that drops a quarter (over 5%)", guard: true,
			edit: func(c *Config) { c.Users.Filter = "(!(uid=user000*))"; c.MaxRemovals = "5%" }},
		{name: "a filter that drops a quarter (over a count of 4)", guard: true,
			edit: func(c *Config) { c.Users.Filter = "(!(uid=user000*))"; c.MaxRemovals = "4" }},
		{name: "a group filter that matches nobody", guard: true,
			edit: func(c *Config) { c.Groups.Filter = "(cn=no-such-group)" }},
		{name: "a wrong base DN",
			edit: func(c *Config) { c.Users.BaseDN = "ou=nowhere,dc=example,dc=com" }},
		{name: "a wrong bind password",
			edit: func(c *Config) { c.BindPassword = "wrong" }},
		{name: "an unreachable server",
			edit: func(c *Config) {
				c.URLs = []string{fmt.Sprintf("ldap://127.0.0.1:%d", slapdtest.FreePort(t))}
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			admins := func(c *Config) {
				c.RoleRules = []RoleRule{{Group: slapdtest.GroupDN("admins"), Role: "admin"}}
			}
			rep := mustRun(t, e.source(sourceConfig(srv, admins)), core.DirectoryRunOptions{})
			if rep.Created != 20 {
				t.Fatalf("first sync: %+v", rep)
			}
			edit := tt.edit
			tt.edit = func(c *Config) { admins(c); edit(c) }
			h := e.history()
			rep, err := e.source(sourceConfig(srv, tt.edit)).run(t.Context(), core.DirectoryRunOptions{Full: true})
			if err == nil {
				t.Fatalf("run succeeded: %+v", rep)
			}
			if got := errors.Is(err, core.ErrGuard); got != tt.guard {
				t.Errorf("guard = %v (%v)", got, err)
			}
			want := core.RunFailed
			if tt.guard {
				want = core.RunAborted
			}
			if rep.Status != want || rep.Disabled != 0 {
				t.Errorf("report: %+v", rep)
			}
			for n, s := range e.statuses() {
				if s != core.StatusActive {
					t.Errorf("%s is %s", n, s)
				}
			}
			if u := e.users()["user0001"]; u.Role != core.RoleAdmin || len(u.Groups) != 1 {
				t.Errorf("user0001 lost role or group: %s %v", u.Role, u.Groups)
			}
			if e.history() != h {
				t.Errorf("%d history entries written", e.history()-h)
			}
			runs, _ := e.svc.SyncRuns(e.ctx, "corp", 1)
			if len(runs) != 1 || runs[0].Status != want || runs[0].Message == "" {
				t.Errorf("run record: %+v", runs)
			}
		})
	}
}

// TestServerStopsMidSync: the server dies after the first page; the run
// fails and nobody is disabled.
func TestServerStopsMidSync(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.People(60))
	e := newEnv(t)
	src := e.source(sourceConfig(srv, func(c *Config) { c.MaxRemovals = "100%" }))
	mustRun(t, src, core.DirectoryRunOptions{})
	h := e.history()
	rep, err := src.run(t.Context(), core.DirectoryRunOptions{Full: true, Progress: func(p core.DirectoryProgress) {
		if p.Phase == "read" {
			srv.Stop()
		}
	}})
	if err == nil || rep.Status != core.RunFailed {
		t.Fatalf("run: %v %+v", err, rep)
	}
	if e.history() != h {
		t.Errorf("%d history entries written", e.history()-h)
	}
	for n, s := range e.statuses() {
		if s != core.StatusActive {
			t.Errorf("%s is %s", n, s)
		}
	}
}

// TestDryRunWritesNothing: the plan is reported, the store stays as it was.
func TestDryRunWritesNothing(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.People(10)+slapdtest.GroupOfNames("staff", slapdtest.UserDN("user0001")))
	e := newEnv(t)
	src := e.source(sourceConfig(srv, nil))
	rep := mustRun(t, src, core.DirectoryRunOptions{DryRun: true})
	if rep.Created != 10 || !rep.DryRun {
		t.Fatalf("dry run: %+v", rep)
	}
	for _, q := range []string{`SELECT COUNT(*) FROM users`, `SELECT COUNT(*) FROM history`, `SELECT COUNT(*) FROM groups WHERE source = 'ldap:corp'`,
		`SELECT COUNT(*) FROM ldap_sync_runs`, `SELECT COUNT(*) FROM ldap_sync_state`} {
		if n := e.count(q); n != 0 {
			t.Errorf("%s = %d", q, n)
		}
	}
	// After a real run, a dry run of a removal plans it and applies nothing.
	mustRun(t, src, core.DirectoryRunOptions{})
	srv.Modify("dn: " + slapdtest.UserDN("user0002") + "\nchangetype: delete\n")
	rep = mustRun(t, src, core.DirectoryRunOptions{DryRun: true, Full: true})
	if rep.Disabled != 1 {
		t.Errorf("dry run: %+v", rep)
	}
	if st := e.statuses()["user0002"]; st != core.StatusActive {
		t.Errorf("user0002 is %s after a dry run", st)
	}
}
