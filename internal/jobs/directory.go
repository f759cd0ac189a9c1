package jobs

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/rosterhq/roster/core"
)

// DirectoryRunner runs one sync of a directory source (core.Service.RunDirectory).
type DirectoryRunner func(ctx context.Context, src core.DirectorySource, o core.DirectoryRunOptions) (*core.DirectoryReport, error)

// DirectoryScheduler runs each directory source on its own interval until
// its context ends. A source runs once at start, then every interval;
// incremental or full is decided by the core's run (watermark,
// full_sync_every).
type DirectoryScheduler struct {
	sources []core.DirectorySource
	run     DirectoryRunner
	log     *slog.Logger
	wg      sync.WaitGroup
	// OnRun, when set, sees every report (metrics).
	OnRun func(*core.DirectoryReport, error)
	// RetryInitial is the delay before retrying a run that failed (the
	// directory down, a connection lost mid-read); it doubles with each
	// further failure up to RetryMax, and never exceeds the interval.
	// Defaults: 30s and 10m. A run refused by the deletion guard is not
	// retried early: the directory answered, retrying changes nothing.
	RetryInitial, RetryMax time.Duration
	// Gate, when set, says whether this process may run the source's
	// schedule now (it holds the source's lease among replicas); when it
	// may not, the loop asks again every Poll, and runs as soon as it may.
	Gate func(source string) bool
	Poll time.Duration
}

// NewDirectoryScheduler schedules the sources with run. On-demand sources
// are scheduled too, to keep the users they imported in sync.
func NewDirectoryScheduler(sources []core.DirectorySource, run DirectoryRunner, log *slog.Logger) *DirectoryScheduler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &DirectoryScheduler{sources: sources, run: run, log: log.With("component", "directory-scheduler")}
}

// Start launches one loop per source. Wait returns when they all ended.
func (sc *DirectoryScheduler) Start(ctx context.Context) {
	for _, s := range sc.sources {
		sc.wg.Add(1)
		go func() {
			defer sc.wg.Done()
			sc.loop(ctx, s)
		}()
	}
}

// Wait blocks until every loop returned (after the context ended).
func (sc *DirectoryScheduler) Wait() { sc.wg.Wait() }

func (sc *DirectoryScheduler) loop(ctx context.Context, s core.DirectorySource) {
	set := s.Settings()
	interval := set.Interval
	if interval <= 0 {
		interval = 15 * time.Minute
	}
	retryInitial, retryMax := sc.RetryInitial, sc.RetryMax
	if retryInitial <= 0 {
		retryInitial = 30 * time.Second
	}
	if retryMax <= 0 {
		retryMax = 10 * time.Minute
	}
	retryMax = min(retryMax, interval)
	t := time.NewTimer(0)
	defer t.Stop()
	var backoff time.Duration
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if sc.Gate != nil && !sc.Gate(set.Name) {
			t.Reset(max(sc.Poll, 100*time.Millisecond))
			continue
		}
		rep, err := sc.run(ctx, s, core.DirectoryRunOptions{})
		if ctx.Err() != nil {
			if sc.OnRun != nil {
				sc.OnRun(rep, err)
			}
			return
		}
		next := interval
		if err != nil && !errors.Is(err, core.ErrGuard) && !errors.Is(err, core.ErrRunInProgress) {
			if backoff == 0 {
				backoff = retryInitial
			} else {
				backoff *= 2
			}
			backoff = min(backoff, retryMax)
			next = backoff
		} else {
			backoff = 0
		}
		if err != nil {
			sc.log.Warn("scheduled directory sync did not complete", "source", set.Name, "status", rep.Status, "err", err, "retry_in", next)
		}
		if sc.OnRun != nil {
			sc.OnRun(rep, err)
		}
		t.Reset(next)
	}
}
