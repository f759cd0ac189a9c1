package store

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/jmoiron/sqlx"
)

// openPostgres opens one connection pool (pgx under database/sql) that
// serves writes, reads and bulk reads alike: PostgreSQL has no single-writer
// limit to work around.
func openPostgres(ctx context.Context, o Options, log *slog.Logger) (*Store, error) {
	if o.DSN == "" {
		return nil, fmt.Errorf("database.dsn: a connection string is required for postgres")
	}
	cc, err := pgx.ParseConfig(o.DSN)
	if err != nil {
		// pgx's message may quote the DSN, password included: do not wrap it.
		return nil, fmt.Errorf("database.dsn: not a valid PostgreSQL connection string")
	}
	// Timestamps are stored as timestamptz and always read back in UTC, as
	// SQLite returns them; the session time zone matters only to SQL defaults.
	cc.RuntimeParams["timezone"] = "UTC"
	if _, ok := cc.RuntimeParams["application_name"]; !ok {
		cc.RuntimeParams["application_name"] = "roster"
	}
	db := stdlib.OpenDB(*cc, stdlib.OptionAfterConnect(func(_ context.Context, c *pgx.Conn) error {
		c.TypeMap().RegisterType(&pgtype.Type{Name: "timestamptz", OID: pgtype.TimestamptzOID,
			Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC}})
		return nil
	}))
	maxOpen := o.MaxOpenConns
	if maxOpen <= 0 {
		maxOpen = 10
	}
	maxIdle := o.MaxIdleConns
	if maxIdle <= 0 {
		maxIdle = min(5, maxOpen)
	}
	life := o.ConnMaxLifetime
	if life <= 0 {
		life = 30 * time.Minute
	}
	idle := o.ConnMaxIdleTime
	if idle <= 0 {
		idle = 5 * time.Minute
	}
	db.SetMaxOpenConns(maxOpen)
	db.SetMaxIdleConns(maxIdle)
	db.SetConnMaxLifetime(life)
	db.SetConnMaxIdleTime(idle)
	x := sqlx.NewDb(db, "pgx")
	pctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if err := x.PingContext(pctx); err != nil {
		x.Close()
		return nil, fmt.Errorf("open postgres %s:%d/%s: %w", cc.Host, cc.Port, cc.Database, err)
	}
	sub, err := fs.Sub(migrations, "migrations/postgres")
	if err != nil {
		x.Close()
		return nil, err
	}
	return &Store{driver: "postgres", w: x, r: x, bulk: x, log: log, migs: sub, d: postgresDialect}, nil
}

// Analyze refreshes PostgreSQL's planner statistics now, as autovacuum
// does within a minute or so of large changes (until then the planner may
// think a table that just grew is empty). A no-op on SQLite, whose plans
// do not depend on statistics unless ANALYZE was ever run.
func (s *Store) Analyze(ctx context.Context) error {
	if s.driver != "postgres" {
		return nil
	}
	if _, err := s.w.ExecContext(ctx, "ANALYZE"); err != nil {
		return fmt.Errorf("analyze: %w", err)
	}
	return nil
}
