// Package store is roster's one SQL store (sqlx): it implements core.Store
// over SQLite (the embedded default) and PostgreSQL (pgx), with embedded,
// versioned migrations per driver (the same version numbers). Query texts use
// ? placeholders and go through Rebind; the few differences are in dialect.go.
package store

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jmoiron/sqlx"
	"github.com/mattn/go-sqlite3"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/rosterhq/roster/core"
)

//go:embed migrations
var migrations embed.FS

// The SQLite drivers: mattn's with per-connection tuning that the DSN cannot
// express. Read-only connections map the file (256 MiB at most), so list
// scans do not pay a read() system call per page; the writer does not, so a
// large sync's resident memory stays its own.
const (
	sqliteDriver   = "sqlite3_roster"
	sqliteReadOnly = "sqlite3_roster_ro"
)

func init() {
	sql.Register(sqliteDriver, &sqlite3.SQLiteDriver{})
	sql.Register(sqliteReadOnly, &sqlite3.SQLiteDriver{ConnectHook: func(c *sqlite3.SQLiteConn) error {
		_, err := c.Exec("PRAGMA mmap_size = 268435456", nil)
		return err
	}})
}

// Options select and tune the database.
type Options struct {
	Driver string // "sqlite" or "postgres"
	DSN    string // sqlite: a file path, or a file: URI; postgres: a URL or key=value DSN
	// MaxReaders bounds concurrent read transactions (sqlite: reader connections).
	MaxReaders int
	// BusyTimeout is how long a statement waits for another connection's
	// lock (sqlite) before the store answers core.ErrBusy; 10s when zero.
	BusyTimeout time.Duration
	// PostgreSQL pool: open and idle connections, their lifetime and idle time
	// (zero: 10 open, 5 idle, 30 minutes, 5 minutes).
	MaxOpenConns    int
	MaxIdleConns    int
	ConnMaxLifetime time.Duration
	ConnMaxIdleTime time.Duration
}

// Store implements core.Store.
type Store struct {
	driver string
	w      *sqlx.DB // read-write; one connection for sqlite, so writers queue in-process
	r      *sqlx.DB // read-only transactions
	bulk   *sqlx.DB // read-only, one connection, no memory map: large one-off reads
	log    *slog.Logger
	migs   fs.FS
	batch  txBatcher  // group commit for InTxBatched (batch.go)
	fault  writeFault // the last write the storage refused (fault.go)
	d      *dialect
}

var _ core.Store = (*Store)(nil)

// Open connects to the database. It does not migrate: call Migrate.
func Open(ctx context.Context, o Options, log *slog.Logger) (*Store, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if o.MaxReaders <= 0 {
		o.MaxReaders = 4
	}
	switch o.Driver {
	case "sqlite", "":
		return openSQLite(ctx, o, log.With("component", "store"))
	case "postgres":
		return openPostgres(ctx, o, log.With("component", "store"))
	}
	return nil, fmt.Errorf("database.driver %q is not supported (use sqlite or postgres)", o.Driver)
}

