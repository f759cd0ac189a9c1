package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"github.com/mattn/go-sqlite3"

	"github.com/rosterhq/roster/core"
)

// faultWindow is how long a write that failed for lack of storage keeps the
// store unready. A later successful transaction does not end it early: it
// may have written nothing, and space may still be short.
const faultWindow = 15 * time.Second

// writeFault remembers the last write that failed because the database
// could not be written at all (as opposed to a constraint or a busy lock).
type writeFault struct {
	mu     sync.Mutex
	at     time.Time
	reason string
}

func (f *writeFault) set(reason string) {
	f.mu.Lock()
	f.at, f.reason = time.Now(), reason
	f.mu.Unlock()
}

func (f *writeFault) recent() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.reason != "" && time.Since(f.at) < faultWindow {
		return f.reason
	}
	return ""
}

// storageFault names a driver error that means the database cannot be
// written: disk full, read-only file or file system, I/O error.
func storageFault(err error) (string, bool) {
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "53100":
			return "the database server's disk is full", true
		case "58030":
			return "an I/O error on the database server", true
		case "25006":
			return "the database is read-only (a standby?)", true
		}
		return "", false
	}
	var se sqlite3.Error
	if !errors.As(err, &se) {
		return "", false
	}
	switch se.Code {
	case sqlite3.ErrFull:
		return "the disk is full", true
	case sqlite3.ErrReadonly:
		return "the database is read-only", true
	case sqlite3.ErrIoErr:
		return "an I/O error on the database file", true
	case sqlite3.ErrCantOpen:
		return "the database file cannot be opened", true
	}
	return "", false
}

// writeOutcome records the outcome of a write transaction and turns a
// storage fault into a core.UnavailableError (keeping the driver error in
// the chain for the log).
func (s *Store) writeOutcome(err error) error {
	if err == nil {
		return nil
	}
	if reason, ok := storageFault(err); ok {
		s.fault.set(reason)
		return fmt.Errorf("%w (%w)", &core.UnavailableError{Reason: reason}, err)
	}
	return err
}

// writable reports whether the database takes writes: no recent storage
// fault, and (SQLite) a write transaction can start — a read-only file or
// file system fails here even before any write was tried. A writer busy
// for longer than the probe's patience is taken as writable.
func (s *Store) writable(ctx context.Context) error {
	if r := s.fault.recent(); r != "" {
		return &core.UnavailableError{Reason: r}
	}
	if s.driver != "sqlite" {
		return nil
	}
	pctx, cancel := context.WithTimeout(ctx, 500*time.Millisecond)
	defer cancel()
	conn, err := s.w.Conn(pctx)
	if err != nil {
		return nil // the single writer connection is in use: busy, not broken
	}
	defer conn.Close()
	if _, err := conn.ExecContext(pctx, "BEGIN IMMEDIATE"); err != nil {
		if reason, ok := storageFault(err); ok {
			return &core.UnavailableError{Reason: reason}
		}
		return nil
	}
	_, _ = conn.ExecContext(context.WithoutCancel(pctx), "ROLLBACK")
	return nil
}
