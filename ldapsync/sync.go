package ldapsync

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-ldap/ldap/v3"

	"github.com/rosterhq/roster/core"
)

// RunOptions tune one run.
type RunOptions struct {
	Full     bool // a full sync even when an incremental one is due
	DryRun   bool // the plan only: nothing written, no run recorded
	Progress func(Progress)
}

// Progress is reported while a run reads and applies.
type Progress struct {
	Phase       string // "read" or "apply"
	EntriesRead int
	Counts      core.SyncCounts
}

// Report is the outcome of one run; `roster sync run --json` prints it.
type Report struct {
	Source      string         `json:"source"`
	Mode        core.SyncMode  `json:"mode"`
	DryRun      bool           `json:"dry_run"`
	Status      core.RunStatus `json:"status"`
	EntriesRead int            `json:"entries_read"`
	Users       int            `json:"users"`
	Groups      int            `json:"groups"`
	core.SyncCounts
	Started  time.Time `json:"started_at"`
	Duration float64   `json:"duration_seconds"`
	Error    string    `json:"error,omitempty"`
	Problems []string  `json:"problems,omitempty"`
}

// ErrBusy means a run of the source is already in progress in this process.
var ErrBusy = errors.New("a run of this source is already in progress")

// Run syncs the source once: full when asked, when no watermark exists, when
// full_sync_every has elapsed, or when a group changed; incremental
// otherwise. The error is non-nil when the run failed or a guard aborted it
// (errors.Is(err, core.ErrGuard)); the report says the same.
func (s *Source) Run(ctx context.Context, o RunOptions) (*Report, error) {
	if !s.running.TryLock() {
		return &Report{Source: s.cfg.Name, Status: core.RunFailed, Error: ErrBusy.Error()}, ErrBusy
	}
	defer s.running.Unlock()
	start := s.now()
	rep := &Report{Source: s.cfg.Name, DryRun: o.DryRun, Started: start.UTC(), Status: core.RunRunning}
	if !o.DryRun {
		// One process at a time: the CLI beside serve, or several replicas.
		release, err := s.lease(ctx)
		if err != nil {
			return s.fail(rep, start, err)
		}
		defer release()
	}
	st, err := s.svc.SyncState(ctx, s.core.OrgID, s.cfg.Name)
	if err != nil {
		return s.fail(rep, start, fmt.Errorf("read sync state: %w", err))
	}
	full := o.Full || st.Watermark == "" || st.LastFullAt == nil || start.Sub(*st.LastFullAt) >= s.cfg.FullSyncEvery
	rep.Mode = modeOf(full)
	var run *core.SyncRun
	if !o.DryRun {
		run = &core.SyncRun{Source: s.cfg.Name, OrgID: s.core.OrgID, Mode: rep.Mode}
		if err := s.svc.StartSyncRun(ctx, run); err != nil {
			return s.fail(rep, start, fmt.Errorf("record run: %w", err))
		}
	}
	rep, err = s.run(ctx, rep, st, full, o)
	rep.Duration = s.now().Sub(start).Seconds()
	if run != nil {
		run.Mode, run.Status, run.EntriesRead, run.SyncCounts, run.Message = rep.Mode, rep.Status, rep.EntriesRead, rep.SyncCounts, rep.Error
		var next *core.SyncState
		if err == nil {
			next = st
		}
		// The record outlives a cancelled context: it says why the run stopped.
		fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		if ferr := s.svc.FinishSyncRun(fctx, run, next); ferr != nil && err == nil {
			err = fmt.Errorf("record run: %w", ferr)
			rep.Status, rep.Error = core.RunFailed, err.Error()
		}
		cancel()
	}
	lvl := s.log.Info
	if err != nil {
		lvl = s.log.Error
	}
	lvl("ldap sync finished", "mode", rep.Mode, "dry_run", rep.DryRun, "status", rep.Status, "entries", rep.EntriesRead,
		"created", rep.Created, "updated", rep.Updated, "disabled", rep.Disabled, "archived", rep.Archived,
		"enabled", rep.Enabled, "unchanged", rep.Unchanged, "errors", rep.Errors, "duration", time.Duration(rep.Duration*float64(time.Second)).Round(time.Millisecond),
		"error", rep.Error)
	return rep, err
}

func modeOf(full bool) core.SyncMode {
	if full {
		return core.SyncFull
	}
	return core.SyncIncremental
}

func (s *Source) fail(rep *Report, start time.Time, err error) (*Report, error) {
	rep.Status, rep.Error = core.RunFailed, err.Error()
	rep.Duration = s.now().Sub(start).Seconds()
	return rep, err
}

