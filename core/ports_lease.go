package core

import (
	"context"
	"time"
)

// Leaser grants time-limited leases on named singleton tasks, so that of
// several processes (replicas) on one database exactly one runs each task at
// a time. A holder renews its lease before it runs out; when the holder
// dies, the lease expires and another process takes it. Replicas' clocks
// must agree to well within a lease's length (NTP).
type Leaser interface {
	// TryLease takes the lease name for owner until now+ttl, or renews it
	// when owner holds it already. It reports false when another owner
	// holds a lease that has not expired at now.
	TryLease(ctx context.Context, name, owner string, now time.Time, ttl time.Duration) (bool, error)
	// ReleaseLease gives the lease up, if owner holds it.
	ReleaseLease(ctx context.Context, name, owner string) error
}
