// Package jobs runs roster's background jobs (dormancy, session clean-up) on
// fixed intervals until the daemon stops.
package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// Job is one periodic task.
type Job struct {
	Name  string
	Every time.Duration
	Run   func(ctx context.Context) (int64, error) // returns how many items it handled
}

// Run starts every job (once at start, then every Every) and returns when ctx
// is done and every run in progress has finished.
func Run(ctx context.Context, log *slog.Logger, jobs ...Job) {
	log = log.With("component", "jobs")
	var wg sync.WaitGroup
	for _, j := range jobs {
		wg.Add(1)
		go func(j Job) {
			defer wg.Done()
			t := time.NewTicker(j.Every)
			defer t.Stop()
			for {
				start := time.Now()
				n, err := j.Run(ctx)
				switch {
				case err != nil && ctx.Err() == nil:
					log.Error("job failed", "job", j.Name, "err", err)
				case n > 0:
					log.Info("job done", "job", j.Name, "items", n, "duration", time.Since(start))
				}
				select {
				case <-ctx.Done():
					return
				case <-t.C:
				}
			}
		}(j)
	}
	wg.Wait()
}