// run reads the directory and applies the snapshot; st gets the new watermark.
func (s *Source) run(ctx context.Context, rep *Report, st *core.SyncState, full bool, o RunOptions) (*Report, error) {
	failed := func(err error) (*Report, error) {
		rep.Status, rep.Error = core.RunFailed, err.Error()
		if errors.Is(err, core.ErrGuard) {
			rep.Status = core.RunAborted
		}
		return rep, err
	}
	c, err := s.connect(ctx)
	if err != nil {
		return failed(err)
	}
	defer c.Close()
	if !full {
		changed, err := s.groupsChangedSince(c, st.Watermark)
		if err != nil {
			return failed(err)
		}
		if changed {
			full = true // memberships changed: only a full read resolves them
			rep.Mode = core.SyncFull
		}
	}
	r := &reader{s: s, byDN: map[dnKey]int32{}, byUID: map[uint64]int32{}, disabled: map[dnKey]struct{}{}, progress: o.Progress}
	r.snap.Full = full
	if full {
		if n, err := s.svc.SourceUserCount(ctx, s.core.OrgID, s.core.Source()); err == nil && n > 0 {
			r.snap.Users = make([]core.SyncEntry, 0, n+n/64+16) // no doubling: room for the source plus growth
		}
	}
	filter := s.users
	if !full {
		filter = "(&" + s.users + s.attrs.changedSince(st.Watermark) + ")"
	}
	// Groups are read on a second connection while the users are read:
	// decoding, not the server, is the cost, and this uses a second core.
	var gr *groupReader
	gerr := make(chan error, 1)
	if full && s.cfg.Groups.BaseDN != "" {
		gc, err := s.connect(ctx)
		if err != nil {
			return failed(err)
		}
		defer gc.Close()
		gr = &groupReader{s: s}
		gctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go func() { gerr <- gr.read(gctx, gc) }()
		if err := r.readUsers(ctx, c, filter); err != nil {
			cancel()
			<-gerr
			return failed(err)
		}
		if err := <-gerr; err != nil {
			return failed(err)
		}
		r.addGroups(gr)
	} else if err := r.readUsers(ctx, c, filter); err != nil {
		return failed(err)
	}
	r.byDN, r.byUID, r.disabled = nil, nil, nil
	rep.EntriesRead, rep.Users, rep.Groups = r.entries, len(r.snap.Users), len(r.snap.Groups)
	rep.Errors = r.errors
	rep.Problems = r.problems
	if s.cfg.Mode == "on_demand" {
		// Only users imported on demand are kept in sync: nobody new is created.
		r.snap.NoCreate = true
	}
	res, err := s.svc.ApplyDirectory(ctx, s.core, &r.snap, core.SyncOptions{
		DryRun: o.DryRun, MaxRemovals: s.guard,
		Progress: func(c core.SyncCounts) {
			if o.Progress != nil {
				o.Progress(Progress{Phase: "apply", EntriesRead: r.entries, Counts: c})
			}
		},
	})
	if res != nil {
		errs := rep.Errors
		rep.SyncCounts = res.SyncCounts
		rep.Errors += errs
		rep.Problems = append(rep.Problems, res.Problems...)
	}
	if err != nil {
		return failed(err)
	}
	st.Watermark = s.attrs.laterWatermark(st.Watermark, r.watermark)
	rep.Status = core.RunOK
	return rep, nil
}

// groupsChangedSince reports whether any group changed after the watermark.
func (s *Source) groupsChangedSince(c *ldap.Conn, wm string) (bool, error) {
	if s.cfg.Groups.BaseDN == "" {
		return false, nil
	}
	f := "(&" + s.groups + s.attrs.changedSince(wm) + ")"
	res, err := c.Search(ldap.NewSearchRequest(s.cfg.Groups.BaseDN, ldap.ScopeWholeSubtree, ldap.NeverDerefAliases, 1, int(s.cfg.Timeout/time.Second), false, f, []string{"1.1"}, nil))
	if ldap.IsErrorWithCode(err, ldap.LDAPResultSizeLimitExceeded) {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("search changed groups: %w", err)
	}
	return len(res.Entries) > 0, nil
}

// defaultLeaseTTL bounds how long a dead process blocks the source's syncs.
const defaultLeaseTTL = 10 * time.Minute

// lease takes the source's run lease and renews it while the run lasts.
func (s *Source) lease(ctx context.Context) (func(), error) {
	leaseTTL := s.leaseTTL
	if leaseTTL <= 0 {
		leaseTTL = defaultLeaseTTL
	}
	err := s.svc.AcquireSyncLease(ctx, s.core.OrgID, s.cfg.Name, s.owner, leaseTTL)
	if errors.Is(err, core.ErrLeaseHeld) {
		// A process on this host that was killed (kill -9, OOM) cannot give
		// its lease back: take it over rather than wait for it to expire.
		if st, serr := s.svc.SyncState(ctx, s.core.OrgID, s.cfg.Name); serr == nil && deadLocalOwner(st.LeaseOwner, s.owner) {
			s.log.Warn("taking over the run lease of a process that is gone", "owner", st.LeaseOwner)
			if rerr := s.svc.ReleaseSyncLease(ctx, s.cfg.Name, st.LeaseOwner); rerr == nil {
				err = s.svc.AcquireSyncLease(ctx, s.core.OrgID, s.cfg.Name, s.owner, leaseTTL)
			}
		}
	}
	if err != nil {
		return nil, fmt.Errorf("run lease: %w", err)
	}
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		t := time.NewTicker(leaseTTL / 4)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				if err := s.svc.AcquireSyncLease(ctx, s.core.OrgID, s.cfg.Name, s.owner, leaseTTL); err != nil {
					s.log.Warn("renew the run lease", "err", err)
				}
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		if err := s.svc.ReleaseSyncLease(rctx, s.cfg.Name, s.owner); err != nil {
			s.log.Warn("release the run lease", "err", err)
		}
	}, nil
}
