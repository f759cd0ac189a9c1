package core

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// DirectorySource is a directory whose users and groups the core keeps in
// sync (the LDAP door implements it; another directory kind would implement
// only this). A run crosses into it once to learn its settings and once to
// read.
type DirectorySource interface {
	// Settings are the source's provisioning rules and schedule.
	Settings() SourceSettings
	// Read reads the directory: every user and group when req.Full,
	// otherwise the users changed since req.Watermark. A source may widen an
	// incremental read to a full one (Snapshot.Full says which it made).
	Read(ctx context.Context, req DirectoryRead) (*DirectoryReadResult, error)
}

// SourceSettings are what a run needs to know of its source.
type SourceSettings struct {
	SyncSource
	FullSyncEvery time.Duration // a full read once this long after the last one
	Interval      time.Duration // the scheduler's period (15 minutes when zero)
	MaxRemovals   MaxRemovals   // the deletion guard
	OnDemand      bool          // keep users imported on demand in sync, create nobody
	// Fingerprint identifies what defines the source's result (its
	// directory, base DNs, filters, scope, attribute map, preset): a run
	// whose fingerprint differs from the one stored with the watermark is
	// full, so that a changed query never runs incremental on an old
	// watermark and the deletion guard sees its effect.
	Fingerprint string
}

// DirectoryRead asks a source for a snapshot.
type DirectoryRead struct {
	Full      bool
	Watermark string // of the last successful run; "" when there is none
	// KnownUsers is how many users of the source the store holds: a size
	// hint for the snapshot.
	KnownUsers int
	// Progress, when set, is called as entries are read.
	Progress func(entriesRead int)
}

// DirectoryReadResult is what a source read.
type DirectoryReadResult struct {
	Snapshot    DirectorySnapshot
	Watermark   string // the watermark to keep once the snapshot is applied
	EntriesRead int
	Errors      int      // entries that could not be used
	Problems    []string // what was wrong with them
	// FullReason says why the source widened an incremental read to a full
	// one (RunReasonGroupsChanged, RunReasonDCChanged); groups changed when
	// it is empty.
	FullReason string
}

// DirectoryRunOptions tune one run.
type DirectoryRunOptions struct {
	Full     bool // a full sync even when an incremental one is due
	DryRun   bool // the plan only: nothing written, no run recorded
	Progress func(DirectoryProgress)
}

// DirectoryProgress is reported while a run reads and applies.
type DirectoryProgress struct {
	Phase       string // "read" or "apply"
	EntriesRead int
	Counts      SyncCounts
}

// DirectoryReport is the outcome of one run (`roster sync run --json`
// prints it, the admin API's sync-now answers it).
type DirectoryReport struct {
	Source      string    `json:"source"`
	Mode        SyncMode  `json:"mode"`
	Reason      string    `json:"reason,omitempty"` // why a full run was full
	DryRun      bool      `json:"dry_run"`
	Status      RunStatus `json:"status"`
	EntriesRead int       `json:"entries_read"`
	Users       int       `json:"users"`
	Groups      int       `json:"groups"`
	SyncCounts
	// Skipped counts the directory's users the run did not write, and
	// SkippedReasons why (a second entry with the same id, disabled and
	// never imported, not imported on demand).
	Skipped        int            `json:"skipped"`
	SkippedReasons map[string]int `json:"skipped_reasons,omitempty"`
	Started        time.Time      `json:"started_at"`
	Duration       float64        `json:"duration_seconds"`
	Error          string         `json:"error,omitempty"`
	Problems       []string       `json:"problems,omitempty"`
}

// Why a run is full.
const (
	RunReasonRequested     = "requested"               // --full, or sync-now with full
	RunReasonFirstRun      = "first run"               // no watermark yet
	RunReasonQueryChanged  = "query changed"           // the source's fingerprint changed
	RunReasonFullSyncEvery = "full_sync_every elapsed" // the periodic full run
	RunReasonGroupsChanged = "groups changed"          // the source widened an incremental read
	// The directory server answering is another one than the one whose
	// change numbers the watermark holds (an Active Directory DC failover:
	// uSNChanged values of two DCs are not comparable).
	RunReasonDCChanged = "dc changed"
)

// fullReason says why a run must be full, or "" when an incremental run is
// right.
func fullReason(o DirectoryRunOptions, set SourceSettings, st *SyncState, now time.Time) string {
	switch {
	case o.Full:
		return RunReasonRequested
	case st.Watermark == "" || st.LastFullAt == nil:
		return RunReasonFirstRun
	case st.Fingerprint != set.Fingerprint:
		return RunReasonQueryChanged
	case now.Sub(*st.LastFullAt) >= set.FullSyncEvery:
		return RunReasonFullSyncEvery
	}
	return ""
}

