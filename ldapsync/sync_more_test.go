package ldapsync

import (
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// TestIncrementalSync: after a full run, a run reads only what changed since
// the watermark; a changed group, or full_sync_every elapsed, makes it full.
func TestIncrementalSync(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.People(30)+slapdtest.GroupOfNames("staff", slapdtest.UserDN("user0001")))
	e := newEnv(t)
	now := time.Now()
	// The core decides when full_sync_every has elapsed, by its clock.
	svc, err := core.NewService(core.Config{}, core.Deps{Store: e.store, Clock: clockFunc(func() time.Time { return now })})
	if err != nil {
		t.Fatal(err)
	}
	cfg := sourceConfig(srv, nil)
	src, err := New(cfg, e.org.ID, Deps{Service: svc})
	if err != nil {
		t.Fatal(err)
	}
	if rep := mustRun(t, src, core.DirectoryRunOptions{}); rep.Mode != core.SyncFull || rep.Created != 30 {
		t.Fatalf("first: %+v", rep)
	}
	before11 := e.users()["user0011"].ExternalID
	steps := []struct {
		name    string
		ldif    string
		advance time.Duration
		mode    core.SyncMode
		check   func(t *testing.T, r *core.DirectoryReport)
	}{
		{name: "nothing changed", mode: core.SyncIncremental, check: func(t *testing.T, r *core.DirectoryReport) {
			if r.EntriesRead != 0 || r.Created+r.Updated+r.Disabled != 0 {
				t.Errorf("%+v", r)
			}
		}},
		{name: "one attribute changed", mode: core.SyncIncremental,
			ldif: "dn: " + slapdtest.UserDN("user0009") + "\nchangetype: modify\nreplace: givenName\ngivenName: Nine\n",
			check: func(t *testing.T, r *core.DirectoryReport) {
				if r.Updated != 1 || r.EntriesRead != 1 || e.users()["user0009"].FirstName != "Nine" {
					t.Errorf("%+v", r)
				}
			}},
		{name: "a new user", mode: core.SyncIncremental,
			ldif: "dn: " + slapdtest.UserDN("newbie") + "\nchangetype: add\nobjectClass: inetOrgPerson\nuid: newbie\ncn: n\nsn: Bie\nmail: newbie@example.com\n",
			check: func(t *testing.T, r *core.DirectoryReport) {
				if r.Created != 1 || e.users()["newbie"].Source != "ldap:corp" {
					t.Errorf("%+v", r)
				}
			}},
		{name: "a deleted user waits for the full run", mode: core.SyncIncremental,
			ldif: "dn: " + slapdtest.UserDN("user0010") + "\nchangetype: delete\n",
			check: func(t *testing.T, r *core.DirectoryReport) {
				if r.Disabled != 0 || e.statuses()["user0010"] != core.StatusActive {
					t.Errorf("%+v", r)
				}
			}},
		{name: "deleted and re-added under a new id is the same user", mode: core.SyncIncremental,
			ldif: "dn: " + slapdtest.UserDN("user0011") + "\nchangetype: delete\n\ndn: " + slapdtest.UserDN("user0011") +
				"\nchangetype: add\nobjectClass: inetOrgPerson\nuid: user0011\ncn: x\ngivenName: First11\nsn: Again\nmail: user0011@example.com\n",
			check: func(t *testing.T, r *core.DirectoryReport) {
				if r.Created != 0 || r.Updated != 1 || len(e.users()) != 31 {
					t.Errorf("%+v (%d users)", r, len(e.users()))
				}
				if u := e.users()["user0011"]; u.ExternalID == before11 || u.LastName != "Again" {
					t.Errorf("user0011: %s %s (was %s)", u.ExternalID, u.LastName, before11)
				}
			}},
		{name: "a changed group makes the run full", mode: core.SyncFull,
			ldif: "dn: " + slapdtest.GroupDN("staff") + "\nchangetype: modify\nadd: member\nmember: " + slapdtest.UserDN("user0002") + "\n",
			check: func(t *testing.T, r *core.DirectoryReport) {
				if r.Disabled != 1 || r.Memberships != 1 || e.statuses()["user0010"] != core.StatusDisabled {
					t.Errorf("%+v", r)
				}
				if g := e.users()["user0002"].Groups; !slices.Equal(g, []string{"staff"}) {
					t.Errorf("user0002 groups %v", g)
				}
			}},
		{name: "full_sync_every elapsed", advance: 25 * time.Hour, mode: core.SyncFull,
			check: func(t *testing.T, r *core.DirectoryReport) {
				if r.EntriesRead < 30 {
					t.Errorf("%+v", r)
				}
			}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.ldif != "" {
				srv.Modify(st.ldif)
			}
			now = now.Add(st.advance)
			rep := mustRun(t, src, core.DirectoryRunOptions{})
			if rep.Mode != st.mode {
				t.Errorf("mode %s, want %s", rep.Mode, st.mode)
			}
			st.check(t, rep)
			runs, err := e.svc.SyncRuns(e.ctx, "corp", 1)
			if err != nil || len(runs) != 1 || runs[0].Mode != st.mode || runs[0].Status != core.RunOK || runs[0].FinishedAt == nil {
				t.Errorf("run record: %+v %v", runs, err)
			}
		})
	}
}

