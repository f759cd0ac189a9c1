package core

import (
	"context"
	"fmt"
	"os"
	"time"

	"github.com/google/uuid"
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
	// LeaseHolder is the owner of the lease name, expired or not; "" when
	// nobody holds it.
	LeaseHolder(ctx context.Context, name string) (string, error)
}

// newLeaseOwner names this process in leases: host, pid and a random part
// (a restarted process with a recycled pid is a new owner).
func newLeaseOwner() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s/%d/%s", host, os.Getpid(), uuid.NewString()[:8])
}
