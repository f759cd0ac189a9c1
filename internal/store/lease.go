package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rosterhq/roster/core"
)

var _ core.Leaser = (*Store)(nil)

// TryLease implements core.Leaser with one upsert: it inserts the lease, or
// takes it over when it expired or owner holds it already. Concurrent
// callers serialize on the row (PostgreSQL) or on the writer (SQLite), so at
// most one of them gets a row affected.
func (s *Store) TryLease(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (bool, error) {
	var ok bool
	err := s.InTx(ctx, func(c core.Tx) error {
		t := c.(*tx)
		res, err := t.exec(ctx, `INSERT INTO leases (name, owner, until) VALUES (?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, until = excluded.until
			WHERE leases.until < ? OR leases.owner = excluded.owner`, name, owner, now.Add(ttl).UTC(), now.UTC())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		ok = n == 1
		return err
	})
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	return ok, nil
}

// ReleaseLease implements core.Leaser.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	err := s.InTx(ctx, func(c core.Tx) error {
		_, err := c.(*tx).exec(ctx, `DELETE FROM leases WHERE name = ? AND owner = ?`, name, owner)
		return err
	})
	if err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

// LeaseHolder implements core.Leaser.
func (s *Store) LeaseHolder(ctx context.Context, name string) (string, error) {
	var owner string
	err := s.View(ctx, func(c core.Tx) error {
		err := c.(*tx).get(ctx, &owner, "lease", name, `SELECT owner FROM leases WHERE name = ?`, name)
		if errors.Is(err, core.ErrNotFound) {
			owner, err = "", nil
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("lease %s: %w", name, err)
	}
	return owner, nil
}
