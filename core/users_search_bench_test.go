package core_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/store"
)

// seedUsers writes n users straight through the store (batches of 5,000 per
// transaction), with groups and metadata, for list benchmarks.
func seedUsers(b *testing.B, st *store.Store, orgID string, n int) {
	b.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(1, 2))
	firsts := []string{"Anna", "David", "Zoë", "Mohammed", "Li", "Olga", "Pedro", "Kwame", "Sofia", "Jürgen", "Aiko", "Liam"}
	lasts := []string{"Smith", "Davenport", "Ångström", "Okafor", "Nguyen", "Müller", "García", "Kowalski", "Rossi", "Tanaka", "Dubois", "Silva"}
	depts := []string{"NortheastSales", "WorldwideSales", "Engineering", "Support", "Finance"}
	titles := []string{"Engineer", "Senior Engineer", "Lead", "Account Executive", "Analyst", "Manager", "Designer", "Support Specialist"}
	roles := []core.Role{core.RoleMember, core.RoleMember, core.RoleMember, core.RoleDeveloper, core.RoleAdmin, core.RoleUserManager}
	statuses := []core.Status{core.StatusActive, core.StatusActive, core.StatusActive, core.StatusInvited, core.StatusDisabled, core.StatusInactive}
	now := time.Now().UTC()
	groups := make([]string, 20)
	err := st.InTx(ctx, func(tx core.Tx) error {
		if err := tx.SetMetadataTemplate(ctx, orgID, []core.MetadataField{{Name: "team", Type: core.MetaString}}); err != nil {
			return err
		}
		for i := range groups {
			g := &core.Group{ID: uuid.NewString(), OrgID: orgID, Name: fmt.Sprintf("group-%d", i), Source: core.SourceNative, CreatedAt: now, UpdatedAt: now}
			groups[i] = g.ID
			if err := tx.InsertGroup(ctx, g); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	for start := 0; start < n; start += 5000 {
		err := st.InTx(ctx, func(tx core.Tx) error {
			for i := start; i < min(start+5000, n); i++ {
				exp := now.Add(time.Duration(rng.IntN(14*24)-7*24) * time.Hour)
				st := statuses[rng.IntN(len(statuses))]
				inv := core.InviteStateAccepted
				if st == core.StatusInvited {
					inv = core.InviteStateSent
				}
				u := &core.User{ID: uuid.NewString(), OrgID: orgID, Username: fmt.Sprintf("user%06d@example.com", i), Email: fmt.Sprintf("user%06d@example.com", i),
					FirstName: firsts[rng.IntN(len(firsts))], LastName: fmt.Sprintf("%s%d", lasts[rng.IntN(len(lasts))], rng.IntN(1000)),
					Phone: fmt.Sprintf("+1 555 %07d", rng.IntN(10000000)), Role: roles[rng.IntN(len(roles))], Status: st, Source: core.SourceNative,
					Metadata: map[string]string{"team": depts[rng.IntN(len(depts))]}, InviteState: inv, InviteExpiresAt: &exp,
					Attributes: core.Attributes{"department": {Str: depts[rng.IntN(len(depts))]}, "title": {Str: titles[rng.IntN(len(titles))]}},
					CreatedAt:  now, UpdatedAt: now}
				if err := tx.InsertUser(ctx, u); err != nil {
					return err
				}
				if err := tx.AddGroupMember(ctx, groups[rng.IntN(len(groups))], u.ID); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUsersList100k measures the admin users list at 100,000 users:
// each sub-benchmark reports p50 and p99 latency of one page (50 users +
// total) for a single filter or search. Reproduce:
//
//	go test ./core -run '^$' -bench UsersList100k -benchtime 200x -count 5 | tee list.txt; benchstat list.txt
func BenchmarkUsersList100k(b *testing.B) {
	n := 100_000
	if s := os.Getenv("ROSTER_BENCH_USERS"); s != "" {
		fmt.Sscan(s, &n)
	}
	ctx := context.Background()
	dir := b.TempDir()
	st, err := store.Open(ctx, store.Options{Driver: "sqlite", DSN: filepath.Join(dir, "bench.db")}, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		b.Fatal(err)
	}
	svc, _ := core.NewService(core.Config{}, core.Deps{Store: st})
	org, _ := svc.Org(ctx, core.DefaultOrg)
	seedUsers(b, st, org.ID, n)
	cases := []struct {
		name string
		q    core.UserSearch
		text string
	}{
		{"default-sort", core.UserSearch{}, ""},
		{"search-name-substring", core.UserSearch{}, "dav"},
		{"search-exact-email", core.UserSearch{}, "USER054321@example.com"},
		{"search-phone", core.UserSearch{}, "555 12"},
		// A custom field (team), and the standard document attributes of
		// core.UserSchema (department, title): the same values, one index.
		{"search-metadata", core.UserSearch{}, "team:sales"},
		{"search-attr-department", core.UserSearch{}, "department:sales"},
		{"search-attr-title", core.UserSearch{}, "title:engineer"},
		{"filter-status", core.UserSearch{Statuses: []core.Status{core.StatusDisabled}}, ""},
		{"filter-role", core.UserSearch{Roles: []core.Role{core.RoleAdmin}}, ""},
		{"filter-invite-expired", core.UserSearch{InviteStatuses: []core.InviteStatus{core.InviteExpired}}, ""},
		{"filter-group", core.UserSearch{Group: "group-7"}, ""},
		{"sort-role-desc", core.UserSearch{Sort: core.SortRole, Desc: true}, ""},
		{"sort-email-page-5", core.UserSearch{Sort: core.SortEmail}, ""},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			q := c.q
			q.OrgID = org.ID
			if c.name == "sort-email-page-5" {
				for i := 0; i < 4; i++ {
					r, err := svc.SearchUsers(ctx, q, c.text)
					if err != nil {
						b.Fatal(err)
					}
					q.After = r.Next
				}
			}
			lat := make([]time.Duration, 0, b.N)
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				start := time.Now()
				r, err := svc.SearchUsers(ctx, q, c.text)
				if err != nil {
					b.Fatal(err)
				}
				lat = append(lat, time.Since(start))
				if r.Total == 0 && c.name != "search-exact-email" {
					b.Fatalf("%s matched nothing", c.name)
				}
			}
			b.StopTimer()
			slices.Sort(lat)
			b.ReportMetric(float64(lat[len(lat)/2].Microseconds())/1000, "p50-ms")
			b.ReportMetric(float64(lat[len(lat)*99/100].Microseconds())/1000, "p99-ms")
		})
	}
}
