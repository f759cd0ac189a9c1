package core

import (
	"context"
	"errors"
)

// SyncState returns what a directory source remembers; a zero state (no
// watermark, never synced) when it never ran.
func (s *Service) SyncState(ctx context.Context, orgID, source string) (*SyncState, error) {
	var st *SyncState
	err := s.store.View(ctx, func(tx Tx) error {
		var err error
		st, err = tx.SyncState(ctx, source)
		if errors.Is(err, ErrNotFound) {
			st, err = &SyncState{Source: source, OrgID: orgID}, nil
		}
		return err
	})
	return st, err
}

// startSyncRun records the start of a run.
func (s *Service) startSyncRun(ctx context.Context, r *SyncRun) error {
	r.StartedAt = s.now()
	r.Status = RunRunning
	return s.store.InTx(ctx, func(tx Tx) error { return tx.InsertSyncRun(ctx, r) })
}

// finishSyncRun records how a run ended and, when st is not nil, the
// source's new state, in one transaction.
func (s *Service) finishSyncRun(ctx context.Context, r *SyncRun, st *SyncState) error {
	now := s.now()
	r.FinishedAt = &now
	return s.store.InTx(ctx, func(tx Tx) error {
		if err := tx.UpdateSyncRun(ctx, r); err != nil {
			return err
		}
		if st == nil {
			return nil
		}
		st.LastRunAt = &now
		if r.Mode == SyncFull {
			st.LastFullAt = &now
		}
		return tx.SaveSyncState(ctx, st)
	})
}

// SyncRuns lists the most recent runs of a source ("" = every source), newest first.
func (s *Service) SyncRuns(ctx context.Context, source string, limit int) ([]SyncRun, error) {
	return read(ctx, s.store, func(tx Tx) ([]SyncRun, error) { return tx.ListSyncRuns(ctx, source, limit) })
}

// SourceUserCount is how many users a source has in the store (any status):
// a sync sizes its snapshot by it.
func (s *Service) SourceUserCount(ctx context.Context, orgID, source string) (int, error) {
	var n int
	err := s.store.ViewBulk(ctx, func(tx Tx) error {
		var err error
		n, err = tx.CountSyncUsers(ctx, orgID, source)
		return err
	})
	return n, err
}

// ErrLeaseHeld means another process is running a sync of the source.
var ErrLeaseHeld = errors.New("another process is syncing this source")
