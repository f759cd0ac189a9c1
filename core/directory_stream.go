package core

import (
	"context"
	"errors"
	"fmt"
)

// The first full run of a source into a store that holds none of its users
// (nor groups) writes while it reads: nothing can be removed, so no guard
// can refuse the plan, and the plan is every listed user created in listing
// order. The source hands its users over in batches as it reads them
// (DirectoryRead.Users), each batch is created in its own transaction while
// the next pages are decoded, and once the read is over the rest of the
// users and the groups are applied as ApplyDirectory would. The outcome is
// the one ApplyDirectory gives on the whole snapshot (the same batches, in
// the same order, only started earlier); what differs is a read that fails
// half-way: the users created so far stay, as the batches before a failed
// batch do, and the next run (full again: no watermark) goes on from there.

// streamApply applies the users of a first full run as they are read.
type streamApply struct {
	s    *Service
	src  SyncSource
	o    SyncOptions
	a    Actor
	in     chan []SyncEntry
	done   chan struct{}
	failed chan struct{} // closed when a batch failed
	// Written by the applier goroutine; read once done is closed.
	res     SyncResult
	userIDs []string // by snapshot index: the created user's id
	n       int      // users received
	err     error
	// sent counts the users handed over (by add, on the reader's side).
	sent int
}

// streamable reports whether a run may apply while it reads: a full run,
// not a dry run, not on demand, into a store holding no user (whatever its
// status) and no group of the source.
func (s *Service) streamable(ctx context.Context, set SourceSettings) (bool, error) {
	var ok bool
	err := s.store.ViewBulk(ctx, func(tx Tx) error {
		n, err := tx.CountSyncUsers(ctx, set.OrgID, set.Source())
		if err != nil || n > 0 {
			return err
		}
		us, err := tx.SyncUsers(ctx, set.OrgID, set.Source(), nil) // disabled and archived ones too
		if err != nil || len(us) > 0 {
			return err
		}
		gs, err := tx.SourceGroups(ctx, set.OrgID, set.Source())
		ok = err == nil && len(gs) == 0
		return err
	})
	return ok, err
}

func (s *Service) startStreamApply(ctx context.Context, src SyncSource, o SyncOptions) *streamApply {
	if o.BatchSize <= 0 {
		o.BatchSize = 5000
	}
	if src.DefaultRole == "" {
		src.DefaultRole = RoleMember
	}
	if !src.RoleCeiling.Valid() {
		src.RoleCeiling = DefaultRoleCeiling
	}
	src.DefaultRole = ClampRole(src.DefaultRole, src.RoleCeiling)
	sa := &streamApply{s: s, src: src, o: o, a: src.Actor(), in: make(chan []SyncEntry, 1), done: make(chan struct{}), failed: make(chan struct{})}
	go func() {
		defer close(sa.done)
		for batch := range sa.in {
			if sa.err != nil {
				continue // drain: the reader is told by add
			}
			if sa.err = sa.apply(ctx, batch); sa.err != nil {
				close(sa.failed)
			}
		}
	}()
	return sa
}

// errStreamStopped tells the source that the store refused a batch: the
// read stops, and the run reports the store's error.
var errStreamStopped = errors.New("the store stopped the run")

// add takes the next users of the listing (the source's copy: the snapshot
// keeps its own). It blocks while a batch is being written and one waits.
func (sa *streamApply) add(ctx context.Context, users []SyncEntry) error {
	select {
	case sa.in <- users:
		sa.sent += len(users)
		return nil
	case <-sa.failed:
		return errStreamStopped
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop ends the applier after the last batch and waits for it.
func (sa *streamApply) stop() error {
	close(sa.in)
	<-sa.done
	return sa.err
}

// apply creates one batch of the listing's users, ApplyDirectory's way.
func (sa *streamApply) apply(ctx context.Context, users []SyncEntry) error {
	off := sa.n
	sa.n += len(users)
	sa.userIDs = append(sa.userIDs, make([]string, len(users))...)
	for i := range users {
		if users[i].Role != "" {
			users[i].Role = ClampRole(users[i].Role, sa.src.RoleCeiling)
		}
	}
	plan := Reconcile(users, nil, ReconcileOptions{Full: true})
	sa.res.Skipped += plan.Skipped
	for why, n := range plan.SkippedWhy {
		if sa.res.SkippedWhy == nil {
			sa.res.SkippedWhy = map[string]int{}
		}
		sa.res.SkippedWhy[why] += n
	}
	for start := 0; start < len(plan.Create); start += sa.o.BatchSize {
		creates := plan.Create[start:min(start+sa.o.BatchSize, len(plan.Create))]
		created := map[int]string{}
		br := &SyncResult{}
		err := sa.s.store.InTx(ctx, func(tx Tx) error {
			clear(created)
			*br = SyncResult{}
			hist := &historyBuf{s: sa.s, a: sa.a, orgID: sa.src.OrgID}
			if err := sa.s.syncCreates(ctx, tx, sa.src, sa.a, hist, users, creates, false, created, br); err != nil {
				return err
			}
			return hist.flush(ctx, tx)
		})
		if err != nil {
			return fmt.Errorf("apply the batch of users at %d: %w", off+start, err)
		}
		for i, id := range created {
			sa.userIDs[off+i] = id
		}
		for _, i := range creates {
			users[i] = SyncEntry{}
		}
		sa.res.add(br.SyncCounts)
		for _, p := range br.Problems {
			sa.res.problem("%s", p)
		}
		if sa.o.Progress != nil {
			sa.o.Progress(sa.res.SyncCounts)
		}
	}
	return nil
}

// finish applies what the stream has not: the users after the last batch
// handed over, then the groups. The snapshot is the whole read; its first
// users, the ones streamed, are zero entries there.
func (sa *streamApply) finish(ctx context.Context, snap *DirectorySnapshot) (*SyncResult, error) {
	if len(snap.Users) > sa.sent {
		rest := make([]SyncEntry, len(snap.Users)-sa.sent)
		copy(rest, snap.Users[sa.sent:])
		if err := sa.add(ctx, rest); err != nil {
			_ = sa.stop()
			return &sa.res, err
		}
	}
	if err := sa.stop(); err != nil {
		return &sa.res, err
	}
	if sa.n != len(snap.Users) {
		return &sa.res, fmt.Errorf("the source streamed %d users but read %d", sa.n, len(snap.Users))
	}
	clear(snap.Users) // written: the groups need only their indexes
	res := &sa.res
	if snap.GroupsIncluded {
		fresh := make([]bool, len(sa.userIDs))
		for i, id := range sa.userIDs {
			fresh[i] = id != ""
		}
		if err := sa.s.syncGroups(ctx, sa.src, sa.a, snap, sa.userIDs, fresh, sa.o, res); err != nil {
			return res, err
		}
	}
	return res, nil
}
