package ldapsync

import (
	"encoding/base64"
	"fmt"
	"testing"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// TestADWatermarkPerDC: two real slapd servers stand for two domain
// controllers of one AD domain (the same entries loaded in both, root DSEs
// giving each its own dsServiceName and highestCommittedUSN through
// olcRootDSE). The watermark is kept with the DC it came from: on the same
// DC the next run is incremental from that DC's highestCommittedUSN; when
// the first URL fails and the second DC answers, the run is full with reason
// "dc changed" (in the report and the run record) and picks up a change the
// second DC numbered below the first DC's watermark, which an incremental
// run on the old watermark would miss.
//
// What is fake: the root DSE values are static files (slapd does not count
// USNs; the test raises highestCommittedUSN by hand with SetRootDSE),
// uSNChanged is written by the test, and the two servers do not replicate.
func TestADWatermarkPerDC(t *testing.T) {
	adUser := func(sam, guid string, usn int) string {
		return fmt.Sprintf("dn: cn=%s,%s\nobjectClass: inetOrgPerson\nobjectClass: adUser\ncn: %s\nsn: %s\ngivenName: G%s\nmail: %s@corp.example\nsAMAccountName: %s\nobjectGUID:: %s\nuserAccountControl: 512\nuSNChanged: %d\n\n",
			sam, slapdtest.PeopleDN, sam, sam, sam, sam, sam, base64.StdEncoding.EncodeToString(guidBytes(t, guid)), usn)
	}
	data := adUser("alice", "01020304-0506-0708-090a-0b0c0d0e0f10", 100) +
		adUser("bob", "a1b2c3d4-e5f6-4711-8899-aabbccddeeff", 101)
	const (
		dc1 = "CN=NTDS Settings,CN=DC1,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=corp,DC=example"
		dc2 = "CN=NTDS Settings,CN=DC2,CN=Servers,CN=Default-First-Site-Name,CN=Sites,CN=Configuration,DC=corp,DC=example"
	)
	rootDSE := func(dc string, usn int) string {
		return fmt.Sprintf("dsServiceName: %s\nhighestCommittedUSN: %d\n", dc, usn)
	}
	a := slapdtest.StartRootDSE(t, data, rootDSE(dc1, 5000))
	b := slapdtest.StartRootDSE(t, data, rootDSE(dc2, 3000))
	e := newEnv(t)
	cfg := sourceConfig(a, func(c *Config) {
		c.Preset = "active_directory"
		c.URLs = []string{a.URL, b.URL}
		c.Users.Filter = "(objectClass=adUser)"
		c.Groups = Search{}
	})
	src := e.source(cfg)
	watermark := func() string {
		t.Helper()
		st, err := e.svc.SyncState(e.ctx, e.org.ID, "corp")
		if err != nil {
			t.Fatal(err)
		}
		return st.Watermark
	}
	lastRun := func() core.SyncRun {
		t.Helper()
		runs, err := e.svc.SyncRuns(e.ctx, "corp", 1)
		if err != nil || len(runs) != 1 {
			t.Fatalf("runs: %v %v", runs, err)
		}
		return runs[0]
	}

	rep := mustRun(t, src, core.DirectoryRunOptions{})
	if rep.Created != 2 || rep.Reason != core.RunReasonFirstRun {
		t.Fatalf("first run: %+v", rep)
	}
	// The DC's committed USN before the read, not the highest uSNChanged read (101).
	if wm := watermark(); wm != "5000;"+dc1 {
		t.Fatalf("watermark %q, want DC1's highestCommittedUSN with DC1", wm)
	}

	// DC1 numbers a change 5001: incremental on DC1.
	a.Modify("dn: cn=alice," + slapdtest.PeopleDN + "\nchangetype: modify\nreplace: sn\nsn: Changed-on-DC1\n-\nreplace: uSNChanged\nuSNChanged: 5001\n")
	a.SetRootDSE(rootDSE(dc1, 5001))
	rep = mustRun(t, src, core.DirectoryRunOptions{})
	if rep.Mode != core.SyncIncremental || rep.EntriesRead != 1 || rep.Updated != 1 {
		t.Fatalf("incremental on the same DC: %+v", rep)
	}
	if wm := watermark(); wm != "5001;"+dc1 {
		t.Fatalf("watermark %q after the incremental run", wm)
	}

	// DC1 fails; DC2, whose numbers are lower, has bob's change as 3001
	// (below DC1's 5001: an incremental run on DC1's watermark misses it).
	a.Stop()
	b.Modify("dn: cn=bob," + slapdtest.PeopleDN + "\nchangetype: modify\nreplace: sn\nsn: Changed-on-DC2\n-\nreplace: uSNChanged\nuSNChanged: 3001\n")
	b.SetRootDSE(rootDSE(dc2, 3001))
	rep = mustRun(t, src, core.DirectoryRunOptions{})
	if rep.Mode != core.SyncFull || rep.Reason != core.RunReasonDCChanged || rep.EntriesRead != 2 {
		t.Fatalf("after the failover: %+v", rep)
	}
	if r := lastRun(); r.Mode != core.SyncFull || r.Reason != core.RunReasonDCChanged {
		t.Fatalf("run record: %+v", r)
	}
	if u := e.users()["bob"]; u.LastName != "Changed-on-DC2" {
		t.Fatalf("bob's change on DC2 was missed: %+v", u.User)
	}
	if wm := watermark(); wm != "3001;"+dc2 {
		t.Fatalf("watermark %q, want DC2's own", wm)
	}

	// Still on DC2: incremental again, from DC2's number.
	b.Modify("dn: cn=alice," + slapdtest.PeopleDN + "\nchangetype: modify\nreplace: sn\nsn: Again-on-DC2\n-\nreplace: uSNChanged\nuSNChanged: 3002\n")
	rep = mustRun(t, src, core.DirectoryRunOptions{})
	if rep.Mode != core.SyncIncremental || rep.EntriesRead != 1 || rep.Updated != 1 {
		t.Fatalf("incremental on DC2: %+v", rep)
	}
}