// ErrRunInProgress means a run of the source is already in progress in
// this process.
var ErrRunInProgress = errors.New("a run of this source is already in progress")

// DefaultDirectoryLeaseTTL bounds how long a process that died during a run
// blocks the source's next run, unless Deps.DirectoryLeaseTTL says otherwise.
const DefaultDirectoryLeaseTTL = 10 * time.Minute

// LeaseOwner names this process in leases (Deps.LeaseOwner): the
// background jobs' elector holds its leases under the same name.
func (s *Service) LeaseOwner() string { return s.owner }

// directoryLease names a source's run lease among the processes sharing
// the store.
func directoryLease(source string) string { return "directory-run:" + source }

// directoryRuns holds one mutex per source: one run of a source at a time
// in this process, whichever door started it.
type directoryRuns struct{ m sync.Map }

func (d *directoryRuns) lock(source string) (unlock func(), ok bool) {
	v, _ := d.m.LoadOrStore(source, &sync.Mutex{})
	mu := v.(*sync.Mutex)
	if !mu.TryLock() {
		return nil, false
	}
	return mu.Unlock, true
}

// RunDirectory syncs a directory source once: full when asked, when there
// is no watermark, when FullSyncEvery has elapsed, or when the source widens
// its read; incremental otherwise. It takes the source's run lease (one run
// at a time across processes), records the run, reads the source, applies
// the snapshot (the deletion guard first), and keeps the new watermark only
// when the run succeeded. The scheduler, the CLI and the admin API all come
// here. The error is non-nil when the run failed or a guard aborted it
// (errors.Is(err, ErrGuard)); the report says the same.
func (s *Service) RunDirectory(ctx context.Context, src DirectorySource, o DirectoryRunOptions) (*DirectoryReport, error) {
	set := src.Settings()
	start := s.clock.Now()
	rep := &DirectoryReport{Source: set.Name, DryRun: o.DryRun, Started: start.UTC(), Status: RunRunning}
	log := s.log.With("source", set.Name)
	unlock, ok := s.dirRuns.lock(set.Name)
	if !ok {
		rep.Status, rep.Error = RunFailed, ErrRunInProgress.Error()
		return rep, ErrRunInProgress
	}
	defer unlock()
	if !o.DryRun {
		release, err := s.holdDirectoryLease(ctx, set.Name)
		if err != nil {
			return s.failRun(rep, start, err)
		}
		defer release()
	}
	st, err := s.SyncState(ctx, set.OrgID, set.Name)
	if err != nil {
		return s.failRun(rep, start, fmt.Errorf("read sync state: %w", err))
	}
	rep.Reason = fullReason(o, set, st, start)
	full := rep.Reason != ""
	rep.Mode = modeOf(full)
	if rep.Reason == RunReasonQueryChanged {
		log.Info("the source's query changed since its watermark was kept: a full run")
	}
	var run *SyncRun
	if !o.DryRun {
		run = &SyncRun{Source: set.Name, OrgID: set.OrgID, Mode: rep.Mode, Reason: rep.Reason}
		if err := s.startSyncRun(ctx, run); err != nil {
			return s.failRun(rep, start, fmt.Errorf("record run: %w", err))
		}
	}
	err = s.readAndApply(ctx, src, set, rep, st, full, o)
	rep.Duration = s.clock.Now().Sub(start).Seconds()
	if run != nil {
		run.Mode, run.Reason, run.Status, run.EntriesRead, run.SyncCounts, run.Message = rep.Mode, rep.Reason, rep.Status, rep.EntriesRead, rep.SyncCounts, rep.Error
		var next *SyncState
		if err == nil {
			next = st
		}
		// The record outlives a cancelled context: it says why the run stopped.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if ferr := s.finishSyncRun(fctx, run, next); ferr != nil && err == nil {
			err = fmt.Errorf("record run: %w", ferr)
			rep.Status, rep.Error = RunFailed, err.Error()
		}
		cancel()
	}
	lvl := log.Info
	if err != nil {
		lvl = log.Error
	}
	lvl("directory sync finished", "mode", rep.Mode, "reason", rep.Reason, "dry_run", rep.DryRun, "status", rep.Status, "entries", rep.EntriesRead,
		"created", rep.Created, "updated", rep.Updated, "disabled", rep.Disabled, "archived", rep.Archived,
		"enabled", rep.Enabled, "unchanged", rep.Unchanged, "errors", rep.Errors,
		"duration", time.Duration(rep.Duration*float64(time.Second)).Round(time.Millisecond), "error", rep.Error)
	return rep, err
}

