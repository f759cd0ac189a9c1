package ldapsync

import (
	"context"
	"database/sql"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	_ "github.com/mattn/go-sqlite3"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/testkit/rostertest"
	"github.com/rosterhq/roster/internal/testkit/slapdtest"
)

// env is a fresh migrated store (SQLite, or PostgreSQL in the suite's rerun) and a core service.
type env struct {
	t     testing.TB
	ctx   context.Context
	path  string // sqlite: the file; postgres: the DSN
	drv   string
	store *store.Store
	svc   *core.Service
	org   *core.Org
}

func newEnv(t testing.TB) *env {
	t.Helper()
	ctx := context.Background()
	st, drv, path := rostertest.Store(t)
	svc, err := core.NewService(core.Config{}, core.Deps{Store: st})
	if err != nil {
		t.Fatal(err)
	}
	org, err := svc.Org(ctx, core.DefaultOrg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{t: t, ctx: ctx, path: path, drv: drv, store: st, svc: svc, org: org}
}

// sourceConfig is a source on srv with the test defaults; edit tweaks it.
func sourceConfig(srv *slapdtest.Server, edit func(*Config)) Config {
	f := false
	c := Config{
		Name: "corp", Org: core.DefaultOrg, URLs: []string{srv.URL}, Timeout: 5 * time.Second,
		BindDN: slapdtest.AdminDN, BindPassword: slapdtest.AdminPW, Preset: "openldap",
		Users:       Search{BaseDN: slapdtest.PeopleDN, Filter: "(objectClass=inetOrgPerson)"},
		Groups:      Search{BaseDN: slapdtest.GroupsDN},
		DefaultRole: "member", Mode: "all", Invite: &f, Removal: "disable", MaxRemovals: "50%",
		LinkExisting: "never", Interval: 15 * time.Minute, FullSyncEvery: 24 * time.Hour, PageSize: 7,
	}
	if edit != nil {
		edit(&c)
	}
	return c
}

func (e *env) source(c Config) *Source {
	e.t.Helper()
	s, err := New(c, e.org.ID, Deps{Service: e.svc})
	if err != nil {
		e.t.Fatal(err)
	}
	return s
}

// users returns the users of the org by username.
func (e *env) users() map[string]core.UserView {
	e.t.Helper()
	us, err := e.svc.ListUsers(e.ctx, core.UserQuery{OrgID: e.org.ID})
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]core.UserView{}
	for _, u := range us {
		out[u.Username] = u
	}
	return out
}

// count runs a COUNT(*) query on the database file.
func (e *env) count(q string, args ...any) int {
	e.t.Helper()
	driver, dsn := "sqlite3", "file:"+e.path+"?_query_only=true"
	if e.drv == "postgres" {
		driver, dsn, q = "pgx", e.path, sqlx.Rebind(sqlx.DOLLAR, q)
	}
	db, err := sql.Open(driver, dsn)
	if err != nil {
		e.t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(q, args...).Scan(&n); err != nil {
		e.t.Fatal(err)
	}
	return n
}

func (e *env) history() int { return e.count(`SELECT COUNT(*) FROM history`) }

func (e *env) statuses() map[string]core.Status {
	out := map[string]core.Status{}
	for n, u := range e.users() {
		out[n] = u.Status
	}
	return out
}

// run syncs s once through the core, as every door does.
func (s *Source) run(ctx context.Context, o core.DirectoryRunOptions) (*core.DirectoryReport, error) {
	return s.svc.(*core.Service).RunDirectory(ctx, s, o)
}

// clockFunc is a core.Clock a test moves by hand.
type clockFunc func() time.Time

func (f clockFunc) Now() time.Time { return f() }