// TestLinkExisting: a native user with the directory user's username or
// email is adopted only when the source says so; otherwise it is a conflict.
func TestLinkExisting(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.People(3))
	tests := []struct {
		link      string
		native    core.NewUser
		linked    int
		conflicts int
	}{
		{"never", core.NewUser{Username: "user0001", Email: "someone@example.com"}, 0, 1},
		{"email", core.NewUser{Username: "user0001", Email: "someone@example.com"}, 0, 1},
		{"username", core.NewUser{Username: "user0001", Email: "someone@example.com"}, 1, 0},
		{"email", core.NewUser{Username: "ann", Email: "user0001@example.com"}, 1, 0},
		{"username", core.NewUser{Username: "ann", Email: "user0001@example.com"}, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.link+"/"+tt.native.Username, func(t *testing.T) {
			e := newEnv(t)
			in := tt.native
			in.OrgID, in.FirstName, in.LastName, in.Invite = e.org.ID, "Native", "User", core.NoInvite
			nat, err := e.svc.CreateUser(e.ctx, core.CLIActor(), in)
			if err != nil {
				t.Fatal(err)
			}
			rep := mustRun(t, e.source(sourceConfig(srv, func(c *Config) { c.LinkExisting = tt.link })), core.DirectoryRunOptions{})
			if rep.Linked != tt.linked || rep.Conflicts != tt.conflicts {
				t.Fatalf("report: %+v", rep)
			}
			u, err := e.svc.GetUser(e.ctx, e.org.ID, nat.User.ID)
			if err != nil {
				t.Fatal(err)
			}
			if tt.linked == 1 {
				if u.Source != "ldap:corp" || u.ExternalID == "" || u.Username != "user0001" || u.Email != "user0001@example.com" {
					t.Errorf("linked user: %+v", u.User)
				}
				if rep.Created != 2 {
					t.Errorf("created %d", rep.Created)
				}
			} else {
				if u.Source != core.SourceNative || len(rep.Problems) == 0 {
					t.Errorf("native user changed or no problem reported: %+v %v", u.User, rep.Problems)
				}
			}
			// A second run is quiet: the conflict stays a conflict, nothing is written.
			h := e.history()
			rep = mustRun(t, e.source(sourceConfig(srv, func(c *Config) { c.LinkExisting = tt.link })), core.DirectoryRunOptions{Full: true})
			if rep.Created+rep.Updated+rep.Linked != 0 || e.history() != h {
				t.Errorf("second run: %+v", rep)
			}
		})
	}
}

