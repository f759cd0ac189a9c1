package core

import (
	"context"
	"fmt"
	"runtime"
	"time"
)

// Password hashing is the one costly thing an anonymous request can make the
// daemon do (argon2id: 19 MiB and tens of milliseconds each). Every door's
// hashing passes through the Service, so the bound is kept here: at most
// Config.MaxConcurrentHashes run at once, a further one waits up to
// Config.HashQueueWait for a slot (or until its request ends) and is then
// refused with a *BusyError, which doors answer 503 with Retry-After.

// DefaultMaxConcurrentHashes is GOMAXPROCS, at most 4: argon2id with p=1
// keeps one core busy, so more at once only adds memory, not throughput.
func DefaultMaxConcurrentHashes() int { return max(1, min(runtime.GOMAXPROCS(0), 4)) }

// DefaultHashQueueWait is how long a password check waits for a slot.
const DefaultHashQueueWait = 2 * time.Second

// hashGate is a counting semaphore around the PasswordHasher.
type hashGate struct {
	slots chan struct{}
	wait  time.Duration
}

func newHashGate(n int, wait time.Duration) *hashGate {
	return &hashGate{slots: make(chan struct{}, n), wait: wait}
}

// setPasswordWait bounds the wait of a hash for a new password: those run
// inside a write transaction (accepting an invite, a reset, an admin's
// reassignment), which must not hold the database's write lock while
// queueing behind a flood of logins.
const setPasswordWait = 100 * time.Millisecond

// acquire takes a slot, waiting at most g.wait and never past ctx.
func (g *hashGate) acquire(ctx context.Context) (release func(), err error) {
	return g.acquireWithin(ctx, g.wait)
}

func (g *hashGate) acquireWithin(ctx context.Context, wait time.Duration) (release func(), err error) {
	release = func() { <-g.slots }
	select {
	case g.slots <- struct{}{}:
		return release, nil
	default:
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case g.slots <- struct{}{}:
		return release, nil
	case <-t.C:
		return nil, &BusyError{What: "password checking", Limit: cap(g.slots), RetryAfter: time.Second}
	case <-ctx.Done():
		return nil, fmt.Errorf("wait for a password-hashing slot: %w", ctx.Err())
	}
}

// hashPassword hashes a new password within the bound, waiting at most
// setPasswordWait for a slot.
func (s *Service) hashPassword(ctx context.Context, password string) (string, error) {
	release, err := s.hashes.acquireWithin(ctx, min(s.cfg.HashQueueWait, setPasswordWait))
	if err != nil {
		return "", err
	}
	defer release()
	return s.hasher.Hash(password)
}

// verifyPassword verifies within the bound.
func (s *Service) verifyPassword(ctx context.Context, hash, password string) (bool, error) {
	release, err := s.hashes.acquire(ctx)
	if err != nil {
		return false, err
	}
	defer release()
	return s.hasher.Verify(hash, password)
}
