package core_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/google/uuid"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/store"
)

// BenchmarkApplyDirectoryFirstFull is the store side of a first full sync
// without LDAP: a snapshot shaped like slapdtest.BenchDirectory (100,000
// users with non-ASCII names and time-ordered ids as OpenLDAP's entryUUIDs
// are, 200 groups, two memberships per user) applied to an empty SQLite
// file. The SQL a first full sync writes, measured apart from the decoding:
//
//	go test ./core -run '^$' -bench ApplyDirectoryFirstFull -benchtime 1x -count 5 -cpuprofile cpu.out
func BenchmarkApplyDirectoryFirstFull(b *testing.B) {
	n := 100_000
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		dir := b.TempDir()
		st, err := store.Open(ctx, store.Options{Driver: "sqlite", DSN: filepath.Join(dir, "bench.db")}, nil)
		if err != nil {
			b.Fatal(err)
		}
		if err := st.Migrate(ctx); err != nil {
			b.Fatal(err)
		}
		svc, _ := core.NewService(core.Config{}, core.Deps{Store: st})
		org, _ := svc.Org(ctx, core.DefaultOrg)
		snap := &core.DirectorySnapshot{Full: true, GroupsIncluded: true}
		sur := []string{"Müller", "Ångström", "Øster", "García", "Nguyễn", "Łukasz"}
		for i := range n {
			snap.Users = append(snap.Users, core.SyncEntry{ExternalID: uuid.Must(uuid.NewV7()).String(), Username: fmt.Sprintf("user%06d", i),
				Email: fmt.Sprintf("user%06d@example.com", i), FirstName: fmt.Sprintf("Zoë%d", i), LastName: sur[(i/3)%len(sur)],
				Phone: fmt.Sprintf("+1 555 %07d", i)})
		}
		snap.Groups = make([]core.SyncGroup, 200)
		for g := range snap.Groups {
			snap.Groups[g] = core.SyncGroup{ExternalID: uuid.NewString(), Name: fmt.Sprintf("Gruppe %03d", g)}
		}
		for i := range n {
			g1, g2 := i%200, (i*7+3)%200
			snap.Groups[g1].Members = append(snap.Groups[g1].Members, int32(i))
			snap.Groups[g2].Members = append(snap.Groups[g2].Members, int32(i))
		}
		src := core.SyncSource{Name: "corp", OrgID: org.ID, DefaultRole: core.RoleMember}
		b.StartTimer()
		res, err := svc.ApplyDirectory(ctx, src, snap, core.SyncOptions{})
		if err != nil || res.Created != n {
			b.Fatal(err, res)
		}
		b.StopTimer()
		st.Close()
		b.StartTimer()
	}
}