// TestRemovalArchiveAndInvite: removal archive archives, a re-appearing user
// is restored; invite true makes invited users with a pending invitation.
func TestRemovalArchiveAndInvite(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.People(5))
	e := newEnv(t)
	tr := true
	src := e.source(sourceConfig(srv, func(c *Config) { c.Removal = "archive"; c.Invite = &tr }))
	mustRun(t, src, core.DirectoryRunOptions{})
	u := e.users()["user0001"]
	if u.Status != core.StatusInvited || u.InviteStatus != core.InvitePending {
		t.Fatalf("user0001 %s/%s", u.Status, u.InviteStatus)
	}
	if n := e.count(`SELECT COUNT(*) FROM invites`); n != 5 {
		t.Errorf("%d invites", n)
	}
	if n := e.count(`SELECT COUNT(*) FROM mail_outbox WHERE kind = 'invite' AND state = 'queued'`); n != 5 {
		t.Errorf("%d invitation mails queued, want 5", n)
	}
	srv.Modify("dn: " + slapdtest.UserDN("user0001") + "\nchangetype: delete\n")
	if rep := mustRun(t, src, core.DirectoryRunOptions{Full: true}); rep.Archived != 1 {
		t.Fatalf("archive run: %+v", rep)
	}
	if st := e.statuses()["user0001"]; st != core.StatusArchived {
		t.Fatalf("user0001 is %s", st)
	}
	srv.Modify("dn: " + slapdtest.UserDN("user0001") + "\nchangetype: add\nobjectClass: inetOrgPerson\nuid: user0001\ncn: x\ngivenName: First1\nsn: Last1\nmail: user0001@example.com\n")
	if rep := mustRun(t, src, core.DirectoryRunOptions{Full: true}); rep.Enabled != 1 || rep.Created != 0 {
		t.Fatalf("restore run: %+v", rep)
	}
	if st := e.statuses()["user0001"]; st != core.StatusInvited {
		t.Errorf("user0001 is %s, want invited (restored to the status before archiving)", st)
	}
	// An admin's own disable is respected: the directory does not undo it.
	id := e.users()["user0002"].ID
	if _, err := e.svc.ChangeStatus(e.ctx, core.CLIActor(), e.org.ID, id, core.ActDisable); err != nil {
		t.Fatal(err)
	}
	if rep := mustRun(t, src, core.DirectoryRunOptions{Full: true}); rep.Enabled != 0 {
		t.Errorf("run: %+v", rep)
	}
	if st := e.statuses()["user0002"]; st != core.StatusDisabled {
		t.Errorf("user0002 is %s", st)
	}
}

// TestGroupKinds: groupOfNames, groupOfUniqueNames (with the optional uid
// suffix), posixGroup memberUid, nested groups with a cycle, and differently
// written member DNs all land in core groups.
func TestGroupKinds(t *testing.T) {
	data := slapdtest.People(6) +
		"dn: cn=unique," + slapdtest.GroupsDN + "\nobjectClass: groupOfUniqueNames\ncn: unique\nuniqueMember: " + slapdtest.UserDN("user0001") + "#'0101'B\nuniqueMember: UID=User0002, OU=People, DC=Example, DC=Com\n\n" +
		"dn: cn=posix," + slapdtest.GroupsDN + "\nobjectClass: posixGroup\ncn: posix\ngidNumber: 5000\nmemberUid: user0003\nmemberUid: nobody-here\n\n" +
		slapdtest.GroupOfNames("ring-a", slapdtest.UserDN("user0004"), slapdtest.GroupDN("ring-b")) +
		slapdtest.GroupOfNames("ring-b", slapdtest.UserDN("user0005"), slapdtest.GroupDN("ring-a"))
	srv := slapdtest.Start(t, data)
	e := newEnv(t)
	rep := mustRun(t, e.source(sourceConfig(srv, func(c *Config) {
		c.RoleRules = []RoleRule{
			{Group: slapdtest.GroupDN("posix"), Role: "developer"},
			{Group: slapdtest.GroupDN("ring-a"), Role: "user_manager"},
			{Group: slapdtest.GroupDN("unique"), Role: "admin"},
		}
	})), core.DirectoryRunOptions{})
	if rep.Groups != 4 {
		t.Fatalf("report: %+v", rep)
	}
	us := e.users()
	want := map[string]struct {
		groups []string
		role   core.Role
	}{
		"user0001": {[]string{"unique"}, core.RoleAdmin},
		"user0002": {[]string{"unique"}, core.RoleAdmin},
		"user0003": {[]string{"posix"}, core.RoleDeveloper},
		"user0004": {[]string{"ring-a", "ring-b"}, core.RoleUserManager},
		"user0005": {[]string{"ring-a", "ring-b"}, core.RoleUserManager},
		"user0000": {[]string{}, core.RoleMember},
	}
	for name, w := range want {
		if got := us[name]; !slices.Equal(got.Groups, w.groups) || got.Role != w.role {
			t.Errorf("%s: groups %v role %s, want %v %s", name, got.Groups, got.Role, w.groups, w.role)
		}
	}
	// First match wins: in posix and unique, posix comes first.
	srv.Modify("dn: cn=posix," + slapdtest.GroupsDN + "\nchangetype: modify\nadd: memberUid\nmemberUid: user0001\n")
	mustRun(t, e.source(sourceConfig(srv, func(c *Config) {
		c.RoleRules = []RoleRule{{Group: slapdtest.GroupDN("posix"), Role: "developer"}, {Group: slapdtest.GroupDN("unique"), Role: "admin"}}
	})), core.DirectoryRunOptions{Full: true})
	if r := e.users()["user0001"].Role; r != core.RoleDeveloper {
		t.Errorf("user0001 role %s, want developer (first rule)", r)
	}
}