func openSQLite(ctx context.Context, o Options, log *slog.Logger) (*Store, error) {
	path := strings.TrimPrefix(o.DSN, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if path == "" {
		return nil, errors.New("database.dsn: a file path is required for sqlite")
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, fmt.Errorf("create database directory: %w", err)
		}
	}
	if path != ":memory:" && !strings.Contains(o.DSN, "mode=memory") {
		if err := privateFiles(path, log); err != nil {
			return nil, err
		}
	}
	busy := o.BusyTimeout
	if busy <= 0 {
		busy = 10 * time.Second
	}
	dsn := func(txlock string, readonly bool, cacheKiB int) string {
		q := url.Values{}
		q.Set("_journal_mode", "WAL")
		q.Set("_foreign_keys", "on")
		q.Set("_busy_timeout", strconv.FormatInt(busy.Milliseconds(), 10))
		q.Set("_synchronous", "NORMAL")
		q.Set("_txlock", txlock)
		q.Set("_loc", "UTC")
		q.Set("_cache_size", strconv.Itoa(-cacheKiB)) // negative: KiB
		q.Set("_stmt_cache_size", "128")
		q.Set("_mutex", "no")
		if readonly {
			q.Set("_query_only", "true")
		}
		return "file:" + path + "?" + q.Encode()
	}
	w, err := sqlx.Open(sqliteDriver, dsn("immediate", false, 16384))
	if err != nil {
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	// Checkpoint less often than every 1000 pages: pages written again and
	// again (indexes) are then copied to the database once per checkpoint.
	if _, err := w.ExecContext(ctx, "PRAGMA wal_autocheckpoint = 8000"); err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r, err := sqlx.Open(sqliteReadOnly, dsn("deferred", true, 16384))
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	r.SetMaxOpenConns(o.MaxReaders)
	r.SetMaxIdleConns(o.MaxReaders)
	// The bulk connection scans: a small cache, since a scan reads each page once.
	bulk, err := sqlx.Open(sqliteDriver, dsn("deferred", true, 2048))
	if err != nil {
		w.Close()
		r.Close()
		return nil, fmt.Errorf("open sqlite %s: %w", path, err)
	}
	bulk.SetMaxOpenConns(1)
	bulk.SetMaxIdleConns(0) // its page cache goes with the connection
	sub, err := fs.Sub(migrations, "migrations/sqlite")
	if err != nil {
		return nil, err
	}
	return &Store{driver: "sqlite", w: w, r: r, bulk: bulk, log: log, migs: sub, d: sqliteDialect}, nil
}

// Driver is "sqlite" or "postgres".
func (s *Store) Driver() string { return s.driver }

// Close closes the database handles.
func (s *Store) Close() error {
	if s.driver == "postgres" {
		return s.w.Close() // one pool for everything
	}
	return errors.Join(s.bulk.Close(), s.r.Close(), s.w.Close())
}

// provider lists the migrations: the SQL files of the driver and the Go
// migrations 10 (migrate_keys.go) and 12 (migrate_nfkc.go), numbered in one
// sequence (7 and 8 were never used by any release: skipped, not lost). Migrations are applied in order only: a database that has a later
// version than a pending one is an error, never silently patched.
func (s *Store) provider() (*goose.Provider, error) {
	if s.driver == "postgres" {
		// Replicas starting at once migrate one after the other (an advisory lock).
		locker, err := lock.NewPostgresSessionLocker()
		if err != nil {
			return nil, err
		}
		return goose.NewProvider(goose.DialectPostgres, s.w.DB, s.migs, goose.WithSessionLocker(locker),
			goose.WithGoMigrations(keysRepairMigration(s.driver), s.nfkcMigration(), searchRebuildMigration(s.driver)))
	}
	return goose.NewProvider(goose.DialectSQLite3, s.w.DB, s.migs, goose.WithGoMigrations(keysRepairMigration(s.driver), s.nfkcMigration(), searchRebuildMigration(s.driver)))
}

// Migrate applies pending migrations. Each runs in its own transaction.
func (s *Store) Migrate(ctx context.Context) error {
	p, err := s.provider()
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	res, err := p.Up(ctx)
	if err != nil {
		return fmt.Errorf("migrate: %w", err)
	}
	for _, r := range res {
		s.log.Info("migration applied", "version", r.Source.Version, "file", filepath.Base(r.Source.Path), "duration", r.Duration)
	}
	return nil
}

// Ready reports whether the database answers, every migration is applied,
// and it takes writes (fault.go).
func (s *Store) Ready(ctx context.Context) error {
	if err := s.r.PingContext(ctx); err != nil {
		return fmt.Errorf("database: %w", err)
	}
	p, err := s.provider()
	if err != nil {
		return fmt.Errorf("load migrations: %w", err)
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return fmt.Errorf("migration status: %w", err)
	}
	if pending {
		return errors.New("database migrations are pending")
	}
	return s.writable(ctx)
}

// InTx runs fn in a read-write transaction.
func (s *Store) InTx(ctx context.Context, fn func(core.Tx) error) error {
	return s.writeOutcome(s.run(ctx, s.w, fn))
}

// View runs fn in a read-only transaction.
func (s *Store) View(ctx context.Context, fn func(core.Tx) error) error {
	return outcome(s.runRO(ctx, s.r, fn))
}

// ViewBulk runs fn in a read-only transaction on a connection without the
// memory map, whose page cache is dropped afterwards.
func (s *Store) ViewBulk(ctx context.Context, fn func(core.Tx) error) error {
	return outcome(s.runRO(ctx, s.bulk, fn))
}

func (s *Store) runRO(ctx context.Context, db *sqlx.DB, fn func(core.Tx) error) error {
	if s.driver == "postgres" {
		return s.runOnce(ctx, db, &sql.TxOptions{ReadOnly: true}, fn)
	}
	return s.runOnce(ctx, db, nil, fn)
}

// pgRetries bounds how often a PostgreSQL transaction that lost a deadlock
// or a serialization conflict to a concurrent one (another replica) runs again.
const pgRetries = 5

func (s *Store) run(ctx context.Context, db *sqlx.DB, fn func(core.Tx) error) error {
	if s.driver != "postgres" {
		return s.runOnce(ctx, db, nil, fn)
	}
	for attempt := 1; ; attempt++ {
		err := s.runOnce(ctx, db, nil, fn)
		if err == nil || attempt >= pgRetries || !retryable(err) {
			return err
		}
		s.log.Debug("transaction conflicted with a concurrent one; running it again", "attempt", attempt, "err", err)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(time.Duration(attempt*attempt) * 5 * time.Millisecond):
		}
	}
}

