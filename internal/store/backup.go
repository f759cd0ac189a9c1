package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Backup writes a consistent copy of the SQLite database to dest while
// other processes (roster serve) keep reading and writing it: VACUUM INTO
// reads one snapshot in a read transaction, so the copy is a point in time
// and compacted. The copy is written beside dest and renamed into place
// once it passed an integrity check, so dest is never a half-written file.
// dest must not exist. PostgreSQL is backed up with pg_dump instead.
func Backup(ctx context.Context, o Options, dest string) error {
	switch o.Driver {
	case "sqlite", "":
	default:
		return fmt.Errorf("roster backup copies SQLite databases; for database.driver %q use its own tool (PostgreSQL: pg_dump)", o.Driver)
	}
	path := strings.TrimPrefix(o.DSN, "file:")
	if i := strings.IndexByte(path, '?'); i >= 0 {
		path = path[:i]
	}
	if _, err := os.Stat(path); err != nil {
		return fmt.Errorf("database %s: %w", path, err)
	}
	if _, err := os.Stat(dest); err == nil {
		return fmt.Errorf("backup file %s already exists; choose a new name", dest)
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("backup file %s: %w", dest, err)
	}
	tmp := filepath.Join(filepath.Dir(dest), "."+filepath.Base(dest)+".partial")
	_ = os.Remove(tmp)
	// The copy holds every password hash: owner-only whatever the umask.
	// VACUUM INTO writes into an empty file created here with 0600.
	if f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err != nil {
		return fmt.Errorf("backup: %w", err)
	} else {
		err = f.Chmod(0o600)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			_ = os.Remove(tmp)
			return fmt.Errorf("backup: %w", err)
		}
	}
	q := url.Values{}
	q.Set("_busy_timeout", "10000")
	q.Set("mode", "ro")
	db, err := sql.Open(sqliteDriver, "file:"+path+"?"+q.Encode())
	if err != nil {
		return fmt.Errorf("open %s: %w", path, err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, tmp); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("copy %s: %w", path, err)
	}
	if err := checkCopy(ctx, tmp); err != nil {
		_ = os.Remove(tmp)
		return err
	}
	if err := os.Rename(tmp, dest); err != nil {
		_ = os.Remove(tmp)
		return fmt.Errorf("backup: %w", err)
	}
	if d, err := os.Open(filepath.Dir(dest)); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

func checkCopy(ctx context.Context, file string) error {
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	err = f.Sync()
	f.Close()
	if err != nil {
		return fmt.Errorf("sync %s: %w", file, err)
	}
	db, err := sql.Open(sqliteDriver, "file:"+file+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var res string
	if err := db.QueryRowContext(ctx, `PRAGMA integrity_check`).Scan(&res); err != nil {
		return fmt.Errorf("check the copy: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("the copy failed its integrity check: %s", res)
	}
	return nil
}
