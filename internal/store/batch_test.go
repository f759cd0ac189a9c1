package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/pgtest"
)

func TestInTxBatchedIsolatesCallers(t *testing.T) {
	pgtest.ForEachDriver(t, testInTxBatchedIsolatesCallers)
}

func testInTxBatchedIsolatesCallers(t *testing.T, driver, dsn string) {
	ctx := context.Background()
	st, err := Open(ctx, Options{Driver: driver, DSN: dsn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	org := "00000000-0000-0000-0000-000000000001"
	insert := func(tx core.Tx, name string) error {
		now := time.Now().UTC()
		return tx.InsertUser(ctx, &core.User{ID: name, OrgID: org, Username: name, Role: core.RoleMember, Status: core.StatusActive,
			Source: "native", InviteState: core.InviteStateNone, CreatedAt: now, UpdatedAt: now})
	}
	if err := st.InTx(ctx, func(tx core.Tx) error { return insert(tx, "dup") }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	var wg sync.WaitGroup
	errs := make([]error, 60)
	for i := range errs {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			errs[i] = st.InTxBatched(ctx, func(tx core.Tx) error {
				name := fmt.Sprintf("u%02d", i)
				switch {
				case i%10 == 3: // writes, then fails: its write must vanish
					if err := insert(tx, name); err != nil {
						return err
					}
					return boom
				case i%10 == 7:
					_ = insert(tx, name)
					panic("bad caller")
				case i%10 == 9: // a duplicate
					return insert(tx, "dup")
				}
				return insert(tx, name)
			})
		}(i)
	}
	wg.Wait()
	var got []string
	_ = st.View(ctx, func(tx core.Tx) error {
		us, err := tx.ListUsers(ctx, core.UserQuery{OrgID: org})
		for _, u := range us {
			got = append(got, u.Username)
		}
		return err
	})
	want := 0
	for i, err := range errs {
		switch i % 10 {
		case 3:
			if !errors.Is(err, boom) {
				t.Errorf("caller %d: %v, want boom", i, err)
			}
		case 7:
			if err == nil {
				t.Errorf("caller %d: a panic was not reported", i)
			}
		case 9:
			if !errors.Is(err, core.ErrConflict) {
				t.Errorf("caller %d: %v, want a conflict", i, err)
			}
		default:
			if err != nil {
				t.Errorf("caller %d: %v", i, err)
			}
			want++
		}
	}
	if len(got) != want+1 {
		t.Errorf("%d users stored, want %d: %v", len(got), want, got)
	}
}
