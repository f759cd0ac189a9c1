package store

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/pgtest"
)

// The conformance suite: the same behaviour from both drivers.

func openMigrated(t *testing.T, driver, dsn string) *Store {
	t.Helper()
	ctx := context.Background()
	st, err := Open(ctx, Options{Driver: driver, DSN: dsn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestMigrationVersionsMatchAcrossDrivers(t *testing.T) {
	versions := func(dir string) []string {
		ents, err := fs.ReadDir(migrations, dir)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, e := range ents {
			v, _, ok := strings.Cut(e.Name(), "_")
			if !ok || !strings.HasSuffix(e.Name(), ".sql") {
				t.Errorf("%s/%s: not a VERSION_name.sql migration", dir, e.Name())
			}
			out = append(out, v)
		}
		return out
	}
	sq, pg := versions("migrations/sqlite"), versions("migrations/postgres")
	if !slices.Equal(sq, pg) {
		t.Fatalf("migration versions differ:\nsqlite:   %v\npostgres: %v", sq, pg)
	}
	// Versions 10, 12 and 17 are the Go migrations of migrate_keys.go,
	// migrate_nfkc.go and migrate_search.go, in both dialects.
	goVersions := []string{fmt.Sprintf("%05d", keysRepairVersion), fmt.Sprintf("%05d", nfkcVersion), fmt.Sprintf("%05d", searchRebuildVersion)}
	for _, v := range goVersions {
		if slices.Contains(sq, v) {
			t.Fatalf("migration %s is a Go migration; a SQL file may not take its number", v)
		}
	}
	// One sequence, applied in order: after 9 (7 and 8 were never used)
	// every version follows the one before.
	all := append(slices.Clone(sq), goVersions...)
	slices.Sort(all)
	for i := 1; i < len(all); i++ {
		a, _ := strconv.Atoi(all[i-1])
		b, _ := strconv.Atoi(all[i])
		if b != a+1 && !(a == 6 && b == 9) {
			t.Errorf("migration versions jump from %d to %d: %v", a, b, all)
		}
	}
}

const defaultOrg = "00000000-0000-0000-0000-000000000001"

func newUser(name, email string) *core.User {
	now := time.Now().UTC()
	return &core.User{ID: "id-" + name, OrgID: defaultOrg, Username: name, Email: email, Role: core.RoleMember,
		Status: core.StatusActive, Source: "native", InviteState: core.InviteStateNone, CreatedAt: now, UpdatedAt: now}
}

// Uniqueness is case-insensitive the Unicode way (core.FoldKey), names the
// field, and leaves the transaction usable (core relies on that: it handles
// the conflict and goes on in the same transaction).
func TestUniquenessIsCaseInsensitiveAndRecoverable(t *testing.T) {
	pgtest.ForEachDriver(t, func(t *testing.T, driver, dsn string) {
		ctx := context.Background()
		st := openMigrated(t, driver, dsn)
		if err := st.InTx(ctx, func(tx core.Tx) error {
			return tx.InsertUser(ctx, newUser("Jürgen.Zoë", "JG@Example.COM"))
		}); err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			name, username, email, field string
		}{
			{"username, other case", "JÜRGEN.ZOË", "x@example.com", "username"},
			{"username, decomposed", "ju\u0308rgen.zoe\u0308", "y@example.com", "username"},
			{"email, other case", "other", "jg@example.com", "email"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := st.InTx(ctx, func(tx core.Tx) error {
					err := tx.InsertUser(ctx, newUser(tc.username, tc.email))
					var ce *core.ConflictError
					if !errors.As(err, &ce) || ce.Field != tc.field {
						return fmt.Errorf("insert %q/%q: %v, want a conflict on %s", tc.username, tc.email, err, tc.field)
					}
					// The transaction goes on after the conflict.
					return tx.InsertUser(ctx, newUser("after-"+tc.name, ""))
				})
				if err != nil {
					t.Fatal(err)
				}
			})
		}
		err := st.InTx(ctx, func(tx core.Tx) error {
			g := &core.Group{ID: "g1", OrgID: defaultOrg, Name: "Straße", Source: "native", CreatedAt: time.Now().UTC(), UpdatedAt: time.Now().UTC()}
			if err := tx.InsertGroup(ctx, g); err != nil {
				return err
			}
			g2 := *g
			g2.ID, g2.Name = "g2", "STRAẞE"
			var ce *core.ConflictError
			if err := tx.InsertGroup(ctx, &g2); !errors.As(err, &ce) || ce.Field != "name" {
				return fmt.Errorf("group STRAẞE: %v, want a conflict on name", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var n int
		_ = st.View(ctx, func(tx core.Tx) error {
			us, err := tx.ListUsers(ctx, core.UserQuery{OrgID: defaultOrg})
			n = len(us)
			return err
		})
		if n != 4 {
			t.Errorf("%d users, want 4 (the first and one after each conflict)", n)
		}
	})
}

// The users list's search: substring of names and phone, exact username or
// email, folded; sorted bytewise on both drivers; keyset pages.
func TestSearchSemantics(t *testing.T) {
	pgtest.ForEachDriver(t, func(t *testing.T, driver, dsn string) {
		ctx := context.Background()
		st := openMigrated(t, driver, dsn)
		svc, err := core.NewService(core.Config{}, core.Deps{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		people := []struct{ user, first, last, phone string }{
			{"ana@x.com", "Ana", "Ölberg", "+49 30 1234"},
			{"bo@x.com", "Bo", "zander", ""},
			{"cy@x.com", "Cy", "Zander", "+1 555 0100"},
			{"di@x.com", "Dörte", "Abel", ""},
			{"ed@x.com", "Ed", "ÖLBERGER", ""},
		}
		for _, p := range people {
			if _, err := svc.CreateUser(ctx, core.CLIActor(), core.NewUser{OrgID: defaultOrg, Username: p.user, Email: p.user,
				FirstName: p.first, LastName: p.last, Phone: p.phone, Invite: core.NoInvite}); err != nil {
				t.Fatal(err)
			}
		}
		names := func(r *core.SearchResult) string {
			var out []string
			for _, u := range r.Users {
				out = append(out, u.Username)
			}
			return strings.Join(out, ",")
		}
		for _, tc := range []struct{ text, want string }{
			{"ölberg", "ana@x.com,ed@x.com"},
			{"ÖLB", "ana@x.com,ed@x.com"},
			{"DÖRT", "di@x.com"},
			{"555", "cy@x.com"},
			{"BO@X.COM", "bo@x.com"},
			{"x.com", ""}, // username and email match exactly, not by substring
		} {
			r, err := svc.SearchUsers(ctx, core.UserSearch{OrgID: defaultOrg, Sort: core.SortUsername}, tc.text)
			if err != nil {
				t.Fatal(err)
			}
			if got := names(r); got != tc.want || r.Total != len(r.Users) {
				t.Errorf("search %q: %s (total %d), want %s", tc.text, got, r.Total, tc.want)
			}
		}
		// Last name order is bytewise on the folded key (as SQLite): abel, zander, zander, ölberg, ölberger.
		var got []string
		var after *core.Cursor
		for {
			r, err := svc.SearchUsers(ctx, core.UserSearch{OrgID: defaultOrg, Sort: core.SortLastName, Limit: 2, After: after}, "")
			if err != nil {
				t.Fatal(err)
			}
			if r.Total != 5 {
				t.Fatalf("total %d, want 5", r.Total)
			}
			got = append(got, names(r))
			if after = r.Next; after == nil {
				break
			}
		}
		if want := "di@x.com,bo@x.com|cy@x.com,ana@x.com|ed@x.com"; strings.Join(got, "|") != want {
			t.Errorf("pages by last name: %s, want %s", strings.Join(got, "|"), want)
		}
	})
}

// SCIM filter operators on both drivers, co/sw/ew on folded keys included.
func TestFilterOperators(t *testing.T) {
	pgtest.ForEachDriver(t, func(t *testing.T, driver, dsn string) {
		ctx := context.Background()
		st := openMigrated(t, driver, dsn)
		err := st.InTx(ctx, func(tx core.Tx) error {
			for _, n := range []string{"anna.müller@corp.example", "bernd@corp.example", "MÜLLER.x@other.example"} {
				if err := tx.InsertUser(ctx, newUser(n, n)); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, tc := range []struct {
			f    *core.Filter
			want int
		}{
			{core.Cmp(core.AttrUsername, core.OpCo, "MÜLLER"), 2},
			{core.Cmp(core.AttrUsername, core.OpSw, "Müller"), 1},
			{core.Cmp(core.AttrEmail, core.OpEw, "@CORP.example"), 2},
			{core.Cmp(core.AttrEmail, core.OpEw, "ü"), 0},
			{core.Cmp(core.AttrUsername, core.OpGt, "b"), 2},
			{core.Not(core.Cmp(core.AttrUsername, core.OpCo, "corp")), 1},
		} {
			var n int
			err := st.View(ctx, func(tx core.Tx) error {
				_, total, err := tx.FilterUsers(ctx, core.DirectoryQuery{OrgID: defaultOrg, Filter: tc.f})
				n = total
				return err
			})
			if err != nil || n != tc.want {
				t.Errorf("%s %s %v: %d users (%v), want %d", tc.f.Attr, tc.f.Op, tc.f.Str, n, err, tc.want)
			}
		}
	})
}

func TestLeases(t *testing.T) {
	pgtest.ForEachDriver(t, func(t *testing.T, driver, dsn string) {
		ctx := context.Background()
		a, b := openMigrated(t, driver, dsn), openMigrated(t, driver, dsn)
		now := time.Now()
		try := func(st *Store, owner string, at time.Time, want bool) {
			t.Helper()
			ok, err := st.TryLease(ctx, "job:x", owner, at, 10*time.Second)
			if err != nil || ok != want {
				t.Fatalf("%s at +%s: %v %v, want %v", owner, at.Sub(now), ok, err, want)
			}
		}
		try(a, "A", now, true)
		try(b, "B", now.Add(time.Second), false)  // held
		try(a, "A", now.Add(5*time.Second), true) // renewed until +15s
		try(b, "B", now.Add(12*time.Second), false)
		try(b, "B", now.Add(16*time.Second), true) // expired: B takes over
		try(a, "A", now.Add(17*time.Second), false)
		if err := a.ReleaseLease(ctx, "job:x", "A"); err != nil { // not A's: nothing happens
			t.Fatal(err)
		}
		try(a, "A", now.Add(18*time.Second), false)
		if err := b.ReleaseLease(ctx, "job:x", "B"); err != nil {
			t.Fatal(err)
		}
		try(a, "A", now.Add(18*time.Second), true)

		// Many contenders at once: exactly one wins.
		var wg sync.WaitGroup
		var mu sync.Mutex
		winners := 0
		for i := range 16 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := []*Store{a, b}[i%2]
				ok, err := st.TryLease(ctx, "ldap:corp", fmt.Sprintf("o%d", i), now, time.Minute)
				if err != nil {
					t.Error(err)
				}
				if ok {
					mu.Lock()
					winners++
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if winners != 1 {
			t.Fatalf("%d contenders got the lease, want 1", winners)
		}
	})
}

// Outbox workers on several processes claim disjoint rows: no mail twice.
func TestClaimMailConcurrently(t *testing.T) {
	pgtest.ForEachDriver(t, func(t *testing.T, driver, dsn string) {
		ctx := context.Background()
		stores := []*Store{openMigrated(t, driver, dsn), openMigrated(t, driver, dsn), openMigrated(t, driver, dsn)}
		svc, err := core.NewService(core.Config{}, core.Deps{Store: stores[0]})
		if err != nil {
			t.Fatal(err)
		}
		const mails = 120
		for i := range mails {
			n := fmt.Sprintf("m%03d@example.com", i)
			if _, err := svc.CreateUser(ctx, core.CLIActor(), core.NewUser{OrgID: defaultOrg, Username: n, Email: n, Invite: core.InviteByMail}); err != nil {
				t.Fatal(err)
			}
		}
		var mu sync.Mutex
		seen := map[string]int{}
		var wg sync.WaitGroup
		for w := range 9 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				st := stores[w%3]
				for {
					var got []core.OutboxMail
					err := st.InTx(ctx, func(tx core.Tx) error {
						var err error
						got, err = tx.ClaimMail(ctx, time.Now().UTC(), "test", time.Minute, 7)
						return err
					})
					if err != nil {
						t.Error(err)
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, m := range got {
						seen[m.ID]++
					}
					mu.Unlock()
				}
			}()
		}
		wg.Wait()
		if len(seen) != mails {
			t.Errorf("%d mails claimed, want %d", len(seen), mails)
		}
		for id, n := range seen {
			if n != 1 {
				t.Errorf("mail %s claimed %d times", id, n)
			}
		}
	})
}

// Identity columns: ids from InsertHistory and InsertSyncRun (RETURNING on
// PostgreSQL, last_insert_rowid on SQLite) increase.
func TestInsertedIDs(t *testing.T) {
	pgtest.ForEachDriver(t, func(t *testing.T, driver, dsn string) {
		ctx := context.Background()
		st := openMigrated(t, driver, dsn)
		err := st.InTx(ctx, func(tx core.Tx) error {
			var last int64
			for i := range 3 {
				h := &core.HistoryEntry{OrgID: defaultOrg, At: time.Now().UTC(), ActorKind: "cli", Action: "x", TargetType: "user", TargetID: "t"}
				if err := tx.InsertHistory(ctx, h); err != nil {
					return err
				}
				r := &core.SyncRun{Source: "corp", OrgID: defaultOrg, Mode: core.SyncFull, StartedAt: time.Now().UTC(), Status: core.RunRunning}
				if err := tx.InsertSyncRun(ctx, r); err != nil {
					return err
				}
				if h.ID <= last || r.ID != int64(i+1) {
					return fmt.Errorf("history id %d after %d, run id %d", h.ID, last, r.ID)
				}
				last = h.ID
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

// Replicas starting at once on a new PostgreSQL database each migrate: they
// take turns (goose's advisory lock) and all end up ready.
func TestConcurrentMigrateOnPostgres(t *testing.T) {
	dsn := pgtest.DSN(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := Open(ctx, Options{Driver: "postgres", DSN: dsn}, nil)
			if err != nil {
				errs[i] = err
				return
			}
			defer st.Close()
			if err := st.Migrate(ctx); err != nil {
				errs[i] = err
				return
			}
			errs[i] = st.Ready(ctx)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
}

// On PostgreSQL, with statistics, the look-ups every SCIM request makes use
// their indexes (the SQLite twin is TestUserFilterUsesIndexes).
func TestPostgresLookupsUseIndexes(t *testing.T) {
	ctx := context.Background()
	st := openMigrated(t, "postgres", pgtest.DSN(t))
	err := st.InTx(ctx, func(tx core.Tx) error {
		var us []*core.User
		for i := range 3000 {
			u := newUser(fmt.Sprintf("p%05d@example.com", i), fmt.Sprintf("p%05d@example.com", i))
			u.Source, u.ExternalID = "scim:okta", fmt.Sprintf("ext-%d", i)
			us = append(us, u)
		}
		return tx.InsertUsers(ctx, us)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Analyze(ctx); err != nil {
		t.Fatal(err)
	}
	for attr, index := range map[core.FilterAttr]string{
		core.AttrID: "users_id_key", core.AttrUsername: "users_org_username", core.AttrExternalID: "users_org_external",
		core.AttrEmail: "users_org_email",
	} {
		where, args, err := filterSQL(postgresDialect, "org", core.Cmp(attr, core.OpEq, "id-p00042@example.com"), userFilterCols)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		q := st.w.Rebind(`EXPLAIN SELECT COUNT(*) FROM users u WHERE u.org_id = ? AND u.source = ? AND u.status <> 'archived' AND (` + where + `)`)
		if err := st.w.SelectContext(ctx, &plan, q, append([]any{defaultOrg, "scim:okta"}, args...)...); err != nil {
			t.Fatal(err)
		}
		if p := strings.Join(plan, "\n"); !strings.Contains(p, index) || strings.Contains(p, "Seq Scan") {
			t.Errorf("%s: the plan does not use %s:\n%s", attr, index, p)
		}
	}
}

// A value with NUL (which PostgreSQL text cannot hold) finds nothing on
// both drivers, rather than failing the request.
func TestNULValuesFindNothing(t *testing.T) {
	pgtest.ForEachDriver(t, func(t *testing.T, driver, dsn string) {
		ctx := context.Background()
		st := openMigrated(t, driver, dsn)
		if err := st.InTx(ctx, func(tx core.Tx) error { return tx.InsertUser(ctx, newUser("nul", "nul@example.com")) }); err != nil {
			t.Fatal(err)
		}
		err := st.View(ctx, func(tx core.Tx) error {
			if _, err := tx.UserByUsername(ctx, defaultOrg, "nul\x00"); !errors.Is(err, core.ErrNotFound) {
				return fmt.Errorf("by username: %v", err)
			}
			us, total, err := tx.FilterUsers(ctx, core.DirectoryQuery{OrgID: defaultOrg, Limit: 10, Filter: core.Cmp(core.AttrEmail, core.OpEq, "nul@example.com\x00")})
			if err != nil || len(us) != 0 || total != 0 {
				return fmt.Errorf("filter: %d users, total %d, %v", len(us), total, err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}