// retryable: PostgreSQL serialization failure or deadlock.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

func (s *Store) runOnce(ctx context.Context, db *sqlx.DB, opts *sql.TxOptions, fn func(core.Tx) error) (err error) {
	sqltx, err := db.BeginTxx(ctx, opts)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	defer func() {
		if p := recover(); p != nil {
			_ = sqltx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = sqltx.Rollback()
		}
	}()
	if err = fn(&tx{tx: sqltx, driver: s.driver, d: s.d}); err != nil {
		return err
	}
	if err = sqltx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// tx implements core.Tx.
type tx struct {
	tx     *sqlx.Tx
	driver string
	d      *dialect
}

func (t *tx) exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	res, err := t.tx.ExecContext(ctx, t.tx.Rebind(q), args...)
	return res, mapErr(err)
}

func (t *tx) get(ctx context.Context, dst any, kind, key, q string, args ...any) error {
	if t.d.pg() && hasNUL(args) {
		// PostgreSQL text cannot hold NUL: no row has such a value (a
		// hostile login name, say). Find nothing rather than fail.
		if n, ok := dst.(*int); ok {
			*n = 0
			return nil
		}
		return &core.NotFoundError{Kind: kind, Key: key}
	}
	err := t.tx.GetContext(ctx, dst, t.tx.Rebind(q), args...)
	if errors.Is(err, sql.ErrNoRows) {
		return &core.NotFoundError{Kind: kind, Key: key}
	}
	return mapErr(err)
}

func (t *tx) sel(ctx context.Context, dst any, q string, args ...any) error {
	if t.d.pg() && hasNUL(args) {
		return nil // as in get: no stored value holds NUL
	}
	return mapErr(t.tx.SelectContext(ctx, dst, t.tx.Rebind(q), args...))
}

// hasNUL reports whether a bound text value contains U+0000.
func hasNUL(args []any) bool {
	for _, a := range args {
		if s, ok := a.(string); ok && strings.IndexByte(s, 0) >= 0 {
			return true
		}
	}
	return false
}

// uniqueFields maps a column named in a uniqueness violation to the field it guards.
var uniqueFields = []struct{ column, field string }{
	{"username_key", "username"},
	{"email_key", "email"},
	{"external_id", "external_id"},
	{"name_key", "name"},
	{"api_tokens.name", "name"},
	{"orgs.name", "name"},
	{"token_hash", "token"},
}

// mapErr turns driver errors into core errors.
func mapErr(err error) error {
	if err == nil {
		return nil
	}
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintUnique {
		msg := se.Error()
		for _, u := range uniqueFields {
			if strings.Contains(msg, u.column) {
				return &core.ConflictError{Field: u.field, Message: "is already taken"}
			}
		}
		return &core.ConflictError{Field: "", Message: msg}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "22021" {
		// A write of text with NUL (or invalid UTF-8): bad input, not a server fault.
		return &core.ValidationError{Problems: []core.FieldError{{Field: "", Message: "contains a character that cannot be stored (NUL or invalid UTF-8)"}}}
	}
	if errors.As(err, &pe) && pe.Code == "23505" {
		// Name the columns as SQLite does ("table.column, …"), from the
		// detail "Key (a, b)=(…) already exists.", so one table maps both.
		cols := pe.Detail
		if i, j := strings.Index(cols, "("), strings.Index(cols, ")="); i >= 0 && j > i {
			cols = cols[i+1 : j]
		}
		var named []string
		for _, c := range strings.Split(cols, ",") {
			named = append(named, pe.TableName+"."+strings.TrimSpace(c))
		}
		msg := strings.Join(named, ", ")
		for _, u := range uniqueFields {
			if strings.Contains(msg, u.column) {
				return &core.ConflictError{Field: u.field, Message: "is already taken"}
			}
		}
		return &core.ConflictError{Field: "", Message: "unique constraint failed: " + msg}
	}
	return err
}
