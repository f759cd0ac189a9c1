package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/testkit/pgtest"
)

func open(t *testing.T, driver, dsn string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), store.Options{Driver: driver, DSN: dsn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

func TestReadyOnlyAfterMigrations(t *testing.T) {
	pgtest.ForEachDriver(t, testReadyOnlyAfterMigrations)
}

func testReadyOnlyAfterMigrations(t *testing.T, driver, dsn string) {
	ctx := context.Background()
	st := open(t, driver, dsn)
	if err := st.Ready(ctx); err == nil || !strings.Contains(err.Error(), "pending") {
		t.Fatalf("ready before migrating: %v", err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Ready(ctx); err != nil {
		t.Fatalf("ready after migrating: %v", err)
	}
	if err := st.Migrate(ctx); err != nil {
		t.Fatalf("migrate twice: %v", err)
	}
}

func TestUnknownDriverIsAClearError(t *testing.T) {
	_, err := store.Open(context.Background(), store.Options{Driver: "oracle", DSN: "x"}, nil)
	if err == nil || !strings.Contains(err.Error(), `database.driver "oracle"`) {
		t.Fatalf("got %v", err)
	}
}

// Two stores on one file stand for `roster serve` and a CLI command writing
// at the same time: every write lands, none fails with "database is locked".
func TestConcurrentWritersFromTwoHandles(t *testing.T) {
	pgtest.ForEachDriver(t, testConcurrentWritersFromTwoHandles)
}

func testConcurrentWritersFromTwoHandles(t *testing.T, driver, dsn string) {
	ctx := context.Background()
	a, b := open(t, driver, dsn), open(t, driver, dsn)
	if err := a.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var svcs []*core.Service
	for _, st := range []*store.Store{a, b} {
		svc, err := core.NewService(core.Config{}, core.Deps{Store: st})
		if err != nil {
			t.Fatal(err)
		}
		svcs = append(svcs, svc)
	}
	org, err := svcs[0].Org(ctx, core.DefaultOrg)
	if err != nil {
		t.Fatal(err)
	}
	const perWorker = 25
	var wg sync.WaitGroup
	errs := make(chan error, 8*perWorker)
	for w := 0; w < 8; w++ {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			svc := svcs[w%2]
			for i := 0; i < perWorker; i++ {
				name := fmt.Sprintf("u%d-%d@example.com", w, i)
				c, err := svc.CreateUser(ctx, core.CLIActor(), core.NewUser{OrgID: org.ID, Username: name, Email: name, Invite: core.InviteByLink})
				if err != nil {
					errs <- err
					continue
				}
				if _, err := svc.ListUsers(ctx, core.UserQuery{OrgID: org.ID, Limit: 10}); err != nil {
					errs <- err
				}
				if _, err := svc.ChangeStatus(ctx, core.CLIActor(), org.ID, c.User.ID, core.ActDisable); err != nil {
					errs <- err
				}
			}
		}(w)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	users, err := svcs[1].ListUsers(ctx, core.UserQuery{OrgID: org.ID})
	if err != nil {
		t.Fatal(err)
	}
	if len(users) != 8*perWorker {
		t.Fatalf("%d users, want %d", len(users), 8*perWorker)
	}
	for _, u := range users {
		if u.Status != core.StatusDisabled {
			t.Fatalf("%s is %s", u.Username, u.Status)
		}
	}
}

func TestListUsersKeysetAndFilters(t *testing.T) {
	pgtest.ForEachDriver(t, testListUsersKeysetAndFilters)
}

func testListUsersKeysetAndFilters(t *testing.T, driver, dsn string) {
	ctx := context.Background()
	st := open(t, driver, dsn)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc, _ := core.NewService(core.Config{}, core.Deps{Store: st})
	org, _ := svc.Org(ctx, core.DefaultOrg)
	for i := 0; i < 7; i++ {
		mode := core.InviteByLink
		role := core.RoleMember
		if i%2 == 0 {
			mode, role = core.NoInvite, core.RoleDeveloper
		}
		n := fmt.Sprintf("k%d@example.com", i)
		if _, err := svc.CreateUser(ctx, core.CLIActor(), core.NewUser{OrgID: org.ID, Username: n, Email: n, Invite: mode, Role: role}); err != nil {
			t.Fatal(err)
		}
	}
	var seen []string
	var after int64
	for {
		var page []core.User
		err := st.View(ctx, func(tx core.Tx) error {
			var err error
			page, err = tx.ListUsers(ctx, core.UserQuery{OrgID: org.ID, Limit: 3, AfterSeq: after})
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		for _, u := range page {
			seen = append(seen, u.Username)
		}
		after = page[len(page)-1].Seq
	}
	if len(seen) != 7 || seen[0] != "k0@example.com" || seen[6] != "k6@example.com" {
		t.Fatalf("pages: %v", seen)
	}
	active, _ := svc.ListUsers(ctx, core.UserQuery{OrgID: org.ID, Statuses: []core.Status{core.StatusActive}})
	devs, _ := svc.ListUsers(ctx, core.UserQuery{OrgID: org.ID, Roles: []core.Role{core.RoleDeveloper}})
	if len(active) != 4 || len(devs) != 4 {
		t.Fatalf("filters: %d active, %d developers", len(active), len(devs))
	}
}
