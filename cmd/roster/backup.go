package main

import (
	"context"
	"fmt"
	"io"

	"github.com/rosterhq/roster/internal/store"
)

// cmdBackup writes a consistent copy of the SQLite database to FILE; it
// may run while roster serve runs.
func cmdBackup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	var cfgPath string
	fs := newFlags("backup", stderr, &cfgPath)
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usageError("usage: roster backup [--config FILE] FILE")
	}
	dest := pos[0]
	cfg, err := loadConfig(cfgPath)
	if err != nil {
		return err
	}
	o := store.Options{Driver: cfg.Database.Driver, DSN: cfg.Database.DSN}
	if err := store.Backup(ctx, o, dest); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "backup written to %s\n", dest)
	return nil
}
