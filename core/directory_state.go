package core

import (
	"context"
	"errors"
	"time"
)

// DirectoryRepo stores what directory runs need: the compact state of a
// source's users, the source's watermark, and the record of its runs.
type DirectoryRepo interface {
	// SyncUsers returns the compact state of the users of one source. With
	// externalIDs nil it returns all of them; otherwise only those ids.
	// owned are the attributes the source owns beyond the five
	// (SyncSource.Owned): SyncedUser.Owned hashes them (SyncedOwned).
	SyncUsers(ctx context.Context, orgID, source string, externalIDs []string, owned []string) ([]SyncedUser, error)
	// CountSyncUsers counts the users of a source that are neither disabled nor archived.
	CountSyncUsers(ctx context.Context, orgID, source string) (int, error)
	// SetSyncRemoved marks (or unmarks) a user as removed by its source.
	SetSyncRemoved(ctx context.Context, userID, source string, removed bool) error

	// SyncState returns a source's state; *NotFoundError when it never ran.
	SyncState(ctx context.Context, source string) (*SyncState, error)
	SaveSyncState(ctx context.Context, st *SyncState) error
	// InsertSyncRun sets r.ID; UpdateSyncRun writes counts, status and end.
	InsertSyncRun(ctx context.Context, r *SyncRun) error
	UpdateSyncRun(ctx context.Context, r *SyncRun) error
	// ListSyncRuns returns a source's most recent runs, newest first ("" = every source).
	ListSyncRuns(ctx context.Context, source string, limit int) ([]SyncRun, error)
}

// SyncState is what a directory source remembers between runs.
type SyncState struct {
	Source     string     `json:"source" db:"source"`
	OrgID      string     `json:"org_id" db:"org_id"`
	Watermark  string     `json:"watermark" db:"watermark"`
	LastFullAt *time.Time `json:"last_full_at,omitempty" db:"last_full_at"`
	LastRunAt  *time.Time `json:"last_run_at,omitempty" db:"last_run_at"`
	// Fingerprint is the source's SourceSettings.Fingerprint when Watermark
	// was kept: a watermark is only good for the query that made it.
	Fingerprint string `json:"fingerprint,omitempty" db:"fingerprint"`
}

// SyncRun is the record of one directory sync run.
type SyncRun struct {
	ID          int64      `json:"id" db:"id"`
	Source      string     `json:"source" db:"source"`
	OrgID       string     `json:"org_id" db:"org_id"`
	Mode        SyncMode   `json:"mode" db:"mode"`
	Reason      string     `json:"reason,omitempty" db:"reason"` // why a full run was full (RunReason…)
	DryRun      bool       `json:"dry_run" db:"dry_run"`
	StartedAt   time.Time  `json:"started_at" db:"started_at"`
	FinishedAt  *time.Time `json:"finished_at,omitempty" db:"finished_at"`
	Status      RunStatus  `json:"status" db:"status"`
	EntriesRead int        `json:"entries_read" db:"entries_read"`
	SyncCounts
	Message string `json:"message,omitempty" db:"message"`
}

// SyncCounts are the outcome counters of a run.
type SyncCounts struct {
	Created     int `json:"created" db:"created"`
	Updated     int `json:"updated" db:"updated"`
	Disabled    int `json:"disabled" db:"disabled"`
	Archived    int `json:"archived" db:"archived"`
	Enabled     int `json:"enabled" db:"enabled"`
	Unchanged   int `json:"unchanged" db:"unchanged"`
	Linked      int `json:"linked" db:"linked"`
	Conflicts   int `json:"conflicts" db:"conflicts"`
	Errors      int `json:"errors" db:"errors"`
	Memberships int `json:"memberships" db:"memberships"` // group memberships added or removed
}

// SyncMode is a full or an incremental run.
type SyncMode string

const (
	SyncFull        SyncMode = "full"
	SyncIncremental SyncMode = "incremental"
)

// RunStatus is how a run ended.
type RunStatus string

const (
	RunRunning RunStatus = "running"
	RunOK      RunStatus = "ok"
	RunFailed  RunStatus = "failed"  // the directory or the store failed; nothing was removed
	RunAborted RunStatus = "aborted" // a guard refused the plan; nothing was applied
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
