// Package rostertest is the set-up that every package's tests share: a
// fresh migrated store (a SQLite file, or a new PostgreSQL database when the
// suite runs again on PostgreSQL, see pgtest), a cheap password hasher, a
// clock the test moves, and a core service over them.
package rostertest

import (
	"context"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/rosterhq/roster/core"
	"github.com/rosterhq/roster/internal/argon2id"
	"github.com/rosterhq/roster/internal/store"
	"github.com/rosterhq/roster/internal/testkit/pgtest"
)

// Hasher is argon2id made cheap (64 KiB, one pass) so that tests stay quick.
var Hasher = argon2id.NewArgon2(argon2id.Argon2Params{Memory: 64, Time: 1, Threads: 1, KeyLen: 16, SaltLen: 8})

// Clock is a core.Clock the test sets and moves.
type Clock struct {
	mu  sync.Mutex
	now time.Time
}

// NewClock starts a clock at t.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// Now implements core.Clock.
func (c *Clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

// Advance moves the clock by d.
func (c *Clock) Advance(d time.Duration) { c.mu.Lock(); c.now = c.now.Add(d); c.mu.Unlock() }

// Store opens a fresh, migrated store, closed when the test ends: a SQLite
// file in the test's temporary directory, or, in the PostgreSQL rerun of
// the suite, a new database. It returns the driver and DSN too, for tests
// that open the database themselves.
func Store(t testing.TB) (st *store.Store, driver, dsn string) {
	t.Helper()
	ctx := context.Background()
	driver, dsn = pgtest.Store(t, filepath.Join(t.TempDir(), "roster.db"))
	st, err := store.Open(ctx, store.Options{Driver: driver, DSN: dsn}, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	if err := st.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return st, driver, dsn
}

// Env is a service over a fresh store, on a Clock, with the default
// organisation.
type Env struct {
	Ctx    context.Context
	Store  *store.Store
	Driver string
	DSN    string // sqlite: the file; postgres: the connection string
	Clock  *Clock
	Svc    *core.Service
	OrgID  string // the default organisation's
}

// Option tunes New.
type Option func(*settings)

type settings struct {
	cfg   core.Config
	deps  core.Deps
	start time.Time
}

// WithConfig sets the service's rules' tunables.
func WithConfig(c core.Config) Option { return func(s *settings) { s.cfg = c } }

// WithDeps edits the service's ports (a logger, an observer, …).
func WithDeps(f func(*core.Deps)) Option { return func(s *settings) { f(&s.deps) } }

// At starts the clock at t instead of 2026-01-05 09:00 UTC.
func At(t time.Time) Option { return func(s *settings) { s.start = t } }

// New builds an Env.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	st, driver, dsn := Store(t)
	set := settings{start: time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)}
	for _, o := range opts {
		o(&set)
	}
	e := &Env{Ctx: context.Background(), Store: st, Driver: driver, DSN: dsn, Clock: NewClock(set.start)}
	set.deps.Store, set.deps.Clock = st, e.Clock
	if set.deps.Hasher == nil {
		set.deps.Hasher = Hasher
	}
	svc, err := core.NewService(set.cfg, set.deps)
	if err != nil {
		t.Fatal(err)
	}
	o, err := svc.Org(e.Ctx, core.DefaultOrg)
	if err != nil {
		t.Fatalf("the default organisation after migration: %v", err)
	}
	e.Svc, e.OrgID = svc, o.ID
	return e
}
