package store

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
)

// privateFiles makes the database file owner-only (0600) whatever the
// umask: it is created here before SQLite opens it, and SQLite gives its
// -wal and -shm files the database file's mode. Files an earlier version
// left group- or world-readable are tightened.
func privateFiles(path string, log *slog.Logger) error {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	switch {
	case err == nil:
		if err := f.Chmod(0o600); err != nil { // against a umask that clears owner bits
			f.Close()
			return fmt.Errorf("database %s: %w", path, err)
		}
		if err := f.Close(); err != nil {
			return fmt.Errorf("database %s: %w", path, err)
		}
	case !errors.Is(err, fs.ErrExist):
		return fmt.Errorf("create database %s: %w", path, err)
	}
	for _, p := range []string{path, path + "-wal", path + "-shm"} {
		changed, err := tighten(p)
		if errors.Is(err, fs.ErrPermission) {
			// Not this process's file (an operator's copy, a read-only
			// mount): opening it says what is wrong; the mode is only warned of.
			if log != nil {
				log.Warn("database file is open to others and cannot be made owner-only", "file", p, "err", err)
			}
			continue
		}
		if err != nil {
			return err
		}
		if changed && log != nil {
			log.Info("database file made owner-only (0600)", "file", p)
		}
	}
	return nil
}

// tighten sets a file that exists and is open to others to 0600.
func tighten(p string) (bool, error) {
	st, err := os.Stat(p)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("database file %s: %w", p, err)
	}
	if st.Mode().Perm()&0o077 == 0 {
		return false, nil
	}
	if err := os.Chmod(p, 0o600); err != nil {
		return false, fmt.Errorf("make %s owner-only: %w", p, err)
	}
	return true, nil
}
