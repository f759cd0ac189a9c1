package store_test

import (
	"context"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"
	_ "github.com/mattn/go-sqlite3"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/testkit/pgtest"
)

// Migration 12 recomputes the keys written under NFC: a full-width username
// then finds its ASCII twin, an archived user's released name stays
// released, and a name that would collide keeps its old key.
func TestNFKCMigrationRekeys(t *testing.T) {
	pgtest.ForEachDriver(t, testNFKCMigrationRekeys)
}

func testNFKCMigrationRekeys(t *testing.T, driver, dsn string) {
	ctx := context.Background()
	st := open(t, driver, dsn)
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	svc, err := core.NewService(core.Config{}, core.Deps{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	o, _ := svc.Org(ctx, core.DefaultOrg)
	mk := func(username string) string {
		c, err := svc.CreateUser(ctx, core.CLIActor(), core.NewUser{OrgID: o.ID, Username: username, FirstName: "Ｆｕｌｌ", LastName: "L", Invite: core.NoInvite})
		if err != nil {
			t.Fatalf("create %s: %v", username, err)
		}
		return c.User.ID
	}
	a, b := mk("ｍｅｍｂｅｒ"), mk("ｂｏｓｓ")
	// What an earlier version wrote: NFC keys (full-width stays full-width).
	name, raw := "sqlite3", "file:"+dsn
	if driver == "postgres" {
		name, raw = "pgx", dsn
	}
	db, err := sqlx.Open(name, raw)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	exec := func(q string, args ...any) {
		t.Helper()
		if _, err := db.ExecContext(ctx, db.Rebind(q), args...); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	exec(`UPDATE users SET username_key = ?, first_name_key = ? WHERE id = ?`, "ｍｅｍｂｅｒ", "ｆｕｌｌ", a)
	exec(`UPDATE users SET username_key = ? WHERE id = ?`, "ｂｏｓｓ", b)
	c := mk("boss") // no collision with the old key
	if err := st.RerunFrom(ctx, 12); err != nil {
		t.Fatalf("migrate again from 12: %v", err)
	}
	key := func(id string) string {
		var k string
		if err := db.GetContext(ctx, &k, db.Rebind(`SELECT username_key FROM users WHERE id = ?`), id); err != nil {
			t.Fatal(err)
		}
		return k
	}
	if k := key(a); k != core.FoldKey("member") {
		t.Errorf("full-width member rekeyed to %q", k)
	}
	if k := key(b); k != "ｂｏｓｓ" {
		t.Errorf("a colliding name was rekeyed to %q", k)
	}
	if k := key(c); k != core.FoldKey("boss") {
		t.Errorf("boss: %q", k)
	}
	for _, u := range []string{"member", "ＭＥＭＢＥＲ", "ｍｅｍｂｅｒ"} {
		if got, err := svc.GetUserByUsername(ctx, o.ID, u); err != nil || got.ID != a {
			t.Errorf("lookup %q: %v %v", u, got, err)
		}
	}
	var fk string
	_ = db.GetContext(ctx, &fk, db.Rebind(`SELECT first_name_key FROM users WHERE id = ?`), a)
	if fk != core.FoldKey("full") {
		t.Errorf("first_name_key %q", fk)
	}
}