// guidBytes is objectGUID in AD's wire order for the canonical id s.
func guidBytes(t *testing.T, s string) []byte {
	var a [16]byte
	var d1 uint32
	var d2, d3 uint16
	var rest [8]byte
	if _, err := fmt.Sscanf(strings.ReplaceAll(s, "-", ""), "%08x%04x%04x%02x%02x%02x%02x%02x%02x%02x%02x", &d1, &d2, &d3,
		&rest[0], &rest[1], &rest[2], &rest[3], &rest[4], &rest[5], &rest[6], &rest[7]); err != nil {
		t.Fatal(err)
	}
	a[0], a[1], a[2], a[3] = byte(d1), byte(d1>>8), byte(d1>>16), byte(d1>>24)
	a[4], a[5], a[6], a[7] = byte(d2), byte(d2>>8), byte(d3), byte(d3>>8)
	copy(a[8:], rest[:])
	return a[:]
}

// TestActiveDirectoryPreset runs the AD preset against slapd entries that
// carry AD's attributes (a test schema): binary objectGUID as the external
// id, userAccountControl bit 2, sAMAccountName, uSNChanged watermarks.
// A real AD cannot run here; ranged member answers are covered by TestFetchRanges.
func TestActiveDirectoryPreset(t *testing.T) {
	adUser := func(sam, guid string, uac, usn int) string {
		return fmt.Sprintf("dn: cn=%s,%s\nobjectClass: inetOrgPerson\nobjectClass: adUser\ncn: %s\nsn: %s\ngivenName: G%s\nmail: %s@corp.example\nsAMAccountName: %s\nobjectGUID:: %s\nuserAccountControl: %d\nuSNChanged: %d\n\n",
			sam, slapdtest.PeopleDN, sam, strings.ToUpper(sam), sam, sam, sam, base64.StdEncoding.EncodeToString(guidBytes(t, guid)), uac, usn)
	}
	data := adUser("alice", "01020304-0506-0708-090a-0b0c0d0e0f10", 512, 100) +
		adUser("bob", "a1b2c3d4-e5f6-4711-8899-aabbccddeeff", 514, 101) + // ACCOUNTDISABLE
		adUser("carol", "11111111-2222-3333-4444-555555555555", 66048, 102) + // NORMAL|DONT_EXPIRE
		"dn: cn=admins," + slapdtest.GroupsDN + "\nobjectClass: groupOfNames\nobjectClass: adGroup\ncn: admins\nmember: cn=alice," + slapdtest.PeopleDN + "\nobjectGUID:: " + base64.StdEncoding.EncodeToString(guidBytes(t, "99999999-8888-7777-6666-555555555555")) + "\nuSNChanged: 90\n\n"
	srv := slapdtest.Start(t, data)
	e := newEnv(t)
	src := e.source(sourceConfig(srv, func(c *Config) {
		c.Preset = "active_directory"
		c.Users.Filter = "(objectClass=adUser)" // AD: (&(objectCategory=person)(objectClass=user)), the preset's default
		c.Groups.Filter = "(objectClass=adGroup)"
		c.RoleRules = []RoleRule{{Group: "cn=admins," + slapdtest.GroupsDN, Role: "admin"}}
	}))
	rep := mustRun(t, src, core.DirectoryRunOptions{})
	if rep.Created != 3 || rep.Errors != 0 {
		t.Fatalf("first: %+v", rep)
	}
	us := e.users()
	if a := us["alice"]; a.ExternalID != "01020304-0506-0708-090a-0b0c0d0e0f10" || a.Role != core.RoleAdmin || a.LastName != "ALICE" || !slices.Equal(a.Groups, []string{"admins"}) {
		t.Errorf("alice: %+v %v", a.User, a.Groups)
	}
	// Disabled at first sight (UAC bit 2): created disabled, its username taken by its owner.
	if b, ok := us["bob"]; !ok || b.Status != core.StatusDisabled {
		t.Errorf("a disabled AD account: %+v (present %v), want created disabled", b.User, ok)
	}
	if c := us["carol"]; c.ExternalID != "11111111-2222-3333-4444-555555555555" || c.Status != core.StatusActive {
		t.Errorf("carol: %+v", c.User)
	}
	st, _ := e.svc.SyncState(e.ctx, e.org.ID, "corp")
	if st.Watermark != "102" {
		t.Errorf("watermark %q, want the highest uSNChanged 102", st.Watermark)
	}
	// AD bumps uSNChanged on every change; the incremental run reads only that.
	srv.Modify("dn: cn=carol," + slapdtest.PeopleDN + "\nchangetype: modify\nreplace: userAccountControl\nuserAccountControl: 66050\n-\nreplace: uSNChanged\nuSNChanged: 1000\n")
	rep = mustRun(t, src, core.DirectoryRunOptions{})
	if rep.Mode != core.SyncIncremental || rep.EntriesRead != 1 || rep.Disabled != 1 {
		t.Errorf("incremental: %+v", rep)
	}
	if st := e.statuses()["carol"]; st != core.StatusDisabled {
		t.Errorf("carol is %s", st)
	}
}

