package jobs

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/rosterhq/roster/core"
)

// Elector keeps this process's leases on singleton tasks (core.Leaser): for
// each name it holds, it renews the lease every TTL/3; for each it does not,
// it tries to take it every TTL/6, so when the holder dies another process
// takes over within about TTL·7/6. Held answers from memory.
type Elector struct {
	leaser core.Leaser
	owner  string
	ttl    time.Duration
	log    *slog.Logger
	now    func() time.Time

	mu   sync.Mutex
	held map[string]time.Time // name → until when this process may act as the holder
	wg   sync.WaitGroup
}

// NewElector builds an elector for owner (unique per process).
func NewElector(l core.Leaser, owner string, ttl time.Duration, log *slog.Logger) *Elector {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Elector{leaser: l, owner: owner, ttl: ttl, log: log.With("component", "lease"), now: time.Now, held: map[string]time.Time{}}
}

// TTL is the lease length.
func (e *Elector) TTL() time.Duration { return e.ttl }

// Hold starts competing for the lease name until ctx ends; then it gives
// the lease up (so another process takes over at once). The first attempt
// is made before Hold returns, so a lone process holds its leases at once.
// The returned channel closes when the lease is given up; Wait waits for
// every Hold.
func (e *Elector) Hold(ctx context.Context, name string) <-chan struct{} {
	done := make(chan struct{})
	had := false
	ok := e.try(ctx, name, &had)
	e.wg.Add(1)
	go func() {
		defer e.wg.Done()
		defer close(done)
		e.hold(ctx, name, ok, had)
	}()
	return done
}

// Wait returns when every Hold has ended and released its lease.
func (e *Elector) Wait() { e.wg.Wait() }

// try takes or renews the lease once and records the outcome; had tracks
// whether this process held it, for the log.
func (e *Elector) try(ctx context.Context, name string, had *bool) bool {
	start := e.now()
	ok, err := e.leaser.TryLease(ctx, name, e.owner, start, e.ttl)
	if err != nil && ctx.Err() == nil {
		e.log.Warn("lease renewal failed", "lease", name, "err", err)
	}
	e.mu.Lock()
	switch {
	case ok:
		// Act as the holder a little less long than the lease, so that
		// this process stops before another may start.
		e.held[name] = start.Add(e.ttl - e.ttl/10)
	case err == nil:
		delete(e.held, name) // another holds it
	}
	e.mu.Unlock()
	if ok != *had && err == nil {
		if ok {
			e.log.Info("lease taken: this replica runs the task", "lease", name, "owner", e.owner)
		} else {
			e.log.Info("lease lost: another replica runs the task", "lease", name)
		}
		*had = ok
	}
	return ok
}

func (e *Elector) hold(ctx context.Context, name string, ok, had bool) {
	for {
		wait := e.ttl / 6
		if ok {
			wait = e.ttl / 3
		}
		select {
		case <-ctx.Done():
			e.mu.Lock()
			delete(e.held, name)
			e.mu.Unlock()
			if had {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
				if err := e.leaser.ReleaseLease(rctx, name, e.owner); err != nil {
					e.log.Warn("release lease", "lease", name, "err", err)
				}
				cancel()
			}
			return
		case <-time.After(wait):
		}
		ok = e.try(ctx, name, &had)
	}
}

// Held reports whether this process holds the lease name now.
func (e *Elector) Held(name string) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	until, ok := e.held[name]
	return ok && e.now().Before(until)
}

// RunLeased runs each job like Run, but only in the process holding the
// job's lease ("job:" + its name): the holder runs it when it takes the
// lease and then every Every; the others wait for the lease.
func RunLeased(ctx context.Context, log *slog.Logger, e *Elector, jobs ...Job) {
	log = log.With("component", "jobs")
	poll := max(e.ttl/6, 100*time.Millisecond)
	var wg sync.WaitGroup
	for _, j := range jobs {
		name := "job:" + j.Name
		e.Hold(ctx, name)
		wg.Add(1)
		go func(j Job) {
			defer wg.Done()
			var last time.Time // last run while holding the lease; zero when not holding
			for {
				if e.Held(name) {
					if last.IsZero() || time.Since(last) >= j.Every {
						last = time.Now()
						runOnce(ctx, log, j)
					}
				} else {
					last = time.Time{}
				}
				select {
				case <-ctx.Done():
					return
				case <-time.After(min(poll, j.Every)):
				}
			}
		}(j)
	}
	wg.Wait()
}

func runOnce(ctx context.Context, log *slog.Logger, j Job) {
	start := time.Now()
	n, err := j.Run(ctx)
	switch {
	case err != nil && ctx.Err() == nil:
		log.Error("job failed", "job", j.Name, "err", err)
	case n > 0:
		log.Info("job done", "job", j.Name, "items", n, "duration", time.Since(start))
	}
}