// readAndApply reads the source and applies what it read; st gets the new
// watermark when both succeeded.
func (s *Service) readAndApply(ctx context.Context, src DirectorySource, set SourceSettings, rep *DirectoryReport, st *SyncState, full bool, o DirectoryRunOptions) error {
	failed := func(err error) error {
		rep.Status, rep.Error = RunFailed, err.Error()
		if errors.Is(err, ErrGuard) {
			rep.Status = RunAborted
		}
		return err
	}
	req := DirectoryRead{Full: full, Watermark: st.Watermark}
	if full {
		if n, err := s.SourceUserCount(ctx, set.OrgID, set.Source()); err == nil {
			req.KnownUsers = n
		}
	}
	if o.Progress != nil {
		req.Progress = func(n int) { o.Progress(DirectoryProgress{Phase: "read", EntriesRead: n}) }
	}
	read, err := src.Read(ctx, req)
	if err != nil {
		return failed(err)
	}
	snap := &read.Snapshot
	if snap.Full && !full {
		rep.Reason = read.FullReason
		if rep.Reason == "" {
			rep.Reason = RunReasonGroupsChanged
		}
	}
	rep.Mode = modeOf(snap.Full)
	rep.EntriesRead, rep.Users, rep.Groups = read.EntriesRead, len(snap.Users), len(snap.Groups)
	rep.Errors, rep.Problems = read.Errors, read.Problems
	if set.OnDemand {
		// Only users imported on demand are kept in sync: nobody new is created.
		snap.NoCreate = true
	}
	res, err := s.ApplyDirectory(ctx, set.SyncSource, snap, SyncOptions{
		DryRun: o.DryRun, MaxRemovals: set.MaxRemovals,
		Progress: func(c SyncCounts) {
			if o.Progress != nil {
				o.Progress(DirectoryProgress{Phase: "apply", EntriesRead: read.EntriesRead, Counts: c})
			}
		},
	})
	if res != nil {
		rep.SyncCounts = res.SyncCounts
		rep.Skipped, rep.SkippedReasons = res.Skipped, res.SkippedWhy
		rep.Errors += read.Errors
		rep.Problems = append(rep.Problems, res.Problems...)
	}
	if err != nil {
		return failed(err)
	}
	st.Watermark, st.Fingerprint = read.Watermark, set.Fingerprint
	rep.Status = RunOK
	return nil
}

func modeOf(full bool) SyncMode {
	if full {
		return SyncFull
	}
	return SyncIncremental
}

func (s *Service) failRun(rep *DirectoryReport, start time.Time, err error) (*DirectoryReport, error) {
	rep.Status, rep.Error = RunFailed, err.Error()
	rep.Duration = s.clock.Now().Sub(start).Seconds()
	return rep, err
}

// holdDirectoryLease takes the source's run lease and renews it while the
// run lasts; the returned func gives it back.
func (s *Service) holdDirectoryLease(ctx context.Context, source string) (func(), error) {
	if s.leaser == nil {
		return func() {}, nil
	}
	ttl := s.dirLeaseTTL
	name := directoryLease(source)
	ok, err := s.leaser.TryLease(ctx, name, s.owner, s.clock.Now(), ttl)
	if err == nil && !ok && s.ownerGone != nil {
		// A process on this host that was killed (kill -9, OOM) cannot give
		// its lease back: take it over rather than wait for it to expire.
		if holder, herr := s.leaser.LeaseHolder(ctx, name); herr == nil && holder != "" && holder != s.owner && s.ownerGone(holder) {
			s.log.Warn("taking over the run lease of a process that is gone", "source", source, "owner", holder)
			if rerr := s.leaser.ReleaseLease(ctx, name, holder); rerr == nil {
				ok, err = s.leaser.TryLease(ctx, name, s.owner, s.clock.Now(), ttl)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("run lease: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("run lease: %w", ErrLeaseHeld)
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(ttl / 4)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if _, err := s.leaser.TryLease(ctx, name, s.owner, s.clock.Now(), ttl); err != nil {
					s.log.Warn("renew the run lease", "source", source, "err", err)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := s.leaser.ReleaseLease(rctx, name, s.owner); err != nil {
			s.log.Warn("release the run lease", "source", source, "err", err)
		}
	}, nil
}