// TestRunLease: while another process holds the source's run lease (one
// lease mechanism: the leases table), a run refuses to start and writes
// nothing; once released (or expired), it runs.
func TestRunLease(t *testing.T) {
	srv := slapdtest.Start(t, slapdtest.People(3))
	e := newEnv(t)
	src := e.source(sourceConfig(srv, nil))
	const lease = "directory-run:corp"
	take := func(owner string, ttl time.Duration) bool {
		t.Helper()
		ok, err := e.store.TryLease(e.ctx, lease, owner, time.Now(), ttl)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !take("other-host/1", time.Minute) {
		t.Fatal("could not plant the lease")
	}
	rep, err := src.run(t.Context(), core.DirectoryRunOptions{})
	if !errors.Is(err, core.ErrLeaseHeld) || rep.Status != core.RunFailed || len(e.users()) != 0 {
		t.Fatalf("run under another's lease: %v %+v", err, rep)
	}
	if err := e.store.ReleaseLease(e.ctx, lease, "other-host/1"); err != nil {
		t.Fatal(err)
	}
	if rep := mustRun(t, src, core.DirectoryRunOptions{}); rep.Created != 3 {
		t.Fatalf("run after release: %+v", rep)
	}
	// The run gave its own lease back: another owner can take it now.
	if !take("other-host/1", -time.Second) {
		t.Error("lease not released")
	}
	// An expired lease does not block.
	if rep := mustRun(t, src, core.DirectoryRunOptions{Full: true}); rep.Status != core.RunOK {
		t.Errorf("run after an expired lease: %+v", rep)
	}
}
