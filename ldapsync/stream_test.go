package ldapsync

import (
	"bytes"
	"maps"
	"slices"
	"sync"
	"testing"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// TestFirstFullRunWritesWhileReading: the first full run of a source into a
// store holding none of its users writes users while the directory is still
// being read (an apply progress with users created comes before the last
// read progress), and ends with the store a run that does not stream gives
// (role rules turn streaming off): the same users, attributes, statuses,
// roles, group memberships and history. 12,000 users of the benchmark
// directory: non-ASCII names, escaped DNs, 2.06 memberships per user.
func TestFirstFullRunWritesWhileReading(t *testing.T) {
	const n = 12000
	var ldif bytes.Buffer
	if err := slapdtest.BenchDirectory(&ldif, n); err != nil {
		t.Fatal(err)
	}
	srv := slapdtest.Start(t, ldif.String())
	cfg := func(rules bool) Config {
		return sourceConfig(srv, func(c *Config) {
			c.PageSize = 500
			if rules { // a group no user is in: every role is the default one
				c.RoleRules = []RoleRule{{Group: "cn=nobody," + slapdtest.GroupsDN, Role: "admin"}}
			}
		})
	}
	streamed := newEnv(t)
	var mu sync.Mutex
	var events []core.DirectoryProgress
	rep := mustRun(t, streamed.source(cfg(false)), core.DirectoryRunOptions{Progress: func(p core.DirectoryProgress) {
		mu.Lock()
		events = append(events, p)
		mu.Unlock()
	}})
	want := slapdtest.BenchDirectoryMemberships(n)
	if rep.Created != n || rep.Memberships != want || rep.Errors != 0 || rep.Users != n || rep.Groups != slapdtest.BenchGroups {
		t.Fatalf("streamed run: %+v", rep)
	}
	firstWrite, lastRead := -1, -1
	for i, e := range events {
		if e.Phase == "apply" && e.Counts.Created > 0 && firstWrite < 0 {
			firstWrite = i
		}
		if e.Phase == "read" {
			lastRead = i
		}
	}
	if firstWrite < 0 || firstWrite > lastRead {
		t.Fatalf("no user was written while the directory was read (first write at event %d, last read at %d of %d)", firstWrite, lastRead, len(events))
	}

	plain := newEnv(t)
	if rep := mustRun(t, plain.source(cfg(true)), core.DirectoryRunOptions{}); rep.Created != n || rep.Memberships != want {
		t.Fatalf("run without streaming: %+v", rep)
	}
	a, b := streamed.users(), plain.users()
	if len(a) != n || len(b) != n {
		t.Fatalf("%d and %d users, want %d", len(a), len(b), n)
	}
	for name, u := range a {
		v := b[name]
		if u.FirstName != v.FirstName || u.LastName != v.LastName || u.Email != v.Email || u.Phone != v.Phone ||
			u.Status != v.Status || u.Role != v.Role || u.ExternalID != v.ExternalID || !slices.Equal(u.Groups, v.Groups) {
			t.Fatalf("%s streamed %+v %v, not streamed %+v %v", name, u.User, u.Groups, v.User, v.Groups)
		}
	}
	if got := streamed.count(`SELECT COUNT(*) FROM group_members`); got != want {
		t.Fatalf("%d memberships stored, want %d", got, want)
	}
	count := func(e *env) map[string]int {
		out := map[string]int{}
		for _, action := range []string{"user.create", "group.create", "group.add_member", "group.add_members"} {
			out[action] = e.count(`SELECT COUNT(*) FROM history WHERE action = ?`, action)
		}
		out["all"] = e.history()
		return out
	}
	if ha, hb := count(streamed), count(plain); !maps.Equal(ha, hb) {
		t.Fatalf("history streamed %v, not streamed %v", ha, hb)
	}
	// A resync of the streamed store changes nothing.
	if rep := mustRun(t, streamed.source(cfg(false)), core.DirectoryRunOptions{Full: true}); rep.Unchanged != n || rep.Memberships != 0 || rep.Created != 0 {
		t.Fatalf("resync: %+v", rep)
	}
}
